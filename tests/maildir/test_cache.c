/* Tests for maildir/cache.c through md_folder_index(): the cache round
 * trip, invalidation (mtime, size, a rename for flags, added and removed
 * messages), corrupt caches that must be ignored and rebuilt, and a
 * read-only folder that must not get one.  Then the scan's side
 * (md_cache_stamp): a warm open takes sizes and mtimes from the cache and
 * must see exactly what a cold one sees, whatever the Maildir operations
 * did meanwhile; what an in-place change (against the rules) shows, and
 * when. */
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../maildir/cache_p.h"
#include "../../maildir/maildir_p.h"
#include "../../lib/buf.h"

struct env {
	char root[64];
	char cache[128];
	uint32_t uidvalidity;	/* as the last index_of() saw it */
};

static void put(const struct env *e, const char *sub, const char *name,
		const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s/%s", e->root, sub, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void set_mtime(const struct env *e, const char *name, time_t t)
{
	char path[512];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	snprintf(path, sizeof(path), "%s/cur/%s", e->root, name);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char d[160];

	assert_non_null(e);
	strcpy(e->root, "/tmp/pn-cache-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(e->cache, sizeof(e->cache), "%s/" MD_CACHE_NAME, e->root);
	for (int i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "%s/%s", e->root,
			 (const char *[]){ "cur", "new", "tmp" }[i]);
		assert_int_equal(mkdir(d, 0700), 0);
	}
	put(e, "cur", "1000.A.host:2,S",
	    "Date: Mon, 1 Jan 2024 10:00:00 +0000\nFrom: Ana <ana@x>\n"
	    "To: ben@x\nSubject: first\nMessage-ID: <1@x>\n\nbody one\n");
	put(e, "cur", "1001.B.host:2,",
	    "From: Ben <ben@x>\nSubject: second\n\nbody two\n");
	put(e, "cur", "1002.C.host:2,FS",
	    "Date: Tue, 2 Jan 2024 10:00:00 +0000\nFrom: Chloe <c@x>\n"
	    "Subject: third\n\nbody three\n");
	set_mtime(e, "1000.A.host:2,S", 1700000000);
	set_mtime(e, "1001.B.host:2,", 1700000001);
	set_mtime(e, "1002.C.host:2,FS", 1700000002);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "-";
}

static int collect(void *ctx, const struct md_index_entry *e)
{
	struct pn_buf *b = ctx;

	assert_int_equal(pn_buf_printf(b, "%u %02x %s|%s|%s|%s|%s\n",
				       e->msg->uid, e->msg->flags, nz(e->date),
				       nz(e->from), nz(e->to), nz(e->subject),
				       nz(e->message_id)), 0);
	return 0;
}

/* Open the folder afresh (a new scan sees renames and new mtimes), index
 * it and return the lines (malloc'd). */
static char *index_of(struct env *e, bool read_only)
{
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	struct pn_buf b = { 0 };

	pn_buf_init(&b, 0);
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, read_only, &s,
				       &err), 0);
	if (md_folder_open(s, "INBOX", read_only, &f, &err) < 0)
		fail_msg("open: %s", err.msg);
	e->uidvalidity = md_folder_uidvalidity(f);
	if (md_folder_index(f, collect, &b, &err) < 0)
		fail_msg("index: %s", err.msg);
	md_folder_free(&f);
	md_store_free(&s);
	return pn_buf_take(&b, NULL);
}

static const char expect3[] =
	"1 10 Mon, 1 Jan 2024 10:00:00 +0000|Ana <ana@x>|ben@x|first|<1@x>\n"
	"2 00 -|Ben <ben@x>|-|second|-\n"
	"3 12 Tue, 2 Jan 2024 10:00:00 +0000|Chloe <c@x>|-|third|-\n";

/* The cache file as the loader sees it: its record count, or -1 when it
 * is missing or was refused. */
static long cache_count(const struct env *e)
{
	struct md_cache c;
	int dirfd = open(e->root, O_RDONLY | O_DIRECTORY);
	long n;

	assert_true(dirfd >= 0);
	assert_int_equal(md_cache_load(&c, dirfd, e->uidvalidity, NULL), 0);
	close(dirfd);
	n = c.data ? (long)c.count : -1;
	md_cache_free(&c);
	return n;
}

