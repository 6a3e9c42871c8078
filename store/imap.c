/* imap.c - the IMAP back end: the store calls as IMAP commands on one
 * connection.
 *
 * Everything here is a UID command, so nothing depends on sequence
 * numbers staying put while another client expunges.  Bodies come with
 * .PEEK (read-only means read-only), large literals stream through the
 * connection's literal sink to the caller's sink, and the literal sink
 * only knows sequence numbers, so a body fetch asks for (UID) first.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store_p.h"
#include "../imap/imap.h"
#include "../lib/buf.h"

struct imap_store {
	struct imap_conn *conn;
	/* What untagged responses said since the last wait. */
	bool changed;
	uint32_t exists;
	bool has_exists;
	bool own_fetch;		/* a FETCH of ours is running: its
				   responses are no news */
};

static struct imap_store *impl(struct store *s)
{
	return s->impl;
}

static struct imap_conn *conn_of(struct store_folder *f)
{
	return impl(f->store)->conn;
}

static void on_untagged(void *ctx, const struct imap_response *r)
{
	struct imap_store *is = ctx;

	if (r->kind != IMAP_RESP_UNTAGGED || !r->name)
		return;
	if (strcmp(r->name, "EXISTS") == 0 && r->has_number) {
		if (!is->has_exists || r->number != is->exists)
			is->changed = true;
		is->exists = r->number;
		is->has_exists = true;
	} else if (strcmp(r->name, "EXPUNGE") == 0 ||
		   strcmp(r->name, "VANISHED") == 0) {
		is->changed = true;
		if (strcmp(r->name, "EXPUNGE") == 0 && is->exists > 0)
			is->exists--;
	} else if (strcmp(r->name, "FETCH") == 0 && !is->own_fetch) {
		/* An unsolicited FETCH is another client's flag change. */
		is->changed = true;
	}
}

static void drv_free(struct store *s)
{
	struct imap_store *is = impl(s);
	struct pn_error err;

	if (!is)
		return;
	if (is->conn) {
		imap_conn_set_events(is->conn, NULL);
		/* The work is done; a failing LOGOUT changes nothing. */
		if (imap_logout(is->conn, &err) < 0)
			pn_error_clear(&err);
		imap_conn_free(&is->conn);
	}
	free(is);
	s->impl = NULL;
}

/* ---- folders ------------------------------------------------------------ */

struct entry {
	char *name, *raw_name;
	char sep;
	char **attrs;
	size_t nattrs;
	bool subscribed;
	struct imap_status_info st;
};

struct listing {
	struct entry *v;
	size_t n, cap;
	bool nomem;
	bool want_status;
};

static const char *const special_uses[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
	"\\Trash", "\\Important",
};

static bool has_attr(const struct entry *e, const char *a)
{
	size_t i;

	for (i = 0; i < e->nattrs; i++) {
		if (strcasecmp(e->attrs[i], a) == 0)
			return true;
	}
	return false;
}

static const char *special_use(const struct entry *e)
{
	size_t k;

	for (k = 0; k < sizeof(special_uses) / sizeof(*special_uses); k++) {
		if (has_attr(e, special_uses[k]))
			return special_uses[k];
	}
	return NULL;
}

static struct entry *find_entry(struct listing *l, const char *name)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	}
	return NULL;
}

static void add_entry(struct listing *l, const struct imap_list_entry *e)
{
	struct entry *n;
	size_t i;

	if (l->nomem)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		n = realloc(l->v, l->cap * sizeof(*n));
		if (!n) {
			l->nomem = true;
			return;
		}
		l->v = n;
	}
	n = &l->v[l->n];
	memset(n, 0, sizeof(*n));
	n->name = strdup(e->name ? e->name : "");
	n->raw_name = strdup(e->raw_name ? e->raw_name : n->name ? n->name : "");
	n->sep = e->delimiter;
	n->attrs = calloc(e->nattrs + 1, sizeof(*n->attrs));
	if (!n->name || !n->raw_name || !n->attrs) {
		free(n->name);
		free(n->raw_name);
		free(n->attrs);
		l->nomem = true;
		return;
	}
	l->n++;
	for (i = 0; i < e->nattrs; i++) {
		if (!(n->attrs[n->nattrs] = strdup(e->attrs[i]))) {
			l->nomem = true;
			return;
		}
		n->nattrs++;
	}
	n->subscribed = has_attr(n, "\\Subscribed");
}

