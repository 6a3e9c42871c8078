/* Tests for imap/utf7.c: modified UTF-7 (RFC 3501 5.1.3) both ways.
 * Valid and invalid names share one table; random round trips check that
 * the encoder's output always decodes back, and random byte strings that
 * whatever the decoder accepts is exactly what the encoder writes (one
 * spelling per name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../imap/imap.h"
#include "../../lib/buf.h"
#include "../../lib/utf8.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Both mutf7 and utf8: valid both ways.  error with mutf7: decoding it
 * fails so; error with utf8: encoding it fails so. */
static const struct {
	const char *mutf7;
	const char *utf8;
	const char *error;
} cases[] = {
	{ "", "", NULL },
	{ "INBOX", "INBOX", NULL },
	{ "&-", "&", NULL },
	{ "&--", "&-", NULL },
	{ "Tom &- Jerry", "Tom & Jerry", NULL },
	{ "&AOk-", "\xc3\xa9", NULL },
	{ "&AOkA6Q-", "\xc3\xa9\xc3\xa9", NULL },
	{ "Entw&APw-rfe", "Entw\xc3\xbcrfe", NULL },
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	  "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", NULL },
	{ "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-",
	  "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5"
	  "\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5", NULL },
	{ "&IKw-", "\xe2\x82\xac", NULL },
	/* astral characters as surrogate pairs */
	{ "&2D3eAA-", "\xf0\x9f\x98\x80", NULL },
	{ "a&2D3eAA-b", "a\xf0\x9f\x98\x80" "b", NULL },
	{ "&2,,f,w-", "\xf4\x8f\xbf\xbf", NULL },
	{ "&ZeVnLIqe2D3eAA-&-x",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xf0\x9f\x98\x80&x", NULL },
	/* controls and DEL are not printable: shifted */
	{ "&AAk-", "\t", NULL },
	{ "&AH8-", "\x7f", NULL },
	{ "&-&AOk-", "&\xc3\xa9", NULL },
	{ "&AOk-&-&AOk-", "\xc3\xa9&\xc3\xa9", NULL },

	/* decoder: malformed or not canonical */
	{ "&", NULL, "modified UTF-7: '&' without a closing '-' at byte 0" },
	{ "a&AOk", NULL, "modified UTF-7: '&' without a closing '-' at byte 1" },
	{ "&&-", NULL, "modified UTF-7: byte 0x26 in a base64 shift at byte 1" },
	{ "&Jjo/-", NULL,
	  "modified UTF-7: byte 0x2f in a base64 shift at byte 4" },
	{ "&AOk=-", NULL,
	  "modified UTF-7: byte 0x3d in a base64 shift at byte 4" },
	{ "&AOk-&AOk-", NULL,
	  "modified UTF-7: shift follows a shift at byte 5" },
	{ "&AEE-", NULL,
	  "modified UTF-7: 'A' must not be base64-encoded at byte 3" },
	{ "&ACY-", NULL,
	  "modified UTF-7: '&' must not be base64-encoded at byte 3" },
	{ "&AOkAQQ-", NULL,
	  "modified UTF-7: 'A' must not be base64-encoded at byte 6" },
	{ "&AOl-", NULL, "modified UTF-7: nonzero padding bits at byte 4" },
	{ "&A-", NULL, "modified UTF-7: 6 bits left over in the shift at byte 2" },
	{ "&AO-", NULL,
	  "modified UTF-7: 12 bits left over in the shift at byte 3" },
	{ "&AOkA-", NULL,
	  "modified UTF-7: 8 bits left over in the shift at byte 5" },
	{ "&2D0-", NULL, "modified UTF-7: unpaired surrogate U+D83D at byte 3" },
	{ "&3gA-", NULL, "modified UTF-7: unpaired surrogate U+DE00 at byte 3" },
	{ "&2D0AQQ-", NULL,
	  "modified UTF-7: unpaired surrogate U+D83D at byte 3" },
	{ "&2D3YPQ-", NULL,
	  "modified UTF-7: unpaired surrogate U+D83D at byte 3" },
	{ "&AAA-", NULL, "modified UTF-7: NUL character at byte 3" },
	{ "\xc3\xa9", NULL, "modified UTF-7: unencoded byte 0xc3 at byte 0" },
	{ "a\x01" "b", NULL, "modified UTF-7: unencoded byte 0x01 at byte 1" },
	{ "a\x7f", NULL, "modified UTF-7: unencoded byte 0x7f at byte 1" },
	{ "a\tb", NULL, "modified UTF-7: unencoded byte 0x09 at byte 1" },

	/* encoder: not UTF-8 */
	{ NULL, "\xff", "mailbox name: invalid UTF-8 at byte 0" },
	{ NULL, "ab\xc3", "mailbox name: invalid UTF-8 at byte 2" },
	{ NULL, "a\xc0\xaf", "mailbox name: invalid UTF-8 at byte 1" },
	{ NULL, "\xed\xa0\x80", "mailbox name: invalid UTF-8 at byte 0" },
	{ NULL, "\xc3\xa9\xf4\x90\x80\x80",
	  "mailbox name: invalid UTF-8 at byte 2" },
};

