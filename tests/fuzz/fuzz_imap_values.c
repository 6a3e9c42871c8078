/* fuzz_imap_values.c - libFuzzer target for imap/'s value parsers.
 *
 * The first byte picks one; the rest is its input.  Properties checked
 * for any input: a sequence set that parses formats to text that parses
 * to the same set; modified UTF-7 that decodes re-encodes to the same
 * bytes (the decoder is strict) and UTF-8 that encodes decodes back; a
 * URL parse never crashes and frees cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/imap.h"
#include "../../lib/buf.h"
#include "../../lib/utf8.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void fuzz_seqset(const char *in, size_t len)
{
	struct imap_seqset a = { 0 }, b = { 0 };
	struct pn_buf text = { 0 };

	if (imap_seqset_parse(&a, in, len, NULL) == 0) {
		CHECK(imap_seqset_format(&a, &text) == 0);
		CHECK(imap_seqset_parse(&b, pn_buf_cstr(&text), text.len,
					NULL) == 0);
		CHECK(a.n == b.n);
		CHECK(a.n == 0 || memcmp(a.r, b.r, a.n * sizeof(*a.r)) == 0);
		CHECK(imap_seqset_count(&a, 100) == imap_seqset_count(&b, 100));
	}
	imap_seqset_free(&a);
	imap_seqset_free(&b);
	pn_buf_free(&text);
}

static void fuzz_utf7(const char *in, size_t len)
{
	struct pn_buf dec = { 0 }, enc = { 0 };

	if (imap_utf7_decode(in, len, &dec, NULL) == 0) {
		CHECK(pn_utf8_valid(pn_buf_cstr(&dec), dec.len));
		CHECK(imap_utf7_encode(pn_buf_cstr(&dec), dec.len, &enc,
				       NULL) == 0);
		CHECK(enc.len == len && memcmp(enc.data ? enc.data : "", in,
					       len) == 0);
	}
	pn_buf_reset(&dec);
	pn_buf_reset(&enc);
	if (pn_utf8_valid(in, len) && !memchr(in, '\0', len) &&
	    imap_utf7_encode(in, len, &enc, NULL) == 0) {
		CHECK(imap_utf7_decode(pn_buf_cstr(&enc), enc.len, &dec,
				       NULL) == 0);
		CHECK(dec.len == len && memcmp(pn_buf_cstr(&dec), in, len) == 0);
	}
	pn_buf_free(&dec);
	pn_buf_free(&enc);
}

static void fuzz_url(const char *in, size_t len)
{
	char *s = strndup(in, len);
	struct imap_url u;

	if (s && imap_url_parse(s, &u, NULL) == 0) {
		CHECK(u.host != NULL);
		imap_url_free(&u);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_seqset(in, len);
		break;
	case 1:
		fuzz_utf7(in, len);
		break;
	default:
		fuzz_url(in, len);
		break;
	}
	return 0;
}
