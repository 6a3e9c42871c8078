/* parser.c - the streaming MIME parser.
 *
 * Fed any chunk size, it keeps headers and offsets only.  Input is cut
 * into lines at LF (a CR before it is part of the line ending).  Each line
 * is classified from its first bytes: in a header block as a field, a
 * fold, the blank line, a skipped line or a line that starts the body; in
 * a body only lines starting with "--" can matter, and only while a
 * multipart is open.  A line is classified as soon as its prefix decides
 * it, and a prefix longer than DECIDE_MAX always decides, so a line that
 * crosses a chunk edge is carried in a small buffer and the result never
 * depends on how the input was cut.  (A delimiter line with junk after
 * its padding is decided before its end; the rest is skipped.)
 *
 * Body bytes are never copied, except the line ending before a possible
 * delimiter (it belongs to the delimiter, RFC 2046 5.1.1) and a possible
 * delimiter cut by a chunk edge: those wait in held[] / line until the
 * next bytes say what they are.
 */
#include "mime_p.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Boundaries are at most 70 characters (RFC 2046 5.1.1); test suites go
 * far over (mime4j has one of 7 KiB).  Longer ones are refused so a
 * candidate delimiter line stays small. */
#define MAX_BOUNDARY 8000
/* Transport padding after a delimiter that we still accept (junk may
 * follow it, see match_tail). */
#define MAX_PADDING 512
/* RFC 5322 2.1.1: a line is at most 998 characters, so a field name
 * longer than that is not a field name. */
#define MAX_NAME 998
/* Any line prefix this long is decided: boundary, "--", padding and CRLF
 * are shorter, so it is a delimiter (with junk after the padding) or not
 * one, and it is past the longest field name. */
#define DECIDE_MAX (2 + MAX_BOUNDARY + 2 + MAX_PADDING + 2)

enum state {
	S_HEADERS,	/* in cur's header block */
	S_BODY,		/* in cur's body: a leaf, a preamble or an epilogue */
};

/* What is known about the rest of the current line. */
enum rest {
	REST_NONE,	/* at the start of a line */
	REST_CARRY,	/* undecided: the bytes so far are in p->line */
	REST_PLAIN,	/* body bytes up to the line end */
	REST_FIELD,	/* header field bytes up to the line end */
	REST_SKIP,	/* header block bytes that are not stored */
	REST_DELIM,	/* the junk after a delimiter (match_tail) */
};

enum kind {
	K_UNDECIDED,
	K_DELIM,	/* a delimiter of frame p->hit */
	K_PLAIN,	/* body line */
	K_EMPTY,	/* the blank line ending a header block */
	K_FIELD,
	K_FOLD,
	K_SKIP,		/* mbox "From " line */
	K_NONAME,	/* ":value", a field without a name */
	K_BAD,		/* neither field nor fold: starts the body */
};

/* An open multipart. */
struct frame {
	struct mime_part *part;
	const char *boundary;
	size_t blen;	/* trailing blanks not counted */
	size_t flen;	/* the whole boundary parameter */
	unsigned depth;
	bool started;	/* a delimiter line was seen */
	bool closed;	/* the close delimiter was seen: in the epilogue */
};

struct mime_parser {
	struct mime_message *msg;
	struct mime_limits lim;
	struct mime_leaf_sink sink;
	bool has_sink;
	bool failed;
	bool flat;		/* max_parts reached: no more structure */
	bool emitting;		/* cur is a leaf whose body goes to the sink */
	bool eol_known;

	uint64_t off;		/* stream offset of the next byte fed */
	char last2[2];		/* the two bytes before off */
	enum state state;
	struct mime_part *cur;
	unsigned depth;		/* of cur */

	struct frame *fr;
	size_t nfr, frcap;
	size_t nopen;		/* frames not closed */
	size_t hit;		/* frame matched by the last K_DELIM */
	bool hit_close;
	bool hit_open;		/* ... on a line whose end is still to come */

	enum rest rest;
	struct pn_buf line;	/* REST_CARRY: the line so far */
	uint64_t line_off;
	unsigned line_eolb;	/* length of the line ending before it */
	char held[2];		/* body bytes not yet given to the sink */
	unsigned nheld;

	/* the header block of cur */
	struct pn_buf field;	/* the field being assembled, raw */
	bool field_open, field_over;
	uint64_t field_off;
	size_t field_len;	/* including bytes not stored */
	size_t block_len;
	unsigned nlines, nfields;
	bool block_over, count_over, eightbit;

	struct pn_error *err;
};

static int fail(struct mime_parser *p, enum pn_errcode code, const char *what)
{
	p->failed = true;
	return pn_error_set(p->err, code, "MIME parser: %s", what);
}

static int oom(struct mime_parser *p)
{
	return fail(p, PN_ENOMEM, "out of memory");
}

/* ---- the leaf sink ------------------------------------------------------- */

static int sink_data(struct mime_parser *p, const char *s, size_t n)
{
	if (!n)
		return 0;
	if (p->sink.data && p->sink.data(p->sink.ctx, p->cur, s, n))
		return fail(p, PN_EINVAL, "aborted by the leaf sink");
	return 0;
}

