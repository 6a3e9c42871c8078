/* fold.c - formatting header fields added through the API.
 *
 * Values arrive as UTF-8 and leave as 7-bit header text: unstructured
 * text gets RFC 2047 encoded words only where it needs them, address
 * headers only in display names (RFC 2047 5(3); an addr-spec is never
 * encoded), Content-Type and Content-Disposition parameters RFC 2231
 * (mime_param_format).  Lines are folded before whitespace so none is
 * longer than 78 characters (RFC 5322 2.1.1) unless a single word is.
 *
 * Everything here is strict: CR or LF in a value is refused, so a value
 * can never start a new field.
 */
#include "mime_p.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/utf8.h"

#define LINE_LEN 78
#define EW_MAX 75		/* RFC 2047 section 2 */
#define EW_OVERHEAD 12		/* "=?utf-8?q?" + "?=" */
#define EW_MIN 24		/* smaller than this, fold first */

struct fold {
	struct pn_buf *out;
	const char *eol;
	size_t col;		/* characters on the current line */
	size_t reserve;		/* what the caller glues on after the next
				   atoms (",", ";", trailing blanks) */
	bool content;		/* the line has more than "Name:" */
};

/* Append ws then text, folding before ws when the line would grow past
 * LINE_LEN (RFC 5322 2.2.3: a fold is CRLF inserted before WSP).  The
 * header name alone on a line is not worth a fold unless it is long. */
static int put(struct fold *f, const char *ws, size_t wslen,
	       const char *text, size_t len)
{
	if (f->col + wslen + len + f->reserve > LINE_LEN && wslen > 0 &&
	    len > 0 &&
	    (f->content || f->col > 20)) {
		if (pn_buf_adds(f->out, f->eol) < 0)
			return -1;
		f->col = 0;
	}
	if (pn_buf_add(f->out, ws, wslen) < 0 ||
	    pn_buf_add(f->out, text, len) < 0)
		return -1;
	f->col += wslen + len;
	f->content |= len > 0;
	return 0;
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* RFC 2047 5(3): the characters a Q word may carry as they are, valid in
 * every place a word can stand (text, comment, phrase). */
static bool q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/' || c == ' ';
}

static size_t q_cost(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += q_plain((unsigned char)s[i]) ? 1 : 3;
	return n;
}

static size_t b_cost(size_t len)
{
	return (len + 2) / 3 * 4;
}

/* Length of the UTF-8 character at s (1 for a stray byte, which the API
 * check makes impossible but must not loop forever). */
static size_t char_len(const char *s, size_t len)
{
	uint32_t cp;
	int n = pn_utf8_decode(s, len, &cp);

	return n > 0 ? (size_t)n : 1;
}

/* How many bytes of s fit in one encoded word of at most avail
 * characters, whole characters only; at least one character. */
static size_t fit(const char *s, size_t len, bool b, size_t avail)
{
	size_t n = 0, cost = 0;

	while (n < len) {
		size_t c = char_len(s + n, len - n);

		cost = b ? b_cost(n + c) : cost + q_cost(s + n, c);
		if (EW_OVERHEAD + cost > avail && n > 0)
			break;
		n += c;
	}
	return n;
}

static int encode_word(const char *s, size_t len, bool b, struct pn_buf *w)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)s;

	pn_buf_reset(w);
	if (pn_buf_adds(w, b ? "=?utf-8?b?" : "=?utf-8?q?") < 0)
		return -1;
	for (size_t i = 0; i < len && !b; i++) {
		char esc[3] = { '=', hex[u[i] >> 4], hex[u[i] & 15] };

		if (u[i] == ' ' ? pn_buf_addc(w, '_') :
		    q_plain(u[i]) ? pn_buf_addc(w, (char)u[i]) :
		    pn_buf_add(w, esc, 3))
			return -1;
	}
	for (size_t i = 0; i < len && b; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		char q[4];

		v |= i + 1 < len ? (uint32_t)u[i + 1] << 8 : 0;
		v |= i + 2 < len ? u[i + 2] : 0;
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		if (pn_buf_add(w, q, 4) < 0)
			return -1;
	}
	return pn_buf_adds(w, "?=");
}

