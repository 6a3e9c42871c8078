/* utf7.c - mailbox names in modified UTF-7 (RFC 3501 5.1.3), both ways.
 *
 * RFC 3501 5.1.3: printable US-ASCII except '&' stands for itself, '&' is
 * "&-", everything else is UTF-16BE in modified base64 (RFC 2152 with ','
 * for '/', no '=' padding) between '&' and '-'.  The decoder accepts only
 * what this encoder would write: one name then has one spelling, so two
 * different server strings can never show as the same folder (and a name
 * that fails here can still be shown raw by the caller).
 */
#include "imap.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/buf.h"
#include "../lib/utf8.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* RFC 3501 5.1.3: "printable US-ASCII characters, except for '&',
 * represent themselves"; the rest must be shifted. */
static bool is_direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e && c != '&';
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* ---- encoder ---- */

struct bits {
	uint32_t acc;
	unsigned n;	/* valid low bits in acc */
};

static int put_unit(struct bits *b, uint32_t unit, struct pn_buf *out)
{
	b->acc = (b->acc << 16) | unit;
	b->n += 16;
	while (b->n >= 6) {
		b->n -= 6;
		if (pn_buf_addc(out, b64[(b->acc >> b->n) & 63]) < 0)
			return -1;
	}
	b->acc &= (1u << b->n) - 1;
	return 0;
}

/* Code points above the BMP go as a UTF-16 surrogate pair. */
static int put_code_point(struct bits *b, uint32_t cp, struct pn_buf *out)
{
	if (cp < 0x10000)
		return put_unit(b, cp, out);
	cp -= 0x10000;
	if (put_unit(b, 0xd800 | (cp >> 10), out) < 0)
		return -1;
	return put_unit(b, 0xdc00 | (cp & 0x3ff), out);
}

static int encode_error(struct pn_error *err, const char *what, size_t at)
{
	pn_error_set(err, PN_EPARSE, "mailbox name: %s", what);
	return pn_error_at(err, (int64_t)at, 0);
}

/* One shift sequence: every character up to the next direct one, so the
 * output never has two shifts back to back. */
static int encode_run(const char *s, size_t len, size_t *pos,
		      struct pn_buf *out, struct pn_error *err)
{
	struct bits b = { 0, 0 };
	size_t i = *pos;

	if (pn_buf_addc(out, '&') < 0)
		goto oom;
	while (i < len && !is_direct((unsigned char)s[i]) && s[i] != '&') {
		uint32_t cp;
		int n = pn_utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return encode_error(err, "invalid UTF-8", i);
		if (cp == 0)
			return encode_error(err, "NUL character", i);
		if (put_code_point(&b, cp, out) < 0)
			goto oom;
		i += (size_t)n;
	}
	/* The last sextet is zero-padded (RFC 2152: no '=' here). */
	if (b.n && pn_buf_addc(out, b64[(b.acc << (6 - b.n)) & 63]) < 0)
		goto oom;
	if (pn_buf_addc(out, '-') < 0)
		goto oom;
	*pos = i;
	return 0;
oom:
	return pn_error_set(err, PN_ENOMEM, "mailbox name: out of memory");
}

int imap_utf7_encode(const char *utf8, size_t len, struct pn_buf *out,
		     struct pn_error *err)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		unsigned char c = (unsigned char)utf8[i];

		if (is_direct(c))
			rc = pn_buf_addc(out, (char)c);
		else if (c == '&')
			rc = pn_buf_add(out, "&-", 2);
		else if (encode_run(utf8, len, &i, out, err) < 0)
			return -1;
		else
			continue;
		if (rc < 0)
			return pn_error_set(err, PN_ENOMEM,
					    "mailbox name: out of memory");
		i++;
	}
	return 0;
}

/* ---- decoder ---- */

struct shift {
	struct bits b;
	uint32_t high;		/* pending high surrogate, 0 if none */
	size_t high_at;
};

static int decode_error(struct pn_error *err, size_t at, const char *fmt,
			...) PN_PRINTF(3, 4);

static int decode_error(struct pn_error *err, size_t at, const char *fmt,
			...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pn_error_set(err, PN_EPARSE, "modified UTF-7: %s", what);
	return pn_error_at(err, (int64_t)at, 0);
}