enum flush_mode { HOLD_EOL, DROP_EOL, HOLD_CR, FLUSH_ALL };

/* Give held[] followed by s[0..n) to the sink, keeping back what mode says
 * may still turn out to belong to a delimiter: a final line ending, or a
 * final CR that may be the first half of one. */
static int flush(struct mime_parser *p, const char *s, size_t n,
		 enum flush_mode mode)
{
	size_t total = p->nheld + n, k = 0;
	char last, prev, keep[2];
	size_t i;

	if (!p->emitting) {
		p->nheld = 0;
		return 0;
	}
	last = total ? (n ? s[n - 1] : p->held[p->nheld - 1]) : 0;
	prev = total > 1 ? (n > 1 ? s[n - 2] : n == 1 ? p->held[p->nheld - 1] :
				      p->held[p->nheld - 2]) : 0;
	if (mode == HOLD_CR && last == '\r')
		k = 1;
	else if ((mode == HOLD_EOL || mode == DROP_EOL) && last == '\n')
		k = prev == '\r' ? 2 : 1;
	for (i = 0; i < k; i++)
		keep[k - 1 - i] = i == 0 ? last : prev;
	if (total - k <= p->nheld) {
		if (sink_data(p, p->held, total - k) < 0)
			return -1;
	} else {
		if (sink_data(p, p->held, p->nheld) < 0 ||
		    sink_data(p, s, n - k) < 0)
			return -1;
	}
	p->nheld = mode == DROP_EOL ? 0 : (unsigned)k;
	memcpy(p->held, keep, k);
	return 0;
}

/* ---- parts and frames ---------------------------------------------------- */

static void reset_block(struct mime_parser *p)
{
	pn_buf_reset(&p->field);
	p->field_open = p->field_over = false;
	p->field_len = p->block_len = 0;
	p->nlines = p->nfields = 0;
	p->block_over = p->count_over = p->eightbit = false;
}

static struct mime_part *new_child(struct mime_parser *p,
				   struct mime_part *parent, uint64_t start)
{
	struct mime_part *c = mime_part_new(p->msg);

	if (!c)
		return NULL;
	c->off_start = c->off_body = c->off_end = start;
	c->in_digest = parent->subtype && !strcmp(parent->type,
						  "multipart/digest");
	mime_part_append_child(parent, c);
	p->cur = c;
	p->depth++;
	p->state = S_HEADERS;
	reset_block(p);
	return c;
}

static bool parts_left(struct mime_parser *p, uint64_t off)
{
	if (p->msg->nparts < p->lim.max_parts)
		return true;
	if (!p->flat)
		mime_defect_add(p->msg, MIME_DEFECT_LIMIT, off, p->cur,
				"more than %u parts (max_parts)",
				p->lim.max_parts);
	p->flat = true;
	return false;
}

static int push_frame(struct mime_parser *p, struct mime_part *part)
{
	struct frame *f;

	if (p->nfr == p->frcap) {
		size_t cap = p->frcap ? p->frcap * 2 : 8;

		f = realloc(p->fr, cap * sizeof(*f));
		if (!f)
			return oom(p);
		p->fr = f;
		p->frcap = cap;
	}
	f = &p->fr[p->nfr++];
	f->part = part;
	f->boundary = part->boundary;
	f->blen = f->flen = strlen(part->boundary);
	/* RFC 2046 5.1.1: a boundary does not end in a space; Python strips
	 * trailing blanks from the parameter, so "b  " is matched as "b". */
	while (f->blen && (f->boundary[f->blen - 1] == ' ' ||
			   f->boundary[f->blen - 1] == '\t'))
		f->blen--;
	f->depth = p->depth;
	f->started = f->closed = false;
	p->nopen++;
	return 0;
}

/* A multipart whose first delimiter never came stays a multipart (it has
 * a boundary) with no parts: by the RFC 2046 5.1.1 grammar everything
 * before the first delimiter is preamble, and after a close delimiter the
 * epilogue.  mime4j does the same; Python makes it a text body. */
static void unstarted(struct mime_parser *p, struct frame *f)
{
	mime_defect_add(p->msg, MIME_DEFECT_START_BOUNDARY_MISSING,
			f->part->off_body, f->part,
			"multipart without a \"--%.60s\" delimiter line, "
			"kept with no parts", f->boundary);
}

static void pop_frames(struct mime_parser *p, size_t keep)
{
	while (p->nfr > keep) {
		struct frame *f = &p->fr[--p->nfr];

		if (f->closed)
			continue;
		p->nopen--;
		if (!f->started)
			unstarted(p, f);
		else if (!p->flat)	/* the LIMIT defect says why */
			mime_defect_add(p->msg,
					MIME_DEFECT_CLOSE_BOUNDARY_MISSING,
					f->part->off_body, f->part,
					"multipart ended without its close "
					"delimiter \"--%.60s--\"", f->boundary);
	}
}

/* ---- the header block ---------------------------------------------------- */

