/* name.c - Maildir file names: "<base>[,S=<size>][,W=<vsize>]:2,<flags>".
 *
 * The info separator is ':' (Dovecot on Linux); '!' is read leniently
 * because some programs use it where ':' is not allowed.  Dovecot writes
 * the standard flags in ASCII order and then its keyword letters a-z.
 */
#include "maildir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir_p.h"

static const struct {
	char c;
	unsigned flag;
} flag_letters[] = {
	{ 'D', MD_FLAG_DRAFT },  { 'F', MD_FLAG_FLAGGED },
	{ 'P', MD_FLAG_PASSED }, { 'R', MD_FLAG_REPLIED },
	{ 'S', MD_FLAG_SEEN },   { 'T', MD_FLAG_TRASHED },
};

#define NFLAGS (sizeof(flag_letters) / sizeof(flag_letters[0]))

static unsigned flag_of(char c)
{
	for (size_t i = 0; i < NFLAGS; i++)
		if (flag_letters[i].c == c)
			return flag_letters[i].flag;
	return 0;
}

size_t md_name_keylen(const char *filename)
{
	size_t n = strcspn(filename, ":");

	/* '!' only when there is no ':' and it starts "!2," */
	if (!filename[n]) {
		const char *bang = strstr(filename, "!2,");

		if (bang)
			return (size_t)(bang - filename);
	}
	return n;
}

