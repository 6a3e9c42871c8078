/* maildir.c - the Maildir back end: the store calls over maildir/, with
 * the answers an IMAP server (Dovecot) would give for the same directory.
 *
 * Flags: maildir's D F R S T are \Draft \Flagged \Answered \Seen
 * \Deleted; dovecot-keywords letters are keywords; P (passed, what mutt
 * sets on forwarding) is shown as $Forwarded, and $Forwarded is stored as
 * a keyword as Dovecot stores it.  INTERNALDATE is the file's mtime in
 * the local zone, as Dovecot reports it.  RFC822.SIZE is the size with
 * CRLF line ends when the name says it (W=), else the file's size.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_p.h"
#include "../imap/imap.h"
#include "../lib/arena.h"
#include "../lib/buf.h"
#include "../lib/date.h"
#include "../maildir/maildir.h"
#include "../mime/mime.h"

static const struct {
	unsigned bit;
	const char *name;
} sysflags[] = {
	/* Dovecot's order, so both back ends list flags alike. */
	{ MD_FLAG_REPLIED, "\\Answered" }, { MD_FLAG_FLAGGED, "\\Flagged" },
	{ MD_FLAG_TRASHED, "\\Deleted" },  { MD_FLAG_SEEN, "\\Seen" },
	{ MD_FLAG_DRAFT, "\\Draft" },
};

#define FORWARDED "$Forwarded"
#define READ_CHUNK 65536

struct md_impl {
	struct md_store *ms;
};

static struct md_store *ms_of(struct store *s)
{
	return ((struct md_impl *)s->impl)->ms;
}

static struct md_folder *mf_of(struct store_folder *f)
{
	return f->impl;
}

static int nomem(struct pn_error *err)
{
	return pn_error_set(err, PN_ENOMEM, "out of memory");
}

/* ---- flags ----------------------------------------------------------------- */

/* The IMAP names of a message's flags, in a caller's array of at least
 * 6 + nkeywords + 1 entries. */
static size_t flag_names(const struct md_message *m, const char **out,
			 bool recent)
{
	size_t i, n = 0;
	bool fwd = false;

	for (i = 0; i < sizeof(sysflags) / sizeof(*sysflags); i++) {
		if (m->flags & sysflags[i].bit)
			out[n++] = sysflags[i].name;
	}
	if (recent)
		out[n++] = "\\Recent";
	for (i = 0; i < m->nkeywords; i++) {
		fwd = fwd || strcasecmp(m->keywords[i], FORWARDED) == 0;
		out[n++] = m->keywords[i];
	}
	if ((m->flags & MD_FLAG_PASSED) && !fwd)
		out[n++] = FORWARDED;
	out[n] = NULL;
	return n;
}

/* Split IMAP names into maildir bits and keywords (pointers into flags). */
static int flag_bits(const char *const *flags, size_t n, unsigned *bits,
		     const char **kw, size_t *nkw)
{
	size_t i, k;

	*bits = 0;
	*nkw = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof(sysflags) / sizeof(*sysflags); k++) {
			if (strcasecmp(flags[i], sysflags[k].name) == 0)
				break;
		}
		if (k < sizeof(sysflags) / sizeof(*sysflags))
			*bits |= sysflags[k].bit;
		else if (flags[i][0] != '\\')
			kw[(*nkw)++] = flags[i];
	}
	return 0;
}

/* ---- opening ---------------------------------------------------------------- */

static void drv_free(struct store *s)
{
	struct md_impl *mi = s->impl;

	if (!mi)
		return;
	md_store_free(&mi->ms);
	free(mi);
	s->impl = NULL;
}

static int drv_folder_open(struct store *s, struct store_folder *f,
			   struct pn_error *err)
{
	struct md_folder *mf;

	if (md_folder_open(ms_of(s), f->name, f->read_only, &mf, err) < 0)
		return -1;
	f->impl = mf;
	f->uidvalidity = md_folder_uidvalidity(mf);
	f->uidnext = md_folder_uidnext(mf);
	f->count = (uint32_t)md_folder_count(mf);
	return 0;
}