static int flush_field(struct mime_parser *p)
{
	struct mime_part *part = p->cur;
	bool eightbit = false;

	if (!p->field_open)
		return 0;
	p->field_open = false;
	if (p->field_over) {
		mime_defect_add(p->msg, MIME_DEFECT_LIMIT, p->field_off, part,
				"header field longer than %zu bytes "
				"(max_header_line), dropped",
				p->lim.max_header_line);
	} else if (p->block_len > p->lim.max_header_block) {
		if (!p->block_over)
			mime_defect_add(p->msg, MIME_DEFECT_LIMIT,
					p->field_off, part,
					"header block larger than %zu bytes "
					"(max_header_block), rest dropped",
					p->lim.max_header_block);
		p->block_over = true;
	} else if (p->nfields >= p->lim.max_headers) {
		if (!p->count_over)
			mime_defect_add(p->msg, MIME_DEFECT_LIMIT,
					p->field_off, part,
					"more than %u header fields "
					"(max_headers), rest dropped",
					p->lim.max_headers);
		p->count_over = true;
	} else {
		struct pn_error e;

		if (mime_header_append_raw(part, p->field.data, p->field.len,
					   &eightbit, &e) < 0)
			return oom(p);
		p->nfields++;
		if (eightbit && !p->eightbit) {
			p->eightbit = true;
			mime_defect_add(p->msg, MIME_DEFECT_8BIT_HEADER,
					p->field_off, part,
					"raw 8-bit bytes in header field at "
					"byte %llu",
					(unsigned long long)p->field_off);
		}
	}
	pn_buf_reset(&p->field);
	p->field_over = false;
	p->field_len = 0;
	return 0;
}

static int field_add(struct mime_parser *p, const char *s, size_t n)
{
	p->field_len += n;
	if (p->field_over)
		return 0;
	if (p->field_len > p->lim.max_header_line) {
		p->field_over = true;
		pn_buf_reset(&p->field);
		return 0;
	}
	if (pn_buf_add(&p->field, s, n) < 0)
		return oom(p);
	return 0;
}

static bool is_message_type(const struct mime_part *part)
{
	return !strcmp(part->type, "message/rfc822") ||
	       !strcmp(part->type, "message/global");
}

static int begin_leaf(struct mime_parser *p)
{
	p->state = S_BODY;
	p->nheld = 0;
	if (!p->has_sink)
		return 0;
	p->emitting = true;
	if (p->sink.begin && p->sink.begin(p->sink.ctx, p->cur))
		return fail(p, PN_EINVAL, "aborted by the leaf sink");
	return 0;
}

static int begin_multipart(struct mime_parser *p)
{
	struct mime_part *part = p->cur;

	if (p->flat) {
		part->boundary = NULL;
		return begin_leaf(p);
	}
	if (!part->boundary) {
		mime_defect_add(p->msg, MIME_DEFECT_NO_BOUNDARY, part->off_start,
				part, "%s without a boundary parameter, "
				"kept as one body", part->type);
		return begin_leaf(p);
	}
	if (strlen(part->boundary) > MAX_BOUNDARY) {
		mime_defect_add(p->msg, MIME_DEFECT_NO_BOUNDARY, part->off_start,
				part, "boundary longer than %d bytes, "
				"kept as one body", MAX_BOUNDARY);
		part->boundary = NULL;
		return begin_leaf(p);
	}
	if (p->depth + 1 > p->lim.max_depth) {
		mime_defect_add(p->msg, MIME_DEFECT_LIMIT, part->off_body, part,
				"nesting deeper than %u levels (max_depth)",
				p->lim.max_depth);
		part->boundary = NULL;
		return begin_leaf(p);
	}
	/* RFC 2045 6.4: only 7bit, 8bit or binary for a multipart.  Python
	 * still splits it, and so do we. */
	if (part->cte == MIME_CTE_BASE64 || part->cte == MIME_CTE_QP)
		mime_defect_add(p->msg, MIME_DEFECT_MULTIPART_CTE,
				part->off_start, part,
				"%s with Content-Transfer-Encoding %s",
				part->type, mime_cte_name(part->cte));
	p->state = S_BODY;
	return push_frame(p, part);
}

/* RFC 2046 5.2.1: a message/rfc822 body is never base64 or qp encoded.
 * When a sender did that anyway the body is not a message we can read in
 * place, so it stays a leaf (the raw manager can still decode it). */
static int begin_message(struct mime_parser *p)
{
	struct mime_part *part = p->cur;

	if (p->flat || part->cte == MIME_CTE_BASE64 ||
	    part->cte == MIME_CTE_QP || part->cte == MIME_CTE_UUENCODE)
		return begin_leaf(p);
	if (p->depth + 1 > p->lim.max_depth) {
		mime_defect_add(p->msg, MIME_DEFECT_LIMIT, part->off_body, part,
				"nesting deeper than %u levels (max_depth)",
				p->lim.max_depth);
		return begin_leaf(p);
	}
	if (!parts_left(p, part->off_body))
		return begin_leaf(p);
	if (!new_child(p, part, part->off_body))
		return oom(p);
	return 0;
}

