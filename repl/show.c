/* show.c - what the console prints of a response.
 *
 * Raw mode prints the wire text exactly (literals included, byte for
 * byte).  On a terminal every byte from the server passes the terminal
 * sanitiser, the tag, status, response codes and flags get colours (none
 * under NO_COLOR), and a literal that is binary or long is summarised as
 * "{48213 bytes, base64, image/png}" unless .show full; every literal of
 * the last command is kept in a spool for .save.
 */
#include "repl_p.h"

#include <errno.h>
#include <magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/base64.h"
#include "../lib/buf.h"
#include "../lib/safefile.h"
#include "../lib/utf8.h"

const char *repl_c(const struct repl *r, const char *code)
{
	static const struct {
		const char *name, *seq;
	} colors[] = {
		{ "tag", "\033[36m" },	{ "ok", "\033[32m" },
		{ "no", "\033[33m" },	{ "bad", "\033[1;31m" },
		{ "code", "\033[35m" }, { "flag", "\033[34m" },
		{ "dim", "\033[2m" },	{ "bold", "\033[1m" },
		{ "lit", "\033[2;3m" }, { "reset", "\033[0m" },
	};
	size_t i;

	if (!r->color)
		return "";
	for (i = 0; i < sizeof(colors) / sizeof(*colors); i++) {
		if (strcmp(colors[i].name, code) == 0)
			return colors[i].seq;
	}
	return "";
}

static void vprint_line(struct repl *r, FILE *f, const char *color,
			const char *fmt, va_list ap)
{
	struct pn_buf raw, safe;

	pn_buf_init(&raw, 0);
	pn_buf_init(&safe, 0);
	if (pn_buf_vprintf(&raw, fmt, ap) == 0 &&
	    pn_sanitize_term(raw.data ? raw.data : "", raw.len,
			     PN_SAN_KEEP_NEWLINE | PN_SAN_KEEP_TAB, &safe) == 0)
		fprintf(f, "%s%s%s\n", repl_c(r, color),
			safe.data ? safe.data : "", repl_c(r, "reset"));
	pn_buf_free(&raw);
	pn_buf_free(&safe);
}

/* A line of the console's own (not the server's). */
void repl_note(struct repl *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_line(r, r->out, "dim", fmt, ap);
	va_end(ap);
	fflush(r->out);
}

void repl_errorf(struct repl *r, const char *fmt, ...)
{
	va_list ap;

	fflush(r->out);
	va_start(ap, fmt);
	vprint_line(r, stderr, "bad", fmt, ap);
	va_end(ap);
}

/* ---- the spool of literals ------------------------------------------- */

void repl_lits_reset(struct repl *r)
{
	r->nlits = 0;
	r->spool_end = 0;
	r->streamed_seen = 0;
	if (r->spool >= 0 && ftruncate(r->spool, 0) < 0)
		r->spool_end = 0;
}

static int spool_open(struct repl *r)
{
	char path[] = "/tmp/postern-repl-XXXXXX";
	const char *dir = getenv("TMPDIR");
	char buf[4096];

	if (r->spool >= 0)
		return 0;
	if (dir && dir[0]) {
		snprintf(buf, sizeof(buf), "%s/postern-repl-XXXXXX", dir);
		r->spool = mkstemp(buf);
		if (r->spool >= 0)
			unlink(buf);
	}
	if (r->spool < 0) {
		r->spool = mkstemp(path);
		if (r->spool >= 0)
			unlink(path);
	}
	return r->spool < 0 ? -1 : 0;
}

static struct repl_lit *lit_new(struct repl *r, bool streamed)
{
	struct repl_lit *v;

	if (r->nlits == r->litcap) {
		size_t cap = r->litcap ? 2 * r->litcap : 8;

		v = realloc(r->lits, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->lits = v;
		r->litcap = cap;
	}
	v = &r->lits[r->nlits++];
	v->off = r->spool_end;
	v->len = 0;
	v->streamed = streamed;
	return v;
}

static int spool_write(struct repl *r, const char *data, size_t len)
{
	if (len && (lseek(r->spool, (off_t)r->spool_end, SEEK_SET) < 0 ||
		    pn_write_all(r->spool, data, len) < 0))
		return -1;
	r->spool_end += len;
	return 0;
}

int repl_lit_add(struct repl *r, const char *data, size_t len, bool streamed)
{
	struct repl_lit *l;

	if (spool_open(r) < 0 || !(l = lit_new(r, streamed)))
		return -1;
	if (spool_write(r, data, len) < 0)
		return -1;
	l->len = len;
	return 0;
}

int repl_lit_begin_stream(struct repl *r)
{
	if (spool_open(r) < 0 || !lit_new(r, true))
		return -1;
	return 0;
}

int repl_lit_stream_data(struct repl *r, const char *data, size_t len)
{
	if (!r->nlits || spool_write(r, data, len) < 0)
		return -1;
	r->lits[r->nlits - 1].len += len;
	return 0;
}

void repl_lit_end_stream(struct repl *r)
{
	(void)r;
}

/* Copy a spooled literal to f. */
static void spool_copy(struct repl *r, const struct repl_lit *l, FILE *f)
{
	char buf[65536];
	uint64_t done = 0;
	ssize_t n;

	while (done < l->len) {
		size_t want = l->len - done < sizeof(buf) ?
			(size_t)(l->len - done) : sizeof(buf);

		n = pread(r->spool, buf, want, (off_t)(l->off + done));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, f);
		done += (uint64_t)n;
	}
}

