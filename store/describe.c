/* describe.c - ENVELOPE and BODYSTRUCTURE (RFC 3501 7.4.2) of messages
 * that no server describes for us: the Maildir back end answers with the
 * same shapes an IMAP server would, so the layers above never ask which
 * side they are on.
 *
 * Sizes and line counts are those of the message with CRLF line ends, as
 * IMAP counts them (a Maildir file usually has bare LFs): Dovecot serving
 * the same file reports the same numbers.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_p.h"
#include "../imap/imap.h"
#include "../lib/arena.h"
#include "../mime/mime.h"

/* ---- addresses ------------------------------------------------------------ */

static int nomem(struct pn_error *err)
{
	return pn_error_set(err, PN_ENOMEM, "out of memory");
}

/* RFC 3501's address list: groups are a start marker (mailbox = group
 * name, host NIL) and an end marker (both NIL) around their members. */
static int addresses(struct pn_arena *a, const char *raw,
		     const struct imap_address **out, size_t *n_out,
		     struct pn_error *err)
{
	struct mime_address *list = NULL;
	struct imap_address *v;
	const char *group = NULL;
	size_t n = 0, i, k = 0;

	*out = NULL;
	*n_out = 0;
	if (!raw)
		return 0;
	if (mime_parse_addresses(raw, &list, &n, err) < 0)
		return -1;
	v = pn_arena_alloc(a, (3 * n + 1) * sizeof(*v));
	if (!v) {
		mime_addresses_free(&list, n);
		return nomem(err);
	}
	for (i = 0; i < n; i++) {
		const struct mime_address *m = &list[i];
		const char *at;

		if (group && (!m->group || strcmp(m->group, group) != 0)) {
			memset(&v[k++], 0, sizeof(*v));
			group = NULL;
		}
		if (m->group && !group) {
			memset(&v[k], 0, sizeof(*v));
			v[k++].mailbox = pn_arena_strdup(a, m->group);
			group = m->group;
		}
		if (!m->addr)
			continue;
		memset(&v[k], 0, sizeof(*v));
		v[k].name = m->name ? pn_arena_strdup(a, m->name) : NULL;
		at = strrchr(m->addr, '@');
		if (at) {
			v[k].mailbox = pn_arena_strndup(a, m->addr,
							(size_t)(at - m->addr));
			v[k].host = pn_arena_strdup(a, at + 1);
		} else {
			/* What Dovecot sends for an address without a
			 * domain, so that host is never NIL (a group). */
			v[k].mailbox = pn_arena_strdup(a, m->addr);
			v[k].host = "MISSING_DOMAIN";
		}
		k++;
	}
	if (group)
		memset(&v[k++], 0, sizeof(*v));
	mime_addresses_free(&list, n);
	*out = v;
	*n_out = k;
	return 0;
}

int store_envelope_build(struct pn_arena *arena,
			 const struct store_header_fields *h,
			 const struct imap_envelope **out,
			 struct pn_error *err)
{
	struct imap_envelope *e = pn_arena_alloc(arena, sizeof(*e));

	*out = NULL;
	if (!e)
		return nomem(err);
	memset(e, 0, sizeof(*e));
	e->date = h->date;
	e->subject = h->subject;
	e->in_reply_to = h->in_reply_to;
	e->message_id = h->message_id;
	if (addresses(arena, h->from, &e->from, &e->nfrom, err) < 0 ||
	    addresses(arena, h->sender, &e->sender, &e->nsender, err) < 0 ||
	    addresses(arena, h->reply_to, &e->reply_to, &e->nreply_to, err) < 0 ||
	    addresses(arena, h->to, &e->to, &e->nto, err) < 0 ||
	    addresses(arena, h->cc, &e->cc, &e->ncc, err) < 0 ||
	    addresses(arena, h->bcc, &e->bcc, &e->nbcc, err) < 0)
		return -1;
	/* RFC 3501 7.4.2: the server defaults Sender and Reply-To to From. */
	if (e->nsender == 0) {
		e->sender = e->from;
		e->nsender = e->nfrom;
	}
	if (e->nreply_to == 0) {
		e->reply_to = e->from;
		e->nreply_to = e->nfrom;
	}
	*out = e;
	return 0;
}

/* ---- raw bytes of a part ---------------------------------------------------- */

/* mime_write gives a part's MIME header and body byte for byte; BODY[n]
 * is what follows the header's blank line, n.MIME the header itself. */
