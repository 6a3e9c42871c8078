/* manager.c - content manager registries and get/set dispatch.
 *
 * The email6 design: get handlers are looked up by the part's full type,
 * then its maintype, then "" (the default); set handlers by the kind of
 * content handed in, then "".  The helpers shared by every set handler
 * (options, CTE choice, body encoding) live here too.
 */
#include "mime_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/base64.h"
#include "../lib/qp.h"

/* By type alone, as email6 asks get_content_maintype(): a built multipart
 * has no boundary until it is written. */
static bool multipart_type(const struct mime_part *part)
{
	const char *mt = mime_part_maintype(part);

	return mt && strcmp(mt, "multipart") == 0;
}

struct handler {
	char *key;
	mime_get_fn get;
	mime_set_fn set;
	void *ctx;
};

struct cleanup {
	void (*fn)(void *ctx);
	void *ctx;
};

struct mime_manager {
	struct handler *gets, *sets;
	size_t ngets, nsets;
	size_t gets_cap, sets_cap;
	struct cleanup *cleanups;
	size_t ncleanups;
};

struct mime_manager *mime_manager_new(void)
{
	return calloc(1, sizeof(struct mime_manager));
}

static void handlers_free(struct handler *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].key);
	free(h);
}

void mime_manager_free(struct mime_manager **mgr)
{
	if (!mgr || !*mgr)
		return;
	handlers_free((*mgr)->gets, (*mgr)->ngets);
	handlers_free((*mgr)->sets, (*mgr)->nsets);
	for (size_t i = (*mgr)->ncleanups; i-- > 0;)
		(*mgr)->cleanups[i].fn((*mgr)->cleanups[i].ctx);
	free((*mgr)->cleanups);
	free(*mgr);
	*mgr = NULL;
}

int mime_manager_add_cleanup(struct mime_manager *mgr, void (*fn)(void *ctx),
			     void *ctx)
{
	struct cleanup *c;

	c = realloc(mgr->cleanups, (mgr->ncleanups + 1) * sizeof(*c));
	if (!c)
		return -1;
	c[mgr->ncleanups].fn = fn;
	c[mgr->ncleanups].ctx = ctx;
	mgr->cleanups = c;
	mgr->ncleanups++;
	return 0;
}

static struct handler *handler_find(struct handler *list, size_t n,
				    const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(list[i].key, key) == 0)
			return &list[i];
	}
	return NULL;
}

/* Add or replace key in *list; returns the slot, NULL when out of memory. */
static struct handler *handler_slot(struct handler **list, size_t *n,
				    size_t *cap, const char *key)
{
	struct handler *h = handler_find(*list, *n, key);

	if (h)
		return h;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct handler *nl = realloc(*list, ncap * sizeof(*nl));

		if (!nl)
			return NULL;
		*list = nl;
		*cap = ncap;
	}
	h = &(*list)[*n];
	memset(h, 0, sizeof(*h));
	h->key = strdup(key);
	if (!h->key)
		return NULL;
	(*n)++;
	return h;
}

int mime_manager_add_get(struct mime_manager *mgr, const char *key,
			 mime_get_fn fn, void *ctx)
{
	struct handler *h;

	if (!mgr || !key || !fn)
		return -1;
	h = handler_slot(&mgr->gets, &mgr->ngets, &mgr->gets_cap, key);
	if (!h)
		return -1;
	h->get = fn;
	h->ctx = ctx;
	return 0;
}

int mime_manager_add_set(struct mime_manager *mgr, const char *kind,
			 mime_set_fn fn, void *ctx)
{
	struct handler *h;

	if (!mgr || !kind || !fn)
		return -1;
	h = handler_slot(&mgr->sets, &mgr->nsets, &mgr->sets_cap, kind);
	if (!h)
		return -1;
	h->set = fn;
	h->ctx = ctx;
	return 0;
}

int mime_get_content(const struct mime_manager *mgr, struct mime_part *part,
		     void *arg, struct pn_error *err)
{
	const char *type;
	struct handler *h;

	if (!mgr || !part)
		return pn_error_set(err, PN_EINVAL,
				    "get_content needs a manager and a part");
	type = mime_part_type(part);
	h = handler_find(mgr->gets, mgr->ngets, type);
	if (!h)
		h = handler_find(mgr->gets, mgr->ngets,
				 mime_part_maintype(part));
	if (!h)
		h = handler_find(mgr->gets, mgr->ngets, "");
	if (!h)
		return pn_error_set(err, PN_ENOTFOUND,
				    "no get_content handler for %s", type);
	return h->get(part, arg, h->ctx, err);
}

