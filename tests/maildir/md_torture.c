/* md_torture.c - drive maildir/ hard, for the crash, concurrency and MUA
 * tests in tests/integration/test_maildir_*.py.
 *
 * usage: md_torture [-s SEED] COMMAND DIR ARGS...
 *   append DIR FOLDER N PREFIX   N appends (random sizes, flags, keywords)
 *   flags DIR FOLDER N           N random flag/keyword changes
 *   move DIR FROM TO N           N moves (copy, then expunge the source)
 *   expunge DIR FOLDER N         N single-message expunges
 *   mixed DIR FOLDER SECS PREFIX appends and changes of \Flagged, Work and
 *                                Later (only those) for SECS seconds
 *   list DIR FOLDER              every message, read-only (see below)
 *
 * Every operation prints "try ..." before it starts and "ok ..." when the
 * maildir call has returned, each line flushed, so a process that killed
 * us knows what finished and what was in flight:
 *   try append ID          ok append ID UID SIZE FLAGS KEYWORDS
 *   try flags UID CHANGES  ok flags UID FLAGS KEYWORDS
 *   try move UID           copied UID NEWUID   ok move UID NEWUID
 *   try expunge UID        ok expunge UID
 * CHANGES is a space-free list like "+F,-S,+kw:Work".  FLAGS are the
 * ":2," letters or "-", KEYWORDS are comma-separated names or "-".
 *
 * list prints "folder UIDVALIDITY UIDNEXT COUNT", then one line a message:
 *   UID FLAGS KEYWORDS SIZE FNV64 ID FILENAME
 * where SIZE and FNV64 (FNV-1a, 64 bits, hex) are of the bytes read
 * through md_message_open and ID is the first word of the X-Torture
 * header ("-" when there is none).
 *
 * The library's warnings go to stderr as "md_torture: warning: ...";
 * mixed ends with "md_torture: records gone: N" there (uidlist records
 * its syncs gave up for want of a file).
 *
 * Messages are generated from (ID, NLINES) alone so a checker can rebuild
 * any of them byte for byte: see gen_message().  Exit status 0, or 1 with
 * the error on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../maildir/maildir.h"
#include "../../maildir/maildir_p.h"	/* records_gone */

#define MAX_KW 4
static const char *const keyword_names[MAX_KW] = {
    "Work",
    "Later",
    "Todo",
    "$Label1",
};

/* The flags the torture plays with.  P is left out: Dovecot has no IMAP
 * flag for it, so it could not be compared over IMAP. */
static const unsigned torture_flags[] = {
    MD_FLAG_DRAFT,
    MD_FLAG_FLAGGED,
    MD_FLAG_REPLIED,
    MD_FLAG_SEEN,
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from -s, good enough to pick cases */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

static void die(const char *what, const struct pn_error *err)
{
	fprintf(stderr, "md_torture: %s: %s\n", what,
		err ? err->msg : strerror(errno));
	exit(1);
}

static void say(const char *fmt, ...) PN_PRINTF(1, 2);

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fflush(stdout) != 0) {
		perror("md_torture: stdout");
		exit(1);
	}
}

/* ---- messages ------------------------------------------------------------ */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;

		while (cap < t->len + n + 1)
			cap *= 2;
		t->p = realloc(t->p, cap);
		if (!t->p)
			die("out of memory", NULL);
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_printf(struct text *t, const char *fmt, ...) PN_PRINTF(2, 3);

static void text_printf(struct text *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		die("message line too long", NULL);
	text_add(t, line, (size_t)n);
}

/* The checkers rebuild this byte for byte (gen_message in the tests):
 * keep both in step. */
static void gen_message(struct text *t, const char *id, unsigned nlines)
{
	char pat[41];

	t->len = 0;
	text_printf(t,
		    "From: Torture <torture@example.org>\n"
		    "To: alice@example.org\n"
		    "Subject: torture %s\n"
		    "Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
		    "Message-ID: <%s@torture.invalid>\n"
		    "X-Torture: %s %u\n"
		    "\n",
		    id, id, id, nlines);
	for (unsigned k = 0; k < nlines; k++) {
		for (unsigned j = 0; j < 40; j++)
			pat[j] = (char)('a' + (k + j) % 26);
		pat[40] = '\0';
		text_printf(t, "%s line %u %s\n", id, k, pat);
	}
}

static unsigned random_nlines(void)
{
	/* mostly small, sometimes big enough that a write takes a while */
	if (rnd_below(8) == 0)
		return 500 + rnd_below(3000);
	return 1 + rnd_below(60);
}

