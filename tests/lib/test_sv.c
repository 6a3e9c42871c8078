/* Tests for lib/sv.c: comparisons, trimming, chopping, copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/sv.h"

static void test_make_and_eq(void **state)
{
	struct pn_sv a = pn_sv_from("Content-Type");
	struct pn_sv e = pn_sv_from(NULL);

	(void)state;
	assert_int_equal(a.len, 12);
	assert_int_equal(e.len, 0);
	assert_non_null(e.p);
	assert_true(pn_sv_eq(a, PN_SV_LIT("Content-Type")));
	assert_false(pn_sv_eq(a, PN_SV_LIT("content-type")));
	assert_true(pn_sv_eq_ci(a, PN_SV_LIT("content-TYPE")));
	assert_false(pn_sv_eq_ci(a, PN_SV_LIT("content-typ")));
	assert_true(pn_sv_eq_cstr_ci(a, "CONTENT-type"));
	assert_true(pn_sv_eq(e, pn_sv_make(NULL, 0)));
	/* case folding is ASCII only: bytes >= 0x80 compare exactly */
	assert_false(pn_sv_eq_ci(PN_SV_LIT("\xc3\xa9"), PN_SV_LIT("\xc3\x89")));
	assert_true(pn_sv_eq(pn_sv_make("a\0b", 3), pn_sv_make("a\0b", 3)));
	assert_false(pn_sv_eq(pn_sv_make("a\0b", 3), pn_sv_make("a\0c", 3)));
}

static void test_starts_with(void **state)
{
	(void)state;
	assert_true(pn_sv_starts_with_ci(PN_SV_LIT("Multipart/Mixed"),
					 "multipart/"));
	assert_false(pn_sv_starts_with_ci(PN_SV_LIT("multi"), "multipart/"));
	assert_true(pn_sv_starts_with_ci(PN_SV_LIT("x"), ""));
}

static void test_trim(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "  a b \r\n", "a b" }, { "\t\tx", "x" }, { "x", "x" },
		{ " \r\n\t ", "" }, { "", "" }, { "\va\v", "\va\v" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct pn_sv t = pn_sv_trim(pn_sv_from(cases[i].in));

		assert_true(pn_sv_eq(t, pn_sv_from(cases[i].out)));
	}
}

static void test_find_and_chop(void **state)
{
	struct pn_sv s = PN_SV_LIT("a=1;b=2;;c");
	struct pn_sv h;

	(void)state;
	assert_int_equal(pn_sv_find(s, ';'), 3);
	assert_int_equal(pn_sv_find(s, 'z'), -1);
	assert_int_equal(pn_sv_find(pn_sv_make(NULL, 0), 'a'), -1);
	h = pn_sv_chop(&s, ';');
	assert_true(pn_sv_eq(h, PN_SV_LIT("a=1")));
	h = pn_sv_chop(&s, ';');
	assert_true(pn_sv_eq(h, PN_SV_LIT("b=2")));
	h = pn_sv_chop(&s, ';');
	assert_int_equal(h.len, 0);
	h = pn_sv_chop(&s, ';');
	assert_true(pn_sv_eq(h, PN_SV_LIT("c")));
	assert_int_equal(s.len, 0);
	h = pn_sv_chop(&s, ';');
	assert_int_equal(h.len, 0);
	assert_int_equal(s.len, 0);
	/* separator at the very end leaves an empty rest */
	s = PN_SV_LIT("x;");
	h = pn_sv_chop(&s, ';');
	assert_true(pn_sv_eq(h, PN_SV_LIT("x")));
	assert_int_equal(s.len, 0);
}

static void test_dup(void **state)
{
	char *p;

	(void)state;
	p = pn_sv_dup(pn_sv_make("abcdef", 3));
	assert_string_equal(p, "abc");
	free(p);
	p = pn_sv_dup(pn_sv_make(NULL, 0));
	assert_string_equal(p, "");
	free(p);
	p = pn_sv_dup_lower(PN_SV_LIT("Text/HTML; Charset=\xc3\x89"));
	assert_string_equal(p, "text/html; charset=\xc3\x89");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_and_eq),
		cmocka_unit_test(test_starts_with),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_find_and_chop),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
