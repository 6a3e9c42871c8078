/* Tests for mime/charset.c: labels, supersets, fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mime/mime_p.h"

static const struct {
	const char *charset;
	const char *in;
	const char *out;
	bool defect;
} cases[] = {
	{ "utf-8", "caf\xc3\xa9", "caf\xc3\xa9", false },
	{ "UTF8", "caf\xc3\xa9", "caf\xc3\xa9", false },
	{ "\"utf-8\"", "caf\xc3\xa9", "caf\xc3\xa9", false },
	{ "latin1", "caf\xe9", "caf\xc3\xa9", false },
	{ "ISO-8859-1", "caf\xe9", "caf\xc3\xa9", false },
	{ "iso-8859-15", "\xa4", "\xe2\x82\xac", false },
	{ "windows-1252", "\x80", "\xe2\x82\xac", false },
	{ "x-cp1252", "\x80", "\xe2\x82\xac", false },	/* "x-" dropped */
	{ "us-ascii", "plain", "plain", false },
	{ "ansi_x3.4-1968", "plain", "plain", false },
	{ "ascii", "plain", "plain", false },
	{ "unicode-1-1-utf-7", "+AOk-", "\xc3\xa9", false },
	{ "ks_c_5601-1987", "\xc7\xd1", "\xed\x95\x9c", false },
	{ "gb2312", "\xd6\xd0", "\xe4\xb8\xad", false },
	/* GBK-only character under a gb2312 label: the superset decodes */
	{ "gb2312", "\x81\x40", "\xe4\xb8\x82", false },
	{ "iso-8859-8-i", "\xe0", "\xd7\x90", false },
	{ "koi8-r", "\xc1", "\xd0\xb0", false },
	{ "shift_jis", "\x82\xa0", "\xe3\x81\x82", false },
	{ "big5", "\xa4\xa4", "\xe4\xb8\xad", false },
	{ "iso-2022-jp", "\x1b$B$\"\x1b(B", "\xe3\x81\x82", false },
	/* lying labels: UTF-8 when valid, else Latin-1 */
	{ "us-ascii", "caf\xc3\xa9", "caf\xc3\xa9", true },
	{ "us-ascii", "caf\xe9", "caf\xc3\xa9", true },
	{ "utf-8", "caf\xe9", "caf\xc3\xa9", true },
	{ "shift_jis", "\x82", "\xc2\x82", true },	/* truncated */
	/* unknown labels */
	{ "x-unknown-thing", "caf\xc3\xa9", "caf\xc3\xa9", true },
	{ "bogus", "caf\xe9", "caf\xc3\xa9", true },
	{ "bogus", "ascii only", "ascii only", true },
	/* unlabelled (NULL or ""): UTF-8 needs no defect */
	{ NULL, "caf\xc3\xa9", "caf\xc3\xa9", false },
	{ "", "caf\xe9", "caf\xc3\xa9", true },
	{ "utf-8", "", "", false },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pn_buf out = { 0 };
		bool defect = false;

		assert_int_equal(mime_charset_to_utf8(cases[i].charset,
						      cases[i].in,
						      strlen(cases[i].in), &out,
						      &defect), 0);
		if (strcmp(pn_buf_cstr(&out), cases[i].out) != 0 ||
		    defect != cases[i].defect)
			fail_msg("case %zu (%s): got \"%s\" defect %d", i,
				 cases[i].charset ? cases[i].charset : "NULL",
				 pn_buf_cstr(&out), defect);
		pn_buf_free(&out);
	}
}

/* More labels than the cache holds, twice, with output appended. */
static void test_cache_and_append(void **state)
{
	static const char *const labels[] = {
		"iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5",
		"iso-8859-6", "iso-8859-7", "iso-8859-9", "iso-8859-10",
		"iso-8859-13", "iso-8859-14", "iso-8859-16", "windows-1250",
		"windows-1251", "windows-1253", "windows-1254", "windows-1255",
		"windows-1256", "windows-1257", "windows-1258", "koi8-u",
	};
	struct pn_buf out = { 0 };
	size_t n = sizeof(labels) / sizeof(labels[0]);

	(void)state;
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < n; i++)
			assert_int_equal(mime_charset_to_utf8(labels[i], "a", 1,
							      &out, NULL), 0);
	assert_int_equal(out.len, 2 * n);
	pn_buf_free(&out);
}

/* A body-sized input goes through the growth loop. */
static void test_large(void **state)
{
	size_t n = 1 << 20;
	char *in = malloc(n);
	struct pn_buf out = { 0 };

	(void)state;
	assert_non_null(in);
	memset(in, '\xe9', n);
	assert_int_equal(mime_charset_to_utf8("latin1", in, n, &out, NULL), 0);
	assert_int_equal(out.len, 2 * n);
	free(in);
	pn_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_cache_and_append),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
