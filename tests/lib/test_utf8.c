/* Tests for lib/utf8.c: strict decoding, repair, Latin-1, and the
 * terminal sanitiser against escape sequences and invisible controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/utf8.h"

#define FFFD "\xef\xbf\xbd"

static const struct {
	const char *in;
	size_t len;	/* 0: strlen */
	int n;		/* expected return of pn_utf8_decode */
	uint32_t cp;
} dec_cases[] = {
	{ "A", 0, 1, 0x41 },
	{ "\0", 1, 1, 0 },
	{ "\xc3\xa9", 0, 2, 0xe9 },
	{ "\xe2\x82\xac", 0, 3, 0x20ac },
	{ "\xf0\x9f\x98\x80", 0, 4, 0x1f600 },
	{ "\xf4\x8f\xbf\xbf", 0, 4, 0x10ffff },
	{ "\xef\xbf\xbd", 0, 3, 0xfffd },
	/* invalid */
	{ "\x80", 0, 0, 0 },			/* lone continuation */
	{ "\xc3", 0, 0, 0 },			/* truncated */
	{ "\xe2\x82", 0, 0, 0 },
	{ "\xc3\x28", 0, 0, 0 },		/* bad continuation */
	{ "\xc0\xaf", 0, 0, 0 },		/* overlong '/' */
	{ "\xc1\xbf", 0, 0, 0 },
	{ "\xe0\x80\xaf", 0, 0, 0 },		/* overlong 3-byte */
	{ "\xf0\x80\x80\xaf", 0, 0, 0 },	/* overlong 4-byte */
	{ "\xed\xa0\x80", 0, 0, 0 },		/* surrogate D800 */
	{ "\xed\xbf\xbf", 0, 0, 0 },		/* surrogate DFFF */
	{ "\xf4\x90\x80\x80", 0, 0, 0 },	/* > U+10FFFF */
	{ "\xf5\x80\x80\x80", 0, 0, 0 },
	{ "\xff", 0, 0, 0 },
	{ "", 0, 0, 0 },
};

static void test_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(dec_cases); i++) {
		size_t len = dec_cases[i].len ? dec_cases[i].len
					      : strlen(dec_cases[i].in);
		uint32_t cp = 0xdeadbeef;
		int n = pn_utf8_decode(dec_cases[i].in, len, &cp);

		if (n != dec_cases[i].n || (n && cp != dec_cases[i].cp))
			fail_msg("case %zu: n %d cp %x", i, n, cp);
		assert_int_equal(pn_utf8_valid(dec_cases[i].in, len),
				 dec_cases[i].n == (int)len);
	}
}

