/* charset.c - charset labels to UTF-8 through glibc iconv.
 *
 * Mail labels its text with whatever its author's software called the
 * charset, so labels are first mapped to a name iconv knows, preferring a
 * superset where the label is commonly used for one (gb2312 text is often
 * GBK, ks_c_5601-1987 text is CP949).  The mapping follows the WHATWG
 * Encoding Standard's label table where it agrees with what mail means;
 * iso-8859-1 stays true Latin-1, as Python's email package decodes it.
 *
 * Converters are cached per canonical name.  The cache is global and not
 * thread-safe: the MIME engine is used from one thread.
 */
#include "mime_p.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/utf8.h"

#define LABEL_MAX 64
#define CACHE_SIZE 16

struct alias {
	const char *label;
	const char *iconv_name;
};

/* Labels glibc does not know, or where a superset decodes more real mail
 * (WHATWG Encoding Standard, section 4.2 "Names and labels"). */
static const struct alias aliases[] = {
	{ "utf8", "UTF-8" },
	{ "unicode-1-1-utf-8", "UTF-8" },
	{ "unicode11utf8", "UTF-8" },
	{ "unicode20utf8", "UTF-8" },
	{ "unicode-1-1-utf-7", "UTF-7" },
	{ "csunicode11utf7", "UTF-7" },
	{ "utf7", "UTF-7" },
	{ "ascii", "ASCII" },
	{ "us-ascii", "ASCII" },
	{ "ansi_x3.4-1968", "ASCII" },
	{ "iso646-us", "ASCII" },
	{ "us", "ASCII" },
	{ "latin1", "ISO-8859-1" },
	{ "l1", "ISO-8859-1" },
	{ "ks_c_5601-1987", "CP949" },
	{ "ks_c_5601-1989", "CP949" },
	{ "ks_c_5601", "CP949" },
	{ "ksc5601", "CP949" },
	{ "ksc_5601", "CP949" },
	{ "csksc56011987", "CP949" },
	{ "iso-ir-149", "CP949" },
	{ "korean", "CP949" },
	{ "euc-kr", "CP949" },
	{ "windows-949", "CP949" },
	{ "gb2312", "GB18030" },
	{ "gb_2312", "GB18030" },
	{ "gb_2312-80", "GB18030" },
	{ "csgb2312", "GB18030" },
	{ "iso-ir-58", "GB18030" },
	{ "chinese", "GB18030" },
	{ "euc-cn", "GB18030" },
	{ "gbk", "GB18030" },
	{ "cp936", "GB18030" },
	{ "ms936", "GB18030" },
	{ "windows-936", "GB18030" },
	{ "big5", "BIG5-HKSCS" },
	{ "cn-big5", "BIG5-HKSCS" },
	{ "csbig5", "BIG5-HKSCS" },
	{ "shift_jis", "CP932" },
	{ "shift-jis", "CP932" },
	{ "sjis", "CP932" },
	{ "ms_kanji", "CP932" },
	{ "csshiftjis", "CP932" },
	{ "windows-31j", "CP932" },
	{ "ms932", "CP932" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "iso-8859-8-e", "ISO-8859-8" },
	{ "csiso88598i", "ISO-8859-8" },
	{ "csiso88598e", "ISO-8859-8" },
	{ "logical", "ISO-8859-8" },
	{ "visual", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" },
	{ "iso-8859-6-e", "ISO-8859-6" },
	{ "csiso88596i", "ISO-8859-6" },
	{ "csiso88596e", "ISO-8859-6" },
	{ "mac", "MACINTOSH" },
	{ "mac-roman", "MACINTOSH" },
	{ "macroman", "MACINTOSH" },
	{ "mac-cyrillic", "MAC-CYRILLIC" },
	{ "mac-ukrainian", "MAC-CYRILLIC" },
	{ "koi", "KOI8-R" },
	{ "koi8", "KOI8-R" },
	{ "koi8-ru", "KOI8-U" },
	{ "dos-874", "CP874" },
	{ "windows-874", "CP874" },
	{ "iso-8859-11", "TIS-620" },
};

/* Copy label lower-cased without surrounding blanks or quotes (some
 * mailers write charset="\"utf-8\""); false when it is empty or too long
 * to be a charset name. */
static bool label_clean(const char *label, char *out, size_t outsz)
{
	size_t n = 0;

	while (*label == ' ' || *label == '\t' || *label == '"' ||
	       *label == '\'')
		label++;
	for (; *label && *label != '"' && *label != '\''; label++) {
		if (n + 1 >= outsz)
			return false;
		out[n++] = (char)((*label >= 'A' && *label <= 'Z') ?
				  *label + 32 : *label);
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return n > 0;
}

static const char *alias_find(const char *lc)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].label, lc) == 0)
			return aliases[i].iconv_name;
	return NULL;
}

struct cache_ent {
	char name[LABEL_MAX];
	iconv_t cd;		/* (iconv_t)-1: iconv does not know name */
};

