/* Tests for imap/seqset.c: parsing into merged ranges, exact errors, the
 * max_ranges limit, counting against "*", and the canonical form.  The
 * huge ranges here must cost nothing (net-imap CVE-2025-25186). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../imap/imap.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Valid and invalid inputs in one table: out is the canonical form, or
 * the exact error when it starts with "!". */
static const struct {
	const char *in;
	const char *out;
} cases[] = {
	{ "1", "1" },
	{ "1:4,7,9:*", "1:4,7,9:*" },
	{ "4:2", "2:4" },
	{ "*:4", "4:*" },
	{ "*", "*" },
	{ "*:*", "*" },
	{ "1,2,3,4", "1:4" },
	{ "4,3,2,1", "1:4" },
	{ "9,1:3,5:7,4", "1:7,9" },
	{ "1:10,3:5", "1:10" },
	{ "3:5,1:10", "1:10" },
	{ "1:4294967295", "1:*" },
	{ "4294967295", "*" },
	{ "4294967294,*", "4294967294:*" },
	{ "10:20,1:*", "1:*" },
	{ "5,5,5", "5" },
	{ "2,4,6", "2,4,6" },
	{ "", "!sequence set: bad number at byte 0" },
	{ "0", "!sequence set: bad number at byte 0" },
	{ "1:4,0", "!sequence set: bad number at byte 4" },
	{ "1:0", "!sequence set: bad number at byte 2" },
	{ "01", "!sequence set: bad number at byte 0" },
	{ "4294967296", "!sequence set: bad number at byte 0" },
	{ "1,99999999999999999999", "!sequence set: bad number at byte 2" },
	{ "1,", "!sequence set: bad number at byte 2" },
	{ ",1", "!sequence set: bad number at byte 0" },
	{ "1:", "!sequence set: bad number at byte 2" },
	{ ":1", "!sequence set: bad number at byte 0" },
	{ "1,,2", "!sequence set: bad number at byte 2" },
	{ "-1", "!sequence set: bad number at byte 0" },
	{ "1:2:3", "!sequence set: unexpected ':' at byte 3" },
	{ "1 2", "!sequence set: unexpected byte 0x20 at byte 1" },
	{ "1x", "!sequence set: unexpected 'x' at byte 1" },
	{ "**", "!sequence set: unexpected '*' at byte 1" },
};

static void test_table(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_buf b = { 0 };
	struct pn_error err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		int rc = imap_seqset_parse(&s, cases[i].in,
					   strlen(cases[i].in), &err);

		pn_buf_reset(&b);
		if (cases[i].out[0] == '!') {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, cases[i].out + 1);
			assert_int_equal(s.n, 0);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(imap_seqset_format(&s, &b), 0);
		assert_string_equal(pn_buf_cstr(&b), cases[i].out);
	}
	imap_seqset_free(&s);
	pn_buf_free(&b);
}

/* The length argument rules, not a NUL. */
static void test_length(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_seqset_parse(&s, "12,34", 2, &err), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.r[0].lo, 12);
	assert_int_equal(imap_seqset_parse(&s, "1\0002", 3, &err), -1);
	assert_string_equal(err.msg,
			    "sequence set: unexpected byte 0x00 at byte 1");
	imap_seqset_free(&s);
}

static void test_huge_range_is_one(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_seqset_parse(&s, "1:4294967295", 12, &err), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.cap <= 8);
	assert_int_equal(imap_seqset_count(&s, 10), 10);
	assert_true(imap_seqset_contains(&s, 1));
	assert_true(imap_seqset_contains(&s, 4000000000u));
	assert_true(imap_seqset_contains(&s, IMAP_SEQ_STAR));
	assert_false(imap_seqset_contains(&s, 0));
	imap_seqset_free(&s);
}

static void test_max_ranges(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_buf b = { 0 };
	struct pn_error err;
	unsigned i;

	(void)state;
	s.max_ranges = 3;
	assert_int_equal(imap_seqset_parse(&s, "1,3,5", 5, &err), 0);
	assert_int_equal(imap_seqset_parse(&s, "1,3,5,7", 7, &err), -1);
	assert_string_equal(err.msg, "sequence set: more than 3 ranges "
			    "(max_ranges) at byte 6");
	assert_int_equal(err.code, PN_ELIMIT);
	/* Ranges that merge do not count. */
	assert_int_equal(imap_seqset_parse(&s, "1,2,3,4,5,6,7", 13, &err), 0);
	assert_int_equal(s.n, 1);

	/* The default: 100000 separate ranges pass, one more fails. */
	s.max_ranges = 0;
	for (i = 0; i < 100001; i++)
		assert_int_equal(pn_buf_printf(&b, "%s%u", i ? "," : "",
					       2 * i + 1), 0);
	assert_int_equal(imap_seqset_parse(&s, b.data, b.len, &err), -1);
	assert_string_equal(err.msg, "sequence set: more than 100000 ranges "
			    "(max_ranges) at byte 644445");
	assert_int_equal(imap_seqset_parse(&s, b.data, 644444, &err), 0);
	assert_int_equal(s.n, 100000);
	assert_int_equal(imap_seqset_count(&s, 1), 100000);
	imap_seqset_free(&s);
	pn_buf_free(&b);
}

