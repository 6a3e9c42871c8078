/* address.c - RFC 5322 section 3.4 address lists.
 *
 * A hand-written scanner rather than a strict grammar: real headers have
 * unquoted specials in display names, missing brackets, "addr (Name)"
 * comments and junk after the address.  Words are maximal runs of atoms
 * and quoted strings with no blank between them ("a"@b is one word).  An
 * entry is either "phrase <addr>" or words of which the first holding '@'
 * is the address.  Obsolete routes (RFC 5322 4.4, "<@a,@b:x@y>") are
 * dropped.
 */
#include "mime_p.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct pn_buf name;	/* display-name words, blank separated */
	struct pn_buf addr;	/* the address word or the <...> contents */
	struct pn_buf single;	/* raw form of the only word so far */
	struct pn_buf comment;	/* first comment: "x@y (Name)" */
	struct pn_buf word_raw, word_txt;	/* the word being read */
	unsigned nwords;
	bool have_addr, in_angle, angle_done, word_at;
};

struct ap {
	const char *p;
	struct entry e;
	struct mime_address *list;
	size_t n, cap;
	char *group;		/* the open group's name, or NULL */
};

static void entry_reset(struct entry *e)
{
	pn_buf_reset(&e->name);
	pn_buf_reset(&e->addr);
	pn_buf_reset(&e->single);
	pn_buf_reset(&e->comment);
	pn_buf_reset(&e->word_raw);
	pn_buf_reset(&e->word_txt);
	e->nwords = 0;
	e->have_addr = e->in_angle = e->angle_done = e->word_at = false;
}

static void entry_free(struct entry *e)
{
	pn_buf_free(&e->name);
	pn_buf_free(&e->addr);
	pn_buf_free(&e->single);
	pn_buf_free(&e->comment);
	pn_buf_free(&e->word_raw);
	pn_buf_free(&e->word_txt);
}

/* A finished word goes to the address (the first with '@'), else to the
 * display name; words after the address are junk and dropped. */
static int word_end(struct entry *e)
{
	int r = 0;

	if (e->word_raw.len == 0)
		return 0;
	if (e->angle_done || e->have_addr) {
		/* junk after the address */
	} else if (e->word_at) {
		e->have_addr = true;
		r = pn_buf_add(&e->addr, e->word_raw.data, e->word_raw.len);
	} else {
		if (e->nwords++ == 0)
			r = pn_buf_add(&e->single, e->word_raw.data,
				       e->word_raw.len);
		if (r == 0 && e->name.len > 0)
			r = pn_buf_addc(&e->name, ' ');
		if (r == 0)
			r = pn_buf_add(&e->name, e->word_txt.data,
				       e->word_txt.len);
	}
	pn_buf_reset(&e->word_raw);
	pn_buf_reset(&e->word_txt);
	e->word_at = false;
	return r;
}

/* Quoted string at s->p: raw form kept for addresses, unescaped text for
 * names (RFC 5322 3.2.4). */
static int read_quoted(struct ap *s, struct pn_buf *raw, struct pn_buf *txt)
{
	const char *start = s->p;

	for (s->p++; *s->p && *s->p != '"'; s->p++) {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		if (txt && pn_buf_addc(txt, *s->p) < 0)
			return -1;
	}
	if (*s->p == '"')
		s->p++;
	return pn_buf_add(raw, start, (size_t)(s->p - start));
}

/* Comment at s->p; the first one of an entry is kept as a name of last
 * resort. */
static int read_comment(struct ap *s)
{
	struct entry *e = &s->e;
	bool keep = e->comment.len == 0 && !e->in_angle;
	int depth = 0;

	do {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		else if (*s->p == '(')
			depth++;
		else if (*s->p == ')')
			depth--;
		if (keep && (depth > 1 || (depth == 1 && *s->p != '(')) &&
		    pn_buf_addc(&e->comment, *s->p) < 0)
			return -1;
		s->p++;
	} while (depth > 0 && *s->p);
	return 0;
}

static int push(struct ap *s, char *name, char *addr)
{
	struct mime_address *a;
	char *group = NULL;

	if (s->group && !(group = strdup(s->group)))
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct mime_address *l = realloc(s->list, cap * sizeof(*l));

		if (!l) {
			free(group);
			return -1;
		}
		s->list = l;
		s->cap = cap;
	}
	a = &s->list[s->n++];
	a->name = name;
	a->addr = addr;
	a->group = group;
	return 0;
}

/* Display names may hold RFC 2047 words (section 5(3)) and raw 8-bit. */
static char *decode_name(const struct pn_buf *b)
{
	struct pn_buf out = { 0 };

	if (b->len == 0)
		return NULL;
	if (mime_decode_header(b->data, b->len, &out, NULL) < 0) {
		pn_buf_free(&out);
		return NULL;
	}
	return pn_buf_take(&out, NULL);
}