/* The header block of cur ends; its body starts at body. */
static int end_headers(struct mime_parser *p, uint64_t body, bool blank)
{
	struct mime_part *part = p->cur;

	if (flush_field(p) < 0)
		return -1;
	part->off_body = part->off_end = body;
	part->no_blank_line = !blank;
	if (mime_part_refresh(part, true) < 0)
		return oom(p);
	if (!strcmp(part->maintype, "multipart"))
		return begin_multipart(p);
	if (is_message_type(part))
		return begin_message(p);
	return begin_leaf(p);
}

/* The header block of cur ends at a delimiter or at the end of input, so
 * its body is empty: a multipart there opens as usual and is closed at
 * once with no parts (unstarted), a message/rfc822 there has no message
 * in it. */
static int end_headers_empty(struct mime_parser *p, uint64_t body)
{
	struct mime_part *part = p->cur;

	if (flush_field(p) < 0)
		return -1;
	part->off_body = part->off_end = body;
	part->no_blank_line = true;
	if (mime_part_refresh(part, true) < 0)
		return oom(p);
	if (!strcmp(part->maintype, "multipart"))
		return begin_multipart(p);
	return begin_leaf(p);
}

/* A delimiter line right after another one of the same multipart opens
 * no empty part: Python reads "--b" "--b" as one delimiter, and so do
 * we (the RFC 2046 grammar has no body part between them either). */
static bool doubled(const struct mime_parser *p, uint64_t off)
{
	const struct mime_part *c = p->cur;

	return !p->hit_close && p->state == S_HEADERS && p->nlines == 0 &&
	       c->parent == p->fr[p->hit].part && c->off_start == off;
}

/* A delimiter that opens a part needs one more part. */
static bool delim_allowed(struct mime_parser *p, uint64_t off)
{
	return p->hit_close || doubled(p, off) || parts_left(p, off);
}

/* ---- delimiters ---------------------------------------------------------- */

enum match { M_NO, M_MAYBE, M_DELIM, M_CLOSE };

/* After "--" boundary ["--"] at b[i..n): padding up to the line end, or
 * padding and then anything (RFC 2046 5.1.1, note to implementors: a
 * delimiter line only has to start with the delimiter; mime4j ignores
 * such junk too).  Other bytes right after the boundary make no delimiter,
 * so nested boundaries "abc" and "abc-1" stay apart.  A run of padding
 * longer than MAX_PADDING is not taken for padding either, which keeps an
 * undecided line short. */
static enum match match_tail(const char *b, size_t i, size_t n,
			     bool complete, bool close)
{
	size_t pad = i;

	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	if (i - pad > MAX_PADDING)
		return M_NO;
	if (i < n && i == pad)
		return M_NO;
	if (i == n && !complete)
		return M_MAYBE;
	return close ? M_CLOSE : M_DELIM;
}

/* Past the trimmed boundary at b[i..n): the blanks push_frame trimmed
 * and "--", the close delimiter of the boundary exactly as declared.
 * Without this, junk after padding would take "--b  --" for a delimiter
 * of "b" when the boundary is "b  " (mime4j's weird-boundary test). */
static enum match match_full_close(const char *b, size_t i, size_t n,
				   bool complete, const struct frame *f)
{
	size_t k, want = f->flen - f->blen + 2;

	for (k = 0; k < want && i + k < n; k++)
		if (b[i + k] != (k < want - 2 ? f->boundary[f->blen + k] : '-'))
			return M_NO;
	if (k < want)
		return complete ? M_NO : M_MAYBE;
	return match_tail(b, i + want, n, complete, true);
}

/* Does line b[0..n) (complete: it ends at its LF or at end of input) read
 * "--" boundary ["--"] [padding [junk]] EOL, or could it still?  A match
 * on an incomplete line (junk seen) is final; p->hit_open says so. */
static enum match match_delim(const char *b, size_t n, bool complete,
			      const struct frame *f)
{
	size_t i, lead = 2 + f->blen;
	bool close = false;

	/* A CR ending the bytes seen so far may be the first half of the
	 * CRLF; at the end of input a lone CR ends the line (as in Python). */
	if (complete && n && b[n - 1] == '\n')
		n--;
	if (n && b[n - 1] == '\r')
		n--;
	for (i = 0; i < n && i < lead; i++)
		if (b[i] != (i < 2 ? '-' : f->boundary[i - 2]))
			return M_NO;
	if (n < lead)
		return complete ? M_NO : M_MAYBE;
	if (f->flen > f->blen) {
		enum match m = match_full_close(b, i, n, complete, f);

		if (m != M_NO)
			return m;
	}
	if (n - i >= 2 && b[i] == '-' && b[i + 1] == '-') {
		close = true;
		i += 2;
	} else if (n - i == 1 && b[i] == '-') {
		return complete ? M_NO : M_MAYBE;
	}
	return match_tail(b, i, n, complete, close);
}

/* Check one frame; false to stop looking (a match or an undecided
 * line: a frame checked later must not win over a maybe). */