static void test_encode(void **state)
{
	char out[4];
	uint32_t cp;

	(void)state;
	assert_int_equal(pn_utf8_encode(0xd800, out), 0);
	assert_int_equal(pn_utf8_encode(0x110000, out), 0);
	/* every scalar value round trips */
	for (uint32_t c = 0; c <= 0x10ffff; c++) {
		int n = pn_utf8_encode(c, out);

		if (c >= 0xd800 && c <= 0xdfff) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(pn_utf8_decode(out, (size_t)n, &cp), n);
		assert_int_equal(cp, c);
	}
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(pn_utf8_valid("", 0));
	assert_true(pn_utf8_valid("plain ascii", 11));
	assert_true(pn_utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
	assert_false(pn_utf8_valid("caf\xe9", 4));
	assert_false(pn_utf8_valid("ok\xc3", 3));
}

static void check_buf_fn(int (*fn)(const char *, size_t, struct pn_buf *),
			 const char *in, size_t len, const char *want)
{
	struct pn_buf b;

	pn_buf_init(&b, 0);
	assert_int_equal(fn(in, len, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), want);
	pn_buf_free(&b);
}

static void test_latin1_and_repair(void **state)
{
	(void)state;
	check_buf_fn(pn_latin1_to_utf8, "caf\xe9 \xff", 6,
		     "caf\xc3\xa9 \xc3\xbf");
	check_buf_fn(pn_latin1_to_utf8, "", 0, "");
	check_buf_fn(pn_utf8_repair, "caf\xe9!", 5, "caf" FFFD "!");
	check_buf_fn(pn_utf8_repair, "ok \xc3\xa9", 5, "ok \xc3\xa9");
	check_buf_fn(pn_utf8_repair, "\xed\xa0\x80", 3, FFFD FFFD FFFD);
	check_buf_fn(pn_utf8_repair, "end\xe2\x82", 5, "end" FFFD FFFD);
}

static void test_buf_cap(void **state)
{
	struct pn_buf b;

	(void)state;
	pn_buf_init(&b, 4);
	assert_int_equal(pn_latin1_to_utf8("\xe9\xe9\xe9", 3, &b), -1);
	assert_int_equal(pn_sanitize_term("hello", 5, 0, &b), -1);
	pn_buf_free(&b);
}

enum { NL = PN_SAN_KEEP_NEWLINE, TAB = PN_SAN_KEEP_TAB };

static const struct {
	const char *in;
	size_t len;	/* 0: strlen */
	unsigned flags;
	const char *out;
} san_cases[] = {
	{ "hello, world", 0, 0, "hello, world" },
	{ "caf\xc3\xa9 \xe2\x82\xac", 0, 0, "caf\xc3\xa9 \xe2\x82\xac" },
	/* SGR colour: ESC becomes a visible picture */
	{ "\x1b[31mred", 0, 0, "\xe2\x90\x9b[31mred" },
	/* OSC 8 hyperlink terminated by BEL */
	{ "\x1b]8;;http://evil/\x07" "click\x1b]8;;\x07", 0, 0,
	  "\xe2\x90\x9b]8;;http://evil/\xe2\x90\x87" "click"
	  "\xe2\x90\x9b]8;;\xe2\x90\x87" },
	/* C1 CSI as a raw byte (invalid UTF-8) and as UTF-8 U+009B */
	{ "\x9b" "2J", 0, 0, FFFD "2J" },
	{ "\xc2\x9b" "2J", 0, 0, FFFD "2J" },
	{ "\xc2\x85", 0, 0, FFFD },			/* NEL */
	{ "\xc2\xa0", 0, 0, "\xc2\xa0" },		/* NBSP is text */
	/* bidi override, isolates, marks, BOM dropped */
	{ "abc\xe2\x80\xaetxt.exe", 0, 0, "abctxt.exe" },
	{ "\xe2\x81\xa6x\xe2\x81\xa9", 0, 0, "x" },
	{ "\xe2\x80\x8f\xe2\x80\x8ey\xef\xbb\xbf", 0, 0, "y" },
	/* lone CR dropped, CRLF per flags */
	{ "over\rwrite", 0, 0, "overwrite" },
	{ "end\r", 0, NL, "end" },
	{ "a\r\nb", 0, NL, "a\nb" },
	{ "a\r\nb", 0, 0, "a\xe2\x90\x8d\xe2\x90\x8a" "b" },
	{ "a\nb", 0, 0, "a\xe2\x90\x8a" "b" },
	{ "a\tb", 0, TAB, "a\tb" },
	{ "a\tb", 0, NL, "a\xe2\x90\x89" "b" },
	{ "a\tb\nc", 0, NL | TAB, "a\tb\nc" },
	/* other C0, NUL and DEL */
	{ "\x00\x08\x7f", 3, 0, "\xe2\x90\x80\xe2\x90\x88\xe2\x90\xa1" },
	/* invalid UTF-8: each bad byte becomes U+FFFD */
	{ "x\xff\xfey", 0, 0, "x" FFFD FFFD "y" },
	{ "\xc0\xaf", 0, 0, FFFD FFFD },		/* overlong */
	{ "\xed\xa0\x80", 0, 0, FFFD FFFD FFFD },	/* surrogate */
	{ "\xe2\x82", 0, 0, FFFD FFFD },		/* truncated */
	{ "", 0, 0, "" },
};

static void test_sanitize(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(san_cases); i++) {
		size_t len = san_cases[i].len ? san_cases[i].len
					      : strlen(san_cases[i].in);
		struct pn_buf b;

		pn_buf_init(&b, 0);
		assert_int_equal(pn_sanitize_term(san_cases[i].in, len,
						  san_cases[i].flags, &b), 0);
		if (strcmp(pn_buf_cstr(&b), san_cases[i].out) != 0)
			fail_msg("case %zu: got '%s'", i, pn_buf_cstr(&b));
		pn_buf_free(&b);
	}
}

static void test_sanitize_never_escapes(void **state)
{
	/* Random bytes: the output is valid UTF-8 with no ESC, no C0 other
	 * than LF/HT, no DEL and no C1. */
	uint32_t rng = 99;
	char in[256];

	(void)state;
	for (int iter = 0; iter < 2000; iter++) {
		struct pn_buf b;
		const char *p;

		for (size_t i = 0; i < sizeof(in); i++) {
			rng = rng * 1103515245u + 12345u;
			in[i] = (char)(rng >> 16);
		}
		pn_buf_init(&b, 0);
		assert_int_equal(pn_sanitize_term(in, sizeof(in), NL | TAB,
						  &b), 0);
		assert_true(pn_utf8_valid(b.data, b.len));
		for (p = b.data; p < b.data + b.len;) {
			uint32_t cp;
			size_t left = (size_t)(b.data + b.len - p);
			int n = pn_utf8_decode(p, left, &cp);

			assert_true(n > 0);
			assert_true(cp >= 0x20 || cp == '\n' || cp == '\t');
			assert_false(cp >= 0x7f && cp < 0xa0);
			p += n;
		}
		pn_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_latin1_and_repair),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_never_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
