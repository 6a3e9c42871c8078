/* mime.h - the MIME engine: parse, inspect, get/set content, build, write.
 *
 * A message is a tree of parts.  Parsing is streaming: the parser is fed
 * any chunk size and keeps only headers and offsets, never bodies; a
 * parsed part's body is read back from the message's source (a file
 * descriptor or a memory block) when someone asks for it.  So a message
 * with a 1 GB attachment parses in constant memory and the attachment is
 * decoded straight to disk.
 *
 * Content is reached through content managers (the email6 design): a
 * manager is a registry of get handlers keyed by "maintype/subtype", then
 * "maintype", then "" (the default), and of set handlers keyed by the kind
 * of content given ("text", "bytes", "message", "file", or a caller's own).
 * Three are provided: the raw-data manager, the file manager, and empty
 * managers for callers to fill (the object manager hook).
 *
 * Ownership: a struct mime_message owns every part in it.  Strings
 * returned by mime_part_* accessors belong to the part and stay valid
 * until the part is modified or freed, unless a comment says "caller
 * frees".
 */
#ifndef MIME_H
#define MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"

struct pn_buf;
struct mime_message;
struct mime_part;
struct mime_manager;

/* ---- limits and defects ------------------------------------------------ */

/* 0 in any field means the default shown. */
struct mime_limits {
	unsigned max_depth;		/* nested multipart/message levels: 64 */
	unsigned max_parts;		/* parts in one message: 10000 */
	size_t max_header_line;		/* one field, folded lines joined: 256 KiB */
	size_t max_header_block;	/* all fields of one part: 1 MiB */
	unsigned max_headers;		/* fields in one part: 5000 */
};

enum mime_defect_kind {
	MIME_DEFECT_NO_BOUNDARY,	/* multipart without boundary= */
	MIME_DEFECT_START_BOUNDARY_MISSING,	/* no delimiter line at all */
	MIME_DEFECT_CLOSE_BOUNDARY_MISSING,	/* ended without --b-- */
	MIME_DEFECT_BAD_CTE,		/* unknown Content-Transfer-Encoding */
	MIME_DEFECT_BAD_BASE64,		/* junk or truncated base64 */
	MIME_DEFECT_BAD_QP,		/* malformed =XX escapes */
	MIME_DEFECT_BAD_UUENCODE,
	MIME_DEFECT_TRUNCATED,		/* input ended inside headers */
	MIME_DEFECT_8BIT_HEADER,	/* raw non-ASCII bytes in a header */
	MIME_DEFECT_BAD_HEADER_LINE,	/* line that is neither field nor fold */
	MIME_DEFECT_BAD_CONTENT_TYPE,	/* unparsable type, text/plain used */
	MIME_DEFECT_BAD_CHARSET,	/* unknown or lying charset */
	MIME_DEFECT_BAD_ENCODED_WORD,	/* RFC 2047 word that does not decode */
	MIME_DEFECT_LIMIT,		/* a limit stopped structure parsing */
	MIME_DEFECT_MULTIPART_CTE,	/* multipart with base64/qp CTE */
};

struct mime_defect {
	enum mime_defect_kind kind;
	uint64_t offset;		/* byte offset in the source */
	const struct mime_part *part;	/* where, may be NULL */
	char msg[160];			/* human text */
};

const char *mime_defect_name(enum mime_defect_kind kind);
size_t mime_message_defect_count(const struct mime_message *msg);
const struct mime_defect *mime_message_defect(const struct mime_message *msg,
					      size_t i);

/* ---- parsing ----------------------------------------------------------- */

/* Called with a leaf's raw (still transfer-encoded) body bytes as they
 * stream past, for callers that want one pass over a non-seekable input
 * (hashing stdin, say).  The part's headers and derived fields are valid;
 * its end offset is not yet.  Return non-zero to abort the parse. */
struct mime_leaf_sink {
	void *ctx;
	int (*begin)(void *ctx, struct mime_part *part);
	int (*data)(void *ctx, struct mime_part *part, const char *raw,
		    size_t len);
	int (*end)(void *ctx, struct mime_part *part);
};

struct mime_parser;

/* limits and sink may be NULL. */
struct mime_parser *mime_parser_new(const struct mime_limits *limits,
				    const struct mime_leaf_sink *sink);
