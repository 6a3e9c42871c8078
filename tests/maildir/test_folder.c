/* Tests for maildir/folder.c and deliver.c: scanning against
 * dovecot-uidlist, UIDs for new files in delivery-time order (another
 * writer's first), append (tmp/, S= W=, mtime, new/ or cur/), flag
 * changes by rename (new/ -> cur/, keywords), a rename race behind the
 * folder's back, expunge, copy, the lock held by someone else, and
 * read-only opening that writes nothing at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"
#include "../../lib/buf.h"

struct env {
	char root[64];
	struct md_store *s;
	struct md_folder *f;
	struct pn_error err;
};

static void path_of(const struct env *e, const char *rel, char *out,
		    size_t outsz)
{
	snprintf(out, outsz, "%s/%s", e->root, rel);
}

static void put(const struct env *e, const char *rel, const char *text,
		time_t mtime)
{
	char p[512];
	FILE *fp;

	path_of(e, rel, p, sizeof(p));
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
}

static char *slurp(const struct env *e, const char *rel)
{
	struct pn_buf b;
	struct pn_error err;
	char p[512];

	path_of(e, rel, p, sizeof(p));
	if (md_read_file(p, &b, &err) != 0)
		return NULL;
	return pn_buf_take(&b, NULL);
}

static bool exists(const struct env *e, const char *rel)
{
	char p[512];

	path_of(e, rel, p, sizeof(p));
	return access(p, F_OK) == 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	strcpy(e->root, "/tmp/pn-folder-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, false, &e->s,
				       &e->err), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	md_folder_free(&e->f);
	md_store_free(&e->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static void open_inbox(struct env *e, bool ro)
{
	md_folder_free(&e->f);
	if (md_folder_open(e->s, "INBOX", ro, &e->f, &e->err) < 0)
		fail_msg("open: %s", e->err.msg);
}

static uint32_t append(struct env *e, const char *text, unsigned flags,
		       const char *const *kw, size_t nkw, time_t received)
{
	struct md_append a = { .data = text, .size = strlen(text),
			       .flags = flags, .keywords = kw,
			       .nkeywords = nkw, .received = received };
	uint32_t uid = 0;

	if (md_folder_append(e->f, &a, &uid, &e->err) < 0)
		fail_msg("append: %s", e->err.msg);
	return uid;
}

static void test_empty_gets_uidlist(void **state)
{
	struct env *e = *state;
	char *ul;
	unsigned v = 0, n = 0;
	char g[64] = "";
	time_t now = time(NULL);

	open_inbox(e, false);
	assert_int_equal(md_folder_count(e->f), 0);
	assert_int_equal(md_folder_uidnext(e->f), 1);
	ul = slurp(e, "dovecot-uidlist");
	assert_non_null(ul);
	assert_int_equal(sscanf(ul, "3 V%u N%u G%63s", &v, &n, g), 3);
	assert_true(v >= (unsigned)now - 2 && v <= (unsigned)now + 2);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(g), 32);
	assert_int_equal(md_folder_uidvalidity(e->f), v);
	free(ul);
	assert_false(exists(e, "dovecot-uidlist.lock"));
}

/* A folder as Dovecot left it: UIDs come from the list, not the order. */
static void test_reads_dovecot_folder(void **state)
{
	struct env *e = *state;
	const struct md_message *m;

	put(e, "dovecot-uidlist",
	    "3 V1795627190 N3 Gb6316634b618076bca5b000083ecc375\n"
	    "1 :1795627190.M892404P23498.vm,S=28,W=32\n"
	    "2 :1795627190.M902925P23498.vm,S=28,W=32\n"
	    "3 :1795627190.M904539P23498.vm,S=28,W=32\n", 0);
	put(e, "dovecot-keywords", "0 $Forwarded\n1 foo\n2 bar\n3 baz\n", 0);
	put(e, "cur/1795627190.M892404P23498.vm,S=28,W=32:2,Sab",
	    "From: a@b\nSubject: hi\n\nbody\n", 1700000000);
	put(e, "cur/1795627190.M904539P23498.vm,S=28,W=32:2,DFRc",
	    "From: a@b\nSubject: hi\n\nbody\n", 0);
	open_inbox(e, false);
	assert_int_equal(md_folder_uidvalidity(e->f), 1795627190u);
	assert_int_equal(md_folder_count(e->f), 2);
	assert_int_equal(md_folder_uidnext(e->f), 4);
	m = md_folder_message(e->f, 0);
	assert_int_equal(m->uid, 1);
	assert_int_equal(m->flags, MD_FLAG_SEEN);
	assert_int_equal(m->nkeywords, 2);
	assert_string_equal(m->keywords[0], "$Forwarded");
	assert_string_equal(m->keywords[1], "foo");
	assert_int_equal(m->size, 28);
	assert_int_equal(m->received, 1700000000);
	m = md_folder_by_uid(e->f, 3);
	assert_non_null(m);
	assert_int_equal(m->flags,
			 MD_FLAG_DRAFT | MD_FLAG_FLAGGED | MD_FLAG_REPLIED);
	assert_int_equal(m->nkeywords, 1);
	assert_string_equal(m->keywords[0], "bar");
	assert_null(md_folder_by_uid(e->f, 2));
	assert_null(md_folder_message(e->f, 2));
	/* the expunged UID 2 is dropped only when something is written */
}