struct split {
	bool want_header;
	bool in_body;
	bool line_start;
	bool line_empty;	/* only a CR so far on this line */
	int (*fn)(void *ctx, const char *data, size_t len);
	void *ctx;
};

static int split_data(void *ctx, const char *data, size_t len)
{
	struct split *sp = ctx;
	size_t i;

	if (sp->in_body)
		return sp->want_header ? 1 : sp->fn(sp->ctx, data, len);
	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n' && (sp->line_start || sp->line_empty)) {
			sp->in_body = true;
			i++;
			break;
		}
		if (c == '\n') {
			sp->line_start = true;
			sp->line_empty = false;
		} else if (c == '\r' && sp->line_start) {
			sp->line_start = false;
			sp->line_empty = true;
		} else {
			sp->line_start = false;
			sp->line_empty = false;
		}
	}
	if (sp->want_header) {
		if (i && sp->fn(sp->ctx, data, i) != 0)
			return 1;
		return sp->in_body;	/* stop once the header is out */
	}
	if (sp->in_body && i < len)
		return sp->fn(sp->ctx, data + i, len - i);
	return 0;
}

int store_part_raw(struct mime_part *part, bool mime_header,
		   int (*fn)(void *ctx, const char *data, size_t len),
		   void *ctx, struct pn_error *err)
{
	struct split sp = { mime_header, false, true, false, fn, ctx };
	int rc;

	rc = mime_write(part, NULL, split_data, &sp, err);
	/* Stopping after the header is how header mode ends. */
	if (rc < 0 && mime_header && sp.in_body) {
		pn_error_clear(err);
		return 0;
	}
	return rc;
}

/* ---- BODYSTRUCTURE ------------------------------------------------------------ */

struct count {
	uint64_t bytes, lines;
	bool cr;
};

static int count_data(void *ctx, const char *data, size_t len)
{
	struct count *c = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			c->lines++;
			/* a bare LF travels as CRLF */
			c->bytes += c->cr ? 1 : 2;
		} else {
			c->bytes++;
		}
		c->cr = data[i] == '\r';
	}
	return 0;
}

/* Parameters a body's Content-Type may carry that readers use; the MIME
 * engine answers by name. */
static const char *const type_params[] = {
	"charset", "name", "format", "delsp", "boundary", "type", "start",
	"start-info", "protocol", "micalg", "method", "report-type",
	"differences", "reply-type",
};

static int params(struct pn_arena *a, struct mime_part *p,
		  struct imap_body *b)
{
	struct imap_body_param *v;
	size_t i, n = 0;
	const char *val;

	v = pn_arena_alloc(a, (sizeof(type_params) / sizeof(*type_params) + 1) *
				      sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < sizeof(type_params) / sizeof(*type_params); i++) {
		if (!(val = mime_part_param(p, type_params[i])))
			continue;
		v[n].name = type_params[i];
		v[n++].value = pn_arena_strdup(a, val);
	}
	/* RFC 2045 5.2: text without a charset is us-ascii, and servers
	 * say so in BODYSTRUCTURE. */
	if (!mime_part_param(p, "charset") &&
	    strcmp(mime_part_maintype(p), "text") == 0) {
		v[n].name = "charset";
		v[n++].value = "us-ascii";
	}
	b->params = v;
	b->nparams = n;
	return 0;
}

static const char *upper(struct pn_arena *a, const char *s)
{
	char *u = pn_arena_strdup(a, s);
	size_t i;

	for (i = 0; u && u[i]; i++) {
		if (u[i] >= 'a' && u[i] <= 'z')
			u[i] = (char)(u[i] - 'a' + 'A');
	}
	return u;
}

static int header_fields(struct mime_part *p, struct store_header_fields *h)
{
	memset(h, 0, sizeof(*h));
	h->date = mime_part_header_get(p, "Date");
	h->subject = mime_part_header_get(p, "Subject");
	h->from = mime_part_header_get(p, "From");
	h->sender = mime_part_header_get(p, "Sender");
	h->reply_to = mime_part_header_get(p, "Reply-To");
	h->to = mime_part_header_get(p, "To");
	h->cc = mime_part_header_get(p, "Cc");
	h->bcc = mime_part_header_get(p, "Bcc");
	h->in_reply_to = mime_part_header_get(p, "In-Reply-To");
	h->message_id = mime_part_header_get(p, "Message-ID");
	return 0;
}