/* The first bytes of a spooled literal (for its summary). */
static size_t spool_head(struct repl *r, const struct repl_lit *l, char *buf,
			 size_t sz)
{
	ssize_t n = pread(r->spool, buf, l->len < sz ? (size_t)l->len : sz,
			  (off_t)l->off);

	return n > 0 ? (size_t)n : 0;
}

/* ---- describing a literal --------------------------------------------- */

static bool looks_base64(const char *d, size_t len)
{
	size_t i, alpha = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/')
			alpha++;
		else if (c != '=' && c != '\r' && c != '\n')
			return false;
	}
	return alpha >= 16;
}

void repl_describe(struct repl *r, const char *data, size_t len, char *out,
		   size_t outsz)
{
	char dec[PN_B64_DECODED_MAX(4096)];
	const char *type = NULL;
	struct pn_b64_decoder d;
	size_t n = len < 4096 ? len : 4096;
	bool b64 = looks_base64(data, n);

	if (r->magic) {
		if (b64) {
			pn_b64_decoder_init(&d);
			n = pn_b64_decode(&d, data, n, dec);
			type = magic_buffer(r->magic, dec, n);
		} else {
			type = magic_buffer(r->magic, data, n);
		}
	}
	snprintf(out, outsz, "%s%s%s", b64 ? "base64" : "",
		 b64 && type ? ", " : "", type ? type : (b64 ? "" : "data"));
}

static bool showable(const char *d, size_t len)
{
	size_t i;

	if (len > REPL_SHOW_MAX || !pn_utf8_valid(d, len))
		return false;
	for (i = 0; i < len; i++) {
		if (d[i] == 0)
			return false;
	}
	return true;
}

/* ---- printing ------------------------------------------------------------ */

static void put_safe(struct repl *r, const char *s, size_t len)
{
	struct pn_buf b;

	pn_buf_init(&b, 0);
	if (pn_sanitize_term(s, len, PN_SAN_KEEP_NEWLINE | PN_SAN_KEEP_TAB,
			     &b) == 0 && b.len)
		fwrite(b.data, 1, b.len, r->out);
	pn_buf_free(&b);
}

/* Text of a response with colours: the tag and status word, [codes] and
 * \Flags; the rest as it is (sanitised). */