static int entry_end(struct ap *s)
{
	struct entry *e = &s->e;
	const struct pn_buf *nb = &e->name, *ab = &e->addr;
	char *name = NULL, *addr = NULL;
	bool has_addr;

	if (word_end(e) < 0)
		return -1;
	has_addr = e->have_addr || e->in_angle || e->angle_done;
	if (!has_addr && e->nwords == 1) {
		/* one word without '@': a local address, as Python has it */
		ab = &e->single;
		nb = &e->comment;
		has_addr = true;
	} else if (has_addr && nb->len == 0) {
		nb = &e->comment;
	}
	if (!has_addr && nb->len == 0)
		return 0;	/* empty entry: ",," */
	name = decode_name(nb);
	if (has_addr)
		addr = strndup(ab->data ? ab->data : "", ab->len);
	if ((nb->len && !name) || (has_addr && !addr) ||
	    push(s, name, addr) < 0) {
		free(name);
		free(addr);
		return -1;
	}
	entry_reset(e);
	return 0;
}

/* "name:" opens a group (RFC 5322 3.4); its marker entry has neither
 * name nor address. */
static int group_open(struct ap *s)
{
	struct entry *e = &s->e;

	if (word_end(e) < 0)
		return -1;
	free(s->group);
	s->group = decode_name(&e->name);
	if (!s->group && !(s->group = strdup("")))
		return -1;
	entry_reset(e);
	return push(s, NULL, NULL);
}

static bool route_started(const struct entry *e)
{
	return e->addr.len > 0 && e->addr.data[0] == '@';
}

/* One step inside "<...>".  Returns 1 when an unclosed bracket ends at
 * a ',' that is not part of a route. */
static int angle_step(struct ap *s)
{
	struct entry *e = &s->e;
	char c = *s->p;

	switch (c) {
	case '>':
		e->in_angle = false;
		e->angle_done = true;
		break;
	case '"':
		return read_quoted(s, &e->addr, NULL);
	case '(':
		return read_comment(s);
	case ':':
		if (route_started(e))
			pn_buf_reset(&e->addr);	/* obs-route */
		else if (pn_buf_addc(&e->addr, c) < 0)
			return -1;
		break;
	case ',':
		if (!route_started(e))
			return 1;
		break;
	case ' ': case '\t': case '\r': case '\n':
		break;
	default:
		if (pn_buf_addc(&e->addr, c) < 0)
			return -1;
	}
	s->p++;
	return 0;
}

static int outside_step(struct ap *s)
{
	struct entry *e = &s->e;
	char c = *s->p;

	switch (c) {
	case '"':
		return read_quoted(s, &e->word_raw, &e->word_txt);
	case '(':
		return word_end(e) < 0 ? -1 : read_comment(s);
	case '<':
		if (word_end(e) < 0)
			return -1;
		pn_buf_reset(&e->addr);
		e->have_addr = false;
		e->in_angle = true;
		break;
	case ',':
		if (entry_end(s) < 0)
			return -1;
		break;
	case ';':
		if (entry_end(s) < 0)
			return -1;
		free(s->group);
		s->group = NULL;
		break;
	case ':':
		if (s->group || e->have_addr || e->angle_done)
			goto word;
		if (group_open(s) < 0)
			return -1;
		break;
	case ' ': case '\t': case '\r': case '\n': case '>':
		if (word_end(e) < 0)
			return -1;
		break;
	default:
word:
		e->word_at |= c == '@';
		if (pn_buf_addc(&e->word_raw, c) < 0 ||
		    pn_buf_addc(&e->word_txt, c) < 0)
			return -1;
	}
	s->p++;
	return 0;
}

int mime_parse_addresses(const char *raw, struct mime_address **list_out,
			 size_t *n_out, struct pn_error *err)
{
	struct ap s = { .p = raw ? raw : "" };
	int r = 0;

	while (r >= 0 && *s.p) {
		r = s.e.in_angle ? angle_step(&s) : outside_step(&s);
		if (r > 0) {
			/* "<a@b, c@d": the bracket was never closed */
			s.e.in_angle = false;
			s.e.angle_done = true;
			r = 0;
		}
	}
	if (r >= 0)
		r = entry_end(&s);
	entry_free(&s.e);
	free(s.group);
	if (r < 0) {
		mime_addresses_free(&s.list, s.n);
		*list_out = NULL;
		*n_out = 0;
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	*list_out = s.list;
	*n_out = s.n;
	return 0;
}

void mime_addresses_free(struct mime_address **list, size_t n)
{
	if (!list || !*list)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*list)[i].name);
		free((*list)[i].addr);
		free((*list)[i].group);
	}
	free(*list);
	*list = NULL;
}
