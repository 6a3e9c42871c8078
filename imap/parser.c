/* parser.c - the streaming IMAP response parser.
 *
 * A resumable state machine (RFC 3501 section 9 "response", RFC 9051):
 * each state is one short function that consumes what it can of the bytes
 * at hand and names the next state; imap_parser_feed() is the dispatcher.
 * Nothing here waits for a whole line: a response may arrive one byte at a
 * time and the tree comes out the same.  Tokens collect in one reused
 * buffer and move to the response's arena when complete; list items
 * collect in a stack of reused vectors and move to the arena when the
 * list closes, so every byte is copied a bounded number of times.
 *
 * Literals up to max_inline_literal join the tree; larger ones stream to
 * the sink in whatever chunks arrive, so a 2 GB literal costs no memory
 * (the mbsync CVE-2021-3657 lesson: never trust a server's size).
 */
#include "imap_p.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/arena.h"
#include "../lib/buf.h"

enum state {
	ST_IDLE,	/* between responses */
	ST_TAG,		/* tag, "*" or "+" */
	ST_WORD,	/* number / name / status word after the tag */
	ST_TEXT_START,	/* resp-text: "[" code or text */
	ST_CODE_NAME,
	ST_CODE_END,	/* after "]": optional SP */
	ST_TEXT,
	ST_ARG,		/* between arguments */
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_TILDE,	/* "~" then "{" for a binary literal, else an atom */
	ST_LIT_SIZE,
	ST_LIT_CR,	/* after "}": CRLF (or a bare LF) */
	ST_LIT_LF,
	ST_LIT_DATA,
	ST_CR,		/* end of line: CR seen, LF wanted */
	ST_DONE,
	ST_FAILED,
};

enum word_role {
	WORD_UNTAGGED,	/* "* 23 EXISTS" number, or "* LIST" name */
	WORD_NAME,	/* the name after a number */
	WORD_STATUS,	/* a tagged response's OK/NO/BAD */
};

struct vec {
	struct imap_arg *a;
	size_t n, cap;
};

struct imap_parser {
	bool raw_skip;		/* the last step fed a literal sink */
	struct imap_limits lim;
	struct imap_literal_sink sink;
	bool has_sink;

	enum state st;
	enum word_role role;
	bool in_code;		/* arguments of a resp-text-code */
	unsigned bracket;	/* '[' nesting inside the current atom */

	struct pn_buf tok;	/* the token being read */
	struct pn_buf raw;	/* the response as sent, minus sunk literals */
	struct vec *stack;	/* [0]: top level, [d]: list at depth d */
	size_t stack_cap;
	unsigned depth;

	uint64_t lit_size, lit_left, lit_at;
	bool lit_digits, lit_plus, lit_binary, lit_sink;

	uint64_t off;		/* bytes of this response consumed */
	size_t line_bytes;	/* non-literal bytes of this response */
	size_t items;
	struct pn_error *err;

	struct pn_arena *arena;
	struct imap_response resp;
};

/* ---- helpers -------------------------------------------------------- */

static int fail(struct imap_parser *p, size_t k, enum pn_errcode code,
		const char *fmt, ...) PN_PRINTF(4, 5);

static int fail(struct imap_parser *p, size_t k, enum pn_errcode code,
		const char *fmt, ...)
{
	char msg[PN_ERROR_MSG_MAX - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pn_error_set(p->err, code, "response: %s", msg);
	pn_error_at(p->err, (int64_t)(p->off + k), 0);
	p->st = ST_FAILED;
	return -1;
}

static int nomem(struct imap_parser *p, size_t k)
{
	return fail(p, k, PN_ENOMEM, "out of memory");
}

static bool is_eol(char c)
{
	return c == '\r' || c == '\n';
}

static char *tok_take(struct imap_parser *p)
{
	char *s = pn_arena_strndup(p->arena, p->tok.data ? p->tok.data : "",
				   p->tok.len);

	pn_buf_reset(&p->tok);
	return s;
}

static char *upper(char *s)
{
	for (char *c = s; c && *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return s;
}

/* Case-blind compare with an ASCII word; on every atom, so no library
 * call and out at the first byte when the length differs. */
static bool word_is(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!w[i] || (c >= 'a' && c <= 'z' ? c - 32 : c) !=
				     (unsigned char)w[i])
			return false;
	}
	return w[i] == '\0';
}