static bool try_frame(struct mime_parser *p, const struct frame *f,
		      const char *b, size_t n, bool complete, enum kind *k)
{
	enum match m = match_delim(b, n, complete, f);

	if (m == M_NO)
		return true;
	if (m == M_MAYBE) {
		*k = K_UNDECIDED;
		return false;
	}
	p->hit = (size_t)(f - p->fr);
	p->hit_close = m == M_CLOSE;
	p->hit_open = !complete;
	*k = K_DELIM;
	return false;
}

/* Innermost first: a delimiter of any open multipart ends the ones inside
 * it (RFC 2046 5.1.2, and what Python does).  But a multipart still in
 * its preamble yields to the ones around it: Python looks for its first
 * delimiter only in lines no outer multipart claims. */
static enum kind classify_delim(struct mime_parser *p, const char *b, size_t n,
				bool complete)
{
	const struct frame *last = NULL;
	enum kind k = K_PLAIN;
	size_t i;

	if (p->flat || !p->nopen || n == 0 || b[0] != '-')
		return K_PLAIN;
	if (n > 1 && b[1] != '-')
		return K_PLAIN;
	for (i = p->nfr; i-- > 0;) {
		const struct frame *f = &p->fr[i];

		if (f->closed)
			continue;
		if (!f->started) {
			last = f;
			continue;
		}
		if (!try_frame(p, f, b, n, complete, &k))
			return k;
	}
	if (last)
		try_frame(p, last, b, n, complete, &k);
	return k;
}

static bool name_char(unsigned char c)
{
	/* Python's headerRE: printable ASCII but ':' */
	return c >= 0x21 && c <= 0x7e && c != ':';
}

/* Not a field: an mbox "From " line (RFC 4155), skipped, or the line
 * that starts the body.  name is the length of the name before blanks
 * (0 when none came). */
static enum kind not_field(const char *b, size_t name)
{
	if (name == 4 && b[4] == ' ' && !memcmp(b, "From", 4))
		return K_SKIP;
	return K_BAD;
}

/* field-name ":" (RFC 5322 3.6.8), or the obsolete form with blanks
 * between the name and the colon (RFC 5322 4.5.3 obs-optional: "Subject :
 * x"), which header.c strips from the name.  A blank inside a name
 * ("Foo Bar: x") still makes no field.  "From :" is a field then, not an
 * mbox line: the colon decides. */
static enum kind classify_name(const char *b, size_t n, bool complete)
{
	size_t i, name = 0;

	for (i = 0; i < n && i <= MAX_NAME; i++) {
		if (b[i] == ':')
			return K_FIELD;
		if (b[i] == ' ' || b[i] == '\t') {
			if (!name)
				name = i;
			continue;
		}
		if (name || !name_char((unsigned char)b[i]))
			return not_field(b, name);
	}
	if (i > MAX_NAME || complete)
		return not_field(b, name);
	return K_UNDECIDED;
}

/* A header line.  Folds are lines starting with a blank, so a line of
 * blanks only is a fold too: the obsolete "empty lines in folding"
 * (RFC 5322 4.2 obs-FWS, mime4j's obsolete.msg), which header.c's unfold
 * drops.  A truly empty line ends the block, as in Python's email. */
static enum kind classify_header(struct mime_parser *p, const char *b,
				 size_t n, bool complete)
{
	enum kind k = classify_delim(p, b, n, complete);

	if (k != K_PLAIN)
		return k;
	if (n == 0)
		return K_UNDECIDED;
	if (b[0] == '\n' || (b[0] == '\r' && n > 1 && b[1] == '\n'))
		return K_EMPTY;
	if (b[0] == '\r')
		return n == 1 && !complete ? K_UNDECIDED : K_BAD;
	if (b[0] == ' ' || b[0] == '\t')
		return K_FOLD;
	if (b[0] == ':')
		return K_NONAME;
	return classify_name(b, n, complete);
}

static enum kind classify(struct mime_parser *p, const char *b, size_t n,
			  bool complete)
{
	if (p->state == S_HEADERS)
		return classify_header(p, b, n, complete);
	if (n && b[0] != '-')
		return K_PLAIN;
	return classify_delim(p, b, n, complete);
}

/* Parts from cur up to (not including) top end at e, or where their body
 * starts if that is later; a parent never ends before its child. */
static void end_chain(struct mime_parser *p, const struct mime_part *top,
		      uint64_t e)
{
	struct mime_part *q;

	for (q = p->cur; q && q != top; q = q->parent) {
		if (e < q->off_body)
			e = q->off_body;
		q->off_end = e;
	}
}

/* A delimiter line [line, end) of frame p->hit; eolb bytes of line ending
 * before it belong to it too.  When p->hit_open, the line goes on past
 * end (REST_DELIM takes the rest).  Ends every part below the frame's
 * multipart (one that never saw its own delimiter too: it keeps no parts,
 * its body all preamble), then opens the next part or the epilogue. */
