/* trace.c - the wire conversation, timestamped and redacted.
 *
 *   12:00:01.234 C: a1 LOGIN alice <redacted>
 *   12:00:01.240 S: a1 OK Logged in
 *
 * Secrets never reach the file: LOGIN and AUTHENTICATE lines go through
 * imap_redact_line, and the literals and continuation lines of a
 * sensitive command are replaced by "<redacted>".  Large literals are
 * summarised ("{48213 bytes}"): a trace is for reading.
 */
#include "imap_p.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Literals up to this size are shown; larger ones summarised. */
#define TRACE_LITERAL_MAX 256

static bool tracing(const struct imap_conn *c)
{
	return c && c->set.trace_fd >= 0;
}

static void stamp(struct pn_buf *b, const char *dir)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	if (pn_buf_printf(b, "%02d:%02d:%02d.%03d %s", tm.tm_hour, tm.tm_min,
			  tm.tm_sec, (int)(tv.tv_usec / 1000), dir) < 0)
		pn_buf_reset(b);
}

/* Best effort: a trace that cannot be written must not stop the mail. */
static void emit(struct imap_conn *c, struct pn_buf *b)
{
	size_t off = 0;

	if (pn_buf_addc(b, '\n') < 0)
		return;
	while (off < b->len) {
		ssize_t n = write(c->set.trace_fd, b->data + off, b->len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

/* Control characters would garble the trace (and a terminal showing it). */
static int add_visible(struct pn_buf *b, const char *s, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		if (ch == '\n')
			rc = pn_buf_adds(b, "\\n");
		else if (ch < 0x20 || ch == 0x7f)
			rc = pn_buf_printf(b, "\\x%02x", ch);
		else
			rc = pn_buf_addc(b, (char)ch);
	}
	return rc;
}

void imap_trace_client(struct imap_conn *c, const char *line, size_t len,
		       bool sensitive)
{
	struct pn_buf b = { 0 }, red = { 0 };
	bool is_cont;

	if (!tracing(c))
		return;
	/* A sensitive command's own line is redacted by its syntax; lines
	 * that are not tagged commands (SASL responses) entirely. */
	is_cont = !line || !memchr(line, ' ', len);
	stamp(&b, "C: ");
	if (!line || (sensitive && is_cont && !(len == 1 && line[0] == '*')))
		(void)!pn_buf_adds(&b, "<redacted>");
	else if (imap_redact_line(line, len, sensitive && is_cont, &red) == 0)
		(void)!add_visible(&b, red.data ? red.data : "", red.len);
	else
		(void)!pn_buf_adds(&b, "<unredactable line>");
	emit(c, &b);
	pn_buf_free(&b);
	pn_buf_free(&red);
}

void imap_trace_literal(struct imap_conn *c, const void *data, uint64_t len,
			bool sensitive)
{
	struct pn_buf b = { 0 };

	if (!tracing(c))
		return;
	stamp(&b, "C: ");
	if (sensitive)
		(void)!pn_buf_adds(&b, "<redacted>");
	else if (data && len <= TRACE_LITERAL_MAX)
		(void)!add_visible(&b, data, (size_t)len);
	else
		(void)!pn_buf_printf(&b, "{%llu bytes}",
				     (unsigned long long)len);
	emit(c, &b);
	pn_buf_free(&b);
}

/* The literal announced by "{n}\r\n" ending at p[-1], or -1. */
static int64_t literal_before(const char *start, const char *p)
{
	const char *q = p - 3;
	int64_t n = 0, mul = 1;

	if (p - start < 4 || p[-1] != '\n' || p[-2] != '\r' || p[-3] != '}')
		return -1;
	while (q > start && q[-1] >= '0' && q[-1] <= '9' && mul < 1000000000000LL) {
		n += (q[-1] - '0') * mul;
		mul *= 10;
		q--;
	}
	return q > start && q[-1] == '{' && q < p - 3 ? n : -1;
}

/* raw has the inline literals' bytes; streamed ones are absent, so a
 * literal longer than what is left was streamed. */
static void add_raw(struct pn_buf *b, const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len, *nl;
	int64_t lit;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl + 1 : end;
		(void)!add_visible(b, p, (size_t)(nl - p));
		lit = literal_before(raw, nl);
		p = nl;
		if (lit < 0)
			continue;
		if (lit <= TRACE_LITERAL_MAX && end - p >= lit) {
			(void)!add_visible(b, p, (size_t)lit);
			p += lit;
			continue;
		}
		(void)!pn_buf_printf(b, "{%lld bytes}", (long long)lit);
		if (end - p >= lit)
			p += lit;
	}
}

void imap_trace_server(struct imap_conn *c, const struct imap_response *r)
{
	struct pn_buf b = { 0 };
	size_t len = r->raw ? r->raw_len : 0;

	if (!tracing(c))
		return;
	if (len >= 2 && r->raw[len - 2] == '\r' && r->raw[len - 1] == '\n')
		len -= 2;
	stamp(&b, "S: ");
	add_raw(&b, r->raw ? r->raw : "", len);
	emit(c, &b);
	pn_buf_free(&b);
}

void imap_trace_note(struct imap_conn *c, const char *fmt, ...)
{
	struct pn_buf b = { 0 };
	va_list ap;

	if (!tracing(c))
		return;
	stamp(&b, "-- ");
	va_start(ap, fmt);
	(void)!pn_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit(c, &b);
	pn_buf_free(&b);
}
