/* rfc2047.c - decoding RFC 2047 encoded words in header text.
 *
 * Lenient where real mail is: words glued to text or punctuation
 * ("foo=?utf-8?q?bar?=") are decoded, as Python's email package does;
 * encoded-text may contain spaces; "charset*language" (RFC 2231 section 5)
 * is accepted.  A word that does not decode stays as literal text and is
 * counted as a defect.  The encoder lives in fold.c, next to the folding
 * it has to cooperate with.
 */
#include "mime_p.h"

#include <string.h>
#include <strings.h>

#include "../lib/base64.h"

#define CHARSET_MAX 64

struct word {
	char charset[CHARSET_MAX];	/* lower-case, language removed */
	char enc;			/* 'b' or 'q' */
	const char *text;
	size_t text_len;
	size_t len;			/* of the whole "=?...?=" */
};

/* Scan "=?charset?enc?text?=" at s (RFC 2047 section 2).  Returns 1 for
 * a word, 0 when s does not start one, -1 for a word-shaped run with an
 * unknown encoding or bytes that may not be there (a defect).  Decoding
 * the text may still fail. */
static int word_scan(const char *s, size_t len, struct word *w)
{
	size_t i = 2, cs = 0;
	bool bad = false;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (; i < len && s[i] != '?'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || cs + 1 >= CHARSET_MAX)
			return 0;
		w->charset[cs++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	w->charset[cs] = '\0';
	/* RFC 2231 section 5: charset*language. */
	if (strchr(w->charset, '*'))
		*strchr(w->charset, '*') = '\0';
	if (w->charset[0] == '\0' || i + 3 >= len || s[i + 2] != '?')
		return 0;
	w->enc = (char)(s[i + 1] | 0x20);
	bad = w->enc != 'b' && w->enc != 'q';
	w->text = s + i + 3;
	for (i += 3; i < len && s[i] != '?'; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
			bad = true;
	if (i + 1 >= len || s[i + 1] != '=')
		return 0;
	w->text_len = (size_t)(s + i - w->text);
	w->len = i + 2;
	return bad ? -1 : 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2047 4.2: '_' is a space, =XX a byte.  A stray '=' is kept as it
 * is (counted as a defect): the rest of the word is still good text. */
static int q_decode(const struct word *w, struct pn_buf *out, unsigned *bad)
{
	for (size_t i = 0; i < w->text_len; i++) {
		char c = w->text[i];
		int hi, lo;

		if (c == '_') {
			c = ' ';
		} else if (c == '=') {
			hi = i + 2 < w->text_len ? hexval(w->text[i + 1]) : -1;
			lo = hi >= 0 ? hexval(w->text[i + 2]) : -1;
			if (lo >= 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
			} else {
				(*bad)++;
			}
		}
		if (pn_buf_addc(out, c) < 0)
			return -1;
	}
	return 0;
}

/* RFC 2047 4.1.  Missing padding is forgiven; junk or a dangling sextet
 * makes the word malformed (returns 1, out unchanged). */
static int b_decode(const struct word *w, struct pn_buf *out)
{
	struct pn_b64_decoder d;
	size_t n, start = out->len;
	bool truncated = false;
	uint64_t bad;

	pn_b64_decoder_init(&d);
	if (pn_buf_reserve(out, PN_B64_DECODED_MAX(w->text_len) + 3) < 0)
		return -1;
	n = pn_b64_decode(&d, w->text, w->text_len, out->data + out->len);
	out->len += n;
	bad = d.bad;	/* finish resets the decoder */
	n = pn_b64_decode_finish(&d, out->data + out->len, &truncated);
	out->len += n;
	out->data[out->len] = '\0';
	if (bad || truncated || memchr(w->text, ' ', w->text_len)) {
		out->len = start;
		out->data[start] = '\0';
		return 1;
	}
	return 0;
}

/* Decoding state: bytes of adjacent words in one charset wait in pend so
 * a character split across two words (RFC 2047 section 5 forbids it, but
 * mailers do it) is converted whole. */
struct dec {
	struct pn_buf *out;
	unsigned defects;
	struct pn_buf pend;
	char pend_cs[CHARSET_MAX];
	bool have_pend;
};

static int flush(struct dec *d)
{
	bool bad = false;

	if (!d->have_pend)
		return 0;
	d->have_pend = false;
	if (mime_charset_to_utf8(d->pend_cs, d->pend.data ? d->pend.data : "",
				 d->pend.len, d->out, &bad) < 0)
		return -1;
	if (bad)
		d->defects++;
	pn_buf_reset(&d->pend);
	return 0;
}

/* Literal text between words: raw 8-bit bytes are UTF-8 when valid, else
 * Latin-1 (RFC 6532 allows UTF-8; anything else is a guess). */
static int literal(struct dec *d, const char *s, size_t len)
{
	bool bad = false;

	if (len == 0)
		return 0;
	if (flush(d) < 0 ||
	    mime_charset_to_utf8(NULL, s, len, d->out, &bad) < 0)
		return -1;
	if (bad)
		d->defects++;
	return 0;
}

static bool all_wsp(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* The bytes of one scanned word into tmp.  1: malformed, leave it as
 * text. */
static int word_bytes(const struct word *w, struct pn_buf *tmp,
		      unsigned *bad)
{
	return w->enc == 'q' ? q_decode(w, tmp, bad) : b_decode(w, tmp);
}

static int pend_add(struct dec *d, const struct word *w,
		    const struct pn_buf *tmp)
{
	if (d->have_pend && strcmp(d->pend_cs, w->charset) != 0 &&
	    flush(d) < 0)
		return -1;
	if (pn_buf_add(&d->pend, tmp->data ? tmp->data : "", tmp->len) < 0)
		return -1;
	memcpy(d->pend_cs, w->charset, sizeof(d->pend_cs));
	d->have_pend = true;
	return 0;
}

static int decode(struct dec *d, const char *raw, size_t len,
		  struct pn_buf *tmp)
{
	size_t i = 0, text = 0;
	unsigned bad = 0;
	struct word w;
	int r;

	while (i < len) {
		r = raw[i] == '=' ? word_scan(raw + i, len - i, &w) : 0;
		if (r == 0) {
			i++;
			continue;
		}
		pn_buf_reset(tmp);
		if (r > 0)
			r = word_bytes(&w, tmp, &bad);
		else
			r = 1;
		if (r < 0)
			return -1;
		if (r > 0) {
			d->defects++;	/* stays part of the literal text */
			i++;
			continue;
		}
		/* RFC 2047 6.2: whitespace between two words is dropped. */
		if (!(d->have_pend && all_wsp(raw + text, i - text)) &&
		    literal(d, raw + text, i - text) < 0)
			return -1;
		if (pend_add(d, &w, tmp) < 0)
			return -1;
		i += w.len;
		text = i;
	}
	d->defects += bad;
	if (literal(d, raw + text, len - text) < 0)
		return -1;
	return flush(d);
}

int mime_decode_header(const char *raw, size_t len, struct pn_buf *out,
		       unsigned *defects_out)
{
	struct dec d = { .out = out };
	struct pn_buf tmp = { 0 };
	int r;

	r = decode(&d, raw, len, &tmp);
	pn_buf_free(&d.pend);
	pn_buf_free(&tmp);
	if (defects_out)
		*defects_out = d.defects;
	if (r == 0 && pn_buf_add(out, "", 0) < 0)	/* "" when empty */
		r = -1;
	return r;
}