static int delimiter(struct mime_parser *p, uint64_t line, uint64_t end,
		     unsigned eolb)
{
	struct frame *f;

	if (p->hit_open)
		p->rest = REST_DELIM;
	if (doubled(p, line)) {
		p->cur->off_start = p->cur->off_body = p->cur->off_end = end;
		return 0;
	}
	if (p->state == S_HEADERS && end_headers_empty(p, line) < 0)
		return -1;
	p->nheld = 0;
	/* end_headers_empty may have pushed a frame, moving p->fr */
	end_chain(p, p->fr[p->hit].part, line - eolb);
	if (p->emitting) {
		p->emitting = false;
		if (p->sink.end && p->sink.end(p->sink.ctx, p->cur))
			return fail(p, PN_EINVAL, "aborted by the leaf sink");
	}
	pop_frames(p, p->hit + 1);
	f = &p->fr[p->hit];
	p->cur = f->part;
	p->depth = f->depth;
	p->state = S_BODY;
	if (p->hit_close) {
		if (!f->started)
			unstarted(p, f);
		f->started = f->closed = true;
		p->nopen--;
		return 0;
	}
	f->started = true;
	if (!new_child(p, f->part, end))
		return oom(p);
	return 0;
}

/* ---- one line, once classified ------------------------------------------- */

static int start_field(struct mime_parser *p, uint64_t off)
{
	if (flush_field(p) < 0)
		return -1;
	p->field_open = true;
	p->field_off = off;
	return 0;
}

/* Apply kind k to a header line starting at off with bytes b[0..n) seen
 * so far.  Returns 1 when the line must be looked at again (the header
 * block ended before it). */
static int header_line(struct mime_parser *p, enum kind k, const char *b,
		       size_t n, bool complete, uint64_t off)
{
	p->nlines++;
	switch (k) {
	case K_EMPTY:
		p->block_len += n;
		return end_headers(p, off + n, true);
	case K_BAD:
		mime_defect_add(p->msg, MIME_DEFECT_BAD_HEADER_LINE, off,
				p->cur, "line is neither a header field nor a "
				"fold; body starts here");
		p->nlines--;
		if (end_headers(p, off, false) < 0)
			return -1;
		return 1;
	case K_FOLD:
		if (!p->field_open) {
			mime_defect_add(p->msg, MIME_DEFECT_BAD_HEADER_LINE,
					off, p->cur, "fold without a field "
					"before it, ignored");
			break;
		}
		p->block_len += n;
		if (field_add(p, b, n) < 0)
			return -1;
		p->rest = complete ? REST_NONE : REST_FIELD;
		return 0;
	case K_FIELD:
		p->block_len += n;
		if (start_field(p, off) < 0 || field_add(p, b, n) < 0)
			return -1;
		p->rest = complete ? REST_NONE : REST_FIELD;
		return 0;
	case K_SKIP:
		if (p->nlines > 1)
			mime_defect_add(p->msg, MIME_DEFECT_BAD_HEADER_LINE,
					off, p->cur, "mbox \"From \" line "
					"inside a header block, ignored");
		break;
	default:	/* K_NONAME */
		mime_defect_add(p->msg, MIME_DEFECT_BAD_HEADER_LINE, off,
				p->cur, "header field without a name, ignored");
		break;
	}
	if (flush_field(p) < 0)
		return -1;
	p->block_len += n;
	p->rest = complete ? REST_NONE : REST_SKIP;
	return 0;
}

/* ---- feeding: one function per situation, and a dispatcher --------------- */

static unsigned eol_before(const struct mime_parser *p, const char *d,
			   const char *pos)
{
	char b1 = pos > d ? pos[-1] : p->last2[1];
	char b2 = pos > d + 1 ? pos[-2] : pos == d + 1 ? p->last2[1] :
		  p->last2[0];

	if (p->off + (uint64_t)(pos - d) == 0 || b1 != '\n')
		return 0;
	if (p->off + (uint64_t)(pos - d) >= 2 && b2 == '\r')
		return 2;
	return 1;
}

static int start_carry(struct mime_parser *p, const char *d, const char *pos,
		       const char *end)
{
	p->line_off = p->off + (uint64_t)(pos - d);
	p->line_eolb = eol_before(p, d, pos);
	pn_buf_reset(&p->line);
	if (pn_buf_add(&p->line, pos, (size_t)(end - pos)) < 0)
		return oom(p);
	p->rest = REST_CARRY;
	return 0;
}

/* At a line start in a header block: whole lines straight from d. */
static long feed_headers(struct mime_parser *p, const char *d, size_t len)
{
	const char *pos = d, *end = d + len;

	while (pos < end && p->state == S_HEADERS && p->rest == REST_NONE) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl ? (size_t)(nl + 1 - pos) : (size_t)(end - pos);
		uint64_t off = p->off + (uint64_t)(pos - d);
		enum kind k = classify_header(p, pos, n, nl != NULL);
		int rc;

		if (k == K_UNDECIDED) {
			if (start_carry(p, d, pos, end) < 0)
				return -1;
			return (long)len;
		}
		if (k == K_DELIM && delim_allowed(p, off)) {
			if (delimiter(p, off, off + n,
				      eol_before(p, d, pos)) < 0)
				return -1;
			pos += n;
			continue;
		}
		if (k == K_DELIM)	/* limit hit: flat from here on */
			k = classify_header(p, pos, n, nl != NULL);
		rc = header_line(p, k, pos, n, nl != NULL, off);
		if (rc < 0)
			return -1;
		if (rc == 0)
			pos += n;
	}
	return pos - d;
}