/* Older Dovecots wrote whole file names ("the last known file name") into
 * the uidlist: a file whose flags changed since keeps its UID. */
static void test_uidlist_with_old_names(void **state)
{
	struct env *e = *state;

	put(e, "dovecot-uidlist", "3 V9 N30\n"
				  "25006 :1.M1P1.k,S=2,W=3:2,\n"
				  "25017 W2481 :2.M1P1.k:2,F\n", 0);
	put(e, "cur/1.M1P1.k,S=2,W=3:2,RS", "a\n", 0);
	put(e, "cur/2.M1P1.k:2,", "b\n", 0);
	open_inbox(e, false);
	assert_int_equal(md_folder_count(e->f), 2);
	assert_int_equal(md_folder_message(e->f, 0)->uid, 25006);
	assert_int_equal(md_folder_message(e->f, 1)->uid, 25017);
	assert_int_equal(md_folder_uidnext(e->f), 25018);	/* N30 lags */
	assert_null(slurp(e, "dovecot-uidlist.lock"));
	/* rewritten as Dovecot would: with a GUID, UIDs and names kept */
	char *ul = slurp(e, "dovecot-uidlist"), g[40] = "";

	assert_int_equal(sscanf(ul, "3 V9 N25018 G%39s\n", g), 1);
	assert_int_equal(strspn(g, "0123456789abcdef"), 32);
	assert_non_null(strstr(ul, "\n25006 :1.M1P1.k,S=2,W=3\n"
				   "25017 W2481 :2.M1P1.k\n"));
	free(ul);
}

/* Files without a UID get them in delivery-time order, not readdir's. */
static void test_new_files_time_order(void **state)
{
	struct env *e = *state;
	char *ul;

	put(e, "dovecot-uidlist", "3 V42 N8 G0123456789abcdef0123456789abcdef\n7 :1000.M5P1.h\n", 0);
	put(e, "cur/1000.M5P1.h:2,S", "a\n", 0);
	put(e, "new/1000.M20P1.h", "c\n", 0);
	put(e, "new/1000.M3P1.h", "b\n", 0);
	put(e, "cur/999.M999999P1.h:2,", "z\n", 0);
	put(e, "new/.hidden", "x\n", 0);
	open_inbox(e, false);
	assert_int_equal(md_folder_count(e->f), 4);
	ul = slurp(e, "dovecot-uidlist");
	assert_string_equal(ul, "3 V42 N11 G0123456789abcdef0123456789abcdef\n"
				"7 :1000.M5P1.h\n"
				"8 :999.M999999P1.h\n"
				"9 :1000.M3P1.h\n"
				"10 :1000.M20P1.h\n");
	free(ul);
	assert_true(md_folder_message(e->f, 3)->in_new);
}

/* One message under one key twice (new/ and cur/, a crashed mover of
 * another program): one UID, the file in cur/ with its flags. */
static void test_duplicate_key(void **state)
{
	struct env *e = *state;
	char *ul;

	put(e, "new/5.M1P1.h", "x\n", 0);
	put(e, "cur/5.M1P1.h:2,S", "x\n", 0);
	open_inbox(e, false);
	assert_int_equal(md_folder_count(e->f), 1);
	assert_string_equal(md_folder_message(e->f, 0)->filename,
			    "5.M1P1.h:2,S");
	ul = slurp(e, "dovecot-uidlist");
	assert_non_null(strstr(ul, "\n1 :5.M1P1.h\n"));
	assert_null(strstr(ul, "\n2 :"));
	free(ul);
}

/* A uidlist naming one file twice (Dovecot renumbered it and kept the
 * old line): the later UID is the message's, as Dovecot reads it, and
 * the rewritten list names the file once. */
static void collect_warning(void *ctx, const char *msg)
{
	assert_int_equal(pn_buf_printf(ctx, "%s\n", msg), 0);
}

