/* fetch.c - `postern fetch TARGET MAILBOX ...`: list messages, or write
 * their headers, structure, raw bytes or one part; over IMAP or a
 * Maildir, through the store.
 *
 * The mailbox is opened read-only (IMAP: EXAMINE, every body item a
 * .PEEK; Maildir: nothing written), so nothing here changes it, not even
 * \Seen.  Bodies stream from the store's sink straight to stdout or to
 * DIR/<uid>.eml, never whole in memory.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/buf.h"
#include "../store/store.h"
#include "../lib/date.h"
#include "../lib/safefile.h"
#include "../lib/utf8.h"
#include "../mime/mime.h"

static const char CMD[] = "postern fetch";

enum mode { M_LIST, M_HEADERS, M_STRUCTURE, M_RAW, M_PART };

struct job {
	enum mode mode;
	bool json, tty, multi, encoded;
	const char *section;	/* --part */
	const char *dir;	/* -o */
	int dirfd;
	struct cli_json j;
	size_t matched;		/* messages the set holds */
	/* the output being written */
	bool open;
	uint32_t uid;
	uint64_t bytes;
	struct pn_atomic_file af;
	bool discard;		/* a failed output: drain, write nothing */
	int failures;
	/* list mode, plain: rows gathered for alignment */
	struct row *rows;
	size_t nrows, cap;
	bool nomem;
};

struct row {
	uint32_t uid;
	char *flags, *date, *from, *subject;
	uint64_t size;
};

/* ---- outputs: stdout or DIR/<uid>.eml -------------------------------- */

static void out_name(const struct job *jb, uint32_t uid, char *buf, size_t sz)
{
	if (jb->mode == M_PART)
		snprintf(buf, sz, "%" PRIu32 "-%s", uid, jb->section);
	else
		snprintf(buf, sz, "%" PRIu32 ".eml", uid);
}

static void out_begin(struct job *jb, uint32_t uid)
{
	struct pn_error err;
	char name[64];

	jb->open = true;
	jb->uid = uid;
	jb->bytes = 0;
	jb->discard = false;
	if (!jb->dir) {
		fflush(stdout);
		if (jb->mode == M_HEADERS && jb->multi)
			printf("==> UID %" PRIu32 " <==\n", uid);
		return;
	}
	out_name(jb, uid, name, sizeof(name));
	if (pn_atomic_open(&jb->af, jb->dirfd, name, false, &err) < 0) {
		cli_error(CMD, "%s/%s: %s", jb->dir, name, err.msg);
		jb->discard = true;
		jb->failures++;
	}
}

static void out_data(struct job *jb, const char *data, size_t len)
{
	jb->bytes += len;
	if (jb->discard)
		return;
	if (!jb->dir) {
		cli_put(stdout, jb->tty, data, len,
			PN_SAN_KEEP_NEWLINE | PN_SAN_KEEP_TAB);
		return;
	}
	if (pn_write_all(jb->af.fd, data, len) < 0) {
		cli_error(CMD, "%s/%s: %s", jb->dir, jb->af.name, strerror(errno));
		pn_atomic_abort(&jb->af);
		jb->discard = true;
		jb->failures++;
	}
}

static void out_end(struct job *jb)
{
	struct pn_error err;

	jb->open = false;
	if (!jb->dir || jb->discard)
		return;
	if (pn_atomic_commit(&jb->af, &err) < 0) {
		if (err.code == PN_EEXIST)
			cli_error(CMD, "%s/%s exists; not overwritten", jb->dir,
				  jb->af.name);
		else
			cli_error(CMD, "%s/%s: %s", jb->dir, jb->af.name, err.msg);
		jb->failures++;
	} else {
		printf("wrote %s/%s (%" PRIu64 " bytes)\n", jb->dir, jb->af.name,
		       jb->bytes);
	}
	pn_atomic_abort(&jb->af);
}

static int sink_begin(void *ctx, uint32_t uid, uint64_t size)
{
	(void)size;
	out_begin(ctx, uid);
	return 0;
}