/* w is upper case. */
static bool tok_is(const struct imap_parser *p, const char *w)
{
	return word_is(p->tok.data ? p->tok.data : "", p->tok.len, w);
}

static int tok_add(struct imap_parser *p, size_t k, const char *s, size_t n)
{
	if (pn_buf_add(&p->tok, s, n) < 0)
		return fail(p, k, PN_ELIMIT, "token larger than the buffer "
			    "allows");
	return 0;
}

/* Append an argument to the innermost open list (or the top level). */
static int add_arg(struct imap_parser *p, size_t k, const struct imap_arg *a)
{
	struct vec *v = &p->stack[p->depth];

	if (p->items >= p->lim.max_items)
		return fail(p, k, PN_ELIMIT, "more than %zu arguments "
			    "(max_items)", p->lim.max_items);
	/* The top level is not a list: "* SEARCH" may name every message
	 * of a large mailbox (max_items and max_line still bound it). */
	if (p->depth > 0 && v->n >= p->lim.max_list)
		return fail(p, k, PN_ELIMIT, "list of more than %zu items "
			    "(max_list)", p->lim.max_list);
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct imap_arg *na = realloc(v->a, cap * sizeof(*na));

		if (!na)
			return nomem(p, k);
		v->a = na;
		v->cap = cap;
	}
	v->a[v->n++] = *a;
	p->items++;
	return 0;
}

/* Copy a finished level into the arena. */
static int level_take(struct imap_parser *p, size_t k, unsigned d,
		      const struct imap_arg **out, size_t *n_out)
{
	struct vec *v = &p->stack[d];
	struct imap_arg *a = NULL;

	if (v->n) {
		a = pn_arena_alloc(p->arena, v->n * sizeof(*a));
		if (!a)
			return nomem(p, k);
		memcpy(a, v->a, v->n * sizeof(*a));
	}
	*out = a;
	*n_out = v->n;
	v->n = 0;
	return 0;
}

static int push_list(struct imap_parser *p, size_t k)
{
	if (p->depth >= p->lim.max_depth)
		return fail(p, k, PN_ELIMIT, "list nesting deeper than %u "
			    "(max_depth)", p->lim.max_depth);
	if (p->depth + 1 >= p->stack_cap) {
		size_t cap = p->stack_cap * 2;
		struct vec *ns = realloc(p->stack, cap * sizeof(*ns));

		if (!ns)
			return nomem(p, k);
		memset(ns + p->stack_cap, 0,
		       (cap - p->stack_cap) * sizeof(*ns));
		p->stack = ns;
		p->stack_cap = cap;
	}
	p->depth++;
	p->stack[p->depth].n = 0;
	return 0;
}

static int pop_list(struct imap_parser *p, size_t k)
{
	struct imap_arg a = { .type = IMAP_ARG_LIST };

	if (level_take(p, k, p->depth, &a.list, &a.nlist) < 0)
		return -1;
	p->depth--;
	/* The list itself was not yet counted against max_items. */
	return add_arg(p, k, &a);
}

/* The end of the response's last line (RFC 3501 9: every response ends
 * with CRLF; a bare LF is tolerated: test servers and scripts send one). */
static int finish(struct imap_parser *p, size_t k)
{
	struct imap_response *r = &p->resp;

	if (p->in_code)
		return fail(p, k, PN_EPARSE, "unterminated response code");
	if (p->depth > 0)
		return fail(p, k, PN_EPARSE, "%u unclosed list%s at end of "
			    "line", p->depth, p->depth > 1 ? "s" : "");
	if (r->status == IMAP_STATUS_NONE && r->kind == IMAP_RESP_UNTAGGED &&
	    level_take(p, k, 0, &r->args, &r->nargs) < 0)
		return -1;
	p->st = ST_DONE;	/* raw is set once the last byte is in */
	return 0;
}