static ino_t cache_ino(const struct env *e)
{
	struct stat st;

	return stat(e->cache, &st) == 0 ? st.st_ino : 0;
}

static void check_index(struct env *e, bool read_only, const char *expect)
{
	char *got = index_of(e, read_only);

	assert_string_equal(got, expect);
	free(got);
}

/* Cold builds the cache; warm answers from it: a message rewritten behind
 * the cache's back with the same size and mtime still shows the cached
 * values, and the cache file is not rewritten. */
static void test_round_trip(void **state)
{
	struct env *e = *state;
	ino_t ino;

	check_index(e, false, expect3);
	assert_int_equal(cache_count(e), 3);
	ino = cache_ino(e);
	put(e, "cur", "1001.B.host:2,",
	    "From: Ben <ben@x>\nSubject: SECOND\n\nbody two\n");
	set_mtime(e, "1001.B.host:2,", 1700000001);
	check_index(e, false, expect3);
	assert_int_equal(cache_ino(e), ino);
	check_index(e, false, expect3);
}

static const char expect_second_up[] =
	"1 10 Mon, 1 Jan 2024 10:00:00 +0000|Ana <ana@x>|ben@x|first|<1@x>\n"
	"2 00 -|Ben <ben@x>|-|SECOND|-\n"
	"3 12 Tue, 2 Jan 2024 10:00:00 +0000|Chloe <c@x>|-|third|-\n";

/* Make the cache's stamps look taken secs ago (the file's mtime says when,
 * see cache_p.h); negative: in the future. */
static void age_cache(const struct env *e, long secs)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT },
				  { time(NULL) - secs, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, e->cache, ts, 0), 0);
}

/* A file rewritten in place (same name and inode: against the rules)
 * with another mtime: the scan takes its stamp from the cache while the
 * cache is trusted, so the old values show (see md_folder_open); once the
 * cache's stamps are older than MD_CACHE_TRUST_SECS every file is stat'ed
 * again, the change is seen and the cache rewritten. */
static void test_invalidate_mtime(void **state)
{
	struct env *e = *state;

	check_index(e, false, expect3);
	put(e, "cur", "1001.B.host:2,",
	    "From: Ben <ben@x>\nSubject: SECOND\n\nbody two\n");
	set_mtime(e, "1001.B.host:2,", 1700000005);
	check_index(e, false, expect3);
	age_cache(e, MD_CACHE_TRUST_SECS + 60);
	check_index(e, false, expect_second_up);
	assert_int_equal(cache_count(e), 3);
	check_index(e, false, expect_second_up);
}

static void test_invalidate_size(void **state)
{
	struct env *e = *state;
	char *got;

	check_index(e, false, expect3);
	put(e, "cur", "1001.B.host:2,",
	    "From: Ben <ben@x>\nSubject: second, longer\n\nbody two\n");
	set_mtime(e, "1001.B.host:2,", 1700000001);
	age_cache(e, MD_CACHE_TRUST_SECS + 60);
	got = index_of(e, false);
	assert_non_null(strstr(got, "|second, longer|"));
	free(got);
	assert_int_equal(cache_count(e), 3);
}

/* A flag change renames the file: same key, mtime and size, so the cache
 * stays valid (no re-read, no rewrite) and the new flags show. */
static void test_rename_flags(void **state)
{
	struct env *e = *state;
	char a[256], b[256];
	ino_t ino;

	check_index(e, false, expect3);
	ino = cache_ino(e);
	snprintf(a, sizeof(a), "%s/cur/1001.B.host:2,", e->root);
	snprintf(b, sizeof(b), "%s/cur/1001.B.host:2,RS", e->root);
	assert_int_equal(rename(a, b), 0);
	check_index(e, false,
		    "1 10 Mon, 1 Jan 2024 10:00:00 +0000|Ana <ana@x>|ben@x|"
		    "first|<1@x>\n"
		    "2 18 -|Ben <ben@x>|-|second|-\n"
		    "3 12 Tue, 2 Jan 2024 10:00:00 +0000|Chloe <c@x>|-|third|-\n");
	assert_int_equal(cache_ino(e), ino);
}