static struct cache_ent cache[CACHE_SIZE];
static unsigned cache_used, cache_next;

/* A converter from name to UTF-8, from the cache or newly opened.  The
 * cache remembers failures too, so an unknown label costs one
 * iconv_open. */
static iconv_t converter(const char *name)
{
	struct cache_ent *e;

	for (unsigned i = 0; i < cache_used; i++) {
		if (strcmp(cache[i].name, name) == 0) {
			if (cache[i].cd != (iconv_t)-1)
				iconv(cache[i].cd, NULL, NULL, NULL, NULL);
			return cache[i].cd;
		}
	}
	if (cache_used < CACHE_SIZE) {
		e = &cache[cache_used++];
	} else {
		e = &cache[cache_next];
		cache_next = (cache_next + 1) % CACHE_SIZE;
		if (e->cd != (iconv_t)-1)
			iconv_close(e->cd);
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->cd = iconv_open("UTF-8", name);
	return e->cd;
}

/* The iconv name for a label: the alias table, then the label as given,
 * then without an "x-" (or "x-x-") prefix.  NULL when unknown. */
static const char *resolve(const char *lc, iconv_t *cd_out)
{
	const char *name;

	while (true) {
		name = alias_find(lc);
		if (!name)
			name = lc;
		*cd_out = converter(name);
		if (*cd_out != (iconv_t)-1)
			return name;
		if (strncmp(lc, "x-", 2) != 0)
			return NULL;
		lc += 2;
	}
}

/* Encodings in which ASCII bytes do not stand for themselves, so all-ASCII
 * input still needs converting (ISO-2022-JP switches with ESC sequences,
 * UTF-7 uses '+...-'). */
static bool ascii_compatible(const char *name)
{
	static const char *const stateful[] = {
		"utf-7", "utf-16", "utf-32", "ucs-2", "ucs-4", "ucs2", "ucs4",
		"iso-2022", "iso2022", "hz", "csiso2022", "unicode",
	};

	for (size_t i = 0; i < sizeof(stateful) / sizeof(stateful[0]); i++)
		if (strncasecmp(name, stateful[i], strlen(stateful[i])) == 0)
			return false;
	return true;
}

static bool all_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* The fallback for unknown and lying labels (RFC 6532 made raw UTF-8
 * common, and Latin-1 maps every byte, so it cannot fail). */
static int fallback(const char *in, size_t len, struct pn_buf *out)
{
	if (pn_utf8_valid(in, len))
		return pn_buf_add(out, in, len);
	return pn_latin1_to_utf8(in, len, out);
}

/* Run cd over the whole input; -1 with errno EILSEQ/EINVAL when the
 * bytes are not in that charset (out is then left as it was). */
static int convert(iconv_t cd, const char *in, size_t len, struct pn_buf *out)
{
	size_t start = out->len, inleft = len, outleft, r;
	char *inp = (char *)in, *outp;

	do {
		if (pn_buf_reserve(out, inleft * 2 + 16) < 0)
			goto fail;
		outp = out->data + out->len;
		outleft = out->cap - out->len - 1;
		r = iconv(cd, &inp, &inleft, &outp, &outleft);
		out->len = (size_t)(outp - out->data);
		if (r == (size_t)-1 && errno != E2BIG)
			goto fail;
	} while (r == (size_t)-1);
	/* Flush the shift state (ISO-2022-JP back to ASCII). */
	if (pn_buf_reserve(out, 16) < 0)
		goto fail;
	outp = out->data + out->len;
	outleft = out->cap - out->len - 1;
	if (iconv(cd, NULL, NULL, &outp, &outleft) == (size_t)-1)
		goto fail;
	out->len = (size_t)(outp - out->data);
	out->data[out->len] = '\0';
	return 0;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return -1;
}

/* charset NULL or "" means unlabelled (raw 8-bit header text): UTF-8 when
 * valid, which needs no defect, else Latin-1 with one. */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
			 struct pn_buf *out, bool *defect_out)
{
	char lc[LABEL_MAX];
	const char *name;
	iconv_t cd;

	if (!charset || !label_clean(charset, lc, sizeof(lc))) {
		if (defect_out && !pn_utf8_valid(in, len))
			*defect_out = true;
		return fallback(in, len, out);
	}
	name = resolve(lc, &cd);
	if (!name) {
		if (defect_out)
			*defect_out = true;
		return fallback(in, len, out);
	}
	if (all_ascii(in, len) && ascii_compatible(name))
		return pn_buf_add(out, in, len);
	if (strcasecmp(name, "UTF-8") == 0 && pn_utf8_valid(in, len))
		return pn_buf_add(out, in, len);
	if (convert(cd, in, len, out) == 0)
		return 0;
	if (errno == ENOMEM || errno == EOVERFLOW)
		return -1;
	if (defect_out)
		*defect_out = true;
	return fallback(in, len, out);
}