static void test_uidlist_names_file_twice(void **state)
{
	struct env *e = *state;
	struct pn_buf warned;
	char *ul;

	put(e, "dovecot-uidlist", "3 V7 N9 G0123456789abcdef0123456789abcdef\n"
				  "2 :1.M1P1.h,S=2\n"
				  "3 :2.M1P1.h\n"
				  "5 :1.M1P1.h,S=2\n"
				  "6 :3.M1P1.h\n"
				  "7 :2.M1P1.h\n"
				  "8 :2.M1P1.h\n", 0);
	put(e, "cur/1.M1P1.h,S=2:2,S", "a\n", 0);
	put(e, "cur/2.M1P1.h:2,", "b\n", 0);
	put(e, "cur/3.M1P1.h:2,F", "c\n", 0);
	pn_buf_init(&warned, 0);
	md_store_set_warn(e->s, collect_warning, &warned);
	open_inbox(e, false);
	md_store_set_warn(e->s, NULL, NULL);
	/* each duplicate said (the look before the lock and the read under
	 * it may both say it) */
	assert_non_null(strstr(pn_buf_cstr(&warned), ": dovecot-uidlist names "
			       "1.M1P1.h,S=2 twice (UIDs 2 and 5): UID 5 is "
			       "the message's, as in Dovecot\n"));
	assert_non_null(strstr(pn_buf_cstr(&warned), "2.M1P1.h twice (UIDs 3 "
			       "and 7): UID 7"));
	assert_non_null(strstr(pn_buf_cstr(&warned), "2.M1P1.h twice (UIDs 7 "
			       "and 8): UID 8"));
	pn_buf_free(&warned);
	assert_int_equal(md_folder_count(e->f), 3);
	assert_int_equal(md_folder_message(e->f, 0)->uid, 5);
	assert_string_equal(md_folder_message(e->f, 0)->filename,
			    "1.M1P1.h,S=2:2,S");
	assert_int_equal(md_folder_message(e->f, 1)->uid, 6);
	assert_int_equal(md_folder_message(e->f, 2)->uid, 8);
	assert_string_equal(md_folder_by_uid(e->f, 8)->filename, "2.M1P1.h:2,");
	assert_null(md_folder_by_uid(e->f, 2));
	assert_null(md_folder_by_uid(e->f, 7));
	assert_int_equal(md_folder_uidnext(e->f), 9);
	ul = slurp(e, "dovecot-uidlist");
	assert_string_equal(ul, "3 V7 N9 G0123456789abcdef0123456789abcdef\n"
				"5 :1.M1P1.h,S=2\n"
				"6 :3.M1P1.h\n"
				"8 :2.M1P1.h\n");
	free(ul);
}

static void test_append(void **state)
{
	struct env *e = *state;
	const char *kw[] = { "$Forwarded", "work" };
	const struct md_message *m;
	char name[300], rel[400], *text, *ul;
	struct stat st;
	uint32_t uid;

	open_inbox(e, false);
	uid = append(e, "Subject: a\n\nbody\n", 0, NULL, 0, 1600000000);
	assert_int_equal(uid, 1);
	m = md_folder_by_uid(e->f, 1);
	assert_true(m->in_new);
	assert_null(strchr(m->filename, ':'));
	/* S= bytes on disk, W= with CRLF: 3 LFs */
	assert_non_null(strstr(m->filename, ",S=17,W=20"));
	assert_int_equal(m->size, 17);
	assert_int_equal(m->received, 1600000000);
	snprintf(rel, sizeof(rel), "new/%s", m->filename);
	text = slurp(e, rel);
	assert_string_equal(text, "Subject: a\n\nbody\n");
	free(text);

	uid = append(e, "X: y\r\n\r\n", MD_FLAG_SEEN | MD_FLAG_FLAGGED, kw, 2, 0);
	assert_int_equal(uid, 2);
	m = md_folder_by_uid(e->f, 2);
	assert_false(m->in_new);
	snprintf(name, sizeof(name), "%s", m->filename);
	assert_non_null(strstr(name, ",S=8,W=8:2,FSab"));
	assert_int_equal(m->nkeywords, 2);
	snprintf(rel, sizeof(rel), "%s/cur/%s", e->root, name);
	assert_int_equal(stat(rel, &st), 0);
	assert_true(time(NULL) - st.st_mtime < 5);	/* received 0: now */
	text = slurp(e, "dovecot-keywords");
	assert_string_equal(text, "0 $Forwarded\n1 work\n");
	free(text);
	ul = slurp(e, "dovecot-uidlist");
	assert_non_null(strstr(ul, " N3 "));
	free(ul);
	/* tmp/ is left empty, the lock is gone */
	DIR *d;
	struct dirent *de;
	int n = 0;

	path_of(e, "tmp", rel, sizeof(rel));
	d = opendir(rel);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);
	assert_false(exists(e, "dovecot-uidlist.lock"));
}