static void drv_folder_close(struct store_folder *f)
{
	struct md_folder *mf = f->impl;

	md_folder_free(&mf);
	f->impl = NULL;
}

static uint64_t md_virtual_size(struct md_folder *mf,
				const struct md_message *m);

/* ---- folders ------------------------------------------------------------------ */

struct list_ctx {
	struct store *s;
	bool status;
	int (*fn)(void *ctx, const struct store_folder_info *f);
	void *ctx;
	struct pn_error *err;
	int rc;
	struct pn_buf raw;	/* the name in modified UTF-7 */
};

static void count_folder(struct list_ctx *x, const char *name,
			 struct store_folder_info *fi)
{
	struct md_folder *mf;
	struct pn_error e;
	size_t i, n;

	/* A folder that cannot be scanned is listed without counters. */
	if (md_folder_open(ms_of(x->s), name, true, &mf, &e) < 0)
		return;
	n = md_folder_count(mf);
	fi->has_status = true;
	fi->messages = (uint32_t)n;
	fi->uidnext = md_folder_uidnext(mf);
	fi->uidvalidity = md_folder_uidvalidity(mf);
	fi->has_size = true;
	for (i = 0; i < n; i++) {
		const struct md_message *m = md_folder_message(mf, i);

		if (!(m->flags & MD_FLAG_SEEN))
			fi->unseen++;
		/* STATUS SIZE counts as RFC822.SIZE does (RFC 8438). */
		fi->size += md_virtual_size(mf, m);
	}
	md_folder_free(&mf);
}

static int on_md_folder(void *ctx, const struct md_folder_info *f)
{
	struct list_ctx *x = ctx;
	struct store_folder_info fi;
	const char *attrs[3];
	size_t n = 0;

	memset(&fi, 0, sizeof(fi));
	fi.name = f->name;
	pn_buf_reset(&x->raw);
	fi.raw_name = imap_utf7_encode(f->name, strlen(f->name), &x->raw,
				       NULL) == 0 ? pn_buf_cstr(&x->raw) : f->name;
	fi.separator = md_store_separator(ms_of(x->s));
	attrs[n++] = f->has_children ? "\\HasChildren" : "\\HasNoChildren";
	if (f->special_use)
		attrs[n++] = f->special_use;
	attrs[n] = NULL;
	fi.attrs = attrs;
	fi.nattrs = n;
	fi.special_use = f->special_use;
	fi.subscribed = f->subscribed;
	if (x->status)
		count_folder(x, f->name, &fi);
	x->rc = x->fn(x->ctx, &fi);
	return x->rc;
}

static int drv_list(struct store *s, bool status,
		    int (*fn)(void *ctx, const struct store_folder_info *f),
		    void *ctx, struct pn_error *err)
{
	struct list_ctx x = { s, status, fn, ctx, err, 0, { 0 } };
	int rc;

	pn_buf_init(&x.raw, 0);
	rc = md_store_list(ms_of(s), on_md_folder, &x, err);
	pn_buf_free(&x.raw);
	if (rc < 0 && x.rc == 0)
		return -1;
	return x.rc;
}

static int drv_create(struct store *s, const char *name, struct pn_error *err)
{
	return md_folder_create(ms_of(s), name, err);
}

static int drv_delete(struct store *s, const char *name, struct pn_error *err)
{
	return md_folder_delete(ms_of(s), name, err);
}

static int drv_rename(struct store *s, const char *from, const char *to,
		      struct pn_error *err)
{
	return md_folder_rename(ms_of(s), from, to, err);
}

static int drv_subscribe(struct store *s, const char *name, bool subscribe,
			 struct pn_error *err)
{
	return md_subscribe(ms_of(s), name, subscribe, err);
}

/* ---- reading messages ---------------------------------------------------------- */

/* RFC822.SIZE: W= (the size with CRLF line ends), which Dovecot's and
 * postern's deliveries put in the name; else the file's size.  Counting
 * the bare LFs of such a file would read all of it, and an index must
 * read headers only (mutt and mbsync deliveries carry S= alone). */
