/* mime_p.h - the MIME engine's shared internals.  Only the files in mime/ include
 * this; everyone else sees mime.h.
 *
 * Which file does what:
 *   part.c        part/message allocation, tree links, derived fields
 *                 (type, charset, filename ... from the headers), sections,
 *                 walking, defects list
 *   source.c      the bytes a parsed message came from (fd or memory),
 *                 mime_parse_file/fd/mem, attach_*
 *   parser.c      the streaming parser (headers, boundaries, nesting)
 *   decode.c      streaming transfer decoding (base64, qp, uuencode),
 *                 mime_part_decode
 *   header.c      header list operations and the public header accessors
 *   structured.c  Content-Type / Content-Disposition values: token and
 *                 parameters, RFC 2231 continuations and charsets, RFC 2047
 *                 words inside quoted values
 *   rfc2047.c     encoded words, decode and encode
 *   charset.c     iconv with aliases and fallbacks
 *   address.c     address lists (display names, groups)
 *   fold.c        formatting a new header field for output: RFC 2047 /
 *                 RFC 2231 encoding and folding at 78
 *   manager.c     content manager registries, get/set dispatch
 *   raw_manager.c, file_manager.c   the provided managers
 *   access.c      get_body, iter_attachments
 *   builder.c     make_xxx, add_xxx, clear, attach
 *   writer.c      serialising a tree
 */
#ifndef MIME_P_H
#define MIME_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime.h"
#include "../lib/buf.h"

#define MIME_DEFAULT_MAX_DEPTH 64
#define MIME_DEFAULT_MAX_PARTS 10000
#define MIME_DEFAULT_MAX_HEADER_LINE (256 * 1024)
#define MIME_DEFAULT_MAX_HEADER_BLOCK (1024 * 1024)
#define MIME_DEFAULT_MAX_HEADERS 5000

/* Fill every 0 field of *out from in (may be NULL) or the defaults. */
void mime_limits_resolve(const struct mime_limits *in, struct mime_limits *out);

/* ---- source (source.c) ---------------------------------------------------
 * Reference-counted, because parts moved between messages (set_content
 * "message", attach) keep reading from where they were parsed. */
struct mime_source {
	int refs;
	int fd;			/* -1 when memory */
	const char *mem;
	size_t mem_len;
	char *mem_owned;	/* freed with the source when non-NULL */
};

struct mime_source *mime_source_new_fd(int fd);	/* takes fd */
struct mime_source *mime_source_new_mem(const char *data, size_t len,
					bool copy);
struct mime_source *mime_source_ref(struct mime_source *s);
void mime_source_unref(struct mime_source **s);
/* Read up to len bytes at off; *got_out is 0 only at end of source. */
int mime_source_read(struct mime_source *s, uint64_t off, char *buf,
		     size_t len, size_t *got_out, struct pn_error *err) PN_WUR;

/* ---- headers (header.c) -------------------------------------------------- */

struct mime_header {
	struct mime_header *next;
	char *name;		/* as written */
	char *value;		/* unfolded raw value (see mime.h) */
	char *raw;		/* the field exactly as parsed, including its
				   final line ending; NULL for fields added
				   through the API (the writer formats them) */
	size_t raw_len;
};

/* Parser entry: add a field from the raw bytes of one field (name, colon,
 * value, folds, final line ending).  Sets *eightbit_out when raw has bytes
 * >= 0x80.  Does not mark the part dirty. */
int mime_header_append_raw(struct mime_part *part, const char *raw,
			   size_t raw_len, bool *eightbit_out,
			   struct pn_error *err) PN_WUR;
void mime_headers_free(struct mime_part *part);
/* The first field called name, NULL if none. */
struct mime_header *mime_header_find(const struct mime_part *part,
				     const char *name);

/* ---- structured values (structured.c) ------------------------------------ */

struct mime_param {
	struct mime_param *next;
	char *name;		/* lower-case, without the RFC 2231 '*' parts */
	char *value;		/* decoded UTF-8 */
};

/* Parse "token; a=b; c*0*=..." (Content-Type or Content-Disposition).
 * *token_out is the lower-cased token ("text/plain", "attachment") or NULL
 * when missing/invalid; params are decoded (RFC 2231 continuations and
 * charset; RFC 2047 words inside quoted strings, as real mail has them).
 * *defects_out counts problems met (may be NULL).  Fails only on ENOMEM. */
int mime_parse_structured(const char *value, char **token_out,
			  struct mime_param **params_out,
			  unsigned *defects_out) PN_WUR;
const char *mime_param_get(const struct mime_param *list, const char *name);
void mime_params_free(struct mime_param **list);

/* ---- output formatting (fold.c) ------------------------------------------ */

/* Append "Name: value" + eol to out for a field added through the API:
 * value is UTF-8; unstructured values get RFC 2047 words where needed,
 * address headers (From, To, Cc, Bcc, Reply-To, Sender, Resent-*) encode
 * only display names, Content-Type/Disposition values are already ASCII
 * (RFC 2231 applied by mime_part_set_param).  Lines fold at 78 where
 * there is whitespace to fold at. */
int mime_header_format(const char *name, const char *value, const char *eol,
		       struct pn_buf *out) PN_WUR;
