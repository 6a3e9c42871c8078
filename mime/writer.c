/* writer.c - serialising a tree back to bytes.
 *
 * What was parsed and not changed is copied from the source byte for
 * byte: a whole untouched part at once, or, below a part whose descendant
 * changed, the stretches between the changed pieces (header block,
 * preamble and delimiter lines, close delimiter and epilogue).  What
 * changed is generated: API fields through mime_header_format, bodies
 * from part->body or streamed and encoded from part->body_path, and new
 * delimiter lines with a boundary that does not occur in the content.
 *
 * Line endings: with opts->eol NULL, copied bytes stay as they are and
 * generated ones use the message's line ending; with "\r\n" or "\n" every
 * line ending is made that, except inside binary bodies.
 */
#include "mime_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../lib/base64.h"
#include "../lib/qp.h"

#define OUT_BUF 65536
#define FILE_CHUNK 49152	/* a multiple of 3: base64 quanta stay whole */
#define BOUNDARY_PREFIX "=_postern_"
#define BOUNDARY_MAX 70		/* RFC 2046 5.1.1 */

/* Multiparts whose boundary was checked against their content during this
 * write, so nested ones are not scanned again for every ancestor. */
struct checked {
	const struct mime_part **v;
	size_t n, cap;
};

struct writer {
	mime_sink_fn fn;
	void *ctx;
	struct pn_error *err;
	const char *force_eol;	/* opts->eol, NULL to keep source bytes */
	bool pending_cr;	/* a CR at the end of the last text stretch */
	bool named;		/* err already names the failing part */
	bool skip_encoded;	/* scanning for a boundary of ours: base64 and
				   quoted-printable cannot contain it */
	struct checked *checked;
	struct pn_buf fmt;	/* scratch for formatted fields */
	size_t nout;
	char out[OUT_BUF];
};

static int write_part(struct writer *w, struct mime_part *part,
		      unsigned depth);

/* By type alone, as email6 asks get_content_maintype(): a built multipart
 * has no boundary until it is written. */
static bool multipart_type(const struct mime_part *part)
{
	const char *mt = mime_part_maintype(part);

	return mt && strcmp(mt, "multipart") == 0;
}

/* ---- output -------------------------------------------------------------- */

static int flush(struct writer *w)
{
	size_t n = w->nout;

	w->nout = 0;
	if (n && w->fn(w->ctx, w->out, n) != 0) {
		w->named = true;
		return pn_error_set(w->err, PN_EIO, "output refused");
	}
	return 0;
}

static int put(struct writer *w, const char *data, size_t len)
{
	if (len > sizeof(w->out) - w->nout && flush(w) < 0)
		return -1;
	if (len >= sizeof(w->out)) {
		if (w->fn(w->ctx, data, len) != 0) {
			w->named = true;
			return pn_error_set(w->err, PN_EIO, "output refused");
		}
		return 0;
	}
	memcpy(w->out + w->nout, data, len);
	w->nout += len;
	return 0;
}

static int put_pending(struct writer *w)
{
	if (!w->pending_cr)
		return 0;
	w->pending_cr = false;
	return put(w, "\r", 1);
}

/* Write len bytes; eol NULL: as they are; else each CRLF or LF becomes
 * eol.  A CR at the end is held: the LF may start the next stretch. */
static int emit(struct writer *w, const char *data, size_t len,
		const char *eol)
{
	size_t eol_len, i = 0, start = 0;

	if (!eol)
		return put_pending(w) < 0 ? -1 : put(w, data, len);
	eol_len = strlen(eol);
	if (len && w->pending_cr) {
		w->pending_cr = false;
		if (data[0] == '\n') {
			if (put(w, eol, eol_len) < 0)
				return -1;
			i = start = 1;
		} else if (put(w, "\r", 1) < 0) {
			return -1;
		}
	}
	for (; i < len; i++) {
		bool crlf = data[i] == '\r' && i + 1 < len &&
			    data[i + 1] == '\n';

		if (data[i] == '\r' && i + 1 == len) {
			if (put(w, data + start, i - start) < 0)
				return -1;
			w->pending_cr = true;
			return 0;
		}
		if (data[i] != '\n' && !crlf)
			continue;
		if (put(w, data + start, i - start) < 0 ||
		    put(w, eol, eol_len) < 0)
			return -1;
		i += crlf;
		start = i + 1;
	}
	return put(w, data + start, len - start);
}

