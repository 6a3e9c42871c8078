/* Tests for maildir/keywords.c: dovecot-keywords as Dovecot writes it
 * (captured from Dovecot 2.3.19), bad lines with file and line, adding
 * names (first free letter, at most 26, IMAP atoms only) and the locked
 * read-modify-write that keeps another writer's keywords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* After APPEND (\Seen $Forwarded foo), (... bar) and STORE +FLAGS baz. */
static const char dovecot_file[] = "0 $Forwarded\n1 foo\n2 bar\n3 baz\n";

static void test_dovecot_file(void **state)
{
	struct md_keywords kw = { { 0 } };
	struct pn_error err;
	struct pn_buf b;

	(void)state;
	assert_int_equal(md_keywords_parse(dovecot_file, strlen(dovecot_file),
					   "k", &kw, &err), 0);
	assert_string_equal(kw.names[0], "$Forwarded");
	assert_string_equal(kw.names[3], "baz");
	assert_null(kw.names[4]);
	assert_int_equal(md_keywords_find(&kw, "bar"), 2);
	assert_int_equal(md_keywords_find(&kw, "BAR"), -1);
	pn_buf_init(&b, 0);
	assert_int_equal(md_keywords_format(&kw, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), dovecot_file);
	pn_buf_free(&b);
	md_keywords_clear(&kw);
}

static const struct {
	const char *in, *out, *error;
} cases[] = {
	{ "", "", NULL },
	{ "\n\n", "", NULL },
	/* gaps stay gaps: the letters are what files carry */
	{ "25 last\n3 d\n", "3 d\n25 last\n", NULL },
	{ "0 a b\n", "0 a b\n", NULL },
	{ "26 x\n", NULL, "/m/dovecot-keywords:1: bad keyword line" },
	{ "0 a\n0 b\n", NULL, "/m/dovecot-keywords:2: bad keyword line" },
	{ "0 a\nx b\n", NULL, "/m/dovecot-keywords:2: bad keyword line" },
	{ "0\n", NULL, "/m/dovecot-keywords:1: bad keyword line" },
	{ "0 \n", NULL, "/m/dovecot-keywords:1: bad keyword line" },
	{ "100 a\n", NULL, "/m/dovecot-keywords:1: bad keyword line" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct md_keywords kw = { { 0 } };
		struct pn_error err;
		struct pn_buf b;
		int rc = md_keywords_parse(cases[i].in, strlen(cases[i].in),
					   "/m/dovecot-keywords", &kw, &err);

		if (cases[i].error) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, cases[i].error);
			continue;
		}
		assert_int_equal(rc, 0);
		pn_buf_init(&b, 0);
		assert_int_equal(md_keywords_format(&kw, &b), 0);
		assert_string_equal(pn_buf_cstr(&b), cases[i].out);
		pn_buf_free(&b);
		md_keywords_clear(&kw);
	}
}

static void test_add(void **state)
{
	struct md_keywords kw = { { 0 } };
	struct pn_error err;
	char name[16];

	(void)state;
	assert_int_equal(md_keywords_parse("1 b\n", 4, "k", &kw, &err), 0);
	assert_int_equal(md_keywords_add(&kw, "a", &err), 0);
	assert_int_equal(md_keywords_add(&kw, "b", &err), 1);
	assert_int_equal(md_keywords_add(&kw, "c", &err), 2);
	assert_int_equal(md_keywords_add(&kw, "a b", &err), -1);
	assert_string_equal(err.msg, "keyword \"a b\": not an IMAP atom");
	assert_int_equal(md_keywords_add(&kw, "\\Seen", &err), -1);
	assert_int_equal(md_keywords_add(&kw, "", &err), -1);
	assert_int_equal(md_keywords_add(&kw, "x(", &err), -1);
	for (int i = 3; i < 26; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(md_keywords_add(&kw, name, &err), i);
	}
	assert_int_equal(md_keywords_add(&kw, "one-too-many", &err), -1);
	assert_string_equal(err.msg, "keyword \"one-too-many\": all 26 keyword "
				     "letters are in use");
	assert_int_equal(err.code, PN_ELIMIT);
	assert_int_equal(md_keywords_add(&kw, "k25", &err), 25);
	md_keywords_clear(&kw);
}

static void test_update_keeps_others(void **state)
{
	char dir[] = "/tmp/pn-kw-XXXXXX", p[128], cmd[200];
	const char *names[] = { "mine", "theirs" };
	struct md_keywords kw = { { 0 } };
	struct pn_error err;
	struct pn_buf b;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* another writer added "theirs" as letter a after we read */
	snprintf(p, sizeof(p), "%s/dovecot-keywords", dir);
	fp = fopen(p, "w");
	fputs("0 theirs\n", fp);
	fclose(fp);
	assert_int_equal(md_keywords_update(dir, names, 2, 1000, &kw, &err), 0);
	assert_string_equal(kw.names[0], "theirs");
	assert_string_equal(kw.names[1], "mine");
	assert_int_equal(md_read_file(p, &b, &err), 0);
	assert_string_equal(pn_buf_cstr(&b), "0 theirs\n1 mine\n");
	pn_buf_free(&b);
	/* Dovecot writes keywords only under dovecot-uidlist.lock: we wait
	 * for it as well */
	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	fp = fopen(p, "w");
	fclose(fp);
	names[0] = "third";
	assert_int_equal(md_keywords_update(dir, names, 1, 0, &kw, &err), -1);
	snprintf(cmd, sizeof(cmd), "%s/dovecot-uidlist is locked by another "
				   "process (dovecot-uidlist.lock, 0 s)", dir);
	assert_string_equal(err.msg, cmd);
	md_keywords_clear(&kw);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_file),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_update_keeps_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
