/* builder.c - building messages by promotion (email6 make_xxx/add_xxx).
 *
 * make_related/alternative/mixed turn a part into a multipart, moving its
 * content (Content-* fields and body or children) into a new first
 * subpart while the other fields stay.  A part moved this way keeps
 * reading its body from the source it was parsed from, so promoting a
 * parsed message copies nothing.
 */
#include "mime_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* By type alone, as email6 asks get_content_maintype(): a built multipart
 * has no boundary until it is written. */
static bool multipart_type(const struct mime_part *part)
{
	const char *mt = mime_part_maintype(part);

	return mt && strcmp(mt, "multipart") == 0;
}

static bool is_content_field(const struct mime_header *h)
{
	return strncasecmp(h->name, "content-", 8) == 0;
}

static void header_free(struct mime_header *h)
{
	free(h->name);
	free(h->value);
	free(h->raw);
	free(h);
}

static void headers_append(struct mime_part *part, struct mime_header *h)
{
	h->next = NULL;
	if (part->headers_tail)
		part->headers_tail->next = h;
	else
		part->headers = h;
	part->headers_tail = h;
	part->nheaders++;
}

/* Split part's fields: Content-* ones go to sub (in order), the rest stay.
 * Returns how many moved. */
static size_t move_content_fields(struct mime_part *part,
				  struct mime_part *sub)
{
	struct mime_header *h = part->headers, *next;
	size_t moved = 0;

	part->headers = part->headers_tail = NULL;
	part->nheaders = 0;
	for (; h; h = next) {
		next = h->next;
		if (is_content_field(h)) {
			headers_append(sub, h);
			moved++;
		} else {
			headers_append(part, h);
		}
	}
	return moved;
}

static bool has_body(const struct mime_part *part)
{
	if (part->first_child || part->body.len || part->body_path)
		return true;
	return !part->content_dirty && part->src &&
	       part->off_end > part->off_body;
}

/* Body, children and where they lie in the source move to sub. */
static void move_body(struct mime_part *part, struct mime_part *sub)
{
	struct mime_part *c;

	sub->body = part->body;
	pn_buf_init(&part->body, 0);
	sub->body_path = part->body_path;
	sub->body_path_cte = part->body_path_cte;
	part->body_path = NULL;
	if (part->src)
		sub->src = mime_source_ref(part->src);
	sub->off_start = part->off_body;
	sub->off_body = part->off_body;
	sub->off_end = part->off_end;
	sub->content_dirty = part->content_dirty || !part->src;
	sub->child_dirty = part->child_dirty;
	while ((c = part->first_child) != NULL) {
		mime_part_detach(c);
		mime_part_append_child(sub, c);
	}
}

static void drop_body(struct mime_part *part)
{
	struct mime_part *c;

	pn_buf_free(&part->body);
	pn_buf_init(&part->body, 0);
	free(part->body_path);
	part->body_path = NULL;
	while ((c = part->first_child) != NULL) {
		mime_part_detach(c);
		mime_part_free_tree(c);
	}
}