/* A CR or LF where a line may end: consumes it. */
static int line_end(struct imap_parser *p, size_t k, char c)
{
	if (c == '\r') {
		p->st = ST_CR;
		return 1;
	}
	return finish(p, k) < 0 ? -1 : 1;
}

/* ---- states: one function each; return bytes used or -1 ------------- */

static long st_cr(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (d[0] != '\n')
		return fail(p, 0, PN_EPARSE, "CR not followed by LF");
	return finish(p, 0) < 0 ? -1 : 1;
}

static long st_tag(struct imap_parser *p, const char *d, size_t n)
{
	struct imap_response *r = &p->resp;
	size_t i = 0;

	while (i < n && d[i] != ' ' && !is_eol(d[i]))
		i++;
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	if (p->tok.len == 0)
		return fail(p, i, PN_EPARSE, is_eol(d[i]) ? "empty line" :
			    "response starts with a space");
	if (tok_is(p, "+")) {
		/* RFC 3501 7.5: "+" SP (resp-text / base64); some
		 * servers send a bare "+". */
		r->kind = IMAP_RESP_CONTINUE;
		pn_buf_reset(&p->tok);
		p->st = ST_TEXT_START;
		return (long)i + (d[i] == ' ');
	}
	if (is_eol(d[i]))
		return fail(p, i, PN_EPARSE, "line ends after the tag");
	if (tok_is(p, "*")) {
		r->kind = IMAP_RESP_UNTAGGED;
		p->role = WORD_UNTAGGED;
		pn_buf_reset(&p->tok);
	} else {
		r->kind = IMAP_RESP_TAGGED;
		p->role = WORD_STATUS;
		r->tag = tok_take(p);
		if (!r->tag)
			return nomem(p, i);
	}
	p->st = ST_WORD;
	return (long)i + 1;
}

static enum imap_status status_word(const struct imap_parser *p)
{
	static const char *const w[] = { "OK", "NO", "BAD", "PREAUTH", "BYE" };

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (tok_is(p, w[i]))
			return (enum imap_status)(IMAP_STATUS_OK + i);
	return IMAP_STATUS_NONE;
}