static int sink_data(void *ctx, const char *data, size_t len)
{
	struct job *jb = ctx;

	if (jb->open)
		out_data(jb, data, len);
	return 0;
}

static int sink_end(void *ctx, uint32_t uid)
{
	struct job *jb = ctx;

	(void)uid;
	if (jb->open)
		out_end(jb);
	return 0;
}

/* ---- list mode -------------------------------------------------------- */

/* RFC 2047 words decoded; NULL in, NULL out. */
static char *decoded(const char *raw)
{
	struct pn_buf b;

	if (!raw)
		return NULL;
	pn_buf_init(&b, 0);
	if (mime_decode_header(raw, strlen(raw), &b, NULL) < 0) {
		pn_buf_free(&b);
		return NULL;
	}
	return pn_buf_take(&b, NULL);
}

static bool is_addr(const struct imap_address *a)
{
	return a->mailbox && a->host;
}

/* "Name <local@host>", or the address alone; NULL when none. */
static char *first_from(const struct imap_envelope *e)
{
	struct pn_buf b;
	char *name;
	size_t i;

	for (i = 0; e && i < e->nfrom; i++) {
		if (!is_addr(&e->from[i]))
			continue;
		pn_buf_init(&b, 0);
		name = decoded(e->from[i].name);
		if (name && name[0] &&
		    pn_buf_printf(&b, "%s <%s@%s>", name, e->from[i].mailbox,
				  e->from[i].host) < 0)
			b.len = 0;
		else if ((!name || !name[0]) &&
			 pn_buf_printf(&b, "%s@%s", e->from[i].mailbox,
				       e->from[i].host) < 0)
			b.len = 0;
		free(name);
		return pn_buf_take(&b, NULL);
	}
	return NULL;
}

static void addr_str(struct cli_json *j, const struct imap_address *a)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s@%s", a->mailbox, a->host);
	cli_json_str(j, buf);
}

static void json_addrs(struct cli_json *j, const struct imap_address *a,
		       size_t n)
{
	char *name;
	size_t i;

	cli_json_arr_begin(j);
	for (i = 0; i < n; i++) {
		if (!is_addr(&a[i]))
			continue;
		name = decoded(a[i].name);
		cli_json_obj_begin(j);
		cli_json_key(j, "name");
		cli_json_str(j, name);
		cli_json_key(j, "address");
		addr_str(j, &a[i]);
		cli_json_obj_end(j);
		free(name);
	}
	cli_json_arr_end(j);
}

/* INTERNALDATE in its own zone: what the server recorded, no local-time
 * surprise in scripts. */
static void short_date(const struct store_msg *f, char *out, size_t sz)
{
	time_t t = f->internaldate + (time_t)f->internaldate_tz * 60;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, sz, "-");
		return;
	}
	strftime(out, sz, "%Y-%m-%d %H:%M", &tm);
}

static char *join_flags(const struct store_msg *f)
{
	struct pn_buf b;
	size_t i;

	pn_buf_init(&b, 0);
	for (i = 0; i < f->nflags; i++) {
		if (pn_buf_printf(&b, "%s%s", i ? " " : "", f->flags[i]) < 0)
			break;
	}
	return pn_buf_take(&b, NULL);
}

static void json_list(struct job *jb, const struct store_msg *f)
{
	const struct imap_envelope *e = f->envelope;
	struct cli_json *j = &jb->j;
	char idate[32], *subject;
	size_t i;

	cli_json_obj_begin(j);
	cli_json_key(j, "uid");
	cli_json_u64(j, f->uid);
	cli_json_key(j, "flags");
	cli_json_arr_begin(j);
	for (i = 0; i < f->nflags; i++)
		cli_json_str(j, f->flags[i]);
	cli_json_arr_end(j);
	pn_internaldate_format(f->internaldate, f->internaldate_tz, idate);
	cli_json_key(j, "internaldate");
	/* Without the quotes Time2Internaldate puts around it, and with a
	 * two-digit day: IMAP's date-day-fixed allows "07" as well as " 7",
	 * and a fixed width is what a script splitting on blanks wants. */
	if (idate[1] == ' ')
		idate[1] = '0';
	cli_json_strn(j, idate + 1, strlen(idate) - 2);
	cli_json_key(j, "size");
	cli_json_u64(j, f->size);
	cli_json_key(j, "date");
	cli_json_str(j, e ? e->date : NULL);
	cli_json_key(j, "from");
	json_addrs(j, e ? e->from : NULL, e ? e->nfrom : 0);
	cli_json_key(j, "to");
	json_addrs(j, e ? e->to : NULL, e ? e->nto : 0);
	subject = decoded(e ? e->subject : NULL);
	cli_json_key(j, "subject");
	cli_json_str(j, subject);
	free(subject);
	cli_json_key(j, "message_id");
	cli_json_str(j, e ? e->message_id : NULL);
	cli_json_obj_end(j);
	cli_json_newline(j);
}

