/* test_store.c - one suite, two drivers.  Every test body below is written
 * once against struct store and runs twice: over a fresh temp Maildir
 * ("maildir/<test>") and over a real Dovecot on loopback ("imap/<test>",
 * started by tests/integration/harness.c).  A third group ("cross/<test>")
 * copies and moves between the two back ends.
 *
 * Each test works in its own folders ("T<pid>-<n>-<test>", plus "-b" and
 * "-c" variants), created before the body runs and deleted after it, in
 * the same Maildir or the same IMAP account, so both back ends go through
 * exactly the same calls.  When Dovecot cannot start, every imap/ and
 * cross/ test fails saying why: nothing is skipped silently.
 *
 * The messages are CRLF throughout, so RFC822.SIZE is their byte count on
 * both back ends.  \Recent is left out of flag comparisons: it belongs to
 * a session, not to the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../store/store.h"
#include "../../imap/imap.h"
#include "../integration/harness.h"

static struct harness H;
static bool harness_tried;
static char md_root[256];    /* the maildir group's Maildir */
static char cross_root[256]; /* the cross group's Maildir */
static unsigned test_counter;

#define OK(call)                                                               \
	do {                                                                   \
		struct pn_error e_ = {.msg = "(no message set)"};              \
		if ((call) < 0)                                                \
			fail_msg("%s: %s", #call, e_.msg);                     \
	} while (0)

/* ---- the messages ------------------------------------------------------- */

static const char M1[] = "From: Alice Example <alice@example.org>\r\n"
			 "To: Bob <bob@example.net>\r\n"
			 "Subject: =?utf-8?q?Hello_w=C3=B6rld?=\r\n"
			 "Message-ID: <m1.store@example.org>\r\n"
			 "Date: Sat, 15 Jun 2019 11:00:00 +0100\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "\r\n"
			 "Hello Bob,\r\n"
			 "this is the first message of the store test.\r\n";
#define M1_BODY                                                                \
	"Hello Bob,\r\n"                                                       \
	"this is the first message of the store test.\r\n"

static const char M2[] = "From: Bob <bob@example.net>\r\n"
			 "To: Alice <alice@example.org>\r\n"
			 "Subject: Re: hello\r\n"
			 "Message-ID: <m2.store@example.net>\r\n"
			 "Date: Tue, 03 Mar 2026 10:00:00 +0100\r\n"
			 "\r\n"
			 "Short.\r\n";

/* The attachment: binary, a NUL included. */
static const char PDF[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
			  "1 0 obj\n<< /Type /Catalog >>\nendobj\n"
			  "\x00\x01\x02\xff"
			  " trailer\n%%EOF\n";
/* PDF in base64 as it sits in M3: part 2's body, which ends before the
 * CRLF that belongs to the closing delimiter (RFC 2046 5.1.1). */
#define PDF_B64                                                                \
	"JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyA+"             \
	"PgplbmRvYmoKAAEC/yB0\r\n"                                             \
	"cmFpbGVyCiUlRU9GCg=="
#define M3_TEXT "The report is attached."

static const char M3[] =
    "From: Carol <carol@example.com>\r\n"
    "To: Alice <alice@example.org>, Bob <bob@example.net>\r\n"
    "Subject: Quarterly report\r\n"
    "Message-ID: <m3.store@example.com>\r\n"
    "Date: Wed, 04 Mar 2026 10:30:00 -0500\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b0undary-42\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--b0undary-42\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "\r\n" M3_TEXT "\r\n"
    "--b0undary-42\r\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    "\r\n" PDF_B64 "\r\n"
    "--b0undary-42--\r\n";

static const char *const F1[] = {"\\Seen", "project-x"};
static const char *const F2[] = {"\\Flagged", "$Label1"};

struct test_msg {
	const char *data;
	size_t len;
	const char *const *flags;
	size_t nflags;
	const char *want_flags; /* space-separated, compared as a set */
	time_t date;		/* UTC */
	int tz;
};

/* 2019-06-15 10:00:00 UTC (+0100), 2026-03-03 09:00:00 UTC (+0100),
 * 2026-03-04 15:30:00 UTC (-0500): SINCE 1-Jan-2020 splits them. */
static const struct test_msg MSGS[3] = {
    {M1, sizeof(M1) - 1, F1, 2, "\\Seen project-x", 1560592800, 60},
    {M2, sizeof(M2) - 1, F2, 2, "\\Flagged $Label1", 1772528400, 60},
    {M3, sizeof(M3) - 1, NULL, 0, "", 1772638200, -300},
};

/* ---- the fixture -------------------------------------------------------- */

enum drv { DRV_MAILDIR, DRV_IMAP, DRV_CROSS };

struct got_body {
	uint32_t uid;
	uint64_t size;
	char *data;
	size_t len;
	bool ended;
};

#define NBODY 8

struct bodies {
	struct got_body b[NBODY];
	size_t n, begins;
	bool bad_end;
};

struct snap {
	char **l;
	size_t n, cap;
};

#define NBOX 3
#define NSET 8

struct fx {
	enum drv drv;
	const char *test;
	const char *root;  /* the Maildir (maildir, cross) */
	struct store *s;   /* the store under test; cross: the Maildir */
	struct store *s2;  /* cross: the IMAP store; else a second store
			      some tests open */
	bool s2_has_boxes; /* teardown deletes the boxes in s2 too */
	struct store_folder *f, *f2; /* freed by the teardown */
	void (*body_fn)(struct fx *fx);
	struct imap_conn *raw; /* a plain connection for STATUS */
	char prefix[48];       /* "T<pid>-<n>-" */
	char box[NBOX][112];
	struct imap_seqset sets[NSET];
	unsigned nsets;
	struct imap_seqset found;
	struct bodies got;
	struct snap snap[2];
};

static void ignore(int rc)
{
	(void)rc;
}

static struct imap_conn *imap_conn_login(void)
{
	struct imap_settings st;
	struct imap_conn *c = NULL;
	struct pn_error err = {.msg = ""};

	memset(&st, 0, sizeof(st));
	st.host = H.host;
	st.port = H.imap_port;
	st.tls = IMAP_TLS_NONE;
	st.trace_fd = -1;
	st.connect_timeout_ms = 5000;
	st.read_timeout_ms = 20000;
	if (imap_connect(&st, &c, &err) < 0)
		fail_msg("connect %s:%u: %s", H.host, H.imap_port, err.msg);
	if (imap_login(c, H.user, H.password, &err) < 0) {
		imap_conn_free(&c);
		fail_msg("login %s: %s", H.user, err.msg);
	}
	return c;
}

static struct store *open_store(enum drv drv, const char *root, bool ro)
{
	struct store *s = NULL;
	struct pn_error err = {.msg = "(no message set)"};

	if (drv == DRV_IMAP) {
		if (store_open_imap(imap_conn_login(), ro, &s, &err) < 0)
			fail_msg("store_open_imap: %s", err.msg);
	} else if (store_open_maildir(root, ro, &s, &err) < 0) {
		fail_msg("store_open_maildir %s: %s", root, err.msg);
	}
	assert_non_null(s);
	return s;
}

static struct store_folder *open_folder(struct store *s, const char *name,
					bool ro)
{
	struct store_folder *f = NULL;
	struct pn_error err = {.msg = "(no message set)"};

	if (store_folder_open(s, name, ro, &f, &err) < 0)
		fail_msg("store_folder_open %s: %s", name, err.msg);
	assert_non_null(f);
	return f;
}

/* A seqset of n UIDs, owned by the fixture (a ring of NSET). */
static const struct imap_seqset *uidset(struct fx *fx, const uint32_t *u,
					size_t n)
{
	struct imap_seqset *s = &fx->sets[fx->nsets++ % NSET];
	size_t i;

	imap_seqset_clear(s);
	for (i = 0; i < n; i++)
		if (imap_seqset_add(s, u[i], u[i]) < 0)
			fail_msg("imap_seqset_add %u failed", u[i]);
	return s;
}

static const struct imap_seqset *uid1(struct fx *fx, uint32_t u)
{
	return uidset(fx, &u, 1);
}

static const struct imap_seqset *uid2(struct fx *fx, uint32_t a, uint32_t b)
{
	uint32_t u[2] = {a, b};

	return uidset(fx, u, 2);
}

/* Append the three messages to box; their UIDs in uids. */
static void append3(struct store *s, const char *box, uint32_t uids[3],
		    uint32_t *uidvalidity_out)
{
	struct store_new_msg m[3];
	struct pn_error err = {.msg = "(no message set)"};
	uint32_t uv = 0;
	size_t i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].data = MSGS[i].data;
		m[i].fd = -1;
		m[i].size = MSGS[i].len;
		m[i].flags = MSGS[i].flags;
		m[i].nflags = MSGS[i].nflags;
		m[i].date = MSGS[i].date;
		m[i].date_tz = MSGS[i].tz;
		uids[i] = 0;
	}
	if (store_append(s, box, m, 3, &uv, uids, &err) < 0)
		fail_msg("store_append %s: %s", box, err.msg);
	if (!(uids[0] > 0 && uids[0] < uids[1] && uids[1] < uids[2]))
		fail_msg("store_append %s: UIDs %u %u %u not increasing", box,
			 uids[0], uids[1], uids[2]);
	assert_true(uv > 0);
	if (uidvalidity_out)
		*uidvalidity_out = uv;
}

