/* Tests for lib/qp.c: RFC 2045 6.7 decoding robustness and encoding
 * rules, chunked feeding, random round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/qp.h"

/* Decode in chunks of `chunk` bytes (0: all at once) into a malloc'd
 * buffer; every call gets exactly its documented room. */
static char *decode_chunked(const char *in, size_t len, size_t chunk,
			    size_t *outlen, uint64_t *bad)
{
	struct pn_qp_decoder d;
	char *out = malloc(PN_QP_DECODED_MAX(len) + 1);
	size_t off = 0, n = 0;

	assert_non_null(out);
	pn_qp_decoder_init(&d);
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t k = len - off < chunk ? len - off : chunk;
		char *tmp = malloc(PN_QP_DECODED_MAX(k));
		size_t w;

		assert_non_null(tmp);
		w = pn_qp_decode(&d, in + off, k, tmp);
		assert_true(w <= PN_QP_DECODED_MAX(k));
		memcpy(out + n, tmp, w);
		free(tmp);
		n += w;
		off += k;
	}
	n += pn_qp_decode_finish(&d, out + n);
	out[n] = '\0';
	*outlen = n;
	*bad = d.bad;
	return out;
}

static const struct {
	const char *in;
	const char *out;
	uint64_t bad;
} dec_cases[] = {
	{ "", "", 0 },
	{ "hello", "hello", 0 },
	{ "a=3Db", "a=b", 0 },
	{ "caf=C3=A9", "caf\xc3\xa9", 0 },
	{ "lower=c3=a9", "lower\xc3\xa9", 0 },
	/* soft breaks, with CRLF, LF and transport padding */
	{ "soft=\r\nbreak", "softbreak", 0 },
	{ "soft=\nbreak", "softbreak", 0 },
	{ "soft= \t \r\nbreak", "softbreak", 0 },
	{ "soft=  \nbreak", "softbreak", 0 },
	/* dangling '=' at the end is a soft break */
	{ "end=", "end", 0 },
	{ "end= \t", "end", 0 },
	/* rule 3: trailing blanks before a hard break are dropped */
	{ "a  \r\nb", "a\r\nb", 0 },
	{ "a \t \nb", "a\nb", 0 },
	{ "  \n", "\n", 0 },
	/* ... but encoded ones are data */
	{ "a=20\r\n", "a \r\n", 0 },
	{ "a=20 \n", "a \n", 0 },
	{ "a =09\n", "a \t\n", 0 },
	/* ... and so are blanks before a soft break (regression) */
	{ "a\t=\n\n", "a\t\n", 0 },
	{ "a =\r\n \r\n", "a \r\n", 0 },
	/* end of input is not a hard break */
	{ "tail  ", "tail  ", 0 },
	/* blanks before a lone CR are not trailing */
	{ "a \rb", "a \rb", 0 },
	{ "a \r\r\n", "a \r\r\n", 0 },
	/* malformed escapes pass through literally */
	{ "a=G1b", "a=G1b", 1 },
	{ "a=4", "a=4", 1 },
	{ "a=4z", "a=4z", 1 },
	{ "100% = sure", "100% = sure", 1 },
	{ "x=\ry", "x=\ry", 1 },
	{ "==41", "=A", 1 },
	/* line endings are kept as they are */
	{ "l1\r\nl2\nl3\r\n", "l1\r\nl2\nl3\r\n", 0 },
	/* 8-bit and controls pass untouched */
	{ "\xff\x01", "\xff\x01", 0 },
};

static void test_decode_table(void **state)
{
	size_t chunks[] = { 0, 1, 2, 3, 7 };

	(void)state;
	for (size_t i = 0; i < NELEM(dec_cases); i++) {
		size_t want = strlen(dec_cases[i].out);

		for (size_t c = 0; c < NELEM(chunks); c++) {
			size_t n;
			uint64_t bad;
			char *got = decode_chunked(dec_cases[i].in,
						   strlen(dec_cases[i].in),
						   chunks[c], &n, &bad);

			if (n != want || memcmp(got, dec_cases[i].out, n) ||
			    bad != dec_cases[i].bad)
				fail_msg("case %zu chunk %zu: '%s' bad %llu",
					 i, chunks[c], got,
					 (unsigned long long)bad);
			free(got);
		}
	}
}