static int emit_str(struct writer *w, const char *s)
{
	return emit(w, s, strlen(s), NULL);
}

/* The line ending for what we generate in part. */
static const char *new_eol(const struct writer *w, const struct mime_part *p)
{
	if (w->force_eol)
		return w->force_eol;
	if (p->msg && p->msg->eol)
		return p->msg->eol;
	return "\r\n";
}

static int copy_range(struct writer *w, struct mime_part *part,
		      uint64_t from, uint64_t to, const char *eol)
{
	char buf[65536];

	while (from < to) {
		size_t want = to - from < sizeof(buf) ? to - from : sizeof(buf);
		size_t got = 0;

		if (mime_source_read(part->src, from, buf, want, &got,
				     w->err) < 0)
			return -1;
		if (got == 0)
			return pn_error_set(w->err, PN_EIO,
					    "source ended at byte %llu",
					    (unsigned long long)from);
		if (emit(w, buf, got, eol) < 0)
			return -1;
		from += got;
	}
	return 0;
}

static bool is_binary(const struct mime_part *part)
{
	return mime_part_cte(part) == MIME_CTE_BINARY;
}

/* ---- header fields ------------------------------------------------------- */

static int write_fields(struct writer *w, struct mime_part *part)
{
	const char *eol = new_eol(w, part);

	for (struct mime_header *h = part->headers; h; h = h->next) {
		if (h->raw) {
			if (emit(w, h->raw, h->raw_len, w->force_eol) < 0)
				return -1;
			continue;
		}
		pn_buf_reset(&w->fmt);
		if (mime_header_format(h->name, h->value, eol, &w->fmt) < 0)
			return pn_error_set(w->err, PN_EINVAL,
					    "cannot format header %s", h->name);
		if (emit(w, w->fmt.data, w->fmt.len, NULL) < 0)
			return -1;
	}
	return emit_str(w, eol);
}

/* ---- leaves -------------------------------------------------------------- */

static int encode_chunk(struct writer *w, enum mime_cte cte, void *enc,
			const char *in, size_t n, char *out, const char *eol)
{
	size_t m;

	switch (cte) {
	case MIME_CTE_BASE64:
		m = pn_b64_encode(enc, in, n, out);
		return emit(w, out, m, NULL);
	case MIME_CTE_QP:
		m = pn_qp_encode(enc, in, n, out);
		return emit(w, out, m, NULL);
	case MIME_CTE_BINARY:
		return emit(w, in, n, NULL);
	default:
		return emit(w, in, n, eol);
	}
}

static int encode_finish(struct writer *w, enum mime_cte cte, void *enc,
			 char *out)
{
	if (cte == MIME_CTE_BASE64)
		return emit(w, out, pn_b64_encode_finish(enc, out), NULL);
	if (cte == MIME_CTE_QP)
		return emit(w, out, pn_qp_encode_finish(enc, out), NULL);
	return 0;
}

static int read_some(int fd, char *buf, size_t len, size_t *got)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

/* Stream the file through its encoder: one chunk in memory at a time. */
static int stream_file(struct writer *w, struct mime_part *part, int fd,
		       char *in, char *out)
{
	const char *eol = new_eol(w, part);
	enum mime_cte cte = part->body_path_cte;
	struct pn_b64_encoder b64;
	struct pn_qp_encoder qp;
	void *enc = cte == MIME_CTE_QP ? (void *)&qp : (void *)&b64;
	size_t got;

	pn_b64_encoder_init(&b64, 76, eol);
	pn_qp_encoder_init(&qp, strcmp(mime_part_maintype(part), "text") != 0,
			   eol);
	for (;;) {
		if (read_some(fd, in, FILE_CHUNK, &got) < 0)
			return pn_error_errno(w->err, errno, "read %s",
					      part->body_path);
		if (got == 0)
			break;
		if (encode_chunk(w, cte, enc, in, got, out, eol) < 0)
			return -1;
	}
	return encode_finish(w, cte, enc, out);
}

