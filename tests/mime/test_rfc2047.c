/* Tests for mime/rfc2047.c: encoded words as RFC 2047 writes them and as
 * real mail has them.  Where Python's email package (policy.default)
 * decodes differently the case says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mime/mime_p.h"

static const struct {
	const char *in;
	const char *out;
	unsigned defects;
} cases[] = {
	{ "plain text", "plain text", 0 },
	{ "", "", 0 },
	{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9", 0 },
	{ "=?UTF-8?Q?caf=c3=a9?=", "caf\xc3\xa9", 0 },
	{ "=?utf-8?b?w6k=?=", "\xc3\xa9", 0 },
	{ "=?utf-8?B?w6k?=", "\xc3\xa9", 0 },		/* padding missing */
	{ "=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9", 0 },
	{ "=?utf-8?q?x_y?=", "x y", 0 },		/* '_' is space */
	{ "=?utf-8*en?q?x_y?=", "x y", 0 },		/* RFC 2231 language */
	{ "=?utf-8?q?\?=", "", 0 },	/* empty text */
	/* 6.2: blanks between adjacent words vanish, others stay */
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab", 0 },
	{ "=?utf-8?q?a?=\t  =?utf-8?q?b?=", "ab", 0 },
	{ "=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c", 0 },
	{ "x =?utf-8?q?a?= y", "x a y", 0 },
	/* a character split across two words is joined before conversion */
	{ "=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "\xe2\x82\xac", 0 },
	{ "=?utf-8?b?4oI=?= =?UTF-8?b?rA==?=", "\xe2\x82\xac", 0 },
	/* different charsets convert separately */
	{ "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xc3\xa9\xc3\xa9", 0 },
	/* glued to text and punctuation, as Python decodes them */
	{ "foo=?utf-8?q?bar?=baz", "foobarbaz", 0 },
	{ "(=?utf-8?q?a?=)", "(a)", 0 },
	{ "a \"=?utf-8?q?x?=\" b", "a \"x\" b", 0 },
	{ "=?utf-8?b?w6k=?==?utf-8?b?w6k=?=", "\xc3\xa9\xc3\xa9", 0 },
	{ "=?utf-8?q?hello world?=", "hello world", 0 },
	/* multibyte charsets */
	{ "=?gb2312?b?1tDOxA==?=", "\xe4\xb8\xad\xe6\x96\x87", 0 },
	{ "=?ks_c_5601-1987?b?x9Gx2w==?=", "\xed\x95\x9c\xea\xb8\x80", 0 },
	{ "=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0 },
	/* malformed words stay literal and count */
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=", 1 },
	{ "=?utf-8?b?w!k=?=", "=?utf-8?b?w!k=?=", 1 },
	{ "=?utf-8?b?w?=", "=?utf-8?b?w?=", 1 },	/* lone sextet */
	{ "=?utf-8?q?a=ZZb?=", "a=ZZb", 1 },		/* stray '=' */
	{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated", 0 },
	{ "=?\?q?x?=", "=?\?q?x?=", 0 },	/* empty charset */
	{ "=?", "=?", 0 },
	{ "a =?utf-8?q?a?= =?x?y?z?= b", "a a =?x?y?z?= b", 1 },
	/* lying and unknown charsets: UTF-8 if valid, else Latin-1.
	 * Python gives U+FFFD for these. */
	{ "=?utf-8?q?caf=E9?=", "caf\xc3\xa9", 1 },
	{ "=?us-ascii?q?caf=E9?=", "caf\xc3\xa9", 1 },
	{ "=?bogus?q?caf=E9?=", "caf\xc3\xa9", 1 },
	{ "=?bogus?q?caf=C3=A9?=", "caf\xc3\xa9", 1 },
	/* raw 8-bit text: UTF-8 when valid, Latin-1 otherwise */
	{ "caf\xc3\xa9", "caf\xc3\xa9", 0 },
	{ "caf\xe9", "caf\xc3\xa9", 1 },
};

static void test_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pn_buf out = { 0 };
		unsigned defects = 99;

		assert_int_equal(mime_decode_header(cases[i].in,
						    strlen(cases[i].in), &out,
						    &defects), 0);
		if (strcmp(pn_buf_cstr(&out), cases[i].out) != 0 ||
		    defects != cases[i].defects)
			fail_msg("case %zu \"%s\": got \"%s\" (%u defects)", i,
				 cases[i].in, pn_buf_cstr(&out), defects);
		pn_buf_free(&out);
	}
}

/* Appends to what out holds; len bounds the input (no NUL needed). */
static void test_decode_appends_and_bounds(void **state)
{
	struct pn_buf out = { 0 };

	(void)state;
	assert_int_equal(pn_buf_adds(&out, "re: "), 0);
	assert_int_equal(mime_decode_header("=?utf-8?q?ab?=XYZ", 14, &out,
					    NULL), 0);
	assert_string_equal(pn_buf_cstr(&out), "re: ab");
	pn_buf_free(&out);
}

/* Hostile input: every byte value, long runs of "=?", never a crash. */
static void test_decode_junk(void **state)
{
	char junk[4096];
	struct pn_buf out = { 0 };
	unsigned seed = 1;

	(void)state;
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = "=?qQbB_ \xc3\xa9utf-8"[(seed >> 16) % 15];
			if ((seed >> 8) % 97 == 0)
				junk[i] = (char)(seed >> 3);
		}
		pn_buf_reset(&out);
		assert_int_equal(mime_decode_header(junk, sizeof(junk), &out,
						    NULL), 0);
	}
	pn_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_appends_and_bounds),
		cmocka_unit_test(test_decode_junk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
