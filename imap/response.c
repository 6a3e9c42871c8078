/* response.c - typed views of parsed responses: capabilities, response
 * codes, flags, LIST, STATUS, SEARCH/SORT/ESEARCH, NAMESPACE, QUOTA and
 * VANISHED.  Strings point into the response (its arena); only the
 * capability set and sequence sets own memory of their own.
 */
#include "imap_p.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"

/* ---- shared helpers ------------------------------------------------- */

static const char *type_name(const struct imap_arg *a)
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

/* astring (RFC 3501): atom or string; NIL only where nstring allows. */
static bool is_astring(const struct imap_arg *a)
{
	return a && (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING);
}

static int need_name(const struct imap_response *r, const char *what,
		     const char *name, const char *alt, struct pn_error *err)
{
	if (r->kind == IMAP_RESP_UNTAGGED && r->name &&
	    (strcmp(r->name, name) == 0 || (alt && strcmp(r->name, alt) == 0)))
		return 0;
	return pn_error_set(err, PN_EINVAL, "%s: not a%s %s response", what,
			    strchr("AEIOU", name[0]) ? "n" : "", name);
}

static int add_seqset(struct imap_seqset *to, const struct imap_arg *a,
		      const char *what, struct pn_error *err)
{
	struct imap_seqset t = { 0 };

	if (!a || a->type != IMAP_ARG_ATOM)
		return pn_error_set(err, PN_EPARSE, "%s: sequence set is %s",
				    what, type_name(a));
	if (imap_seqset_parse(&t, a->str, a->len, err) < 0) {
		imap_seqset_free(&t);
		pn_error_prefix(err, "%s", what);
		return -1;
	}
	for (size_t i = 0; i < t.n; i++) {
		if (imap_seqset_add(to, t.r[i].lo, t.r[i].hi) < 0) {
			imap_seqset_free(&t);
			return pn_error_set(err, errno == ENOMEM ? PN_ENOMEM :
					    PN_ELIMIT, "%s: too many ranges",
					    what);
		}
	}
	imap_seqset_free(&t);
	return 0;
}

/* A mailbox name as UTF-8: modified UTF-7 (RFC 3501 5.1.3) unless
 * UTF8=ACCEPT is on (RFC 6855 3).  A name that is not valid modified
 * UTF-7 is shown as sent: real servers hold such names and the user
 * must still be able to open them. */
static const char *mailbox_name(const struct imap_response *r,
				const struct imap_arg *a, bool utf8)
{
	struct pn_buf b;
	const char *s;

	if (utf8 || !memchr(a->str, '&', a->len))
		return a->str;
	pn_buf_init(&b, 0);
	if (imap_utf7_decode(a->str, a->len, &b, NULL) < 0) {
		pn_buf_free(&b);
		return a->str;
	}
	s = imap_response_alloc(r, b.len + 1);
	if (s)
		memcpy((char *)s, pn_buf_cstr(&b), b.len + 1);
	pn_buf_free(&b);
	return s;
}

/* ---- CAPABILITY ----------------------------------------------------- */

struct imap_caps {
	char **v;
	size_t n, cap;
};

struct imap_caps *imap_caps_new(void)
{
	return calloc(1, sizeof(struct imap_caps));
}

static void caps_clear(struct imap_caps *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	c->n = 0;
}

void imap_caps_free(struct imap_caps **c)
{
	if (!c || !*c)
		return;
	caps_clear(*c);
	free((*c)->v);
	free(*c);
	*c = NULL;
}

static int caps_add(struct imap_caps *c, const struct imap_arg *a)
{
	char *s;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		char **nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		c->v = nv;
		c->cap = cap;
	}
	s = malloc(a->len + 1);
	if (!s)
		return -1;
	for (size_t i = 0; i < a->len; i++)
		s[i] = (char)toupper((unsigned char)a->str[i]);
	s[a->len] = '\0';
	c->v[c->n++] = s;
	return 0;
}

/* RFC 3501 7.2.1: the new list replaces the old (after STARTTLS and
 * login the server may announce a different set). */