static int write_file_body(struct writer *w, struct mime_part *part)
{
	char *in = malloc(FILE_CHUNK);
	char *out = malloc(pn_qp_encoded_max(FILE_CHUNK) + FILE_CHUNK);
	int fd, rc = -1;

	if (!in || !out) {
		pn_error_set(w->err, PN_ENOMEM, "out of memory");
		goto done;
	}
	fd = open(part->body_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pn_error_errno(w->err, errno, "open %s", part->body_path);
		goto done;
	}
	rc = stream_file(w, part, fd, in, out);
	close(fd);
done:
	free(in);
	free(out);
	return rc;
}

static bool encoded(enum mime_cte cte)
{
	return cte == MIME_CTE_BASE64 || cte == MIME_CTE_QP;
}

/* A leaf made through the API: part->body holds encoded bytes with LF
 * line breaks (binary as is), or body_path names the file to encode. */
static int write_new_leaf(struct writer *w, struct mime_part *part)
{
	if (part->body_path) {
		if (w->skip_encoded && encoded(part->body_path_cte))
			return 0;
		return write_file_body(w, part);
	}
	if (w->skip_encoded && encoded(mime_part_cte(part)))
		return 0;
	if (!part->body.len)
		return 0;
	return emit(w, part->body.data, part->body.len,
		    is_binary(part) ? NULL : new_eol(w, part));
}

/* ---- boundaries ---------------------------------------------------------- */

/* Looks for a boundary in everything written to it, across chunks. */
struct matcher {
	const char *needle;
	size_t n;
	char tail[BOUNDARY_MAX * 2];
	size_t ntail;
	bool found;
};

static int match_sink(void *ctx, const char *data, size_t len)
{
	struct matcher *m = ctx;
	char joint[BOUNDARY_MAX * 4];
	size_t head = len < m->n - 1 ? len : m->n - 1;

	memcpy(joint, m->tail, m->ntail);
	memcpy(joint + m->ntail, data, head);
	if (memmem(joint, m->ntail + head, m->needle, m->n) ||
	    memmem(data, len, m->needle, m->n)) {
		m->found = true;
		return 1;
	}
	if (len >= m->n - 1) {
		m->ntail = m->n - 1;
		memcpy(m->tail, data + len - m->ntail, m->ntail);
	} else {
		size_t keep = m->ntail + len > m->n - 1 ? m->n - 1 - len
							 : m->ntail;

		memmove(m->tail, m->tail + m->ntail - keep, keep);
		memcpy(m->tail + keep, data, len);
		m->ntail = keep + len;
	}
	return 0;
}

static bool checked_has(const struct checked *c, const struct mime_part *p)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i] == p)
			return true;
	}
	return false;
}

static int checked_add(struct checked *c, const struct mime_part *p)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		const struct mime_part **nv = realloc(c->v, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n++] = p;
	return 0;
}

/* Does boundary occur anywhere in part's children as they will be
 * written?  Ours ("=_postern_...") cannot occur in base64 or
 * quoted-printable text ('=' is always escaped there), so those bodies
 * are skipped; any other boundary is checked against everything. */