static uint64_t md_virtual_size(struct md_folder *mf,
				const struct md_message *m)
{
	struct md_name nm;

	(void)mf;
	if (md_name_parse(m->filename, &nm) == 0 && nm.vsize)
		return nm.vsize;
	return m->size;
}

static uint64_t virtual_size(struct store_folder *f, const struct md_message *m)
{
	return md_virtual_size(mf_of(f), m);
}

static void msg_base(struct store_folder *f, const struct md_message *m,
		     const char **names, struct store_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->uid = m->uid;
	out->nflags = flag_names(m, names, m->in_new);
	out->flags = names;
	out->internaldate = m->received;
	out->internaldate_tz = pn_local_tzoff(m->received);
	out->size = virtual_size(f, m);
}

/* Parse one message from its file (the source stays open in the
 * message: bodies are read back on demand). */
static int parse_message(struct store_folder *f, uint32_t uid,
			 struct mime_message **out, struct pn_error *err)
{
	int fd;

	if (md_message_open(mf_of(f), uid, &fd, err) < 0)
		return -1;
	if (mime_parse_fd(fd, NULL, NULL, out, err) < 0) {
		close(fd);
		pn_error_prefix(err, "UID %u", uid);
		return -1;
	}
	close(fd);
	return 0;
}

struct index_ctx {
	struct store_folder *f;
	const struct imap_seqset *uids;
	unsigned items;
	int (*fn)(void *ctx, const struct store_msg *m);
	void *ctx;
	struct pn_arena *arena;
	struct pn_error *err;
	int rc;
	bool failed;
};

static int index_one(struct index_ctx *x, const struct md_message *m,
		     const struct md_index_entry *e)
{
	const char **names;
	struct store_msg sm;
	struct mime_message *msg = NULL;
	int rc;

	pn_arena_reset(x->arena);
	names = pn_arena_alloc(x->arena, (8 + m->nkeywords) * sizeof(*names));
	if (!names)
		goto nomem;
	msg_base(x->f, m, names, &sm);
	if (e) {
		struct store_header_fields h;

		memset(&h, 0, sizeof(h));
		h.date = e->date;
		h.subject = e->subject;
		h.from = e->from;
		h.to = e->to;
		h.message_id = e->message_id;
		if (store_envelope_build(x->arena, &h, &sm.envelope, x->err) < 0)
			goto fail;
	}
	if (x->items & STORE_ITEM_STRUCTURE) {
		if (parse_message(x->f, m->uid, &msg, x->err) < 0)
			goto fail;
		if (store_body_build(x->arena, mime_message_root(msg), &sm.body,
				     x->err) < 0) {
			mime_message_free(&msg);
			goto fail;
		}
		/* The full envelope, now that the header is parsed anyway. */
		if ((x->items & STORE_ITEM_ENVELOPE) &&
		    store_envelope_of(x->arena, mime_message_root(msg),
				      &sm.envelope, x->err) < 0) {
			mime_message_free(&msg);
			goto fail;
		}
	}
	rc = x->fn(x->ctx, &sm);
	mime_message_free(&msg);
	return rc;
nomem:
	nomem(x->err);
fail:
	x->failed = true;
	return -1;
}

static int on_index_entry(void *ctx, const struct md_index_entry *e)
{
	struct index_ctx *x = ctx;

	if (x->uids && !imap_seqset_contains(x->uids, e->msg->uid))
		return 0;
	x->rc = index_one(x, e->msg, e);
	return x->rc;
}

static int drv_index(struct store_folder *f, const struct imap_seqset *uids,
		     unsigned items,
		     int (*fn)(void *ctx, const struct store_msg *m), void *ctx,
		     struct pn_error *err)
{
	struct index_ctx x = { f, uids, items, fn, ctx, NULL, err, 0, false };
	struct md_folder *mf = mf_of(f);
	size_t i, n = md_folder_count(mf);
	int rc = 0;