static bool tok_number(const struct imap_parser *p, uint32_t *out)
{
	uint64_t v = 0;

	if (p->tok.len == 0 || p->tok.len > 10)
		return false;
	for (size_t i = 0; i < p->tok.len; i++) {
		if (!isdigit((unsigned char)p->tok.data[i]))
			return false;
		v = v * 10 + (uint64_t)(p->tok.data[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The word after "*" or the tag is complete (at byte k). */
static int word_done(struct imap_parser *p, size_t k, bool eol)
{
	struct imap_response *r = &p->resp;
	enum imap_status s = status_word(p);

	if (p->role == WORD_UNTAGGED && tok_number(p, &r->number)) {
		/* RFC 3501 7.3, 7.4: "* 23 EXISTS", "* 5 FETCH (...)" */
		if (eol)
			return fail(p, k, PN_EPARSE, "number without a name");
		r->has_number = true;
		p->role = WORD_NAME;
		pn_buf_reset(&p->tok);
		return 0;
	}
	if (p->role == WORD_STATUS) {
		if (s < IMAP_STATUS_OK || s > IMAP_STATUS_BAD)
			return fail(p, k, PN_EPARSE, "tagged status '%.40s' "
				    "is not OK, NO or BAD", p->tok.data);
		r->status = s;
		pn_buf_reset(&p->tok);
		p->st = ST_TEXT_START;
		return 0;
	}
	if (p->role == WORD_UNTAGGED && s != IMAP_STATUS_NONE) {
		/* RFC 3501 7.1: resp-cond-state / -bye / greeting */
		r->status = s;
		pn_buf_reset(&p->tok);
		p->st = ST_TEXT_START;
		return 0;
	}
	r->name = upper(tok_take(p));
	if (!r->name)
		return nomem(p, k);
	p->st = ST_ARG;
	return 0;
}

static long st_word(struct imap_parser *p, const char *d, size_t n)
{
	size_t i = 0;

	while (i < n && d[i] != ' ' && !is_eol(d[i]))
		i++;
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	if (p->tok.len == 0) {
		if (is_eol(d[i]))
			return fail(p, i, PN_EPARSE, "line ends after '%s'",
				    p->resp.tag ? p->resp.tag : "*");
		return (long)i + 1;	/* tolerate doubled spaces */
	}
	if (word_done(p, i, is_eol(d[i])) < 0)
		return -1;
	/* the next state sees the line end itself */
	return (long)i + (d[i] == ' ');
}

static long st_text_start(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (d[0] == '[') {
		/* RFC 3501 7.1 resp-text = ["[" resp-text-code "]" SP] text */
		p->st = ST_CODE_NAME;
		return 1;
	}
	p->st = ST_TEXT;
	return 0;
}

static long st_code_name(struct imap_parser *p, const char *d, size_t n)
{
	struct imap_response *r = &p->resp;
	size_t i = 0;

	while (i < n && d[i] != ' ' && d[i] != ']' && !is_eol(d[i]))
		i++;
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	if (is_eol(d[i]))
		return fail(p, i, PN_EPARSE, "unterminated response code");
	if (p->tok.len == 0)
		return fail(p, i, PN_EPARSE, "empty response code");
	r->code = upper(tok_take(p));
	if (!r->code)
		return nomem(p, i);
	if (d[i] == ' ') {
		p->in_code = true;
		p->st = ST_ARG;
	} else {
		p->st = ST_CODE_END;
	}
	return (long)i + 1;
}

static long st_code_end(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	p->st = ST_TEXT;
	return d[0] == ' ';
}

static long st_text(struct imap_parser *p, const char *d, size_t n)
{
	size_t i = 0;

	while (i < n && !is_eol(d[i]))
		i++;
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	p->resp.text = tok_take(p);
	if (!p->resp.text)
		return nomem(p, i);
	return line_end(p, i, d[i]) < 0 ? -1 : (long)i + 1;
}

static int end_code(struct imap_parser *p, size_t k)
{
	if (level_take(p, k, 0, &p->resp.code_args, &p->resp.ncode_args) < 0)
		return -1;
	p->in_code = false;
	p->st = ST_CODE_END;
	return 0;
}

static void lit_start(struct imap_parser *p, bool binary)
{
	p->lit_binary = binary;
	p->lit_size = 0;
	p->lit_digits = p->lit_plus = false;
	p->st = ST_LIT_SIZE;
}

static long st_arg(struct imap_parser *p, const char *d, size_t n)
{
	size_t sp = 0;

	switch (d[0]) {
	case ' ':
		/* also tolerates doubled and trailing SP */
		while (sp < n && d[sp] == ' ')
			sp++;
		return (long)sp;
	case '\r':
	case '\n':
		return line_end(p, 0, d[0]);
	case '(':
		return push_list(p, 0) < 0 ? -1 : 1;
	case ')':
		if (p->depth == 0)
			return fail(p, 0, PN_EPARSE, "unbalanced ')'");
		return pop_list(p, 0) < 0 ? -1 : 1;
	case ']':
		if (!p->in_code)
			break;	/* an atom char outside a code */
		if (p->depth > 0)
			return fail(p, 0, PN_EPARSE, "']' inside a list in "
				    "a response code");
		return end_code(p, 0) < 0 ? -1 : 1;
	case '"':
		p->st = ST_QUOTED;
		return 1;
	case '{':
		p->lit_at = p->off;
		lit_start(p, false);
		return 1;
	case '~':
		p->lit_at = p->off;
		p->st = ST_TILDE;
		return 1;
	}
	p->bracket = 0;
	p->st = ST_ATOM;
	return 0;
}

/* An atom is complete: NIL (RFC 3501 nil, any case) or an atom. */
static int atom_done(struct imap_parser *p, size_t k)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM };

	if (tok_is(p, "NIL"))
		a.type = IMAP_ARG_NIL;
	a.len = p->tok.len;
	a.str = tok_take(p);
	if (!a.str)
		return nomem(p, k);
	p->st = ST_ARG;
	return add_arg(p, k, &a);
}

/* Atoms end at SP, parens and line ends; a '[' extends one to its
 * matching ']' whatever is inside, so BODY[HEADER.FIELDS (FROM TO)]<0>
 * is one item (RFC 3501 7.4.2 msg-att-static "BODY" section).  Inside a
 * response code a ']' outside brackets ends the code. */
/* The whole atom is in this chunk: straight to the arena, not through
 * the token buffer (the common case). */
static int atom_direct(struct imap_parser *p, const char *d, size_t len)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM, .len = len };

	if (word_is(d, len, "NIL"))
		a.type = IMAP_ARG_NIL;
	a.str = pn_arena_strndup(p->arena, d, len);
	if (!a.str)
		return nomem(p, len);
	p->st = ST_ARG;
	return add_arg(p, len, &a);
}

