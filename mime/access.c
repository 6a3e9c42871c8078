/* access.c - email6 get_body and iter_attachments.
 *
 * get_body walks the tree depth first and yields candidates with a
 * priority (the index of their kind in the preference list); the first
 * candidate of the best priority wins.  Attachments are never bodies, and
 * a multipart/related is looked into only through its root part (the
 * start= part, else the first), because its other parts are resources
 * the root refers to (RFC 2387).
 */
#include "mime_p.h"

#include <string.h>
#include <strings.h>

struct body_search {
	const char *const *prefs;
	size_t nprefs;
	size_t best_prio;
	struct mime_part *best;
	bool done;
};

/* email6 is_attachment: the disposition value, case-blind. */
static bool is_attachment(const struct mime_part *part)
{
	const char *d = mime_part_disposition(part);

	return d && strcasecmp(d, "attachment") == 0;
}

static size_t pref_index(const struct body_search *s, const char *name)
{
	for (size_t i = 0; i < s->nprefs; i++) {
		if (s->prefs[i] && strcasecmp(s->prefs[i], name) == 0)
			return i;
	}
	return s->nprefs;
}

static void offer(struct body_search *s, size_t prio, struct mime_part *part)
{
	if (prio >= s->best_prio)
		return;
	s->best_prio = prio;
	s->best = part;
	if (prio == 0)
		s->done = true;
}

/* Content-ID and start= are both msg-ids; compare them without the angle
 * brackets and surrounding blanks so "<a@b>" matches " <a@b>". */
static bool same_id(const char *a, const char *b)
{
	size_t la, lb;

	while (*a == ' ' || *a == '\t' || *a == '<')
		a++;
	while (*b == ' ' || *b == '\t' || *b == '<')
		b++;
	la = strcspn(a, "> \t");
	lb = strcspn(b, "> \t");
	return la == lb && la > 0 && strncmp(a, b, la) == 0;
}

static bool is_start(const struct mime_part *c, const char *start)
{
	const char *cid = mime_part_header_get(c, "Content-ID");

	return start && *start && cid && same_id(cid, start);
}

static struct mime_part *related_root(struct mime_part *part)
{
	const char *start = mime_part_param(part, "start");

	for (struct mime_part *c = part->first_child; c; c = c->next) {
		if (is_start(c, start))
			return c;
	}
	return part->first_child;
}

static void find_body(struct body_search *s, struct mime_part *part,
		      unsigned depth)
{
	const char *mt = mime_part_maintype(part);
	const char *st = mime_part_subtype(part);

	if (s->done || is_attachment(part) || !mt || !st)
		return;
	if (strcmp(mt, "text") == 0) {
		offer(s, pref_index(s, st), part);
		return;
	}
	/* Nesting is bounded by the parser's limits; this guards built
	 * trees. */
	if (strcmp(mt, "multipart") != 0 || depth > MIME_DEFAULT_MAX_DEPTH * 4)
		return;
	if (strcmp(st, "related") != 0) {
		for (struct mime_part *c = part->first_child; c && !s->done;
		     c = c->next)
			find_body(s, c, depth + 1);
		return;
	}
	offer(s, pref_index(s, "related"), part);
	if (!s->done && related_root(part))
		find_body(s, related_root(part), depth + 1);
}

struct mime_part *mime_get_body(struct mime_part *part,
				const char *const *prefs, size_t nprefs)
{
	static const char *const defaults[] = { "related", "html", "plain" };
	struct body_search s = { 0 };

	if (!part)
		return NULL;
	if (!prefs) {
		prefs = defaults;
		nprefs = 3;
	}
	s.prefs = prefs;
	s.nprefs = nprefs;
	s.best_prio = nprefs;
	find_body(&s, part, 0);
	return s.best;
}

/* The first text/plain, text/html, multipart/related and
 * multipart/alternative of a multipart are its body candidates. */
static bool body_type(const struct mime_part *part, unsigned *seen)
{
	static const char *const types[] = { "text/plain", "text/html",
					     "multipart/related",
					     "multipart/alternative" };
	const char *t = mime_part_type(part);

	if (!t || is_attachment(part))
		return false;
	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(t, types[i]) == 0) {
			if (*seen & (1u << i))
				return false;
			*seen |= 1u << i;
			return true;
		}
	}
	return false;
}

/* Everything but the root.  A start= naming no part means the first part
 * is the root. */
static int related_attachments(struct mime_part *part, mime_part_fn fn,
			       void *ctx)
{
	const char *start = mime_part_param(part, "start");
	bool found = false;
	int rc;

	for (struct mime_part *c = part->first_child; c; c = c->next)
		found = found || is_start(c, start);
	for (struct mime_part *c = part->first_child; c; c = c->next) {
		if (found ? is_start(c, start) : c == part->first_child)
			continue;
		if ((rc = fn(c, ctx)) != 0)
			return rc;
	}
	return 0;
}

int mime_iter_attachments(struct mime_part *part, mime_part_fn fn, void *ctx)
{
	const char *mt, *st;
	unsigned seen = 0;
	int rc;

	if (!part || !fn)
		return 0;
	mt = mime_part_maintype(part);
	st = mime_part_subtype(part);
	if (!mt || !st || strcmp(mt, "multipart") != 0 ||
	    strcmp(st, "alternative") == 0)
		return 0;
	if (strcmp(st, "related") == 0)
		return related_attachments(part, fn, ctx);
	for (struct mime_part *c = part->first_child; c; c = c->next) {
		if (body_type(c, &seen))
			continue;
		if ((rc = fn(c, ctx)) != 0)
			return rc;
	}
	return 0;
}