static void test_added_removed(void **state)
{
	struct env *e = *state;
	char path[256];

	check_index(e, false, expect3);
	put(e, "cur", "1003.D.host:2,", "Subject: fourth\n\nbody\n");
	set_mtime(e, "1003.D.host:2,", 1700000003);
	check_index(e, false,
		    "1 10 Mon, 1 Jan 2024 10:00:00 +0000|Ana <ana@x>|ben@x|"
		    "first|<1@x>\n"
		    "2 00 -|Ben <ben@x>|-|second|-\n"
		    "3 12 Tue, 2 Jan 2024 10:00:00 +0000|Chloe <c@x>|-|third|-\n"
		    "4 00 -|-|-|fourth|-\n");
	assert_int_equal(cache_count(e), 4);
	snprintf(path, sizeof(path), "%s/cur/1000.A.host:2,S", e->root);
	assert_int_equal(unlink(path), 0);
	check_index(e, false,
		    "2 00 -|Ben <ben@x>|-|second|-\n"
		    "3 12 Tue, 2 Jan 2024 10:00:00 +0000|Chloe <c@x>|-|third|-\n"
		    "4 00 -|-|-|fourth|-\n");
	assert_int_equal(cache_count(e), 3);
}

/* ---- what a scan shows ------------------------------------------------- */