static long st_atom(struct imap_parser *p, const char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = d[i];

		if (is_eol(c)) {
			if (p->bracket)
				return fail(p, i, PN_EPARSE, "unterminated "
					    "'[' in atom");
			break;
		}
		if (p->bracket) {
			if (c == '[')
				p->bracket++;
			else if (c == ']')
				p->bracket--;
			continue;
		}
		if (c == ' ' || c == '(' || c == ')' ||
		    (c == ']' && p->in_code))
			break;
		if (c == '[')
			p->bracket++;
	}
	if (i < n && p->tok.len == 0)
		return atom_direct(p, d, i) < 0 ? -1 : (long)i;
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	return atom_done(p, i) < 0 ? -1 : (long)i;
}

static long st_quoted(struct imap_parser *p, const char *d, size_t n)
{
	struct imap_arg a = { .type = IMAP_ARG_STRING };
	size_t i = 0;

	while (i < n && d[i] != '"' && d[i] != '\\' && !is_eol(d[i]))
		i++;
	if (i < n && d[i] == '"' && p->tok.len == 0) {
		/* The whole string is in this chunk: straight to the arena,
		 * not through the token buffer. */
		a.len = i;
		a.str = pn_arena_strndup(p->arena, d, i);
		if (!a.str)
			return nomem(p, i);
		p->st = ST_ARG;
		return add_arg(p, i, &a) < 0 ? -1 : (long)i + 1;
	}
	if (tok_add(p, 0, d, i) < 0)
		return -1;
	if (i == n)
		return (long)i;
	if (is_eol(d[i]))
		return fail(p, i, PN_EPARSE, "unterminated quoted string");
	if (d[i] == '\\') {
		p->st = ST_QUOTED_ESC;
		return (long)i + 1;
	}
	a.len = p->tok.len;
	a.str = tok_take(p);
	if (!a.str)
		return nomem(p, i);
	p->st = ST_ARG;
	return add_arg(p, i, &a) < 0 ? -1 : (long)i + 1;
}

static long st_quoted_esc(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	/* RFC 3501 quoted-specials are '"' and '\'; others are kept as
	 * the escaped byte rather than failing the whole response. */
	if (is_eol(d[0]))
		return fail(p, 0, PN_EPARSE, "unterminated quoted string");
	if (tok_add(p, 0, d, 1) < 0)
		return -1;
	p->st = ST_QUOTED;
	return 1;
}

static long st_tilde(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (d[0] == '{') {
		lit_start(p, true);	/* RFC 3516 literal8 */
		return 1;
	}
	if (tok_add(p, 0, "~", 1) < 0)
		return -1;
	p->bracket = 0;
	p->st = ST_ATOM;
	return 0;
}