/* Text as UTF-8 encoded words, B or Q whichever is shorter for the whole
 * run, each word at most 75 characters and sized to fill the current
 * line.  Words are separated by a space, which decoders drop (RFC 2047
 * 6.2), so a run splits anywhere between characters. */
static int put_encoded(struct fold *f, const char *ws, size_t wslen,
		       const char *s, size_t len)
{
	bool b = b_cost(len) < q_cost(s, len);
	struct pn_buf w = { 0 };
	size_t pos = 0;
	int r = 0;

	while (pos < len && r == 0) {
		size_t used = f->col + wslen + f->reserve;
		size_t avail = LINE_LEN - (used < LINE_LEN ? used : LINE_LEN);
		size_t n;

		if (avail > EW_MAX)
			avail = EW_MAX;
		n = fit(s + pos, len - pos, b, avail);
		if (pos + n < len && avail < EW_MIN) {
			/* it goes on a new line, after the blanks */
			used = wslen + f->reserve;
			avail = used + EW_MAX < LINE_LEN ? EW_MAX :
				used + EW_MIN < LINE_LEN ? LINE_LEN - used :
				EW_MIN;
			n = fit(s + pos, len - pos, b, avail);
		}
		r = encode_word(s + pos, n, b, &w);
		if (r == 0)
			r = put(f, ws, wslen, w.data, w.len);
		pos += n;
		ws = " ";
		wslen = 1;
	}
	pn_buf_free(&w);
	return r;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* A word that must be encoded: non-ASCII, a control character, or text
 * a decoder would take for an encoded word (RFC 2047 section 5 makes
 * "=?" ambiguous in plain text, so it is encoded to survive). */
static bool needs_encoding(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 0x7f || (c < ' ' && c != '\t'))
			return true;
		if (c == '=' && i + 1 < len && w[i + 1] == '?')
			return true;
	}
	return false;
}

/* Length of the next word of s from *pos, which moves to its start;
 * *wsstart is where the blanks before it begin. */
static size_t next_word(const char *s, size_t *pos, size_t *wsstart)
{
	size_t i = *pos;

	*wsstart = i;
	while (s[i] && is_wsp(s[i]))
		i++;
	*pos = i;
	while (s[i] && !is_wsp(s[i]))
		i++;
	return i - *pos;
}

/* Length of s when it is only blanks (they end the value and cannot be
 * folded before: that would leave a blank line), else 0. */
static size_t trailing_blanks(const char *s)
{
	size_t n = strspn(s, " \t");

	return s[n] ? 0 : n;
}

/* RFC 5322 unstructured text.  Consecutive words that need encoding are
 * encoded as one run, blanks included, because blanks between encoded
 * words vanish when decoding. */
static int put_unstructured(struct fold *f, const char *v)
{
	size_t pos = 0, ws, len, r_end, r_ws;
	int r = 0;

	while (r == 0 && v[pos]) {
		len = next_word(v, &pos, &ws);
		f->reserve = trailing_blanks(v + pos + len);
		if (len == 0 || !needs_encoding(v + pos, len)) {
			/* The value's own leading blanks become the one
			 * blank after the colon. */
			r = f->content ? put(f, v + ws, pos - ws, v + pos, len) :
				put(f, " ", 1, v + pos, len);
			pos += len;
			continue;
		}
		r_end = pos + len;
		for (size_t p = r_end, l; v[p]; p += l) {
			l = next_word(v, &p, &r_ws);
			if (l == 0 || !needs_encoding(v + p, l))
				break;
			r_end = p + l;
		}
		f->reserve = trailing_blanks(v + r_end);
		r = put_encoded(f, f->content ? v + ws : " ",
				f->content ? pos - ws : 1, v + pos,
				r_end - pos);
		pos = r_end;
	}
	f->reserve = 0;
	return r;
}