static void add_row(struct job *jb, const struct store_msg *f)
{
	struct row *r;
	char date[32];

	if (jb->nrows == jb->cap) {
		jb->cap = jb->cap ? 2 * jb->cap : 256;
		r = realloc(jb->rows, jb->cap * sizeof(*r));
		if (!r) {
			jb->nomem = true;
			return;
		}
		jb->rows = r;
	}
	r = &jb->rows[jb->nrows++];
	short_date(f, date, sizeof(date));
	r->uid = f->uid;
	r->size = f->size;
	r->flags = join_flags(f);
	r->date = strdup(date);
	r->from = first_from(f->envelope);
	r->subject = decoded(f->envelope ? f->envelope->subject : NULL);
}

static void free_rows(struct job *jb)
{
	size_t i;

	for (i = 0; i < jb->nrows; i++) {
		free(jb->rows[i].flags);
		free(jb->rows[i].date);
		free(jb->rows[i].from);
		free(jb->rows[i].subject);
	}
	free(jb->rows);
}

static size_t field_w(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_padded(const char *s, size_t w, bool tty)
{
	size_t n = field_w(s);

	cli_puts(stdout, tty, s ? s : "");
	while (n++ < w)
		putchar(' ');
}

#define FROM_MAX 30	/* wider senders are cut on a terminal only */

/* The first max code points of s (a copy). */
static char *cut(const char *s, size_t max)
{
	size_t i = 0, n = 0;

	while (s[i] && n < max) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		n++;
	}
	return strndup(s, i);
}

static void print_row(const struct row *r, size_t uw, size_t fw, size_t sw,
		      size_t mw, bool tty)
{
	char *from = r->from ? cut(r->from, mw) : NULL;

	printf("%*" PRIu32 "  ", (int)uw, r->uid);
	put_padded(r->flags, fw, tty);
	printf("  %-16s  %*" PRIu64 "  ", r->date ? r->date : "-", (int)sw,
	       r->size);
	put_padded(from, mw, tty);
	fputs("  ", stdout);
	cli_puts(stdout, tty, r->subject ? r->subject : "");
	putchar('\n');
	free(from);
}

static void print_rows(const struct job *jb)
{
	size_t i, fw = 5, uw = 3, sw = 4, mw = 4;
	char num[32];

	for (i = 0; i < jb->nrows; i++) {
		const struct row *r = &jb->rows[i];

		fw = field_w(r->flags) > fw ? field_w(r->flags) : fw;
		mw = field_w(r->from) > mw ? field_w(r->from) : mw;
		uw = (size_t)snprintf(num, sizeof(num), "%" PRIu32, r->uid) > uw ?
			strlen(num) : uw;
		sw = (size_t)snprintf(num, sizeof(num), "%" PRIu64, r->size) > sw ?
			strlen(num) : sw;
	}
	if (jb->tty && mw > FROM_MAX)
		mw = FROM_MAX;
	printf("%*s  %-*s  %-16s  %*s  %-*s  %s\n", (int)uw, "UID", (int)fw,
	       "FLAGS", "DATE", (int)sw, "SIZE", (int)mw, "FROM", "SUBJECT");
	for (i = 0; i < jb->nrows; i++)
		print_row(&jb->rows[i], uw, fw, sw, mw, jb->tty);
}