static uint32_t append_one(struct store *s, const char *box, int which)
{
	struct store_new_msg m;
	struct pn_error err = {.msg = "(no message set)"};
	uint32_t uv = 0, uid = 0;

	memset(&m, 0, sizeof(m));
	m.data = MSGS[which].data;
	m.fd = -1;
	m.size = MSGS[which].len;
	m.flags = MSGS[which].flags;
	m.nflags = MSGS[which].nflags;
	m.date = MSGS[which].date;
	m.date_tz = MSGS[which].tz;
	if (store_append(s, box, &m, 1, &uv, &uid, &err) < 0)
		fail_msg("store_append %s: %s", box, err.msg);
	assert_true(uid > 0);
	return uid;
}

/* ---- recording store_index ---------------------------------------------- */

#define NREC 16
#define NFLAG 12

struct addr_rec {
	char name[64], mailbox[64], host[64];
};

struct part_rec {
	char type[32], subtype[32], charset[32], name[64], boundary[64];
	char encoding[32], disposition[32], filename[64];
	uint64_t size;
	uint32_t lines;
	size_t nparts;
	bool has_ext;
};

struct rec {
	uint32_t uid;
	char flags[NFLAG][64];
	size_t nflags;
	time_t date;
	int tz;
	uint64_t size;
	bool has_env;
	char date_hdr[64], subject[128], message_id[96];
	size_t nfrom, nto;
	struct addr_rec from, to[2];
	bool has_body;
	struct part_rec body, part[2];
};

struct recs {
	struct rec r[NREC];
	size_t n, calls;
	size_t stop_after; /* return 1 at this call; 0: never */
};

/* Strings are copied: they live only during the callback. */
static void cp(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "(nil)");
}

static void cp_addr(struct addr_rec *a, const struct imap_address *x)
{
	cp(a->name, sizeof(a->name), x->name);
	cp(a->mailbox, sizeof(a->mailbox), x->mailbox);
	cp(a->host, sizeof(a->host), x->host);
}

static const char *param(const struct imap_body_param *p, size_t n,
			 const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].name && !strcasecmp(p[i].name, name))
			return p[i].value;
	return NULL;
}

static void cp_part(struct part_rec *r, const struct imap_body *b)
{
	cp(r->type, sizeof(r->type), b->type);
	cp(r->subtype, sizeof(r->subtype), b->subtype);
	cp(r->charset, sizeof(r->charset),
	   param(b->params, b->nparams, "charset"));
	cp(r->name, sizeof(r->name), param(b->params, b->nparams, "name"));
	cp(r->boundary, sizeof(r->boundary),
	   param(b->params, b->nparams, "boundary"));
	cp(r->encoding, sizeof(r->encoding), b->encoding);
	r->has_ext = b->has_ext;
	cp(r->disposition, sizeof(r->disposition),
	   b->has_ext ? b->disposition : NULL);
	cp(r->filename, sizeof(r->filename),
	   b->has_ext ? param(b->disp_params, b->ndisp_params, "filename")
		      : NULL);
	r->size = b->size;
	r->lines = b->lines;
	r->nparts = b->nparts;
}

static void record(struct rec *r, const struct store_msg *m)
{
	const struct imap_envelope *e = m->envelope;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->uid = m->uid;
	for (i = 0; i < m->nflags && i < NFLAG; i++)
		cp(r->flags[i], sizeof(r->flags[i]), m->flags[i]);
	r->nflags = i;
	r->date = m->internaldate;
	r->tz = m->internaldate_tz;
	r->size = m->size;
	if (e) {
		r->has_env = true;
		cp(r->date_hdr, sizeof(r->date_hdr), e->date);
		cp(r->subject, sizeof(r->subject), e->subject);
		cp(r->message_id, sizeof(r->message_id), e->message_id);
		r->nfrom = e->nfrom;
		r->nto = e->nto;
		if (e->nfrom > 0)
			cp_addr(&r->from, &e->from[0]);
		for (i = 0; i < e->nto && i < 2; i++)
			cp_addr(&r->to[i], &e->to[i]);
	}
	if (m->body) {
		r->has_body = true;
		cp_part(&r->body, m->body);
		for (i = 0; i < m->body->nparts && i < 2; i++)
			cp_part(&r->part[i], &m->body->parts[i]);
	}
}

static int on_msg(void *ctx, const struct store_msg *m)
{
	struct recs *rs = ctx;

	rs->calls++;
	if (rs->n < NREC)
		record(&rs->r[rs->n++], m);
	return rs->stop_after && rs->calls >= rs->stop_after ? 1 : 0;
}

/* store_index into rs (reset first); returns what store_index did. */
static int index_into(struct store_folder *f, const struct imap_seqset *uids,
		      unsigned items, struct recs *rs)
{
	struct pn_error err = {.msg = "(no message set)"};
	size_t i;
	int rc;

	rs->n = rs->calls = 0;
	rc = store_index(f, uids, items, on_msg, rs, &err);
	if (rc < 0)
		fail_msg("store_index %s: %s", store_folder_name(f), err.msg);
	for (i = 1; i < rs->n; i++)
		if (rs->r[i - 1].uid >= rs->r[i].uid)
			fail_msg("store_index: UID %u before UID %u",
				 rs->r[i - 1].uid, rs->r[i].uid);
	return rc;
}

static const struct rec *rec_of(const struct recs *rs, uint32_t uid)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->r[i].uid == uid)
			return &rs->r[i];
	fail_msg("store_index did not report UID %u (%zu messages)", uid,
		 rs->n);
	return NULL;
}

static bool has_flag(const char (*flags)[64], size_t n, const char *f)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(flags[i], f))
			return true;
	return false;
}

/* r's flags, \Recent aside, equal the space-separated want as a set. */
static void assert_flags(const struct rec *r, const char *want)
{
	char w[256], *tok, *save = NULL, got[NFLAG * 66] = "";
	char wl[NFLAG][64];
	size_t nw = 0, i;
	bool ok = true;

	snprintf(w, sizeof(w), "%s", want);
	for (tok = strtok_r(w, " ", &save); tok && nw < NFLAG;
	     tok = strtok_r(NULL, " ", &save))
		snprintf(wl[nw++], sizeof(wl[0]), "%s", tok);
	for (i = 0; i < nw; i++)
		ok = ok && has_flag(r->flags, r->nflags, wl[i]);
	for (i = 0; i < r->nflags; i++) {
		strcat(got, " ");
		strcat(got, r->flags[i]);
		if (strcasecmp(r->flags[i], "\\Recent") != 0)
			ok = ok && has_flag(wl, nw, r->flags[i]);
	}
	if (!ok)
		fail_msg("UID %u: flags {%s }, want {%s}", r->uid, got, want);
}

/* The message at r is MSGS[which]: flags, INTERNALDATE, size. */
static void assert_msg(const struct rec *r, int which)
{
	assert_flags(r, MSGS[which].want_flags);
	if (r->date != MSGS[which].date)
		fail_msg("UID %u: internaldate %lld, want %lld (message %d)",
			 r->uid, (long long)r->date,
			 (long long)MSGS[which].date, which + 1);
	if (r->size != MSGS[which].len)
		fail_msg("UID %u: size %llu, want %zu (message %d)", r->uid,
			 (unsigned long long)r->size, MSGS[which].len,
			 which + 1);
}

/* ---- recording store_fetch ---------------------------------------------- */

static void bodies_reset(struct bodies *g)
{
	size_t i;

	for (i = 0; i < NBODY; i++)
		free(g->b[i].data);
	memset(g, 0, sizeof(*g));
}

static int on_begin(void *ctx, uint32_t uid, uint64_t size)
{
	struct bodies *g = ctx;

	g->begins++;
	if (g->n < NBODY) {
		g->b[g->n].uid = uid;
		g->b[g->n].size = size;
		g->n++;
	}
	return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct bodies *g = ctx;
	struct got_body *b;
	char *nd;

	if (g->n == 0 || g->n > NBODY)
		return -1;
	b = &g->b[g->n - 1];
	nd = realloc(b->data, b->len + len + 1);
	if (!nd)
		return -1;
	memcpy(nd + b->len, data, len);
	b->data = nd;
	b->len += len;
	return 0;
}

static int on_end(void *ctx, uint32_t uid)
{
	struct bodies *g = ctx;

	if (g->n == 0 || g->b[g->n - 1].uid != uid || g->b[g->n - 1].ended)
		g->bad_end = true;
	else
		g->b[g->n - 1].ended = true;
	return 0;
}

