/* Tests for maildir/uidlist.c: dovecot-uidlist as Dovecot writes it
 * (bytes captured from Dovecot 2.3.19), version 1, extension fields kept,
 * errors with file and line in one table with the valid inputs, and the
 * dotlock: a held lock times out with the documented message, a stale
 * one (mtime older than 2 minutes) is overridden. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Written by Dovecot 2.3.19 after three APPENDs: note N3 although UID 3
 * is listed (records are appended without rewriting the header). */
static const char dovecot_file[] =
	"3 V1795627190 N3 Gb6316634b618076bca5b000083ecc375\n"
	"1 :1795627190.M892404P23498.vm,S=28,W=32\n"
	"2 :1795627190.M902925P23498.vm,S=28,W=32\n"
	"3 :1795627190.M904539P23498.vm,S=28,W=32\n";

/* The same list as we write it (the header's N brought up to date). */
static const char dovecot_rewritten[] =
	"3 V1795627190 N4 Gb6316634b618076bca5b000083ecc375\n"
	"1 :1795627190.M892404P23498.vm,S=28,W=32\n"
	"2 :1795627190.M902925P23498.vm,S=28,W=32\n"
	"3 :1795627190.M904539P23498.vm,S=28,W=32\n";

static void test_dovecot_file(void **state)
{
	struct md_uidlist ul = { 0 };
	struct pn_error err;
	struct pn_buf b;

	(void)state;
	assert_int_equal(md_uidlist_parse(dovecot_file, strlen(dovecot_file),
					  "x", &ul, &err), 0);
	assert_int_equal(ul.version, 3);
	assert_int_equal(ul.uidvalidity, 1795627190u);
	assert_int_equal(ul.next_uid, 4);
	assert_string_equal(ul.guid, "b6316634b618076bca5b000083ecc375");
	assert_null(ul.extra_hdr);
	assert_int_equal(ul.n, 3);
	assert_int_equal(ul.recs[2].uid, 3);
	assert_string_equal(ul.recs[2].key,
			    "1795627190.M904539P23498.vm,S=28,W=32");
	assert_null(ul.recs[2].ext);
	pn_buf_init(&b, 0);
	assert_int_equal(md_uidlist_format(&ul, &b), 0);
	assert_string_equal(pn_buf_cstr(&b), dovecot_rewritten);
	pn_buf_free(&b);
	md_uidlist_clear(&ul);
}

/* in: a file; out: what we write back (NULL: in itself); error: the
 * exact message for a file named "/m/.Sent/dovecot-uidlist". */