/* ---- structure mode ---------------------------------------------------- */

static bool body_is(const struct imap_body *b, const char *type)
{
	return b->type && strcasecmp(b->type, type) == 0;
}

static bool body_is_message(const struct imap_body *b)
{
	return body_is(b, "message") && b->subtype && b->nparts == 1 &&
	       (strcasecmp(b->subtype, "rfc822") == 0 ||
		strcasecmp(b->subtype, "global") == 0);
}

static const char *param(const struct imap_body_param *p, size_t n,
			 const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].name && strcasecmp(p[i].name, name) == 0)
			return p[i].value;
	}
	return NULL;
}

static const char *body_filename(const struct imap_body *b)
{
	const char *f = param(b->disp_params, b->ndisp_params, "filename");

	return f ? f : param(b->params, b->nparams, "name");
}

static void sub_section(const char *sec, size_t i, char *out, size_t sz)
{
	int n;

	if (sec[0])
		n = snprintf(out, sz, "%s.%zu", sec, i + 1);
	else
		n = snprintf(out, sz, "%zu", i + 1);
	/* BODYSTRUCTURE depth is limited by the parser far below this. */
	if (n < 0 || (size_t)n >= sz)
		snprintf(out, sz, "?");
}

#define SECTION_MAX 256

/* Lower case, as postern mime tree prints types (servers vary). */
static void type_name(const struct imap_body *b, char *out, size_t sz)
{
	size_t i;

	snprintf(out, sz, "%s/%s", b->type ? b->type : "?",
		 b->subtype ? b->subtype : "?");
	for (i = 0; out[i]; i++) {
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	}
}

static void plain_part(const struct imap_body *b, const char *sec,
		       unsigned depth, bool tty)
{
	char type[200], *fn = decoded(body_filename(b));
	const char *cs = param(b->params, b->nparams, "charset");

	type_name(b, type, sizeof(type));
	printf("  %*s%-*s  ", (int)(2 * depth), "", (int)(12 - 2 * (depth < 6 ? depth : 6)),
	       sec[0] ? sec : "-");
	cli_puts(stdout, tty, type);
	if (body_is(b, "multipart"))
		fputs("  -", stdout);
	else
		printf("  %" PRIu64, b->size);
	if (cs) {
		fputs("  ", stdout);
		cli_puts(stdout, tty, cs);
	}
	if (b->disposition) {
		fputs("  ", stdout);
		cli_puts(stdout, tty, b->disposition);
	}
	if (fn) {
		fputs("  ", stdout);
		cli_puts(stdout, tty, fn);
	}
	putchar('\n');
	free(fn);
}

static void json_part_fields(struct cli_json *j, const struct imap_body *b,
			     const char *sec)
{
	char type[200], *fn = decoded(body_filename(b));

	type_name(b, type, sizeof(type));
	cli_json_key(j, "section");
	cli_json_str(j, sec);
	cli_json_key(j, "type");
	cli_json_str(j, type);
	cli_json_key(j, "size");
	if (body_is(b, "multipart"))
		cli_json_null(j);
	else
		cli_json_u64(j, b->size);
	cli_json_key(j, "charset");
	cli_json_str(j, param(b->params, b->nparams, "charset"));
	cli_json_key(j, "encoding");
	cli_json_str(j, b->encoding);
	cli_json_key(j, "disposition");
	cli_json_str(j, b->disposition);
	cli_json_key(j, "filename");
	cli_json_str(j, fn);
	cli_json_key(j, "id");
	cli_json_str(j, b->id);
	free(fn);
}

/* One part and what is under it, in IMAP numbering: the body of a nested
 * message is "N.1" unless it is a multipart, whose children are "N.1",
 * "N.2" (RFC 3501 6.4.5). */
