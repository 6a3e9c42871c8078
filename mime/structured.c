/* structured.c - Content-Type and Content-Disposition values.
 *
 *   value = token ["/" token] *(";" attribute "=" (token / quoted-string))
 *
 * (RFC 2045 section 5.1, RFC 2183 section 2) with RFC 822 comments
 * anywhere between the pieces, RFC 2231 parameter continuations and
 * charsets, and the liberties real mail takes: RFC 2047 words inside
 * values, unquoted values with spaces, missing or duplicated sections.
 * Where Python's email package (policy.default) differs, see the tests.
 */
#include "mime_p.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/sv.h"

/* More parameters than any real header has; stops quadratic work. */
#define MAX_SECTIONS 1000
#define MAX_SECTION_NUM 9999

/* One "name*N*=value" as written; assembled into mime_params later. */
struct section {
	char *base;		/* lower-case name without RFC 2231 suffix */
	int num;		/* continuation number, -1 when none */
	bool ext;		/* '*' at the end: charset'lang'%XX form */
	char *value;		/* unescaped bytes, percent-encoding intact */
	bool used;
};

struct sp {
	const char *p;
	unsigned defects;
	struct section *sec;
	size_t nsec;
};

/* RFC 2045 5.1 tspecials, plus controls and space. */
static bool is_tchar(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* RFC 822 comments nest and may hold quoted-pairs (RFC 5322 3.2.2). */
static void skip_comment(struct sp *s)
{
	int depth = 0;

	do {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		else if (*s->p == '(')
			depth++;
		else if (*s->p == ')')
			depth--;
		s->p++;
	} while (depth > 0 && *s->p);
	if (depth > 0)
		s->defects++;
}

static void skip_cfws(struct sp *s)
{
	while (*s->p) {
		if (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' ||
		    *s->p == '\n')
			s->p++;
		else if (*s->p == '(')
			skip_comment(s);
		else
			break;
	}
}

static struct pn_sv read_token(struct sp *s)
{
	const char *start = s->p;

	while (is_tchar((unsigned char)*s->p))
		s->p++;
	return pn_sv_make(start, (size_t)(s->p - start));
}

/* Skip what is left of a malformed piece, up to the next ';' outside a
 * quoted string. */
static void skip_junk(struct sp *s)
{
	bool q = false;

	s->defects++;
	for (; *s->p && (q || *s->p != ';'); s->p++) {
		if (q && *s->p == '\\' && s->p[1])
			s->p++;
		else if (*s->p == '"')
			q = !q;
	}
}

/* "type/subtype" or a lone token; CFWS is allowed around the '/' (RFC 822
 * lexical tokens).  NULL in *out when invalid. */
static int parse_head(struct sp *s, char **out)
{
	struct pn_sv a, b = { 0 };
	struct pn_buf t = { 0 };
	bool slash = false;

	*out = NULL;
	skip_cfws(s);
	a = read_token(s);
	skip_cfws(s);
	if (*s->p == '/') {
		slash = true;
		s->p++;
		skip_cfws(s);
		b = read_token(s);
		skip_cfws(s);
	}
	if (*s->p && *s->p != ';')
		skip_junk(s);
	if (a.len == 0 || (slash && b.len == 0)) {
		s->defects++;
		return 0;
	}
	if (pn_buf_add(&t, a.p, a.len) < 0 ||
	    (slash && (pn_buf_addc(&t, '/') < 0 ||
		       pn_buf_add(&t, b.p, b.len) < 0))) {
		pn_buf_free(&t);
		return -1;
	}
	for (size_t i = 0; i < t.len; i++)
		if (t.data[i] >= 'A' && t.data[i] <= 'Z')
			t.data[i] += 32;
	*out = pn_buf_take(&t, NULL);
	return *out ? 0 : -1;
}

/* RFC 2045 quoted-string: backslash quotes the next byte.  An unclosed
 * quote runs to the end of the value. */
static int read_quoted(struct sp *s, struct pn_buf *v)
{
	for (s->p++; *s->p && *s->p != '"'; s->p++) {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		if (pn_buf_addc(v, *s->p) < 0)
			return -1;
	}
	if (*s->p == '"')
		s->p++;
	else
		s->defects++;
	return 0;
}

/* A token, or (as Outlook and others write them) everything up to the
 * next ';' when the value has spaces or specials: "name=foo bar.pdf". */
static int read_bare(struct sp *s, struct pn_buf *v)
{
	const char *start = s->p, *end;

	while (*s->p && *s->p != ';' && *s->p != ' ' && *s->p != '\t' &&
	       *s->p != '(' && *s->p != '"')
		s->p++;
	end = s->p;
	skip_cfws(s);
	if (*s->p && *s->p != ';') {
		s->defects++;
		while (*s->p && *s->p != ';')
			s->p++;
		end = s->p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	return pn_buf_add(v, start, (size_t)(end - start));
}

static bool all_digits(struct pn_sv v)
{
	if (v.len == 0 || v.len > 4)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
	return true;
}

/* Split "name*N*" (RFC 2231 sections 3 and 4) into sec.  A name with a
 * '*' that is not in that form is kept whole. */
static int split_name(struct pn_sv name, struct section *sec)
{
	long star = pn_sv_find(name, '*');

	sec->num = -1;
	sec->ext = false;
	if (star > 0) {
		struct pn_sv rest = pn_sv_make(name.p + star + 1,
					       name.len - (size_t)star - 1);
		bool ext = rest.len == 0 || rest.p[rest.len - 1] == '*';

		if (rest.len > 0 && rest.p[rest.len - 1] == '*')
			rest.len--;
		if (rest.len == 0 || all_digits(rest)) {
			sec->ext = ext;
			sec->num = rest.len ? atoi(rest.p) : -1;
			name.len = (size_t)star;
		}
	}
	sec->base = pn_sv_dup_lower(name);
	return sec->base ? 0 : -1;
}

/* One "; name=value"; s->p is just past the ';'. */
static int parse_param(struct sp *s)
{
	struct pn_buf v = { 0 };
	struct section *sec;
	struct pn_sv name;

	skip_cfws(s);
	if (*s->p == ';' || !*s->p)
		return 0;	/* empty parameter: ";;" or a trailing ';' */
	name = read_token(s);
	skip_cfws(s);
	if (name.len == 0 || *s->p != '=') {
		skip_junk(s);
		return 0;
	}
	s->p++;
	skip_cfws(s);
	if ((*s->p == '"' ? read_quoted(s, &v) : read_bare(s, &v)) < 0)
		goto nomem;
	skip_cfws(s);
	if (*s->p && *s->p != ';')
		skip_junk(s);
	if (s->nsec >= MAX_SECTIONS) {
		s->defects++;
		pn_buf_free(&v);
		return 0;
	}
	sec = &s->sec[s->nsec];
	memset(sec, 0, sizeof(*sec));
	sec->value = pn_buf_take(&v, NULL);
	if (!sec->value || split_name(name, sec) < 0) {
		free(sec->value);
		goto nomem;
	}
	s->nsec++;
	return 0;
nomem:
	pn_buf_free(&v);
	return -1;
}

/* RFC 2231 section 4: "%XX" is a byte; a stray '%' is kept. */
static int percent_decode(const char *v, struct pn_buf *out,
			  unsigned *defects)
{
	static const char hex[] = "0123456789abcdef";
	const char *h, *l;

	for (; *v; v++) {
		if (*v == '%' && v[1] && v[2] &&
		    (h = strchr(hex, v[1] | 0x20)) && (l = strchr(hex, v[2] | 0x20))) {
			if (pn_buf_addc(out, (char)((h - hex) * 16 + (l - hex))) < 0)
				return -1;
			v += 2;
			continue;
		}
		if (*v == '%')
			(*defects)++;
		if (pn_buf_addc(out, *v) < 0)
			return -1;
	}
	return 0;
}

/* Section 0 (or the only section) of an extended value starts with
 * charset'language'; copy the charset out and return the rest. */
static const char *strip_charset(const char *v, char *cs, size_t cssz)
{
	const char *q1 = strchr(v, '\''), *q2;
	size_t n;

	cs[0] = '\0';
	if (!q1 || !(q2 = strchr(q1 + 1, '\'')))
		return v;
	n = (size_t)(q1 - v);
	if (n >= cssz)
		n = 0;
	memcpy(cs, v, n);
	cs[n] = '\0';
	return q2 + 1;
}

/* Bytes of a value to UTF-8: extended values through their RFC 2231
 * charset, plain ones through RFC 2047 (words inside quoted filenames). */
static int finish_value(struct sp *s, const struct pn_buf *bytes, bool ext,
			const char *cs, struct pn_buf *out)
{
	const char *b = bytes->data ? bytes->data : "";
	unsigned n = 0;
	bool bad = false;

	if (ext) {
		if (mime_charset_to_utf8(cs[0] ? cs : NULL, b, bytes->len, out,
					 &bad) < 0)
			return -1;
		s->defects += bad;
		return 0;
	}
	if (mime_decode_header(b, bytes->len, out, &n) < 0)
		return -1;
	s->defects += n;
	return 0;
}

static int add_section(struct sp *s, const struct section *sec, bool first,
		       char *cs, size_t cssz, struct pn_buf *bytes)
{
	const char *v = sec->value;

	if (!sec->ext)
		return pn_buf_adds(bytes, v);
	if (first)
		v = strip_charset(v, cs, cssz);
	return percent_decode(v, bytes, &s->defects);
}

/* The sections of one continued parameter in order of number, first
 * occurrence winning (RFC 2231 section 3: order in the header does not
 * matter).  Gaps are tolerated and counted. */
static int collect_sections(struct sp *s, const char *base, size_t *idx,
			    size_t *n_out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nsec; i++) {
		struct section *sec = &s->sec[i];
		size_t j;

		if (sec->used || strcmp(sec->base, base) != 0)
			continue;
		sec->used = true;
		if (sec->num < 0) {
			s->defects++;	/* "name=" mixed with "name*0=" */
			continue;
		}
		for (j = n; j > 0 && s->sec[idx[j - 1]].num > sec->num; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
		n++;
	}
	*n_out = n;
	return 0;
}

static int join_sections(struct sp *s, const char *base, struct pn_buf *out)
{
	size_t *idx = malloc(s->nsec * sizeof(*idx)), n;
	struct pn_buf bytes = { 0 };
	char cs[64] = "";
	bool any_ext = false;
	int prev = -1, r = 0;

	if (!idx)
		return -1;
	collect_sections(s, base, idx, &n);
	for (size_t k = 0; k < n && r == 0; k++) {
		const struct section *sec = &s->sec[idx[k]];

		if (sec->num == prev) {
			s->defects++;	/* duplicate section: first wins */
			continue;
		}
		if (sec->num != prev + 1)
			s->defects++;
		prev = sec->num;
		any_ext |= sec->ext;
		r = add_section(s, sec, sec->num == 0, cs, sizeof(cs), &bytes);
	}
	if (r == 0)
		r = finish_value(s, &bytes, any_ext, cs, out);
	pn_buf_free(&bytes);
	free(idx);
	return r;
}

/* The value of the parameter whose first section is sec; later sections
 * with the same name are duplicates (Python's email keeps the first). */
static int param_value(struct sp *s, struct section *sec, struct pn_buf *out)
{
	struct pn_buf bytes = { 0 };
	char cs[64] = "";
	int r;

	if (sec->num >= 0)
		return join_sections(s, sec->base, out);
	sec->used = true;
	for (size_t i = 0; i < s->nsec; i++) {
		if (!s->sec[i].used && strcmp(s->sec[i].base, sec->base) == 0) {
			s->sec[i].used = true;
			s->defects++;
		}
	}
	r = add_section(s, sec, true, cs, sizeof(cs), &bytes);
	if (r == 0)
		r = finish_value(s, &bytes, sec->ext, cs, out);
	pn_buf_free(&bytes);
	return r;
}

static int build_params(struct sp *s, struct mime_param **list)
{
	struct mime_param **tail = list;
	struct pn_buf v = { 0 };

	for (size_t i = 0; i < s->nsec; i++) {
		struct mime_param *mp;

		if (s->sec[i].used)
			continue;
		mp = calloc(1, sizeof(*mp));
		if (!mp)
			return -1;
		*tail = mp;
		tail = &mp->next;
		mp->name = strdup(s->sec[i].base);
		if (!mp->name || param_value(s, &s->sec[i], &v) < 0)
			goto nomem;
		mp->value = pn_buf_take(&v, NULL);
		if (!mp->value)
			goto nomem;
	}
	return 0;
nomem:
	pn_buf_free(&v);
	return -1;
}

static size_t count_semicolons(const char *v)
{
	size_t n = 0;

	for (; *v; v++)
		n += *v == ';';
	return n;
}

int mime_parse_structured(const char *value, char **token_out,
			  struct mime_param **params_out,
			  unsigned *defects_out)
{
	struct sp s = { .p = value ? value : "" };
	size_t cap = count_semicolons(s.p);
	int r;

	*token_out = NULL;
	*params_out = NULL;
	if (cap > MAX_SECTIONS)
		cap = MAX_SECTIONS;
	s.sec = calloc(cap + 1, sizeof(*s.sec));
	r = s.sec ? parse_head(&s, token_out) : -1;
	while (r == 0 && *s.p == ';') {
		s.p++;
		r = parse_param(&s);
	}
	if (r == 0)
		r = build_params(&s, params_out);
	for (size_t i = 0; i < s.nsec; i++) {
		free(s.sec[i].base);
		free(s.sec[i].value);
	}
	free(s.sec);
	if (r < 0) {
		free(*token_out);
		*token_out = NULL;
		mime_params_free(params_out);
	}
	if (defects_out)
		*defects_out = s.defects;
	return r;
}

const char *mime_param_get(const struct mime_param *list, const char *name)
{
	for (; list; list = list->next)
		if (strcasecmp(list->name, name) == 0)
			return list->value;
	return NULL;
}

void mime_params_free(struct mime_param **list)
{
	struct mime_param *p, *next;

	if (!list)
		return;
	for (p = *list; p; p = next) {
		next = p->next;
		free(p->name);
		free(p->value);
		free(p);
	}
	*list = NULL;
}