static int collides(struct writer *w, struct mime_part *part,
		    const char *boundary, unsigned depth, bool *out)
{
	struct matcher m = { .needle = boundary, .n = strlen(boundary) };
	struct writer *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (!s)
		return pn_error_set(w->err, PN_ENOMEM, "out of memory");
	s->fn = match_sink;
	s->ctx = &m;
	s->err = w->err;
	s->checked = w->checked;
	s->skip_encoded = strncmp(boundary, BOUNDARY_PREFIX,
				  strlen(BOUNDARY_PREFIX)) == 0;
	pn_buf_init(&s->fmt, 0);
	for (struct mime_part *c = part->first_child; c; c = c->next) {
		if (write_part(s, c, depth + 1) < 0) {
			rc = m.found ? 0 : -1;
			break;
		}
	}
	if (rc == 0 && !m.found && (put_pending(s) < 0 || flush(s) < 0))
		rc = m.found ? 0 : -1;
	if (rc < 0)
		w->named = w->named || s->named;
	pn_buf_free(&s->fmt);
	free(s);
	*out = m.found;
	return rc;
}

/* "=_postern_" and 26 base32 characters (130 random bits). */
static void new_boundary(char *out, size_t outsz)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char r[26];
	size_t n = strlen(BOUNDARY_PREFIX);

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy source: still unique enough per process. */
		unsigned long x = (unsigned long)time(NULL) ^
				  ((unsigned long)getpid() << 16) ^
				  (unsigned long)(uintptr_t)out;

		for (size_t i = 0; i < sizeof(r); i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			r[i] = (unsigned char)(x >> 33);
		}
	}
	snprintf(out, outsz, "%s", BOUNDARY_PREFIX);
	for (size_t i = 0; i < sizeof(r) && n + 1 < outsz; i++)
		out[n++] = b32[r[i] & 31];
	out[n] = '\0';
}

static int set_boundary(struct writer *w, struct mime_part *part,
			const char *b)
{
	if (mime_part_set_param(part, "Content-Type", "boundary", b,
				w->err) < 0)
		return -1;
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(w->err, PN_ENOMEM, "out of memory");
	mime_part_touch(part, true);
	return 0;
}

/* Pick the boundary of a multipart whose delimiter lines are generated:
 * its own when it has one that does not occur in the content, else a new
 * one, set on the part (as email6's generator does). */
static int ensure_boundary(struct writer *w, struct mime_part *part,
			   unsigned depth, char *out, size_t outsz)
{
	const char *b = part->boundary;
	bool clash = false;

	if (checked_has(w->checked, part)) {
		snprintf(out, outsz, "%s", b ? b : "");
		return 0;
	}
	for (int tries = 0;; tries++) {
		if (b && *b && strlen(b) <= BOUNDARY_MAX) {
			if (collides(w, part, b, depth, &clash) < 0)
				return -1;
			if (!clash)
				break;
		}
		if (tries == 8)
			return pn_error_set(w->err, PN_EINVAL,
					    "no boundary avoids the content");
		new_boundary(out, outsz);
		if (set_boundary(w, part, out) < 0)
			return -1;
		b = part->boundary;
	}
	snprintf(out, outsz, "%s", b);
	if (checked_add(w->checked, part) < 0)
		return pn_error_set(w->err, PN_ENOMEM, "out of memory");
	return 0;
}

/* Where a parsed part lies, kept inside its parent: the header block of
 * a nested message can end with a blank line whose line break is also the
 * start of the enclosing delimiter, and those bytes belong to the
 * delimiter. */
struct span {
	uint64_t start, body, end;
};

static uint64_t clamp(uint64_t off, uint64_t lo, uint64_t hi)
{
	return off < lo ? lo : off > hi ? hi : off;
}

static struct span span_of(const struct mime_part *part)
{
	const struct mime_part *up = part->parent;
	struct span s = { part->off_start, part->off_body, part->off_end };

	if (s.body < s.start)
		s.body = s.start;
	if (s.end < s.body)
		s.end = s.body;
	if (up && up->src && up->src == part->src && up->off_end >= s.start) {
		s.body = clamp(s.body, s.start, up->off_end);
		s.end = clamp(s.end, s.body, up->off_end);
	}
	return s;
}

/* ---- containers ---------------------------------------------------------- */

/* The parsed children of part that are still its children: the bytes
 * before the first of them hold the preamble, those after the last the
 * epilogue.  A rebuilt multipart keeps both, as email6 keeps preamble and
 * epilogue of a parsed message. */