static void on_list(void *ctx, const struct imap_list_entry *e,
		    const struct imap_status_info *st)
{
	struct listing *l = ctx;
	struct entry *en;

	if (e) {
		add_entry(l, e);
		return;
	}
	if (st && st->name && (en = find_entry(l, st->name))) {
		en->st = *st;
		en->st.name = NULL;
	}
}

static void on_lsub(void *ctx, const struct imap_list_entry *e,
		    const struct imap_status_info *st)
{
	struct listing *l = ctx;
	struct entry *en;

	(void)st;
	if (e && e->name && (en = find_entry(l, e->name)))
		en->subscribed = true;
}

static void listing_free(struct listing *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < l->v[i].nattrs; k++)
			free(l->v[i].attrs[k]);
		free(l->v[i].attrs);
		free(l->v[i].name);
		free(l->v[i].raw_name);
	}
	free(l->v);
}

static int gather(struct imap_conn *c, bool status, struct listing *l,
		  struct pn_error *err)
{
	const struct imap_caps *caps = imap_conn_caps(c);
	bool ext = imap_caps_has(caps, "LIST-EXTENDED");
	bool lstatus = status && imap_caps_has(caps, "LIST-STATUS");
	/* RETURN (SPECIAL-USE) is a LIST-EXTENDED return option. */
	bool su = ext && imap_caps_has(caps, "SPECIAL-USE");
	bool size = imap_caps_has(caps, "STATUS=SIZE");
	struct imap_list_opts o = { 0 };
	struct pn_buf ret;
	struct imap_list_opts lo = { .lsub = true };
	int rc;

	pn_buf_init(&ret, 0);
	rc = 0;
	if (ext && pn_buf_adds(&ret, "SUBSCRIBED") < 0)
		rc = -1;
	if (su && rc == 0 && pn_buf_printf(&ret, "%sSPECIAL-USE",
					   ret.len ? " " : "") < 0)
		rc = -1;
	if (lstatus && rc == 0 &&
	    pn_buf_printf(&ret, "%sSTATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY%s)",
			  ret.len ? " " : "", size ? " SIZE" : "") < 0)
		rc = -1;
	if (rc < 0) {
		pn_buf_free(&ret);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	o.ret = ret.len ? pn_buf_cstr(&ret) : NULL;
	l->want_status = status;
	rc = imap_list(c, "", "*", &o, on_list, l, err);
	pn_buf_free(&ret);
	if (rc == 0 && !ext)
		rc = imap_list(c, "", "*", &lo, on_lsub, l, err);
	if (rc == 0 && l->nomem)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	if (rc < 0 || !status || lstatus)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		struct entry *e = &l->v[i];

		if (has_attr(e, "\\Noselect") || has_attr(e, "\\NonExistent"))
			continue;
		if (imap_status(c, e->name,
				size ? "MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE" : NULL,
				&e->st, err) < 0)
			return -1;
		e->st.name = NULL;
	}
	return 0;
}

static int drv_list(struct store *s, bool status,
		    int (*fn)(void *ctx, const struct store_folder_info *f),
		    void *ctx, struct pn_error *err)
{
	struct listing l = { 0 };
	struct store_folder_info fi;
	int rc;
	size_t i;

	rc = gather(impl(s)->conn, status, &l, err);
	for (i = 0; rc == 0 && i < l.n; i++) {
		const struct entry *e = &l.v[i];
		const struct imap_status_info *st = &e->st;

		memset(&fi, 0, sizeof(fi));
		fi.name = e->name;
		fi.raw_name = e->raw_name;
		fi.separator = e->sep;
		fi.attrs = (const char *const *)e->attrs;
		fi.nattrs = e->nattrs;
		fi.special_use = special_use(e);
		fi.noselect = has_attr(e, "\\Noselect") ||
			      has_attr(e, "\\NonExistent");
		fi.subscribed = e->subscribed;
		fi.has_status = status && (st->has & IMAP_STATUS_MESSAGES);
		fi.messages = st->messages;
		fi.unseen = st->unseen;
		fi.uidnext = st->uidnext;
		fi.uidvalidity = st->uidvalidity;
		fi.has_size = (st->has & IMAP_STATUS_SIZE) != 0;
		fi.size = st->size;
		rc = fn(ctx, &fi);
	}
	listing_free(&l);
	return rc;
}