static void set_mtime_in(const struct env *e, const char *sub,
			 const char *name, time_t t)
{
	char path[512];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	snprintf(path, sizeof(path), "%s/%s/%s", e->root, sub, name);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void move(const struct env *e, const char *from, const char *to)
{
	char a[512], b[512];

	snprintf(a, sizeof(a), "%s/%s", e->root, from);
	snprintf(b, sizeof(b), "%s/%s", e->root, to);
	assert_int_equal(rename(a, b), 0);
}

/* What md_folder_open shows of every message, a line each, and how the
 * scan came by the stamps. */
struct snap {
	char *text;
	size_t statted, trusted;
};

static void snapshot(struct env *e, bool read_only, struct snap *out)
{
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	struct pn_buf b;

	pn_buf_init(&b, 0);
	assert_int_equal(md_store_open(e->root, MD_LAYOUT_AUTO, read_only, &s,
				       &err), 0);
	if (md_folder_open(s, "INBOX", read_only, &f, &err) < 0)
		fail_msg("open: %s", err.msg);
	for (size_t i = 0; i < md_folder_count(f); i++) {
		const struct md_message *m = md_folder_message(f, i);

		assert_int_equal(pn_buf_printf(&b, "%u %s/%s %02x %llu %lld\n",
					       m->uid, m->in_new ? "new" : "cur",
					       m->filename, m->flags,
					       (unsigned long long)m->size,
					       (long long)m->received), 0);
	}
	out->statted = f->scan_statted;
	out->trusted = f->scan_trusted;
	md_folder_free(&f);
	md_store_free(&s);
	out->text = pn_buf_take(&b, NULL);
	if (!out->text)
		out->text = strdup("");
}

/* The same scan with the cache out of the way: what is on disk. */
static void cold_snapshot(struct env *e, struct snap *out)
{
	char away[160];

	snprintf(away, sizeof(away), "%s.away", e->cache);
	assert_int_equal(rename(e->cache, away), 0);
	snapshot(e, true, out);
	assert_int_equal(rename(away, e->cache), 0);
	assert_int_equal(out->trusted, 0);
}

static void check_same(struct env *e, const struct snap *warm)
{
	struct snap cold;

	cold_snapshot(e, &cold);
	assert_string_equal(warm->text, cold.text);
	free(cold.text);
}

/* ---- corrupt caches ------------------------------------------------------ */

static void le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

/* Re-sign the body so that only the record checks stand between a lying
 * length and a wild read. */
static void resign(char *buf, size_t len)
{
	uint64_t sum = md_cache_checksum(buf + 32, len - 32);

	le32(buf + 24, (uint32_t)sum);
	le32(buf + 28, (uint32_t)(sum >> 32));
}

static void cut_header(char *buf, size_t *len)
{
	(void)buf;
	*len = 10;
}

static void cut_tail(char *buf, size_t *len)
{
	(void)buf;
	*len -= 1;
}

static void empty(char *buf, size_t *len)
{
	(void)buf;
	*len = 0;
}

static void random_bytes(char *buf, size_t *len)
{
	srand(1);
	for (size_t i = 0; i < *len; i++)
		buf[i] = (char)rand();
}

static void random_body_signed(char *buf, size_t *len)
{
	srand(2);
	for (size_t i = 32; i < *len; i++)
		buf[i] = (char)rand();
	resign(buf, *len);
}

static void flipped_byte(char *buf, size_t *len)
{
	buf[*len - 3] ^= 0x20;	/* a letter of the last value */
}

static void other_version(char *buf, size_t *len)
{
	(void)len;
	le32(buf + 4, 99);
}

static void other_uidvalidity(char *buf, size_t *len)
{
	(void)len;
	buf[8] ^= 1;
}

static void lying_count(char *buf, size_t *len)
{
	(void)len;
	le32(buf + 12, 0x10000000);
}

static void lying_body_len(char *buf, size_t *len)
{
	(void)len;
	le32(buf + 16, 0xffffff00);
}

static void lying_rec_len(char *buf, size_t *len)
{
	le32(buf + 32, 0xffffff00);
	resign(buf, *len);
}

static void lying_field_len(char *buf, size_t *len)
{
	le32(buf + 32 + 20 + 4 * 4, 0x7ffffff0);	/* subject */
	resign(buf, *len);
}

static void short_field_len(char *buf, size_t *len)
{
	uint32_t l;

	memcpy(&l, buf + 32 + 20 + 4 * 4, 4);
	le32(buf + 32 + 20 + 4 * 4, l - 1);	/* misses the NUL */
	resign(buf, *len);
}

static void absent_key(char *buf, size_t *len)
{
	le32(buf + 32 + 20, 0xffffffff);
	resign(buf, *len);
}

static const struct {
	const char *name;
	void (*mutate)(char *buf, size_t *len);
} corruptions[] = {
	{ "cut in the header", cut_header },
	{ "last byte missing", cut_tail },
	{ "empty file", empty },
	{ "random bytes", random_bytes },
	{ "random body, valid checksum", random_body_signed },
	{ "one flipped byte", flipped_byte },
	{ "other version", other_version },
	{ "other uidvalidity", other_uidvalidity },
	{ "lying count", lying_count },
	{ "lying body length", lying_body_len },
	{ "lying record length", lying_rec_len },
	{ "lying field length", lying_field_len },
	{ "field length missing its NUL", short_field_len },
	{ "record without a key", absent_key },
};

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

static void spill(const char *path, const char *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void test_corrupt_rebuilt(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]);
	     i++) {
		struct snap snap;
		size_t len;
		char *buf, *got;

		check_index(e, false, expect3);
		buf = slurp(e->cache, &len);
		corruptions[i].mutate(buf, &len);
		spill(e->cache, buf, len);
		free(buf);
		if (cache_count(e) != -1)
			fail_msg("%s: cache accepted", corruptions[i].name);
		snapshot(e, true, &snap);
		if (snap.trusted != 0)
			fail_msg("%s: stamps trusted", corruptions[i].name);
		free(snap.text);
		got = index_of(e, false);
		if (strcmp(got, expect3) != 0)
			fail_msg("%s: index\n%s", corruptions[i].name, got);
		free(got);
		if (cache_count(e) != 3)
			fail_msg("%s: not rebuilt", corruptions[i].name);
	}
}

/* Read-only: the index is right and nothing is written, neither a new
 * cache nor a repaired one. */