/* Feed the next len bytes.  Never "needs more": a message is complete only
 * when the caller says so with finish.  -1 only for a hard error (out of
 * memory, sink abort); malformed input becomes defects. */
int mime_parser_feed(struct mime_parser *p, const char *data, size_t len,
		     struct pn_error *err) PN_WUR;
/* End of input.  Hands the tree to the caller in *msg_out; the message has
 * no source yet (bodies cannot be read) unless one is attached with
 * mime_message_attach_*. */
int mime_parser_finish(struct mime_parser *p, struct mime_message **msg_out,
		       struct pn_error *err) PN_WUR;
void mime_parser_free(struct mime_parser **p);

/* Whole-input conveniences.  parse_file keeps the file open as the
 * source; parse_mem copies nothing and requires data to outlive the
 * message unless copy is true; parse_fd reads to EOF, spooling a large
 * non-seekable input to an unlinked temporary file.  sink may be NULL. */
int mime_parse_file(const char *path, const struct mime_limits *limits,
		    const struct mime_leaf_sink *sink,
		    struct mime_message **msg_out, struct pn_error *err) PN_WUR;
int mime_parse_fd(int fd, const struct mime_limits *limits,
		  const struct mime_leaf_sink *sink,
		  struct mime_message **msg_out, struct pn_error *err) PN_WUR;
int mime_parse_mem(const char *data, size_t len, bool copy,
		   const struct mime_limits *limits,
		   struct mime_message **msg_out, struct pn_error *err) PN_WUR;

/* Attach a source to a message produced by mime_parser_finish: the bytes
 * the parser was fed, in order.  attach_fd takes ownership of fd. */
int mime_message_attach_fd(struct mime_message *msg, int fd,
			   struct pn_error *err) PN_WUR;
int mime_message_attach_mem(struct mime_message *msg, const char *data,
			    size_t len, bool copy, struct pn_error *err) PN_WUR;

/* A new empty message (one root part with no headers), for building. */
struct mime_message *mime_message_new(void);
void mime_message_free(struct mime_message **msg);
struct mime_part *mime_message_root(const struct mime_message *msg);

/* ---- walking the tree -------------------------------------------------- */

struct mime_part *mime_part_parent(const struct mime_part *part);
struct mime_part *mime_part_first_child(const struct mime_part *part);
struct mime_part *mime_part_next(const struct mime_part *part);
size_t mime_part_child_count(const struct mime_part *part);
/* Depth below the root (root is 0). */
unsigned mime_part_depth(const struct mime_part *part);

/* Pre-order, depth-first, root first.  fn returns non-zero to stop; that
 * value is returned. */
typedef int (*mime_part_fn)(struct mime_part *part, void *ctx);
int mime_walk(struct mime_part *root, mime_part_fn fn, void *ctx);
/* iter_parts: the direct children of a multipart (none for a leaf). */
int mime_iter_parts(struct mime_part *part, mime_part_fn fn, void *ctx);

/* IMAP section number of a part (RFC 3501 6.4.5) into out; "" for the
 * root.  The root of a message/rfc822's nested message has the section of
 * the message part when it is a multipart, else section + ".1" (the body
 * of a nested non-multipart message is "3.1.1" when the message part is
 * "3.1").  Returns the length, or -1 if out is too small. */
int mime_part_section(const struct mime_part *part, char *out, size_t outsz);
/* The part IMAP would answer for BODY[section] ("" is the root); NULL if
 * there is none. */
struct mime_part *mime_part_by_section(struct mime_part *root,
				       const char *section);

/* ---- what a part is ---------------------------------------------------- */

enum mime_cte {
	MIME_CTE_7BIT,		/* also the default when absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_BASE64,
	MIME_CTE_QP,
	MIME_CTE_UUENCODE,	/* x-uuencode, uuencode, x-uue */
	MIME_CTE_UNKNOWN,	/* treated as 7bit, with a defect */
};

/* Lower-case "maintype/subtype", defaults applied: text/plain when absent
 * or invalid, message/rfc822 inside multipart/digest. */