/* store_fetch into fx->got; returns *n_out. */
static size_t fetch_into(struct fx *fx, struct store_folder *f,
			 const struct imap_seqset *uids,
			 enum store_body_kind kind, const char *section)
{
	struct store_sink sink = {&fx->got, on_begin, on_data, on_end};
	struct pn_error err = {.msg = "(no message set)"};
	size_t n = 12345;

	bodies_reset(&fx->got);
	if (store_fetch(f, uids, kind, section, &sink, &n, &err) < 0)
		fail_msg("store_fetch %s kind %d section %s: %s",
			 store_folder_name(f), (int)kind,
			 section ? section : "(none)", err.msg);
	assert_false(fx->got.bad_end);
	assert_int_equal(fx->got.begins, fx->got.n);
	return n;
}

static void assert_body(const struct got_body *b, uint32_t uid,
			const char *want, size_t len)
{
	if (b->uid != uid)
		fail_msg("fetch: body of UID %u, want UID %u", b->uid, uid);
	assert_true(b->ended);
	if (b->len != len || (len && memcmp(b->data, want, len) != 0))
		fail_msg("fetch UID %u: got %zu bytes \"%.*s\", want %zu bytes "
			 "\"%.*s\"",
			 uid, b->len, (int)(b->len < 300 ? b->len : 300),
			 b->data ? b->data : "", len,
			 (int)(len < 300 ? len : 300), want);
}

/* ---- searching ---------------------------------------------------------- */

/* criteria finds exactly the messages in mask (bit i: uids[i]). */
static void expect_search(struct fx *fx, struct store_folder *f,
			  const char *crit, const uint32_t uids[3],
			  unsigned mask)
{
	struct pn_error err = {.msg = "(no message set)"};
	char got[64] = "", want[64] = "";
	uint64_t n, nwant = 0;
	bool ok;
	int i;

	if (store_search(f, crit, &fx->found, &err) < 0)
		fail_msg("store_search '%s': %s", crit, err.msg);
	n = imap_seqset_count(&fx->found, uids[2]);
	for (i = 0; i < 3; i++) {
		if (mask & (1u << i)) {
			nwant++;
			snprintf(want + strlen(want), 16, " %u", uids[i]);
		}
		if (imap_seqset_contains(&fx->found, uids[i]))
			snprintf(got + strlen(got), 16, " %u", uids[i]);
	}
	ok = n == nwant && !strcmp(got, want);
	if (!ok)
		fail_msg("SEARCH %s: got {%s } (%llu UIDs), want {%s }", crit,
			 got, (unsigned long long)n, want);
}

/* ---- Maildir on disk ---------------------------------------------------- */

/* The directory of folder name under root: Maildir++ ".name" or the fs
 * layout's "name". */
static void md_dir(const char *root, const char *name, char *out, size_t n)
{
	char cur[1100];

	snprintf(out, n, "%s/.%s", root, name);
	snprintf(cur, sizeof(cur), "%s/cur", out);
	if (access(cur, F_OK) == 0)
		return;
	snprintf(out, n, "%s/%s", root, name);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Messages in new/ and cur/ of the folder, -1 when unreadable. */
static int md_count(const char *root, const char *name)
{
	char dir[1024], sub[1100];
	int a, b;

	md_dir(root, name, dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/new", dir);
	a = count_files(sub);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	b = count_files(sub);
	return a < 0 || b < 0 ? -1 : a + b;
}

/* Every file and directory under a root with what a write would change
 * (size, mtime, ctime, links, inode), sorted.  nftw has no context
 * argument, hence the static. */
static struct snap *snap_cur;
static size_t snap_root_len;

static int snap_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char line[1400], **nl;

	(void)type;
	(void)ftw;
	snprintf(line, sizeof(line),
		 "%s mode=%o size=%lld ino=%llu nlink=%lu mtime=%lld.%09ld "
		 "ctime=%lld.%09ld",
		 path + snap_root_len, (unsigned)st->st_mode,
		 (long long)st->st_size, (unsigned long long)st->st_ino,
		 (unsigned long)st->st_nlink, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec);
	if (snap_cur->n == snap_cur->cap) {
		snap_cur->cap = snap_cur->cap * 2 + 64;
		nl = realloc(snap_cur->l, snap_cur->cap * sizeof(*nl));
		if (!nl)
			return -1;
		snap_cur->l = nl;
	}
	snap_cur->l[snap_cur->n] = strdup(line);
	return snap_cur->l[snap_cur->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void snap_free(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->l[i]);
	free(s->l);
	memset(s, 0, sizeof(*s));
}

static void snap_take(struct snap *s, const char *root)
{
	snap_free(s);
	snap_cur = s;
	snap_root_len = strlen(root);
	if (nftw(root, snap_one, 16, FTW_PHYS) != 0)
		fail_msg("nftw %s: %s", root, strerror(errno));
	qsort(s->l, s->n, sizeof(*s->l), cmp_str);
	/* the root, cur/ new/ tmp/, a folder and its messages at least */
	assert_true(s->n >= 8);
}

/* Lines only in a or only in b, as a failure. */
static void snap_assert_same(const struct snap *a, const struct snap *b,
			     const char *when)
{
	size_t i = 0, j = 0, shown = 0;
	int c;

	while (i < a->n || j < b->n) {
		c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->l[i], b->l[j]);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (shown++ < 8)
			print_message("# %s: %s %s\n", when,
				      c < 0 ? "before" : "after ",
				      c < 0 ? a->l[i] : b->l[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	if (shown)
		fail_msg("the Maildir changed %s (%zu lines differ)", when,
			 shown);
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *dir)
{
	if (dir[0] && nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "# rm -r %s: %s\n", dir, strerror(errno));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ======================================================================
 * The tests: each runs on both drivers.  fx->s is open and fx->box[0]
 * exists (empty) when the body starts.
 * ====================================================================== */

static void t_open_identity(struct fx *fx)
{
	char port[16];

	assert_false(store_read_only(fx->s));
	if (fx->drv == DRV_MAILDIR) {
		assert_int_equal(store_kind(fx->s), STORE_MAILDIR);
		assert_string_equal(store_label(fx->s), fx->root);
		assert_null(store_imap_conn(fx->s));
		assert_true(store_separator(fx->s) == '.' ||
			    store_separator(fx->s) == '/');
	} else {
		assert_int_equal(store_kind(fx->s), STORE_IMAP);
		snprintf(port, sizeof(port), ":%u", H.imap_port);
		assert_non_null(strstr(store_label(fx->s), port));
		assert_non_null(store_imap_conn(fx->s));
		/* tests/integration/dovecot.py: separator = / */
		assert_int_equal(store_separator(fx->s), '/');
	}
	assert_true(store_flag_is_system("\\Seen"));
	assert_true(store_flag_is_system("\\fLaGgEd"));
	assert_true(store_flag_is_system("\\Recent"));
	assert_false(store_flag_is_system("$Label1"));
	assert_false(store_flag_is_system("\\Important"));
	assert_true(store_flag_valid("project-x"));
	assert_true(store_flag_valid("\\Draft"));
	assert_false(store_flag_valid("two words"));
	assert_false(store_flag_valid("a(b"));
	assert_false(store_flag_valid(""));
}

static void t_append_then_index(struct fx *fx)
{
	struct recs rs = {.n = 0};
	uint32_t uids[3], uv, next0;
	int i;

	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_string_equal(store_folder_name(fx->f), fx->box[0]);
	assert_false(store_folder_read_only(fx->f));
	assert_int_equal(store_folder_count(fx->f), 0);
	next0 = store_folder_uidnext(fx->f);
	assert_true(next0 > 0);
	store_folder_free(&fx->f);
	assert_null(fx->f);

	append3(fx->s, fx->box[0], uids, &uv);
	assert_true(uids[0] >= next0);

	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(store_folder_count(fx->f), 3);
	assert_int_equal(store_folder_uidvalidity(fx->f), uv);
	assert_int_equal(store_folder_uidnext(fx->f), uids[2] + 1);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.calls, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rs.r[i].uid, uids[i]);
		assert_msg(&rs.r[i], i);
	}
}

static void t_index_envelope(struct fx *fx)
{
	struct recs rs = {.n = 0};
	const struct rec *r;
	uint32_t uids[3];

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL,
				    STORE_ITEM_FLAGS | STORE_ITEM_ENVELOPE,
				    &rs),
			 0);
	assert_int_equal(rs.n, 3);

	r = rec_of(&rs, uids[0]);
	assert_true(r->has_env);
	assert_msg(r, 0);
	/* raw: RFC 2047 kept as sent */
	assert_string_equal(r->subject, "=?utf-8?q?Hello_w=C3=B6rld?=");
	assert_string_equal(r->date_hdr, "Sat, 15 Jun 2019 11:00:00 +0100");
	assert_string_equal(r->message_id, "<m1.store@example.org>");
	assert_int_equal(r->nfrom, 1);
	assert_string_equal(r->from.name, "Alice Example");
	assert_string_equal(r->from.mailbox, "alice");
	assert_string_equal(r->from.host, "example.org");
	assert_int_equal(r->nto, 1);
	assert_string_equal(r->to[0].name, "Bob");
	assert_string_equal(r->to[0].mailbox, "bob");
	assert_string_equal(r->to[0].host, "example.net");

	r = rec_of(&rs, uids[1]);
	assert_msg(r, 1);
	assert_string_equal(r->subject, "Re: hello");
	assert_string_equal(r->message_id, "<m2.store@example.net>");
	assert_string_equal(r->from.mailbox, "bob");

	r = rec_of(&rs, uids[2]);
	assert_msg(r, 2);
	assert_string_equal(r->subject, "Quarterly report");
	assert_string_equal(r->date_hdr, "Wed, 04 Mar 2026 10:30:00 -0500");
	assert_string_equal(r->from.name, "Carol");
	assert_int_equal(r->nto, 2);
	assert_string_equal(r->to[0].mailbox, "alice");
	assert_string_equal(r->to[1].name, "Bob");
	assert_string_equal(r->to[1].host, "example.net");
}

static void t_index_subset_and_stop(struct fx *fx)
{
	struct recs rs = {.n = 0};
	uint32_t uids[3];

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);

	assert_int_equal(index_into(fx->f, uid2(fx, uids[0], uids[2]),
				    STORE_ITEM_FLAGS | STORE_ITEM_ENVELOPE,
				    &rs),
			 0);
	assert_int_equal(rs.calls, 2);
	assert_int_equal(rs.r[0].uid, uids[0]);
	assert_int_equal(rs.r[1].uid, uids[2]);
	assert_msg(&rs.r[0], 0);
	assert_msg(&rs.r[1], 2);
	assert_string_equal(rs.r[1].subject, "Quarterly report");

	/* a UID that does not exist is not reported */
	assert_int_equal(index_into(fx->f, uid2(fx, uids[1], uids[2] + 50),
				    STORE_ITEM_FLAGS, &rs),
			 0);
	assert_int_equal(rs.calls, 1);
	assert_int_equal(rs.r[0].uid, uids[1]);

	/* early stop: fn's value comes back, no further call */
	rs.stop_after = 1;
	assert_int_equal(index_into(fx->f, NULL,
				    STORE_ITEM_FLAGS | STORE_ITEM_ENVELOPE,
				    &rs),
			 1);
	assert_int_equal(rs.calls, 1);
	assert_int_equal(rs.r[0].uid, uids[0]);
	/* the folder is usable after an early stop */
	rs.stop_after = 0;
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.calls, 3);
}