int imap_caps_set(struct imap_caps *c, const struct imap_arg *args,
		  size_t nargs, struct pn_error *err)
{
	caps_clear(c);
	for (size_t i = 0; i < nargs; i++) {
		if (args[i].type != IMAP_ARG_ATOM) {
			caps_clear(c);
			return pn_error_set(err, PN_EPARSE, "CAPABILITY: "
					    "item %zu is %s, not an atom",
					    i + 1, type_name(&args[i]));
		}
		if (caps_add(c, &args[i]) < 0) {
			caps_clear(c);
			return pn_error_set(err, PN_ENOMEM, "CAPABILITY: out "
					    "of memory");
		}
	}
	return 0;
}

bool imap_caps_has(const struct imap_caps *c, const char *cap)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (strcasecmp(c->v[i], cap) == 0)
			return true;
	return false;
}

const char *imap_caps_get(const struct imap_caps *c, size_t n)
{
	return c && n < c->n ? c->v[n] : NULL;
}

bool imap_caps_auth(const struct imap_caps *c, const char *mech)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (strncmp(c->v[i], "AUTH=", 5) == 0 &&
		    strcasecmp(c->v[i] + 5, mech) == 0)
			return true;
	return false;
}

/* RFC 7889 2: "APPENDLIMIT=n", or a bare APPENDLIMIT when the limit
 * differs per mailbox (then STATUS says; 0 here). */
uint64_t imap_caps_appendlimit(const struct imap_caps *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		struct imap_arg a = { .type = IMAP_ARG_ATOM };
		uint64_t v;

		if (strncmp(c->v[i], "APPENDLIMIT=", 12) != 0)
			continue;
		a.str = c->v[i] + 12;
		a.len = strlen(a.str);
		return imap_arg_u64(&a, &v) ? v : 0;
	}
	return 0;
}

/* ---- flags ---------------------------------------------------------- */

int imap_flags_decode(const struct imap_response *r, const struct imap_arg *a,
		      const char *const **flags_out, size_t *n_out,
		      struct pn_error *err)
{
	const char **v;

	if (!is_list(a))
		return pn_error_set(err, PN_EPARSE, "FLAGS: %s, not a list",
				    type_name(a));
	v = imap_response_alloc(r, (a->nlist + 1) * sizeof(*v));
	if (!v)
		return pn_error_set(err, PN_ENOMEM, "FLAGS: out of memory");
	for (size_t i = 0; i < a->nlist; i++) {
		/* flag = "\" atom / atom; "\*" in PERMANENTFLAGS */
		if (a->list[i].type != IMAP_ARG_ATOM)
			return pn_error_set(err, PN_EPARSE, "FLAGS: item %zu "
					    "is %s, not a flag", i + 1,
					    type_name(&a->list[i]));
		v[i] = a->list[i].str;
	}
	v[a->nlist] = NULL;
	*flags_out = v;
	*n_out = a->nlist;
	return 0;
}

/* ---- LIST / LSUB ---------------------------------------------------- */

/* mbox-list-extended-item (RFC 5258 9): tag value pairs. */
static int list_ext(const struct imap_response *r, const struct imap_arg *x,
		    bool utf8, struct imap_list_entry *out,
		    struct pn_error *err)
{
	if (!is_list(x) || x->nlist % 2)
		return pn_error_set(err, PN_EPARSE, "LIST: extended items "
				    "are not tag/value pairs");
	for (size_t i = 0; i < x->nlist; i += 2) {
		const struct imap_arg *t = &x->list[i], *v = &x->list[i + 1];

		if (!is_astring(t))
			return pn_error_set(err, PN_EPARSE, "LIST: extended "
					    "item tag is %s", type_name(t));
		/* CHILDINFO (RFC 5258 4): ("SUBSCRIBED") */
		if (strcasecmp(t->str, "CHILDINFO") == 0 && is_list(v) &&
		    v->nlist && is_astring(&v->list[0]))
			out->childinfo = v->list[0].str;
		/* OLDNAME (RFC 9051 7.3.1): ("old name") */
		if (strcasecmp(t->str, "OLDNAME") == 0 && is_list(v) &&
		    v->nlist && is_astring(&v->list[0])) {
			out->oldname = mailbox_name(r, &v->list[0], utf8);
			if (!out->oldname)
				return pn_error_set(err, PN_ENOMEM, "LIST: "
						    "out of memory");
		}
	}
	return 0;
}