/* The RFC 2231 form of one parameter, appended as "; name=value" or
 * "; name*=utf-8''%xx..." (with continuations when long). */
int mime_param_format(const char *name, const char *value,
		      struct pn_buf *out) PN_WUR;

/* ---- the tree (part.c) --------------------------------------------------- */

struct mime_part {
	struct mime_message *msg;	/* the message that owns this part */
	struct mime_part *parent, *first_child, *last_child, *next, *prev;
	size_t nchildren;

	struct mime_header *headers, *headers_tail;
	size_t nheaders;

	/* Derived from the headers by mime_part_refresh(). */
	char *type;		/* "text/plain" */
	char *maintype;		/* "text" */
	char *subtype;		/* "plain" */
	struct mime_param *params;	/* Content-Type parameters */
	struct mime_param *disp_params;	/* Content-Disposition parameters */
	char *disposition;	/* lower-case or NULL */
	char *filename;		/* decoded or NULL */
	char *content_id;	/* without <> or NULL */
	const char *charset;	/* points into params, lower-cased copy */
	char *charset_lc;
	const char *boundary;	/* points into params */
	enum mime_cte cte;
	bool in_digest;		/* parent is multipart/digest: default type
				   becomes message/rfc822 */

	/* Where the part lies in its source; valid while src != NULL.
	 * [off_start, off_body) is the header block including the blank
	 * line; [off_body, off_end) the body.  For a multipart, the bytes
	 * between children are delimiter lines (the CRLF before a delimiter
	 * belongs to the delimiter, RFC 2046 5.1.1), before the first child
	 * the preamble, after the last the close delimiter and epilogue; the
	 * writer copies them as they are. */
	struct mime_source *src;
	uint64_t off_start, off_body, off_end;
	/* The parsed header block had no blank line before the body (or
	 * none at all, at end of input); the writer must not add one. */
	bool no_blank_line;

	/* What changed since parsing.  headers_dirty: write the fields one by
	 * one (parsed ones raw, new ones formatted).  content_dirty: the body
	 * or the list of children changed, write them from the fields below
	 * (and delimiter lines with the boundary).  A modified descendant sets
	 * child_dirty on every ancestor, which then copies its unmodified
	 * stretches and recurses. */
	bool headers_dirty, content_dirty, child_dirty;

	/* Content of a built leaf.  body holds transfer-encoded bytes with
	 * LF line endings (the writer emits the wanted eol), except for cte
	 * binary which is written as is.  Or, from the file manager,
	 * body_path names a file whose bytes the writer encodes with
	 * body_path_cte as it writes. */
	struct pn_buf body;
	char *body_path;
	enum mime_cte body_path_cte;
};

struct mime_message {
	struct mime_part *root;
	struct mime_source *src;	/* may be NULL (built or detached) */
	const char *eol;	/* "\r\n" or "\n": what the source used first,
				   CRLF for a built message */
	struct mime_limits limits;
	unsigned nparts;
	struct mime_defect *defects;
	size_t ndefects, defects_cap;
};

struct mime_message *mime_message_alloc(void);	/* no root */
/* A new part owned by msg (msg->nparts counts it); not linked anywhere. */
struct mime_part *mime_part_new(struct mime_message *msg);
/* Free part, its headers, derived fields, body and all descendants.  Does
 * not unlink it from its parent: callers detach first. */
void mime_part_free_tree(struct mime_part *part);
void mime_part_append_child(struct mime_part *parent, struct mime_part *child);
/* Unlink from parent and siblings; the part stays owned by the caller. */
void mime_part_detach(struct mime_part *part);
/* Give part and its descendants to msg (after a move between messages). */
void mime_part_set_message(struct mime_part *part, struct mime_message *msg);
/* Recompute every derived field from the headers.  Records defects on
 * part->msg when record_defects (the parser does; builders do not). */
int mime_part_refresh(struct mime_part *part, bool record_defects) PN_WUR;
/* Note that part's headers (headers=true) or content changed: sets the
 * flag and child_dirty on every ancestor. */
void mime_part_touch(struct mime_part *part, bool headers);
/* Record a defect (kind, offset, part, printf text) on msg.  Never fails:
 * defects past a cap of 1000 are counted but not stored. */
void mime_defect_add(struct mime_message *msg, enum mime_defect_kind kind,
		     uint64_t offset, const struct mime_part *part,
		     const char *fmt, ...) PN_PRINTF(5, 6);
enum mime_cte mime_cte_parse(const char *value, bool *unknown_out);

/* ---- managers (manager.c) ------------------------------------------------ */

/* Shared by the set handlers: apply opts' disposition, filename, cid,
 * params and extra headers to part (after the handler set Content-Type
 * and CTE). */
int mime_apply_set_opts(struct mime_part *part,
			const struct mime_set_opts *opts,
			struct pn_error *err) PN_WUR;
/* Choose a CTE for data the way email6 does: 7bit when ASCII with lines
 * <= 78, else the shorter of quoted-printable and base64 (judged on the
 * first lines).  text says line breaks are line breaks (not data). */
enum mime_cte mime_choose_cte(const char *data, size_t len, bool text);
/* Encode data with cte into part->body (LF line endings). */
int mime_part_set_body(struct mime_part *part, const char *data, size_t len,
		       enum mime_cte cte, struct pn_error *err) PN_WUR;

#endif