static void test_read_only(void **state)
{
	struct env *e = *state;
	struct stat st;
	size_t len, len2;
	char *buf, *buf2;

	check_index(e, true, expect3);
	assert_int_equal(stat(e->cache, &st), -1);
	assert_int_equal(errno, ENOENT);

	check_index(e, false, expect3);
	buf = slurp(e->cache, &len);
	lying_field_len(buf, &len);
	spill(e->cache, buf, len);
	check_index(e, true, expect3);
	buf2 = slurp(e->cache, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
}

/* A leftover temporary file from a crashed run with our pid is replaced,
 * and no temporary file is left behind. */
static void test_stale_tmp(void **state)
{
	struct env *e = *state;
	char path[256], name[64];

	snprintf(name, sizeof(name), MD_CACHE_NAME ".tmp.%ld", (long)getpid());
	snprintf(path, sizeof(path), "%s/%s", e->root, name);
	spill(path, "junk", 4);
	check_index(e, false, expect3);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(cache_count(e), 3);
}

/* ---- the scan's stamps from the cache ------------------------------------ */

/* The setup's three files, one in new/ without S= or info, one whose S=
 * is not its file size, and two names that are not files: a warm open
 * stats nothing and shows what the cold one did. */
static void test_warm_same_as_cold(void **state)
{
	struct env *e = *state;
	struct snap cold, warm, ro;
	char path[256];

	put(e, "new", "1004.E.host", "Subject: fifth\n\nin new/\n");
	set_mtime_in(e, "new", "1004.E.host", 1700000004);
	put(e, "cur", "1005.F.host,S=999:2,S", "Subject: sixth\n\nx\n");
	set_mtime_in(e, "cur", "1005.F.host,S=999:2,S", 1700000005);
	snprintf(path, sizeof(path), "%s/cur/1006.G.host:2,", e->root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/cur/1007.H.host:2,", e->root);
	assert_int_equal(symlink("1000.A.host:2,S", path), 0);

	snapshot(e, false, &cold);
	assert_int_equal(cold.trusted, 0);
	assert_int_equal(cold.statted, 5);
	assert_non_null(strstr(cold.text, " new/1004.E.host 00 24 1700000004\n"));
	assert_non_null(strstr(cold.text, " 10 999 1700000005\n"));
	assert_null(strstr(cold.text, "1006.G"));
	assert_null(strstr(cold.text, "1007.H"));
	free(index_of(e, false));
	assert_int_equal(cache_count(e), 5);

	snapshot(e, false, &warm);
	assert_string_equal(warm.text, cold.text);
	assert_int_equal(warm.statted, 0);
	assert_int_equal(warm.trusted, 5);
	snapshot(e, true, &ro);
	assert_string_equal(ro.text, cold.text);
	assert_int_equal(ro.trusted, 5);
	free(cold.text);
	free(warm.text);
	free(ro.text);
}

/* What the Maildir rules allow, done behind the cache's back: a new
 * file, an unlink, a flag change, a move from new/ to cur/, and a file
 * replaced under its name by a rename (another inode).  The warm open
 * shows each as the cold one does, stat'ing only the new and the
 * replaced file; the index shows the replaced file's new header. */
static void test_warm_sees_maildir_ops(void **state)
{
	struct env *e = *state;
	struct snap warm;
	char *got;

	put(e, "new", "1004.E.host", "Subject: fifth\n\nin new/\n");
	set_mtime_in(e, "new", "1004.E.host", 1700000004);
	free(index_of(e, false));
	assert_int_equal(cache_count(e), 4);

	put(e, "cur", "1003.D.host:2,", "Subject: fourth\n\nbody\n");
	set_mtime(e, "1003.D.host:2,", 1700000003);
	move(e, "cur/1000.A.host:2,S", "tmp/gone");
	move(e, "cur/1001.B.host:2,", "cur/1001.B.host:2,RS");
	move(e, "new/1004.E.host", "cur/1004.E.host:2,S");
	put(e, "tmp", "1002.new",
	    "Date: Tue, 2 Jan 2024 10:00:00 +0000\nFrom: Chloe <c@x>\n"
	    "Subject: third, replaced\n\nbody three, another\n");
	set_mtime_in(e, "tmp", "1002.new", 1700000009);
	move(e, "tmp/1002.new", "cur/1002.C.host:2,FS");

	snapshot(e, false, &warm);
	assert_int_equal(warm.statted, 2);
	assert_int_equal(warm.trusted, 2);
	assert_null(strstr(warm.text, "1000.A"));
	assert_non_null(strstr(warm.text, "cur/1001.B.host:2,RS 18 "));
	assert_non_null(strstr(warm.text, "cur/1002.C.host:2,FS 12 "));
	assert_non_null(strstr(warm.text, " 1700000009\n"));
	assert_non_null(strstr(warm.text, "cur/1004.E.host:2,S 10 24 "
				      "1700000004\n"));
	check_same(e, &warm);
	free(warm.text);
	got = index_of(e, false);
	assert_non_null(strstr(got, "|third, replaced|"));
	assert_non_null(strstr(got, "|fifth|"));
	assert_non_null(strstr(got, "|fourth|"));
	free(got);
}

/* An mtime changed with utimensat after the cache was written (against
 * the rules: it is the received date).  A file the cache has seen settled
 * (modified well before the cache's stamps were taken) shows its cached
 * received time until the cache's stamps are MD_CACHE_TRUST_SECS old;
 * then the scan stats everything, the new time shows, the index writes
 * the cache again and the next open is warm with the new time.  A file
 * modified within MD_CACHE_SETTLE_SECS before is stat'ed every time:
 * its change shows at once. */
static void test_touched_file(void **state)
{
	struct env *e = *state;
	struct snap a;
	time_t recent = time(NULL) - 60;
	char line[64];

	put(e, "cur", "1003.D.host:2,", "Subject: fourth\n\nbody\n");
	set_mtime(e, "1003.D.host:2,", recent);
	free(index_of(e, false));
	set_mtime(e, "1001.B.host:2,", 1700000100);
	set_mtime(e, "1003.D.host:2,", recent + 30);

	snapshot(e, false, &a);
	assert_int_equal(a.statted, 1);
	assert_int_equal(a.trusted, 3);
	assert_non_null(strstr(a.text, " 1700000001\n"));
	snprintf(line, sizeof(line), " %lld\n", (long long)recent + 30);
	assert_non_null(strstr(a.text, line));
	free(a.text);

	age_cache(e, MD_CACHE_TRUST_SECS + 60);
	snapshot(e, false, &a);
	assert_int_equal(a.statted, 4);
	assert_non_null(strstr(a.text, " 1700000100\n"));
	check_same(e, &a);
	free(a.text);

	free(index_of(e, false));
	snapshot(e, false, &a);
	assert_int_equal(a.statted, 1);	/* the recent one */
	assert_int_equal(a.trusted, 3);
	assert_non_null(strstr(a.text, " 1700000100\n"));
	free(a.text);
}

/* A cache too old (or from the future: a clock set back) to be trusted
 * costs a full scan; a read-write index writes it again, so that the next
 * open is warm; read-only leaves it alone.  A file replaced by an exact
 * copy (same mtime and size, another inode, as a restore does) is stat'ed
 * and its record rewritten. */
static void test_untrusted_cache_rewritten(void **state)
{
	struct env *e = *state;
	long ages[] = { MD_CACHE_TRUST_SECS + 60, -86400 };
	struct snap a;
	struct stat st, st2;

	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		free(index_of(e, false));
		age_cache(e, ages[i]);
		assert_int_equal(stat(e->cache, &st), 0);
		check_index(e, true, expect3);
		assert_int_equal(stat(e->cache, &st2), 0);
		assert_int_equal(st.st_ino, st2.st_ino);
		assert_int_equal(st.st_mtime, st2.st_mtime);

		snapshot(e, false, &a);
		assert_int_equal(a.statted, 3);
		assert_int_equal(a.trusted, 0);
		free(a.text);
		check_index(e, false, expect3);
		assert_int_equal(stat(e->cache, &st2), 0);
		assert_true(st.st_ino != st2.st_ino);
		snapshot(e, true, &a);
		assert_int_equal(a.trusted, 3);
		free(a.text);
	}

	put(e, "tmp", "copy", "From: Ben <ben@x>\nSubject: second\n\nbody two\n");
	set_mtime_in(e, "tmp", "copy", 1700000001);
	move(e, "tmp/copy", "cur/1001.B.host:2,");
	snapshot(e, false, &a);
	assert_int_equal(a.statted, 1);
	free(a.text);
	assert_int_equal(stat(e->cache, &st), 0);
	check_index(e, false, expect3);
	assert_int_equal(stat(e->cache, &st2), 0);
	assert_true(st.st_ino != st2.st_ino);
	snapshot(e, false, &a);
	assert_int_equal(a.trusted, 3);
	free(a.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_mtime, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rename_flags, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_added_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_rebuilt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_warm_same_as_cold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_warm_sees_maildir_ops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_touched_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_cache_rewritten,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
