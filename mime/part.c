/* part.c - parts and messages: allocation, tree links, fields derived
 * from the headers, IMAP section numbers, walking, the defects list. */
#include "mime_p.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Enough to show every problem of a broken message; a hostile one with a
 * million bad lines must not grow the list without bound. */
#define MAX_DEFECTS_STORED 1000

/* ---- limits, defects, CTE names ------------------------------------------ */

void mime_limits_resolve(const struct mime_limits *in, struct mime_limits *out)
{
	struct mime_limits l = { 0 };

	if (in)
		l = *in;
	out->max_depth = l.max_depth ? l.max_depth : MIME_DEFAULT_MAX_DEPTH;
	out->max_parts = l.max_parts ? l.max_parts : MIME_DEFAULT_MAX_PARTS;
	out->max_header_line = l.max_header_line ? l.max_header_line :
			       MIME_DEFAULT_MAX_HEADER_LINE;
	out->max_header_block = l.max_header_block ? l.max_header_block :
				MIME_DEFAULT_MAX_HEADER_BLOCK;
	out->max_headers = l.max_headers ? l.max_headers :
			   MIME_DEFAULT_MAX_HEADERS;
}

static const char *const defect_names[] = {
	[MIME_DEFECT_NO_BOUNDARY] = "no-boundary",
	[MIME_DEFECT_START_BOUNDARY_MISSING] = "start-boundary-missing",
	[MIME_DEFECT_CLOSE_BOUNDARY_MISSING] = "close-boundary-missing",
	[MIME_DEFECT_BAD_CTE] = "bad-cte",
	[MIME_DEFECT_BAD_BASE64] = "bad-base64",
	[MIME_DEFECT_BAD_QP] = "bad-qp",
	[MIME_DEFECT_BAD_UUENCODE] = "bad-uuencode",
	[MIME_DEFECT_TRUNCATED] = "truncated",
	[MIME_DEFECT_8BIT_HEADER] = "8bit-header",
	[MIME_DEFECT_BAD_HEADER_LINE] = "bad-header-line",
	[MIME_DEFECT_BAD_CONTENT_TYPE] = "bad-content-type",
	[MIME_DEFECT_BAD_CHARSET] = "bad-charset",
	[MIME_DEFECT_BAD_ENCODED_WORD] = "bad-encoded-word",
	[MIME_DEFECT_LIMIT] = "limit",
	[MIME_DEFECT_MULTIPART_CTE] = "multipart-cte",
};

const char *mime_defect_name(enum mime_defect_kind kind)
{
	if ((unsigned)kind >= sizeof(defect_names) / sizeof(defect_names[0]) ||
	    !defect_names[kind])
		return "unknown";
	return defect_names[kind];
}

size_t mime_message_defect_count(const struct mime_message *msg)
{
	return msg ? msg->ndefects : 0;
}

const struct mime_defect *mime_message_defect(const struct mime_message *msg,
					      size_t i)
{
	if (!msg || i >= msg->ndefects)
		return NULL;
	return &msg->defects[i];
}