static void t_index_structure(struct fx *fx)
{
	struct recs rs = {.n = 0};
	const struct rec *r;
	uint32_t uids[3];

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, uid2(fx, uids[0], uids[2]),
				    STORE_ITEM_STRUCTURE, &rs),
			 0);
	assert_int_equal(rs.n, 2);

	r = rec_of(&rs, uids[0]);
	assert_true(r->has_body);
	assert_int_equal(strcasecmp(r->body.type, "text"), 0);
	assert_int_equal(strcasecmp(r->body.subtype, "plain"), 0);
	assert_int_equal(strcasecmp(r->body.charset, "utf-8"), 0);
	assert_int_equal(r->body.nparts, 0);
	assert_int_equal(r->body.size, strlen(M1_BODY));
	assert_int_equal(r->body.lines, 2);

	r = rec_of(&rs, uids[2]);
	assert_true(r->has_body);
	assert_int_equal(strcasecmp(r->body.type, "multipart"), 0);
	assert_int_equal(strcasecmp(r->body.subtype, "mixed"), 0);
	assert_string_equal(r->body.boundary, "b0undary-42");
	assert_int_equal(r->body.nparts, 2);

	assert_int_equal(strcasecmp(r->part[0].type, "text"), 0);
	assert_int_equal(strcasecmp(r->part[0].subtype, "plain"), 0);
	assert_int_equal(strcasecmp(r->part[0].charset, "iso-8859-1"), 0);
	assert_int_equal(r->part[0].size, strlen(M3_TEXT));

	assert_int_equal(strcasecmp(r->part[1].type, "application"), 0);
	assert_int_equal(strcasecmp(r->part[1].subtype, "pdf"), 0);
	assert_string_equal(r->part[1].name, "report.pdf");
	assert_int_equal(strcasecmp(r->part[1].encoding, "base64"), 0);
	assert_int_equal(r->part[1].size, strlen(PDF_B64));
	assert_true(r->part[1].has_ext);
	assert_int_equal(strcasecmp(r->part[1].disposition, "attachment"), 0);
	assert_string_equal(r->part[1].filename, "report.pdf");
}

static void t_fetch_raw_header(struct fx *fx)
{
	const char *hdr_end = strstr(M1, "\r\n\r\n");
	size_t hdr_len = (size_t)(hdr_end - M1) + 4;
	uint32_t uids[3];
	int i;

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);

	/* RAW: the bytes appended, the exact size announced */
	assert_int_equal(fetch_into(fx, fx->f, NULL, STORE_BODY_RAW, NULL), 3);
	assert_int_equal(fx->got.n, 3);
	for (i = 0; i < 3; i++) {
		assert_body(&fx->got.b[i], uids[i], MSGS[i].data, MSGS[i].len);
		assert_int_equal(fx->got.b[i].size, MSGS[i].len);
	}

	/* HEADER: from the first field through the blank line, its size
	 * exact too (store.h: "size is exact for RAW and HEADER") */
	assert_int_equal(fetch_into(fx, fx->f, uid2(fx, uids[0], uids[2]),
				    STORE_BODY_HEADER, NULL),
			 2);
	assert_body(&fx->got.b[0], uids[0], M1, hdr_len);
	assert_true(
	    fx->got.b[1].len > 4 &&
	    !strncmp(fx->got.b[1].data, "From: Carol", 11) &&
	    !memcmp(fx->got.b[1].data + fx->got.b[1].len - 4, "\r\n\r\n", 4));
	for (i = 0; i < 2; i++)
		if (fx->got.b[i].size != fx->got.b[i].len)
			fail_msg("HEADER of UID %u: begin() said %llu bytes, "
				 "%zu came",
				 fx->got.b[i].uid,
				 (unsigned long long)fx->got.b[i].size,
				 fx->got.b[i].len);
}

static void t_fetch_parts(struct fx *fx)
{
	uint32_t uids[3];

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);

	/* PART "2": the attachment decoded, NUL and all */
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uids[2]), STORE_BODY_PART, "2"), 1);
	assert_body(&fx->got.b[0], uids[2], PDF, sizeof(PDF) - 1);

	/* PART_ENCODED "2": the base64 as stored */
	assert_int_equal(fetch_into(fx, fx->f, uid1(fx, uids[2]),
				    STORE_BODY_PART_ENCODED, "2"),
			 1);
	assert_body(&fx->got.b[0], uids[2], PDF_B64, strlen(PDF_B64));

	/* PART "1" of the multipart: its text */
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uids[2]), STORE_BODY_PART, "1"), 1);
	assert_body(&fx->got.b[0], uids[2], M3_TEXT, strlen(M3_TEXT));

	/* PART "1" of a single-part message is its body */
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uids[0]), STORE_BODY_PART, "1"), 1);
	assert_body(&fx->got.b[0], uids[0], M1_BODY, strlen(M1_BODY));
}

/* Sections inside a nested multipart and inside an attached message:
 * IMAP numbering (RFC 3501 6.4.5), the same answer from both drivers. */
static const char NESTED[] =
    "From: Dan <dan@example.org>\r\n"
    "Subject: nested\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "plain one\r\n"
    "--alt\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html one</p>\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/mixed; boundary=\"in\"\r\n"
    "\r\n"
    "--in\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "inner text\r\n"
    "--in--\r\n"
    "--outer--\r\n";

static void t_fetch_nested(struct fx *fx)
{
	struct store_new_msg m;
	struct pn_error err = {.msg = "(no message set)"};
	uint32_t uid = 0;

	memset(&m, 0, sizeof(m));
	m.data = NESTED;
	m.fd = -1;
	m.size = sizeof(NESTED) - 1;
	if (store_append(fx->s, fx->box[0], &m, 1, NULL, &uid, &err) < 0)
		fail_msg("store_append: %s", err.msg);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "1.1"), 1);
	assert_body(&fx->got.b[0], uid, "plain one", strlen("plain one"));
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "1.2"), 1);
	assert_body(&fx->got.b[0], uid, "<p>html one</p>",
		    strlen("<p>html one</p>"));
	/* 2.1: the first part of the attached message's multipart */
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "2.1"), 1);
	assert_body(&fx->got.b[0], uid, "inner text", strlen("inner text"));
	assert_int_equal(fetch_into(fx, fx->f, uid1(fx, uid),
				    STORE_BODY_PART_ENCODED, "2.HEADER"),
			 1);
	assert_body(&fx->got.b[0], uid,
		    "Subject: inner\r\n"
		    "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n",
		    strlen("Subject: inner\r\n"
			   "Content-Type: multipart/mixed; "
			   "boundary=\"in\"\r\n\r\n"));
	/* none of these exist */
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "1.3"), 0);
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "3"), 0);
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uid), STORE_BODY_PART, "2.2"), 0);
}