static int drv_create(struct store *s, const char *name, struct pn_error *err)
{
	return imap_create(impl(s)->conn, name, NULL, err);
}

static int drv_delete(struct store *s, const char *name, struct pn_error *err)
{
	return imap_delete(impl(s)->conn, name, err);
}

static int drv_rename(struct store *s, const char *from, const char *to,
		      struct pn_error *err)
{
	return imap_rename(impl(s)->conn, from, to, err);
}

static int drv_subscribe(struct store *s, const char *name, bool subscribe,
			 struct pn_error *err)
{
	return imap_subscribe(impl(s)->conn, name, subscribe, err);
}

static int drv_folder_open(struct store *s, struct store_folder *f,
			   struct pn_error *err)
{
	struct imap_store *is = impl(s);
	struct imap_mailbox_info mi;

	memset(&mi, 0, sizeof(mi));
	if (imap_select(is->conn, f->name, f->read_only, NULL, false, &mi,
			err) < 0)
		return -1;
	f->uidvalidity = mi.uidvalidity;
	f->uidnext = mi.uidnext;
	f->count = mi.exists;
	/* A server may EXAMINE what we asked to SELECT (no rights). */
	if (mi.read_only)
		f->read_only = true;
	is->exists = mi.exists;
	is->has_exists = true;
	is->changed = false;
	imap_mailbox_info_free(&mi);
	return 0;
}

static void drv_folder_close(struct store_folder *f)
{
	struct imap_conn *c = conn_of(f);
	struct pn_error err;

	if (imap_conn_state(c) != IMAP_STATE_SELECTED)
		return;
	/* UNSELECT leaves without expunging.  Without it, CLOSE expunges
	 * only a mailbox opened read-write, so re-EXAMINE it first. */
	if (imap_caps_has(imap_conn_caps(c), "UNSELECT")) {
		if (imap_unselect(c, &err) < 0)
			pn_error_clear(&err);
		return;
	}
	if (!f->read_only) {
		struct imap_mailbox_info mi;

		memset(&mi, 0, sizeof(mi));
		if (imap_select(c, f->name, true, NULL, false, &mi, &err) < 0)
			return;
		imap_mailbox_info_free(&mi);
	}
	if (imap_close(c, &err) < 0)
		pn_error_clear(&err);
}

/* ---- the index ---------------------------------------------------------- */

struct index_ctx {
	int (*fn)(void *ctx, const struct store_msg *m);
	void *ctx;
	int stop;
};

static void on_index(void *ctx, const struct imap_fetch *fe)
{
	struct index_ctx *x = ctx;
	struct store_msg m;

	/* Unsolicited FETCHes (another client's flag change) lack the
	 * items we asked for. */
	if (x->stop || !(fe->has & IMAP_FETCH_UID) ||
	    !(fe->has & IMAP_FETCH_FLAGS))
		return;
	memset(&m, 0, sizeof(m));
	m.uid = fe->uid;
	m.flags = fe->flags;
	m.nflags = fe->nflags;
	m.internaldate = fe->internaldate;
	m.internaldate_tz = fe->internaldate_tz;
	m.size = fe->size;
	m.envelope = fe->envelope;
	m.body = fe->body;
	x->stop = x->fn(x->ctx, &m);
}