/* RFC 5322 3.2.3 atext. */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A display name (RFC 5322 3.2.5 phrase): atoms as they are, anything
 * with specials as one quoted string, non-ASCII as encoded words. */
static int put_phrase(struct fold *f, const char *ws, const char *name)
{
	size_t len = strlen(name), i;
	struct pn_buf q = { 0 };
	bool atoms = len > 0 && !is_wsp(name[0]) && !is_wsp(name[len - 1]);
	int r = 0;

	if (needs_encoding(name, len))
		return put_encoded(f, ws, strlen(ws), name, len);
	for (i = 0; i < len && atoms; i++)
		atoms = is_atext((unsigned char)name[i]) ||
			(name[i] == ' ' && name[i + 1] != ' ');
	if (atoms) {
		for (size_t pos = 0, w, l; r == 0 && name[pos]; pos += l) {
			l = next_word(name, &pos, &w);
			r = put(f, pos == 0 ? ws : " ", pos == 0 ? strlen(ws) : 1,
				name + pos, l);
		}
		return r;
	}
	r = pn_buf_addc(&q, '"');
	for (i = 0; i < len && r == 0; i++) {
		if (name[i] == '"' || name[i] == '\\')
			r = pn_buf_addc(&q, '\\');
		if (r == 0)
			r = pn_buf_addc(&q, name[i]);
	}
	if (r == 0 && pn_buf_addc(&q, '"') == 0)
		r = put(f, ws, strlen(ws), q.data, q.len);
	pn_buf_free(&q);
	return r;
}

static bool group_ends(const struct mime_address *l, size_t n, size_t i)
{
	return l[i].group && (i + 1 == n || !l[i + 1].group ||
			      (!l[i + 1].name && !l[i + 1].addr));
}

static int put_mailbox(struct fold *f, const struct mime_address *a)
{
	struct pn_buf ab = { 0 };
	int r = 0;

	if (a->name && a->name[0])
		r = put_phrase(f, " ", a->name);
	if (r == 0 && a->addr && a->name && a->name[0])
		r = pn_buf_printf(&ab, "<%s>", a->addr);
	else if (r == 0 && a->addr)
		r = pn_buf_adds(&ab, a->addr);
	if (r == 0 && ab.len)
		r = put(f, " ", 1, ab.data, ab.len);
	pn_buf_free(&ab);
	return r;
}

/* An address list rebuilt from its parse: display names and group names
 * encoded where needed, addresses as they are. */
static int put_addresses(struct fold *f, const char *v)
{
	struct mime_address *l;
	size_t n;
	int r = 0;

	if (mime_parse_addresses(v, &l, &n, NULL) < 0)
		return -1;
	if (n == 0)
		r = put_unstructured(f, v);
	for (size_t i = 0; i < n && r == 0; i++) {
		bool marker = !l[i].name && !l[i].addr;
		bool semi = group_ends(l, n, i);
		bool comma = i + 1 < n && !(marker && !semi);

		f->reserve = marker + semi + comma;
		if (marker)
			r = put_phrase(f, " ", l[i].group);
		else
			r = put_mailbox(f, &l[i]);
		f->reserve = 0;
		if (r == 0 && marker)
			r = put(f, "", 0, ":", 1);
		if (r == 0 && semi)
			r = put(f, "", 0, ";", 1);
		if (r == 0 && comma)
			r = put(f, "", 0, ",", 1);
	}
	mime_addresses_free(&l, n);
	return r;
}