static void test_append_from_fd(void **state)
{
	struct env *e = *state;
	struct md_append a = { 0 };
	char big[100000];
	uint32_t uid;
	int fds[2];
	const struct md_message *m;

	open_inbox(e, false);
	memset(big, 'x', sizeof(big));
	for (size_t i = 99; i < sizeof(big); i += 100)
		big[i] = '\n';
	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		if (write(fds[1], big, sizeof(big)) != (ssize_t)sizeof(big))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	a.fd = fds[0];
	a.flags = MD_FLAG_SEEN;
	assert_int_equal(md_folder_append(e->f, &a, &uid, &e->err), 0);
	close(fds[0]);
	m = md_folder_by_uid(e->f, uid);
	assert_non_null(strstr(m->filename, ",S=100000,W=101000:2,S"));
	assert_int_equal(m->size, 100000);
}

/* Another writer delivered while we were writing: its file gets its UID
 * before ours, as Dovecot would number them. */
static void test_append_after_other_writer(void **state)
{
	struct env *e = *state;
	uint32_t uid;

	open_inbox(e, false);
	put(e, "new/2000000000.M1P1.other", "theirs\n", 0);
	uid = append(e, "ours\n", 0, NULL, 0, 0);
	assert_int_equal(uid, 2);
	assert_string_equal(md_folder_by_uid(e->f, 1)->filename,
			    "2000000000.M1P1.other");
	assert_int_equal(md_folder_count(e->f), 2);
}

static void test_set_flags(void **state)
{
	struct env *e = *state;
	const char *kw[] = { "todo", "later" }, *rm[] = { "todo", "never" };
	const struct md_message *m;
	char rel[400];

	open_inbox(e, false);
	append(e, "a\n", 0, NULL, 0, 0);
	m = md_folder_by_uid(e->f, 1);
	assert_true(m->in_new);
	/* no change at all still moves new/ -> cur/ */
	assert_int_equal(md_message_set_flags(e->f, 1, 0, 0, NULL, 0, NULL, 0,
					      &e->err), 0);
	m = md_folder_by_uid(e->f, 1);
	assert_false(m->in_new);
	assert_non_null(strstr(m->filename, ":2,"));
	assert_string_equal(strstr(m->filename, ":2,"), ":2,");
	assert_int_equal(md_message_set_flags(e->f, 1,
					      MD_FLAG_SEEN | MD_FLAG_REPLIED, 0,
					      kw, 2, NULL, 0, &e->err), 0);
	m = md_folder_by_uid(e->f, 1);
	assert_string_equal(strstr(m->filename, ":2,"), ":2,RSab");
	assert_int_equal(m->flags, MD_FLAG_SEEN | MD_FLAG_REPLIED);
	assert_int_equal(m->nkeywords, 2);
	assert_int_equal(md_message_set_flags(e->f, 1, MD_FLAG_TRASHED,
					      MD_FLAG_REPLIED, NULL, 0, rm, 2,
					      &e->err), 0);
	m = md_folder_by_uid(e->f, 1);
	assert_string_equal(strstr(m->filename, ":2,"), ":2,STb");
	assert_int_equal(m->nkeywords, 1);
	assert_string_equal(m->keywords[0], "later");
	snprintf(rel, sizeof(rel), "cur/%s", m->filename);
	assert_true(exists(e, rel));
	/* "never" was not created by removing it */
	char *kwf = slurp(e, "dovecot-keywords");

	assert_string_equal(kwf, "0 todo\n1 later\n");
	free(kwf);
	assert_int_equal(md_message_set_flags(e->f, 9, MD_FLAG_SEEN, 0, NULL, 0,
					      NULL, 0, &e->err), -1);
	assert_string_equal(e->err.msg, "UID 9: no such message");
	/* the UIDs did not change, nor did a rescan find anything new */
	bool changed = true;

	assert_int_equal(md_folder_rescan(e->f, &changed, &e->err), 0);
	assert_false(changed);
}

/* Unknown info letters of another program survive our flag change. */
static void test_set_flags_keeps_unknown(void **state)
{
	struct env *e = *state;

	put(e, "cur/1.M1P1.h,S=2:2,SX", "a\n", 0);
	open_inbox(e, false);
	assert_int_equal(md_message_set_flags(e->f, 1, MD_FLAG_FLAGGED, 0,
					      NULL, 0, NULL, 0, &e->err), 0);
	assert_true(exists(e, "cur/1.M1P1.h,S=2:2,FSX"));
}