static void walk(struct job *jb, const struct imap_body *b, const char *sec,
		 unsigned depth)
{
	char sub[SECTION_MAX], leaf_sec[SECTION_MAX];
	bool multi = body_is(b, "multipart"), msg = body_is_message(b);
	size_t i;

	snprintf(leaf_sec, sizeof(leaf_sec), "%s", !sec[0] && !multi ? "1" : sec);
	if (jb->json) {
		cli_json_obj_begin(&jb->j);
		json_part_fields(&jb->j, b, leaf_sec);
		cli_json_key(&jb->j, "parts");
		cli_json_arr_begin(&jb->j);
	} else {
		plain_part(b, leaf_sec, depth, jb->tty);
	}
	if (msg && body_is(&b->parts[0], "multipart")) {
		walk(jb, &b->parts[0], leaf_sec, depth + 1);
	} else if (msg) {
		sub_section(leaf_sec, 0, sub, sizeof(sub));
		walk(jb, &b->parts[0], sub, depth + 1);
	}
	for (i = 0; multi && i < b->nparts; i++) {
		sub_section(sec, i, sub, sizeof(sub));
		walk(jb, &b->parts[i], sub, depth + 1);
	}
	if (jb->json) {
		cli_json_arr_end(&jb->j);
		cli_json_obj_end(&jb->j);
	}
}

static void show_structure(struct job *jb, const struct store_msg *f)
{
	if (!f->body)
		return;
	if (jb->json) {
		cli_json_obj_begin(&jb->j);
		cli_json_key(&jb->j, "uid");
		cli_json_u64(&jb->j, f->uid);
		cli_json_key(&jb->j, "structure");
		walk(jb, f->body, "", 0);
		cli_json_obj_end(&jb->j);
		cli_json_newline(&jb->j);
		return;
	}
	printf("UID %" PRIu32 "\n", f->uid);
	walk(jb, f->body, "", 0);
}

static int on_msg(void *ctx, const struct store_msg *f)
{
	struct job *jb = ctx;

	if (jb->mode == M_STRUCTURE) {
		show_structure(jb, f);
	} else if (jb->json) {
		json_list(jb, f);
	} else {
		add_row(jb, f);
	}
	return jb->nomem ? 1 : 0;
}

static int count_msg(void *ctx, const struct store_msg *f)
{
	(void)f;
	((struct job *)ctx)->matched++;
	return 0;
}

/* ---- the run ------------------------------------------------------------ */

struct req {
	const char *mailbox;
	const char *uids;	/* --uid SET (or the URL's ;UID=) */
	const char *search;
};

/* The UIDs asked for: the search's answer, --uid, or NULL for all. */
static int resolve_set(struct store_folder *f, const struct req *rq,
		       struct imap_seqset *set, bool *all,
		       struct pn_error *err)
{
	*all = false;
	if (rq->uids)
		return imap_seqset_parse(set, rq->uids, strlen(rq->uids), err);
	if (!rq->search) {
		*all = true;
		return 0;
	}
	return store_search(f, rq->search, set, err);
}

static int open_dir(struct job *jb, struct pn_error *err)
{
	if (!jb->dir)
		return 0;
	if (mkdir(jb->dir, 0700) < 0 && errno != EEXIST)
		return pn_error_errno(err, errno, "%s", jb->dir);
	jb->dirfd = open(jb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (jb->dirfd < 0)
		return pn_error_errno(err, errno, "%s", jb->dir);
	return 0;
}

/* stdout takes one message (headers excepted: they get a banner each). */
static int count_matches(struct store_folder *f, struct job *jb,
			 const struct imap_seqset *set, struct pn_error *err)
{
	if (store_index(f, set, STORE_ITEM_FLAGS, count_msg, jb, err) < 0)
		return -1;
	jb->multi = jb->matched > 1;
	if (jb->matched == 0 && jb->mode != M_HEADERS)
		return pn_error_set(err, PN_ENOTFOUND, "no message matches");
	if (jb->multi && !jb->dir && jb->mode != M_HEADERS)
		return pn_error_set(err, PN_EINVAL, "%zu messages match; stdout takes one (-o DIR writes each to DIR/<uid>%s)",
				    jb->matched, jb->mode == M_PART ? "-SECTION" : ".eml");
	return 0;
}

static enum store_body_kind body_kind(const struct job *jb)
{
	switch (jb->mode) {
	case M_HEADERS:
		return STORE_BODY_HEADER;
	case M_PART:
		return jb->encoded ? STORE_BODY_PART_ENCODED : STORE_BODY_PART;
	default:
		return STORE_BODY_RAW;
	}
}

static bool section_numeric(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return false;
	}
	return true;
}