static int parse_size(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* A ",S=<n>" or ",W=<n>" field (p at the ','): stored, true. */
static bool size_field(const char *p, size_t len, struct md_name *out)
{
	if (len < 4 || p[2] != '=')
		return false;
	if (p[1] == 'S')
		return parse_size(p + 3, len - 3, &out->size) == 0;
	if (p[1] == 'W')
		return parse_size(p + 3, len - 3, &out->vsize) == 0;
	return false;
}

/* Split key at its first ','; S= and W= fields become sizes, any other
 * field stays part of the base so that formatting keeps it. */
static int parse_key(const char *key, size_t keylen, struct md_name *out)
{
	size_t first = strcspn(key, ",");
	size_t blen, i;

	if (first > keylen)
		first = keylen;
	if (first >= sizeof(out->base))
		return -1;
	memcpy(out->base, key, first);
	blen = first;
	for (i = first; i < keylen;) {
		size_t j = i + 1;

		while (j < keylen && key[j] != ',')
			j++;
		if (!size_field(key + i, j - i, out)) {
			if (blen + (j - i) >= sizeof(out->base))
				return -1;
			memcpy(out->base + blen, key + i, j - i);
			blen += j - i;
		}
		i = j;
	}
	out->base[blen] = '\0';
	return 0;
}

/* Dovecot reads "<flags>[,<other fields>]": flags stop at a comma. */
static void parse_info(const char *info, struct md_name *out)
{
	for (const char *p = info; *p && *p != ','; p++) {
		if (*p >= 'a' && *p <= 'z')
			out->keyword_bits |= 1u << (*p - 'a');
		else
			out->flags |= flag_of(*p);
	}
}

bool md_name_valid(const char *filename)
{
	struct md_name n;
	size_t len;

	if (!filename || !filename[0] || filename[0] == '.')
		return false;
	/* only a name starting with ',' can leave the base empty */
	if (filename[0] == ',')
		return md_name_parse(filename, &n) == 0;
	len = strlen(filename);
	return len <= 255 && !memchr(filename, '/', len) &&
	       md_name_keylen(filename) > 0;
}

int md_name_parse(const char *filename, struct md_name *out)
{
	size_t keylen;

	memset(out, 0, sizeof(*out));
	if (!filename || !filename[0] || filename[0] == '.' ||
	    strchr(filename, '/') || strlen(filename) > 255)
		return -1;
	keylen = md_name_keylen(filename);
	if (keylen == 0)
		return -1;
	if (parse_key(filename, keylen, out) < 0 || !out->base[0])
		return -1;
	if (filename[keylen] && strncmp(filename + keylen + 1, "2,", 2) == 0) {
		out->has_info = true;
		parse_info(filename + keylen + 3, out);
	}
	return 0;
}

int md_info_format(unsigned flags, uint32_t kwbits, const char *old_info,
		   char *out, size_t outsz)
{
	const char *p = NULL, *tail;
	char buf[128];
	size_t n = 0;

	memcpy(buf, ":2,", 3);
	n = 3;
	for (size_t i = 0; i < NFLAGS; i++)
		if (flags & flag_letters[i].flag)
			buf[n++] = flag_letters[i].c;
	/* Unknown flag characters (another program's) are kept: never lose
	 * what we do not understand. */
	for (p = old_info; p && *p && *p != ',' && n < 64; p++)
		if (!(*p >= 'a' && *p <= 'z') && !flag_of(*p))
			buf[n++] = *p;
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if (kwbits & (1u << i))
			buf[n++] = (char)('a' + i);
	buf[n] = '\0';
	/* ",<fields>" after the flags is not ours: as Dovecot, leave it */
	tail = p && *p == ',' ? p : "";
	if (n + strlen(tail) + 1 > outsz)
		return -1;
	memcpy(out, buf, n);
	strcpy(out + n, tail);
	return 0;
}

int md_name_format(const struct md_name *n, char *out, size_t outsz)
{
	char info[64] = "";
	int len;

	if (!n->base[0] || strchr(n->base, ':') || strchr(n->base, '/'))
		return -1;
	if (n->has_info &&
	    md_info_format(n->flags, n->keyword_bits, NULL, info,
			   sizeof(info)) < 0)
		return -1;
	len = snprintf(out, outsz, "%s", n->base);
	if (len >= 0 && n->size)
		len += snprintf(out + len, (size_t)len < outsz ? outsz - len : 0,
				",S=%llu", (unsigned long long)n->size);
	if (len >= 0 && n->vsize)
		len += snprintf(out + len, (size_t)len < outsz ? outsz - len : 0,
				",W=%llu", (unsigned long long)n->vsize);
	if (len >= 0)
		len += snprintf(out + len, (size_t)len < outsz ? outsz - len : 0,
				"%s", info);
	if (len < 0 || (size_t)len >= outsz)
		return -1;
	return 0;
}

/* Dovecot escapes '/' and ':' in the host part as \057 and \072 so that
 * the name stays one path component without an info separator. */
static void host_part(char *out, size_t outsz)
{
	char host[256];
	size_t n = 0;

	if (gethostname(host, sizeof(host)) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p && n + 5 < outsz; p++) {
		if (*p == '/' || *p == ':') {
			n += (size_t)snprintf(out + n, outsz - n, "\\%03o",
					      (unsigned char)*p);
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

int md_name_unique(char *out, size_t outsz)
{
	static unsigned counter;
	struct timeval tv;
	uint32_t rnd = 0;
	char host[200];
	int len;

	gettimeofday(&tv, NULL);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)tv.tv_usec ^ ((uint32_t)getpid() << 16) ^ counter;
	host_part(host, sizeof(host));
	len = snprintf(out, outsz, "%lld.M%06ldP%ldQ%uR%08x.%s",
		       (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		       ++counter, rnd, host);
	if (len < 0 || (size_t)len >= outsz)
		return -1;
	return 0;
}

static unsigned long long leading_num(const char **p)
{
	unsigned long long v = 0;

	while (**p >= '0' && **p <= '9')
		v = v * 10 + (unsigned long long)(*(*p)++ - '0');
	return v;
}

/* Dovecot gives new files UIDs in the order of the delivery time in their
 * names ("secs.M<usecs>..."), so two programs agree on the order. */
int md_name_time_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;
	unsigned long long sa = leading_num(&pa), sb = leading_num(&pb);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (pa[0] == '.' && pa[1] == 'M' && pb[0] == '.' && pb[1] == 'M') {
		pa += 2;
		pb += 2;
		sa = leading_num(&pa);
		sb = leading_num(&pb);
		if (sa != sb)
			return sa < sb ? -1 : 1;
	}
	return strcmp(a, b);
}