const char *mime_part_type(const struct mime_part *part);
const char *mime_part_maintype(const struct mime_part *part);
const char *mime_part_subtype(const struct mime_part *part);
bool mime_part_is_multipart(const struct mime_part *part);
/* message/rfc822 or message/global with a parsed nested message. */
bool mime_part_is_message(const struct mime_part *part);
/* Lower-case charset parameter, NULL when absent. */
const char *mime_part_charset(const struct mime_part *part);
/* Lower-case disposition value ("inline", "attachment"), NULL if none. */
const char *mime_part_disposition(const struct mime_part *part);
bool mime_part_is_attachment(const struct mime_part *part);
/* Decoded (RFC 2231/2047) UTF-8 filename: Content-Disposition filename=,
 * else Content-Type name=; NULL if none. */
const char *mime_part_filename(const struct mime_part *part);
enum mime_cte mime_part_cte(const struct mime_part *part);
const char *mime_cte_name(enum mime_cte cte);
/* Content-ID without the angle brackets, NULL if none. */
const char *mime_part_content_id(const struct mime_part *part);
/* Decoded value of a Content-Type parameter, NULL if absent. */
const char *mime_part_param(const struct mime_part *part, const char *name);
/* Size in bytes of the raw (transfer-encoded) body. */
uint64_t mime_part_raw_size(const struct mime_part *part);

/* ---- headers ----------------------------------------------------------- */

/* Number of fields, and field i's name and raw value (unfolded: CRLF/LF
 * of folds removed, leading whitespace stripped; bytes as in the message). */
size_t mime_part_header_count(const struct mime_part *part);
const char *mime_part_header_name(const struct mime_part *part, size_t i);
const char *mime_part_header_value(const struct mime_part *part, size_t i);
/* Raw unfolded value of the first field called name (ASCII case-blind),
 * NULL when absent. */
const char *mime_part_header_get(const struct mime_part *part,
				 const char *name);
/* The first field called name decoded to UTF-8 (RFC 2047 words, raw
 * 8-bit text as UTF-8 or Latin-1).  Caller frees; NULL when absent. */
char *mime_part_header_decoded(const struct mime_part *part, const char *name);

/* Add a field at the end.  value is UTF-8; the writer encodes (RFC 2047)
 * and folds it.  CR or LF in name or value is refused (header injection);
 * a name must be printable ASCII without ':' or spaces. */
int mime_part_header_add(struct mime_part *part, const char *name,
			 const char *value, struct pn_error *err) PN_WUR;
/* Replace every field called name with one (added where the first was,
 * else at the end). */
int mime_part_header_set(struct mime_part *part, const char *name,
			 const char *value, struct pn_error *err) PN_WUR;
/* Remove every field called name; returns how many. */
size_t mime_part_header_remove(struct mime_part *part, const char *name);
/* Set (or add) one parameter of a structured header (Content-Type or
 * Content-Disposition), RFC 2231-encoding a non-ASCII value on write. */
int mime_part_set_param(struct mime_part *part, const char *header,
			const char *param, const char *value,
			struct pn_error *err) PN_WUR;

/* ---- header codecs (also used by the CLI) ------------------------------ */

/* Decode RFC 2047 encoded words in an unstructured value into UTF-8
 * (appended to out).  *defects_out (may be NULL) counts words that did not
 * decode and charsets that did not convert.  Never fails on bad input. */
int mime_decode_header(const char *raw, size_t len, struct pn_buf *out,
		       unsigned *defects_out) PN_WUR;

struct mime_address {
	char *name;		/* decoded display name, NULL if none */
	char *addr;		/* local@domain, NULL for a group marker */
	char *group;		/* the group this belongs to, or NULL */
};

/* Parse an address-list header value (decoded).  *list_out is an array
 * of *n_out entries; free with mime_addresses_free.  Malformed entries are
 * kept as best they can be (display name only). */
int mime_parse_addresses(const char *raw, struct mime_address **list_out,
			 size_t *n_out, struct pn_error *err) PN_WUR;
void mime_addresses_free(struct mime_address **list, size_t n);

/* Convert len bytes in charset to UTF-8, appended to out.  An unknown or
 * lying charset falls back to UTF-8 (if valid), else Latin-1, and sets
 * *defect_out (may be NULL). */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
			 struct pn_buf *out, bool *defect_out) PN_WUR;

/* ---- content managers -------------------------------------------------- */

/* A get handler reads part into arg (whose type is the handler's
 * contract); a set handler makes part hold content (whose type is keyed by
 * the kind string).  Both return 0 or -1 with err set. */
typedef int (*mime_get_fn)(struct mime_part *part, void *arg, void *ctx,
			   struct pn_error *err);
