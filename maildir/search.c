/* search.c - md_folder_search(): flags from the scan, header substrings
 * through md_folder_index() so that a warm cache answers without opening
 * a single message.
 */
#include "maildir.h"
#include "cache_p.h"
#include "maildir_p.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct search {
	unsigned set, clear;
	int field;		/* enum md_hfield, or -1: any of them */
	const char *needle;
	size_t nlen;
	uint32_t *uids;
	size_t n, cap;
	bool nomem;
};

/* ASCII case-blind substring (the raw value: no RFC 2047 decoding). */
static bool contains(const char *hay, const char *needle, size_t nlen)
{
	int first;

	if (!hay)
		return false;
	if (!nlen)
		return true;
	first = tolower((unsigned char)needle[0]);
	for (; *hay; hay++) {
		if (tolower((unsigned char)*hay) == first &&
		    strncasecmp(hay, needle, nlen) == 0)
			return true;
	}
	return false;
}

static bool flags_match(const struct search *s, unsigned flags)
{
	return (flags & s->set) == s->set && !(flags & s->clear);
}

static int push_uid(struct search *s, uint32_t uid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint32_t *p = realloc(s->uids, cap * sizeof(*p));

		if (!p) {
			s->nomem = true;
			return -1;
		}
		s->uids = p;
		s->cap = cap;
	}
	s->uids[s->n++] = uid;
	return 0;
}

static int match_entry(void *ctx, const struct md_index_entry *e)
{
	struct search *s = ctx;
	const char *v[MD_HF_COUNT] = { e->date, e->from, e->to, e->subject,
				       e->message_id };
	bool hit = false;

	if (!flags_match(s, e->msg->flags))
		return 0;
	for (int i = 0; i < MD_HF_COUNT && !hit; i++) {
		if (s->field < 0 || s->field == i)
			hit = contains(v[i], s->needle, s->nlen);
	}
	return hit ? push_uid(s, e->msg->uid) : 0;
}

int md_folder_search(struct md_folder *f, unsigned flags_set,
		     unsigned flags_clear, const char *field,
		     const char *needle, uint32_t **uids_out, size_t *n_out,
		     struct pn_error *err)
{
	struct search s = { .set = flags_set, .clear = flags_clear,
			    .field = -1, .needle = needle };
	int rc = 0;

	*uids_out = NULL;
	*n_out = 0;
	if (needle && field && (s.field = md_hfield_lookup(field)) < 0)
		return pn_error_set(err, PN_EUNSUPPORTED,
				    "search: header field '%s' is not indexed "
				    "(date, from, to, subject, message-id)",
				    field);
	if (needle) {
		s.nlen = strlen(needle);
		rc = md_folder_index(f, match_entry, &s, err);
	} else {
		/* Flags alone: the scan has them, no file is opened. */
		for (size_t i = 0; i < f->n && !s.nomem; i++) {
			if (flags_match(&s, f->msgs[i].pub.flags))
				(void)push_uid(&s, f->msgs[i].pub.uid);
		}
	}
	if (s.nomem && rc == 0)
		rc = pn_error_set(err, PN_ENOMEM, "search: out of memory");
	if (rc < 0) {
		free(s.uids);
		return -1;
	}
	*uids_out = s.uids;
	*n_out = s.n;
	return 0;
}