/* RFC 3501 7.2.2: mailbox-list = "(" [mbx-list-flags] ")" SP
 * (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP extended-items] */
int imap_list_decode(const struct imap_response *r, bool utf8_accepted,
		     struct imap_list_entry *out, struct pn_error *err)
{
	const struct imap_arg *a = r->args;

	memset(out, 0, sizeof(*out));
	if (need_name(r, "LIST", "LIST", "LSUB", err) < 0)
		return -1;
	if (r->nargs < 3 || r->nargs > 4)
		return pn_error_set(err, PN_EPARSE, "LIST: %zu arguments, "
				    "not 3 or 4", r->nargs);
	if (imap_flags_decode(r, &a[0], &out->attrs, &out->nattrs, err) < 0) {
		pn_error_prefix(err, "LIST attributes");
		return -1;
	}
	if (a[1].type == IMAP_ARG_STRING && a[1].len == 1)
		out->delimiter = a[1].str[0];
	else if (a[1].type != IMAP_ARG_NIL)
		return pn_error_set(err, PN_EPARSE, "LIST: delimiter is not "
				    "one character or NIL");
	if (!is_astring(&a[2]))
		return pn_error_set(err, PN_EPARSE, "LIST: mailbox name is "
				    "%s", type_name(&a[2]));
	out->raw_name = a[2].str;
	out->name = mailbox_name(r, &a[2], utf8_accepted);
	if (!out->name)
		return pn_error_set(err, PN_ENOMEM, "LIST: out of memory");
	if (r->nargs == 4)
		return list_ext(r, &a[3], utf8_accepted, out, err);
	return 0;
}

/* ---- STATUS --------------------------------------------------------- */

struct status_item {
	const char *name;
	unsigned bit;
	size_t off;
	bool wide;
};

#define SI32(n, b, f) { n, b, offsetof(struct imap_status_info, f), false }
#define SI64(n, b, f) { n, b, offsetof(struct imap_status_info, f), true }

