/* Tests for maildir/store.c: opening (creating an empty store, refusing
 * what is not a Maildir), layout detection, folder names on disk in
 * modified UTF-7 (valid and invalid spellings in one table), listing both
 * layouts, create/delete/rename, and the subscriptions file in the bytes
 * Dovecot 2.3.19 writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- modified UTF-7 ----------------------------------------------------- */

static const struct {
	const char *mutf7, *utf8;
	bool decode_ok, encode_ok;
} utf7[] = {
	{ "INBOX", "INBOX", true, true },
	{ "&-", "&", true, true },
	{ "T&APY-pfe", "T\xc3\xb6pfe", true, true },	/* Dovecot's on disk */
	{ "&AOkA6Q-", "\xc3\xa9\xc3\xa9", true, true },
	{ "Entw&APw-rfe", "Entw\xc3\xbc" "rfe", true, true },
	{ "&2D3eAA-", "\xf0\x9f\x98\x80", true, true },	/* surrogate pair */
	{ "&U,BTFw-", "\xe5\x8f\xb0\xe5\x8c\x97", true, true },
	/* refused spellings */
	{ "&AGE-", "a", false, true },		/* ASCII must not be encoded */
	{ "&AOk", NULL, false, false },		/* unterminated */
	{ "&AO-", NULL, false, false },		/* bits left over */
	{ "&2D0-", NULL, false, false },	/* lone high surrogate */
	{ "&3gA-", NULL, false, false },	/* lone low surrogate */
	{ "&A=k-", NULL, false, false },
	{ "a\x01", NULL, false, false },
	{ "\xc3\xa9", NULL, false, false },	/* 8-bit on disk */
	/* invalid UTF-8 is not encoded */
	{ NULL, "\xc3", false, false },
	{ NULL, "a\x7f", false, false },
};

static void test_mutf7(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(utf7); i++) {
		struct pn_buf b;

		if (utf7[i].mutf7) {
			pn_buf_init(&b, 0);
			int rc = md_mutf7_decode(utf7[i].mutf7,
						 strlen(utf7[i].mutf7), &b);

			assert_int_equal(rc, utf7[i].decode_ok ? 0 : -1);
			if (utf7[i].decode_ok)
				assert_string_equal(pn_buf_cstr(&b), utf7[i].utf8);
			pn_buf_free(&b);
		}
		if (utf7[i].utf8 && (utf7[i].decode_ok || !utf7[i].encode_ok)) {
			pn_buf_init(&b, 0);
			int rc = md_mutf7_encode(utf7[i].utf8,
						 strlen(utf7[i].utf8), &b);

			assert_int_equal(rc, utf7[i].encode_ok ? 0 : -1);
			if (utf7[i].encode_ok)
				assert_string_equal(pn_buf_cstr(&b), utf7[i].mutf7);
			pn_buf_free(&b);
		}
	}
}

/* ---- stores ------------------------------------------------------------- */