static void t_fetch_skips_missing(struct fx *fx)
{
	uint32_t uids[3];
	size_t n;

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);

	/* a missing UID is skipped, *n_out counts what was delivered */
	assert_int_equal(fetch_into(fx, fx->f, uid2(fx, uids[0], uids[2] + 100),
				    STORE_BODY_RAW, NULL),
			 1);
	assert_int_equal(fx->got.n, 1);
	assert_body(&fx->got.b[0], uids[0], M1, sizeof(M1) - 1);

	/* so is a message without that part (message 2 is one text
	 * part: it has no part 2) */
	n = fetch_into(fx, fx->f, uid2(fx, uids[1], uids[2]), STORE_BODY_PART,
		       "2");
	if (n != 1 || fx->got.n != 1 || fx->got.b[0].uid != uids[2])
		fail_msg(
		    "PART 2 of UIDs %u,%u: %zu delivered, the first UID %u "
		    "(%zu bytes); want only UID %u (UID %u has no part 2)",
		    uids[1], uids[2], n, fx->got.b[0].uid, fx->got.b[0].len,
		    uids[2], uids[1]);
	assert_body(&fx->got.b[0], uids[2], PDF, sizeof(PDF) - 1);
}

/* store_fetch never sets \Seen (store.h: "Read-only: never sets \Seen"),
 * in a read-write folder too: messages 2 and 3 stay unseen. */
static void t_fetch_keeps_unseen(struct fx *fx)
{
	static const enum store_body_kind kinds[] = {
	    STORE_BODY_RAW, STORE_BODY_HEADER, STORE_BODY_PART,
	    STORE_BODY_PART_ENCODED};
	struct recs rs = {.n = 0};
	uint32_t uids[3];
	size_t k;
	int i;

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		assert_true(
		    fetch_into(fx, fx->f, NULL, kinds[k],
			       kinds[k] >= STORE_BODY_PART ? "1" : NULL) >= 1);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	for (i = 0; i < 3; i++)
		assert_msg(rec_of(&rs, uids[i]), i);
	store_folder_free(&fx->f);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	for (i = 0; i < 3; i++)
		assert_msg(rec_of(&rs, uids[i]), i);
}

static void t_search(struct fx *fx)
{
	struct pn_error err = {.msg = ""};
	char crit[64];
	uint32_t uids[3];

	assert_true(MSGS[0].len > MSGS[1].len && MSGS[2].len > MSGS[1].len &&
		    MSGS[1].len > 100);
	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);

	/* message 1: \Seen project-x, alice, 2019, "Hello wörld";
	 * message 2: \Flagged $Label1, bob to alice, "Re: hello", smallest;
	 * message 3: no flags, carol to alice and bob, the attachment */
	expect_search(fx, fx->f, "ALL", uids, 7);
	expect_search(fx, fx->f, "UNSEEN", uids, 6);
	expect_search(fx, fx->f, "SEEN", uids, 1);
	expect_search(fx, fx->f, "FLAGGED", uids, 2);
	expect_search(fx, fx->f, "UNFLAGGED", uids, 5);
	expect_search(fx, fx->f, "KEYWORD project-x", uids, 1);
	expect_search(fx, fx->f, "KEYWORD $Label1", uids, 2);
	expect_search(fx, fx->f, "UNKEYWORD project-x", uids, 6);
	expect_search(fx, fx->f, "FROM alice", uids, 1);
	expect_search(fx, fx->f, "TO alice", uids, 6);
	expect_search(fx, fx->f, "SUBJECT hello", uids, 3);
	expect_search(fx, fx->f, "NOT SEEN", uids, 6);
	expect_search(fx, fx->f, "OR FLAGGED SEEN", uids, 3);
	expect_search(fx, fx->f, "FLAGGED SEEN", uids, 0);
	expect_search(fx, fx->f, "(FROM carol) UNSEEN", uids, 4);
	expect_search(fx, fx->f, "LARGER 100", uids, 7);
	snprintf(crit, sizeof(crit), "LARGER %zu", MSGS[1].len);
	expect_search(fx, fx->f, crit, uids, 5);
	snprintf(crit, sizeof(crit), "SMALLER %zu", MSGS[0].len);
	expect_search(fx, fx->f, crit, uids, 2);
	snprintf(crit, sizeof(crit), "UID %u:*", uids[1]);
	expect_search(fx, fx->f, crit, uids, 6);
	snprintf(crit, sizeof(crit), "UID %u,%u", uids[0], uids[2]);
	expect_search(fx, fx->f, crit, uids, 5);
	expect_search(fx, fx->f, "2:*", uids, 6);
	expect_search(fx, fx->f, "SINCE 1-Jan-2020", uids, 6);
	expect_search(fx, fx->f, "BEFORE 1-Jan-2020", uids, 1);
	expect_search(fx, fx->f, "HEADER Message-ID m2.store", uids, 2);
	expect_search(fx, fx->f, "BODY attached", uids, 4);

	assert_int_equal(store_search(fx->f, "FORM alice", &fx->found, &err),
			 -1);
	assert_true(err.msg[0] != '\0');
}

static void t_set_flags(struct fx *fx)
{
	static const char *const add[] = {"\\Answered", "$Label1"};
	static const char *const rm1[] = {"\\Seen", "project-x"};
	static const char *const rm2[] = {"$Label1"};
	struct recs rs = {.n = 0};
	uint32_t uids[3];
	int pass;

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	OK(store_set_flags(fx->f, uid2(fx, uids[0], uids[2]), true, add, 2,
			   &e_));
	OK(store_set_flags(fx->f, uid1(fx, uids[0]), false, rm1, 2, &e_));
	OK(store_set_flags(fx->f, uid1(fx, uids[1]), false, rm2, 1, &e_));

	/* in the same folder, then after reopening it */
	for (pass = 0; pass < 2; pass++) {
		assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs),
				 0);
		assert_int_equal(rs.n, 3);
		assert_flags(rec_of(&rs, uids[0]), "\\Answered $Label1");
		assert_flags(rec_of(&rs, uids[1]), "\\Flagged");
		assert_flags(rec_of(&rs, uids[2]), "\\Answered $Label1");
		expect_search(fx, fx->f, "KEYWORD $Label1", uids, 5);
		expect_search(fx, fx->f, "UNSEEN", uids, 7);
		store_folder_free(&fx->f);
		fx->f = open_folder(fx->s, fx->box[0], false);
	}
}

static void t_expunge(struct fx *fx)
{
	struct recs rs = {.n = 0};
	uint32_t uids[3], next, uid4;

	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	next = store_folder_uidnext(fx->f);
	OK(store_expunge(fx->f, uid1(fx, uids[1]), &e_));
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].uid, uids[0]);
	assert_int_equal(rs.r[1].uid, uids[2]);
	assert_msg(&rs.r[0], 0);
	assert_msg(&rs.r[1], 2);
	store_folder_free(&fx->f);

	/* UIDs are not reused */
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(store_folder_count(fx->f), 2);
	assert_int_equal(store_folder_uidnext(fx->f), next);
	store_folder_free(&fx->f);
	uid4 = append_one(fx->s, fx->box[0], 1);
	assert_int_equal(uid4, next);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.r[0].uid, uids[0]);
	assert_int_equal(rs.r[1].uid, uids[2]);
	assert_int_equal(rs.r[2].uid, uid4);
	assert_msg(&rs.r[2], 1);
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uids[2]), STORE_BODY_RAW, NULL), 1);
	assert_body(&fx->got.b[0], uids[2], M3, sizeof(M3) - 1);
}

/* ---- copying ------------------------------------------------------------ */

#define NPROG 8

struct prog {
	size_t calls;
	size_t done[NPROG], total[NPROG];
	uint32_t uid[NPROG], new_uid[NPROG];
	/* a move's source, counted at every call: it must still hold every
	 * message until all copies have landed */
	int src_count[NPROG];
	const char *md_root;   /* count in this Maildir ... */
	struct imap_conn *raw; /* ... or by STATUS on this connection */
	const char *src_box;
};