static const struct status_item status_items[] = {
	SI32("MESSAGES", IMAP_STATUS_MESSAGES, messages),
	SI32("RECENT", IMAP_STATUS_RECENT, recent),
	SI32("UIDNEXT", IMAP_STATUS_UIDNEXT, uidnext),
	SI32("UIDVALIDITY", IMAP_STATUS_UIDVALIDITY, uidvalidity),
	SI32("UNSEEN", IMAP_STATUS_UNSEEN, unseen),
	SI32("DELETED", IMAP_STATUS_DELETED, deleted),
	SI64("HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ, highestmodseq),
	SI64("SIZE", IMAP_STATUS_SIZE, size),
};

static int status_item(struct imap_status_info *out, const struct imap_arg *k,
		       const struct imap_arg *v, struct pn_error *err)
{
	for (size_t i = 0; i < sizeof(status_items) / sizeof(*status_items);
	     i++) {
		const struct status_item *s = &status_items[i];
		char *f = (char *)out + s->off;
		uint64_t n;

		if (!imap_arg_is_atom(k, s->name))
			continue;
		if (!imap_arg_u64(v, &n) || (!s->wide && n > UINT32_MAX))
			return pn_error_set(err, PN_EPARSE, "STATUS: %s is "
					    "not a number", s->name);
		if (s->wide)
			*(uint64_t *)(void *)f = n;
		else
			*(uint32_t *)(void *)f = (uint32_t)n;
		out->has |= s->bit;
		return 0;
	}
	return 0;	/* an item from a future extension */
}

/* RFC 3501 7.2.4: "STATUS" SP mailbox SP "(" [status-att-list] ")" */
int imap_status_decode(const struct imap_response *r, bool utf8_accepted,
		       struct imap_status_info *out, struct pn_error *err)
{
	const struct imap_arg *l;

	memset(out, 0, sizeof(*out));
	if (need_name(r, "STATUS", "STATUS", NULL, err) < 0)
		return -1;
	if (r->nargs != 2 || !is_astring(&r->args[0]) ||
	    !is_list(&r->args[1]))
		return pn_error_set(err, PN_EPARSE, "STATUS: expected a "
				    "mailbox and a list");
	l = &r->args[1];
	if (l->nlist % 2)
		return pn_error_set(err, PN_EPARSE, "STATUS: %zu items, not "
				    "name/value pairs", l->nlist);
	out->name = mailbox_name(r, &r->args[0], utf8_accepted);
	if (!out->name)
		return pn_error_set(err, PN_ENOMEM, "STATUS: out of memory");
	for (size_t i = 0; i < l->nlist; i += 2)
		if (status_item(out, &l->list[i], &l->list[i + 1], err) < 0)
			return -1;
	return 0;
}

/* ---- SEARCH / SORT / ESEARCH ---------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Numbers are sorted before they join the set: SORT answers arrive in
 * any order and inserting each into the ranges would be quadratic. */
static int add_numbers(struct imap_search_result *out, const uint32_t *v,
		       size_t n, struct pn_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (imap_seqset_add(&out->set, v[i], v[i]) < 0)
			return pn_error_set(err, errno == ENOMEM ? PN_ENOMEM :
					    PN_ELIMIT, "SEARCH: too many "
					    "ranges");
	return 0;
}

/* RFC 7162 3.1.5: a trailing "(MODSEQ n)" */
static int search_modseq(const struct imap_arg *a,
			 struct imap_search_result *out, struct pn_error *err)
{
	if (a->nlist != 2 || !imap_arg_is_atom(&a->list[0], "MODSEQ") ||
	    !imap_arg_u64(&a->list[1], &out->modseq))
		return pn_error_set(err, PN_EPARSE, "SEARCH: list is not "
				    "(MODSEQ n)");
	return 0;
}

/* RFC 5256 4: SORT answers in the requested order; several responses add
 * up, in order. */
static int add_order(struct imap_search_result *out, const uint32_t *v,
		     size_t n, struct pn_error *err)
{
	if (out->norder + n > out->order_cap) {
		size_t cap = out->order_cap ? out->order_cap : 64;
		uint32_t *p;

		while (cap < out->norder + n)
			cap *= 2;
		p = realloc(out->order, cap * sizeof(*p));
		if (!p)
			return pn_error_set(err, PN_ENOMEM, "SORT: out of memory");
		out->order = p;
		out->order_cap = cap;
	}
	memcpy(out->order + out->norder, v, n * sizeof(*v));
	out->norder += n;
	return 0;
}

static int search_plain(const struct imap_response *r,
			struct imap_search_result *out, struct pn_error *err)
{
	uint32_t *v = malloc((r->nargs ? r->nargs : 1) * sizeof(*v));
	size_t n = 0;
	int rc = 0;

	if (!v)
		return pn_error_set(err, PN_ENOMEM, "%s: out of memory",
				    r->name);
	for (size_t i = 0; i < r->nargs && rc == 0; i++) {
		const struct imap_arg *a = &r->args[i];

		if (is_list(a) && i == r->nargs - 1)
			rc = search_modseq(a, out, err);
		else if (!imap_arg_u32(a, &v[n]) || v[n] == 0)
			rc = pn_error_set(err, PN_EPARSE, "%s: item %zu is "
					  "not a number", r->name, i + 1);
		else
			n++;
	}
	if (rc == 0 && strcmp(r->name, "SORT") == 0)
		rc = add_order(out, v, n, err);
	if (rc == 0) {
		qsort(v, n, sizeof(*v), cmp_u32);
		rc = add_numbers(out, v, n, err);
	}
	free(v);
	return rc;
}

void imap_search_result_free(struct imap_search_result *r)
{
	imap_seqset_free(&r->set);
	free(r->order);
	r->order = NULL;
	r->norder = r->order_cap = 0;
}

static int esearch_u32(const struct imap_arg *v, const char *what,
		       uint32_t *out, bool *has, struct pn_error *err)
{
	if (!imap_arg_u32(v, out))
		return pn_error_set(err, PN_EPARSE, "ESEARCH: %s is not a "
				    "number", what);
	*has = true;
	return 0;
}

/* RFC 4731 3: esearch-response = "ESEARCH" [search-correlator]
 * [SP "UID"] *(SP search-return-data) */
static int esearch(const struct imap_response *r,
		   struct imap_search_result *out, struct pn_error *err)
{
	const struct imap_arg *a = r->args;
	size_t i = 0;

	if (i < r->nargs && is_list(&a[i])) {
		if (a[i].nlist != 2 || !imap_arg_is_atom(&a[i].list[0], "TAG") ||
		    !is_astring(&a[i].list[1]))
			return pn_error_set(err, PN_EPARSE, "ESEARCH: "
					    "correlator is not (TAG string)");
		out->tag = a[i++].list[1].str;
	}
	if (i < r->nargs && imap_arg_is_atom(&a[i], "UID")) {
		out->uid = true;
		i++;
	}
	for (; i < r->nargs; i += 2) {
		const struct imap_arg *k = &a[i], *v = &a[i + 1];
		int rc = 0;

		if (i + 1 == r->nargs || k->type != IMAP_ARG_ATOM)
			return pn_error_set(err, PN_EPARSE, "ESEARCH: return "
					    "data %zu is not a name and a "
					    "value", i + 1);
		if (imap_arg_is_atom(k, "MIN"))
			rc = esearch_u32(v, "MIN", &out->min, &out->has_min,
					 err);
		else if (imap_arg_is_atom(k, "MAX"))
			rc = esearch_u32(v, "MAX", &out->max, &out->has_max,
					 err);
		else if (imap_arg_is_atom(k, "COUNT"))
			rc = esearch_u32(v, "COUNT", &out->count,
					 &out->has_count, err);
		else if (imap_arg_is_atom(k, "ALL"))
			rc = add_seqset(&out->set, v, "ESEARCH ALL", err);
		else if (imap_arg_is_atom(k, "MODSEQ") &&
			 !imap_arg_u64(v, &out->modseq))
			rc = pn_error_set(err, PN_EPARSE, "ESEARCH: MODSEQ is "
					  "not a number");
		if (rc < 0)
			return -1;
	}
	return 0;
}

int imap_search_decode(const struct imap_response *r,
		       struct imap_search_result *out, struct pn_error *err)
{
	if (r->kind == IMAP_RESP_UNTAGGED && r->name &&
	    strcmp(r->name, "ESEARCH") == 0)
		return esearch(r, out, err);
	if (need_name(r, "SEARCH", "SEARCH", "SORT", err) < 0)
		return -1;
	return search_plain(r, out, err);
}

/* ---- response codes ------------------------------------------------- */

/* Codes whose one argument is a number (RFC 3501 7.1, RFC 4315, RFC
 * 7162 3.1.2, RFC 7889). */
static const char *const number_codes[] = {
	"UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "APPENDLIMIT",
};

static int code_number(const struct imap_response *r,
		       struct imap_code_info *out, struct pn_error *err)
{
	if (r->ncode_args < 1 || !imap_arg_u64(&r->code_args[0], &out->number))
		return pn_error_set(err, PN_EPARSE, "response code %s: "
				    "argument is not a number", r->code);
	out->has_number = true;
	return 0;
}

static int code_list(const struct imap_response *r,
		     struct imap_code_info *out, const struct imap_arg *a,
		     size_t n, struct pn_error *err)
{
	const char **v = imap_response_alloc(r, (n + 1) * sizeof(*v));

	if (!v)
		return pn_error_set(err, PN_ENOMEM, "response code %s: out of "
				    "memory", r->code);
	for (size_t i = 0; i < n; i++) {
		if (!is_astring(&a[i]))
			return pn_error_set(err, PN_EPARSE, "response code "
					    "%s: item %zu is %s", r->code,
					    i + 1, type_name(&a[i]));
		v[i] = a[i].str;
	}
	v[n] = NULL;
	out->list = v;
	out->nlist = n;
	return 0;
}

/* RFC 4315 3: "APPENDUID" SP nz-number SP append-uid,
 * "COPYUID" SP nz-number SP uid-set SP uid-set */
static int code_uidplus(const struct imap_response *r,
			struct imap_code_info *out, bool copy,
			struct pn_error *err)
{
	const struct imap_arg *a = r->code_args;
	char what[32];

	if (r->ncode_args != (copy ? 3u : 2u))
		return pn_error_set(err, PN_EPARSE, "response code %s: %zu "
				    "arguments, not %d", r->code,
				    r->ncode_args, copy ? 3 : 2);
	if (!imap_arg_u32(&a[0], &out->uidvalidity) || !out->uidvalidity)
		return pn_error_set(err, PN_EPARSE, "response code %s: bad "
				    "UIDVALIDITY", r->code);
	snprintf(what, sizeof(what), "response code %s", r->code);
	if (copy && add_seqset(&out->src_uids, &a[1], what, err) < 0)
		return -1;
	return add_seqset(&out->dst_uids, &a[copy ? 2 : 1], what, err);
}

int imap_code_decode(const struct imap_response *r, struct imap_code_info *out,
		     struct pn_error *err)
{
	const char *c = r->code;

	memset(out, 0, sizeof(*out));
	out->code = c;
	if (!c)
		return 0;
	for (size_t i = 0; i < sizeof(number_codes) / sizeof(*number_codes);
	     i++)
		if (strcmp(c, number_codes[i]) == 0)
			return code_number(r, out, err);
	if (strcmp(c, "APPENDUID") == 0 || strcmp(c, "COPYUID") == 0)
		return code_uidplus(r, out, c[0] == 'C', err);
	/* RFC 7162 3.1.3: [MODIFIED set] goes to src_uids */
	if (strcmp(c, "MODIFIED") == 0)
		return r->ncode_args == 1 ?
		       add_seqset(&out->src_uids, &r->code_args[0],
				  "response code MODIFIED", err) :
		       pn_error_set(err, PN_EPARSE, "response code MODIFIED: "
				    "expected one sequence set");
	if (strcmp(c, "PERMANENTFLAGS") == 0 || strcmp(c, "BADCHARSET") == 0) {
		/* BADCHARSET's list is optional (RFC 3501 7.1) */
		if (r->ncode_args == 0 && c[0] == 'B')
			return 0;
		if (r->ncode_args != 1 || !is_list(&r->code_args[0]))
			return pn_error_set(err, PN_EPARSE, "response code "
					    "%s: expected one list", c);
		return code_list(r, out, r->code_args[0].list,
				 r->code_args[0].nlist, err);
	}
	if (strcmp(c, "CAPABILITY") == 0)
		return code_list(r, out, r->code_args, r->ncode_args, err);
	/* Everything else (ALERT, PARSE, READ-ONLY, TRYCREATE, the RFC
	 * 5530 codes ...) is the code alone. */
	return 0;
}

void imap_code_info_free(struct imap_code_info *c)
{
	if (!c)
		return;
	imap_seqset_free(&c->src_uids);
	imap_seqset_free(&c->dst_uids);
}

/* ---- NAMESPACE ------------------------------------------------------ */

/* RFC 2342 5: Namespace = nil / "(" 1*( "(" string SP (DQUOTE
 * QUOTED-CHAR DQUOTE / nil) *(Namespace_Response_Extension) ")" ) ")" */
static int ns_group(const struct imap_response *r, const struct imap_arg *a,
		    const struct imap_namespace_entry **out, size_t *n_out,
		    const char *which, struct pn_error *err)
{
	struct imap_namespace_entry *v;

	*out = NULL;
	*n_out = 0;
	if (a->type == IMAP_ARG_NIL)
		return 0;
	if (!is_list(a))
		return pn_error_set(err, PN_EPARSE, "NAMESPACE: %s namespaces "
				    "are %s", which, type_name(a));
	v = imap_response_alloc(r, a->nlist * sizeof(*v));
	if (!v)
		return pn_error_set(err, PN_ENOMEM, "NAMESPACE: out of memory");
	for (size_t i = 0; i < a->nlist; i++) {
		const struct imap_arg *e = &a->list[i];

		if (!is_list(e) || e->nlist < 2 || !is_astring(&e->list[0]) ||
		    (e->list[1].type != IMAP_ARG_NIL &&
		     (e->list[1].type != IMAP_ARG_STRING ||
		      e->list[1].len != 1)))
			return pn_error_set(err, PN_EPARSE, "NAMESPACE: %s "
					    "entry %zu is not (prefix "
					    "delimiter)", which, i + 1);
		v[i].prefix = e->list[0].str;
		v[i].delimiter = e->list[1].type == IMAP_ARG_NIL ? 0 :
				 e->list[1].str[0];
	}
	*out = v;
	*n_out = a->nlist;
	return 0;
}

int imap_namespace_decode(const struct imap_response *r,
			  struct imap_namespaces *out, struct pn_error *err)
{
	memset(out, 0, sizeof(*out));
	if (need_name(r, "NAMESPACE", "NAMESPACE", NULL, err) < 0)
		return -1;
	if (r->nargs != 3)
		return pn_error_set(err, PN_EPARSE, "NAMESPACE: %zu "
				    "arguments, not 3", r->nargs);
	if (ns_group(r, &r->args[0], &out->personal, &out->npersonal,
		     "personal", err) < 0 ||
	    ns_group(r, &r->args[1], &out->other, &out->nother, "other users'",
		     err) < 0 ||
	    ns_group(r, &r->args[2], &out->shared, &out->nshared, "shared",
		     err) < 0)
		return -1;
	return 0;
}

/* ---- QUOTA ---------------------------------------------------------- */

/* RFC 9208 5.1: "QUOTA" SP quota-root-name SP "(" quota-resource
 * *(SP quota-resource) ")", quota-resource = name SP usage SP limit */
int imap_quota_decode(const struct imap_response *r, struct imap_quota *out,
		      struct pn_error *err)
{
	const struct imap_arg *l;
	struct imap_quota_resource *v;

	memset(out, 0, sizeof(*out));
	if (need_name(r, "QUOTA", "QUOTA", NULL, err) < 0)
		return -1;
	if (r->nargs != 2 || !is_astring(&r->args[0]) || !is_list(&r->args[1]))
		return pn_error_set(err, PN_EPARSE, "QUOTA: expected a root "
				    "and a list");
	l = &r->args[1];
	if (l->nlist % 3)
		return pn_error_set(err, PN_EPARSE, "QUOTA: %zu items, not "
				    "name/usage/limit triples", l->nlist);
	v = imap_response_alloc(r, (l->nlist / 3 + 1) * sizeof(*v));
	if (!v)
		return pn_error_set(err, PN_ENOMEM, "QUOTA: out of memory");
	for (size_t i = 0; i < l->nlist; i += 3) {
		struct imap_quota_resource *q = &v[i / 3];

		if (l->list[i].type != IMAP_ARG_ATOM ||
		    !imap_arg_u64(&l->list[i + 1], &q->usage) ||
		    !imap_arg_u64(&l->list[i + 2], &q->limit))
			return pn_error_set(err, PN_EPARSE, "QUOTA: resource "
					    "%zu is not name usage limit",
					    i / 3 + 1);
		q->name = l->list[i].str;
	}
	out->root = r->args[0].str;
	out->res = v;
	out->nres = l->nlist / 3;
	return 0;
}

/* ---- VANISHED ------------------------------------------------------- */

/* RFC 7162 3.2.10: "VANISHED" [SP "(EARLIER)"] SP known-uids */
int imap_vanished_decode(const struct imap_response *r, bool *earlier_out,
			 struct imap_seqset *uids, struct pn_error *err)
{
	const struct imap_arg *a = r->args;

	*earlier_out = false;
	if (need_name(r, "VANISHED", "VANISHED", NULL, err) < 0)
		return -1;
	if (r->nargs == 2 && is_list(&a[0]) && a[0].nlist == 1 &&
	    imap_arg_is_atom(&a[0].list[0], "EARLIER")) {
		*earlier_out = true;
		a++;
	} else if (r->nargs != 1) {
		return pn_error_set(err, PN_EPARSE, "VANISHED: expected "
				    "[(EARLIER)] and a UID set");
	}
	return add_seqset(uids, a, "VANISHED", err);
}