/* Runs of blanks longer than any real line (rule 5 caps lines at 76):
 * the decoder trims at most 79 before a hard break and takes "=" plus at
 * most 78 blanks as a soft break, so the answer is the same however the
 * input is chunked.  The second case is a libFuzzer find: "=" + 79 tabs +
 * CRLF used to decode differently whole and byte by byte. */
static void test_decode_long_blanks(void **state)
{
	static const struct {
		size_t blanks;
		const char *lead, *tail;
		size_t want_blanks;
		const char *want_lead, *want_tail;
	} cases[] = {
		{ 200, "x", "\ny", 121, "x", "\ny" },
		{ 79, "=", "\r\n", 0, "=", "\r\n" },
		{ 78, "=", "\r\n", 0, "", "" },
		{ 79, "x", "\r\ny", 0, "x", "\r\ny" },
		{ 80, "x", "\ny", 1, "x", "\ny" },
	};
	size_t chunks[] = { 0, 1, 2, 7, 64 };

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char in[512], want[512], *got;
		size_t len = 0, wlen = 0, n;
		uint64_t bad;

		len += (size_t)sprintf(in, "%s", cases[i].lead);
		memset(in + len, cases[i].lead[0] == '=' ? '\t' : ' ',
		       cases[i].blanks);
		len += cases[i].blanks;
		len += (size_t)sprintf(in + len, "%s", cases[i].tail);
		wlen += (size_t)sprintf(want, "%s", cases[i].want_lead);
		memset(want + wlen, cases[i].lead[0] == '=' ? '\t' : ' ',
		       cases[i].want_blanks);
		wlen += cases[i].want_blanks;
		wlen += (size_t)sprintf(want + wlen, "%s", cases[i].want_tail);
		for (size_t c = 0; c < NELEM(chunks); c++) {
			got = decode_chunked(in, len, chunks[c], &n, &bad);
			if (n != wlen || memcmp(got, want, n) != 0)
				fail_msg("case %zu chunk %zu: got %zu bytes, "
					 "want %zu", i, chunks[c], n, wlen);
			free(got);
		}
	}
}

static size_t encode_all(const char *in, size_t len, bool binary,
			 const char *eol, size_t chunk, char *out)
{
	struct pn_qp_encoder e;
	size_t off = 0, n = 0;

	pn_qp_encoder_init(&e, binary, eol);
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t k = len - off < chunk ? len - off : chunk;
		size_t w = pn_qp_encode(&e, in + off, k, out + n);

		assert_true(w <= pn_qp_encoded_max(k));
		n += w;
		off += k;
	}
	n += pn_qp_encode_finish(&e, out + n);
	out[n] = '\0';
	return n;
}

static const struct {
	const char *in;
	bool binary;
	const char *out;
} enc_cases[] = {
	{ "", false, "" },
	{ "plain text", false, "plain text" },
	{ "a=b", false, "a=3Db" },
	{ "caf\xc3\xa9", false, "caf=C3=A9" },
	{ "tab\there", false, "tab\there" },
	/* trailing blanks before a break and at the end */
	{ "end \nnext", false, "end=20\r\nnext" },
	{ "end\t\r\nx", false, "end=09\r\nx" },
	{ "last ", false, "last=20" },
	{ "two  \n", false, "two =20\r\n" },
	/* LF and CRLF become eol; a lone CR is data */
	{ "a\nb\r\nc", false, "a\r\nb\r\nc" },
	{ "a\rb", false, "a=0Db" },
	{ "a \rb", false, "a =0Db" },
	{ "cr\r", false, "cr=0D" },
	/* binary: CR and LF are data */
	{ "a\r\nb", true, "a=0D=0Ab" },
	{ "x \n", true, "x =0A" },
	/* controls and DEL */
	{ "\x01\x7f", false, "=01=7F" },
	/* line-start safety: dot-stuffing and From_ mangling */
	{ ".\nx", false, "=2E\r\nx" },
	{ "From me\nFrom you", false, "=46rom me\r\n=46rom you" },
	{ "a.b From", false, "a.b From" },
};