/* email6 EmailMessage.set_content: only the root of a message gets a
 * MIME-Version, and never a second one. */
static int add_mime_version(struct mime_part *part, struct pn_error *err)
{
	if (!part->msg || part->msg->root != part)
		return 0;
	if (mime_part_header_get(part, "MIME-Version"))
		return 0;
	return mime_part_header_add(part, "MIME-Version", "1.0", err);
}

int mime_set_content(const struct mime_manager *mgr, struct mime_part *part,
		     const char *kind, const void *content,
		     const struct mime_set_opts *opts, struct pn_error *err)
{
	static const struct mime_set_opts no_opts;
	struct handler *h;

	if (!mgr || !part || !kind)
		return pn_error_set(err, PN_EINVAL, "set_content needs a "
				    "manager, part and kind");
	/* Refused before anything is cleared, as email6 does. */
	if (multipart_type(part))
		return pn_error_set(err, PN_EINVAL,
				    "set_content not valid on multipart");
	h = handler_find(mgr->sets, mgr->nsets, kind);
	if (!h)
		h = handler_find(mgr->sets, mgr->nsets, "");
	if (!h)
		return pn_error_set(err, PN_ENOTFOUND,
				    "no set_content handler for %s", kind);
	mime_clear_content(part);
	if (h->set(part, content, opts ? opts : &no_opts, h->ctx, err) < 0)
		return -1;
	if (add_mime_version(part, err) < 0)
		return -1;
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	mime_part_touch(part, true);
	mime_part_touch(part, false);
	return 0;
}

