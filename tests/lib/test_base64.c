/* Tests for lib/base64.c: RFC 4648 vectors, RFC 2045 body quirks, chunked
 * feeding and random round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/base64.h"

struct dec_result {
	char out[512];
	size_t len;
	uint64_t bad;
	bool trunc;
};

/* Decode in chunks of `chunk` bytes (0: all at once). */
static void decode_chunked(const char *in, size_t len, size_t chunk,
			   struct dec_result *r)
{
	struct pn_b64_decoder d;
	size_t off = 0;

	assert_true(PN_B64_DECODED_MAX(len) <= sizeof(r->out));
	pn_b64_decoder_init(&d);
	r->len = 0;
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		char tmp[PN_B64_DECODED_MAX(512)];

		/* Each call gets exactly its documented room. */
		n = pn_b64_decode(&d, in + off, n, tmp);
		memcpy(r->out + r->len, tmp, n);
		r->len += n;
		off += len - off < chunk ? len - off : chunk;
	}
	r->bad = d.bad;
	r->len += pn_b64_decode_finish(&d, r->out + r->len, &r->trunc);
}

static const struct {
	const char *in;
	const char *out;
	size_t outlen;
	uint64_t bad;
	bool trunc;
} dec_cases[] = {
	/* RFC 4648 section 10 */
	{ "", "", 0, 0, false },
	{ "Zg==", "f", 1, 0, false },
	{ "Zm8=", "fo", 2, 0, false },
	{ "Zm9v", "foo", 3, 0, false },
	{ "Zm9vYg==", "foob", 4, 0, false },
	{ "Zm9vYmE=", "fooba", 5, 0, false },
	{ "Zm9vYmFy", "foobar", 6, 0, false },
	/* RFC 2045 6.8: line breaks and blanks ignored */
	{ "Zm9v\r\nYmFy\r\n", "foobar", 6, 0, false },
	{ " Z m 9 v\tY\nmFy ", "foobar", 6, 0, false },
	/* missing padding is tolerated at the end */
	{ "Zg", "f", 1, 0, false },
	{ "Zm8", "fo", 2, 0, false },
	/* partial padding */
	{ "Zg=", "f", 1, 0, false },
	/* a lone sextet cannot be decoded */
	{ "Zm9vY", "foo", 3, 0, true },
	/* junk skipped and counted */
	{ "Zm9v!YmFy", "foobar", 6, 1, false },
	{ "Zm\x80\xff" "9v", "foo", 3, 2, false },
	{ "*", "", 0, 1, false },
	/* '=' where no padding can be */
	{ "=Zm9v", "foo", 3, 1, false },
	{ "Z=m9v", "foo", 3, 1, false },
	/* extra padding */
	{ "Zg===", "f", 1, 1, false },
	/* concatenated blocks: data after padding decodes, counted */
	{ "Zg==Zg==", "ff", 2, 1, false },
	{ "Zm8=Zm9v", "fofoo", 5, 1, false },
	/* binary values and the two last alphabet characters */
	{ "AP8A/w==", "\x00\xff\x00\xff", 4, 0, false },
	{ "++//", "\xfb\xef\xff", 3, 0, false },
	/* URL-safe alphabet is not RFC 2045: junk */
	{ "-_-_", "", 0, 4, false },
};

static void test_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(dec_cases); i++) {
		size_t inlen = strlen(dec_cases[i].in);
		size_t chunks[] = { 0, 1, 2, 3, 5 };

		for (size_t c = 0; c < NELEM(chunks); c++) {
			struct dec_result r;

			decode_chunked(dec_cases[i].in, inlen, chunks[c], &r);
			if (r.len != dec_cases[i].outlen ||
			    memcmp(r.out, dec_cases[i].out, r.len) != 0 ||
			    r.bad != dec_cases[i].bad ||
			    r.trunc != dec_cases[i].trunc)
				fail_msg("case %zu '%s' chunk %zu: len %zu "
					 "bad %llu trunc %d",
					 i, dec_cases[i].in, chunks[c], r.len,
					 (unsigned long long)r.bad, r.trunc);
		}
	}
}

static size_t encode_all(const char *in, size_t len, size_t line_len,
			 const char *eol, size_t chunk, char *out)
{
	struct pn_b64_encoder e;
	size_t off = 0, n = 0;

	pn_b64_encoder_init(&e, line_len, eol);
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t k = len - off < chunk ? len - off : chunk;
		size_t max = pn_b64_encoded_max(&e, k);
		size_t w = pn_b64_encode(&e, in + off, k, out + n);

		assert_true(w <= max);
		n += w;
		off += k;
	}
	return n + pn_b64_encode_finish(&e, out + n);
}