static int disposition(struct pn_arena *a, struct mime_part *p,
		       struct imap_body *b)
{
	const char *d = mime_part_disposition(p);
	const char *fn = mime_part_filename(p);
	struct imap_body_param *dp;

	b->has_ext = true;
	b->location = mime_part_header_get(p, "Content-Location");
	if (!d)
		return 0;
	b->disposition = pn_arena_strdup(a, d);
	if (!fn || !mime_part_header_get(p, "Content-Disposition") ||
	    !strcasestr(mime_part_header_get(p, "Content-Disposition"),
			"filename"))
		return 0;
	dp = pn_arena_alloc(a, sizeof(*dp));
	if (!dp)
		return -1;
	dp->name = "filename";
	dp->value = pn_arena_strdup(a, fn);
	b->disp_params = dp;
	b->ndisp_params = 1;
	return 0;
}

/* Content-Transfer-Encoding as written (Dovecot passes it through),
 * "7bit" when absent. */
static const char *encoding(struct pn_arena *a, struct mime_part *p)
{
	const char *v = mime_part_header_get(p, "Content-Transfer-Encoding");
	size_t n;

	if (!v)
		return "7bit";
	while (*v == ' ' || *v == '\t')
		v++;
	for (n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
				      v[n - 1] == '\r'); n--)
		;
	return n ? pn_arena_strndup(a, v, n) : "7bit";
}

#define DEPTH_MAX 64

static int body_of(struct pn_arena *a, struct mime_part *p, unsigned depth,
		   struct imap_body *b, struct pn_error *err)
{
	struct mime_part *c;
	struct imap_body *kids;
	struct count cnt = { 0 };
	size_t n, i;
	const char *id;

	memset(b, 0, sizeof(*b));
	if (depth > DEPTH_MAX)
		return pn_error_set(err, PN_ELIMIT,
				    "BODYSTRUCTURE: nesting deeper than %d",
				    DEPTH_MAX);
	b->type = upper(a, mime_part_maintype(p));
	b->subtype = upper(a, mime_part_subtype(p));
	if (!b->type || !b->subtype || params(a, p, b) < 0)
		return nomem(err);
	if (mime_part_is_multipart(p)) {
		n = mime_part_child_count(p);
		kids = pn_arena_alloc(a, (n ? n : 1) * sizeof(*kids));
		if (!kids)
			return nomem(err);
		for (i = 0, c = mime_part_first_child(p); c && i < n;
		     c = mime_part_next(c), i++) {
			if (body_of(a, c, depth + 1, &kids[i], err) < 0)
				return -1;
		}
		b->parts = kids;
		b->nparts = i;
		return disposition(a, p, b) < 0 ? nomem(err) : 0;
	}
	if ((id = mime_part_content_id(p))) {
		char *w = pn_arena_alloc(a, strlen(id) + 3);

		if (!w)
			return nomem(err);
		snprintf(w, strlen(id) + 3, "<%s>", id);
		b->id = w;
	}
	b->description = mime_part_header_get(p, "Content-Description");
	b->encoding = encoding(a, p);
	if (store_part_raw(p, false, count_data, &cnt, err) < 0)
		return -1;
	b->size = cnt.bytes;
	if (strcmp(mime_part_maintype(p), "text") == 0 ||
	    mime_part_is_message(p))
		b->lines = (uint32_t)cnt.lines;
	if (mime_part_is_message(p) && (c = mime_part_first_child(p))) {
		struct store_header_fields h;

		kids = pn_arena_alloc(a, sizeof(*kids));
		if (!kids)
			return nomem(err);
		header_fields(c, &h);
		if (store_envelope_build(a, &h, &b->envelope, err) < 0 ||
		    body_of(a, c, depth + 1, kids, err) < 0)
			return -1;
		b->parts = kids;
		b->nparts = 1;
	}
	return disposition(a, p, b) < 0 ? nomem(err) : 0;
}

int store_body_build(struct pn_arena *arena, struct mime_part *root,
		     const struct imap_body **out, struct pn_error *err)
{
	struct imap_body *b = pn_arena_alloc(arena, sizeof(*b));

	*out = NULL;
	if (!b)
		return nomem(err);
	if (body_of(arena, root, 0, b, err) < 0)
		return -1;
	*out = b;
	return 0;
}

int store_envelope_of(struct pn_arena *arena, struct mime_part *root,
		      const struct imap_envelope **out, struct pn_error *err)
{
	struct store_header_fields h;

	header_fields(root, &h);
	return store_envelope_build(arena, &h, out, err);
}