static void test_table(void **state)
{
	struct pn_buf b = { 0 };
	struct pn_error err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const char *m = cases[i].mutf7, *u = cases[i].utf8;

		if (m) {
			pn_buf_reset(&b);
			if (cases[i].error) {
				assert_int_equal(imap_utf7_decode(m, strlen(m),
								  &b, &err), -1);
				assert_string_equal(err.msg, cases[i].error);
				assert_int_equal(err.code, PN_EPARSE);
				continue;
			}
			assert_int_equal(imap_utf7_decode(m, strlen(m), &b,
							  &err), 0);
			assert_string_equal(pn_buf_cstr(&b), u);
		}
		pn_buf_reset(&b);
		if (cases[i].error) {
			assert_int_equal(imap_utf7_encode(u, strlen(u), &b,
							  &err), -1);
			assert_string_equal(err.msg, cases[i].error);
			continue;
		}
		assert_int_equal(imap_utf7_encode(u, strlen(u), &b, &err), 0);
		assert_string_equal(pn_buf_cstr(&b), m);
	}
	pn_buf_free(&b);
}

/* Lengths rule, and NUL is refused both ways. */
static void test_nul_and_length(void **state)
{
	struct pn_buf b = { 0 };
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_utf7_encode("a\0b", 3, &b, &err), -1);
	assert_string_equal(err.msg, "mailbox name: NUL character at byte 1");
	pn_buf_reset(&b);
	assert_int_equal(imap_utf7_decode("a\0b", 3, &b, &err), -1);
	assert_string_equal(err.msg,
			    "modified UTF-7: unencoded byte 0x00 at byte 1");
	pn_buf_reset(&b);
	assert_int_equal(imap_utf7_decode("&AOk-xyz", 5, &b, &err), 0);
	assert_string_equal(pn_buf_cstr(&b), "\xc3\xa9");
	pn_buf_reset(&b);
	assert_int_equal(imap_utf7_encode("\xc3\xa9xyz", 2, &b, &err), 0);
	assert_string_equal(pn_buf_cstr(&b), "&AOk-");
	/* Output is appended, not replaced. */
	assert_int_equal(imap_utf7_encode("/x", 2, &b, &err), 0);
	assert_string_equal(pn_buf_cstr(&b), "&AOk-/x");
	pn_buf_free(&b);
}

static uint32_t random_code_point(void)
{
	uint32_t cp;

	switch (rand() % 8) {
	case 0:
	case 1:
	case 2:
		return 0x20 + (uint32_t)rand() % 0x5f;	/* printable, '&' */
	case 3:
		cp = (uint32_t)rand() % 0x20;
		return cp ? cp : 0x7f;
	case 4:
	case 5:
		do
			cp = 0x80 + (uint32_t)rand() % 0xff80;
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	default:
		return 0x10000 + (uint32_t)rand() % 0x100000;
	}
}

static void test_random_round_trip(void **state)
{
	struct pn_buf in = { 0 }, enc = { 0 }, dec = { 0 };
	struct pn_error err;
	unsigned round, k, n;
	size_t i;

	(void)state;
	srand(7);
	for (round = 0; round < 20000; round++) {
		pn_buf_reset(&in);
		pn_buf_reset(&enc);
		pn_buf_reset(&dec);
		n = (unsigned)rand() % 24;
		for (k = 0; k < n; k++) {
			char u8[4];
			int len = pn_utf8_encode(random_code_point(), u8);

			assert_int_equal(pn_buf_add(&in, u8, (size_t)len), 0);
		}
		assert_int_equal(imap_utf7_encode(in.data, in.len, &enc,
						  &err), 0);
		for (i = 0; i < enc.len; i++)
			assert_true(enc.data[i] >= 0x20 && enc.data[i] < 0x7f);
		assert_int_equal(imap_utf7_decode(enc.data, enc.len, &dec,
						  &err), 0);
		assert_int_equal(dec.len, in.len);
		assert_memory_equal(pn_buf_cstr(&dec), pn_buf_cstr(&in),
				    in.len);
	}
	pn_buf_free(&in);
	pn_buf_free(&enc);
	pn_buf_free(&dec);
}

/* Random byte strings over the interesting alphabet: whatever decodes
 * must re-encode to the very same bytes (the decoder is strict), and
 * failures must name a byte inside the input. */
static void test_random_strict(void **state)
{
	static const char alpha[] = "&-AOkBQZeVgw2D3d4+,/a!\xc3\x01";
	struct pn_buf dec = { 0 }, enc = { 0 };
	struct pn_error err;
	char in[16];
	unsigned round, ok = 0;
	size_t n, k;

	(void)state;
	srand(11);
	for (round = 0; round < 200000; round++) {
		n = (size_t)rand() % sizeof(in);
		for (k = 0; k < n; k++)
			in[k] = alpha[(size_t)rand() % (sizeof(alpha) - 1)];
		pn_buf_reset(&dec);
		pn_buf_reset(&enc);
		if (imap_utf7_decode(in, n, &dec, &err) < 0) {
			assert_true(err.offset >= 0 && (size_t)err.offset < n);
			continue;
		}
		ok++;
		assert_true(pn_utf8_valid(dec.data ? dec.data : "", dec.len));
		assert_int_equal(imap_utf7_encode(dec.data, dec.len, &enc,
						  &err), 0);
		assert_int_equal(enc.len, n);
		assert_memory_equal(enc.data ? enc.data : "", in, n);
	}
	assert_true(ok > 1000);
	pn_buf_free(&dec);
	pn_buf_free(&enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nul_and_length),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_random_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