/* Another program renames the file (new flags) behind the folder's back:
 * set_flags starts from ITS flags, message_open still finds the file. */
static void test_rename_race(void **state)
{
	struct env *e = *state;
	const struct md_message *m;
	char a[512], b[512], buf[16];
	int fd;
	ssize_t n;

	put(e, "cur/1.M1P1.h,S=6:2,S", "hello\n", 0);
	put(e, "new/1.M2P1.h", "world\n", 0);
	open_inbox(e, false);
	path_of(e, "cur/1.M1P1.h,S=6:2,S", a, sizeof(a));
	path_of(e, "cur/1.M1P1.h,S=6:2,RS", b, sizeof(b));
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(md_message_open(e->f, 1, &fd, &e->err), 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "hello\n", 6);
	m = md_folder_by_uid(e->f, 1);
	assert_string_equal(m->filename, "1.M1P1.h,S=6:2,RS");
	/* again, then set flags: R (theirs) and F (ours) both survive */
	path_of(e, "cur/1.M1P1.h,S=6:2,DRS", a, sizeof(a));
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(md_message_set_flags(e->f, 1, MD_FLAG_FLAGGED, 0,
					      NULL, 0, NULL, 0, &e->err), 0);
	assert_true(exists(e, "cur/1.M1P1.h,S=6:2,DFRS"));
	/* new/ -> cur/ by someone else */
	path_of(e, "new/1.M2P1.h", a, sizeof(a));
	path_of(e, "cur/1.M2P1.h:2,S", b, sizeof(b));
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(md_message_set_flags(e->f, 2, MD_FLAG_FLAGGED, 0,
					      NULL, 0, NULL, 0, &e->err), 0);
	assert_true(exists(e, "cur/1.M2P1.h:2,FS"));
	/* gone for good: a clear error, no crash */
	path_of(e, "cur/1.M2P1.h:2,FS", a, sizeof(a));
	assert_int_equal(unlink(a), 0);
	assert_int_equal(md_message_open(e->f, 2, &fd, &e->err), -1);
	assert_string_equal(e->err.msg, "UID 2: the message is gone (1.M2P1.h "
					"expunged by another program)");
	assert_int_equal(e->err.code, PN_ENOTFOUND);
	/* the next sync gives its record up, and counts it */
	assert_int_equal(e->f->records_gone, 0);
	assert_int_equal(md_folder_rescan(e->f, NULL, &e->err), 0);
	assert_int_equal(e->f->records_gone, 1);
	assert_null(md_folder_by_uid(e->f, 2));
}

/* Renames flags back and forth in cur/ until *stop (shared memory) is
 * set, the way Dovecot or mutt flag messages behind our back; exits with
 * 0 when it renamed anything. */
static void renamer(const char *cur, volatile int *stop)
{
	unsigned long renamed = 0;

	while (!*stop) {
		DIR *d = opendir(cur);
		struct dirent *de;

		if (!d)
			_exit(2);
		while ((de = readdir(d)) && !*stop) {
			char from[1024], to[1024], *info;

			if (!(info = strstr(de->d_name, ":2,")))
				continue;
			snprintf(from, sizeof(from), "%s/%s", cur, de->d_name);
			snprintf(to, sizeof(to), "%s/%.*s:2,%s", cur,
				 (int)(info - de->d_name), de->d_name,
				 strchr(info, 'F') ? "S" : "FS");
			if (rename(from, to) == 0)
				renamed++;
		}
		closedir(d);
	}
	_exit(renamed ? 0 : 1);
}

/* readdir misses a file that is renamed meanwhile often enough; a record
 * dropped for it would be a message another reader numbers again.  With
 * another process renaming all the time, every sync (with writes, from
 * appends) must still see every message under its first UID. */