/* "token; a=b; c=d" folded at the "; " boundaries, each piece whole. */
static int put_params(struct fold *f, const char *v)
{
	size_t pos = 0;
	int r = 0;

	while (r == 0 && v[pos]) {
		size_t ws = pos, end;
		bool q = false;

		while (is_wsp(v[pos]))
			pos++;
		for (end = pos; v[end] && (q || v[end] != ';'); end++) {
			if (q && v[end] == '\\' && v[end + 1])
				end++;
			else if (v[end] == '"')
				q = !q;
		}
		if (v[end] == ';')
			end++;
		r = f->content ? put(f, v + ws, pos - ws, v + pos, end - pos) :
			put(f, " ", 1, v + pos, end - pos);
		pos = end;
	}
	return r;
}

/* A Content-Type value with non-ASCII parameters, as mime_part_set_param
 * would have stored it: the token and each parameter RFC 2231 encoded. */
static int put_structured(struct fold *f, const char *v)
{
	struct mime_param *params, *p;
	struct pn_buf b = { 0 };
	char *token;
	int r;

	if (is_ascii(v, strlen(v)))
		return put_params(f, v);
	if (mime_parse_structured(v, &token, &params, NULL) < 0)
		return -1;
	if (!token) {
		r = put_unstructured(f, v);
	} else {
		r = pn_buf_adds(&b, token);
		for (p = params; p && r == 0; p = p->next)
			r = mime_param_format(p->name, p->value, &b);
		if (r == 0)
			r = put_params(f, pn_buf_cstr(&b));
	}
	free(token);
	mime_params_free(&params);
	pn_buf_free(&b);
	return r;
}

