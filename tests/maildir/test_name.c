/* Tests for maildir/name.c: file names and flags both ways, the uidlist
 * key, info rewriting that keeps unknown flags, unique names and the
 * delivery-time order in which new files get UIDs.  Valid and invalid
 * names share one table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { D = MD_FLAG_DRAFT, F = MD_FLAG_FLAGGED, P = MD_FLAG_PASSED,
       R = MD_FLAG_REPLIED, S = MD_FLAG_SEEN, T = MD_FLAG_TRASHED };

/* ok false: md_name_parse must refuse.  formatted: what md_name_format
 * writes back from the parse (NULL: the same as name). */
static const struct {
	const char *name;
	bool ok;
	const char *base;
	uint64_t size, vsize;
	unsigned flags;
	uint32_t kw;
	bool has_info;
	const char *formatted;
} cases[] = {
	/* as Dovecot 2.3.19 named its files (captured) */
	{ "1795627190.M892404P23498.vm,S=28,W=32:2,Sab", true,
	  "1795627190.M892404P23498.vm", 28, 32, S, 0x3, true, NULL },
	{ "1795627190.M904539P23498.vm,S=28,W=32:2,DFRc", true,
	  "1795627190.M904539P23498.vm", 28, 32, D | F | R, 0x4, true, NULL },
	{ "1795627190.M902925P23498.vm,S=28,W=32:2,Td", true,
	  "1795627190.M902925P23498.vm", 28, 32, T, 0x8, true, NULL },
	/* new/: no info */
	{ "1700000000.M1P2.host", true, "1700000000.M1P2.host", 0, 0, 0, 0,
	  false, NULL },
	{ "1700000000.M1P2.host,S=12", true, "1700000000.M1P2.host", 12, 0,
	  0, 0, false, NULL },
	{ "1700000000.M1P2.host:2,", true, "1700000000.M1P2.host", 0, 0, 0,
	  0, true, NULL },
	/* unsorted flags are read, and written sorted */
	{ "x:2,TSRPFD", true, "x", 0, 0, D | F | P | R | S | T, 0, true,
	  "x:2,DFPRST" },
	{ "x:2,zaS", true, "x", 0, 0, S, (1u << 25) | 1, true, "x:2,Saz" },
	/* W before S, and other fields kept in the base */
	{ "x,W=10,S=9:2,S", true, "x", 9, 10, S, 0, true, "x,S=9,W=10:2,S" },
	{ "x,Q=1,S=9:2,", true, "x,Q=1", 9, 0, 0, 0, true, NULL },
	{ "x,S=abc:2,", true, "x,S=abc", 0, 0, 0, 0, true, NULL },
	/* '!' instead of ':' where ':' is not allowed */
	{ "x,S=5!2,F", true, "x", 5, 0, F, 0, true, "x,S=5:2,F" },
	/* Dovecot's "<flags>[,<fields>]": flags stop at the comma */
	{ "x:2,S,ab", true, "x", 0, 0, S, 0, true, "x:2,S" },
	/* experimental info ":1," is no flag information */
	{ "x:1,foo", true, "x", 0, 0, 0, 0, false, "x" },
	/* not message names */
	{ "", false, NULL, 0, 0, 0, 0, false, NULL },
	{ ".", false, NULL, 0, 0, 0, 0, false, NULL },
	{ "..", false, NULL, 0, 0, 0, 0, false, NULL },
	{ ".hidden", false, NULL, 0, 0, 0, 0, false, NULL },
	{ ":2,S", false, NULL, 0, 0, 0, 0, false, NULL },
	{ ",S=3:2,S", false, NULL, 0, 0, 0, 0, false, NULL },
	{ ",S=3,W=4", false, NULL, 0, 0, 0, 0, false, NULL },
	{ "!2,S", false, NULL, 0, 0, 0, 0, false, NULL },
	/* odd but a name: the base keeps the unknown field */
	{ ",Q=1:2,S", true, ",Q=1", 0, 0, S, 0, true, NULL },
	{ "a/b:2,S", false, NULL, 0, 0, 0, 0, false, NULL },
};

static void test_parse_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct md_name n;
		char out[300];
		int rc = md_name_parse(cases[i].name, &n);

		assert_int_equal(md_name_valid(cases[i].name), cases[i].ok);

		if (!cases[i].ok) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(n.base, cases[i].base);
		assert_int_equal(n.size, cases[i].size);
		assert_int_equal(n.vsize, cases[i].vsize);
		assert_int_equal(n.flags, cases[i].flags);
		assert_int_equal(n.keyword_bits, cases[i].kw);
		assert_int_equal(n.has_info, cases[i].has_info);
		assert_int_equal(md_name_format(&n, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].formatted ? cases[i].formatted
							    : cases[i].name);
	}
}