/* At a line start in a body: look only at lines starting with "--". */
static long feed_body(struct mime_parser *p, const char *d, size_t len)
{
	const char *pos = d, *s = d, *end = d + len;

	if (p->flat || !p->nopen) {
		if (flush(p, d, len, FLUSH_ALL) < 0)
			return -1;
		return (long)len;
	}
	while (pos < end) {
		const char *nl;

		if (pos[0] == '-' && (end - pos == 1 || pos[1] == '-')) {
			size_t n;
			enum kind k;

			nl = memchr(pos, '\n', (size_t)(end - pos));
			n = nl ? (size_t)(nl + 1 - pos) : (size_t)(end - pos);
			k = classify_delim(p, pos, n, nl != NULL);
			if (k == K_UNDECIDED) {
				if (flush(p, s, (size_t)(pos - s), HOLD_EOL) < 0 ||
				    start_carry(p, d, pos, end) < 0)
					return -1;
				return (long)len;
			}
			if (k == K_DELIM &&
			    delim_allowed(p, p->off + (uint64_t)(pos - d))) {
				uint64_t off = p->off + (uint64_t)(pos - d);

				if (flush(p, s, (size_t)(pos - s), DROP_EOL) < 0 ||
				    delimiter(p, off, off + n,
					      eol_before(p, d, pos)) < 0)
					return -1;
				return pos + n - d;
			}
		}
		nl = memchr(pos, '\n', (size_t)(end - pos));
		if (!nl) {
			if (flush(p, s, (size_t)(end - s), HOLD_CR) < 0)
				return -1;
			p->rest = REST_PLAIN;
			return (long)len;
		}
		pos = nl + 1;
	}
	if (flush(p, s, (size_t)(end - s), HOLD_EOL) < 0)
		return -1;
	return (long)len;
}

/* The rest of a line whose kind is known. */
static long feed_rest(struct mime_parser *p, const char *d, size_t len)
{
	const char *nl = memchr(d, '\n', len);
	size_t n = nl ? (size_t)(nl + 1 - d) : len;

	switch (p->rest) {
	case REST_PLAIN:
		if (flush(p, d, n, nl ? HOLD_EOL : HOLD_CR) < 0)
			return -1;
		break;
	case REST_FIELD:
		p->block_len += n;
		if (field_add(p, d, n) < 0)
			return -1;
		break;
	case REST_DELIM:
		/* The part the delimiter opened starts after its line. */
		if (!p->hit_close)
			p->cur->off_start = p->cur->off_body =
				p->cur->off_end = p->off + n;
		break;
	default:
		p->block_len += n;
		break;
	}
	if (nl)
		p->rest = REST_NONE;
	return (long)n;
}

/* The carried line is decided as k. */
static int resolve_carry(struct mime_parser *p, enum kind k, bool complete)
{
	const char *b = p->line.data;
	size_t n = p->line.len;
	int rc;

	for (;;) {
		switch (k) {
		case K_UNDECIDED:
			return 0;
		case K_DELIM:
			if (!delim_allowed(p, p->line_off))
				break;	/* limit hit: flat from here on */
			p->rest = REST_NONE;
			if (flush(p, NULL, 0, DROP_EOL) < 0)
				return -1;
			return delimiter(p, p->line_off, p->line_off + n,
					 p->line_eolb);
		case K_PLAIN:
			if (flush(p, b, n, complete ? HOLD_EOL : HOLD_CR) < 0)
				return -1;
			p->rest = complete ? REST_NONE : REST_PLAIN;
			return 0;
		default:
			p->rest = REST_NONE;
			rc = header_line(p, k, b, n, complete, p->line_off);
			if (rc <= 0)
				return rc;
			p->rest = REST_CARRY;
			break;
		}
		k = classify(p, b, n, complete);
		if (k == K_UNDECIDED && complete)
			k = K_PLAIN;	/* cannot happen; be safe */
	}
}

static long feed_carry(struct mime_parser *p, const char *d, size_t len)
{
	const char *nl = memchr(d, '\n', len);
	size_t n = nl ? (size_t)(nl + 1 - d) : len;
	bool complete = nl != NULL;
	enum kind k;

	if (p->line.len + n > DECIDE_MAX) {
		n = DECIDE_MAX - p->line.len;
		complete = false;
	}
	if (pn_buf_add(&p->line, d, n) < 0)
		return oom(p);
	k = classify(p, p->line.data, p->line.len, complete);
	if (resolve_carry(p, k, complete) < 0)
		return -1;
	return (long)n;
}