static int refresh(struct mime_part *part, struct pn_error *err)
{
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

static int check_convert(const struct mime_part *part, const char *subtype,
			 const char *const *disallowed, struct pn_error *err)
{
	const char *mt = mime_part_maintype(part);
	const char *st = mime_part_subtype(part);

	if (!mt || strcmp(mt, "multipart") != 0)
		return 0;
	for (; *disallowed; disallowed++) {
		if (strcmp(st, *disallowed) == 0)
			break;
	}
	if (*disallowed || strcmp(st, subtype) == 0)
		return pn_error_set(err, PN_EINVAL, "Cannot convert %s to %s",
				    st, subtype);
	return 0;
}

/* RFC 2046 5.1.1: 1-70 bchars, not ending in a space. */
static bool valid_boundary(const char *b)
{
	static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
	size_t n = strlen(b);

	return n >= 1 && n <= 70 && strspn(b, bchars) == n && b[n - 1] != ' ';
}

/* email6 _make_multipart.  A part without Content-* fields and without a
 * body becomes an empty multipart.  email6 would also drop the body of a
 * part that has one but no Content-* fields; that body is text/plain by
 * RFC 2045 5.2, so it moves into a subpart instead of being lost. */
static int make_multipart(struct mime_part *part, const char *subtype,
			  const char *const *disallowed, const char *boundary,
			  struct pn_error *err)
{
	struct mime_part *sub;
	char type[64];

	if (!part)
		return pn_error_set(err, PN_EINVAL, "no part given");
	if (check_convert(part, subtype, disallowed, err) < 0)
		return -1;
	if (boundary && !valid_boundary(boundary))
		return pn_error_set(err, PN_EINVAL, "invalid boundary");
	sub = mime_part_new(part->msg);
	if (!sub)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (move_content_fields(part, sub) > 0 || has_body(part)) {
		move_body(part, sub);
		mime_part_append_child(part, sub);
		if (refresh(sub, err) < 0)
			return -1;
		mime_part_touch(sub, true);
	} else {
		drop_body(part);
		mime_part_free_tree(sub);
	}
	snprintf(type, sizeof(type), "multipart/%s", subtype);
	if (mime_part_header_add(part, "Content-Type", type, err) < 0 ||
	    (boundary && mime_part_set_param(part, "Content-Type", "boundary",
					     boundary, err) < 0) ||
	    refresh(part, err) < 0)
		return -1;
	mime_part_touch(part, true);
	mime_part_touch(part, false);
	return 0;
}

int mime_make_related(struct mime_part *part, const char *boundary,
		      struct pn_error *err)
{
	static const char *const no[] = { "alternative", "mixed", NULL };

	return make_multipart(part, "related", no, boundary, err);
}

int mime_make_alternative(struct mime_part *part, const char *boundary,
			  struct pn_error *err)
{
	static const char *const no[] = { "mixed", NULL };

	return make_multipart(part, "alternative", no, boundary, err);
}

int mime_make_mixed(struct mime_part *part, const char *boundary,
		    struct pn_error *err)
{
	static const char *const no[] = { NULL };

	return make_multipart(part, "mixed", no, boundary, err);
}

static int make_kind(struct mime_part *part, const char *kind,
		     struct pn_error *err)
{
	if (strcmp(kind, "related") == 0)
		return mime_make_related(part, NULL, err);
	if (strcmp(kind, "alternative") == 0)
		return mime_make_alternative(part, NULL, err);
	return mime_make_mixed(part, NULL, err);
}

/* email6 _add_multipart. */
static int add_multipart(struct mime_part *part, const char *kind,
			 const char *disp, const struct mime_manager *mgr,
			 const char *ckind, const void *content,
			 const struct mime_set_opts *opts,
			 struct mime_part **new_out, struct pn_error *err)
{
	struct mime_manager *own = NULL;
	struct mime_part *sub;
	int rc = -1;

	if (!part)
		return pn_error_set(err, PN_EINVAL, "no part given");
	if (!multipart_type(part) ||
	    strcmp(mime_part_subtype(part), kind) != 0) {
		if (make_kind(part, kind, err) < 0)
			return -1;
	}
	/* email6 falls back to the policy's manager, the raw-data one. */
	if (!mgr && !(mgr = own = mime_raw_manager_new()))
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	sub = mime_part_new(part->msg);
	if (!sub) {
		pn_error_set(err, PN_ENOMEM, "out of memory");
		goto out;
	}
	if (mime_set_content(mgr, sub, ckind, content, opts, err) < 0 ||
	    (disp && !mime_part_header_get(sub, "Content-Disposition") &&
	     (mime_part_header_add(sub, "Content-Disposition", disp, err) < 0 ||
	      refresh(sub, err) < 0)) ||
	    mime_part_attach(part, sub, err) < 0) {
		mime_part_free_tree(sub);
		goto out;
	}
	if (new_out)
		*new_out = sub;
	rc = 0;
out:
	mime_manager_free(&own);
	return rc;
}

int mime_add_related(struct mime_part *part, const struct mime_manager *mgr,
		     const char *kind, const void *content,
		     const struct mime_set_opts *opts,
		     struct mime_part **new_out, struct pn_error *err)
{
	return add_multipart(part, "related", "inline", mgr, kind, content,
			     opts, new_out, err);
}

int mime_add_alternative(struct mime_part *part, const struct mime_manager *mgr,
			 const char *kind, const void *content,
			 const struct mime_set_opts *opts,
			 struct mime_part **new_out, struct pn_error *err)
{
	return add_multipart(part, "alternative", NULL, mgr, kind, content,
			     opts, new_out, err);
}

int mime_add_attachment(struct mime_part *part, const struct mime_manager *mgr,
			const char *kind, const void *content,
			const struct mime_set_opts *opts,
			struct mime_part **new_out, struct pn_error *err)
{
	return add_multipart(part, "mixed", "attachment", mgr, kind, content,
			     opts, new_out, err);
}

static bool is_ancestor(const struct mime_part *anc,
			const struct mime_part *p)
{
	for (; p; p = p->parent) {
		if (p == anc)
			return true;
	}
	return false;
}

int mime_part_attach(struct mime_part *part, struct mime_part *child,
		     struct pn_error *err)
{
	if (!part || !child)
		return pn_error_set(err, PN_EINVAL, "no part given");
	if (!multipart_type(part))
		return pn_error_set(err, PN_EINVAL, "Attach is not valid on a "
				    "message with a non-multipart payload");
	if (child->parent)
		return pn_error_set(err, PN_EINVAL,
				    "part is already attached elsewhere");
	if (is_ancestor(child, part))
		return pn_error_set(err, PN_EINVAL,
				    "a part cannot contain itself");
	if (child->msg && child->msg->root == child)
		child->msg->root = NULL;
	if (child->msg != part->msg)
		mime_part_set_message(child, part->msg);
	mime_part_append_child(part, child);
	mime_part_touch(part, false);
	return 0;
}

/* ---- clear --------------------------------------------------------------- */

static void drop_fields(struct mime_part *part, bool content_only)
{
	struct mime_header *h = part->headers, *next;

	part->headers = part->headers_tail = NULL;
	part->nheaders = 0;
	for (; h; h = next) {
		next = h->next;
		if (content_only && !is_content_field(h))
			headers_append(part, h);
		else
			header_free(h);
	}
}

static void clear(struct mime_part *part, bool content_only)
{
	if (!part)
		return;
	drop_fields(part, content_only);
	drop_body(part);
	/* Only fails on allocation; the fields left are then still valid and
	 * the derived ones are recomputed on the next change. */
	(void)!mime_part_refresh(part, false);
	mime_part_touch(part, true);
	mime_part_touch(part, false);
}

void mime_clear(struct mime_part *part)
{
	clear(part, false);
}

void mime_clear_content(struct mime_part *part)
{
	clear(part, true);
}