/* The size is known: check it against the limits (at the '{'). */
static int lit_size_done(struct imap_parser *p)
{
	size_t k = (size_t)(p->lit_at - p->off);

	if (p->lit_size > p->lim.max_literal)
		return fail(p, k, PN_ELIMIT, "literal of %llu bytes exceeds "
			    "the %llu-byte limit (max_literal)",
			    (unsigned long long)p->lit_size,
			    (unsigned long long)p->lim.max_literal);
	p->lit_sink = p->lit_size > p->lim.max_inline_literal;
	if (p->lit_sink && !p->has_sink)
		return fail(p, k, PN_ELIMIT, "literal of %llu bytes exceeds "
			    "the %zu-byte inline limit (max_inline_literal) "
			    "and no literal sink is set",
			    (unsigned long long)p->lit_size,
			    p->lim.max_inline_literal);
	p->st = ST_LIT_CR;
	return 0;
}

static long st_lit_size(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (isdigit((unsigned char)d[0]) && !p->lit_plus) {
		uint64_t v = (uint64_t)(d[0] - '0');

		if (p->lit_size > (UINT64_MAX - v) / 10)
			return fail(p, 0, PN_ELIMIT, "literal size does not "
				    "fit in 64 bits");
		p->lit_size = p->lit_size * 10 + v;
		p->lit_digits = true;
		return 1;
	}
	if (d[0] == '+' && p->lit_digits && !p->lit_plus) {
		/* LITERAL+ (RFC 7888) is the client's; accepted */
		p->lit_plus = true;
		return 1;
	}
	if (d[0] == '}' && p->lit_digits)
		return lit_size_done(p) < 0 ? -1 : 1;
	return fail(p, 0, PN_EPARSE, "bad literal size");
}

/* The FETCH item a literal is the value of: the atom before it in the
 * FETCH list ("BODY[]<0>" exactly as sent), else NULL. */
static const char *lit_item(const struct imap_parser *p)
{
	const struct vec *v = &p->stack[1];

	if (p->resp.kind != IMAP_RESP_UNTAGGED || !p->resp.name ||
	    strcmp(p->resp.name, "FETCH") != 0 || p->depth != 1 ||
	    p->in_code || v->n % 2 == 0 ||
	    v->a[v->n - 1].type != IMAP_ARG_ATOM)
		return NULL;
	return v->a[v->n - 1].str;
}

static int lit_end(struct imap_parser *p, size_t k)
{
	struct imap_arg a = {
		.literal = true,
		.binary = p->lit_binary,
		.literal_size = p->lit_size,
	};

	if (p->lit_sink) {
		a.type = IMAP_ARG_LITERAL_SINK;
		a.str = "";
		if (p->sink.end && p->sink.end(p->sink.ctx) != 0)
			return fail(p, k, PN_EIO, "literal sink failed at "
				    "the end of a %llu-byte literal",
				    (unsigned long long)p->lit_size);
	} else {
		a.type = IMAP_ARG_STRING;
		a.len = p->tok.len;
		a.str = tok_take(p);
		if (!a.str)
			return nomem(p, k);
	}
	p->st = ST_ARG;
	return add_arg(p, k, &a);
}

static int lit_begin(struct imap_parser *p, size_t k)
{
	p->lit_left = p->lit_size;
	p->st = ST_LIT_DATA;
	pn_buf_reset(&p->tok);
	if (p->lit_sink && p->sink.begin &&
	    p->sink.begin(p->sink.ctx, p->resp.number, lit_item(p),
			  p->lit_size, p->lit_binary) != 0)
		return fail(p, k, PN_EIO, "literal sink refused a %llu-byte "
			    "literal", (unsigned long long)p->lit_size);
	if (p->lit_size == 0)
		return lit_end(p, k);
	return 0;
}

static long st_lit_cr(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (d[0] == '\r') {
		p->st = ST_LIT_LF;
		return 1;
	}
	if (d[0] == '\n')
		return lit_begin(p, 0) < 0 ? -1 : 1;
	return fail(p, 0, PN_EPARSE, "literal size not followed by CRLF");
}