static int emit(uint32_t cp, struct pn_buf *out, struct pn_error *err)
{
	char u8[4];
	int n = pn_utf8_encode(cp, u8);

	if (pn_buf_add(out, u8, (size_t)n) < 0)
		return pn_error_set(err, PN_ENOMEM,
				    "modified UTF-7: out of memory");
	return 0;
}

/* A complete UTF-16 unit: pair surrogates, refuse what RFC 3501 says
 * must not be shifted (printable ASCII) and NUL. */
static int take_unit(struct shift *st, uint32_t u, size_t at,
		     struct pn_buf *out, struct pn_error *err)
{
	if (st->high) {
		if (u < 0xdc00 || u > 0xdfff)
			return decode_error(err, st->high_at,
					    "unpaired surrogate U+%04X",
					    st->high);
		u = 0x10000 + ((st->high - 0xd800) << 10) + (u - 0xdc00);
		st->high = 0;
		return emit(u, out, err);
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		st->high = u;
		st->high_at = at;
		return 0;
	}
	if (u >= 0xdc00 && u <= 0xdfff)
		return decode_error(err, at, "unpaired surrogate U+%04X", u);
	if (u == 0)
		return decode_error(err, at, "NUL character");
	if (u < 0x80 && (is_direct(u) || u == '&'))
		return decode_error(err, at,
				    "'%c' must not be base64-encoded", u);
	return emit(u, out, err);
}

/* RFC 2152: the bits after the last whole unit are padding, fewer than
 * six and zero; a shift ending inside a surrogate pair is malformed. */
static int end_shift(const struct shift *st, size_t at,
		     struct pn_error *err)
{
	if (st->high)
		return decode_error(err, st->high_at,
				    "unpaired surrogate U+%04X", st->high);
	if (st->b.n >= 6)
		return decode_error(err, at,
				    "%u bits left over in the shift", st->b.n);
	if (st->b.acc != 0)
		return decode_error(err, at, "nonzero padding bits");
	return 0;
}

static int decode_shift(const char *s, size_t len, size_t *pos,
			struct pn_buf *out, struct pn_error *err)
{
	struct shift st = { { 0, 0 }, 0, 0 };
	size_t start = *pos, i = start + 1;

	for (; i < len && s[i] != '-'; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return decode_error(err, i,
					    "byte 0x%02x in a base64 shift",
					    (unsigned char)s[i]);
		st.b.acc = (st.b.acc << 6) | (uint32_t)v;
		st.b.n += 6;
		if (st.b.n < 16)
			continue;
		st.b.n -= 16;
		if (take_unit(&st, st.b.acc >> st.b.n, i, out, err) < 0)
			return -1;
		st.b.acc &= (1u << st.b.n) - 1;
	}
	if (i == len)
		return decode_error(err, start,
				    "'&' without a closing '-'");
	if (end_shift(&st, i, err) < 0)
		return -1;
	*pos = i + 1;
	return 0;
}

int imap_utf7_decode(const char *mutf7, size_t len, struct pn_buf *out,
		     struct pn_error *err)
{
	size_t i = 0, shift_end = (size_t)-1;

	while (i < len) {
		unsigned char c = (unsigned char)mutf7[i];

		if (c == '&' && i + 1 < len && mutf7[i + 1] == '-') {
			if (pn_buf_addc(out, '&') < 0)
				goto oom;
			i += 2;
		} else if (c == '&') {
			/* Two shifts back to back are one shift spelled
			 * twice: a second spelling of the same name. */
			if (i == shift_end)
				return decode_error(err, i,
						    "shift follows a shift");
			if (decode_shift(mutf7, len, &i, out, err) < 0)
				return -1;
			shift_end = i;
		} else if (!is_direct(c)) {
			return decode_error(err, i, "unencoded byte 0x%02x", c);
		} else {
			if (pn_buf_addc(out, (char)c) < 0)
				goto oom;
			i++;
		}
	}
	return 0;
oom:
	return pn_error_set(err, PN_ENOMEM, "modified UTF-7: out of memory");
}
