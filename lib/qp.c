#include "qp.h"

#include <string.h>

/* RFC 2045 6.7 rule 5: encoded lines are at most 76 characters; a soft
 * break takes one, so content stops at 75. */
#define QP_CONTENT_MAX 75

/* The decoder holds undecided bytes in d->held (80): "=" + padding + CR,
 * or blanks + CR.  Lines are at most 76 characters (rule 5), so longer
 * runs are not plausible encoder output; to give the same answer however
 * the input is chunked, both the whole-buffer and the held path use these
 * caps: at most QP_WS_MAX trailing blanks are dropped before a hard break,
 * and "=" followed by more than QP_PAD_MAX blanks is not a soft break. */
#define QP_HELD 80
#define QP_WS_MAX (QP_HELD - 1)
#define QP_PAD_MAX (QP_HELD - 2)

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	/* Lower case is not allowed by 6.7 rule 1 but real encoders emit
	 * it; 6.7 asks decoders to be robust. */
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

void pn_qp_decoder_init(struct pn_qp_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

static void emit_held(struct pn_qp_decoder *d, char **op)
{
	memcpy(*op, d->held, d->nheld);
	*op += d->nheld;
	d->nheld = 0;
}

static bool held_room(const struct pn_qp_decoder *d)
{
	return d->nheld < sizeof(d->held);
}

/* Held "=" [hex] or "=" WS* [CR]: one more byte decides it.  Returns 1
 * when c was used, 0 when c must be decoded afresh (held is empty). */
static int step_escape(struct pn_qp_decoder *d, unsigned char c, char **op)
{
	bool cr = d->held[d->nheld - 1] == '\r';

	if (d->nheld == 2 && hexval((unsigned char)d->held[1]) >= 0) {
		if (hexval(c) < 0)
			goto literal;
		*(*op)++ = (char)(hexval((unsigned char)d->held[1]) << 4 |
				  hexval(c));
		d->nheld = 0;
		return 1;
	}
	if (c == '\n') {
		d->nheld = 0;	/* soft line break, rule 5 */
		return 1;
	}
	if (!cr && ((is_ws(c) && d->nheld < 1 + QP_PAD_MAX) ||
		    (c == '\r' && held_room(d)) ||
		    (d->nheld == 1 && hexval(c) >= 0))) {
		d->held[d->nheld++] = (char)c;
		return 1;
	}
literal:
	d->bad++;
	if (d->nheld >= 2 && is_ws((unsigned char)d->held[1])) {
		/* "=" + blanks [CR] that is no soft break: the '=' is
		 * literal, the blanks may still be trailing white space. */
		*(*op)++ = '=';
		memmove(d->held, d->held + 1, --d->nheld);
		return 0;
	}
	emit_held(d, op);
	return 0;
}

/* Held trailing whitespace [CR]: dropped before a hard break (rule 3). */
static int step_ws(struct pn_qp_decoder *d, unsigned char c, char **op)
{
	bool cr = d->held[d->nheld - 1] == '\r';

	if (c == '\n') {
		if (cr)
			*(*op)++ = '\r';
		*(*op)++ = '\n';
		d->nheld = 0;
		return 1;
	}
	if (!cr && is_ws(c) && d->nheld == QP_WS_MAX) {
		/* Only the last QP_WS_MAX blanks can still be trimmed. */
		*(*op)++ = d->held[0];
		memmove(d->held, d->held + 1, d->nheld - 1);
		d->held[d->nheld - 1] = (char)c;
		return 1;
	}
	if (!cr && held_room(d) && (is_ws(c) || c == '\r')) {
		d->held[d->nheld++] = (char)c;
		return 1;
	}
	emit_held(d, op);
	return 0;
}

/* Rule 3: at a hard line break, drop the whitespace that ends the line,
 * but never bytes below floor (decoded =20 / =09 are data). */
static char *trim_line(char *o, const char *floor)
{
	bool cr = o > floor && o[-1] == '\r';
	size_t n = 0;

	if (cr)
		o--;
	while (o > floor && is_ws((unsigned char)o[-1]) && n++ < QP_WS_MAX)
		o--;
	if (cr)
		*o++ = '\r';
	return o;
}

static void hold(struct pn_qp_decoder *d, const char *p, size_t n)
{
	memcpy(d->held, p, n);
	d->nheld = n;
}

/* p points at '='.  Returns where decoding continues. */
static const char *escape(struct pn_qp_decoder *d, const char *p,
			  const char *end, char **op, char **floor)
{
	size_t avail = (size_t)(end - p);
	const char *q = p + 1;

	if (avail >= 3 && hexval((unsigned char)p[1]) >= 0 &&
	    hexval((unsigned char)p[2]) >= 0) {
		*(*op)++ = (char)(hexval((unsigned char)p[1]) << 4 |
				  hexval((unsigned char)p[2]));
		*floor = *op;
		return p + 3;
	}
	if (avail == 1 || (avail == 2 && hexval((unsigned char)p[1]) >= 0)) {
		hold(d, p, avail);
		return end;
	}
	/* Soft break: "=" then transport padding then CRLF or LF. */
	while (q < end && is_ws((unsigned char)*q) &&
	       (size_t)(q - p) <= QP_PAD_MAX)
		q++;
	if (q < end && is_ws((unsigned char)*q))
		goto literal;	/* padding beyond QP_PAD_MAX */
	if (q < end && *q == '\r')
		q++;
	if (q < end && *q == '\n') {
		/* Blanks before a soft break are data: that is how encoders
		 * protect trailing white space (rule 3). */
		*floor = *op;
		return q + 1;
	}
	if (q == end && avail < sizeof(d->held)) {
		hold(d, p, avail);
		return end;
	}
literal:
	d->bad++;
	*(*op)++ = '=';
	return p + 1;
}

/* Move whitespace ending the output (maybe before a CR) into held: the
 * next chunk may start with the line break that makes it trailing. */
static char *hold_tail(struct pn_qp_decoder *d, char *o, const char *floor)
{
	char *t = o, *w;

	if (t > floor && t[-1] == '\r')
		t--;
	w = t;
	while (w > floor && is_ws((unsigned char)w[-1]))
		w--;
	if (w == t)
		return o;
	/* Absurdly long runs keep only their end undecided. */
	if ((size_t)(t - w) > QP_WS_MAX)
		w = t - QP_WS_MAX;
	hold(d, w, (size_t)(o - w));
	return w;
}

size_t pn_qp_decode(struct pn_qp_decoder *d, const char *in, size_t len,
		    char *out)
{
	const char *p = in, *end = in + len, *eq, *nl;
	char *o = out, *floor;

	while (d->nheld > 0 && p < end) {
		unsigned char c = (unsigned char)*p;

		p += d->held[0] == '=' ? step_escape(d, c, &o)
				       : step_ws(d, c, &o);
	}
	floor = o;
	eq = p < end ? memchr(p, '=', (size_t)(end - p)) : NULL;
	nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	eq = eq ? eq : end;
	nl = nl ? nl : end;
	while (p < end) {
		const char *q = eq < nl ? eq : nl;

		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		p = q;
		if (p == end)
			break;
		if (*p == '\n') {
			o = trim_line(o, floor);
			*o++ = '\n';
			floor = o;
			p++;
		} else {
			p = escape(d, p, end, &o, &floor);
		}
		if (eq < p && p < end)
			eq = memchr(p, '=', (size_t)(end - p));
		if (nl < p && p < end)
			nl = memchr(p, '\n', (size_t)(end - p));
		eq = eq && eq >= p ? eq : end;
		nl = nl && nl >= p ? nl : end;
	}
	if (d->nheld == 0)
		o = hold_tail(d, o, floor);
	return (size_t)(o - out);
}

size_t pn_qp_decode_finish(struct pn_qp_decoder *d, char *out)
{
	size_t n = 0;

	if (d->nheld > 0 && d->held[0] == '=') {
		/* A dangling '=' (maybe with padding) is a soft break at the
		 * end; "=X" is a broken escape kept literally. */
		if (d->nheld == 2 && hexval((unsigned char)d->held[1]) >= 0) {
			d->bad++;
			memcpy(out, d->held, 2);
			n = 2;
		}
	} else if (d->nheld > 0) {
		/* End of input is not a hard line break: keep the blanks. */
		memcpy(out, d->held, d->nheld);
		n = d->nheld;
	}
	d->nheld = 0;
	return n;
}

void pn_qp_encoder_init(struct pn_qp_encoder *e, bool binary, const char *eol)
{
	memset(e, 0, sizeof(*e));
	e->binary = binary;
	e->eol = eol ? eol : "\r\n";
}

size_t pn_qp_encoded_max(size_t len)
{
	/* At most 3 characters per byte, a 3-byte soft break per 72 of
	 * them, and held state (blank, CR) from the previous call. */
	return len * 4 + 32;
}

static char *put_eol(const struct pn_qp_encoder *e, char *o)
{
	size_t n = strlen(e->eol);

	memcpy(o, e->eol, n);
	return o + n;
}

static char *soft_break_for(struct pn_qp_encoder *e, size_t width, char *o)
{
	if (e->col + width > QP_CONTENT_MAX) {
		*o++ = '=';
		o = put_eol(e, o);
		e->col = 0;
	}
	return o;
}

static char *put_hex(struct pn_qp_encoder *e, unsigned char c, char *o)
{
	static const char hex[] = "0123456789ABCDEF";

	o = soft_break_for(e, 3, o);
	o[0] = '=';
	o[1] = hex[c >> 4];
	o[2] = hex[c & 15];
	e->col += 3;
	return o + 3;
}

/* Rule 2: printable ASCII except '=' goes literally.  At the start of a
 * line '.' (SMTP dot-stuffing, RFC 5321 4.5.2) and 'F' ("From " mangling
 * by mbox MTAs) are encoded too: without lookahead across calls we
 * cannot tell ".\n" or "From " apart, and encoding them is harmless. */
static char *put_char(struct pn_qp_encoder *e, unsigned char c, char *o)
{
	bool enc = c == '=' || c < 33 || c > 126;

	if (!enc)
		o = soft_break_for(e, 1, o);
	if (enc || (e->col == 0 && (c == '.' || c == 'F')))
		return put_hex(e, c, o);
	*o++ = (char)c;
	e->col++;
	return o;
}

/* A held blank followed by more text on the same line is plain data. */
static char *flush_ws(struct pn_qp_encoder *e, char *o)
{
	if (e->ws) {
		o = soft_break_for(e, 1, o);
		*o++ = e->ws;
		e->col++;
		e->ws = 0;
	}
	return o;
}

/* Rule 3: a blank ending a line is encoded so transports cannot strip
 * it; then the line break itself (rule 4). */
static char *hard_break(struct pn_qp_encoder *e, char *o)
{
	if (e->ws) {
		o = put_hex(e, (unsigned char)e->ws, o);
		e->ws = 0;
	}
	e->col = 0;
	return put_eol(e, o);
}

static char *encode_byte(struct pn_qp_encoder *e, unsigned char c, char *o)
{
	if (!e->binary && e->pending_cr) {
		e->pending_cr = false;
		if (c == '\n')
			return hard_break(e, o);
		o = flush_ws(e, o);
		o = put_hex(e, '\r', o);	/* a lone CR is data */
	}
	if (!e->binary && c == '\r') {
		e->pending_cr = true;
		return o;
	}
	if (!e->binary && c == '\n')
		return hard_break(e, o);
	o = flush_ws(e, o);
	if (c == ' ' || c == '\t') {
		e->ws = (char)c;
		return o;
	}
	return put_char(e, c, o);
}

static bool literal_ok(char c)
{
	return c > ' ' && c < 127 && c != '=';
}

/* Length of the run at in that goes out literally on the current line:
 * printable ASCII except '=', and blanks with such a character right
 * after them; nothing held, not at a line start. */
static size_t literal_run(const struct pn_qp_encoder *e, const char *in,
			  size_t len)
{
	size_t room, n = 0;

	if (e->ws || e->pending_cr || e->col == 0 || e->col >= QP_CONTENT_MAX)
		return 0;
	room = QP_CONTENT_MAX - e->col;
	if (len > room)
		len = room;
	while (n < len) {
		if (literal_ok(in[n]))
			n++;
		else if ((in[n] == ' ' || in[n] == '\t') && n + 1 < len &&
			 literal_ok(in[n + 1]))
			n += 2;
		else
			break;
	}
	return n;
}

size_t pn_qp_encode(struct pn_qp_encoder *e, const char *in, size_t len,
		    char *out)
{
	char *o = out;
	size_t i = 0;

	while (i < len) {
		size_t run = literal_run(e, in + i, len - i);

		if (run > 0) {
			memcpy(o, in + i, run);
			o += run;
			e->col += run;
			i += run;
		} else {
			o = encode_byte(e, (unsigned char)in[i++], o);
		}
	}
	return (size_t)(o - out);
}

size_t pn_qp_encode_finish(struct pn_qp_encoder *e, char *out)
{
	char *o = out;

	if (e->pending_cr) {
		e->pending_cr = false;
		o = flush_ws(e, o);
		o = put_hex(e, '\r', o);
	}
	if (e->ws) {
		/* A blank at the very end is trailing too. */
		o = put_hex(e, (unsigned char)e->ws, o);
		e->ws = 0;
	}
	return (size_t)(o - out);
}