void mime_defect_add(struct mime_message *msg, enum mime_defect_kind kind,
		     uint64_t offset, const struct mime_part *part,
		     const char *fmt, ...)
{
	struct mime_defect *d;
	va_list ap;

	if (!msg || msg->ndefects >= MAX_DEFECTS_STORED)
		return;
	if (msg->ndefects == msg->defects_cap) {
		size_t cap = msg->defects_cap ? msg->defects_cap * 2 : 8;
		struct mime_defect *n;

		n = realloc(msg->defects, cap * sizeof(*n));
		if (!n)
			return;	/* a lost defect is better than a failed parse */
		msg->defects = n;
		msg->defects_cap = cap;
	}
	d = &msg->defects[msg->ndefects++];
	d->kind = kind;
	d->offset = offset;
	d->part = part;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

static const struct {
	const char *name;
	enum mime_cte cte;
} cte_tokens[] = {
	{ "7bit", MIME_CTE_7BIT },
	{ "8bit", MIME_CTE_8BIT },
	{ "binary", MIME_CTE_BINARY },
	{ "base64", MIME_CTE_BASE64 },
	{ "quoted-printable", MIME_CTE_QP },
	{ "x-uuencode", MIME_CTE_UUENCODE },
	{ "uuencode", MIME_CTE_UUENCODE },
	{ "x-uue", MIME_CTE_UUENCODE },
};

/* Real mail writes "base64 ", "Base64; x" or "7bit (comment)": the first
 * token decides (RFC 2045 6.1 has no parameters, so the rest is junk). */
enum mime_cte mime_cte_parse(const char *value, bool *unknown_out)
{
	size_t i, n;

	if (unknown_out)
		*unknown_out = false;
	if (!value)
		return MIME_CTE_7BIT;
	value += strspn(value, " \t\r\n\"");
	n = strcspn(value, " \t\r\n;(\"");
	if (n == 0)
		return MIME_CTE_7BIT;
	for (i = 0; i < sizeof(cte_tokens) / sizeof(cte_tokens[0]); i++)
		if (strlen(cte_tokens[i].name) == n &&
		    strncasecmp(value, cte_tokens[i].name, n) == 0)
			return cte_tokens[i].cte;
	if (unknown_out)
		*unknown_out = true;
	return MIME_CTE_UNKNOWN;
}

const char *mime_cte_name(enum mime_cte cte)
{
	switch (cte) {
	case MIME_CTE_7BIT:
		return "7bit";
	case MIME_CTE_8BIT:
		return "8bit";
	case MIME_CTE_BINARY:
		return "binary";
	case MIME_CTE_BASE64:
		return "base64";
	case MIME_CTE_QP:
		return "quoted-printable";
	case MIME_CTE_UUENCODE:
		return "x-uuencode";
	case MIME_CTE_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ---- messages and parts -------------------------------------------------- */

struct mime_message *mime_message_alloc(void)
{
	struct mime_message *msg = calloc(1, sizeof(*msg));

	if (!msg)
		return NULL;
	msg->eol = "\r\n";	/* RFC 5322 2.1: built messages use CRLF */
	mime_limits_resolve(NULL, &msg->limits);
	return msg;
}

struct mime_message *mime_message_new(void)
{
	struct mime_message *msg = mime_message_alloc();

	if (!msg)
		return NULL;
	msg->root = mime_part_new(msg);
	if (!msg->root) {
		free(msg);
		return NULL;
	}
	return msg;
}

void mime_message_free(struct mime_message **msgp)
{
	struct mime_message *msg;

	if (!msgp || !*msgp)
		return;
	msg = *msgp;
	if (msg->root) {
		struct mime_part *root = msg->root;

		mime_part_detach(root);
		mime_part_free_tree(root);
	}
	mime_source_unref(&msg->src);
	free(msg->defects);
	free(msg);
	*msgp = NULL;
}

struct mime_part *mime_message_root(const struct mime_message *msg)
{
	return msg ? msg->root : NULL;
}

struct mime_part *mime_part_new(struct mime_message *msg)
{
	struct mime_part *part = calloc(1, sizeof(*part));

	if (!part)
		return NULL;
	part->msg = msg;
	part->cte = MIME_CTE_7BIT;
	pn_buf_init(&part->body, 0);
	if (msg)
		msg->nparts++;
	return part;
}

static void clear_derived(struct mime_part *part)
{
	free(part->type);
	free(part->maintype);
	free(part->subtype);
	mime_params_free(&part->params);
	mime_params_free(&part->disp_params);
	free(part->disposition);
	free(part->filename);
	free(part->content_id);
	free(part->charset_lc);
	part->type = part->maintype = part->subtype = NULL;
	part->disposition = part->filename = part->content_id = NULL;
	part->charset_lc = NULL;
	part->charset = NULL;
	part->boundary = NULL;
	part->cte = MIME_CTE_7BIT;
}

static void free_one(struct mime_part *part)
{
	mime_headers_free(part);
	clear_derived(part);
	mime_source_unref(&part->src);
	pn_buf_free(&part->body);
	free(part->body_path);
	if (part->msg && part->msg->nparts)
		part->msg->nparts--;
	free(part);
}

/* Iterative, so a tree nested as deep as the caller's limits allowed never
 * overflows the stack. */
void mime_part_free_tree(struct mime_part *part)
{
	struct mime_part *cur = part;

	if (!part)
		return;
	for (;;) {
		struct mime_part *parent;

		while (cur->first_child)
			cur = cur->first_child;
		if (cur == part)
			break;
		parent = cur->parent;
		parent->first_child = cur->next;
		if (cur->next)
			cur->next->prev = NULL;
		else
			parent->last_child = NULL;
		parent->nchildren--;
		free_one(cur);
		cur = parent;
	}
	free_one(part);
}

void mime_part_append_child(struct mime_part *parent, struct mime_part *child)
{
	child->parent = parent;
	child->next = NULL;
	child->prev = parent->last_child;
	if (parent->last_child)
		parent->last_child->next = child;
	else
		parent->first_child = child;
	parent->last_child = child;
	parent->nchildren++;
}

void mime_part_detach(struct mime_part *part)
{
	struct mime_part *parent = part->parent;

	if (parent) {
		if (part->prev)
			part->prev->next = part->next;
		else
			parent->first_child = part->next;
		if (part->next)
			part->next->prev = part->prev;
		else
			parent->last_child = part->prev;
		parent->nchildren--;
	} else if (part->msg && part->msg->root == part) {
		part->msg->root = NULL;
	}
	part->parent = part->next = part->prev = NULL;
}

static struct mime_part *walk_next(struct mime_part *cur,
				   const struct mime_part *top)
{
	if (cur->first_child)
		return cur->first_child;
	while (cur != top) {
		if (cur->next)
			return cur->next;
		cur = cur->parent;
	}
	return NULL;
}

void mime_part_set_message(struct mime_part *part, struct mime_message *msg)
{
	struct mime_part *cur;

	for (cur = part; cur; cur = walk_next(cur, part)) {
		if (cur->msg == msg)
			continue;
		if (cur->msg && cur->msg->nparts)
			cur->msg->nparts--;
		cur->msg = msg;
		if (msg)
			msg->nparts++;
	}
}

void mime_part_touch(struct mime_part *part, bool headers)
{
	struct mime_part *p;

	if (headers)
		part->headers_dirty = true;
	else
		part->content_dirty = true;
	for (p = part->parent; p; p = p->parent)
		p->child_dirty = true;
}

/* ---- derived fields ------------------------------------------------------ */

static char *lower_dup(const char *s)
{
	size_t i, n = strlen(s);
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (i = 0; i <= n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i];
	return d;
}

/* RFC 2045 5.1: type "/" subtype, both tokens. */
static bool valid_type(const char *t)
{
	const char *slash;

	if (!t)
		return false;
	slash = strchr(t, '/');
	return slash && slash != t && slash[1] && !strchr(slash + 1, '/');
}

static int set_type(struct mime_part *part, const char *type)
{
	const char *slash = strchr(type, '/');

	part->type = lower_dup(type);
	part->maintype = strndup(part->type ? part->type : "",
				 (size_t)(slash - type));
	part->subtype = part->type ? strdup(part->type + (slash - type) + 1) :
			NULL;
	if (!part->type || !part->maintype || !part->subtype)
		return -1;
	return 0;
}

static int derive_type(struct mime_part *part, bool record)
{
	struct mime_header *h = mime_header_find(part, "Content-Type");
	const char *deflt = part->in_digest ? "message/rfc822" : "text/plain";
	char *token = NULL;
	const char *v;
	int rc;

	if (h) {
		if (mime_parse_structured(h->value, &token, &part->params,
					  NULL) < 0)
			return -1;
		if (!valid_type(token)) {
			/* RFC 2045 5.2: an invalid type means text/plain;
			 * Python also uses text/plain, even in a digest. */
			deflt = "text/plain";
			if (record)
				mime_defect_add(part->msg,
						MIME_DEFECT_BAD_CONTENT_TYPE,
						part->off_start, part,
						"invalid Content-Type \"%.80s\", "
						"using text/plain", h->value);
			free(token);
			token = NULL;
		}
	}
	rc = set_type(part, token ? token : deflt);
	free(token);
	if (rc < 0)
		return -1;
	v = mime_param_get(part->params, "charset");
	if (v) {
		part->charset_lc = lower_dup(v);
		if (!part->charset_lc)
			return -1;
		part->charset = part->charset_lc;
	}
	v = mime_param_get(part->params, "boundary");
	if (v && *v)
		part->boundary = v;
	return 0;
}

static int derive_disposition(struct mime_part *part)
{
	struct mime_header *h = mime_header_find(part, "Content-Disposition");
	const char *fn;

	if (h && mime_parse_structured(h->value, &part->disposition,
				       &part->disp_params, NULL) < 0)
		return -1;
	if (part->disposition) {
		char *lc = lower_dup(part->disposition);

		if (!lc)
			return -1;
		free(part->disposition);
		part->disposition = lc;
	}
	fn = mime_param_get(part->disp_params, "filename");
	if (!fn)
		fn = mime_param_get(part->params, "name");
	if (fn) {
		part->filename = strdup(fn);
		if (!part->filename)
			return -1;
	}
	return 0;
}

static int derive_content_id(struct mime_part *part)
{
	struct mime_header *h = mime_header_find(part, "Content-ID");
	const char *v;
	size_t n;

	if (!h || !h->value)
		return 0;
	v = h->value + strspn(h->value, " \t\r\n");
	n = strlen(v);
	while (n && strchr(" \t\r\n", v[n - 1]))
		n--;
	if (n && v[0] == '<') {
		v++;
		n--;
		if (n && v[n - 1] == '>')
			n--;
	}
	part->content_id = strndup(v, n);
	return part->content_id ? 0 : -1;
}

static void derive_cte(struct mime_part *part, bool record)
{
	struct mime_header *h;
	bool unknown;

	h = mime_header_find(part, "Content-Transfer-Encoding");
	if (!h)
		return;
	part->cte = mime_cte_parse(h->value, &unknown);
	if (unknown && record)
		mime_defect_add(part->msg, MIME_DEFECT_BAD_CTE, part->off_start,
				part, "unknown Content-Transfer-Encoding "
				"\"%.60s\", treated as 7bit", h->value);
}

int mime_part_refresh(struct mime_part *part, bool record_defects)
{
	clear_derived(part);
	if (derive_type(part, record_defects) < 0 ||
	    derive_disposition(part) < 0 || derive_content_id(part) < 0) {
		clear_derived(part);
		return -1;
	}
	derive_cte(part, record_defects);
	return 0;
}

/* ---- walking ------------------------------------------------------------- */

struct mime_part *mime_part_parent(const struct mime_part *part)
{
	return part ? part->parent : NULL;
}

struct mime_part *mime_part_first_child(const struct mime_part *part)
{
	return part ? part->first_child : NULL;
}

struct mime_part *mime_part_next(const struct mime_part *part)
{
	return part ? part->next : NULL;
}

size_t mime_part_child_count(const struct mime_part *part)
{
	return part ? part->nchildren : 0;
}

unsigned mime_part_depth(const struct mime_part *part)
{
	unsigned d = 0;

	while (part && part->parent) {
		d++;
		part = part->parent;
	}
	return d;
}

int mime_walk(struct mime_part *root, mime_part_fn fn, void *ctx)
{
	struct mime_part *cur;
	int rc;

	for (cur = root; cur; cur = walk_next(cur, root)) {
		rc = fn(cur, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int mime_iter_parts(struct mime_part *part, mime_part_fn fn, void *ctx)
{
	struct mime_part *c, *next;
	int rc;

	if (!part || !mime_part_is_multipart(part))
		return 0;
	for (c = part->first_child; c; c = next) {
		next = c->next;
		rc = fn(c, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- section numbers (RFC 3501 6.4.5) ------------------------------------ */

/* The prefix the children (or nested root) of part are numbered under.  A
 * message's top-level body is part "1" when it is not a multipart ("Every
 * message has at least one part number"); any other part is numbered by
 * its own section. */
static int body_prefix(const struct mime_part *part, char *out, size_t outsz);

/* Append ".n" (or "n" at the start) at out[at]. */
static int put(char *out, size_t outsz, size_t at, unsigned long n)
{
	int w;

	if (at >= outsz)
		return -1;
	w = snprintf(out + at, outsz - at, at ? ".%lu" : "%lu", n);
	if (w < 0 || (size_t)w >= outsz - at)
		return -1;
	return (int)at + w;
}

static bool is_multipart_type(const struct mime_part *part)
{
	return mime_part_is_multipart(part) ||
	       !strcmp(mime_part_maintype(part), "multipart");
}

static size_t child_index(const struct mime_part *part)
{
	size_t i = 1;
	const struct mime_part *c;

	for (c = part->prev; c; c = c->prev)
		i++;
	return i;
}

int mime_part_section(const struct mime_part *part, char *out, size_t outsz)
{
	const struct mime_part *parent;
	int n;

	if (!part || !out || outsz == 0)
		return -1;
	parent = part->parent;
	if (!parent) {
		out[0] = '\0';
		return 0;
	}
	n = body_prefix(parent, out, outsz);
	if (n < 0)
		return -1;
	if (mime_part_is_multipart(parent))
		return put(out, outsz, (size_t)n,
			   (unsigned long)child_index(part));
	/* parent is a message/rfc822: part is its nested root, numbered by
	 * its type: a multipart shares the message part's section.  That
	 * holds for one with no parts (its start delimiter never came) and
	 * for one the parser would not split (no boundary, a limit) too:
	 * the type says multipart, whatever its body held. */
	if (is_multipart_type(part))
		return n;
	return put(out, outsz, (size_t)n, 1);
}

static int body_prefix(const struct mime_part *part, char *out, size_t outsz)
{
	if (!part->parent && !mime_part_is_multipart(part)) {
		if (outsz < 2)
			return -1;
		memcpy(out, "1", 2);
		return 1;
	}
	return mime_part_section(part, out, outsz);
}

/* Part number n inside message root r, counted as IMAP does: the children
 * of a multipart body, or "1" for a single body. */
static struct mime_part *in_message(struct mime_part *r, unsigned long n)
{
	if (mime_part_is_multipart(r))
		return NULL;
	return n == 1 ? r : NULL;
}

static struct mime_part *nth_child(struct mime_part *part, unsigned long n)
{
	struct mime_part *c;

	for (c = part->first_child; c && n > 1; c = c->next)
		n--;
	return n == 1 ? c : NULL;
}

static struct mime_part *section_step(struct mime_part *cur, unsigned long n,
				      bool at_root)
{
	struct mime_part *r;

	if (mime_part_is_multipart(cur))
		return nth_child(cur, n);
	if (at_root)
		return in_message(cur, n);
	if (!mime_part_is_message(cur))
		return NULL;
	r = cur->first_child;
	if (mime_part_is_multipart(r))
		return nth_child(r, n);
	if (is_multipart_type(r))
		return NULL;
	return in_message(r, n);
}

struct mime_part *mime_part_by_section(struct mime_part *root,
				       const char *section)
{
	struct mime_part *cur = root;
	const char *s = section;
	bool at_root = true;

	if (!root || !section)
		return NULL;
	while (*s) {
		unsigned long n = 0;

		if (*s < '0' || *s > '9')
			return NULL;
		while (*s >= '0' && *s <= '9') {
			if (n > 1000000)
				return NULL;
			n = n * 10 + (unsigned long)(*s++ - '0');
		}
		if (n == 0 || (*s && *s != '.') || (*s == '.' && !s[1]))
			return NULL;
		if (*s == '.')
			s++;
		cur = section_step(cur, n, at_root);
		if (!cur)
			return NULL;
		at_root = false;
	}
	return cur;
}

/* ---- what a part is ------------------------------------------------------ */

const char *mime_part_type(const struct mime_part *part)
{
	if (part && part->type)
		return part->type;
	return part && part->in_digest ? "message/rfc822" : "text/plain";
}

const char *mime_part_maintype(const struct mime_part *part)
{
	if (part && part->maintype)
		return part->maintype;
	return part && part->in_digest ? "message" : "text";
}

const char *mime_part_subtype(const struct mime_part *part)
{
	if (part && part->subtype)
		return part->subtype;
	return part && part->in_digest ? "rfc822" : "plain";
}

/* A multipart without a boundary cannot be split (the parser keeps it a
 * leaf); the parser also clears boundary on a multipart it refused to
 * enter because of a limit.  One whose start delimiter never came keeps
 * its boundary: a multipart with no parts.  A built one may get its
 * boundary only when written, so children count too. */
bool mime_part_is_multipart(const struct mime_part *part)
{
	if (!part || !part->maintype || strcmp(part->maintype, "multipart"))
		return false;
	return part->boundary || part->first_child;
}

bool mime_part_is_message(const struct mime_part *part)
{
	if (!part || !part->type || !part->first_child)
		return false;
	return !strcmp(part->type, "message/rfc822") ||
	       !strcmp(part->type, "message/global");
}

const char *mime_part_charset(const struct mime_part *part)
{
	return part ? part->charset : NULL;
}

const char *mime_part_disposition(const struct mime_part *part)
{
	return part ? part->disposition : NULL;
}

bool mime_part_is_attachment(const struct mime_part *part)
{
	return part && part->disposition &&
	       !strcmp(part->disposition, "attachment");
}

const char *mime_part_filename(const struct mime_part *part)
{
	return part ? part->filename : NULL;
}

enum mime_cte mime_part_cte(const struct mime_part *part)
{
	return part ? part->cte : MIME_CTE_7BIT;
}

const char *mime_part_content_id(const struct mime_part *part)
{
	return part ? part->content_id : NULL;
}

const char *mime_part_param(const struct mime_part *part, const char *name)
{
	if (!part || !name)
		return NULL;
	return mime_param_get(part->params, name);
}

uint64_t mime_part_raw_size(const struct mime_part *part)
{
	if (!part)
		return 0;
	if (part->content_dirty || (!part->src && part->off_end == 0))
		return part->body.len;
	return part->off_end >= part->off_body ?
	       part->off_end - part->off_body : 0;
}