static void test_sync_under_renamer(void **state)
{
	enum { N = 1500 };
	struct env *e = *state;
	char cur[512];
	volatile int *stop;
	int status, syncs = 0;
	uint32_t next;
	struct timespec t0, t;
	pid_t pid;

	for (int i = 0; i < N; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "cur/%d.M%dP1.h,S=6:2,S", 1000 + i,
			 i);
		put(e, rel, "hello\n", 1000 + i);
	}
	open_inbox(e, false);
	assert_int_equal(md_folder_count(e->f), N);
	next = md_folder_uidnext(e->f);
	assert_int_equal(next, N + 1);
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(stop != MAP_FAILED);
	*stop = 0;
	path_of(e, "cur", cur, sizeof(cur));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		renamer(cur, stop);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		bool changed;

		if (syncs % 4 == 3)
			next = append(e, "new one\n", 0, NULL, 0, 0) + 1;
		else if (md_folder_rescan(e->f, &changed, &e->err) < 0)
			fail_msg("rescan: %s", e->err.msg);
		syncs++;
		if (md_folder_count(e->f) != N + (size_t)syncs / 4)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 2);
	*stop = 1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(md_folder_count(e->f), N + (size_t)syncs / 4);
	assert_int_equal(e->f->records_gone, 0);
	/* no message numbered twice: the next UID is the appends' only */
	assert_int_equal(md_folder_uidnext(e->f), next);
	assert_int_equal(next, N + 1 + syncs / 4);
	for (uint32_t uid = 1; uid <= N; uid++) {
		const struct md_message *m = md_folder_by_uid(e->f, uid);

		assert_non_null(m);
		assert_int_equal(strtol(m->filename, NULL, 10), 999 + uid);
	}
	munmap((void *)stop, sizeof(*stop));
}

static void test_expunge(void **state)
{
	struct env *e = *state;
	uint32_t uids[] = { 1, 3 };
	char *ul;

	open_inbox(e, false);
	append(e, "1\n", 0, NULL, 0, 0);
	append(e, "2\n", MD_FLAG_SEEN, NULL, 0, 0);
	append(e, "3\n", 0, NULL, 0, 0);
	assert_int_equal(md_folder_expunge(e->f, uids, 2, &e->err), 0);
	assert_int_equal(md_folder_count(e->f), 1);
	assert_int_equal(md_folder_message(e->f, 0)->uid, 2);
	assert_int_equal(md_folder_uidnext(e->f), 4);
	ul = slurp(e, "dovecot-uidlist");
	assert_non_null(strstr(ul, " N4 "));
	assert_null(strstr(ul, "\n1 :"));
	assert_non_null(strstr(ul, "\n2 :"));
	assert_null(strstr(ul, "\n3 :"));
	free(ul);
	uids[0] = 7;
	assert_int_equal(md_folder_expunge(e->f, uids, 1, &e->err), -1);
	assert_string_equal(e->err.msg, "UID 7: no such message");
	/* the next append does not reuse UID 3 */
	assert_int_equal(append(e, "4\n", 0, NULL, 0, 0), 4);
}