static bool parsed_extent(const struct mime_part *part, uint64_t *lo,
			  uint64_t *hi)
{
	struct span ps = span_of(part);
	bool any = false;

	if (!part->src)
		return false;
	for (const struct mime_part *c = part->first_child; c; c = c->next) {
		struct span cs = span_of(c);

		if (c->src != part->src || cs.start < ps.body ||
		    cs.end > ps.end)
			continue;
		if (!any || cs.start < *lo)
			*lo = cs.start;
		if (!any || cs.end > *hi)
			*hi = cs.end;
		any = true;
	}
	return any;
}

#define TAIL_MAX 4096	/* a delimiter line: boundary, padding, break */

static int read_at(struct writer *w, struct mime_part *part, uint64_t off,
		   char *buf, size_t len)
{
	size_t got, done = 0;

	while (done < len) {
		if (mime_source_read(part->src, off + done, buf + done,
				     len - done, &got, w->err) < 0)
			return -1;
		if (got == 0)
			return pn_error_set(w->err, PN_EIO, "source ended at "
					    "byte %llu", (unsigned long long)
					    (off + done));
		done += got;
	}
	return 0;
}

/* [from, to) ends with the first delimiter line.  *end_out: where the
 * preamble ends (the break before the delimiter belongs to it), or -1
 * when the delimiter opens the body and there is no preamble. */
static int preamble_end(struct writer *w, struct mime_part *part,
			uint64_t from, uint64_t to, int64_t *end_out)
{
	char buf[TAIL_MAX];
	size_t n = to - from < TAIL_MAX ? (size_t)(to - from) : TAIL_MAX;
	size_t e = n;

	*end_out = -1;
	if (read_at(w, part, to - n, buf, n) < 0)
		return -1;
	if (e && buf[e - 1] == '\n')
		e--;
	if (e && buf[e - 1] == '\r')
		e--;
	while (e && buf[e - 1] != '\n')
		e--;
	/* The delimiter opens the body (or is a line longer than any
	 * boundary): no preamble. */
	if (e == 0)
		return 0;
	e--;
	if (e && buf[e - 1] == '\r')
		e--;
	*end_out = (int64_t)(to - n + e);
	return 0;
}

/* [from, to) starts with the close delimiter line; the epilogue is what
 * follows its line break.  *start_out is to when there is none. */
static int epilogue_start(struct writer *w, struct mime_part *part,
			  uint64_t from, uint64_t to, uint64_t *start_out)
{
	char buf[TAIL_MAX];
	size_t n = to - from < TAIL_MAX ? (size_t)(to - from) : TAIL_MAX;
	size_t i = 0;
	const char *nl;

	*start_out = to;
	if (read_at(w, part, from, buf, n) < 0)
		return -1;
	if (i < n && buf[i] == '\r')
		i++;
	if (i < n && buf[i] == '\n')
		i++;
	nl = memchr(buf + i, '\n', n - i);
	if (nl)
		*start_out = from + (uint64_t)(nl - buf) + 1;
	return 0;
}

static int write_preamble(struct writer *w, struct mime_part *part,
			  bool parsed, uint64_t lo)
{
	int64_t end;

	if (!parsed)
		return 0;
	if (preamble_end(w, part, span_of(part).body, lo, &end) < 0)
		return -1;
	if (end < 0)
		return 0;
	if (copy_range(w, part, span_of(part).body, (uint64_t)end,
		       w->force_eol) < 0)
		return -1;
	return emit_str(w, new_eol(w, part));
}

static int write_epilogue(struct writer *w, struct mime_part *part,
			  bool parsed, uint64_t hi)
{
	uint64_t start, end = span_of(part).end;

	if (!parsed)
		return 0;
	if (epilogue_start(w, part, hi, end, &start) < 0)
		return -1;
	return copy_range(w, part, start, end, w->force_eol);
}