void mime_content_clear(struct mime_content *c)
{
	if (!c)
		return;
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/* ---- options shared by the set handlers ---------------------------------- */

/* "Name: value" from opts->headers.  email6 refuses a second copy of a
 * field that may appear once; Content-* fields are the ones a set handler
 * writes itself. */
static int add_extra_header(struct mime_part *part, const char *line,
			    struct pn_error *err)
{
	const char *colon = strchr(line, ':');
	const char *v;
	char *name;
	int rc;

	if (!colon || colon == line)
		return pn_error_set(err, PN_EINVAL, "Invalid header: %s", line);
	name = strndup(line, (size_t)(colon - line));
	if (!name)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (strncasecmp(name, "content-", 8) == 0 &&
	    mime_part_header_get(part, name)) {
		rc = pn_error_set(err, PN_EINVAL,
				  "There may be at most 1 %s headers in a "
				  "message", name);
		free(name);
		return rc;
	}
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	rc = mime_part_header_add(part, name, v, err);
	free(name);
	return rc;
}

static int apply_cid(struct mime_part *part, const char *cid,
		     struct pn_error *err)
{
	char *v;
	int rc;

	/* RFC 2392: a Content-ID is a msg-id, so it wears angle brackets. */
	if (cid[0] == '<')
		return mime_part_header_add(part, "Content-ID", cid, err);
	if (asprintf(&v, "<%s>", cid) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = mime_part_header_add(part, "Content-ID", v, err);
	free(v);
	return rc;
}

int mime_apply_set_opts(struct mime_part *part,
			const struct mime_set_opts *opts,
			struct pn_error *err)
{
	const char *disp;

	if (!opts)
		return 0;
	/* email6 _finalize_set: a filename implies an attachment. */
	disp = opts->disposition;
	if (!disp && opts->filename)
		disp = "attachment";
	if (disp && mime_part_header_set(part, "Content-Disposition", disp,
					 err) < 0)
		return -1;
	if (opts->filename &&
	    mime_part_set_param(part, "Content-Disposition", "filename",
				opts->filename, err) < 0)
		return -1;
	if (opts->cid && apply_cid(part, opts->cid, err) < 0)
		return -1;
	for (const char *const *p = opts->params; p && p[0]; p += 2) {
		if (!p[1])
			return pn_error_set(err, PN_EINVAL,
					    "parameter %s has no value", p[0]);
		if (mime_part_set_param(part, "Content-Type", p[0], p[1],
					err) < 0)
			return -1;
	}
	for (const char *const *h = opts->headers; h && *h; h++) {
		if (add_extra_header(part, *h, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- transfer encoding choice -------------------------------------------- */

/* email6 judges quoted-printable against base64 on the first ten lines. */
#define SNIFF_LINES 10
#define MAX_LINE 78

struct sniff {
	size_t maxline;		/* longest line, without its break */
	size_t qp_len;		/* quoted-printable size of the sample */
	size_t sample;		/* bytes in the sample */
	bool eightbit, nul, bare_cr;
};

/* Quoted-printable size of one byte: printable ASCII but '=' stays as it
 * is, everything else becomes =XX. */
static size_t qp_cost(unsigned char c, bool text)
{
	if (c == '\n' && text)
		return 1;
	if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t')
		return 1;
	return 3;
}

static void sniff_data(const char *data, size_t len, bool text,
		       struct sniff *s)
{
	size_t col = 0, lines = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c >= 0x80)
			s->eightbit = true;
		else if (c == 0)
			s->nul = true;
		if (c == '\r' && !(i + 1 < len && data[i + 1] == '\n'))
			s->bare_cr = true;
		if (lines < SNIFF_LINES) {
			s->sample++;
			s->qp_len += qp_cost(c, text);
		}
		if (c == '\n') {
			lines++;
			col = 0;
		} else if (c != '\r' && ++col > s->maxline) {
			s->maxline = col;
		}
	}
	/* Soft line breaks: "=" plus a line break every 75 characters. */
	s->qp_len += s->qp_len / 75 * 2;
}

enum mime_cte mime_choose_cte(const char *data, size_t len, bool text)
{
	struct sniff s;
	size_t b64_len;

	sniff_data(data, len, text, &s);
	/* Data whose line breaks are bytes cannot go as 7bit: the writer
	 * would turn its LFs into CRLFs. */
	if (text && !s.eightbit && !s.nul && !s.bare_cr &&
	    s.maxline <= MAX_LINE)
		return MIME_CTE_7BIT;
	if (!text || s.nul || s.bare_cr)
		return MIME_CTE_BASE64;
	b64_len = (s.sample + 2) / 3 * 4;
	return s.qp_len > b64_len ? MIME_CTE_BASE64 : MIME_CTE_QP;
}

/* ---- encoding a body into part->body ------------------------------------- */

/* 7bit and 8bit bodies are stored with LF line breaks. */
static int store_lf(struct pn_buf *out, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		if (pn_buf_addc(out, data[i]) < 0)
			return -1;
	}
	return 0;
}

static int store_base64(struct pn_buf *out, const char *data, size_t len)
{
	struct pn_b64_encoder e;
	size_t n;

	pn_b64_encoder_init(&e, 76, "\n");
	if (pn_buf_reserve(out, pn_b64_encoded_max(&e, len) + 8) < 0)
		return -1;
	n = pn_b64_encode(&e, data, len, out->data + out->len);
	out->len += n;
	n = pn_b64_encode_finish(&e, out->data + out->len);
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

static int store_qp(struct pn_buf *out, const char *data, size_t len,
		    bool text)
{
	struct pn_qp_encoder e;
	size_t n;

	pn_qp_encoder_init(&e, !text, "\n");
	if (pn_buf_reserve(out, pn_qp_encoded_max(len) + 16) < 0)
		return -1;
	n = pn_qp_encode(&e, data, len, out->data + out->len);
	out->len += n;
	n = pn_qp_encode_finish(&e, out->data + out->len);
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

static bool all_ascii(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)data[i] >= 0x80)
			return false;
	}
	return true;
}

int mime_part_set_body(struct mime_part *part, const char *data, size_t len,
		       enum mime_cte cte, struct pn_error *err)
{
	const char *mt = part->maintype ? part->maintype : "";
	int rc;

	if (cte == MIME_CTE_7BIT && !all_ascii(data, len))
		return pn_error_set(err, PN_EINVAL,
				    "non-ASCII data cannot be sent as 7bit");
	pn_buf_reset(&part->body);
	free(part->body_path);
	part->body_path = NULL;
	switch (cte) {
	case MIME_CTE_BASE64:
		rc = store_base64(&part->body, data, len);
		break;
	case MIME_CTE_QP:
		/* Only text treats its line breaks as line breaks. */
		rc = store_qp(&part->body, data, len, strcmp(mt, "text") == 0);
		break;
	case MIME_CTE_BINARY:
		rc = pn_buf_add(&part->body, data, len);
		break;
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
		rc = store_lf(&part->body, data, len);
		break;
	default:
		return pn_error_set(err, PN_EINVAL,
				    "cannot encode a body as %s",
				    mime_cte_name(cte));
	}
	if (rc < 0)
		return pn_error_set(err, PN_ENOMEM, "body too large");
	mime_part_touch(part, false);
	return 0;
}