static void format_flags(unsigned flags, char *out)
{
	static const struct {
		unsigned bit;
		char c;
	} map[] = {
	    {MD_FLAG_DRAFT, 'D'},  {MD_FLAG_FLAGGED, 'F'},
	    {MD_FLAG_PASSED, 'P'}, {MD_FLAG_REPLIED, 'R'},
	    {MD_FLAG_SEEN, 'S'},   {MD_FLAG_TRASHED, 'T'},
	};
	char *p = out;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (flags & map[i].bit)
			*p++ = map[i].c;
	}
	if (p == out)
		*p++ = '-';
	*p = '\0';
}

static char flag_letter(unsigned bit)
{
	switch (bit) {
	case MD_FLAG_DRAFT:
		return 'D';
	case MD_FLAG_FLAGGED:
		return 'F';
	case MD_FLAG_REPLIED:
		return 'R';
	case MD_FLAG_SEEN:
		return 'S';
	default:
		return '?';
	}
}

static void format_keywords(const struct md_message *m, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->nkeywords; i++) {
		int n = snprintf(out + len, outsz - len, "%s%s", i ? "," : "",
				 m->keywords[i]);

		if (n < 0 || (size_t)n >= outsz - len)
			die("keyword list too long", NULL);
		len += (size_t)n;
	}
	if (len == 0)
		snprintf(out, outsz, "-");
}

/* ---- store helpers --------------------------------------------------------
 */

struct ctx {
	struct md_store *store;
	struct md_folder *folder;
	struct pn_error err;
};

/* The library's warnings (a uidlist naming a file twice) on stderr, a
 * line each: the concurrency test reads them. */
static void warn_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "md_torture: warning: %s\n", msg);
}

static void open_folder(struct ctx *c, const char *dir, const char *name,
			bool read_only, struct md_folder **out)
{
	if (!c->store) {
		if (md_store_open(dir, MD_LAYOUT_AUTO, read_only, &c->store,
				  &c->err) < 0)
			die(dir, &c->err);
		md_store_set_warn(c->store, warn_stderr, NULL);
	}
	if (md_folder_open(c->store, name, read_only, out, &c->err) < 0)
		die(name, &c->err);
}

static void rescan(struct ctx *c, struct md_folder *f)
{
	bool changed;

	if (md_folder_rescan(f, &changed, &c->err) < 0)
		die("rescan", &c->err);
}

static const struct md_message *pick(struct md_folder *f)
{
	size_t n = md_folder_count(f);

	if (n == 0)
		return NULL;
	return md_folder_message(f, rnd_below((unsigned)n));
}

static void report_state(const char *what, struct md_folder *f, uint32_t uid)
{
	const struct md_message *m = md_folder_by_uid(f, uid);
	char flags[8], kw[512];

	if (!m) {
		fprintf(stderr, "md_torture: %s: UID %u missing afterwards\n",
			what, uid);
		exit(1);
	}
	format_flags(m->flags, flags);
	format_keywords(m, kw, sizeof(kw));
	say("ok %s %u %s %s", what, uid, flags, kw);
}

/* ---- commands -------------------------------------------------------------
 */

static void do_append(struct ctx *c, struct md_folder *f, const char *id,
		      unsigned flag_choice, unsigned nkw_choice)
{
	struct text t = {0};
	const char *kws[MAX_KW];
	struct md_append a = {0};
	char flags[8], kwlist[256] = "";
	uint32_t uid = 0;
	size_t nkw = 0;

	gen_message(&t, id, random_nlines());
	a.data = t.p;
	a.fd = -1;
	a.size = t.len;
	a.flags = flag_choice;
	for (unsigned i = 0; i < MAX_KW; i++) {
		if (nkw_choice & (1u << i))
			kws[nkw++] = keyword_names[i];
	}
	a.keywords = kws;
	a.nkeywords = nkw;
	say("try append %s", id);
	if (md_folder_append(f, &a, &uid, &c->err) < 0)
		die("append", &c->err);
	format_flags(a.flags, flags);
	for (size_t i = 0; i < nkw; i++) {
		strcat(kwlist, i ? "," : "");
		strcat(kwlist, kws[i]);
	}
	say("ok append %s %u %zu %s %s", id, uid, t.len, flags,
	    nkw ? kwlist : "-");
	free(t.p);
}

static unsigned random_flags(void)
{
	unsigned flags = 0;

	for (size_t i = 0; i < 4; i++) {
		if (rnd_below(3) == 0)
			flags |= torture_flags[i];
	}
	return flags;
}

static int cmd_append(struct ctx *c, const char *dir, const char *name,
		      unsigned n, const char *prefix)
{
	char id[128];

	open_folder(c, dir, name, false, &c->folder);
	for (unsigned i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s.%u", prefix, i);
		do_append(c, c->folder, id, random_flags(),
			  rnd_below(1u << MAX_KW) & rnd_below(1u << MAX_KW));
	}
	return 0;
}