struct mime_set_opts;
typedef int (*mime_set_fn)(struct mime_part *part, const void *content,
			   const struct mime_set_opts *opts, void *ctx,
			   struct pn_error *err);

struct mime_manager *mime_manager_new(void);	/* empty: the object hook */
void mime_manager_free(struct mime_manager **mgr);
/* key: "maintype/subtype", "maintype" or "" (default).  Replaces an
 * existing handler for the same key. */
int mime_manager_add_get(struct mime_manager *mgr, const char *key,
			 mime_get_fn fn, void *ctx) PN_WUR;
int mime_manager_add_set(struct mime_manager *mgr, const char *kind,
			 mime_set_fn fn, void *ctx) PN_WUR;
/* Have mime_manager_free call fn(ctx), for state the handlers share (a
 * cache, an open library handle).  Several may be added; they run in
 * reverse order of adding. */
int mime_manager_add_cleanup(struct mime_manager *mgr, void (*fn)(void *ctx),
			     void *ctx) PN_WUR;
/* Look up by the part's type (full, then maintype, then "") and call.
 * PN_ENOTFOUND when no handler fits. */
int mime_get_content(const struct mime_manager *mgr, struct mime_part *part,
		     void *arg, struct pn_error *err) PN_WUR;
/* Refuses a multipart part (PN_EINVAL), clears the part's content headers
 * and body, calls the handler for kind, and adds MIME-Version to a root. */
int mime_set_content(const struct mime_manager *mgr, struct mime_part *part,
		     const char *kind, const void *content,
		     const struct mime_set_opts *opts,
		     struct pn_error *err) PN_WUR;

/* What set_content handlers accept (all optional; NULL/0 = default). */
struct mime_set_opts {
	const char *maintype;	/* required for "bytes" */
	const char *subtype;	/* "plain" for text, "rfc822" for message */
	const char *charset;	/* text: "utf-8" */
	const char *cte;	/* "7bit", "8bit", "base64", "quoted-printable",
				   "binary"; NULL chooses by content */
	const char *disposition;	/* "inline" / "attachment" */
	const char *filename;	/* UTF-8 */
	const char *cid;	/* Content-ID, with or without <> */
	const char *const *params;	/* NULL-terminated name, value, ... */
	const char *const *headers;	/* NULL-terminated "Name: value" ... */
};

/* The raw-data manager.  get: text -> struct mime_content TEXT (decoded to
 * UTF-8 through the charset); other leaves -> BYTES (transfer-decoded);
 * message/rfc822 -> MESSAGE (the nested root part); multipart -> error.
 * set kinds: "text" (const char * UTF-8), "bytes" (const struct mime_bytes
 * *), "message" (struct mime_message *, whose tree moves into the part;
 * the emptied message is still the caller's to free). */
struct mime_manager *mime_raw_manager_new(void);

enum mime_content_kind {
	MIME_CONTENT_TEXT,
	MIME_CONTENT_BYTES,
	MIME_CONTENT_MESSAGE,
};

struct mime_content {
	enum mime_content_kind kind;
	char *data;		/* TEXT/BYTES: malloc'd, NUL-terminated */
	size_t len;
	struct mime_part *message;	/* MESSAGE: owned by the tree */
	bool defect;		/* decoding or charset problems were met */
};

void mime_content_clear(struct mime_content *c);

struct mime_bytes {
	const void *data;
	size_t len;
};

/* The file manager.  get: any leaf; arg is a struct mime_file_target and
 * the transfer-decoded bytes are streamed to its fd (no charset
 * conversion).  set kind "file": content is a const char * path; the type
 * is detected with libmagic unless opts give one, the transfer encoding is
 * chosen by content (7bit, quoted-printable or base64), the filename
 * defaults to the path's basename, and the body is read from the file when
 * the message is written, so it need not fit in memory. */
struct mime_manager *mime_file_manager_new(void);

struct mime_file_target {
	int fd;
	uint64_t bytes_out;	/* set by the handler: bytes written */
	bool defect;		/* decoding problems were met */
};

/* Stream part's transfer-decoded body to a callback (what the file
 * manager uses; also for hashing).  fn returns non-zero to stop. */
typedef int (*mime_data_fn)(void *ctx, const char *data, size_t len);
int mime_part_decode(struct mime_part *part, mime_data_fn fn, void *ctx,
		     bool *defect_out, struct pn_error *err) PN_WUR;