static void test_parse_long(void **state)
{
	char name[300];
	struct md_name n;

	(void)state;
	memset(name, 'a', 256);
	strcpy(name + 256, ":2,S");
	assert_int_equal(md_name_parse(name, &n), -1);
	assert_false(md_name_valid(name));
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_int_equal(md_name_parse(name, &n), 0);
	assert_int_equal(strlen(n.base), 255);
	assert_true(md_name_valid(name));
	assert_int_equal(md_name_parse(NULL, &n), -1);
	assert_false(md_name_valid(NULL));
}

static void test_format_errors(void **state)
{
	struct md_name n = { .base = "abc", .size = 5, .flags = S,
			     .has_info = true };
	char out[64];

	(void)state;
	assert_int_equal(md_name_format(&n, out, sizeof(out)), 0);
	assert_string_equal(out, "abc,S=5:2,S");
	/* exactly fits: 11 chars + NUL */
	assert_int_equal(md_name_format(&n, out, 12), 0);
	assert_int_equal(md_name_format(&n, out, 11), -1);
	strcpy(n.base, "a:b");
	assert_int_equal(md_name_format(&n, out, sizeof(out)), -1);
	n.base[0] = '\0';
	assert_int_equal(md_name_format(&n, out, sizeof(out)), -1);
}

static void test_keylen(void **state)
{
	static const struct {
		const char *name;
		size_t len;
	} k[] = {
		{ "a,S=1,W=2:2,S", 9 }, { "abc", 3 }, { "ab!2,S", 2 },
		{ "a!b", 3 }, { "a:2,S!2,", 1 }, { ":2,", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(k); i++)
		assert_int_equal(md_name_keylen(k[i].name), k[i].len);
}

static void test_info_format(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(md_info_format(S | D, 0x5, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, ":2,DSac");
	/* unknown letters of another program survive a flag change */
	assert_int_equal(md_info_format(F, 0, "SXab", out, sizeof(out)), 0);
	assert_string_equal(out, ":2,FX");
	/* ",<fields>" after the flags is left alone, as Dovecot does */
	assert_int_equal(md_info_format(F, 1, "SX,a=b,c", out, sizeof(out)), 0);
	assert_string_equal(out, ":2,FXa,a=b,c");
	assert_int_equal(md_info_format(0, 0, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, ":2,");
	assert_int_equal(md_info_format(S, 0, NULL, out, 4), -1);
	assert_int_equal(md_info_format(S, 0, NULL, out, 5), 0);
}

static void test_unique(void **state)
{
	char a[256], b[256], host[256], expect_host[300];
	struct md_name n;
	long long secs;
	long usec, pid;
	unsigned q;
	char r[16];
	int used = 0;

	(void)state;
	assert_int_equal(md_name_unique(a, sizeof(a)), 0);
	assert_int_equal(md_name_unique(b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(sscanf(a, "%lld.M%6ldP%ldQ%uR%8[0-9a-f].%n", &secs,
				&usec, &pid, &q, r, &used), 5);
	assert_int_equal(pid, getpid());
	assert_int_equal(strlen(r), 8);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(expect_host, sizeof(expect_host), "%s", host);
	if (!strchr(host, '/') && !strchr(host, ':'))
		assert_string_equal(a + used, expect_host);
	assert_null(strchr(a, ':'));
	assert_null(strchr(a, '/'));
	assert_int_equal(md_name_parse(a, &n), 0);
	assert_string_equal(n.base, a);
	assert_int_equal(md_name_unique(a, 10), -1);
}

static void test_time_order(void **state)
{
	(void)state;
	assert_true(md_name_time_cmp("9.M1P1.h", "10.M0P1.h") < 0);
	assert_true(md_name_time_cmp("10.M2P1.h", "10.M10P1.h") < 0);
	assert_true(md_name_time_cmp("10.M10P1.h", "10.M2P1.h") > 0);
	assert_true(md_name_time_cmp("10.M1P1.a", "10.M1P1.b") < 0);
	assert_int_equal(md_name_time_cmp("10.M1P1.a", "10.M1P1.a"), 0);
	/* names without a time sort by bytes after timed ones of time 0 */
	assert_true(md_name_time_cmp("abc", "abd") < 0);
	assert_true(md_name_time_cmp("abc", "1.M0.x") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_keylen),
		cmocka_unit_test(test_info_format),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_time_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