static const struct {
	const char *in, *out, *error;
	uint32_t uidvalidity, next_uid;
	size_t n;
} cases[] = {
	{ "3 V5 N7 G0123456789abcdef0123456789abcdef\n", NULL, NULL, 5, 7, 0 },
	/* no GUID: read (Dovecot adds one when it rewrites) */
	{ "3 V5 N7\n", NULL, NULL, 5, 7, 0 },
	/* extension fields and unknown header fields are kept */
	{ "3 V5 N9 G0123456789abcdef0123456789abcdef X1 Y\n4 S100 W104 :k1\n8 K1 :k2,S=3\n",
	  NULL, NULL, 5, 9, 2 },
	{ "3 N2 G0123456789ABCDEF0123456789ABCDEF V9\n1 :a\n",
	  "3 V9 N2 G0123456789ABCDEF0123456789ABCDEF\n1 :a\n", NULL, 9, 2, 1 },
	/* header N below the last UID: the larger wins */
	{ "3 V5 N1\n7 :a\n", "3 V5 N8\n7 :a\n", NULL, 5, 8, 1 },
	/* blank lines are skipped; no final newline */
	{ "3 V5 N2\n\n1 :a", "3 V5 N2\n1 :a\n", NULL, 5, 2, 1 },
	/* a key may hold spaces after the ':' */
	{ "3 V5 N2\n1 :a b\n", NULL, NULL, 5, 2, 1 },
	/* Dovecot's documented example: the key is "the last known file
	 * name", flags included; W2481 is an extension field */
	{ "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
	  "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
	  "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n",
	  "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
	  "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394\n"
	  "25017 W2481 :1276533073.M242911P3632.kurkku\n", NULL,
	  1275660208u, 25022, 2 },
	/* version 1 */
	{ "1 77 5\n1 x.host:2,S\n3 y.host\n",
	  "3 V77 N5\n1 :x.host\n3 :y.host\n", NULL, 77, 5, 2 },
	/* errors */
	{ "", NULL, "/m/.Sent/dovecot-uidlist:1: empty file", 0, 0, 0 },
	{ "2 V1 N1\n", NULL, "/m/.Sent/dovecot-uidlist:1: unsupported version",
	  0, 0, 0 },
	{ "3 N1\n", NULL, "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0, 0 },
	/* Dovecot: "Invalid mailbox GUID", and it rebuilds the list */
	{ "3 V1 N1 G\n", NULL, "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0,
	  0 },
	{ "3 V1 N1 Gzz\n", NULL, "/m/.Sent/dovecot-uidlist:1: bad header", 0,
	  0, 0 },
	{ "3 V1 N1 G0123456789abcdef0123456789abcdef0\n", NULL,
	  "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0, 0 },
	{ "3 Vx N1\n", NULL, "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0,
	  0 },
	{ "3 V4294967296 N1\n", NULL,
	  "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0, 0 },
	{ "1 5\n", NULL, "/m/.Sent/dovecot-uidlist:1: bad header", 0, 0, 0 },
	{ "3 V1 N1\n1 :a\nx :b\n", NULL,
	  "/m/.Sent/dovecot-uidlist:3: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n2 :a\n2 :b\n", NULL,
	  "/m/.Sent/dovecot-uidlist:3: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n0 :a\n", NULL,
	  "/m/.Sent/dovecot-uidlist:2: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n1 a\n", NULL,
	  "/m/.Sent/dovecot-uidlist:2: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n1 :\n", NULL,
	  "/m/.Sent/dovecot-uidlist:2: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n1 :../x\n", NULL,
	  "/m/.Sent/dovecot-uidlist:2: bad UID line", 0, 0, 0 },
	{ "3 V1 N1\n1 S1:x\n", NULL,
	  "/m/.Sent/dovecot-uidlist:2: bad UID line", 0, 0, 0 },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct md_uidlist ul = { 0 };
		struct pn_error err;
		struct pn_buf b;
		int rc = md_uidlist_parse(cases[i].in, strlen(cases[i].in),
					  "/m/.Sent/dovecot-uidlist", &ul, &err);

		if (cases[i].error) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, cases[i].error);
			assert_int_equal(err.code, PN_EPARSE);
			md_uidlist_clear(&ul);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(ul.uidvalidity, cases[i].uidvalidity);
		assert_int_equal(ul.next_uid, cases[i].next_uid);
		assert_int_equal(ul.n, cases[i].n);
		pn_buf_init(&b, 0);
		assert_int_equal(md_uidlist_format(&ul, &b), 0);
		assert_string_equal(pn_buf_cstr(&b), cases[i].out ? cases[i].out
								   : cases[i].in);
		pn_buf_free(&b);
		md_uidlist_clear(&ul);
	}
}

static void test_home_shown_as_tilde(void **state)
{
	struct md_uidlist ul = { 0 };
	struct pn_error err;
	char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	(void)state;
	setenv("HOME", "/home/u", 1);
	assert_int_equal(md_uidlist_parse("3 V1 N1\n1 :a\nbad\n", 17,
					  "/home/u/Mail/.Sent/dovecot-uidlist",
					  &ul, &err), -1);
	assert_string_equal(err.msg,
			    "~/Mail/.Sent/dovecot-uidlist:3: bad UID line");
	assert_int_equal(err.line, 3);
	if (old)
		setenv("HOME", old, 1);
	free(old);
	md_uidlist_clear(&ul);
}

static void test_init_new(void **state)
{
	struct md_uidlist ul = { 0 };
	time_t now = time(NULL);

	(void)state;
	md_uidlist_init_new(&ul);
	assert_int_equal(ul.version, 3);
	assert_true(ul.uidvalidity >= (uint32_t)now - 1 &&
		    ul.uidvalidity <= (uint32_t)now + 1);
	assert_int_equal(ul.next_uid, 1);
	assert_int_equal(strlen(ul.guid), 32);
	assert_int_equal(strspn(ul.guid, "0123456789abcdef"), 32);
	md_uidlist_clear(&ul);
}

/* ---- the lock ----------------------------------------------------------- */

static int mkdir_tmp(void **state)
{
	char *d = strdup("/tmp/pn-uidlist-XXXXXX");

	assert_non_null(mkdtemp(d));
	*state = d;
	return 0;
}

static int rm_tmp(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void put_lock(const char *dir, time_t age)
{
	char p[256];
	struct timespec ts[2];
	int fd;

	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void test_lock_held_times_out(void **state)
{
	const char *dir = *state;
	struct md_dotlock l;
	struct pn_error err;
	char expect[300];
	struct timespec t0, t1;

	put_lock(dir, 60);	/* fresh enough: another writer holds it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 1200, &l, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= 1);
	snprintf(expect, sizeof(expect),
		 "%s/dovecot-uidlist is locked by another process "
		 "(dovecot-uidlist.lock, 1 s)", dir);
	assert_string_equal(err.msg, expect);
}

static void test_lock_stale_overridden(void **state)
{
	const char *dir = *state;
	char p[256], *text;
	struct md_dotlock l;
	struct pn_error err;
	struct pn_buf b;

	put_lock(dir, MD_LOCK_STALE_SECS + 5);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), 0);
	/* taken: a second taker must wait (and here give up at once) */
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &(struct md_dotlock){ 0 },
					 &err), -1);
	assert_int_equal(md_dotlock_commit(&l, "3 V1 N1 G\n", 10, &err), 0);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	assert_int_equal(md_read_file(p, &b, &err), 0);
	text = pn_buf_take(&b, NULL);
	assert_string_equal(text, "3 V1 N1 G\n");
	free(text);
	pn_buf_free(&b);
}

static void test_lock_release(void **state)
{
	const char *dir = *state;
	struct md_dotlock l;
	struct pn_error err;
	char p[256];

	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), 0);
	md_dotlock_release(&l);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	assert_int_equal(access(p, F_OK), -1);	/* nothing committed */
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), 0);
	md_dotlock_release(&l);
}