static void on_progress(void *ctx, size_t done, size_t total, uint32_t uid,
			uint32_t new_uid)
{
	struct prog *p = ctx;
	struct imap_status_info st;
	struct pn_error err;
	size_t i = p->calls++;

	if (i >= NPROG)
		return;
	p->done[i] = done;
	p->total[i] = total;
	p->uid[i] = uid;
	p->new_uid[i] = new_uid;
	p->src_count[i] = -2;
	if (p->md_root) {
		p->src_count[i] = md_count(p->md_root, p->src_box);
	} else if (p->raw) {
		memset(&st, 0, sizeof(st));
		if (imap_status(p->raw, p->src_box, "MESSAGES", &st, &err) == 0)
			p->src_count[i] = (int)st.messages;
		else
			p->src_count[i] = -1;
	}
}

/* Progress was called once per message, in order, for uids. */
static void assert_progress(const struct prog *p, const uint32_t *uids,
			    size_t n)
{
	size_t i;

	if (p->calls != n)
		fail_msg("progress called %zu times for %zu messages", p->calls,
			 n);
	for (i = 0; i < n; i++)
		if (p->done[i] != i + 1 || p->total[i] != n ||
		    p->uid[i] != uids[i])
			fail_msg(
			    "progress call %zu: done %zu total %zu uid %u, "
			    "want done %zu total %zu uid %u",
			    i + 1, p->done[i], p->total[i], p->uid[i], i + 1, n,
			    uids[i]);
}

/* Folder name of s holds exactly the messages which[0..n) in UID order:
 * flags, keywords, INTERNALDATE, size and bytes.  The new UIDs in
 * uids_out (may be NULL). */
static void expect_folder(struct fx *fx, struct store *s,
			  struct store_folder **slot, const char *name,
			  const int *which, size_t n, uint32_t *uids_out)
{
	struct recs rs = {.n = 0};
	size_t i;

	*slot = open_folder(s, name, false);
	if (store_folder_count(*slot) != n)
		fail_msg("%s %s: %u messages, want %zu", store_label(s), name,
			 store_folder_count(*slot), n);
	assert_int_equal(index_into(*slot, NULL, STORE_ITEM_FLAGS, &rs), 0);
	if (rs.n != n)
		fail_msg("%s %s: store_index reported %zu messages, want %zu",
			 store_label(s), name, rs.n, n);
	for (i = 0; i < n; i++) {
		assert_msg(&rs.r[i], which[i]);
		if (uids_out)
			uids_out[i] = rs.r[i].uid;
	}
	assert_int_equal(fetch_into(fx, *slot, NULL, STORE_BODY_RAW, NULL), n);
	for (i = 0; i < n; i++)
		assert_body(&fx->got.b[i], rs.r[i].uid, MSGS[which[i]].data,
			    MSGS[which[i]].len);
	store_folder_free(slot);
}

