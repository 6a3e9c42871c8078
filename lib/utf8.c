#include "utf8.h"

#include <string.h>

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

int pn_utf8_decode(const char *s, size_t len, uint32_t *cp_out)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, min;
	int n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp_out = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;	/* continuation byte, C0/C1 lead, F5-FF */
	}
	if (len < (size_t)n)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* RFC 3629 3: overlong forms, surrogates and values past U+10FFFF
	 * are not UTF-8. */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_out = cp;
	return n;
}

int pn_utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the ASCII run at the start of s. */
static size_t ascii_run(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (unsigned char)s[i] < 0x80)
		i++;
	return i;
}

bool pn_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		int n;

		i += ascii_run(s + i, len - i);
		if (i == len)
			break;
		n = pn_utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

int pn_latin1_to_utf8(const char *s, size_t len, struct pn_buf *out)
{
	char *o;

	if (len > SIZE_MAX / 2 || pn_buf_reserve(out, len * 2) < 0)
		return -1;
	o = out->data + out->len;
	for (size_t i = 0; i < len; i++)
		o += pn_utf8_encode((unsigned char)s[i], o);
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int pn_utf8_repair(const char *s, size_t len, struct pn_buf *out)
{
	size_t i = 0, start = 0;
	uint32_t cp;

	while (i < len) {
		int n;

		i += ascii_run(s + i, len - i);
		if (i == len)
			break;
		n = pn_utf8_decode(s + i, len - i, &cp);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		if (pn_buf_add(out, s + start, i - start) < 0 ||
		    pn_buf_add(out, replacement, 3) < 0)
			return -1;
		start = ++i;
	}
	return pn_buf_add(out, s + start, i - start);
}

/* Invisible characters that reorder or hide text (Unicode UAX #9 explicit
 * formatting, marks, BOM): dropped so a name or subject cannot display
 * differently from what it is (CVE-2021-42574 "Trojan Source"). */
static bool is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 &&
		cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0xfeff;
}

static int add_cp(struct pn_buf *out, uint32_t cp)
{
	char tmp[4];
	int n = pn_utf8_encode(cp, tmp);

	return pn_buf_add(out, tmp, (size_t)n);
}

/* One ASCII control at s[i]; returns the bytes consumed. */
static int sanitize_ctl(const char *s, size_t len, size_t i, unsigned flags,
			struct pn_buf *out, int *rc)
{
	unsigned char c = (unsigned char)s[i];

	if (c == '\n' && (flags & PN_SAN_KEEP_NEWLINE))
		*rc = pn_buf_addc(out, '\n');
	else if (c == '\t' && (flags & PN_SAN_KEEP_TAB))
		*rc = pn_buf_addc(out, '\t');
	else if (c == '\r' && (i + 1 == len || s[i + 1] != '\n'))
		*rc = 0;	/* a lone CR would rewrite the line */
	else if (c == '\r' && (flags & PN_SAN_KEEP_NEWLINE))
		*rc = 0;	/* CRLF becomes LF */
	else if (c == 0x7f)
		*rc = add_cp(out, 0x2421);
	else
		*rc = add_cp(out, 0x2400 + c);
	return 1;
}

int pn_sanitize_term(const char *s, size_t len, unsigned flags,
		     struct pn_buf *out)
{
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;
		uint32_t cp;
		int n;

		while (run < len && (unsigned char)s[run] >= 0x20 &&
		       (unsigned char)s[run] < 0x7f)
			run++;
		if (run > i) {
			rc = pn_buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (c < 0x80) {
			i += (size_t)sanitize_ctl(s, len, i, flags, out, &rc);
			continue;
		}
		n = pn_utf8_decode(s + i, len - i, &cp);
		if (n == 0 || cp < 0xa0)	/* invalid, or C1 (CSI...) */
			rc = pn_buf_add(out, replacement, 3);
		else if (!is_bidi_control(cp))
			rc = pn_buf_add(out, s + i, (size_t)n);
		i += n ? (size_t)n : 1;
	}
	return rc;
}