static int delimiter(struct writer *w, const char *b, const char *eol,
		     bool lead, bool close)
{
	if ((lead && emit_str(w, eol) < 0) || emit_str(w, "--") < 0 ||
	    emit_str(w, b) < 0 || (close && emit_str(w, "--") < 0))
		return -1;
	return emit_str(w, eol);
}

/* Delimiter lines, RFC 2046 5.1.1: the line break before a delimiter
 * belongs to it. */
static int write_new_multipart(struct writer *w, struct mime_part *part,
			       const char *b, unsigned depth)
{
	const char *eol = new_eol(w, part);
	uint64_t lo = 0, hi = 0;
	bool parsed = parsed_extent(part, &lo, &hi);

	if (write_preamble(w, part, parsed, lo) < 0 ||
	    delimiter(w, b, eol, false, false) < 0)
		return -1;
	for (struct mime_part *c = part->first_child; c; c = c->next) {
		if ((c != part->first_child &&
		     delimiter(w, b, eol, true, false) < 0) ||
		    write_part(w, c, depth + 1) < 0)
			return -1;
	}
	if (delimiter(w, b, eol, true, true) < 0)
		return -1;
	return write_epilogue(w, part, parsed, hi);
}

/* The children still lie in part's source in order, so the bytes
 * between them can be copied. */
static bool stretches_valid(const struct mime_part *part)
{
	struct span ps = span_of(part);
	uint64_t pos = ps.body;

	for (const struct mime_part *c = part->first_child; c; c = c->next) {
		struct span cs = span_of(c);

		if (c->src != part->src || cs.start < pos || cs.end > ps.end)
			return false;
		pos = cs.end;
	}
	return true;
}

static int write_stretches(struct writer *w, struct mime_part *part,
			   unsigned depth)
{
	struct span ps = span_of(part);
	uint64_t pos = ps.body;

	for (struct mime_part *c = part->first_child; c; c = c->next) {
		struct span cs = span_of(c);

		if (copy_range(w, part, pos, cs.start, w->force_eol) < 0 ||
		    write_part(w, c, depth + 1) < 0)
			return -1;
		pos = cs.end;
	}
	return copy_range(w, part, pos, ps.end, w->force_eol);
}

static bool regenerate(const struct mime_part *part)
{
	return part->content_dirty || !part->src || !stretches_valid(part);
}

static int write_body(struct writer *w, struct mime_part *part,
		      const char *boundary, unsigned depth)
{
	struct span s;

	if (boundary)
		return write_new_multipart(w, part, boundary, depth);
	/* A parsed multipart with no parts (its start delimiter never came)
	 * is all preamble and epilogue: one stretch, copied like the rest. */
	if (part->first_child || mime_part_is_multipart(part)) {
		if (!regenerate(part))
			return write_stretches(w, part, depth);
		for (struct mime_part *c = part->first_child; c; c = c->next) {
			if (write_part(w, c, depth + 1) < 0)
				return -1;
		}
		return 0;
	}
	if (part->content_dirty || !part->src)
		return write_new_leaf(w, part);
	if (w->skip_encoded && encoded(mime_part_cte(part)))
		return 0;
	s = span_of(part);
	return copy_range(w, part, s.body, s.end,
			  is_binary(part) ? NULL : w->force_eol);
}

/* ---- parts --------------------------------------------------------------- */

static bool untouched(const struct mime_part *part)
{
	return part->src && !part->headers_dirty && !part->content_dirty &&
	       !part->child_dirty;
}

static void name_part(struct writer *w, const struct mime_part *part)
{
	char sec[256];

	if (w->named)
		return;
	w->named = true;
	if (mime_part_section(part, sec, sizeof(sec)) < 0 || !sec[0])
		pn_error_prefix(w->err, "message");
	else
		pn_error_prefix(w->err, "part %s", sec);
}

static int write_head(struct writer *w, struct mime_part *part)
{
	struct span s;

	if (part->headers_dirty || !part->src)
		return write_fields(w, part);
	s = span_of(part);
	return copy_range(w, part, s.start, s.body, w->force_eol);
}