static void test_copy(void **state)
{
	struct env *e = *state;
	const char *kw[] = { "b" };
	struct md_folder *dst = NULL;
	const struct md_message *m;
	struct stat s1, s2;
	char p1[512], p2[512];
	uint32_t uid = 0;

	assert_int_equal(md_folder_create(e->s, "Archive", &e->err), 0);
	assert_int_equal(md_folder_open(e->s, "Archive", false, &dst, &e->err),
			 0);
	/* the destination already maps keyword "b" to another letter */
	put(e, ".Archive/dovecot-keywords", "0 z\n1 b\n", 0);
	assert_int_equal(md_folder_rescan(dst, NULL, &e->err), 0);
	open_inbox(e, false);
	append(e, "copy me\n", MD_FLAG_SEEN, kw, 1, 1500000000);
	assert_int_equal(md_folder_copy(e->f, 1, dst, &uid, &e->err), 0);
	assert_int_equal(uid, 1);
	m = md_folder_by_uid(dst, 1);
	assert_int_equal(m->flags, MD_FLAG_SEEN);
	assert_int_equal(m->nkeywords, 1);
	assert_string_equal(m->keywords[0], "b");
	assert_string_equal(strstr(m->filename, ":2,"), ":2,Sb");
	assert_string_equal(strstr(md_folder_by_uid(e->f, 1)->filename, ":2,"),
			    ":2,Sa");
	assert_int_equal(m->received, 1500000000);
	snprintf(p1, sizeof(p1), "%s/cur/%s", e->root,
		 md_folder_by_uid(e->f, 1)->filename);
	snprintf(p2, sizeof(p2), "%s/.Archive/cur/%s", e->root, m->filename);
	assert_int_equal(stat(p1, &s1), 0);
	assert_int_equal(stat(p2, &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);	/* a hard link */
	assert_int_equal(md_folder_copy(e->f, 5, dst, &uid, &e->err), -1);
	md_folder_free(&dst);
}

/* Another file system (no hard link possible): the bytes are copied,
 * with flags, keywords and the received time. */
static void test_copy_other_fs(void **state)
{
	struct env *e = *state;
	const char *kw[] = { "far" };
	char other[] = "/dev/shm/pn-folder-XXXXXX", cmd[128], p1[512],
	     p2[512];
	struct md_store *s2 = NULL;
	struct md_folder *dst = NULL;
	const struct md_message *m;
	struct stat s1, st2;
	uint32_t uid = 0;

	if (!mkdtemp(other))
		skip();
	assert_int_equal(md_store_open(other, MD_LAYOUT_AUTO, false, &s2,
				       &e->err), 0);
	assert_int_equal(md_folder_open(s2, "INBOX", false, &dst, &e->err), 0);
	open_inbox(e, false);
	append(e, "far away\n", MD_FLAG_FLAGGED, kw, 1, 1400000000);
	if (md_folder_copy(e->f, 1, dst, &uid, &e->err) < 0)
		fail_msg("copy: %s", e->err.msg);
	assert_int_equal(uid, 1);
	m = md_folder_by_uid(dst, 1);
	assert_int_equal(m->flags, MD_FLAG_FLAGGED);
	assert_int_equal(m->nkeywords, 1);
	assert_string_equal(m->keywords[0], "far");
	assert_int_equal(m->received, 1400000000);
	assert_int_equal(m->size, 9);
	snprintf(p1, sizeof(p1), "%s/cur/%s", e->root,
		 md_folder_by_uid(e->f, 1)->filename);
	snprintf(p2, sizeof(p2), "%s/cur/%s", other, m->filename);
	assert_int_equal(stat(p1, &s1), 0);
	assert_int_equal(stat(p2, &st2), 0);
	assert_int_not_equal(s1.st_dev, st2.st_dev);
	assert_int_equal(st2.st_size, 9);
	md_folder_free(&dst);
	md_store_free(&s2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other);
	assert_int_equal(system(cmd), 0);
}

/* Someone holds dovecot-uidlist.lock: a write waits, then says so. */
static void test_lock_held(void **state)
{
	struct env *e = *state;
	struct md_append a = { .data = "x\n", .size = 2 };
	char expect[300];
	uint32_t uid;

	open_inbox(e, false);
	md_store_set_lock_timeout(e->s, 1100);
	put(e, "dovecot-uidlist.lock", "", time(NULL) - 10);
	assert_int_equal(md_folder_append(e->f, &a, &uid, &e->err), -1);
	snprintf(expect, sizeof(expect),
		 "%s/dovecot-uidlist is locked by another process "
		 "(dovecot-uidlist.lock, 1 s)", e->root);
	assert_string_equal(e->err.msg, expect);
	/* nothing was delivered (the file waits in tmp/ for the lock) */
	assert_int_equal(md_folder_rescan(e->f, NULL, &e->err), 0);
	assert_int_equal(md_folder_count(e->f), 0);
	assert_int_equal(rmdir(strcat(strcpy(expect, e->root), "/tmp")), 0);
	assert_int_equal(mkdir(expect, 0700), 0);
	/* a stale lock (2 minutes untouched) is taken over */
	put(e, "dovecot-uidlist.lock", "", time(NULL) - 200);
	assert_int_equal(md_folder_append(e->f, &a, &uid, &e->err), 0);
	assert_int_equal(uid, 1);
	assert_false(exists(e, "dovecot-uidlist.lock"));
}

/* ---- read-only ---------------------------------------------------------- */

static void listing(const char *dir, struct pn_buf *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char p[1024];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		assert_int_equal(lstat(p, &st), 0);
		names = realloc(names, (n + 1) * sizeof(*names));
		assert_int_equal(asprintf(&names[n++], "%s %lld.%09ld %lld", p,
					  (long long)st.st_mtim.tv_sec,
					  st.st_mtim.tv_nsec,
					  (long long)st.st_size) < 0, 0);
		if (S_ISDIR(st.st_mode))
			listing(p, out);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
		assert_int_equal(pn_buf_printf(out, "%s\n", names[i]), 0);
		free(names[i]);
	}
	free(names);
}