	x.arena = pn_arena_new();
	if (!x.arena)
		return nomem(err);
	if (items & STORE_ITEM_ENVELOPE && !(items & STORE_ITEM_STRUCTURE)) {
		/* The header cache: cold reads headers only, warm reads
		 * nothing but the cache. */
		rc = md_folder_index(mf, on_index_entry, &x, err);
		if (rc < 0 && !x.failed && x.rc == 0)
			rc = -1;
		else
			rc = x.failed ? -1 : x.rc;
	} else {
		for (i = 0; i < n && x.rc == 0; i++) {
			const struct md_message *m = md_folder_message(mf, i);

			if (!uids || imap_seqset_contains(uids, m->uid))
				x.rc = index_one(&x, m, NULL);
		}
		rc = x.failed ? -1 : x.rc;
	}
	pn_arena_free(&x.arena);
	return rc;
}

/* ---- search ---------------------------------------------------------------------- */

struct search_file {
	struct store_folder *f;
	uint32_t uid;
	struct pn_buf head, text;
	bool have_head, have_text;
};

/* Where the header block ends (after its blank line) in d[0..n), or 0
 * when it has not ended yet.  Scanning starts at from (minus the two
 * bytes a line end can straddle), so reading in chunks stays linear. */
static size_t header_end(const char *d, size_t n, size_t from)
{
	size_t i = from > 2 ? from - 2 : 0;

	if (n >= 1 && d[0] == '\n')
		return 1;	/* no header at all */
	if (n >= 2 && d[0] == '\r' && d[1] == '\n')
		return 2;
	for (; i + 1 < n; i++) {
		if (d[i] != '\n')
			continue;
		if (d[i + 1] == '\n')
			return i + 2;
		if (d[i + 1] == '\r' && i + 2 < n && d[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int read_file(struct search_file *sf, bool header_only,
		     struct pn_buf *out, struct pn_error *err)
{
	char buf[READ_CHUNK];
	ssize_t r;
	size_t end;
	int fd, e;

	if (md_message_open(mf_of(sf->f), sf->uid, &fd, err) < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		size_t before = out->len;

		if (pn_buf_add(out, buf, (size_t)r) < 0) {
			close(fd);
			return pn_error_set(err, PN_ELIMIT,
					    "UID %u: %s larger than %zu bytes",
					    sf->uid, header_only ? "header" :
					    "message", out->max);
		}
		if (header_only &&
		    (end = header_end(out->data, out->len, before)) > 0) {
			out->len = end;
			out->data[end] = 0;
			break;
		}
	}
	e = errno;
	close(fd);
	if (r < 0)
		return pn_error_errno(err, e, "UID %u", sf->uid);
	return 0;
}

static int search_header(void *ctx, const char **data, size_t *len,
			 struct pn_error *err)
{
	struct search_file *sf = ctx;

	if (!sf->have_head) {
		pn_buf_reset(&sf->head);
		if (read_file(sf, true, &sf->head, err) < 0)
			return -1;
		sf->have_head = true;
	}
	*data = sf->head.data;
	*len = sf->head.len;
	return 0;
}

static int search_text(void *ctx, const char **data, size_t *len,
		       struct pn_error *err)
{
	struct search_file *sf = ctx;

	if (!sf->have_text) {
		pn_buf_reset(&sf->text);
		if (read_file(sf, false, &sf->text, err) < 0)
			return -1;
		sf->have_text = true;
	}
	*data = sf->text.data;
	*len = sf->text.len;
	return 0;
}

/* A search reads at most this much of one message (TEXT and BODY keys). */
#define SEARCH_TEXT_MAX ((size_t)256 << 20)

static int drv_search(struct store_folder *f, const char *criteria,
		      struct imap_seqset *out, struct pn_error *err)
{
	struct store_search_prog *prog;
	struct md_folder *mf = mf_of(f);
	size_t i, n = md_folder_count(mf);
	struct search_file sf;
	const char *names[64];
	uint32_t max_uid = 0;
	int rc = 0, m;

	if (store_search_compile(criteria, &prog, err) < 0)
		return -1;
	memset(&sf, 0, sizeof(sf));
	sf.f = f;
	pn_buf_init(&sf.head, 4 << 20);
	pn_buf_init(&sf.text, SEARCH_TEXT_MAX);
	if (n)
		max_uid = md_folder_message(mf, n - 1)->uid;
	for (i = 0; i < n && rc == 0; i++) {
		const struct md_message *msg = md_folder_message(mf, i);
		struct store_search_msg sm;
		const char **v = names;

		if (msg->nkeywords + 8 > sizeof(names) / sizeof(*names) &&
		    !(v = malloc((msg->nkeywords + 8) * sizeof(*v)))) {
			rc = nomem(err);
			break;
		}
		memset(&sm, 0, sizeof(sm));
		sm.uid = msg->uid;
		sm.seq = (uint32_t)(i + 1);
		sm.nflags = flag_names(msg, v, false);
		sm.flags = v;
		sm.recent = msg->in_new;
		sm.internaldate = msg->received;
		sm.internaldate_tz = pn_local_tzoff(msg->received);
		/* RFC822.SIZE, as LARGER and SMALLER mean it. */
		sm.size = virtual_size(f, msg);
		sm.ctx = &sf;
		sm.header = search_header;
		sm.text = search_text;
		sf.uid = msg->uid;
		sf.have_head = sf.have_text = false;
		m = store_search_match(prog, &sm, (uint32_t)n, max_uid, err);
		if (v != names)
			free(v);
		if (m < 0)
			rc = -1;
		else if (m == 1 && imap_seqset_add(out, msg->uid, msg->uid) < 0)
			rc = nomem(err);
	}
	pn_buf_free(&sf.head);
	pn_buf_free(&sf.text);
	store_search_free(&prog);
	return rc;
}

/* ---- bodies ------------------------------------------------------------------------ */

struct deliver {
	const struct store_sink *sink;
	bool skip;
};

static int deliver_data(void *ctx, const char *data, size_t len)
{
	struct deliver *d = ctx;

	if (d->skip || len == 0)
		return 0;
	if (d->sink->data(d->sink->ctx, data, len) != 0)
		d->skip = true;
	return 0;
}

/* RAW straight from the file: no parse. */
static int stream_raw(struct store_folder *f, const struct md_message *m,
		      const struct store_sink *sink, struct pn_error *err)
{
	char buf[READ_CHUNK];
	struct deliver d = { sink, false };
	struct stat st;
	ssize_t r;
	int fd, e;

	if (md_message_open(mf_of(f), m->uid, &fd, err) < 0)
		return -1;
	d.skip = sink->begin(sink->ctx, m->uid, fstat(fd, &st) == 0 ?
			     (uint64_t)st.st_size : m->size) != 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		deliver_data(&d, buf, (size_t)r);
	e = errno;
	close(fd);
	(void)sink->end(sink->ctx, m->uid);
	if (r < 0)
		return pn_error_errno(err, e, "UID %u", m->uid);
	return 0;
}

/* The header block, blank line included: read first (it is small, and
 * begin() is owed its exact size), then handed over. */
#define HEADER_MAX ((size_t)16 << 20)

static int stream_header(struct store_folder *f, const struct md_message *m,
			 const struct store_sink *sink, struct pn_error *err)
{
	struct search_file sf;
	struct deliver d = { sink, false };
	int rc;

	memset(&sf, 0, sizeof(sf));
	sf.f = f;
	sf.uid = m->uid;
	pn_buf_init(&sf.head, HEADER_MAX);
	rc = read_file(&sf, true, &sf.head, err);
	if (rc == 0) {
		d.skip = sink->begin(sink->ctx, m->uid, sf.head.len) != 0;
		deliver_data(&d, sf.head.data, sf.head.len);
		(void)sink->end(sink->ctx, m->uid);
	}
	pn_buf_free(&sf.head);
	return rc;
}

/* "2", "1.2" name parts; "HEADER", "TEXT" and "N.MIME", "N.HEADER",
 * "N.TEXT" the pieces IMAP names (RFC 3501 6.4.5). */
static int split_section(const char *section, char *num, size_t numsz,
			 const char **what)
{
	const char *dot = strrchr(section, '.');
	const char *last = dot ? dot + 1 : section;
	size_t n;

	*what = "";
	if (strcasecmp(last, "MIME") && strcasecmp(last, "HEADER") &&
	    strcasecmp(last, "TEXT")) {
		snprintf(num, numsz, "%s", section);
		return 0;
	}
	*what = last;
	n = dot ? (size_t)(dot - section) : 0;
	if (n >= numsz)
		return -1;
	memcpy(num, section, n);
	num[n] = 0;
	return 0;
}

static int stream_part(struct store_folder *f, const struct md_message *m,
		       enum store_body_kind kind, const char *section,
		       const struct store_sink *sink, bool *found,
		       struct pn_error *err)
{
	struct mime_message *msg;
	struct mime_part *p;
	struct deliver d = { sink, false };
	char num[160];
	const char *what;
	bool defect;
	int rc;

	*found = false;
	if (split_section(section, num, sizeof(num), &what) < 0)
		return pn_error_set(err, PN_EINVAL, "bad section '%s'", section);
	if (kind == STORE_BODY_PART && what[0])
		return pn_error_set(err, PN_EINVAL,
				    "section %s cannot be decoded (it is not a part); ask for it encoded",
				    section);
	if (parse_message(f, m->uid, &msg, err) < 0)
		return -1;
	p = mime_part_by_section(mime_message_root(msg), num);
	/* N.HEADER and N.TEXT name a message/rfc822 part's message. */
	if (p && (!strcasecmp(what, "HEADER") || !strcasecmp(what, "TEXT")) &&
	    num[0]) {
		p = mime_part_is_message(p) ? mime_part_first_child(p) : NULL;
	}
	if (!p || (kind == STORE_BODY_PART && mime_part_is_multipart(p))) {
		mime_message_free(&msg);
		return 0;
	}
	*found = true;
	d.skip = sink->begin(sink->ctx, m->uid, mime_part_raw_size(p)) != 0;
	if (kind == STORE_BODY_PART)
		rc = mime_part_decode(p, deliver_data, &d, &defect, err);
	else if (!strcasecmp(what, "MIME") || !strcasecmp(what, "HEADER"))
		rc = store_part_raw(p, true, deliver_data, &d, err);
	else
		rc = store_part_raw(p, false, deliver_data, &d, err);
	(void)sink->end(sink->ctx, m->uid);
	mime_message_free(&msg);
	if (rc < 0)
		pn_error_prefix(err, "UID %u part %s", m->uid, section);
	return rc;
}

static int drv_fetch(struct store_folder *f, const struct imap_seqset *uids,
		     enum store_body_kind kind, const char *section,
		     const struct store_sink *sink, size_t *n_out,
		     struct pn_error *err)
{
	struct md_folder *mf = mf_of(f);
	size_t i, n = md_folder_count(mf);
	bool found;
	int rc = 0;

	*n_out = 0;
	for (i = 0; i < n && rc == 0; i++) {
		const struct md_message *m = md_folder_message(mf, i);

		if (uids && !imap_seqset_contains(uids, m->uid))
			continue;
		found = true;
		if (kind == STORE_BODY_RAW)
			rc = stream_raw(f, m, sink, err);
		else if (kind == STORE_BODY_HEADER)
			rc = stream_header(f, m, sink, err);
		else
			rc = stream_part(f, m, kind, section, sink, &found, err);
		if (rc == 0 && found)
			(*n_out)++;
	}
	return rc;
}

/* ---- changes ----------------------------------------------------------------------- */

/* The UIDs of uids that the folder holds, in UID order (malloc'd). */
static int present(struct store_folder *f, const struct imap_seqset *uids,
		   uint32_t **out, size_t *n_out, struct pn_error *err)
{
	struct md_folder *mf = mf_of(f);
	size_t i, n = md_folder_count(mf), k = 0;
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return nomem(err);
	for (i = 0; i < n; i++) {
		uint32_t uid = md_folder_message(mf, i)->uid;

		if (!uids || imap_seqset_contains(uids, uid))
			v[k++] = uid;
	}
	*out = v;
	*n_out = k;
	return 0;
}

static int drv_set_flags(struct store_folder *f,
			 const struct imap_seqset *uids, bool add,
			 const char *const *flags, size_t n,
			 struct pn_error *err)
{
	const char **kw = calloc(n + 1, sizeof(*kw));
	unsigned bits;
	size_t nkw, i, k, nuids;
	uint32_t *v = NULL;
	int rc;

	if (!kw)
		return nomem(err);
	flag_bits(flags, n, &bits, kw, &nkw);
	/* $Forwarded off also clears P, or the flag would come back. */
	for (k = 0; !add && k < nkw; k++) {
		if (strcasecmp(kw[k], FORWARDED) == 0)
			bits |= MD_FLAG_PASSED;
	}
	rc = present(f, uids, &v, &nuids, err);
	for (i = 0; rc == 0 && i < nuids; i++) {
		rc = md_message_set_flags(mf_of(f), v[i], add ? bits : 0,
					  add ? 0 : bits, add ? kw : NULL,
					  add ? nkw : 0, add ? NULL : kw,
					  add ? 0 : nkw, err);
	}
	free(v);
	free(kw);
	return rc;
}

static int drv_expunge(struct store_folder *f, const struct imap_seqset *uids,
		       struct pn_error *err)
{
	uint32_t *v;
	size_t n;
	int rc;

	if (present(f, uids, &v, &n, err) < 0)
		return -1;
	rc = n ? md_folder_expunge(mf_of(f), v, n, err) : 0;
	free(v);
	if (rc == 0)
		f->count = (uint32_t)md_folder_count(mf_of(f));
	return rc;
}

static int append_one(struct md_folder *mf, const struct store_new_msg *m,
		      uint32_t *uid_out, struct pn_error *err)
{
	const char **kw = calloc(m->nflags + 1, sizeof(*kw));
	struct md_append a;
	unsigned bits;
	size_t nkw;
	int rc;

	if (!kw)
		return nomem(err);
	flag_bits(m->flags, m->nflags, &bits, kw, &nkw);
	memset(&a, 0, sizeof(a));
	a.data = m->data;
	a.fd = m->fd;
	a.size = m->size;
	a.flags = bits;
	a.keywords = kw;
	a.nkeywords = nkw;
	a.received = m->date;
	rc = md_folder_append(mf, &a, uid_out, err);
	free(kw);
	return rc;
}

static int drv_append(struct store *s, const char *name,
		      const struct store_new_msg *msgs, size_t n,
		      uint32_t *uidvalidity_out, uint32_t *uids_out,
		      struct pn_error *err)
{
	struct md_folder *mf;
	uint32_t uid;
	size_t i;
	int rc = 0;

	if (md_folder_open(ms_of(s), name, false, &mf, err) < 0)
		return -1;
	if (uidvalidity_out)
		*uidvalidity_out = md_folder_uidvalidity(mf);
	for (i = 0; i < n && rc == 0; i++) {
		rc = append_one(mf, &msgs[i], &uid, err);
		if (rc == 0 && uids_out)
			uids_out[i] = uid;
		else if (rc < 0 && n > 1)
			pn_error_prefix(err, "message %zu of %zu", i + 1, n);
	}
	md_folder_free(&mf);
	return rc;
}

static int drv_copy_local(struct store_folder *src,
			  const struct imap_seqset *uids, const char *dst_name,
			  bool move, const struct store_progress *progress,
			  size_t *copied_out, struct pn_error *err)
{
	struct md_folder *dst;
	uint32_t *v, new_uid;
	size_t n, i;
	int rc;

	if (present(src, uids, &v, &n, err) < 0)
		return -1;
	if (md_folder_open(ms_of(src->store), dst_name, false, &dst, err) < 0) {
		free(v);
		return -1;
	}
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		rc = md_folder_copy(mf_of(src), v[i], dst, &new_uid, err);
		if (rc < 0)
			break;
		(*copied_out)++;
		if (progress && progress->fn)
			progress->fn(progress->ctx, i + 1, n, v[i], new_uid);
	}
	md_folder_free(&dst);
	/* A move removes only what was copied. */
	if (move && i > 0) {
		struct pn_error e2;

		if (md_folder_expunge(mf_of(src), v, *copied_out, &e2) < 0 &&
		    rc == 0) {
			*err = e2;
			pn_error_prefix(err, "copied, but removing the originals failed");
			rc = -1;
		}
		src->count = (uint32_t)md_folder_count(mf_of(src));
	}
	free(v);
	return rc;
}

static unsigned elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (unsigned)((t1.tv_sec - t0->tv_sec) * 1000 +
			  (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static int rescan(struct store_folder *f, bool *changed, struct pn_error *err)
{
	if (md_folder_rescan(mf_of(f), changed, err) < 0)
		return -1;
	f->count = (uint32_t)md_folder_count(mf_of(f));
	f->uidnext = md_folder_uidnext(mf_of(f));
	return 0;
}

static int drv_wait(struct store_folder *f, unsigned timeout_ms,
		    bool *changed_out, struct pn_error *err)
{
	char path[4096], evbuf[4096];
	const char *sub[] = { "new", "cur" };
	struct timespec t0;
	struct pollfd pfd;
	unsigned spent;
	size_t i;
	int fd, r;

	/* What changed between the last look and now counts too. */
	if (rescan(f, changed_out, err) < 0 || *changed_out)
		return *changed_out ? 0 : -1;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "inotify");
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", md_folder_path(mf_of(f)),
			 sub[i]);
		if (inotify_add_watch(fd, path, IN_CREATE | IN_DELETE |
					      IN_MOVED_FROM | IN_MOVED_TO |
					      IN_ATTRIB) < 0) {
			int e = errno;

			close(fd);
			return pn_error_errno(err, e, "inotify on %s", path);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		spent = elapsed_ms(&t0);
		if (spent >= timeout_ms)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)(timeout_ms - spent));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		while (read(fd, evbuf, sizeof(evbuf)) > 0)
			;
		/* An event may be our own uidlist write or a file that
		 * came and went in tmp/: the rescan says what really did. */
		if (rescan(f, changed_out, err) < 0) {
			close(fd);
			return -1;
		}
		if (*changed_out)
			break;
	}
	close(fd);
	return 0;
}

static const struct store_driver maildir_driver = {
	.name = "maildir",
	.free = drv_free,
	.list = drv_list,
	.create = drv_create,
	.delete = drv_delete,
	.rename = drv_rename,
	.subscribe = drv_subscribe,
	.folder_open = drv_folder_open,
	.folder_close = drv_folder_close,
	.index = drv_index,
	.search = drv_search,
	.fetch = drv_fetch,
	.set_flags = drv_set_flags,
	.expunge = drv_expunge,
	.append = drv_append,
	.copy_local = drv_copy_local,
	.wait = drv_wait,
};

int store_open_maildir(const char *root, bool read_only, struct store **out,
		       struct pn_error *err)
{
	struct store *s;
	struct md_impl *mi;

	*out = NULL;
	pn_error_clear(err);
	s = calloc(1, sizeof(*s));
	mi = calloc(1, sizeof(*mi));
	if (!s || !mi || !(s->label = strdup(root))) {
		free(s);
		free(mi);
		return nomem(err);
	}
	if (md_store_open(root, MD_LAYOUT_AUTO, read_only, &mi->ms, err) < 0) {
		free(s->label);
		free(s);
		free(mi);
		return -1;
	}
	s->impl = mi;
	s->drv = &maildir_driver;
	s->read_only = read_only;
	s->separator = md_store_separator(mi->ms);
	*out = s;
	return 0;
}
