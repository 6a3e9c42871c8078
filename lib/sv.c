#include "sv.h"

#include <stdlib.h>
#include <string.h>

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct pn_sv pn_sv_from(const char *s)
{
	return pn_sv_make(s ? s : "", s ? strlen(s) : 0);
}

struct pn_sv pn_sv_make(const char *p, size_t len)
{
	struct pn_sv sv = { p, len };
	return sv;
}

bool pn_sv_eq(struct pn_sv a, struct pn_sv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool pn_sv_eq_ci(struct pn_sv a, struct pn_sv b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool pn_sv_eq_cstr_ci(struct pn_sv a, const char *s)
{
	return pn_sv_eq_ci(a, pn_sv_from(s));
}

bool pn_sv_starts_with_ci(struct pn_sv s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && pn_sv_eq_ci(pn_sv_make(s.p, n), pn_sv_from(prefix));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct pn_sv pn_sv_trim(struct pn_sv s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

long pn_sv_find(struct pn_sv s, char c)
{
	const char *hit = s.len ? memchr(s.p, c, s.len) : NULL;

	return hit ? (long)(hit - s.p) : -1;
}

struct pn_sv pn_sv_chop(struct pn_sv *s, char c)
{
	long i = pn_sv_find(*s, c);
	struct pn_sv head;

	if (i < 0) {
		head = *s;
		s->p += s->len;
		s->len = 0;
		return head;
	}
	head = pn_sv_make(s->p, (size_t)i);
	s->p += i + 1;
	s->len -= (size_t)i + 1;
	return head;
}

char *pn_sv_dup(struct pn_sv s)
{
	char *p = malloc(s.len + 1);

	if (!p)
		return NULL;
	if (s.len)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

char *pn_sv_dup_lower(struct pn_sv s)
{
	char *p = pn_sv_dup(s);

	for (size_t i = 0; p && i < s.len; i++)
		p[i] = (char)lower((unsigned char)p[i]);
	return p;
}