static long feed_step(struct mime_parser *p, const char *d, size_t len)
{
	switch (p->rest) {
	case REST_NONE:
		if (p->state == S_HEADERS)
			return feed_headers(p, d, len);
		return feed_body(p, d, len);
	case REST_CARRY:
		return feed_carry(p, d, len);
	default:
		return feed_rest(p, d, len);
	}
}

static void note_eol(struct mime_parser *p, const char *d, size_t len)
{
	const char *nl = memchr(d, '\n', len);

	if (!nl)
		return;
	p->eol_known = true;
	if (nl > d ? nl[-1] == '\r' : p->off > 0 && p->last2[1] == '\r')
		p->msg->eol = "\r\n";
	else
		p->msg->eol = "\n";
}

int mime_parser_feed(struct mime_parser *p, const char *data, size_t len,
		     struct pn_error *err)
{
	p->err = err;
	if (p->failed)
		return pn_error_set(err, PN_EINVAL,
				    "MIME parser: fed after an error");
	if (!p->msg)
		return pn_error_set(err, PN_EINVAL,
				    "MIME parser: fed after finish");
	if (!len)
		return 0;
	if (!p->eol_known)
		note_eol(p, data, len);
	while (len) {
		long used = feed_step(p, data, len);

		if (used < 0)
			return -1;
		if (used >= 2) {
			p->last2[0] = data[used - 2];
			p->last2[1] = data[used - 1];
		} else if (used == 1) {
			p->last2[0] = p->last2[1];
			p->last2[1] = data[0];
		}
		p->off += (uint64_t)used;
		data += used;
		len -= (size_t)used;
	}
	return 0;
}

/* ---- end of input -------------------------------------------------------- */

static int finish_headers(struct mime_parser *p)
{
	if (p->state != S_HEADERS)
		return 0;
	mime_defect_add(p->msg, MIME_DEFECT_TRUNCATED, p->off, p->cur,
			"input ended inside a header block");
	return end_headers_empty(p, p->off);
}

/* The innermost multipart still waiting for delimiters, or NULL. */
static struct mime_part *open_multipart(const struct mime_parser *p)
{
	size_t i;

	for (i = p->nfr; i-- > 0;)
		if (!p->fr[i].closed && p->fr[i].started)
			return p->fr[i].part;
	return NULL;
}

/* End of input inside an unclosed multipart: the parts below it end as
 * if a delimiter came, so the last line ending is not theirs (that is
 * what Python does, and what a sender that lost the close delimiter
 * meant). */
static int finish_parts(struct mime_parser *p)
{
	struct mime_part *q, *open = open_multipart(p);
	uint64_t e = p->off;

	if (open) {
		if (p->off >= 2 && p->last2[0] == '\r' && p->last2[1] == '\n')
			e -= 2;
		else if (p->off >= 1 && p->last2[1] == '\n')
			e -= 1;
		end_chain(p, open, e);
	}
	if (p->emitting) {
		if (flush(p, NULL, 0, open ? DROP_EOL : FLUSH_ALL) < 0)
			return -1;
		p->emitting = false;
		if (p->sink.end && p->sink.end(p->sink.ctx, p->cur))
			return fail(p, PN_EINVAL, "aborted by the leaf sink");
	}
	for (q = open ? open : p->cur; q; q = q->parent)
		q->off_end = p->off;
	pop_frames(p, 0);
	return 0;
}

int mime_parser_finish(struct mime_parser *p, struct mime_message **msg_out,
		       struct pn_error *err)
{
	p->err = err;
	*msg_out = NULL;
	if (p->failed || !p->msg)
		return pn_error_set(err, PN_EINVAL,
				    "MIME parser: finished after an error "
				    "or twice");
	if (p->rest == REST_CARRY) {
		enum kind k = classify(p, p->line.data, p->line.len, true);

		if (k == K_UNDECIDED)
			k = p->state == S_HEADERS ? K_BAD : K_PLAIN;
		if (resolve_carry(p, k, true) < 0)
			return -1;
	}
	p->rest = REST_NONE;
	if (finish_headers(p) < 0 || finish_parts(p) < 0)
		return -1;
	*msg_out = p->msg;
	p->msg = NULL;
	return 0;
}

struct mime_parser *mime_parser_new(const struct mime_limits *limits,
				    const struct mime_leaf_sink *sink)
{
	struct mime_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->msg = mime_message_alloc();
	if (!p->msg) {
		free(p);
		return NULL;
	}
	mime_limits_resolve(limits, &p->lim);
	p->msg->limits = p->lim;
	p->msg->root = mime_part_new(p->msg);
	if (!p->msg->root) {
		mime_message_free(&p->msg);
		free(p);
		return NULL;
	}
	if (sink) {
		p->sink = *sink;
		p->has_sink = true;
	}
	p->cur = p->msg->root;
	p->state = S_HEADERS;
	pn_buf_init(&p->line, 0);
	pn_buf_init(&p->field, 0);
	return p;
}

void mime_parser_free(struct mime_parser **pp)
{
	struct mime_parser *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	mime_message_free(&p->msg);
	pn_buf_free(&p->line);
	pn_buf_free(&p->field);
	free(p->fr);
	free(p);
	*pp = NULL;
}