struct env {
	char root[64];
	struct md_store *s;
	struct pn_error err;
	char listed[2048];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	strcpy(e->root, "/tmp/pn-store-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	md_store_free(&e->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static void mk(const struct env *e, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	assert_int_equal(md_make_maildir(p), 0);
}

static void put(const struct env *e, const char *rel, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *slurp(const struct env *e, const char *rel)
{
	struct pn_buf b;
	struct pn_error err;
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", e->root, rel);
	if (md_read_file(p, &b, &err) != 0)
		return NULL;
	return pn_buf_take(&b, NULL);
}

static int collect(void *ctx, const struct md_folder_info *f)
{
	struct env *e = ctx;
	size_t n = strlen(e->listed);

	snprintf(e->listed + n, sizeof(e->listed) - n, "%s%s%s%s%s%s;", f->name,
		 f->subscribed ? " sub" : "", f->has_children ? " kids" : "",
		 f->special_use ? " " : "",
		 f->special_use ? f->special_use : "",
		 strncmp(f->path, e->root, strlen(e->root)) ? " BADPATH" : "");
	return 0;
}

static const char *list(struct env *e)
{
	e->listed[0] = '\0';
	if (md_store_list(e->s, collect, e, &e->err) < 0)
		fail_msg("list: %s", e->err.msg);
	return e->listed;
}

static void test_open(void **state)
{
	struct env *e = *state;
	char p[256], expect[300];

	/* a missing directory becomes a store, read-write */
	snprintf(p, sizeof(p), "%s/new-store/", e->root);
	assert_int_equal(md_store_open(p, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	assert_int_equal(md_store_layout(e->s), MD_LAYOUT_MAILDIRPP);
	assert_int_equal(md_store_separator(e->s), '.');
	md_store_free(&e->s);
	assert_null(e->s);
	strcat(p, "cur");
	assert_int_equal(access(p, F_OK), 0);
	/* a directory with other things in it is not a Maildir */
	put(e, "junk", "x");
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), -1);
	snprintf(expect, sizeof(expect), "%s: not a Maildir (no cur/ new/ tmp/)",
		 e->root);
	assert_string_equal(e->err.msg, expect);
	assert_int_equal(md_store_open("", MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), -1);
}

static void test_maildirpp(void **state)
{
	struct env *e = *state;

	mk(e, "");
	mk(e, ".Sent");
	mk(e, ".T&APY-pfe");
	mk(e, ".T&APY-pfe.Sub");
	mk(e, ".Archive.2024");
	mk(e, "..postern-trash.x");	/* a deletion in progress */
	mk(e, ".bad&-name&AGE-");	/* not a spelling Dovecot writes */
	put(e, ".notadir", "x");
	put(e, "subscriptions", "V\t2\n\nT&APY-pfe\tSub\nINBOX\nGone\n");
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	assert_int_equal(md_store_layout(e->s), MD_LAYOUT_MAILDIRPP);
	assert_string_equal(list(e), "INBOX sub;Archive.2024;Sent \\Sent;"
				     "T\xc3\xb6pfe kids;T\xc3\xb6pfe.Sub sub;");
}

static void test_fs_layout(void **state)
{
	struct env *e = *state;
	char *sub;

	mk(e, "");
	mk(e, "Work");
	mk(e, "Work/Projects");
	mk(e, "Trash");
	mk(e, "NoSelect/Deep");	/* NoSelect has no cur/: not a folder */
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	assert_int_equal(md_store_layout(e->s), MD_LAYOUT_FS);
	assert_int_equal(md_store_separator(e->s), '/');
	assert_string_equal(list(e), "INBOX;NoSelect/Deep;"
				     "Trash \\Trash;Work kids;Work/Projects;");
	assert_int_equal(md_folder_create(e->s, "Caf\xc3\xa9/Men\xc3\xbc",
					  &e->err), 0);
	sub = slurp(e, "Caf&AOk-/Men&APw-/cur");	/* a directory: NULL */
	assert_null(sub);
	assert_int_equal(md_subscribe(e->s, "Caf\xc3\xa9/Men\xc3\xbc", true,
				      &e->err), 0);
	sub = slurp(e, "subscriptions");
	assert_string_equal(sub, "V\t2\n\nCaf&AOk-\tMen&APw-\n");
	free(sub);
	assert_string_equal(list(e), "INBOX;Caf\xc3\xa9/Men\xc3\xbc sub;"
				     "NoSelect/Deep;"
				     "Trash \\Trash;Work kids;Work/Projects;");
	assert_int_equal(md_folder_create(e->s, "cur", &e->err), -1);
	assert_int_equal(md_folder_create(e->s, "Work/.hidden", &e->err), -1);
	assert_int_equal(md_folder_rename(e->s, "Work", "Old/Work", &e->err), 0);
	assert_string_equal(list(e), "INBOX;Caf\xc3\xa9/Men\xc3\xbc sub;"
				     "NoSelect/Deep;"
				     "Old/Work kids;Old/Work/Projects;"
				     "Trash \\Trash;");
	assert_int_equal(md_folder_delete(e->s, "Old/Work", &e->err), -1);
	assert_string_equal(e->err.msg,
			    "Old/Work: has child folders (delete them first)");
	assert_int_equal(md_folder_delete(e->s, "Old/Work/Projects", &e->err),
			 0);
	assert_int_equal(md_folder_delete(e->s, "Old/Work", &e->err), 0);
}

static void test_create_delete_rename(void **state)
{
	struct env *e = *state;
	struct md_folder *f = NULL;
	char *text;

	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	assert_int_equal(md_folder_create(e->s, "A", &e->err), 0);
	assert_int_equal(md_folder_create(e->s, "A.B", &e->err), 0);
	assert_int_equal(md_folder_create(e->s, "T\xc3\xb6pfe", &e->err), 0);
	text = slurp(e, ".T&APY-pfe/maildirfolder");
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(md_folder_create(e->s, "A", &e->err), -1);
	assert_string_equal(e->err.msg, "A: exists already");
	assert_int_equal(e->err.code, PN_EEXIST);
	assert_int_equal(md_folder_create(e->s, "inbox", &e->err), -1);
	static const char *const bad[] = { "", ".A", "A..B", "A.", "a/b",
					   "x\x01", "\xc3" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		assert_int_equal(md_folder_create(e->s, bad[i], &e->err), -1);
		assert_int_equal(e->err.code, PN_EINVAL);
	}
	assert_string_equal(list(e), "INBOX;A kids;A.B;T\xc3\xb6pfe;");
	assert_int_equal(md_folder_delete(e->s, "A", &e->err), -1);
	assert_string_equal(e->err.msg,
			    "A: has child folders (delete them first)");
	assert_int_equal(md_folder_delete(e->s, "INBOX", &e->err), -1);
	assert_string_equal(e->err.msg, "INBOX cannot be deleted");
	assert_int_equal(md_folder_delete(e->s, "Nope", &e->err), -1);
	assert_string_equal(e->err.msg, "Nope: no such folder");
	/* rename carries the children */
	assert_int_equal(md_folder_open(e->s, "A.B", false, &f, &e->err), 0);
	md_folder_free(&f);
	assert_int_equal(md_folder_rename(e->s, "A", "Z", &e->err), 0);
	assert_string_equal(list(e), "INBOX;T\xc3\xb6pfe;Z kids;Z.B;");
	text = slurp(e, ".Z.B/dovecot-uidlist");
	assert_non_null(text);
	free(text);
	assert_int_equal(md_folder_rename(e->s, "Z", "Z.B.C", &e->err), -1);
	assert_string_equal(e->err.msg, "Z: cannot be moved into itself");
	assert_int_equal(md_folder_rename(e->s, "Z", "T\xc3\xb6pfe", &e->err),
			 -1);
	assert_int_equal(md_folder_rename(e->s, "INBOX", "X", &e->err), -1);
	assert_int_equal(md_folder_rename(e->s, "Q", "X", &e->err), -1);
	assert_string_equal(e->err.msg, "Q: no such folder");
	assert_int_equal(md_folder_delete(e->s, "Z.B", &e->err), 0);
	assert_int_equal(md_folder_delete(e->s, "Z", &e->err), 0);
	assert_string_equal(list(e), "INBOX;T\xc3\xb6pfe;");
}

/* The bytes Dovecot 2.3.19 wrote after SUBSCRIBE "T&APY-pfe/Sub" and
 * SUBSCRIBE INBOX (its namespace separator '/' became a tab). */
static void test_subscriptions(void **state)
{
	struct env *e = *state;
	char *text;

	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	assert_int_equal(md_subscribe(e->s, "T\xc3\xb6pfe.Sub", true, &e->err),
			 0);
	assert_int_equal(md_subscribe(e->s, "INBOX", true, &e->err), 0);
	assert_int_equal(md_subscribe(e->s, "inbox", true, &e->err), 0);
	text = slurp(e, "subscriptions");
	assert_string_equal(text, "V\t2\n\nT&APY-pfe\tSub\nINBOX\n");
	free(text);
	assert_int_equal(md_subscribe(e->s, "T\xc3\xb6pfe.Sub", false,
				      &e->err), 0);
	assert_int_equal(md_subscribe(e->s, "never", false, &e->err), 0);
	text = slurp(e, "subscriptions");
	assert_string_equal(text, "V\t2\n\nINBOX\n");
	free(text);
	assert_int_equal(md_subscribe(e->s, "a..b", true, &e->err), -1);
	/* an old file without a version line is read, and rewritten as v2 */
	put(e, "subscriptions", "Old.Name\n");
	assert_int_equal(md_subscribe(e->s, "New", true, &e->err), 0);
	text = slurp(e, "subscriptions");
	assert_string_equal(text, "V\t2\n\nOld\tName\nNew\n");
	free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutf7),
		T(test_open),
		T(test_maildirpp),
		T(test_fs_layout),
		T(test_create_delete_rename),
		T(test_subscriptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