static void put_text(struct repl *r, const char *s, size_t len, bool first)
{
	size_t i = 0, j;

	if (first && len) {
		j = strcspn(s, " ");
		if (j > len)
			j = len;
		fputs(repl_c(r, "tag"), r->out);
		put_safe(r, s, j);
		fputs(repl_c(r, "reset"), r->out);
		i = j;
		if (i < len && s[i] == ' ') {
			const char *w = s + i + 1;
			size_t wl = strcspn(w, " ");
			const char *col = NULL;

			if (wl == 2 && !strncasecmp(w, "OK", 2))
				col = "ok";
			else if (wl == 2 && !strncasecmp(w, "NO", 2))
				col = "no";
			else if ((wl == 3 && !strncasecmp(w, "BAD", 3)) ||
				 (wl == 3 && !strncasecmp(w, "BYE", 3)))
				col = "bad";
			if (col && (size_t)(w - s) + wl <= len) {
				fputc(' ', r->out);
				fputs(repl_c(r, col), r->out);
				put_safe(r, w, wl);
				fputs(repl_c(r, "reset"), r->out);
				i = (size_t)(w - s) + wl;
			}
		}
	}
	while (i < len) {
		if (s[i] == '[' && (j = i + strcspn(s + i, "]")) < len) {
			fputs(repl_c(r, "code"), r->out);
			put_safe(r, s + i, j - i + 1);
			fputs(repl_c(r, "reset"), r->out);
			i = j + 1;
		} else if (s[i] == '\\' && i + 1 < len &&
			   ((s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
			    (s[i + 1] >= 'a' && s[i + 1] <= 'z'))) {
			j = i + 1;
			while (j < len && !strchr(" )]\r\n", s[j]))
				j++;
			fputs(repl_c(r, "flag"), r->out);
			put_safe(r, s + i, j - i);
			fputs(repl_c(r, "reset"), r->out);
			i = j;
		} else {
			j = i + 1;
			while (j < len && s[j] != '[' && s[j] != '\\')
				j++;
			put_safe(r, s + i, j - i);
			i = j;
		}
	}
}

/* "{123}\r\n" or "~{123}\r\n" at p: its size and length. */
static bool literal_marker(const char *p, const char *end, uint64_t *n,
			   size_t *mlen)
{
	const char *q = p;

	if (q < end && *q == '~')
		q++;
	if (q >= end || *q != '{')
		return false;
	q++;
	*n = 0;
	if (q >= end || *q < '0' || *q > '9')
		return false;
	while (q < end && *q >= '0' && *q <= '9') {
		if (*n > UINT64_MAX / 10)
			return false;
		*n = *n * 10 + (uint64_t)(*q++ - '0');
	}
	if (end - q < 3 || q[0] != '}' || q[1] != '\r' || q[2] != '\n')
		return false;
	*mlen = (size_t)(q + 3 - p);
	return true;
}

static void show_literal(struct repl *r, const struct repl_lit *l,
			 const char *inline_data, bool binary)
{
	char head[4096], what[160];
	size_t n;

	if (!r->pretty) {
		fprintf(r->out, "%s{%llu}\r\n", binary ? "~" : "",
			(unsigned long long)l->len);
		if (inline_data)
			fwrite(inline_data, 1, (size_t)l->len, r->out);
		else
			spool_copy(r, l, r->out);
		return;
	}
	n = inline_data ? (l->len < sizeof(head) ? (size_t)l->len : sizeof(head)) :
		spool_head(r, l, head, sizeof(head));
	if (inline_data)
		memcpy(head, inline_data, n);
	if (r->show_full || (l->len <= REPL_SHOW_MAX && showable(head, n))) {
		fprintf(r->out, "%s%s{%llu}%s\n", repl_c(r, "dim"),
			binary ? "~" : "", (unsigned long long)l->len,
			repl_c(r, "reset"));
		if (inline_data) {
			put_safe(r, inline_data, (size_t)l->len);
		} else {
			struct repl_lit part = *l;
			char buf[65536];

			while (part.len) {
				size_t k = spool_head(r, &part, buf, sizeof(buf));

				if (!k)
					break;
				put_safe(r, buf, k);
				part.off += k;
				part.len -= k;
			}
		}
		return;
	}
	repl_describe(r, head, n, what, sizeof(what));
	fprintf(r->out, "%s{%llu bytes, %s}%s", repl_c(r, "lit"),
		(unsigned long long)l->len, what, repl_c(r, "reset"));
}

void repl_show_response(struct repl *r, const struct imap_response *resp,
			double elapsed_ms)
{
	const char *p = resp->raw, *end = resp->raw + resp->raw_len, *q;
	bool first = true;
	uint64_t n = 0;
	size_t mlen = 0;

	if (r->quiet)
		return;
	/* The wire's CRLF ends the line in raw mode; a terminal gets LF. */
	if (r->pretty) {
		if (end > p && end[-1] == '\n')
			end--;
		if (end > p && end[-1] == '\r')
			end--;
	}
	while (p < end) {
		/* the next literal marker: "{" preceded by nothing special */
		for (q = p; q < end; q++) {
			if ((*q == '{' || *q == '~') &&
			    literal_marker(q, end, &n, &mlen))
				break;
		}
		if (r->pretty)
			put_text(r, p, (size_t)(q - p), first);
		else
			fwrite(p, 1, (size_t)(q - p), r->out);
		first = false;
		if (q >= end)
			break;
		{
			bool binary = *q == '~';
			const char *data = q + mlen;
			struct repl_lit *l = NULL;

			if (n <= REPL_INLINE_MAX && (uint64_t)(end - data) >= n) {
				/* inside the response */
				if (repl_lit_add(r, data, (size_t)n, false) == 0)
					l = &r->lits[r->nlits - 1];
				if (l)
					show_literal(r, l, data, binary);
				p = data + n;
			} else {
				/* it went through the literal sink */
				size_t k;

				for (k = r->streamed_seen; k < r->nlits; k++) {
					if (r->lits[k].streamed)
						break;
				}
				if (k < r->nlits) {
					l = &r->lits[k];
					r->streamed_seen = k + 1;
					show_literal(r, l, NULL, binary);
				} else {
					fprintf(r->out, "{%llu}",
						(unsigned long long)n);
				}
				p = data;
			}
		}
	}
	/* A mailbox name in modified UTF-7, as a human reads it. */
	if (r->pretty && resp->name && (!strcmp(resp->name, "LIST") ||
					!strcmp(resp->name, "LSUB"))) {
		struct imap_list_entry e;

		if (imap_list_decode(resp, false, &e, NULL) == 0 && e.name &&
		    e.raw_name && strcmp(e.name, e.raw_name) != 0) {
			fprintf(r->out, "  %s= ", repl_c(r, "dim"));
			put_safe(r, e.name, strlen(e.name));
			fputs(repl_c(r, "reset"), r->out);
		}
	}
	if (r->pretty && elapsed_ms >= 0 && r->timing)
		fprintf(r->out, "  %s(%.1f ms)%s", repl_c(r, "dim"), elapsed_ms,
			repl_c(r, "reset"));
	if (r->pretty)
		fputc('\n', r->out);
	else if (resp->raw_len < 1 || resp->raw[resp->raw_len - 1] != '\n')
		fputs("\r\n", r->out);
	fflush(r->out);
}