static int fetch_all(struct store *st, struct job *jb, const struct req *rq,
		     struct pn_error *err)
{
	struct store_sink sink = { jb, sink_begin, sink_data, sink_end };
	struct store_folder *f;
	struct imap_seqset set = { 0 };
	const struct imap_seqset *which;
	enum store_body_kind kind = body_kind(jb);
	bool all;
	size_t got = 0;
	int rc;

	/* HEADER, TEXT and MIME sections are not decodable parts: they
	 * come as stored, as --encoded would give them. */
	if (kind == STORE_BODY_PART && !section_numeric(jb->section))
		kind = STORE_BODY_PART_ENCODED;
	if (store_folder_open(st, rq->mailbox, true, &f, err) < 0)
		return -1;
	rc = resolve_set(f, rq, &set, &all, err);
	which = all ? NULL : &set;
	if (rc == 0 && !all && set.n == 0 && jb->mode != M_LIST &&
	    jb->mode != M_STRUCTURE)
		rc = pn_error_set(err, PN_ENOTFOUND, "no message matches");
	if (rc == 0 && (all || set.n > 0)) {
		if (jb->mode == M_LIST)
			rc = store_index(f, which, STORE_ITEM_ENVELOPE, on_msg,
					 jb, err);
		else if (jb->mode == M_STRUCTURE)
			rc = store_index(f, which, STORE_ITEM_STRUCTURE, on_msg,
					 jb, err);
		else if ((rc = count_matches(f, jb, which, err)) == 0)
			rc = store_fetch(f, which, kind, jb->section, &sink,
					 &got, err);
		if (rc > 0)
			rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	/* A part that no matching message has is an error, not silence. */
	if (rc == 0 && jb->mode == M_PART && got == 0 && jb->matched > 0)
		rc = pn_error_set(err, PN_ENOTFOUND, "no part %s in %s",
				  jb->section, jb->matched > 1 ?
				  "any matching message" : "the message");
	imap_seqset_free(&set);
	store_folder_free(&f);
	return rc;
}

/* A section goes into the command as is: no blanks, brackets, quotes. */
static bool section_ok(const char *sec)
{
	return sec[0] && strlen(sec) <= 128 && !strpbrk(sec, " ()[]<>\"\\\r\n");
}

static int run(const struct cli_conn_opts *o, const char *target,
	       const char *mailbox, struct job *jb, struct req *rq)
{
	struct cli_store cs;
	struct pn_error err;
	int rc;

	rc = cli_store_open(CMD, o, target, true, &cs);
	if (rc != CLI_OK)
		return rc;
	rq->mailbox = mailbox ? mailbox : cs.session.mailbox;
	if (!rq->uids && !rq->search)
		rq->uids = cs.session.url_uid;
	/* imap://host/INBOX/;UID=5/;SECTION=2 names one part (RFC 5092). */
	if (jb->mode == M_LIST && cs.session.url_section) {
		jb->mode = M_PART;
		jb->section = cs.session.url_section;
	}
	pn_error_clear(&err);
	if (jb->section && !section_ok(jb->section))
		rc = pn_error_set(&err, PN_EINVAL, "bad section '%s'", jb->section);
	else if (!rq->mailbox && cs.maildir)
		rq->mailbox = "INBOX";
	if (rc == 0 && !rq->mailbox)
		rc = pn_error_set(&err, PN_EINVAL, "missing MAILBOX (the target names none)");
	else if (rc == 0)
		rc = open_dir(jb, &err);
	if (rc == 0)
		rc = fetch_all(cs.store, jb, rq, &err);
	if (rc < 0)
		cli_error(CMD, "%s%s%s", rq->mailbox ? rq->mailbox : "",
			  rq->mailbox ? ": " : "", err.msg);
	cli_store_close(&cs);
	if (rc == 0 && jb->mode == M_LIST && !jb->json && jb->nrows)
		print_rows(jb);
	if (rc == 0 && jb->nomem)
		cli_error(CMD, "out of memory");
	return rc < 0 || jb->failures || jb->nomem ? CLI_FAIL : CLI_OK;
}

static int set_mode(struct job *jb, enum mode m, const char *opt)
{
	if (jb->mode != M_LIST && jb->mode != m)
		return cli_usage(CMD, "%s cannot be combined with another of --headers, --structure, --raw, --part",
				 opt);
	jb->mode = m;
	return 0;
}

static int check_combination(const struct job *jb, const struct req *rq)
{
	if (rq->uids && rq->search)
		return cli_usage(CMD, "--uid and --search exclude each other");
	if (jb->dir && jb->mode != M_RAW && jb->mode != M_PART)
		return cli_usage(CMD, "-o DIR goes with --raw or --part");
	if (jb->json && jb->mode != M_LIST && jb->mode != M_STRUCTURE)
		return cli_usage(CMD, "--json goes with the list or --structure");
	if (jb->encoded && jb->mode != M_PART)
		return cli_usage(CMD, "--encoded goes with --part");
	if (jb->section && !section_ok(jb->section))
		return cli_usage(CMD, "bad section '%s'", jb->section);
	return 0;
}

static int check_uids(const char *arg)
{
	struct imap_seqset set = { 0 };
	struct pn_error err;
	int rc = imap_seqset_parse(&set, arg, strlen(arg), &err);

	imap_seqset_free(&set);
	if (rc < 0)
		return cli_usage(CMD, "--uid: %s", err.msg);
	return 0;
}

static int operands(const struct cli_conn_opts *o, struct job *jb,
		    struct req *rq, int argc, char **argv)
{
	int need = o->tunnel ? 0 : 1;
	const char *target = o->tunnel ? NULL : argv[optind];