static void test_add(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_buf b = { 0 };

	(void)state;
	assert_int_equal(imap_seqset_add(&s, 10, 12), 0);
	assert_int_equal(imap_seqset_add(&s, 1, 1), 0);
	assert_int_equal(imap_seqset_add(&s, 5, 3), 0);
	assert_int_equal(imap_seqset_add(&s, 20, IMAP_SEQ_STAR), 0);
	assert_int_equal(imap_seqset_format(&s, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), "1,3:5,10:12,20:*");
	/* Touching ranges on both sides fuse into one. */
	assert_int_equal(imap_seqset_add(&s, 2, 2), 0);
	assert_int_equal(imap_seqset_add(&s, 6, 9), 0);
	assert_int_equal(imap_seqset_add(&s, 13, 19), 0);
	pn_buf_reset(&b);
	assert_int_equal(imap_seqset_format(&s, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), "1:*");
	assert_int_equal(imap_seqset_add(&s, 0, 3), -1);
	/* clear keeps the memory */
	imap_seqset_clear(&s);
	assert_int_equal(s.n, 0);
	assert_non_null(s.r);
	pn_buf_reset(&b);
	assert_int_equal(imap_seqset_format(&s, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), "");
	s.max_ranges = 2;
	assert_int_equal(imap_seqset_add(&s, 1, 1), 0);
	assert_int_equal(imap_seqset_add(&s, 3, 3), 0);
	assert_int_equal(imap_seqset_add(&s, 5, 5), -1);
	assert_int_equal(imap_seqset_add(&s, 2, 2), 0);
	assert_int_equal(s.n, 1);
	imap_seqset_free(&s);
	assert_null(s.r);
	pn_buf_free(&b);
}

static void test_contains(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_seqset_parse(&s, "2:4,7,10:*", 10, &err), 0);
	assert_false(imap_seqset_contains(&s, 1));
	assert_true(imap_seqset_contains(&s, 2));
	assert_true(imap_seqset_contains(&s, 4));
	assert_false(imap_seqset_contains(&s, 5));
	assert_false(imap_seqset_contains(&s, 6));
	assert_true(imap_seqset_contains(&s, 7));
	assert_false(imap_seqset_contains(&s, 8));
	assert_true(imap_seqset_contains(&s, 10));
	assert_true(imap_seqset_contains(&s, IMAP_SEQ_STAR));
	imap_seqset_free(&s);
	assert_false(imap_seqset_contains(&s, 1));
}

static const struct {
	const char *in;
	uint32_t star;
	uint64_t count;
} counts[] = {
	{ "1:4,7", 100, 5 },
	{ "1:*", 0, 0 },
	{ "1:3,5:*", 0, 3 },
	{ "*", 0, 0 },
	{ "*", 7, 1 },
	{ "1:*", 10, 10 },
	{ "5:*", 3, 3 },		/* 3:5 */
	{ "1,5:*", 3, 4 },		/* 1 and 3:5 */
	{ "2:3,8:*", 2, 7 },		/* 2:8 */
	{ "1:3,5,10:*", 4, 10 },	/* 1:3 and 4:10 */
	{ "1:4294967294,*", 4294967295u, 4294967295u },
	{ "1:*", 4294967295u, 4294967295u },
	{ "1:*", 1, 1 },
};

static void test_count(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_error err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(counts); i++) {
		assert_int_equal(imap_seqset_parse(&s, counts[i].in,
						   strlen(counts[i].in),
						   &err), 0);
		assert_int_equal(imap_seqset_count(&s, counts[i].star),
				 counts[i].count);
	}
	imap_seqset_free(&s);
}

/* Parse, format, parse again: the canonical form is a fixed point and
 * agrees with a bitmap model on random small sets. */
static void test_random_model(void **state)
{
	struct imap_seqset s = { 0 }, s2 = { 0 };
	struct pn_buf b = { 0 }, b2 = { 0 };
	struct pn_error err;
	unsigned char model[65];
	unsigned round, k, i, count;

	(void)state;
	srand(4242);
	for (round = 0; round < 2000; round++) {
		memset(model, 0, sizeof(model));
		pn_buf_reset(&b);
		for (k = 0; k < 1 + (unsigned)rand() % 6; k++) {
			unsigned lo = 1 + (unsigned)rand() % 64;
			unsigned hi = 1 + (unsigned)rand() % 64;

			for (i = lo < hi ? lo : hi; i <= (lo < hi ? hi : lo); i++)
				model[i] = 1;
			assert_int_equal(pn_buf_printf(&b, "%s%u:%u",
						       k ? "," : "", lo, hi), 0);
		}
		assert_int_equal(imap_seqset_parse(&s, b.data, b.len, &err), 0);
		for (count = 0, i = 1; i <= 64; i++) {
			assert_int_equal(imap_seqset_contains(&s, i), model[i]);
			count += model[i];
		}
		assert_int_equal(imap_seqset_count(&s, 64), count);
		pn_buf_reset(&b2);
		assert_int_equal(imap_seqset_format(&s, &b2), 0);
		assert_int_equal(imap_seqset_parse(&s2, b2.data, b2.len, &err),
				 0);
		pn_buf_reset(&b);
		assert_int_equal(imap_seqset_format(&s2, &b), 0);
		assert_string_equal(pn_buf_cstr(&b), pn_buf_cstr(&b2));
	}
	imap_seqset_free(&s);
	imap_seqset_free(&s2);
	pn_buf_free(&b);
	pn_buf_free(&b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_huge_range_is_one),
		cmocka_unit_test(test_max_ranges),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
