#include "base64.h"

#include <string.h>

/* Decoding table: 0-63 alphabet value, SKIP_WS whitespace (RFC 2045 6.8
 * line breaks and the blanks that transports add), PAD '=', JUNK for
 * everything else.  All three markers have bit 6 or 7 set, so the fast
 * loop tests four lookups with one OR. */
#define SKIP_WS 0x40
#define PAD 0x41
#define JUNK 0xff

static const unsigned char dtab[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x00 */
	0xff, 0x40, 0x40, 0x40, 0x40, 0x40, 0xff, 0xff,	/* 0x08 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x10 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x18 */
	0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x20 */
	0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,	/* 0x28 */
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,	/* 0x30 */
	0x3c, 0x3d, 0xff, 0xff, 0xff, 0x41, 0xff, 0xff,	/* 0x38 */
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,	/* 0x40 */
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,	/* 0x48 */
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,	/* 0x50 */
	0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x58 */
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,	/* 0x60 */
	0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,	/* 0x68 */
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,	/* 0x70 */
	0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x78 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x80 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x88 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x90 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0x98 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xa0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xa8 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xb0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xb8 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xc0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xc8 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xd0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xd8 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xe0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xe8 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xf0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 0xf8 */
};

static const char etab[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void pn_b64_decoder_init(struct pn_b64_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

/* Emit the bytes of a quantum cut short by padding or end of input:
 * 2 sextets give 1 byte, 3 give 2 (RFC 4648 4, final quantum). */
static size_t flush_partial(struct pn_b64_decoder *d, char *out)
{
	if (d->nchars == 2) {
		out[0] = (char)(d->acc >> 4);
		return 1;
	}
	if (d->nchars == 3) {
		out[0] = (char)(d->acc >> 10);
		out[1] = (char)(d->acc >> 2);
		return 2;
	}
	return 0;
}

/* One '=': the first one ends the quantum early and releases its bytes;
 * further ones complete it.  '=' where no padding can be is junk. */
static size_t take_pad(struct pn_b64_decoder *d, char *out)
{
	size_t n = 0;

	if (d->npad == 0 && d->nchars >= 2) {
		n = flush_partial(d, out);
		d->npad = 1;
	} else if (d->npad > 0 && d->nchars > 0) {
		d->npad++;
	} else {
		d->bad++;
		return 0;
	}
	if (d->nchars + d->npad == 4) {
		/* Quantum complete; npad stays set to mark "after padding". */
		d->nchars = 0;
		d->acc = 0;
	}
	return n;
}

/* One byte that the fast loop could not take. */
static size_t slow_byte(struct pn_b64_decoder *d, unsigned char c, char *out)
{
	unsigned v = dtab[c];

	if (v == SKIP_WS)
		return 0;
	if (v == PAD)
		return take_pad(d, out);
	if (v == JUNK) {
		d->bad++;
		return 0;
	}
	if (d->npad > 0) {
		/* Data after padding: a concatenated block (base64.h). */
		d->bad++;
		d->npad = 0;
		d->nchars = 0;
		d->acc = 0;
	}
	d->acc = d->acc << 6 | v;
	if (++d->nchars < 4)
		return 0;
	out[0] = (char)(d->acc >> 16);
	out[1] = (char)(d->acc >> 8);
	out[2] = (char)d->acc;
	d->nchars = 0;
	d->acc = 0;
	return 3;
}

/* Whole quanta of four alphabet characters, the common case between
 * line breaks.  Returns the bytes written; *pp stops at the first byte
 * that needs the slow path. */
static size_t fast_quanta(const unsigned char **pp, const unsigned char *end,
			  char *out)
{
	const unsigned char *p = *pp;
	char *o = out;

	while (end - p >= 4) {
		unsigned a = dtab[p[0]], b = dtab[p[1]];
		unsigned c = dtab[p[2]], e = dtab[p[3]];
		uint32_t v;

		if ((a | b | c | e) & 0xc0)
			break;
		v = a << 18 | b << 12 | c << 6 | e;
		o[0] = (char)(v >> 16);
		o[1] = (char)(v >> 8);
		o[2] = (char)v;
		o += 3;
		p += 4;
	}
	*pp = p;
	return (size_t)(o - out);
}

size_t pn_b64_decode(struct pn_b64_decoder *d, const char *in, size_t len,
		     char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + len;
	/* A local copy: stores through o may alias *d, which would force
	 * the fast loop to reload the state for every quantum. */
	struct pn_b64_decoder st = *d;
	char *o = out;

	while (p < end) {
		if (st.nchars == 0 && st.npad == 0)
			o += fast_quanta(&p, end, o);
		if (p < end)
			o += slow_byte(&st, *p++, o);
	}
	*d = st;
	return (size_t)(o - out);
}

size_t pn_b64_decode_finish(struct pn_b64_decoder *d, char *out,
			    bool *truncated_out)
{
	size_t n = 0;
	bool trunc = false;

	if (d->npad == 0) {
		n = flush_partial(d, out);
		trunc = d->nchars == 1;
	}
	if (truncated_out)
		*truncated_out = trunc;
	/* Ready for a new stream, but `bad` stays readable after the end
	 * (callers record the defect once everything is decoded). */
	d->acc = 0;
	d->nchars = 0;
	d->npad = 0;
	return n;
}

void pn_b64_encoder_init(struct pn_b64_encoder *e, size_t line_len,
			 const char *eol)
{
	memset(e, 0, sizeof(*e));
	/* Lines hold whole quanta, so a break never splits one and the final
	 * padding never needs a break of its own: round down to a multiple
	 * of 4 (76 stays 76, the RFC 2045 6.8 maximum). */
	if (line_len > 0 && line_len < 4)
		line_len = 4;
	e->line_len = line_len / 4 * 4;
	e->eol = eol ? eol : "\r\n";
}

size_t pn_b64_encoded_max(const struct pn_b64_encoder *e, size_t n)
{
	size_t chars = (n + (size_t)e->npend) / 3 * 4 + 4;
	size_t eols = e->line_len ? chars / e->line_len + 1 : 0;

	return chars + eols * strlen(e->eol);
}

static size_t put_quantum(struct pn_b64_encoder *e, const unsigned char *q,
			  int n, char *o)
{
	uint32_t v = (uint32_t)q[0] << 16;
	size_t k = 4;

	if (n > 1)
		v |= (uint32_t)q[1] << 8;
	if (n > 2)
		v |= q[2];
	o[0] = etab[v >> 18 & 63];
	o[1] = etab[v >> 12 & 63];
	o[2] = n > 1 ? etab[v >> 6 & 63] : '=';
	o[3] = n > 2 ? etab[v & 63] : '=';
	e->col += 4;
	if (e->line_len && e->col >= e->line_len) {
		size_t el = strlen(e->eol);

		memcpy(o + 4, e->eol, el);
		k += el;
		e->col = 0;
	}
	return k;
}

size_t pn_b64_encode(struct pn_b64_encoder *e, const char *in, size_t len,
		     char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end = p + len;
	char *o = out;

	while (e->npend > 0 && e->npend < 3 && p < end)
		e->pend[e->npend++] = *p++;
	if (e->npend == 3) {
		o += put_quantum(e, e->pend, 3, o);
		e->npend = 0;
	}
	while (end - p >= 3) {
		o += put_quantum(e, p, 3, o);
		p += 3;
	}
	while (p < end)
		e->pend[e->npend++] = *p++;
	return (size_t)(o - out);
}

size_t pn_b64_encode_finish(struct pn_b64_encoder *e, char *out)
{
	size_t n = 0;

	if (e->npend > 0) {
		n = put_quantum(e, e->pend, e->npend, out);
		e->npend = 0;
	}
	if (e->line_len && e->col > 0) {
		size_t el = strlen(e->eol);

		memcpy(out + n, e->eol, el);
		n += el;
		e->col = 0;
	}
	return n;
}