static void test_encode_vectors(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < NELEM(v); i++) {
		for (size_t chunk = 0; chunk < 4; chunk++) {
			size_t n = encode_all(v[i][0], strlen(v[i][0]), 0,
					      "\n", chunk, out);

			out[n] = '\0';
			assert_string_equal(out, v[i][1]);
		}
	}
}

static void test_encode_lines(void **state)
{
	char in[114], out[256];
	size_t n;

	(void)state;
	memset(in, 'A', sizeof(in));
	/* 114 bytes = 152 chars = exactly two 76-char lines */
	n = encode_all(in, sizeof(in), 76, "\r\n", 0, out);
	assert_int_equal(n, 156);
	assert_memory_equal(out + 76, "\r\n", 2);
	assert_memory_equal(out + 154, "\r\n", 2);
	/* one byte more: a third, padded line with its own final eol */
	n = encode_all(in, 58, 76, "\n", 1, out);
	out[n] = '\0';
	assert_int_equal(n, 76 + 1 + 4 + 1);
	assert_string_equal(out + 77, "QQ==\n");
	/* line_len not a multiple of 4 rounds down */
	n = encode_all("abcdefgh", 8, 10, "\n", 0, out);
	out[n] = '\0';
	assert_string_equal(out, "YWJjZGVm\nZ2g=\n");
	/* empty input with line breaks: no lone eol */
	n = encode_all("", 0, 76, "\r\n", 0, out);
	assert_int_equal(n, 0);
}

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void test_random_roundtrip(void **state)
{
	static char in[300], enc[1024];

	(void)state;
	for (int iter = 0; iter < 500; iter++) {
		size_t len = next_rand() % sizeof(in);
		size_t chunk = next_rand() % 9;
		size_t n;
		struct dec_result r, r1;
		const char *p;

		for (size_t i = 0; i < len; i++)
			in[i] = (char)next_rand();
		n = encode_all(in, len, iter % 2 ? 76 : 0,
			       iter % 3 ? "\r\n" : "\n", chunk, enc);
		/* no output line exceeds 76 characters */
		for (p = enc; p < enc + n;) {
			const char *nl = memchr(p, '\n', (size_t)(enc + n - p));

			if (!nl)
				nl = enc + n;
			assert_true(nl - p <= (iter % 2 ? 77 : (long)n));
			p = nl + 1;
		}
		assert_true(n <= sizeof(enc) - 1);
		/* decode_chunked's buffer holds 512: decode halves */
		if (PN_B64_DECODED_MAX(n) > sizeof(r.out))
			continue;
		decode_chunked(enc, n, 0, &r);
		decode_chunked(enc, n, 1, &r1);
		assert_int_equal(r.len, len);
		assert_memory_equal(r.out, in, len);
		assert_int_equal(r.bad, 0);
		assert_false(r.trunc);
		assert_int_equal(r1.len, r.len);
		assert_memory_equal(r1.out, r.out, r.len);
	}
}

static void test_large_stream(void **state)
{
	/* A big buffer through the fast loop, split at odd places. */
	size_t len = 100000, n = 0, m = 0, off = 0;
	char *in = malloc(len), *enc = malloc(len * 2), *dec = malloc(len + 8);
	struct pn_b64_decoder d;
	bool trunc;

	(void)state;
	assert_non_null(in);
	assert_non_null(enc);
	assert_non_null(dec);
	for (size_t i = 0; i < len; i++)
		in[i] = (char)next_rand();
	n = encode_all(in, len, 76, "\r\n", 4093, enc);
	pn_b64_decoder_init(&d);
	while (off < n) {
		size_t k = n - off < 997 ? n - off : 997;

		m += pn_b64_decode(&d, enc + off, k, dec + m);
		off += k;
	}
	m += pn_b64_decode_finish(&d, dec + m, &trunc);
	assert_int_equal(m, len);
	assert_memory_equal(dec, in, len);
	assert_false(trunc);
	free(in);
	free(enc);
	free(dec);
}

/* Garbage rich in padding, blanks and junk decodes identically whatever
 * the chunking. */
static void test_chunking_equivalence(void **state)
{
	static const char alpha[] = "=\r\n !QUJD+/z";
	char in[160];

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = next_rand() % sizeof(in);
		struct dec_result a, b;

		for (size_t i = 0; i < len; i++)
			in[i] = alpha[next_rand() % (sizeof(alpha) - 1)];
		decode_chunked(in, len, 0, &a);
		decode_chunked(in, len, 1 + iter % 5, &b);
		if (a.len != b.len || memcmp(a.out, b.out, a.len) ||
		    a.bad != b.bad || a.trunc != b.trunc)
			fail_msg("iter %d: chunked output differs", iter);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_encode_lines),
		cmocka_unit_test(test_random_roundtrip),
		cmocka_unit_test(test_large_stream),
		cmocka_unit_test(test_chunking_equivalence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