static long st_lit_lf(struct imap_parser *p, const char *d, size_t n)
{
	(void)n;
	if (d[0] != '\n')
		return fail(p, 0, PN_EPARSE, "CR not followed by LF");
	return lit_begin(p, 0) < 0 ? -1 : 1;
}

static long st_lit_data(struct imap_parser *p, const char *d, size_t n)
{
	size_t k = n < p->lit_left ? n : (size_t)p->lit_left;

	if (p->lit_sink) {
		if (p->sink.data && p->sink.data(p->sink.ctx, d, k) != 0)
			return fail(p, 0, PN_EIO, "literal sink refused the "
				    "data");
	} else if (tok_add(p, 0, d, k) < 0) {
		return -1;
	}
	p->lit_left -= k;
	if (p->lit_left == 0 && lit_end(p, k) < 0)
		return -1;
	return (long)k;
}

typedef long (*state_fn)(struct imap_parser *p, const char *d, size_t n);

static const state_fn states[] = {
	[ST_TAG] = st_tag,
	[ST_WORD] = st_word,
	[ST_TEXT_START] = st_text_start,
	[ST_CODE_NAME] = st_code_name,
	[ST_CODE_END] = st_code_end,
	[ST_TEXT] = st_text,
	[ST_ARG] = st_arg,
	[ST_ATOM] = st_atom,
	[ST_QUOTED] = st_quoted,
	[ST_QUOTED_ESC] = st_quoted_esc,
	[ST_TILDE] = st_tilde,
	[ST_LIT_SIZE] = st_lit_size,
	[ST_LIT_CR] = st_lit_cr,
	[ST_LIT_LF] = st_lit_lf,
	[ST_LIT_DATA] = st_lit_data,
	[ST_CR] = st_cr,
};

/* ---- public --------------------------------------------------------- */

void imap_limits_resolve(const struct imap_limits *in, struct imap_limits *out)
{
	struct imap_limits l = { 0 };

	if (in)
		l = *in;
	out->max_line = l.max_line ? l.max_line : IMAP_DEFAULT_MAX_LINE;
	out->max_literal = l.max_literal ? l.max_literal :
			   IMAP_DEFAULT_MAX_LITERAL;
	out->max_inline_literal = l.max_inline_literal ?
		l.max_inline_literal : IMAP_DEFAULT_MAX_INLINE_LITERAL;
	out->max_depth = l.max_depth ? l.max_depth : IMAP_DEFAULT_MAX_DEPTH;
	out->max_items = l.max_items ? l.max_items : IMAP_DEFAULT_MAX_ITEMS;
	out->max_list = l.max_list ? l.max_list : IMAP_DEFAULT_MAX_LIST;
}

void *imap_response_alloc(const struct imap_response *r, size_t n)
{
	if (!r || !r->arena)
		return NULL;
	return pn_arena_alloc(r->arena, n ? n : 1);
}

struct imap_parser *imap_parser_new(const struct imap_limits *limits)
{
	struct imap_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	imap_limits_resolve(limits, &p->lim);
	p->stack_cap = 8;
	p->stack = calloc(p->stack_cap, sizeof(*p->stack));
	if (!p->stack) {
		free(p);
		return NULL;
	}
	pn_buf_init(&p->tok, 0);
	pn_buf_init(&p->raw, 0);
	p->st = ST_IDLE;
	return p;
}

void imap_parser_set_sink(struct imap_parser *p,
			  const struct imap_literal_sink *sink)
{
	p->has_sink = sink != NULL;
	if (sink)
		p->sink = *sink;
}

/* Start a response: the previous one's arena goes. */
static int begin_response(struct imap_parser *p)
{
	if (p->arena)
		pn_arena_reset(p->arena);
	else if (!(p->arena = pn_arena_new()))
		return -1;
	memset(&p->resp, 0, sizeof(p->resp));
	p->resp.arena = p->arena;
	pn_buf_reset(&p->tok);
	pn_buf_reset(&p->raw);
	p->stack[0].n = 0;
	p->depth = 0;
	p->in_code = false;
	p->off = 0;
	p->line_bytes = 0;
	p->items = 0;
	p->st = ST_TAG;
	return 0;
}

