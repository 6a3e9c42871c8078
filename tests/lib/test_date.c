/* Tests for lib/date.c: RFC 5322 dates with the obsolete forms of 4.3,
 * IMAP INTERNALDATE both ways, and exact error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/date.h"

#define T0 ((time_t)1795623663)	/* Wed, 25 Nov 2026 16:21:03 +0000 */

static const struct {
	const char *in;
	time_t utc;
	int tzoff;
	const char *err;	/* NULL: must parse */
} rfc_cases[] = {
	{ "Wed, 25 Nov 2026 16:21:03 +0000", T0, 0, NULL },
	{ "25 Nov 2026 16:21:03 +0000", T0, 0, NULL },
	{ "Wednesday, 25 Nov 2026 16:21:03 +0000", T0, 0, NULL },
	{ "Wed 25 Nov 2026 16:21:03 +0000", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 16:21 +0000", T0 - 3, 0, NULL },
	{ "Wed, 25 Nov 2026 17:21:03 +0100", T0, 60, NULL },
	{ "Wed, 25 Nov 2026 11:21:03 -0500", T0, -300, NULL },
	{ "Wed, 25 Nov 2026 21:51:03 +0530", T0, 330, NULL },
	/* obsolete years (RFC 5322 4.3) */
	{ "Wed, 25 Nov 26 16:21:03 +0000", T0, 0, NULL },
	{ "Thu, 25 Nov 99 16:21:03 +0000", 943546863, 0, NULL },
	{ "Thu, 25 Nov 126 16:21:03 +0000", T0, 0, NULL },
	/* named zones */
	{ "Wed, 25 Nov 2026 16:21:03 GMT", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 16:21:03 UT", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 11:21:03 EST", T0, -300, NULL },
	{ "Wed, 25 Nov 2026 12:21:03 EDT", T0, -240, NULL },
	{ "Wed, 25 Nov 2026 10:21:03 CST", T0, -360, NULL },
	{ "Wed, 25 Nov 2026 11:21:03 CDT", T0, -300, NULL },
	{ "Wed, 25 Nov 2026 09:21:03 MST", T0, -420, NULL },
	{ "Wed, 25 Nov 2026 10:21:03 MDT", T0, -360, NULL },
	{ "Wed, 25 Nov 2026 08:21:03 PST", T0, -480, NULL },
	{ "Wed, 25 Nov 2026 09:21:03 pdt", T0, -420, NULL },
	/* military letters mean nothing: -0000 */
	{ "Wed, 25 Nov 2026 16:21:03 A", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 16:21:03 z", T0, 0, NULL },
	/* no zone at all */
	{ "Wed, 25 Nov 2026 16:21:03", T0, 0, NULL },
	/* comments, folding, case */
	{ "Wed, 25 Nov 2026 17:21:03 +0100 (CET)", T0, 60, NULL },
	{ "(x) Wed,(y) 25 (a (nested) one) Nov 2026 16:21:03 +0000", T0, 0,
	  NULL },
	{ "Wed,\r\n 25 Nov\r\n\t2026 16:21:03\r\n +0000\r\n", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 16 : 21 : 03 +0000", T0, 0, NULL },
	{ "wed, 25 nov 2026 16:21:03 +0000", T0, 0, NULL },
	{ "WED, 25 NOV 2026 16:21:03 +0000", T0, 0, NULL },
	{ "Wed, 25 Nov 2026 16:21:03 +0000 (a \\) b)", T0, 0, NULL },
	{ "Thu, 1 Jan 1970 00:00:00 +0000", 0, 0, NULL },
	{ "Thu, 29 Feb 2024 00:00:00 +0000", 1709164800, 0, NULL },
	{ "Wed, 25 Nov 2026 16:21:60 +0000", T0 + 57, 0, NULL },
	/* errors */
	{ "Wed, 25 Foo 2026 16:21:03 +0000", 0, 0,
	  "date: bad month 'Foo' at byte 8" },
	{ "Xyz, 25 Nov 2026 16:21:03 +0000", 0, 0,
	  "date: bad day-of-week 'Xyz' at byte 0" },
	{ "Wed, 31 Feb 2026 16:21:03 +0000", 0, 0,
	  "date: bad day '31' at byte 5" },
	{ "Wed, 29 Feb 2023 16:21:03 +0000", 0, 0,
	  "date: bad day '29' at byte 5" },
	{ "Wed, 0 Nov 2026 16:21:03 +0000", 0, 0,
	  "date: bad day '0' at byte 5" },
	{ "Wed, 25 Nov 20266 16:21:03 +0000", 0, 0,
	  "date: bad year '20266' at byte 12" },
	{ "Wed, 25 Nov 2026 24:21:03 +0000", 0, 0,
	  "date: bad hour '24' at byte 17" },
	{ "Wed, 25 Nov 2026 16:61:03 +0000", 0, 0,
	  "date: bad minute '61' at byte 20" },
	{ "Wed, 25 Nov 2026 16:21:61 +0000", 0, 0,
	  "date: bad second '61' at byte 23" },
	{ "Wed, 25 Nov 2026 16.21.03 +0000", 0, 0,
	  "date: expected ':', found '.21.03' at byte 19" },
	{ "Wed, 25 Nov 2026 16:21:03 +2500", 0, 0,
	  "date: bad zone '+2500' at byte 26" },
	{ "Wed, 25 Nov 2026 16:21:03 +01", 0, 0,
	  "date: bad zone '+01' at byte 26" },
	{ "Wed, 25 Nov 2026 16:21:03 J", 0, 0,
	  "date: bad zone 'J' at byte 26" },
	{ "Wed, 25 Nov 2026 16:21:03 CEST", 0, 0,
	  "date: bad zone 'CEST' at byte 26" },
	{ "Wed, 25 Nov 2026 16:21:03 +0000 junk", 0, 0,
	  "date: junk after date 'junk' at byte 32" },
	{ "Wed, 25 Nov 2026 16:21:03 +0000 (oops", 0, 0,
	  "date: unterminated comment '(oops' at byte 32" },
	{ "Wed, 25 Nov 2026", 0, 0, "date: bad hour at end" },
	{ "", 0, 0, "date: bad day at end" },
	{ "   ", 0, 0, "date: bad day at end" },
	{ "Wed, 25 Nov 2026 16", 0, 0, "date: expected ':' at end" },
	{ "Wed, 99999999999 Nov 2026 16:21:03 +0000", 0, 0,
	  "date: bad day '99999999999' at byte 5" },
};

static void test_rfc5322_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(rfc_cases); i++) {
		struct pn_error err;
		time_t t = 1;
		int off = 12345;
		int rc;

		pn_error_clear(&err);
		rc = pn_date_parse(rfc_cases[i].in, strlen(rfc_cases[i].in),
				   &t, &off, &err);
		if (rfc_cases[i].err) {
			if (rc != -1 || err.code != PN_EPARSE ||
			    strcmp(err.msg, rfc_cases[i].err) != 0)
				fail_msg("case %zu '%s': rc %d msg '%s'", i,
					 rfc_cases[i].in, rc, err.msg);
		} else if (rc != 0 || t != rfc_cases[i].utc ||
			   off != rfc_cases[i].tzoff) {
			fail_msg("case %zu '%s': rc %d t %lld off %d (%s)", i,
				 rfc_cases[i].in, rc, (long long)t, off,
				 err.msg);
		}
	}
}

static void test_two_digit_year_window(void **state)
{
	struct pn_error err;
	time_t t49, t50;

	(void)state;
	assert_int_equal(pn_date_parse("1 Jan 49 00:00 +0000", 20, &t49, NULL,
				       &err), 0);
	assert_int_equal(pn_date_parse("1 Jan 50 00:00 +0000", 20, &t50, NULL,
				       &err), 0);
	assert_int_equal(t49, 2493072000);	/* 2049-01-01 */
	assert_int_equal(t50, -631152000);	/* 1950-01-01 */
	/* NULL err is allowed */
	assert_int_equal(pn_date_parse("junk", 4, &t49, NULL, NULL), -1);
}

static void test_rfc5322_format(void **state)
{
	char out[32];

	(void)state;
	pn_date_format(T0, 0, out);
	assert_string_equal(out, "Wed, 25 Nov 2026 16:21:03 +0000");
	pn_date_format(T0, -300, out);
	assert_string_equal(out, "Wed, 25 Nov 2026 11:21:03 -0500");
	pn_date_format(T0, 330, out);
	assert_string_equal(out, "Wed, 25 Nov 2026 21:51:03 +0530");
	pn_date_format(1793865600, 0, out);
	assert_string_equal(out, "Thu, 05 Nov 2026 08:00:00 +0000");
	pn_date_format(0, 0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static const struct {
	const char *in;
	time_t utc;
	int tzoff;
	const char *err;
} imap_cases[] = {
	{ "\"25-Nov-2026 16:21:03 +0000\"", T0, 0, NULL },
	{ "25-Nov-2026 16:21:03 +0000", T0, 0, NULL },
	{ "\"25-Nov-2026 08:21:03 -0800\"", T0, -480, NULL },
	{ "\" 5-Nov-2026 08:00:00 +0000\"", 1793865600, 0, NULL },
	{ "\"05-Nov-2026 09:00:00 +0100\"", 1793865600, 60, NULL },
	{ "5-Nov-2026 08:00:00 +0000", 1793865600, 0, NULL },
	{ "25-nov-2026 16:21:03 +0000", T0, 0, NULL },
	{ "\"25-Foo-2026 16:21:03 +0000\"", 0, 0,
	  "INTERNALDATE: bad month 'Foo' at byte 4" },
	{ "\"31-Nov-2026 16:21:03 +0000\"", 0, 0,
	  "INTERNALDATE: bad day '31' at byte 1" },
	{ "\"25-Nov-26 16:21:03 +0000\"", 0, 0,
	  "INTERNALDATE: bad year '26' at byte 8" },
	{ "\"25-Nov-2026 16:21 +0000\"", 0, 0,
	  "INTERNALDATE: expected ':', found ' +0000' at byte 18" },
	{ "\"25-Nov-2026 16:21:03 GMT\"", 0, 0,
	  "INTERNALDATE: bad zone 'GMT' at byte 22" },
	{ "\"25-Nov-2026 16:21:03 +0000", 0, 0,
	  "INTERNALDATE: expected '\"' at end" },
	{ "25-Nov-2026 16:21:03 +0000 x", 0, 0,
	  "INTERNALDATE: junk after date ' x' at byte 26" },
	{ "25 Nov 2026 16:21:03 +0000", 0, 0,
	  "INTERNALDATE: expected '-', found ' Nov' at byte 2" },
	{ "", 0, 0, "INTERNALDATE: bad day at end" },
};

static void test_internaldate_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(imap_cases); i++) {
		struct pn_error err;
		time_t t = 1;
		int off = 12345;
		int rc;

		pn_error_clear(&err);
		rc = pn_internaldate_parse(imap_cases[i].in,
					   strlen(imap_cases[i].in), &t, &off,
					   &err);
		if (imap_cases[i].err) {
			if (rc != -1 || strcmp(err.msg, imap_cases[i].err) != 0)
				fail_msg("case %zu '%s': rc %d msg '%s'", i,
					 imap_cases[i].in, rc, err.msg);
		} else if (rc != 0 || t != imap_cases[i].utc ||
			   off != imap_cases[i].tzoff) {
			fail_msg("case %zu '%s': rc %d t %lld off %d (%s)", i,
				 imap_cases[i].in, rc, (long long)t, off,
				 err.msg);
		}
	}
}

static void test_internaldate_format(void **state)
{
	char out[32];

	(void)state;
	pn_internaldate_format(T0, 0, out);
	assert_string_equal(out, "\"25-Nov-2026 16:21:03 +0000\"");
	pn_internaldate_format(1793865600, -480, out);
	assert_string_equal(out, "\" 5-Nov-2026 00:00:00 -0800\"");
	pn_internaldate_format(0, 60, out);
	assert_string_equal(out, "\" 1-Jan-1970 01:00:00 +0100\"");
}

static void test_roundtrip(void **state)
{
	uint32_t rng = 7;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		char a[32], b[32];
		time_t t, back;
		int off, off2;

		rng = rng * 1103515245u + 12345u;
		t = (time_t)(rng % 4000000000u);
		rng = rng * 1103515245u + 12345u;
		off = (int)(rng % (24 * 60)) - 12 * 60;
		pn_date_format(t, off, a);
		assert_int_equal(pn_date_parse(a, strlen(a), &back, &off2,
					       NULL), 0);
		assert_int_equal(back, t);
		assert_int_equal(off2, off);
		pn_internaldate_format(t, off, b);
		assert_int_equal(pn_internaldate_parse(b, strlen(b), &back,
						       &off2, NULL), 0);
		assert_int_equal(back, t);
		assert_int_equal(off2, off);
	}
}

static void test_local_tzoff(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(pn_local_tzoff(T0), 0);
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	assert_int_equal(pn_local_tzoff(T0), -300);	/* November: EST */
	assert_int_equal(pn_local_tzoff(T0 - 150 * 86400), -240);
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5322_parse),
		cmocka_unit_test(test_two_digit_year_window),
		cmocka_unit_test(test_rfc5322_format),
		cmocka_unit_test(test_internaldate_parse),
		cmocka_unit_test(test_internaldate_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_local_tzoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