static void test_read_only_writes_nothing(void **state)
{
	struct env *e = *state;
	struct pn_buf before, after;
	struct md_append a = { .data = "x\n", .size = 2 };
	const char *kw[] = { "new-keyword" };
	struct md_store *ro = NULL;
	uint32_t uid, uids[] = { 1 };
	int fd;

	/* no uidlist, files in new/ and cur/, one with an unknown keyword */
	put(e, "cur/1.M1P1.h:2,Sa", "a\n", 1000);
	put(e, "new/2.M1P1.h", "b\n", 2000);
	put(e, "dovecot-keywords", "0 k\n", 3000);
	pn_buf_init(&before, 0);
	pn_buf_init(&after, 0);
	listing(e->root, &before);
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, true, &ro,
				       &e->err), 0);
	assert_int_equal(md_folder_open(ro, "INBOX", false, &e->f, &e->err), 0);
	/* UIDs in memory only, stable across a rescan */
	assert_int_equal(md_folder_count(e->f), 2);
	assert_int_equal(md_folder_message(e->f, 0)->uid, 1);
	assert_int_equal(md_folder_message(e->f, 1)->uid, 2);
	assert_string_equal(md_folder_message(e->f, 0)->keywords[0], "k");
	assert_int_equal(md_folder_rescan(e->f, NULL, &e->err), 0);
	assert_int_equal(md_folder_message(e->f, 1)->uid, 2);
	assert_string_equal(md_folder_message(e->f, 1)->filename,
			    "2.M1P1.h");
	assert_int_equal(md_message_open(e->f, 2, &fd, &e->err), 0);
	close(fd);
	/* every write is refused with the same words */
	assert_int_equal(md_folder_append(e->f, &a, &uid, &e->err), -1);
	assert_non_null(strstr(e->err.msg, ": opened read-only"));
	assert_int_equal(md_message_set_flags(e->f, 1, MD_FLAG_FLAGGED, 0, kw,
					      1, NULL, 0, &e->err), -1);
	assert_int_equal(md_folder_expunge(e->f, uids, 1, &e->err), -1);
	assert_int_equal(md_folder_create(ro, "X", &e->err), -1);
	assert_int_equal(md_subscribe(ro, "INBOX", true, &e->err), -1);
	md_folder_free(&e->f);
	/* a read-only folder of a read-write store as well */
	assert_int_equal(md_folder_open(e->s, "INBOX", true, &e->f, &e->err), 0);
	assert_int_equal(md_folder_count(e->f), 2);
	md_folder_free(&e->f);
	listing(e->root, &after);
	assert_string_equal(pn_buf_cstr(&after), pn_buf_cstr(&before));
	pn_buf_free(&before);
	pn_buf_free(&after);
	md_store_free(&ro);
	/* read-only on a missing directory: not created */
	assert_int_equal(md_store_open("/tmp/pn-no-such-dir-xyz", MD_LAYOUT_AUTO,
				       true, &ro, &e->err), -1);
	assert_string_equal(e->err.msg, "/tmp/pn-no-such-dir-xyz: not a Maildir "
					"(no cur/ new/ tmp/)");
	assert_int_equal(access("/tmp/pn-no-such-dir-xyz", F_OK), -1);
}

/* A delivery that died 36 hours ago leaves tmp/ on the next read-write
 * open (the Maildir spec's rule); a fresh one stays; read-only keeps all. */
static void test_tmp_cleanup(void **state)
{
	struct env *e = *state;

	put(e, "tmp/old.M1P1.h", "x", time(NULL) - 37 * 3600);
	put(e, "tmp/fresh.M1P1.h", "x", time(NULL) - 35 * 3600);
	open_inbox(e, true);
	assert_true(exists(e, "tmp/old.M1P1.h"));
	open_inbox(e, false);
	assert_false(exists(e, "tmp/old.M1P1.h"));
	assert_true(exists(e, "tmp/fresh.M1P1.h"));
}

static void test_bad_uidlist(void **state)
{
	struct env *e = *state;
	char expect[300];

	put(e, "dovecot-uidlist", "3 V1 N1\n1 :a\nbad\n", 0);
	assert_int_equal(md_folder_open(e->s, "INBOX", false, &e->f, &e->err),
			 -1);
	snprintf(expect, sizeof(expect), "%s/dovecot-uidlist:3: bad UID line",
		 e->root);
	assert_string_equal(e->err.msg, expect);
	assert_null(e->f);
	assert_int_equal(md_folder_open(e->s, "Nope", false, &e->f, &e->err),
			 -1);
	snprintf(expect, sizeof(expect),
		 "%s/.Nope: no such folder (no cur/ new/ tmp/)", e->root);
	assert_string_equal(e->err.msg, expect);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty_gets_uidlist),
		T(test_reads_dovecot_folder),
		T(test_uidlist_with_old_names),
		T(test_new_files_time_order),
		T(test_duplicate_key),
		T(test_uidlist_names_file_twice),
		T(test_append),
		T(test_append_from_fd),
		T(test_append_after_other_writer),
		T(test_set_flags),
		T(test_set_flags_keeps_unknown),
		T(test_rename_race),
		T(test_sync_under_renamer),
		T(test_expunge),
		T(test_copy),
		T(test_copy_other_fs),
		T(test_lock_held),
		T(test_read_only_writes_nothing),
		T(test_tmp_cleanup),
		T(test_bad_uidlist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