/* One state step over d[0..n): bytes used, or -1. */
static long step(struct imap_parser *p, const char *d, size_t n)
{
	enum state was = p->st;
	bool sunk = was == ST_LIT_DATA && p->lit_sink;
	long k;

	if (was != ST_LIT_DATA) {
		/* max_line counts what is not literal data, checked before
		 * anything is buffered. */
		size_t room = p->lim.max_line - p->line_bytes;

		if (room == 0)
			return fail(p, 0, PN_ELIMIT, "line longer than %zu "
				    "bytes (max_line)", p->lim.max_line);
		if (n > room)
			n = room;
	}
	k = states[was](p, d, n);
	if (k < 0)
		return -1;
	if (sunk)
		p->raw_skip = true;	/* the caller keeps these out of raw */
	if (was != ST_LIT_DATA)
		p->line_bytes += (size_t)k;
	p->off += (uint64_t)k;
	return k;
}

/* raw gets each contiguous run of consumed bytes once, not one append
 * per state step (most steps are a byte or a token). */
static int raw_flush(struct imap_parser *p, const char *from, const char *to)
{
	if (to > from && pn_buf_add(&p->raw, from, (size_t)(to - from)) < 0)
		return nomem(p, 0);
	return 0;
}

enum imap_parse_result imap_parser_feed(struct imap_parser *p,
					const char *data, size_t len,
					size_t *used_out,
					const struct imap_response **resp_out,
					struct pn_error *err)
{
	size_t i = 0;

	*used_out = 0;
	*resp_out = NULL;
	p->err = err;
	if (p->st == ST_FAILED) {
		pn_error_set(err, PN_EINVAL, "response: parser must be reset "
			     "after an error");
		return IMAP_PARSE_ERROR;
	}
	if ((p->st == ST_IDLE || p->st == ST_DONE) && begin_response(p) < 0) {
		pn_error_set(err, PN_ENOMEM, "response: out of memory");
		return IMAP_PARSE_ERROR;
	}
	size_t from = 0;	/* start of the run not yet in raw */

	while (i < len && p->st != ST_DONE) {
		long k;

		p->raw_skip = false;
		k = step(p, data + i, len - i);
		if (k < 0 || (p->raw_skip && raw_flush(p, data + from,
							data + i) < 0)) {
			*used_out = i;
			return IMAP_PARSE_ERROR;
		}
		i += (size_t)k;
		if (p->raw_skip)
			from = i;	/* literal data sent to the sink */
	}
	if (raw_flush(p, data + from, data + i) < 0) {
		*used_out = i;
		return IMAP_PARSE_ERROR;
	}
	*used_out = i;
	if (p->st != ST_DONE)
		return IMAP_PARSE_MORE;
	p->resp.raw = p->raw.data ? p->raw.data : "";
	p->resp.raw_len = p->raw.len;
	*resp_out = &p->resp;
	return IMAP_PARSE_DONE;
}

void imap_parser_reset(struct imap_parser *p)
{
	if (!p)
		return;
	pn_arena_free(&p->arena);
	memset(&p->resp, 0, sizeof(p->resp));
	pn_buf_reset(&p->tok);
	pn_buf_reset(&p->raw);
	p->depth = 0;
	p->in_code = false;
	p->st = ST_IDLE;
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = pp ? *pp : NULL;

	if (!p)
		return;
	for (size_t i = 0; i < p->stack_cap; i++)
		free(p->stack[i].a);
	free(p->stack);
	pn_buf_free(&p->tok);
	pn_buf_free(&p->raw);
	pn_arena_free(&p->arena);
	free(p);
	*pp = NULL;
}

bool imap_parser_in_literal(const struct imap_parser *p)
{
	if (!p || p->st == ST_IDLE || p->st == ST_DONE || p->st == ST_FAILED)
		return false;
	return p->st != ST_TAG || p->off > 0;
}