static int write_part(struct writer *w, struct mime_part *part,
		      unsigned depth)
{
	char boundary[BOUNDARY_MAX + 8];
	bool new_mp;

	/* Trees come from the parser's limits or from the builder; a cycle
	 * or absurd depth is a bug somewhere, not a reason to crash. */
	if (depth > 4 * MIME_DEFAULT_MAX_DEPTH + 64) {
		pn_error_set(w->err, PN_ELIMIT, "tree nested too deep");
		name_part(w, part);
		return -1;
	}
	if (!part->src && !part->content_dirty &&
	    part->off_end > part->off_start) {
		pn_error_set(w->err, PN_EINVAL, "message has no source to "
			     "copy from (mime_message_attach_*)");
		name_part(w, part);
		return -1;
	}
	/* Untouched and no line endings to change: the bytes as parsed. */
	if (untouched(part) && !w->force_eol) {
		struct span s = span_of(part);

		return copy_range(w, part, s.start, s.end, NULL);
	}
	/* The boundary goes into the header, so it is chosen first. */
	new_mp = multipart_type(part) && regenerate(part);
	if ((new_mp && ensure_boundary(w, part, depth, boundary,
				       sizeof(boundary)) < 0) ||
	    write_head(w, part) < 0 ||
	    write_body(w, part, new_mp ? boundary : NULL, depth) < 0) {
		name_part(w, part);
		return -1;
	}
	return 0;
}

/* ---- entry points -------------------------------------------------------- */

int mime_write(struct mime_part *part, const struct mime_write_opts *opts,
	       mime_sink_fn fn, void *ctx, struct pn_error *err)
{
	struct checked checked = { 0 };
	struct writer *w;
	int rc;

	if (!part || !fn)
		return pn_error_set(err, PN_EINVAL, "nothing to write");
	if (opts && opts->eol && strcmp(opts->eol, "\r\n") != 0 &&
	    strcmp(opts->eol, "\n") != 0)
		return pn_error_set(err, PN_EINVAL,
				    "line ending must be CRLF or LF");
	w = calloc(1, sizeof(*w));
	if (!w)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	w->fn = fn;
	w->ctx = ctx;
	w->err = err;
	w->force_eol = opts ? opts->eol : NULL;
	w->checked = &checked;
	pn_buf_init(&w->fmt, 0);
	rc = write_part(w, part, 0);
	if (rc == 0)
		rc = put_pending(w) < 0 || flush(w) < 0 ? -1 : 0;
	pn_buf_free(&w->fmt);
	free(checked.v);
	free(w);
	return rc;
}

struct fd_out {
	int fd;
	int err;
};

static int fd_sink(void *ctx, const char *data, size_t len)
{
	struct fd_out *o = ctx;

	while (len > 0) {
		ssize_t n = write(o->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? errno : EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int mime_write_fd(struct mime_part *part, const struct mime_write_opts *opts,
		  int fd, struct pn_error *err)
{
	struct fd_out o = { fd, 0 };

	if (mime_write(part, opts, fd_sink, &o, err) < 0) {
		if (o.err)
			return pn_error_errno(err, o.err, "write");
		return -1;
	}
	return 0;
}

struct buf_out {
	struct pn_buf *b;
	int err;
};

static int buf_sink(void *ctx, const char *data, size_t len)
{
	struct buf_out *o = ctx;

	if (pn_buf_add(o->b, data, len) < 0) {
		o->err = errno ? errno : ENOMEM;
		return -1;
	}
	return 0;
}

int mime_write_buf(struct mime_part *part, const struct mime_write_opts *opts,
		   struct pn_buf *out, struct pn_error *err)
{
	struct buf_out o = { out, 0 };

	if (!out)
		return pn_error_set(err, PN_EINVAL, "no output buffer");
	if (mime_write(part, opts, buf_sink, &o, err) < 0) {
		if (o.err)
			return pn_error_errno(err, o.err, "output buffer");
		return -1;
	}
	return 0;
}