static void t_copy_within(struct fx *fx)
{
	static const int all[] = {0, 1, 2}, two[] = {0, 2};
	static const char *const answered[] = {"\\Answered"};
	struct prog p = {0};
	struct store_progress pr = {&p, on_progress};
	struct recs rs = {.n = 0};
	uint32_t uids[3], sel[2], copies[2];
	size_t copied = 99, i;

	OK(store_create(fx->s, fx->box[1], &e_));
	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	sel[0] = uids[0];
	sel[1] = uids[2];
	OK(store_copy(fx->f, uidset(fx, sel, 2), fx->s, fx->box[1], false, &pr,
		      &copied, &e_));
	assert_int_equal(copied, 2);
	store_folder_free(&fx->f);

	expect_folder(fx, fx->s, &fx->f, fx->box[0], all, 3, NULL);
	expect_folder(fx, fx->s, &fx->f, fx->box[1], two, 2, copies);
	for (i = 0; i < 2; i++)
		if (p.new_uid[i] != 0)
			assert_int_equal(p.new_uid[i], copies[i]);

	/* the copies are messages of their own (Maildir: links share the
	 * bytes, never the flags) */
	fx->f = open_folder(fx->s, fx->box[1], false);
	OK(store_set_flags(fx->f, uid1(fx, copies[0]), true, answered, 1, &e_));
	store_folder_free(&fx->f);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(
	    index_into(fx->f, uid1(fx, uids[0]), STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_msg(&rs.r[0], 0);
	assert_progress(&p, sel, 2);
}

static void t_move_within(struct fx *fx)
{
	static const int rest[] = {0, 2}, moved[] = {1};
	struct prog p = {0};
	struct store_progress pr = {&p, on_progress};
	uint32_t uids[3];
	size_t copied = 99;

	OK(store_create(fx->s, fx->box[1], &e_));
	append3(fx->s, fx->box[0], uids, NULL);
	fx->f = open_folder(fx->s, fx->box[0], false);
	OK(store_copy(fx->f, uid1(fx, uids[1]), fx->s, fx->box[1], true, &pr,
		      &copied, &e_));
	assert_int_equal(copied, 1);
	store_folder_free(&fx->f);

	expect_folder(fx, fx->s, &fx->f, fx->box[0], rest, 2, NULL);
	expect_folder(fx, fx->s, &fx->f, fx->box[1], moved, 1, NULL);
	assert_progress(&p, &uids[1], 1);
}

/* ---- folders ------------------------------------------------------------ */

struct lrec {
	char name[112];
	size_t pos; /* 0-based position in the listing */
	bool subscribed, has_status, noselect;
	uint32_t messages, unseen, uidnext, uidvalidity;
};

struct lrecs {
	struct lrec l[16];
	size_t n, calls;
	const char *prefix; /* record INBOX and names starting so */
	int stop;	    /* returned from the first call */
};

static int on_folder(void *ctx, const struct store_folder_info *fi)
{
	struct lrecs *ls = ctx;
	struct lrec *l;

	ls->calls++;
	if (ls->n < 16 &&
	    (!strcmp(fi->name, "INBOX") ||
	     !strncmp(fi->name, ls->prefix, strlen(ls->prefix)))) {
		l = &ls->l[ls->n++];
		cp(l->name, sizeof(l->name), fi->name);
		l->pos = ls->calls - 1;
		l->subscribed = fi->subscribed;
		l->has_status = fi->has_status;
		l->noselect = fi->noselect;
		l->messages = fi->messages;
		l->unseen = fi->unseen;
		l->uidnext = fi->uidnext;
		l->uidvalidity = fi->uidvalidity;
	}
	return ls->stop;
}

static void list_into(struct fx *fx, bool status, struct lrecs *ls)
{
	struct pn_error err = {.msg = "(no message set)"};

	memset(ls, 0, sizeof(*ls));
	ls->prefix = fx->prefix;
	if (store_list(fx->s, status, on_folder, ls, &err) != 0)
		fail_msg("store_list: %s", err.msg);
}

static const struct lrec *listed(const struct lrecs *ls, const char *name)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (!strcmp(ls->l[i].name, name))
			return &ls->l[i];
	return NULL;
}

static const struct lrec *must_list(const struct lrecs *ls, const char *name)
{
	const struct lrec *l = listed(ls, name);

	if (!l)
		fail_msg("store_list did not show %s", name);
	return l;
}

static void t_list_status(struct fx *fx)
{
	struct pn_error err = {.msg = ""};
	const struct lrec *l;
	struct lrecs ls;
	uint32_t uids[3], uv;

	OK(store_create(fx->s, fx->box[1], &e_));
	append3(fx->s, fx->box[0], uids, &uv);

	list_into(fx, true, &ls);
	l = must_list(&ls, "INBOX");
	if (fx->drv == DRV_MAILDIR)
		assert_int_equal(l->pos, 0);
	l = must_list(&ls, fx->box[0]);
	assert_false(l->noselect);
	assert_true(l->has_status);
	assert_int_equal(l->messages, 3);
	assert_int_equal(l->unseen, 2);
	assert_int_equal(l->uidnext, uids[2] + 1);
	assert_int_equal(l->uidvalidity, uv);
	l = must_list(&ls, fx->box[1]);
	assert_false(l->noselect);
	assert_true(l->has_status);
	assert_int_equal(l->messages, 0);
	assert_int_equal(l->unseen, 0);

	list_into(fx, false, &ls);
	must_list(&ls, fx->box[0]);
	must_list(&ls, fx->box[1]);

	/* fn's non-zero value stops the listing and comes back */
	memset(&ls, 0, sizeof(ls));
	ls.prefix = fx->prefix;
	ls.stop = 7;
	assert_int_equal(store_list(fx->s, true, on_folder, &ls, &err), 7);
	assert_int_equal(ls.calls, 1);
}

static void t_folder_ops(struct fx *fx)
{
	struct pn_error err = {.msg = ""};
	struct lrecs ls;

	/* subscribe, unsubscribe */
	list_into(fx, false, &ls);
	assert_false(must_list(&ls, fx->box[0])->subscribed);
	OK(store_subscribe(fx->s, fx->box[0], true, &e_));
	list_into(fx, false, &ls);
	assert_true(must_list(&ls, fx->box[0])->subscribed);
	OK(store_subscribe(fx->s, fx->box[0], false, &e_));
	list_into(fx, false, &ls);
	assert_false(must_list(&ls, fx->box[0])->subscribed);

	/* create what exists: refused */
	assert_int_equal(store_create(fx->s, fx->box[0], &err), -1);
	assert_true(err.msg[0] != '\0');

	/* rename keeps the messages */
	append_one(fx->s, fx->box[0], 0);
	OK(store_rename(fx->s, fx->box[0], fx->box[1], &e_));
	list_into(fx, true, &ls);
	assert_null(listed(&ls, fx->box[0]));
	assert_int_equal(must_list(&ls, fx->box[1])->messages, 1);
	fx->f = open_folder(fx->s, fx->box[1], false);
	assert_int_equal(store_folder_count(fx->f), 1);
	store_folder_free(&fx->f);

	/* create, delete */
	OK(store_create(fx->s, fx->box[2], &e_));
	list_into(fx, false, &ls);
	must_list(&ls, fx->box[2]);
	OK(store_delete(fx->s, fx->box[2], &e_));
	list_into(fx, false, &ls);
	assert_null(listed(&ls, fx->box[2]));
	err.msg[0] = '\0';
	assert_int_equal(store_delete(fx->s, fx->box[2], &err), -1);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(
	    store_folder_open(fx->s, fx->box[2], false, &fx->f, &err), -1);
	assert_null(fx->f);
}

/* Every change refused; returns after checking the store still works. */
static void assert_refuses_changes(struct fx *fx, struct store_folder *f,
				   struct store *s, const uint32_t uids[3],
				   bool store_ro)
{
	static const char *const seen[] = {"\\Seen"};
	struct store_new_msg m;
	struct pn_error err;

	err.msg[0] = '\0';
	assert_int_equal(
	    store_set_flags(f, uid1(fx, uids[0]), false, seen, 1, &err), -1);
	assert_true(err.msg[0] != '\0');
	err.msg[0] = '\0';
	assert_int_equal(
	    store_set_flags(f, uid1(fx, uids[2]), true, seen, 1, &err), -1);
	assert_true(err.msg[0] != '\0');
	err.msg[0] = '\0';
	assert_int_equal(store_expunge(f, uid1(fx, uids[1]), &err), -1);
	assert_true(err.msg[0] != '\0');
	if (!store_ro)
		return;
	memset(&m, 0, sizeof(m));
	m.data = M2;
	m.fd = -1;
	m.size = sizeof(M2) - 1;
	err.msg[0] = '\0';
	assert_int_equal(store_append(s, fx->box[0], &m, 1, NULL, NULL, &err),
			 -1);
	assert_true(err.msg[0] != '\0');
	err.msg[0] = '\0';
	assert_int_equal(store_create(s, fx->box[1], &err), -1);
	assert_true(err.msg[0] != '\0');
}

static void t_read_only(struct fx *fx)
{
	struct recs rs = {.n = 0};
	struct lrecs ls;
	uint32_t uids[3];
	int i;

	append3(fx->s, fx->box[0], uids, NULL);
	/* let the read-write store do its bookkeeping first */
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	store_folder_free(&fx->f);
	if (fx->drv == DRV_MAILDIR)
		snap_take(&fx->snap[0], fx->root);

	/* a read-only store */
	fx->s2 = open_store(fx->drv, fx->root, true);
	assert_true(store_read_only(fx->s2));
	fx->f2 = open_folder(fx->s2, fx->box[0], false);
	assert_true(store_folder_read_only(fx->f2));
	assert_int_equal(index_into(fx->f2, NULL,
				    STORE_ITEM_FLAGS | STORE_ITEM_ENVELOPE |
					STORE_ITEM_STRUCTURE,
				    &rs),
			 0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(fetch_into(fx, fx->f2, NULL, STORE_BODY_RAW, NULL), 3);
	assert_body(&fx->got.b[2], uids[2], M3, sizeof(M3) - 1);
	expect_search(fx, fx->f2, "UNSEEN", uids, 6);
	assert_refuses_changes(fx, fx->f2, fx->s2, uids, true);
	memset(&ls, 0, sizeof(ls));
	ls.prefix = fx->prefix;
	OK(store_list(fx->s2, true, on_folder, &ls, &e_));
	assert_int_equal(must_list(&ls, fx->box[0])->unseen, 2);
	store_folder_free(&fx->f2);
	store_free(&fx->s2);
	assert_null(fx->s2);

	/* a read-only folder in a read-write store */
	fx->f = open_folder(fx->s, fx->box[0], true);
	assert_true(store_folder_read_only(fx->f));
	assert_int_equal(
	    fetch_into(fx, fx->f, uid1(fx, uids[1]), STORE_BODY_RAW, NULL), 1);
	assert_refuses_changes(fx, fx->f, fx->s, uids, false);
	store_folder_free(&fx->f);

	if (fx->drv == DRV_MAILDIR) {
		snap_take(&fx->snap[1], fx->root);
		snap_assert_same(&fx->snap[0], &fx->snap[1],
				 "in read-only mode");
	}

	/* nothing changed, and no \Seen from the fetches */
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 3);
	for (i = 0; i < 3; i++)
		assert_msg(rec_of(&rs, uids[i]), i);
}

static void t_folder_wait(struct fx *fx)
{
	struct pn_error err = {.msg = "(no message set)"};
	struct recs rs = {.n = 0};
	bool changed = true;
	double t0, ms;
	uint32_t uid;
	int i;

	fx->f = open_folder(fx->s, fx->box[0], false);
	t0 = now_ms();
	OK(store_folder_wait(fx->f, 300, &changed, &e_));
	ms = now_ms() - t0;
	assert_false(changed);
	if (ms < 250 || ms > 3000)
		fail_msg("store_folder_wait(300 ms) returned after %.0f ms",
			 ms);

	/* a second store (connection) appends */
	fx->s2 = open_store(fx->drv, fx->root, false);
	uid = append_one(fx->s2, fx->box[0], 1);
	for (i = 0; i < 10 && !changed; i++)
		if (store_folder_wait(fx->f, 500, &changed, &err) < 0)
			fail_msg("store_folder_wait: %s", err.msg);
	if (!changed)
		fail_msg("store_folder_wait: no change seen within 5 s of an "
			 "append from another store");
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].uid, uid);
	assert_msg(&rs.r[0], 1);

	/* seen and indexed: quiet again (else a "wait, index if changed"
	 * loop never rests) */
	OK(store_folder_wait(fx->f, 300, &changed, &e_));
	if (changed)
		fail_msg("store_folder_wait: changed, though nothing changed "
			 "since the last store_index");
}

