/* Tests for mime/address.c.  Each entry is written "name|addr|group"
 * with "-" for NULL, entries joined by " ; ".  Python's email
 * (policy.default) agrees on addresses; it drops "(John Doe)" comment
 * names, which are kept here as the name of last resort, and writes
 * "John Doe" (no '@') as an address, kept here as a display name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mime/mime_p.h"

static const struct {
	const char *in;
	const char *out;
} cases[] = {
	{ "a@x", "-|a@x|-" },
	{ "A <a@x>", "A|a@x|-" },
	{ "A <a@x>, B <b@y>", "A|a@x|- ; B|b@y|-" },
	{ "\"Smith, \\\"J\\\"\" <j@x>", "Smith, \"J\"|j@x|-" },
	{ "John Q. Public <jq@x>", "John Q. Public|jq@x|-" },
	{ "=?utf-8?q?J=C3=B6hn?= <j@x>", "J\xc3\xb6hn|j@x|-" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?= <x@y>", "ab|x@y|-" },
	{ "J\xc3\xb6hn <j@x>", "J\xc3\xb6hn|j@x|-" },	/* RFC 6532 */
	{ "a@b (John Doe)", "John Doe|a@b|-" },
	{ "A (c) <a@x> (d)", "A|a@x|-" },
	{ "\"a b\"@x", "-|\"a b\"@x|-" },
	{ "<\"a b\"@x>", "-|\"a b\"@x|-" },
	/* groups */
	{ "undisclosed-recipients:;", "-|-|undisclosed-recipients" },
	{ "Team: a@x, b@y;, c@z",
	  "-|-|Team ; -|a@x|Team ; -|b@y|Team ; -|c@z|-" },
	{ "Team: A <a@x>;", "-|-|Team ; A|a@x|Team" },
	{ "Team: a@x", "-|-|Team ; -|a@x|Team" },	/* unclosed */
	/* obsolete and broken */
	{ "<@r1,@r2:j@x>", "-|j@x|-" },
	{ "A <@r1:j@x>", "A|j@x|-" },
	{ "j@x junk", "-|j@x|-" },
	{ "<a@b> junk, x@y", "-|a@b|- ; -|x@y|-" },
	{ "Foo <a@b, c@d", "Foo|a@b|- ; -|c@d|-" },
	{ "Foo <>", "Foo||-" },
	{ "John Doe", "John Doe|-|-" },
	{ "foo", "-|foo|-" },
	{ ", ,a@x,,", "-|a@x|-" },
	{ "", "" },
	/* one word without '@' is taken as a local address, even this */
	{ "\"unterminated <a@x>", "-|\"unterminated <a@x>|-" },
};

static void list_str(const struct mime_address *l, size_t n, char *out,
		     size_t sz)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(out);

		snprintf(out + len, sz - len, "%s%s|%s|%s", i ? " ; " : "",
			 l[i].name ? l[i].name : "-",
			 l[i].addr ? l[i].addr : "-",
			 l[i].group ? l[i].group : "-");
	}
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_address *l;
		struct pn_error err;
		char got[512];
		size_t n;

		assert_int_equal(mime_parse_addresses(cases[i].in, &l, &n,
						      &err), 0);
		list_str(l, n, got, sizeof(got));
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu \"%s\": got \"%s\"", i, cases[i].in,
				 got);
		mime_addresses_free(&l, n);
		assert_null(l);
	}
}

static void test_junk(void **state)
{
	char in[300];
	unsigned seed = 3;

	(void)state;
	for (int round = 0; round < 500; round++) {
		struct mime_address *l;
		size_t n;

		for (size_t i = 0; i < sizeof(in) - 1; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = "a@<>,;:\"\\() =?q\xc3"[(seed >> 16) % 17];
		}
		in[sizeof(in) - 1] = '\0';
		assert_int_equal(mime_parse_addresses(in, &l, &n, NULL), 0);
		mime_addresses_free(&l, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_junk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