struct change {
	unsigned add, remove;
	const char *kw_add[MAX_KW], *kw_remove[MAX_KW];
	size_t nkw_add, nkw_remove;
	char text[256];
};

static void change_flag(struct change *ch, unsigned bit, bool on)
{
	size_t len = strlen(ch->text);

	snprintf(ch->text + len, sizeof(ch->text) - len, "%s%c%c",
		 len ? "," : "", on ? '+' : '-', flag_letter(bit));
	if (on)
		ch->add |= bit;
	else
		ch->remove |= bit;
}

static void change_kw(struct change *ch, const char *kw, bool on)
{
	size_t len = strlen(ch->text);

	snprintf(ch->text + len, sizeof(ch->text) - len, "%s%ckw:%s",
		 len ? "," : "", on ? '+' : '-', kw);
	if (on)
		ch->kw_add[ch->nkw_add++] = kw;
	else
		ch->kw_remove[ch->nkw_remove++] = kw;
}

static void apply_change(struct ctx *c, struct md_folder *f, uint32_t uid,
			 struct change *ch)
{
	if (ch->text[0] == '\0')
		snprintf(ch->text, sizeof(ch->text), "none");
	say("try flags %u %s", uid, ch->text);
	if (md_message_set_flags(f, uid, ch->add, ch->remove, ch->kw_add,
				 ch->nkw_add, ch->kw_remove, ch->nkw_remove,
				 &c->err) < 0)
		die("set_flags", &c->err);
	report_state("flags", f, uid);
}

static int cmd_flags(struct ctx *c, const char *dir, const char *name,
		     unsigned n)
{
	open_folder(c, dir, name, false, &c->folder);
	for (unsigned i = 0; i < n; i++) {
		const struct md_message *m = pick(c->folder);
		struct change ch = {0};

		if (!m)
			break;
		for (size_t k = 0; k < 4; k++) {
			if (rnd_below(3) == 0)
				change_flag(&ch, torture_flags[k],
					    rnd_below(2));
		}
		for (size_t k = 0; k < MAX_KW; k++) {
			if (rnd_below(4) == 0)
				change_kw(&ch, keyword_names[k], rnd_below(2));
		}
		apply_change(c, c->folder, m->uid, &ch);
	}
	/* nothing is expunged in the concurrency test: a record given up
	 * is a message another reader would number again */
	fprintf(stderr, "md_torture: records gone: %zu\n",
		c->folder->records_gone);
	return 0;
}

static int cmd_move(struct ctx *c, const char *dir, const char *from,
		    const char *to, unsigned n)
{
	struct md_folder *dst = NULL;

	open_folder(c, dir, from, false, &c->folder);
	open_folder(c, dir, to, false, &dst);
	for (unsigned i = 0; i < n; i++) {
		const struct md_message *m = pick(c->folder);
		uint32_t uid, new_uid = 0;

		if (!m)
			break;
		uid = m->uid;
		say("try move %u", uid);
		if (md_folder_copy(c->folder, uid, dst, &new_uid, &c->err) < 0)
			die("copy", &c->err);
		say("copied %u %u", uid, new_uid);
		if (md_folder_expunge(c->folder, &uid, 1, &c->err) < 0)
			die("expunge", &c->err);
		say("ok move %u %u", uid, new_uid);
	}
	md_folder_free(&dst);
	return 0;
}