	if (argc - optind < need)
		return cli_usage(CMD, "missing TARGET (an account, an imap:// or imaps:// URL, a Maildir, or --tunnel CMD)");
	if (argc - optind > need + 1)
		return cli_usage(CMD, "unexpected argument '%s'",
				 argv[optind + need + 1]);
	return run(o, target, argc - optind > need ? argv[optind + need] : NULL,
		   jb, rq);
}

int cli_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "search", required_argument, NULL, 's' },
		{ "headers", no_argument, NULL, 'H' },
		{ "structure", no_argument, NULL, 'S' },
		{ "raw", no_argument, NULL, 'r' },
		{ "part", required_argument, NULL, 'p' },
		{ "encoded", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_conn_opts o = { 0 };
	struct job jb;
	struct req rq = { 0 };
	int c, r;

	memset(&jb, 0, sizeof(jb));
	jb.dirfd = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:s:HSrp:ejo:h", opts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		r = 0;
		switch (c) {
		case 'u': rq.uids = optarg; r = check_uids(optarg); break;
		case 's': rq.search = optarg; break;
		case 'H': r = set_mode(&jb, M_HEADERS, "--headers"); break;
		case 'S': r = set_mode(&jb, M_STRUCTURE, "--structure"); break;
		case 'r': r = set_mode(&jb, M_RAW, "--raw"); break;
		case 'p':
			r = set_mode(&jb, M_PART, "--part");
			jb.section = optarg;
			break;
		case 'e': jb.encoded = true; break;
		case 'j': jb.json = true; break;
		case 'o': jb.dir = optarg; break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
		if (r)
			return r;
	}
	if ((r = check_combination(&jb, &rq)) != 0)
		return r;
	jb.tty = isatty(STDOUT_FILENO);
	cli_json_init(&jb.j, stdout);
	r = operands(&o, &jb, &rq, argc, argv);
	free_rows(&jb);
	if (jb.dirfd >= 0)
		close(jb.dirfd);
	return r == CLI_OK ? cli_finish_stdout(CMD, r) : r;
}
