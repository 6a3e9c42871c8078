/* args.c - small helpers over parsed arguments. */
#include "imap_p.h"

#include <string.h>
#include <strings.h>

static int ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* Called for every FETCH item name against a list of candidates, and
 * nearly all of them differ in the first byte: look at that first. */
bool imap_arg_is_atom(const struct imap_arg *a, const char *atom)
{
	return a && atom && a->type == IMAP_ARG_ATOM && a->len &&
	       ascii_upper((unsigned char)a->str[0]) ==
		       ascii_upper((unsigned char)atom[0]) &&
	       a->len == strlen(atom) && strncasecmp(a->str, atom, a->len) == 0;
}

/* RFC 3501 number / RFC 9051 number64: digits only, no sign, no space. */
bool imap_arg_u64(const struct imap_arg *a, uint64_t *out)
{
	uint64_t v = 0;

	if (!a || a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		unsigned d = (unsigned char)a->str[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool imap_arg_u32(const struct imap_arg *a, uint32_t *out)
{
	uint64_t v;

	if (!imap_arg_u64(a, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

const char *imap_arg_nstring(const struct imap_arg *a)
{
	if (!a || (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_STRING))
		return NULL;
	return a->str;
}
