/* fetch.c - FETCH responses: UID, FLAGS, INTERNALDATE, RFC822.SIZE,
 * ENVELOPE, BODY/BODYSTRUCTURE, MODSEQ, BODY[section]<origin>,
 * BINARY[section], BINARY.SIZE and RFC822{,.HEADER,.TEXT}
 * (RFC 3501 7.4.2, RFC 9051 7.5.2, RFC 3516, RFC 7162).
 *
 * Everything decoded lives in the response's arena; strings point into
 * the parsed tree.
 */
#include "imap_p.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/date.h"

static const char *kind_of(const struct imap_arg *a)
{
	static const char *const n[] = {
		"NIL", "an atom", "a string", "a streamed literal", "a list"
	};

	return a ? n[a->type] : "missing";
}

static bool is_list(const struct imap_arg *a)
{
	return a && a->type == IMAP_ARG_LIST;
}

/* A NUL-terminated copy in the response's arena. */
static char *rdup(const struct imap_response *r, const char *s, size_t n)
{
	char *d = imap_response_alloc(r, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

static int nomem(struct pn_error *err)
{
	return pn_error_set(err, PN_ENOMEM, "FETCH: out of memory");
}

/* nstring: NIL -> NULL; a streamed literal or a list is malformed here
 * (ENVELOPE and BODYSTRUCTURE fields are small). */
static int nstr(const struct imap_arg *a, const char **out, const char *what,
		struct pn_error *err)
{
	if (a->type == IMAP_ARG_NIL) {
		*out = NULL;
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_STRING)
		return pn_error_set(err, PN_EPARSE, "FETCH: %s is %s, not a "
				    "string", what, kind_of(a));
	*out = a->str;
	return 0;
}

/* ---- ENVELOPE (RFC 3501 7.4.2) -------------------------------------- */

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")";
 * a group is bracketed by (NIL NIL "name" NIL) and (NIL NIL NIL NIL)
 * (RFC 3501 7.4.2), kept as sent for the caller to read. */
static int address(const struct imap_arg *a, struct imap_address *out,
		   struct pn_error *err)
{
	if (!is_list(a) || a->nlist != 4)
		return pn_error_set(err, PN_EPARSE, "FETCH: ENVELOPE address "
				    "is not a list of 4 fields");
	if (nstr(&a->list[0], &out->name, "address name", err) < 0 ||
	    nstr(&a->list[1], &out->adl, "address adl", err) < 0 ||
	    nstr(&a->list[2], &out->mailbox, "address mailbox", err) < 0 ||
	    nstr(&a->list[3], &out->host, "address host", err) < 0)
		return -1;
	return 0;
}

static int addresses(const struct imap_response *r, const struct imap_arg *a,
		     const struct imap_address **out, size_t *n_out,
		     struct pn_error *err)
{
	struct imap_address *v;

	*out = NULL;
	*n_out = 0;
	if (a->type == IMAP_ARG_NIL)
		return 0;
	/* "" for an empty list is a known server bug (tolerated) */
	if (a->type == IMAP_ARG_STRING && a->len == 0)
		return 0;
	if (!is_list(a))
		return pn_error_set(err, PN_EPARSE, "FETCH: ENVELOPE address "
				    "list is %s", kind_of(a));
	v = imap_response_alloc(r, a->nlist * sizeof(*v));
	if (!v)
		return nomem(err);
	for (size_t i = 0; i < a->nlist; i++)
		if (address(&a->list[i], &v[i], err) < 0)
			return -1;
	*out = v;
	*n_out = a->nlist;
	return 0;
}

static int envelope(const struct imap_response *r, const struct imap_arg *a,
		    const struct imap_envelope **out, struct pn_error *err)
{
	struct imap_envelope *e;
	const struct imap_arg *f;

	if (!is_list(a))
		return pn_error_set(err, PN_EPARSE, "FETCH: ENVELOPE is %s, "
				    "not a list", kind_of(a));
	if (a->nlist != 10)
		return pn_error_set(err, PN_EPARSE, "FETCH: ENVELOPE has %zu "
				    "fields, not 10", a->nlist);
	e = imap_response_alloc(r, sizeof(*e));
	if (!e)
		return nomem(err);
	f = a->list;
	if (nstr(&f[0], &e->date, "ENVELOPE date", err) < 0 ||
	    nstr(&f[1], &e->subject, "ENVELOPE subject", err) < 0 ||
	    addresses(r, &f[2], &e->from, &e->nfrom, err) < 0 ||
	    addresses(r, &f[3], &e->sender, &e->nsender, err) < 0 ||
	    addresses(r, &f[4], &e->reply_to, &e->nreply_to, err) < 0 ||
	    addresses(r, &f[5], &e->to, &e->nto, err) < 0 ||
	    addresses(r, &f[6], &e->cc, &e->ncc, err) < 0 ||
	    addresses(r, &f[7], &e->bcc, &e->nbcc, err) < 0 ||
	    nstr(&f[8], &e->in_reply_to, "ENVELOPE in-reply-to", err) < 0 ||
	    nstr(&f[9], &e->message_id, "ENVELOPE message-id", err) < 0)
		return -1;
	*out = e;
	return 0;
}

/* ---- BODYSTRUCTURE (RFC 3501 7.4.2 and 9 "body") -------------------- */

struct bs {
	const struct imap_response *r;
	struct pn_error *err;
	char path[128];		/* "1.2" for messages */
};

static int bs_fail(struct bs *b, const char *fmt, const char *what)
{
	return pn_error_set(b->err, PN_EPARSE, "FETCH: BODYSTRUCTURE part "
			    "%s: %s%s", b->path[0] ? b->path : "(top)", fmt,
			    what ? what : "");
}

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
static int params(struct bs *b, const struct imap_arg *a,
		  const struct imap_body_param **out, size_t *n_out)
{
	struct imap_body_param *v;

	*out = NULL;
	*n_out = 0;
	if (a->type == IMAP_ARG_NIL)
		return 0;
	if (!is_list(a) || a->nlist % 2)
		return bs_fail(b, "parameters are not name/value pairs", NULL);
	v = imap_response_alloc(b->r, (a->nlist / 2 + 1) * sizeof(*v));
	if (!v)
		return nomem(b->err);
	for (size_t i = 0; i < a->nlist; i += 2)
		if (nstr(&a->list[i], &v[i / 2].name, "parameter", b->err) ||
		    nstr(&a->list[i + 1], &v[i / 2].value, "parameter",
			 b->err))
			return -1;
	*out = v;
	*n_out = a->nlist / 2;
	return 0;
}

/* The extension fields shared by both kinds from the disposition on:
 * body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]] */
static int ext_tail(struct bs *b, const struct imap_arg *a, size_t i,
		    struct imap_body *out)
{
	const struct imap_arg *l = a->list;

	if (i < a->nlist && l[i].type != IMAP_ARG_NIL) {
		/* body-fld-dsp = "(" string SP body-fld-param ")" / nil */
		if (!is_list(&l[i]) || l[i].nlist != 2)
			return bs_fail(b, "disposition is not (type params)",
				       NULL);
		if (nstr(&l[i].list[0], &out->disposition, "disposition",
			 b->err) < 0 ||
		    params(b, &l[i].list[1], &out->disp_params,
			   &out->ndisp_params) < 0)
			return -1;
	}
	if (++i < a->nlist && l[i].type != IMAP_ARG_NIL)
		out->language = &l[i];
	if (++i < a->nlist && nstr(&l[i], &out->location, "location",
				   b->err) < 0)
		return -1;
	if (++i < a->nlist) {
		out->extension = &l[i];
		out->nextension = a->nlist - i;
	}
	return 0;
}

static int body(struct bs *b, const struct imap_arg *a, struct imap_body *out,
		unsigned depth);

static int multipart(struct bs *b, const struct imap_arg *a,
		     struct imap_body *out, unsigned depth)
{
	size_t n = 0, plen = strlen(b->path);
	struct imap_body *parts;

	while (n < a->nlist && is_list(&a->list[n]))
		n++;
	parts = imap_response_alloc(b->r, n * sizeof(*parts));
	if (!parts)
		return nomem(b->err);
	for (size_t i = 0; i < n; i++) {
		snprintf(b->path + plen, sizeof(b->path) - plen, "%s%zu",
			 plen ? "." : "", i + 1);
		if (body(b, &a->list[i], &parts[i], depth + 1) < 0)
			return -1;
	}
	b->path[plen] = '\0';
	out->type = "MULTIPART";
	out->parts = parts;
	out->nparts = n;
	if (n == a->nlist)
		return bs_fail(b, "multipart without a subtype", NULL);
	if (nstr(&a->list[n], &out->subtype, "subtype", b->err) < 0)
		return -1;
	/* body-ext-mpart = body-fld-param [SP body-fld-dsp ...] */
	if (n + 1 < a->nlist) {
		out->has_ext = true;
		if (params(b, &a->list[n + 1], &out->params,
			   &out->nparams) < 0)
			return -1;
		return ext_tail(b, a, n + 2, out);
	}
	return 0;
}

/* body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
 * body-fld-enc SP body-fld-octets */
static int fields(struct bs *b, const struct imap_arg *l,
		  struct imap_body *out)
{
	if (nstr(&l[0], &out->type, "media type", b->err) < 0 ||
	    nstr(&l[1], &out->subtype, "media subtype", b->err) < 0 ||
	    params(b, &l[2], &out->params, &out->nparams) < 0 ||
	    nstr(&l[3], &out->id, "content id", b->err) < 0 ||
	    nstr(&l[4], &out->description, "description", b->err) < 0 ||
	    nstr(&l[5], &out->encoding, "encoding", b->err) < 0)
		return -1;
	if (!out->type || !out->subtype)
		return bs_fail(b, "media type is NIL", NULL);
	if (!imap_arg_u64(&l[6], &out->size))
		return bs_fail(b, "size is not a number", NULL);
	return 0;
}

static bool is_message(const struct imap_body *p, const struct imap_arg *a)
{
	/* RFC 3501 body-type-msg; RFC 6532 message/global has the same
	 * shape.  Without the envelope and body it is read as basic. */
	return strcasecmp(p->type, "MESSAGE") == 0 &&
	       (strcasecmp(p->subtype, "RFC822") == 0 ||
		strcasecmp(p->subtype, "GLOBAL") == 0) &&
	       a->nlist >= 10 && is_list(&a->list[7]) && is_list(&a->list[8]);
}

static int message(struct bs *b, const struct imap_arg *a,
		   struct imap_body *out, unsigned depth)
{
	struct imap_body *inner = imap_response_alloc(b->r, sizeof(*inner));

	if (!inner)
		return nomem(b->err);
	if (envelope(b->r, &a->list[7], &out->envelope, b->err) < 0)
		return -1;
	if (body(b, &a->list[8], inner, depth + 1) < 0)
		return -1;
	out->parts = inner;
	out->nparts = 1;
	if (!imap_arg_u32(&a->list[9], &out->lines))
		return bs_fail(b, "line count is not a number", NULL);
	return 0;
}

static int single(struct bs *b, const struct imap_arg *a,
		  struct imap_body *out, unsigned depth)
{
	size_t e = 7;

	if (a->nlist < 7)
		return bs_fail(b, "fewer than 7 fields", NULL);
	if (fields(b, a->list, out) < 0)
		return -1;
	if (is_message(out, a)) {
		if (message(b, a, out, depth) < 0)
			return -1;
		e = 10;
	} else if (strcasecmp(out->type, "TEXT") == 0) {
		/* body-type-text: body-fld-lines follows the fields */
		if (a->nlist < 8 || !imap_arg_u32(&a->list[7], &out->lines))
			return bs_fail(b, "text part without a line count",
				       NULL);
		e = 8;
	}
	if (e < a->nlist) {
		/* body-ext-1part = body-fld-md5 [SP body-fld-dsp ...] */
		out->has_ext = true;
		if (nstr(&a->list[e], &out->md5, "MD5", b->err) < 0)
			return -1;
		return ext_tail(b, a, e + 1, out);
	}
	return 0;
}

static int body(struct bs *b, const struct imap_arg *a, struct imap_body *out,
		unsigned depth)
{
	/* the parser's max_depth bounds this too; this guards callers who
	 * raise it */
	if (depth > 200)
		return bs_fail(b, "nested too deeply", NULL);
	if (!is_list(a) || a->nlist == 0)
		return bs_fail(b, "is not a list", NULL);
	if (is_list(&a->list[0]))
		return multipart(b, a, out, depth);
	return single(b, a, out, depth);
}

/* ---- BODY[section]<origin>, BINARY[section], RFC822* ---------------- */

static bool starts_ci(const struct imap_arg *a, const char *p)
{
	size_t n = strlen(p);

	return a->len >= n && strncasecmp(a->str, p, n) == 0;
}

static bool is_body_item(const struct imap_arg *k)
{
	if (k->type != IMAP_ARG_ATOM)
		return false;
	if (starts_ci(k, "BODY[") || starts_ci(k, "BODY.PEEK[") ||
	    starts_ci(k, "BINARY[") || starts_ci(k, "BINARY.PEEK["))
		return true;
	return imap_arg_is_atom(k, "RFC822") ||
	       imap_arg_is_atom(k, "RFC822.HEADER") ||
	       imap_arg_is_atom(k, "RFC822.TEXT");
}

/* "BODY[1.2]<0>": item "BODY[1.2]", section "1.2", origin 0. */
static int body_item(const struct imap_response *r, const struct imap_arg *k,
		     const struct imap_arg *v, struct imap_fetch_body *out,
		     struct pn_error *err)
{
	const char *s = k->str, *open = memchr(s, '[', k->len);
	size_t end = k->len;

	out->binary = starts_ci(k, "BINARY");
	if (open) {
		unsigned depth = 0;
		size_t i;

		for (i = (size_t)(open - s); i < k->len; i++) {
			depth += s[i] == '[';
			depth -= s[i] == ']';
			if (depth == 0)
				break;
		}
		if (i == k->len)
			return pn_error_set(err, PN_EPARSE, "FETCH: "
					    "unbalanced '[' in %s", k->str);
		end = i + 1;
		out->section = rdup(r, open + 1,
						  i - (size_t)(open - s) - 1);
		if (end < k->len) {
			struct imap_arg o = { .type = IMAP_ARG_ATOM };

			o.str = s + end + 1;
			o.len = k->len - end - 2;
			if (s[end] != '<' || k->len - end < 3 ||
			    s[k->len - 1] != '>' ||
			    !imap_arg_u32(&o, &out->origin))
				return pn_error_set(err, PN_EPARSE, "FETCH: "
						    "bad origin in %s",
						    k->str);
			out->has_origin = true;
		}
	} else {
		/* RFC 3501 6.4.5: RFC822 = BODY[], .HEADER = BODY[HEADER],
		 * .TEXT = BODY[TEXT] */
		out->section = k->len > 7 ? k->str + 7 : "";
	}
	out->item = rdup(r, s, end);
	if (!out->item || !out->section)
		return nomem(err);
	switch (v->type) {
	case IMAP_ARG_NIL:
		return 0;
	case IMAP_ARG_LITERAL_SINK:
		out->streamed = true;
		out->size = v->literal_size;
		return 0;
	case IMAP_ARG_LIST:
		return pn_error_set(err, PN_EPARSE, "FETCH: %s value is a "
				    "list", out->item);
	default:
		out->data = v->str;
		out->len = v->len;
		out->size = v->len;
		return 0;
	}
}

/* ---- the FETCH list ------------------------------------------------- */

static int fetch_u32(const struct imap_arg *v, uint32_t *out,
		     const char *what, struct pn_error *err)
{
	if (!imap_arg_u32(v, out))
		return pn_error_set(err, PN_EPARSE, "FETCH: %s is not a "
				    "number", what);
	return 0;
}

static int fetch_u64(const struct imap_arg *v, uint64_t *out,
		     const char *what, struct pn_error *err)
{
	if (!imap_arg_u64(v, out))
		return pn_error_set(err, PN_EPARSE, "FETCH: %s is not a "
				    "number", what);
	return 0;
}

static int internaldate(const struct imap_arg *v, struct imap_fetch *out,
			struct pn_error *err)
{
	if (v->type != IMAP_ARG_STRING)
		return pn_error_set(err, PN_EPARSE, "FETCH: INTERNALDATE is "
				    "%s, not a string", kind_of(v));
	if (pn_internaldate_parse(v->str, v->len, &out->internaldate,
				  &out->internaldate_tz, err) < 0) {
		pn_error_prefix(err, "FETCH: INTERNALDATE");
		return -1;
	}
	return 0;
}

static int bodystructure(const struct imap_response *r,
			 const struct imap_arg *v, struct imap_fetch *out,
			 struct pn_error *err)
{
	struct bs b = { .r = r, .err = err };
	struct imap_body *p = imap_response_alloc(r, sizeof(*p));

	if (!p)
		return nomem(err);
	if (body(&b, v, p, 0) < 0)
		return -1;
	out->body = p;
	return 0;
}

static int item(const struct imap_response *r, const struct imap_arg *k,
		const struct imap_arg *v, struct imap_fetch *out,
		struct pn_error *err)
{
	if (imap_arg_is_atom(k, "UID")) {
		out->has |= IMAP_FETCH_UID;
		return fetch_u32(v, &out->uid, "UID", err);
	}
	if (imap_arg_is_atom(k, "FLAGS")) {
		out->has |= IMAP_FETCH_FLAGS;
		return imap_flags_decode(r, v, &out->flags, &out->nflags, err);
	}
	if (imap_arg_is_atom(k, "INTERNALDATE")) {
		out->has |= IMAP_FETCH_INTERNALDATE;
		return internaldate(v, out, err);
	}
	if (imap_arg_is_atom(k, "RFC822.SIZE")) {
		out->has |= IMAP_FETCH_SIZE;
		return fetch_u64(v, &out->size, "RFC822.SIZE", err);
	}
	if (imap_arg_is_atom(k, "ENVELOPE")) {
		out->has |= IMAP_FETCH_ENVELOPE;
		return envelope(r, v, &out->envelope, err);
	}
	if (imap_arg_is_atom(k, "BODYSTRUCTURE") ||
	    imap_arg_is_atom(k, "BODY")) {
		out->has |= IMAP_FETCH_BODYSTRUCTURE;
		return bodystructure(r, v, out, err);
	}
	if (imap_arg_is_atom(k, "MODSEQ")) {
		/* RFC 7162 3.1.4.1: "MODSEQ" SP "(" mod-sequence-value ")" */
		out->has |= IMAP_FETCH_MODSEQ;
		if (!is_list(v) || v->nlist != 1)
			return pn_error_set(err, PN_EPARSE, "FETCH: MODSEQ is "
					    "not a list of one number");
		return fetch_u64(&v->list[0], &out->modseq, "MODSEQ", err);
	}
	if (k->type == IMAP_ARG_ATOM && starts_ci(k, "BINARY.SIZE[") &&
	    k->str[k->len - 1] == ']') {
		out->has |= IMAP_FETCH_BINARY_SIZE;
		out->binary_size_section = rdup(r, k->str + 12,
							      k->len - 13);
		if (!out->binary_size_section)
			return nomem(err);
		return fetch_u64(v, &out->binary_size, "BINARY.SIZE", err);
	}
	return 0;	/* X-GM-MSGID, EMAILID, PREVIEW ...: not ours */
}

int imap_fetch_decode(const struct imap_response *r, struct imap_fetch *out,
		      struct pn_error *err)
{
	const struct imap_arg *l;
	struct imap_fetch_body *bodies;
	size_t nb = 0;

	memset(out, 0, sizeof(*out));
	if (r->kind != IMAP_RESP_UNTAGGED || !r->name ||
	    strcmp(r->name, "FETCH") != 0 || !r->has_number)
		return pn_error_set(err, PN_EINVAL, "FETCH: not a FETCH "
				    "response");
	out->seq = r->number;
	if (r->nargs != 1 || !is_list(&r->args[0]))
		return pn_error_set(err, PN_EPARSE, "FETCH: expected one "
				    "list");
	l = &r->args[0];
	if (l->nlist % 2)
		return pn_error_set(err, PN_EPARSE, "FETCH: %zu items, not "
				    "name/value pairs", l->nlist);
	for (size_t i = 0; i < l->nlist; i += 2)
		nb += is_body_item(&l->list[i]);
	bodies = imap_response_alloc(r, (nb + 1) * sizeof(*bodies));
	if (!bodies)
		return nomem(err);
	for (size_t i = 0; i < l->nlist; i += 2) {
		const struct imap_arg *k = &l->list[i], *v = &l->list[i + 1];

		if (k->type != IMAP_ARG_ATOM)
			return pn_error_set(err, PN_EPARSE, "FETCH: item %zu "
					    "name is %s", i / 2 + 1,
					    kind_of(k));
		if (is_body_item(k)) {
			if (body_item(r, k, v, &bodies[out->nbodies++],
				      err) < 0)
				return -1;
		} else if (item(r, k, v, out, err) < 0) {
			return -1;
		}
	}
	out->bodies = bodies;
	return 0;
}
