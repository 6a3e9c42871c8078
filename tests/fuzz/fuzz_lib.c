/* fuzz_lib.c - libFuzzer target for lib/'s parsers and codecs.
 *
 * The first byte picks a parser; the rest is its input.  Beyond "no
 * crash", each case checks a property that must hold for any input:
 * chunked decoding equals whole decoding, encode-then-decode gives the
 * input back, the sanitiser never lets ESC or a C0/C1 control through,
 * a safe file name never contains '/' or starts with '.' or '-'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/base64.h"
#include "../../lib/buf.h"
#include "../../lib/date.h"
#include "../../lib/qp.h"
#include "../../lib/safefile.h"
#include "../../lib/utf8.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static size_t b64_chunked(const char *in, size_t len, size_t step, char *out)
{
	struct pn_b64_decoder d;
	size_t n = 0;
	bool trunc;

	pn_b64_decoder_init(&d);
	for (size_t i = 0; i < len; i += step) {
		size_t k = len - i < step ? len - i : step;
		n += pn_b64_decode(&d, in + i, k, out + n);
	}
	return n + pn_b64_decode_finish(&d, out + n, &trunc);
}

static void fuzz_base64(const char *in, size_t len)
{
	char *a = malloc(PN_B64_DECODED_MAX(len) + 3);
	char *b = malloc(len + PN_B64_DECODED_MAX(len) + 3);
	size_t na = b64_chunked(in, len, len ? len : 1, a);
	size_t nb = b64_chunked(in, len, 1, b);

	CHECK(na == nb && memcmp(a, b, na) == 0);
	free(a);
	free(b);
}

static void fuzz_b64_roundtrip(const char *in, size_t len)
{
	struct pn_b64_encoder e;
	struct pn_b64_decoder d;
	char *enc, *dec;
	size_t n, m;
	bool trunc;

	pn_b64_encoder_init(&e, 76, "\r\n");
	enc = malloc(pn_b64_encoded_max(&e, len) + 8);
	n = pn_b64_encode(&e, in, len, enc);
	n += pn_b64_encode_finish(&e, enc + n);
	dec = malloc(PN_B64_DECODED_MAX(n) + 3);
	pn_b64_decoder_init(&d);
	m = pn_b64_decode(&d, enc, n, dec);
	m += pn_b64_decode_finish(&d, dec + m, &trunc);
	CHECK(m == len && (len == 0 || memcmp(dec, in, len) == 0));
	CHECK(d.bad == 0 && !trunc);
	free(enc);
	free(dec);
}

static void fuzz_qp(const char *in, size_t len)
{
	struct pn_qp_decoder d;
	char *a = malloc(PN_QP_DECODED_MAX(len));
	char *b = malloc(PN_QP_DECODED_MAX(len) + len);
	size_t na, nb = 0;

	pn_qp_decoder_init(&d);
	na = pn_qp_decode(&d, in, len, a);
	na += pn_qp_decode_finish(&d, a + na);
	pn_qp_decoder_init(&d);
	for (size_t i = 0; i < len; i++)
		nb += pn_qp_decode(&d, in + i, 1, b + nb);
	nb += pn_qp_decode_finish(&d, b + nb);
	CHECK(na == nb && memcmp(a, b, na) == 0);
	free(a);
	free(b);
}

static void fuzz_qp_roundtrip(const char *in, size_t len)
{
	struct pn_qp_encoder e;
	struct pn_qp_decoder d;
	char *enc = malloc(pn_qp_encoded_max(len) + 16);
	char *dec;
	size_t n, m;

	pn_qp_encoder_init(&e, true, "\r\n");
	n = pn_qp_encode(&e, in, len, enc);
	n += pn_qp_encode_finish(&e, enc + n);
	dec = malloc(PN_QP_DECODED_MAX(n));
	pn_qp_decoder_init(&d);
	m = pn_qp_decode(&d, enc, n, dec);
	m += pn_qp_decode_finish(&d, dec + m);
	CHECK(m == len && (len == 0 || memcmp(dec, in, len) == 0));
	free(enc);
	free(dec);
}

static void fuzz_sanitize(const char *in, size_t len)
{
	struct pn_buf out = { 0 };
	uint32_t cp;

	CHECK(pn_sanitize_term(in, len, PN_SAN_KEEP_NEWLINE, &out) == 0);
	CHECK(pn_utf8_valid(out.data ? out.data : "", out.len));
	for (size_t i = 0; i < out.len;) {
		int k = pn_utf8_decode(out.data + i, out.len - i, &cp);

		CHECK(k > 0);
		CHECK(cp == '\n' || (cp >= 0x20 && cp != 0x7f &&
				     !(cp >= 0x80 && cp < 0xa0)));
		i += (size_t)k;
	}
	pn_buf_free(&out);
}

static void fuzz_names(const char *in, size_t len)
{
	char *s = strndup(in, len);
	char out[PN_SAFE_NAME_MAX + 1];

	pn_safe_filename(s, s, out, sizeof(out));
	CHECK(out[0] && !strchr(out, '/') && !strchr(out, '\\'));
	CHECK(out[0] != '.' && out[0] != '-');
	CHECK(strlen(out) <= PN_SAFE_NAME_MAX);
	free(s);
}

static void fuzz_dates(const char *in, size_t len)
{
	time_t t;
	int tz;
	char buf[40];

	if (pn_date_parse(in, len, &t, &tz, NULL) == 0) {
		time_t t2;
		int tz2;

		pn_date_format(t, tz, buf);
		CHECK(pn_date_parse(buf, strlen(buf), &t2, &tz2, NULL) == 0);
		CHECK(t2 == t && tz2 == tz);
	}
	if (pn_internaldate_parse(in, len, &t, &tz, NULL) == 0) {
		time_t t2;
		int tz2;

		pn_internaldate_format(t, tz, buf);
		CHECK(pn_internaldate_parse(buf, strlen(buf), &t2, &tz2,
					    NULL) == 0);
		CHECK(t2 == t && tz2 == tz);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 7) {
	case 0: fuzz_base64(in, len); break;
	case 1: fuzz_b64_roundtrip(in, len); break;
	case 2: fuzz_qp(in, len); break;
	case 3: fuzz_qp_roundtrip(in, len); break;
	case 4: fuzz_sanitize(in, len); break;
	case 5: fuzz_names(in, len); break;
	default: fuzz_dates(in, len); break;
	}
	return 0;
}