static void t_errors(struct fx *fx)
{
	struct pn_error err = {.msg = ""};
	struct recs rs = {.n = 0};
	char missing[128];

	snprintf(missing, sizeof(missing), "%smissing", fx->prefix);
	assert_int_equal(store_folder_open(fx->s, missing, false, &fx->f, &err),
			 -1);
	assert_null(fx->f);
	if (!strstr(err.msg, missing))
		fail_msg("opening %s: message \"%s\" does not name it", missing,
			 err.msg);

	OK(store_create(fx->s, fx->box[1], &e_));
	fx->f = open_folder(fx->s, fx->box[0], false);
	err.msg[0] = '\0';
	if (fx->drv == DRV_IMAP) {
		/* one selected folder per connection */
		assert_int_equal(
		    store_folder_open(fx->s, fx->box[1], false, &fx->f2, &err),
		    -1);
		assert_null(fx->f2);
		assert_true(err.msg[0] != '\0');
	} else {
		fx->f2 = open_folder(fx->s, fx->box[1], false);
		assert_int_equal(
		    index_into(fx->f2, NULL, STORE_ITEM_FLAGS, &rs), 0);
		assert_int_equal(rs.n, 0);
	}
	/* the first folder is still usable */
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 0);
	if (fx->f2)
		store_folder_free(&fx->f2);
	store_folder_free(&fx->f);
	append_one(fx->s, fx->box[0], 2);
	fx->f = open_folder(fx->s, fx->box[0], false);
	assert_int_equal(index_into(fx->f, NULL, STORE_ITEM_FLAGS, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_msg(&rs.r[0], 2);
}

/* ---- across stores: Maildir <-> IMAP ------------------------------------ */

static void cross_copy(struct fx *fx, bool from_imap, bool move)
{
	static const int all[] = {0, 1, 2};
	struct store *src = from_imap ? fx->s2 : fx->s;
	struct store *dst = from_imap ? fx->s : fx->s2;
	struct prog p = {0};
	struct store_progress pr = {&p, on_progress};
	uint32_t uids[3], copies[3];
	size_t copied = 99, i;

	append3(src, fx->box[0], uids, NULL);
	fx->f = open_folder(src, fx->box[0], false);
	if (move) {
		p.src_box = fx->box[0];
		if (from_imap)
			p.raw = fx->raw = imap_conn_login();
		else
			p.md_root = fx->root;
	}
	OK(store_copy(fx->f, NULL, dst, fx->box[0], move, &pr, &copied, &e_));
	assert_int_equal(copied, 3);
	for (i = 0; move && i < 3 && i < p.calls; i++)
		if (p.src_count[i] != 3)
			fail_msg("move: after message %zu the source held %d "
				 "messages, not 3",
				 i + 1, p.src_count[i]);
	store_folder_free(&fx->f);

	expect_folder(fx, dst, &fx->f, fx->box[0], all, 3, copies);
	for (i = 0; i < 3; i++)
		if (p.new_uid[i] != 0)
			assert_int_equal(p.new_uid[i], copies[i]);
	if (move) {
		fx->f = open_folder(src, fx->box[0], false);
		if (store_folder_count(fx->f) != 0)
			fail_msg("move: the source %s %s still holds %u "
				 "messages",
				 store_label(src), fx->box[0],
				 store_folder_count(fx->f));
		store_folder_free(&fx->f);
	} else {
		expect_folder(fx, src, &fx->f, fx->box[0], all, 3, NULL);
	}
	assert_progress(&p, uids, 3);
}

static void t_copy_maildir_to_imap(struct fx *fx)
{
	cross_copy(fx, false, false);
}

static void t_copy_imap_to_maildir(struct fx *fx)
{
	cross_copy(fx, true, false);
}

static void t_move_maildir_to_imap(struct fx *fx)
{
	cross_copy(fx, false, true);
}

static void t_move_imap_to_maildir(struct fx *fx)
{
	cross_copy(fx, true, true);
}

/* ======================================================================
 * Groups and the fixture's life
 * ====================================================================== */

struct body {
	const char *name;
	void (*fn)(struct fx *fx);
};

static const struct body BODIES[] = {
    {"open_identity", t_open_identity},
    {"append_then_index", t_append_then_index},
    {"index_envelope", t_index_envelope},
    {"index_subset_and_stop", t_index_subset_and_stop},
    {"index_structure", t_index_structure},
    {"fetch_raw_header", t_fetch_raw_header},
    {"fetch_parts", t_fetch_parts},
    {"fetch_nested", t_fetch_nested},
    {"fetch_skips_missing", t_fetch_skips_missing},
    {"fetch_keeps_unseen", t_fetch_keeps_unseen},
    {"search", t_search},
    {"set_flags", t_set_flags},
    {"expunge", t_expunge},
    {"copy_within", t_copy_within},
    {"move_within", t_move_within},
    {"list_status", t_list_status},
    {"folder_ops", t_folder_ops},
    {"read_only", t_read_only},
    {"folder_wait", t_folder_wait},
    {"errors", t_errors},
};

static const struct body CROSS[] = {
    {"copy_maildir_to_imap", t_copy_maildir_to_imap},
    {"copy_imap_to_maildir", t_copy_imap_to_maildir},
    {"move_maildir_to_imap", t_move_maildir_to_imap},
    {"move_imap_to_maildir", t_move_imap_to_maildir},
};

#define NBODIES (sizeof(BODIES) / sizeof(BODIES[0]))
#define NCROSS (sizeof(CROSS) / sizeof(CROSS[0]))

struct desc {
	enum drv drv;
	const struct body *body;
};

static int test_setup(void **state)
{
	const struct desc *d = *state;
	struct fx *fx = calloc(1, sizeof(*fx));
	static const char *const suffix[NBOX] = {"", "-b", "-c"};
	size_t i;

	if (!fx)
		return -1;
	fx->drv = d->drv;
	fx->test = d->body->name;
	fx->root = d->drv == DRV_MAILDIR ? md_root
		   : d->drv == DRV_CROSS ? cross_root
					 : NULL;
	snprintf(fx->prefix, sizeof(fx->prefix), "T%ld-%u-", (long)getpid(),
		 ++test_counter);
	for (i = 0; i < NBOX; i++)
		snprintf(fx->box[i], sizeof(fx->box[i]), "%s%s%s", fx->prefix,
			 fx->test, suffix[i]);
	fx->body_fn = d->body->fn;
	*state = fx;
	return 0;
}

static void test_run(void **state)
{
	struct fx *fx = *state;

	if (fx->drv != DRV_MAILDIR && !H.ok)
		fail_msg("Dovecot unavailable: %s", H.why);
	fx->s = open_store(fx->drv == DRV_IMAP ? DRV_IMAP : DRV_MAILDIR,
			   fx->root, false);
	OK(store_create(fx->s, fx->box[0], &e_));
	if (fx->drv == DRV_CROSS) {
		fx->s2 = open_store(DRV_IMAP, NULL, false);
		fx->s2_has_boxes = true;
		OK(store_create(fx->s2, fx->box[0], &e_));
	}
	fx->body_fn(fx);
}

static void delete_boxes(struct fx *fx, struct store *s)
{
	size_t i;

	for (i = 0; i < NBOX; i++)
		ignore(store_delete(s, fx->box[i], NULL));
}

static int test_teardown(void **state)
{
	struct fx *fx = *state;
	struct pn_error err;
	size_t i;

	if (fx->f)
		store_folder_free(&fx->f);
	if (fx->f2)
		store_folder_free(&fx->f2);
	if (fx->s)
		delete_boxes(fx, fx->s);
	if (fx->s2 && fx->s2_has_boxes)
		delete_boxes(fx, fx->s2);
	if (fx->s2)
		store_free(&fx->s2);
	if (fx->s)
		store_free(&fx->s);
	if (fx->raw) {
		ignore(imap_logout(fx->raw, &err));
		imap_conn_free(&fx->raw);
	}
	for (i = 0; i < NSET; i++)
		imap_seqset_free(&fx->sets[i]);
	imap_seqset_free(&fx->found);
	bodies_reset(&fx->got);
	snap_free(&fx->snap[0]);
	snap_free(&fx->snap[1]);
	free(fx);
	return 0;
}

static void need_harness(void)
{
	if (harness_tried)
		return;
	harness_tried = true;
	if (harness_start(&H) < 0)
		fprintf(stderr, "# Dovecot harness: %s\n", H.why);
}

/* A fresh directory; the store is opened on <dir>/Maildir, which it
 * creates. */
static int make_root(char *out, size_t n)
{
	char tmpl[] = "/tmp/pn-store-XXXXXX";

	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "# mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(out, n, "%s/Maildir", tmpl);
	return 0;
}

static void rm_root(char *root)
{
	char *slash = strrchr(root, '/');

	if (!root[0] || !slash)
		return;
	*slash = '\0';
	if (!getenv("POSTERN_TEST_KEEP"))
		rm_tree(root);
	root[0] = '\0';
}

static int maildir_group_setup(void **state)
{
	(void)state;
	return make_root(md_root, sizeof(md_root));
}

static int maildir_group_teardown(void **state)
{
	(void)state;
	rm_root(md_root);
	return 0;
}

static int imap_group_setup(void **state)
{
	(void)state;
	need_harness(); /* when it fails, each test fails saying why */
	return 0;
}

static int cross_group_setup(void **state)
{
	(void)state;
	need_harness();
	return make_root(cross_root, sizeof(cross_root));
}

static int cross_group_teardown(void **state)
{
	(void)state;
	rm_root(cross_root);
	return 0;
}

static char names[2 * NBODIES + NCROSS][64];

static void fill(struct CMUnitTest *t, struct desc *d, enum drv drv,
		 const struct body *b, char *name)
{
	static const char *const drv_name[] = {"maildir", "imap", "cross"};

	snprintf(name, 64, "%s/%s", drv_name[drv], b->name);
	d->drv = drv;
	d->body = b;
	t->name = name;
	t->test_func = test_run;
	t->setup_func = test_setup;
	t->teardown_func = test_teardown;
	t->initial_state = d;
}

int main(void)
{
	static struct CMUnitTest tm[NBODIES], ti[NBODIES], tc[NCROSS];
	static struct desc dm[NBODIES], di[NBODIES], dc[NCROSS];
	int failed = 0;
	size_t i;

	for (i = 0; i < NBODIES; i++) {
		fill(&tm[i], &dm[i], DRV_MAILDIR, &BODIES[i], names[i]);
		fill(&ti[i], &di[i], DRV_IMAP, &BODIES[i], names[NBODIES + i]);
	}
	for (i = 0; i < NCROSS; i++)
		fill(&tc[i], &dc[i], DRV_CROSS, &CROSS[i],
		     names[2 * NBODIES + i]);
	failed += cmocka_run_group_tests_name(
	    "maildir", tm, maildir_group_setup, maildir_group_teardown);
	failed +=
	    cmocka_run_group_tests_name("imap", ti, imap_group_setup, NULL);
	failed += cmocka_run_group_tests_name("cross", tc, cross_group_setup,
					      cross_group_teardown);
	harness_stop(&H);
	return failed ? 1 : 0;
}