static void test_encode_table(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < NELEM(enc_cases); i++) {
		for (size_t chunk = 0; chunk < 4; chunk++) {
			encode_all(enc_cases[i].in, strlen(enc_cases[i].in),
				   enc_cases[i].binary, "\r\n", chunk, out);
			if (strcmp(out, enc_cases[i].out) != 0)
				fail_msg("case %zu chunk %zu: got '%s'", i,
					 chunk, out);
		}
	}
}

static void test_encode_soft_breaks(void **state)
{
	char in[200], out[1024];

	(void)state;
	/* 76 'a': 75 fit, then "=" eol, then the last one. */
	memset(in, 'a', 76);
	encode_all(in, 76, false, "\n", 0, out);
	assert_int_equal(strlen(out), 75 + 2 + 1);
	assert_memory_equal(out + 75, "=\na", 3);
	/* an escape never straddles a soft break */
	memset(in, 'a', 74);
	in[74] = '=';
	encode_all(in, 75, false, "\n", 0, out);
	assert_string_equal(out + 74, "=\n=3D");
	/* a trailing blank encoded at the line end still fits in 76 */
	memset(in, 'b', 73);
	memcpy(in + 73, " \n", 2);
	encode_all(in, 75, false, "\n", 0, out);
	assert_string_equal(out + 73, "=\n=20\n");
}

static uint32_t rng = 424242;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void check_encoded_lines(const char *enc, size_t n)
{
	const char *p = enc, *end = enc + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (le > p && le[-1] == '\r')
			le--;
		assert_true(le - p <= 76);
		if (le > p)
			assert_false(le[-1] == ' ' || le[-1] == '\t');
		for (const char *c = p; c < le; c++)
			assert_true(*c == '\t' || (*c >= 32 && *c < 127));
		p = nl ? nl + 1 : end;
	}
}

static void roundtrip_once(bool binary, size_t len)
{
	static const char text[] = "ab =.\tF\nxyz\xe9\x80";
	char *in = malloc(len + 1), *enc = malloc(pn_qp_encoded_max(len) + 1);
	char *dec, *dec1, *enc1;
	size_t n, m, m1;
	uint64_t bad;

	assert_non_null(in);
	assert_non_null(enc);
	for (size_t i = 0; i < len; i++)
		in[i] = binary ? (char)next_rand()
			       : text[next_rand() % (sizeof(text) - 1)];
	n = encode_all(in, len, binary, "\n", next_rand() % 11, enc);
	assert_true(n <= pn_qp_encoded_max(len));
	/* the encoding does not depend on the chunking either */
	enc1 = malloc(pn_qp_encoded_max(len) + 1);
	assert_non_null(enc1);
	assert_int_equal(encode_all(in, len, binary, "\n", 1, enc1), n);
	assert_memory_equal(enc1, enc, n);
	free(enc1);
	check_encoded_lines(enc, n);
	dec = decode_chunked(enc, n, 0, &m, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(m, len);
	assert_memory_equal(dec, in, len);
	dec1 = decode_chunked(enc, n, 1, &m1, &bad);
	assert_int_equal(m1, m);
	assert_memory_equal(dec1, dec, m);
	free(in);
	free(enc);
	free(dec);
	free(dec1);
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	for (int i = 0; i < 400; i++)
		roundtrip_once(i % 2, next_rand() % 700);
}

/* Garbage from an alphabet rich in the decoder's special bytes must
 * decode identically whatever the chunking. */
static void test_chunking_equivalence(void **state)
{
	static const char alpha[] = "= \t\r\nA3d";
	char in[160];

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = next_rand() % sizeof(in), n0, n1;
		uint64_t bad0, bad1;
		char *whole, *bytes;

		for (size_t i = 0; i < len; i++)
			in[i] = alpha[next_rand() % (sizeof(alpha) - 1)];
		whole = decode_chunked(in, len, 0, &n0, &bad0);
		bytes = decode_chunked(in, len, 1 + iter % 4, &n1, &bad1);
		if (n0 != n1 || memcmp(whole, bytes, n0) || bad0 != bad1)
			fail_msg("iter %d: chunked output differs", iter);
		free(whole);
		free(bytes);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_long_blanks),
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_soft_breaks),
		cmocka_unit_test(test_random_roundtrip),
		cmocka_unit_test(test_chunking_equivalence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