static int cmd_expunge(struct ctx *c, const char *dir, const char *name,
		       unsigned n)
{
	open_folder(c, dir, name, false, &c->folder);
	for (unsigned i = 0; i < n; i++) {
		const struct md_message *m = pick(c->folder);
		uint32_t uid;

		if (!m)
			break;
		uid = m->uid;
		say("try expunge %u", uid);
		if (md_folder_expunge(c->folder, &uid, 1, &c->err) < 0)
			die("expunge", &c->err);
		say("ok expunge %u", uid);
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* For the concurrency test: this side owns \Flagged, Work and Later; the
 * other writer (Dovecot) owns the rest, so the last word on every flag is
 * known and a lost update shows. */
static int cmd_mixed(struct ctx *c, const char *dir, const char *name,
		     unsigned secs, const char *prefix)
{
	double end = now() + secs;
	char id[128];
	unsigned i = 0;

	open_folder(c, dir, name, false, &c->folder);
	while (now() < end) {
		const struct md_message *m;
		struct change ch = {0};

		if (rnd_below(3) == 0) {
			unsigned kw = rnd_below(4);

			snprintf(id, sizeof(id), "%s.%u", prefix, i++);
			do_append(c, c->folder, id,
				  rnd_below(2) ? MD_FLAG_FLAGGED : 0, kw);
			continue;
		}
		rescan(c, c->folder);
		m = pick(c->folder);
		if (!m)
			continue;
		if (rnd_below(2))
			change_flag(&ch, MD_FLAG_FLAGGED, rnd_below(2));
		if (rnd_below(2))
			change_kw(&ch, keyword_names[0], rnd_below(2));
		if (rnd_below(2))
			change_kw(&ch, keyword_names[1], rnd_below(2));
		apply_change(c, c->folder, m->uid, &ch);
	}
	/* nothing is expunged in the concurrency test: a record given up
	 * is a message another reader would number again */
	fprintf(stderr, "md_torture: records gone: %zu\n",
		c->folder->records_gone);
	return 0;
}

static uint64_t fnv64(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The first word of the X-Torture header, from the bytes of the message
 * (LF line ends, as gen_message() writes them). */
static void torture_id(const char *msg, size_t len, char *out, size_t outsz)
{
	static const char key[] = "\nX-Torture: ";
	const char *end = msg + len;
	const char *p = memmem(msg, len, key, sizeof(key) - 1);
	size_t n = 0;

	snprintf(out, outsz, "-");
	if (!p)
		return;
	p += sizeof(key) - 1;
	while (p + n < end && p[n] != ' ' && p[n] != '\n' && n + 1 < outsz)
		n++;
	if (n == 0)
		return;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void list_one(struct ctx *c, const struct md_message *m)
{
	struct text t = {0};
	char buf[65536], flags[8], kw[512], id[128];
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t size = 0;
	int fd;

	if (md_message_open(c->folder, m->uid, &fd, &c->err) < 0)
		die("open message", &c->err);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read message", NULL);
		if (r == 0)
			break;
		h = fnv64(h, (unsigned char *)buf, (size_t)r);
		size += (uint64_t)r;
		/* keep the header part for the id */
		if (t.len < 4096)
			text_add(&t, buf, (size_t)r);
	}
	close(fd);
	format_flags(m->flags, flags);
	format_keywords(m, kw, sizeof(kw));
	torture_id(t.p ? t.p : "", t.len, id, sizeof(id));
	printf("%u %s %s %llu %016llx %s %s\n", m->uid, flags, kw,
	       (unsigned long long)size, (unsigned long long)h, id,
	       m->filename);
	free(t.p);
}

static int cmd_list(struct ctx *c, const char *dir, const char *name)
{
	size_t n;

	open_folder(c, dir, name, true, &c->folder);
	n = md_folder_count(c->folder);
	printf("folder %u %u %zu\n", md_folder_uidvalidity(c->folder),
	       md_folder_uidnext(c->folder), n);
	for (size_t i = 0; i < n; i++)
		list_one(c, md_folder_message(c->folder, i));
	if (fflush(stdout) != 0)
		die("stdout", NULL);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: md_torture [-s SEED] append DIR FOLDER N PREFIX\n"
		"       md_torture [-s SEED] flags DIR FOLDER N\n"
		"       md_torture [-s SEED] move DIR FROM TO N\n"
		"       md_torture [-s SEED] expunge DIR FOLDER N\n"
		"       md_torture [-s SEED] mixed DIR FOLDER SECS PREFIX\n"
		"       md_torture list DIR FOLDER\n");
	return 2;
}

static unsigned number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 100000000ul) {
		fprintf(stderr, "md_torture: not a count: %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

static int run(struct ctx *c, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "append") && argc == 5)
		return cmd_append(c, argv[1], argv[2], number(argv[3]),
				  argv[4]);
	if (!strcmp(cmd, "flags") && argc == 4)
		return cmd_flags(c, argv[1], argv[2], number(argv[3]));
	if (!strcmp(cmd, "move") && argc == 5)
		return cmd_move(c, argv[1], argv[2], argv[3], number(argv[4]));
	if (!strcmp(cmd, "expunge") && argc == 4)
		return cmd_expunge(c, argv[1], argv[2], number(argv[3]));
	if (!strcmp(cmd, "mixed") && argc == 5)
		return cmd_mixed(c, argv[1], argv[2], number(argv[3]), argv[4]);
	if (!strcmp(cmd, "list") && argc == 3)
		return cmd_list(c, argv[1], argv[2]);
	return usage();
}

int main(int argc, char **argv)
{
	struct ctx c = {0};
	int rc;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		rng_state ^=
		    strtoull(argv[2], NULL, 10) * 0xff51afd7ed558ccdull;
		if (rng_state == 0)
			rng_state = 1;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage();
	rc = run(&c, argc - 1, argv + 1);
	md_folder_free(&c.folder);
	md_store_free(&c.store);
	return rc;
}