/* Streaming transfer decoder: feed raw chunks of any size, decoded bytes
 * go to fn as they are ready.  For one-pass consumers (a leaf sink that
 * hashes stdin); mime_part_decode uses the same machinery. */
struct mime_decoder;
struct mime_decoder *mime_decoder_new(enum mime_cte cte, mime_data_fn fn,
				      void *ctx);
/* -1 when fn returned non-zero (or out of memory). */
int mime_decoder_feed(struct mime_decoder *d, const char *raw, size_t len)
	PN_WUR;
/* Flush; *defect_out (may be NULL) is set when the input was malformed
 * (bad base64, bad qp escapes, broken uuencode). */
int mime_decoder_finish(struct mime_decoder *d, bool *defect_out) PN_WUR;
void mime_decoder_free(struct mime_decoder **d);

/* ---- access ------------------------------------------------------------ */

/* email6 get_body: the best body part for prefs (an array of "related",
 * "html", "plain" in order of preference); NULL when there is none. */
struct mime_part *mime_get_body(struct mime_part *part,
				const char *const *prefs, size_t nprefs);
/* email6 iter_attachments: the direct subparts that are not body
 * candidates. */
int mime_iter_attachments(struct mime_part *part, mime_part_fn fn, void *ctx);

/* ---- building ---------------------------------------------------------- */

/* email6's promotion: turn part into multipart/<subtype>, moving its
 * existing content (Content-* headers and body) into a first subpart.
 * make_related refuses alternative and mixed (and related); make_alternative
 * refuses mixed (and alternative); make_mixed refuses mixed.  The error
 * reads "Cannot convert <existing> to <subtype>".  boundary may be NULL. */
int mime_make_related(struct mime_part *part, const char *boundary,
		      struct pn_error *err) PN_WUR;
int mime_make_alternative(struct mime_part *part, const char *boundary,
			  struct pn_error *err) PN_WUR;
int mime_make_mixed(struct mime_part *part, const char *boundary,
		    struct pn_error *err) PN_WUR;
/* Promote part if it is not already multipart/<kind>, then add a new
 * subpart whose content is set through mgr (kind/content/opts as for
 * mime_set_content).  add_related gives the subpart Content-Disposition
 * inline and add_attachment attachment unless opts set one.  The new part
 * is stored in *new_out when not NULL. */
int mime_add_related(struct mime_part *part, const struct mime_manager *mgr,
		     const char *kind, const void *content,
		     const struct mime_set_opts *opts, struct mime_part **new_out,
		     struct pn_error *err) PN_WUR;
int mime_add_alternative(struct mime_part *part, const struct mime_manager *mgr,
			 const char *kind, const void *content,
			 const struct mime_set_opts *opts,
			 struct mime_part **new_out, struct pn_error *err) PN_WUR;
int mime_add_attachment(struct mime_part *part, const struct mime_manager *mgr,
			const char *kind, const void *content,
			const struct mime_set_opts *opts,
			struct mime_part **new_out, struct pn_error *err) PN_WUR;
/* Append child (a detached part or another message's root, which is
 * detached from it) to multipart part. */
int mime_part_attach(struct mime_part *part, struct mime_part *child,
		     struct pn_error *err) PN_WUR;
/* clear: drop every header and the body/children.  clear_content: drop
 * the Content-* headers and the body/children. */
void mime_clear(struct mime_part *part);
void mime_clear_content(struct mime_part *part);

/* ---- writing ----------------------------------------------------------- */

struct mime_write_opts {
	/* NULL: unmodified parts are copied byte for byte and new ones use
	 * the message's line ending (CRLF for a built message).  "\r\n" or
	 * "\n": every line ending is made that. */
	const char *eol;
};

typedef int (*mime_sink_fn)(void *ctx, const char *data, size_t len);
int mime_write(struct mime_part *part, const struct mime_write_opts *opts,
	       mime_sink_fn fn, void *ctx, struct pn_error *err) PN_WUR;
int mime_write_fd(struct mime_part *part, const struct mime_write_opts *opts,
		  int fd, struct pn_error *err) PN_WUR;
int mime_write_buf(struct mime_part *part, const struct mime_write_opts *opts,
		   struct pn_buf *out, struct pn_error *err) PN_WUR;

#endif