static void write_lock(const char *dir, const char *content)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

/* While held the lock says "PID:HOST" (as Dovecot's dotlocks do); a lock
 * whose owner is dead on this host is taken over at once, one of a live
 * owner or another host is waited for. */
static void test_lock_owner(void **state)
{
	const char *dir = *state;
	char host[256], text[400], p[400];
	struct md_dotlock l;
	struct pn_error err;
	pid_t dead;
	FILE *fp;

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), 0);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	fp = fopen(p, "r");
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	snprintf(p, sizeof(p), "%ld:%s", (long)getpid(), host);
	assert_string_equal(text, p);
	md_dotlock_release(&l);

	dead = fork();
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	snprintf(text, sizeof(text), "%ld:%s", (long)dead, host);
	write_lock(dir, text);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), 0);
	md_dotlock_release(&l);

	snprintf(text, sizeof(text), "%ld:%s", (long)getpid(), host);
	write_lock(dir, text);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), -1);
	snprintf(text, sizeof(text), "%ld:other.host.invalid", (long)dead);
	write_lock(dir, text);
	assert_int_equal(md_dotlock_take(dir, MD_UIDLIST, 0, &l, &err), -1);
}

static void test_read_missing_and_bad(void **state)
{
	const char *dir = *state;
	struct md_uidlist ul = { 0 };
	struct pn_error err;
	bool exists = true;
	char p[256], expect[300];
	FILE *fp;

	assert_int_equal(md_uidlist_read(dir, &ul, false, &exists, &err), 0);
	assert_false(exists);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	fp = fopen(p, "w");
	fputs("3 V1 N2\n1 :a\n1 :b\n", fp);
	fclose(fp);
	assert_int_equal(md_uidlist_read(dir, &ul, false, &exists, &err), -1);
	snprintf(expect, sizeof(expect), "%s:3: bad UID line", p);
	assert_string_equal(err.msg, expect);
	md_uidlist_clear(&ul);
}

/* Without the lock, a last line lacking '\n' may be half-appended by
 * Dovecot: ignored.  Under the lock nobody writes: it counts. */
static void test_read_partial_last_line(void **state)
{
	const char *dir = *state;
	struct md_uidlist ul = { 0 };
	struct pn_error err;
	bool exists = false;
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	fp = fopen(p, "w");
	fputs("3 V1 N2\n1 :a\n2 :b.M1", fp);
	fclose(fp);
	assert_int_equal(md_uidlist_read(dir, &ul, false, &exists, &err), 0);
	assert_true(exists);
	assert_int_equal(ul.n, 1);
	assert_int_equal(ul.next_uid, 2);
	assert_int_equal(md_uidlist_read(dir, &ul, true, &exists, &err), 0);
	assert_int_equal(ul.n, 2);
	assert_string_equal(ul.recs[1].key, "b.M1");
	assert_int_equal(ul.next_uid, 3);
	md_uidlist_clear(&ul);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_file),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_home_shown_as_tilde),
		cmocka_unit_test(test_init_new),
		cmocka_unit_test_setup_teardown(test_lock_held_times_out,
						mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_lock_stale_overridden,
						mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_lock_release, mkdir_tmp,
						rm_tmp),
		cmocka_unit_test_setup_teardown(test_lock_owner, mkdir_tmp,
						rm_tmp),
		cmocka_unit_test_setup_teardown(test_read_missing_and_bad,
						mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_read_partial_last_line,
						mkdir_tmp, rm_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