static int all_uids(struct imap_seqset *set, struct pn_error *err)
{
	if (imap_seqset_add(set, 1, IMAP_SEQ_STAR) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

static int drv_index(struct store_folder *f, const struct imap_seqset *uids,
		     unsigned items,
		     int (*fn)(void *ctx, const struct store_msg *m), void *ctx,
		     struct pn_error *err)
{
	struct index_ctx x = { fn, ctx, 0 };
	struct imap_seqset all = { 0 };
	char what[128];
	int rc;

	if (!uids) {
		if (f->count == 0 && !impl(f->store)->changed)
			return 0;
		if (all_uids(&all, err) < 0)
			return -1;
		uids = &all;
	}
	snprintf(what, sizeof(what),
		 "(UID FLAGS INTERNALDATE RFC822.SIZE%s%s)",
		 items & STORE_ITEM_ENVELOPE ? " ENVELOPE" : "",
		 items & STORE_ITEM_STRUCTURE ? " BODYSTRUCTURE" : "");
	impl(f->store)->own_fetch = true;
	rc = uids->n ? imap_fetch(conn_of(f), true, uids, what, NULL, on_index,
				  &x, err) : 0;
	impl(f->store)->own_fetch = false;
	imap_seqset_free(&all);
	if (rc < 0)
		return -1;
	return x.stop;
}

static int drv_search(struct store_folder *f, const char *criteria,
		      struct imap_seqset *out, struct pn_error *err)
{
	struct imap_search_result sr;
	int rc;

	memset(&sr, 0, sizeof(sr));
	rc = imap_search(conn_of(f), true, NULL, criteria, NULL, &sr, err);
	if (rc == 0) {
		imap_seqset_free(out);
		*out = sr.set;
		memset(&sr.set, 0, sizeof(sr.set));
	}
	imap_search_result_free(&sr);
	return rc;
}

/* ---- bodies --------------------------------------------------------------- */

struct uidmap {
	uint32_t *seq, *uid;
	size_t n, cap;
	bool nomem;
	const char *section;	/* only messages that have it (their
				   BODYSTRUCTURE says), or NULL */
};

/* Does the BODYSTRUCTURE b have IMAP section sec (RFC 3501 6.4.5)?  The
 * number of a non-multipart body is 1; the parts of a message/rfc822's
 * message continue its number; HEADER, TEXT and MIME name pieces. */
static bool has_section(const struct imap_body *b, const char *sec)
{
	bool multi, msg;
	unsigned long n;
	char *end;

	for (;;) {
		/* every message has a header and a text */
		if (!*sec || !strcasecmp(sec, "HEADER") ||
		    !strcasecmp(sec, "TEXT"))
			return true;
		if (*sec < '0' || *sec > '9')
			return false;
		n = strtoul(sec, &end, 10);
		if (n == 0 || (*end && *end != '.'))
			return false;
		multi = b->type && strcasecmp(b->type, "multipart") == 0;
		if (multi) {
			if (n > b->nparts)
				return false;
			b = &b->parts[n - 1];
		} else if (n != 1) {
			return false;
		}
		if (!*end)
			return true;
		sec = end + 1;
		msg = b->type && strcasecmp(b->type, "message") == 0 &&
		      b->nparts == 1;
		if (!strcasecmp(sec, "MIME"))
			return true;
		/* a multipart's parts are numbered on from its own number */
		if (b->type && strcasecmp(b->type, "multipart") == 0)
			continue;
		if (!msg)
			return false;
		/* inside a message/rfc822: HEADER, TEXT, or its body's parts */
		if (!strcasecmp(sec, "HEADER") || !strcasecmp(sec, "TEXT"))
			return true;
		b = &b->parts[0];
		if (!(b->type && strcasecmp(b->type, "multipart") == 0)) {
			/* "N.1" is the nested message's only body */
			n = strtoul(sec, &end, 10);
			if (n != 1 || (*end && *end != '.'))
				return false;
			if (!*end)
				return true;
			sec = end + 1;
			if (!strcasecmp(sec, "MIME"))
				return true;
			return false;
		}
	}
}

static void on_uid(void *ctx, const struct imap_fetch *fe)
{
	struct uidmap *m = ctx;
	uint32_t *s, *u;

	if (!(fe->has & IMAP_FETCH_UID) || m->nomem)
		return;
	if (m->section && (!fe->body || !has_section(fe->body, m->section)))
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		s = realloc(m->seq, m->cap * sizeof(*s));
		if (s)
			m->seq = s;
		u = realloc(m->uid, m->cap * sizeof(*u));
		if (u)
			m->uid = u;
		if (!s || !u) {
			m->nomem = true;
			return;
		}
	}
	m->seq[m->n] = fe->seq;
	m->uid[m->n++] = fe->uid;
}

/* Responses come in sequence order: a binary search over the map. */
static uint32_t map_uid(const struct uidmap *m, uint32_t seq)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->seq[mid] == seq)
			return m->uid[mid];
		if (m->seq[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

struct body_ctx {
	const struct store_sink *sink;
	struct uidmap map;
	size_t delivered;
	bool open, skip;
	uint32_t uid;
};

static void body_begin(struct body_ctx *b, uint32_t uid, uint64_t size)
{
	b->open = true;
	b->uid = uid;
	b->skip = b->sink->begin(b->sink->ctx, uid, size) != 0;
}

static void body_data(struct body_ctx *b, const char *data, size_t len)
{
	if (b->open && !b->skip && len &&
	    b->sink->data(b->sink->ctx, data, len) != 0)
		b->skip = true;
}

static void body_end(struct body_ctx *b)
{
	if (!b->open)
		return;
	b->open = false;
	b->delivered++;
	(void)b->sink->end(b->sink->ctx, b->uid);
}

static int lit_begin(void *ctx, uint32_t number, const char *item,
		     uint64_t size, bool binary)
{
	struct body_ctx *b = ctx;
	uint32_t uid = map_uid(&b->map, number);

	(void)item;
	(void)binary;
	if (uid)
		body_begin(b, uid, size);
	return 0;
}

static int lit_data(void *ctx, const char *data, size_t len)
{
	body_data(ctx, data, len);
	return 0;
}

static int lit_end(void *ctx)
{
	body_end(ctx);
	return 0;
}

/* A body small enough to stay inline arrives with the FETCH itself. */
static void on_body(void *ctx, const struct imap_fetch *fe)
{
	struct body_ctx *b = ctx;
	const struct imap_fetch_body *fb;

	if (!(fe->has & IMAP_FETCH_UID) || fe->nbodies == 0 ||
	    !map_uid(&b->map, fe->seq))
		return;
	fb = &fe->bodies[0];
	if (fb->streamed || !fb->data)
		return;		/* streamed: done by the sink; NIL: no part */

	body_begin(b, fe->uid, fb->len);
	body_data(b, fb->data, fb->len);
	body_end(b);
}

static int body_items(struct store_folder *f, enum store_body_kind kind,
		      const char *section, char *out, size_t sz,
		      struct pn_error *err)
{
	const char *p;

	switch (kind) {
	case STORE_BODY_RAW:
		snprintf(out, sz, "(UID BODY.PEEK[])");
		return 0;
	case STORE_BODY_HEADER:
		snprintf(out, sz, "(UID BODY.PEEK[HEADER])");
		return 0;
	case STORE_BODY_PART_ENCODED:
		snprintf(out, sz, "(UID BODY.PEEK[%s])", section);
		return 0;
	case STORE_BODY_PART:
		break;
	}
	for (p = section; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return pn_error_set(err, PN_EINVAL,
					    "section %s cannot be decoded (BINARY takes part numbers; ask for it encoded)",
					    section);
	}
	/* BINARY (RFC 3516) has the server undo the transfer encoding. */
	if (!imap_caps_has(imap_conn_caps(conn_of(f)), "BINARY"))
		return pn_error_set(err, PN_EUNSUPPORTED,
				    "the server does not offer BINARY, so it cannot decode part %s; ask for it encoded",
				    section);
	snprintf(out, sz, "(UID BINARY.PEEK[%s])", section);
	return 0;
}

static int drv_fetch(struct store_folder *f, const struct imap_seqset *uids,
		     enum store_body_kind kind, const char *section,
		     const struct store_sink *sink, size_t *n_out,
		     struct pn_error *err)
{
	struct imap_literal_sink ls;
	struct body_ctx b;
	struct imap_seqset all = { 0 };
	struct imap_conn *c = conn_of(f);
	char items[200];
	int rc;

	memset(&b, 0, sizeof(b));
	b.sink = sink;
	/* Servers answer "" for a section a message lacks (Dovecot does;
	 * RFC 3501 6.4.5 leaves it open), which an empty part also gives:
	 * the BODYSTRUCTURE tells them apart. */
	if (kind == STORE_BODY_PART || kind == STORE_BODY_PART_ENCODED)
		b.map.section = section;
	ls.ctx = &b;
	ls.begin = lit_begin;
	ls.data = lit_data;
	ls.end = lit_end;
	if (body_items(f, kind, section, items, sizeof(items), err) < 0)
		return -1;
	if (!uids) {
		if (all_uids(&all, err) < 0)
			return -1;
		uids = &all;
	}
	rc = 0;
	impl(f->store)->own_fetch = true;
	if (uids->n)
		rc = imap_fetch(c, true, uids,
				b.map.section ? "(UID BODYSTRUCTURE)" : "(UID)",
				NULL, on_uid, &b.map, err);
	if (rc == 0 && b.map.nomem)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	if (rc == 0 && b.map.n) {
		imap_conn_set_literal_sink(c, &ls);
		rc = imap_fetch(c, true, uids, items, NULL, on_body, &b, err);
		imap_conn_set_literal_sink(c, NULL);
		/* A connection lost mid-literal leaves the sink open. */
		if (b.open)
			body_end(&b);
	}
	impl(f->store)->own_fetch = false;
	*n_out = b.delivered;
	free(b.map.seq);
	free(b.map.uid);
	imap_seqset_free(&all);
	return rc;
}

/* ---- changes -------------------------------------------------------------- */

static int drv_set_flags(struct store_folder *f,
			 const struct imap_seqset *uids, bool add,
			 const char *const *flags, size_t n,
			 struct pn_error *err)
{
	struct imap_seqset all = { 0 };
	int rc;

	if (!uids) {
		if (all_uids(&all, err) < 0)
			return -1;
		uids = &all;
	}
	/* .SILENT: a server may still echo FETCHes; they are ours. */
	impl(f->store)->own_fetch = true;
	rc = imap_store(conn_of(f), true, uids,
			add ? "+FLAGS.SILENT" : "-FLAGS.SILENT", flags, n, 0,
			NULL, err);
	impl(f->store)->own_fetch = false;
	imap_seqset_free(&all);
	return rc;
}

static int drv_expunge(struct store_folder *f, const struct imap_seqset *uids,
		       struct pn_error *err)
{
	static const char *const deleted[] = { "\\Deleted" };
	struct imap_conn *c = conn_of(f);

	if (!uids || uids->n == 0)
		return 0;
	/* A plain EXPUNGE would also remove every other message someone
	 * marked \Deleted: only UID EXPUNGE removes exactly these. */
	if (!imap_caps_has(imap_conn_caps(c), "UIDPLUS"))
		return pn_error_set(err, PN_EUNSUPPORTED,
				    "%s does not offer UIDPLUS; refusing an EXPUNGE that could remove other \\Deleted messages",
				    imap_conn_peer(c));
	if (imap_store(c, true, uids, "+FLAGS.SILENT", deleted, 1, 0, NULL,
		       err) < 0)
		return -1;
	return imap_expunge(c, uids, err);
}

static int drv_append(struct store *s, const char *name,
		      const struct store_new_msg *msgs, size_t n,
		      uint32_t *uidvalidity_out, uint32_t *uids_out,
		      struct pn_error *err)
{
	struct imap_append_msg *am;
	struct imap_append_result res;
	size_t i, k;
	int rc;

	am = calloc(n, sizeof(*am));
	if (!am)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		am[i].flags = msgs[i].flags;
		am[i].nflags = msgs[i].nflags;
		am[i].date = msgs[i].date;
		am[i].date_tz = msgs[i].date_tz;
		am[i].data = msgs[i].data;
		am[i].fd = msgs[i].fd;
		am[i].size = msgs[i].size;
	}
	memset(&res, 0, sizeof(res));
	rc = imap_append(impl(s)->conn, name, am, n, &res, err);
	free(am);
	if (rc == 0 && uidvalidity_out)
		*uidvalidity_out = res.uidvalidity;
	/* APPENDUID's set lists the new UIDs in order (RFC 4315 3). */
	for (i = 0, k = 0; rc == 0 && uids_out && i < res.uids.n; i++) {
		uint32_t u;

		for (u = res.uids.r[i].lo; k < n; u++) {
			uids_out[k++] = u;
			if (u == res.uids.r[i].hi)
				break;
		}
	}
	imap_seqset_free(&res.uids);
	return rc;
}

/* COPYUID's two sets pair up in order (RFC 4315 3): one progress call
 * per message with both UIDs, or with none when the server said nothing. */
static void report_pairs(const struct imap_code_info *ci, size_t n,
			 const struct store_progress *progress)
{
	size_t i, si = 0, di = 0;
	uint32_t su = 0, du = 0;

	if (!progress || !progress->fn)
		return;
	for (i = 0; i < n; i++) {
		if (si < ci->src_uids.n && di < ci->dst_uids.n) {
			su = su ? su + 1 : ci->src_uids.r[si].lo;
			du = du ? du + 1 : ci->dst_uids.r[di].lo;
			progress->fn(progress->ctx, i + 1, n, su, du);
			if (su == ci->src_uids.r[si].hi) {
				si++;
				su = 0;
			}
			if (du == ci->dst_uids.r[di].hi) {
				di++;
				du = 0;
			}
		} else {
			progress->fn(progress->ctx, i + 1, n, 0, 0);
		}
	}
}

static int drv_copy_local(struct store_folder *src,
			  const struct imap_seqset *uids, const char *dst_name,
			  bool move, const struct store_progress *progress,
			  size_t *copied_out, struct pn_error *err)
{
	struct imap_code_info ci;
	struct imap_seqset all = { 0 };
	uint64_t n;
	int rc;

	if (!uids) {
		if (all_uids(&all, err) < 0)
			return -1;
		uids = &all;
	}
	memset(&ci, 0, sizeof(ci));
	rc = imap_copy(conn_of(src), true, move, uids, dst_name, &ci, err);
	if (rc == 0) {
		/* COPYUID names what was copied; without UIDPLUS, count what
		 * the set can hold. */
		n = ci.src_uids.n ? imap_seqset_count(&ci.src_uids, 0) :
			imap_seqset_count(uids, src->uidnext ? src->uidnext - 1 : 0);
		*copied_out = (size_t)n;
		report_pairs(&ci, (size_t)n, progress);
	}
	imap_code_info_free(&ci);
	imap_seqset_free(&all);
	return rc;
}

static int drv_wait(struct store_folder *f, unsigned timeout_ms,
		    bool *changed_out, struct pn_error *err)
{
	struct imap_store *is = impl(f->store);
	struct imap_conn *c = is->conn;
	bool idle = imap_caps_has(imap_conn_caps(c), "IDLE");
	struct timespec t0, t1;
	unsigned left = timeout_ms, slice;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (idle && imap_idle_start(c, 0, err) < 0)
		return -1;
	while (!is->changed && left > 0) {
		/* Without IDLE a NOOP every 5 s is what asks the server. */
		slice = idle ? left : (left < 5000 ? left : 5000);
		if (!idle && (rc = imap_noop(c, err)) < 0)
			break;
		if (is->changed)
			break;
		if ((rc = imap_poll(c, slice, err)) < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		uint64_t spent = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
				 (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000000);
		left = spent >= timeout_ms ? 0 : timeout_ms - (unsigned)spent;
	}
	if (idle && rc == 0)
		rc = imap_idle_done(c, err);
	else if (idle && imap_idle_done(c, NULL) < 0)
		rc = -1;	/* err already says what failed first */
	if (rc < 0)
		return -1;
	*changed_out = is->changed;
	is->changed = false;
	if (is->has_exists)
		f->count = is->exists;
	return 0;
}

static const struct store_driver imap_driver = {
	.name = "imap",
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

static void on_sep(void *ctx, const struct imap_list_entry *e,
		   const struct imap_status_info *st)
{
	(void)st;
	if (e)
		*(char *)ctx = e->delimiter;
}

int store_open_imap(struct imap_conn *conn, bool read_only,
		    struct store **out, struct pn_error *err)
{
	struct store *s;
	struct imap_store *is;
	struct imap_events ev;

	*out = NULL;
	pn_error_clear(err);
	s = calloc(1, sizeof(*s));
	is = calloc(1, sizeof(*is));
	if (!s || !is || !(s->label = strdup(imap_conn_peer(conn)))) {
		free(s);
		free(is);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	/* LIST "" "" asks only for the hierarchy delimiter (RFC 3501 6.3.8). */
	if (imap_list(conn, "", "", NULL, on_sep, &s->separator, err) < 0) {
		free(s->label);
		free(s);
		free(is);
		return -1;
	}
	is->conn = conn;
	s->impl = is;
	s->drv = &imap_driver;
	s->read_only = read_only;
	memset(&ev, 0, sizeof(ev));
	ev.ctx = is;
	ev.untagged = on_untagged;
	imap_conn_set_events(conn, &ev);
	*out = s;
	return 0;
}

struct imap_conn *store_imap_conn(struct store *s)
{
	return store_kind(s) == STORE_IMAP ? impl(s)->conn : NULL;
}