static bool is_address_header(const char *name)
{
	static const char *const names[] = {
		"from", "to", "cc", "bcc", "reply-to", "sender",
		"resent-from", "resent-to", "resent-cc", "resent-bcc",
		"resent-sender",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool valid_name(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if ((unsigned char)*name < 33 || (unsigned char)*name > 126 ||
		    *name == ':')
			return false;
	return true;
}

int mime_header_format(const char *name, const char *value, const char *eol,
		       struct pn_buf *out)
{
	struct fold f = { .out = out, .eol = eol ? eol : "\r\n" };
	int r;

	/* Header injection: nothing may start a new line but the folds. */
	if (!name || !value || !valid_name(name) || strpbrk(value, "\r\n")) {
		errno = EINVAL;
		return -1;
	}
	if (pn_buf_adds(out, name) < 0 || pn_buf_addc(out, ':') < 0)
		return -1;
	f.col = strlen(name) + 1;
	if (is_address_header(name))
		r = put_addresses(&f, value);
	else if (strcasecmp(name, "content-type") == 0 ||
		 strcasecmp(name, "content-disposition") == 0)
		r = put_structured(&f, value);
	else
		r = put_unstructured(&f, value);
	if (r == 0 && !f.content && pn_buf_addc(out, ' ') < 0)
		r = -1;
	return r < 0 ? -1 : pn_buf_adds(out, f.eol);
}

/* RFC 2045 5.1 token characters. */
static bool is_tchar(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* RFC 2231 7 attribute-char: what a %-encoded value may show as is. */
static bool is_attr_char(unsigned char c)
{
	return is_tchar(c) && c != '*' && c != '\'' && c != '%';
}

/* Room for a section's value on a folded line " name*N*=...;". */
static size_t section_room(const char *name, unsigned num, bool ext)
{
	size_t fixed = 1 + strlen(name) + 3 + (ext ? 1 : 0) + 1;

	for (unsigned n = num; n >= 10; n /= 10)
		fixed++;
	return fixed + 16 < LINE_LEN ? LINE_LEN - fixed : 16;
}

/* Escaped quoted-string contents and the closing quote. */
static int param_quoted(const char *v, size_t len, struct pn_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if ((v[i] == '"' || v[i] == '\\') && pn_buf_addc(out, '\\') < 0)
			return -1;
		if (pn_buf_addc(out, v[i]) < 0)
			return -1;
	}
	return pn_buf_addc(out, '"');
}

/* ASCII value: a token or a quoted string, split into RFC 2231 sections
 * (name*0="..."; name*1="...") when it cannot fit on one line. */
static int param_ascii(const char *name, const char *value, struct pn_buf *out)
{
	size_t len = strlen(value), pos = 0, cost = 0;
	bool token = len > 0;
	unsigned num = 0;
	int r = 0;

	for (size_t i = 0; i < len; i++) {
		token &= is_tchar((unsigned char)value[i]);
		cost += (value[i] == '"' || value[i] == '\\') ? 2 : 1;
	}
	if (token && 3 + strlen(name) + len <= LINE_LEN)
		return pn_buf_printf(out, "; %s=%s", name, value);
	if (cost + 2 <= section_room(name, 0, false) + 2) {
		if (pn_buf_printf(out, "; %s=\"", name) < 0)
			return -1;
		return param_quoted(value, len, out);
	}
	while (r == 0 && (pos < len || num == 0)) {
		size_t room = section_room(name, num, false) - 2, n = 0, c = 0;

		while (pos + n < len && c + 2 <= room) {
			c += (value[pos + n] == '"' || value[pos + n] == '\\') ?
				2 : 1;
			n++;
		}
		r = pn_buf_printf(out, "; %s*%u=\"", name, num++);
		if (r == 0)
			r = param_quoted(value + pos, n, out);
		pos += n;
	}
	return r;
}

/* How many bytes of v (whole UTF-8 characters) fit in room characters of
 * %-encoding; at least one character. */
static size_t ext_fit(const char *v, size_t len, size_t room)
{
	size_t n = 0, cost = 0;

	while (n < len) {
		size_t c = char_len(v + n, len - n), k = 0;

		for (size_t i = 0; i < c; i++)
			k += is_attr_char((unsigned char)v[n + i]) ? 1 : 3;
		if (cost + k > room && n > 0)
			break;
		cost += k;
		n += c;
	}
	return n;
}

static int ext_encode(const char *v, size_t len, struct pn_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (is_attr_char(c) ? pn_buf_addc(out, (char)c) :
		    pn_buf_add(out, esc, 3))
			return -1;
	}
	return 0;
}

/* RFC 2231 sections 3 and 4: name*=utf-8''%E2%82%AC, or name*0*=utf-8''...;
 * name*1*=... when it does not fit on one line.  Characters are never
 * split between sections, for decoders that convert each on its own. */
static int param_ext(const char *name, const char *value, struct pn_buf *out)
{
	size_t len = strlen(value), pos = 0, room;
	unsigned num = 0;
	int r;

	room = section_room(name, 0, true) + 2;	/* no "0" in name*= */
	if (ext_fit(value, len, room - 7) == len) {
		r = pn_buf_printf(out, "; %s*=utf-8''", name);
		return r < 0 ? -1 : ext_encode(value, len, out);
	}
	for (r = 0; r == 0 && pos < len; num++) {
		size_t n;

		room = section_room(name, num, true) - (num == 0 ? 7 : 0);
		n = ext_fit(value + pos, len - pos, room);
		r = pn_buf_printf(out, "; %s*%u*=%s", name, num,
				  num == 0 ? "utf-8''" : "");
		if (r == 0)
			r = ext_encode(value + pos, n, out);
		pos += n;
	}
	return r;
}

int mime_param_format(const char *name, const char *value,
		      struct pn_buf *out)
{
	size_t len;

	if (!name || !value || !*name) {
		errno = EINVAL;
		return -1;
	}
	for (const char *p = name; *p; p++) {
		if (!is_tchar((unsigned char)*p) || *p == '*' || *p == '\'' ||
		    *p == '%') {
			errno = EINVAL;
			return -1;
		}
	}
	len = strlen(value);
	if (strpbrk(value, "\r\n")) {
		errno = EINVAL;
		return -1;
	}
	if (needs_encoding(value, len))
		return param_ext(name, value, out);
	return param_ascii(name, value, out);
}
