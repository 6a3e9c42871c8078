/* imap.h - the IMAP client: transports, a streaming response parser,
 * typed results, and every IMAP4rev1 command plus the common extensions.
 *
 * Layers, bottom up (each usable on its own):
 *   values     sequence sets as ranges, modified UTF-7, RFC 5092 URLs,
 *              SASL encodings, trace redaction: pure functions, no I/O;
 *   parser     struct imap_parser: fed any chunk size, returns "need
 *              more" until one whole response is parsed into a tree of
 *              struct imap_arg; literals above a size go to a sink in
 *              chunks instead of memory;
 *   decoders   typed views of a parsed response: response codes,
 *              CAPABILITY, FETCH items (ENVELOPE, BODYSTRUCTURE ...),
 *              LIST, STATUS, SEARCH/ESEARCH, NAMESPACE, QUOTA, ACL ...;
 *   transport  TCP, TLS (OpenSSL, verified by default), STARTTLS, a child
 *              process's stdin/stdout, COMPRESS=DEFLATE, timeouts;
 *   conn       struct imap_conn: greeting, capabilities, STARTTLS policy,
 *              login/SASL, tags, literals, pipelining, untagged events,
 *              and one function per command.
 *
 * imap/ knows nothing of MIME: bodies are bytes, BODYSTRUCTURE is a parsed
 * tree.  Every string a function returns is owned by the object it came
 * from and valid for as long as the comment says (usually: until the next
 * read on the connection, or until the parser is fed again).
 */
#ifndef IMAP_H
#define IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../lib/error.h"

struct pn_buf;
struct pn_arena;

/* ======================================================================
 * Values (seqset.c, utf7.c, url.c, sasl.c, redact.c)
 * ====================================================================== */

/* ---- sequence sets (RFC 3501 sequence-set, RFC 9051) ----
 * Kept as sorted, merged ranges; "*" is IMAP_SEQ_STAR (UINT32_MAX here,
 * resolved against a mailbox size only when asked).  Nothing is ever
 * expanded per element: 1:4294967295 is one range (the net-imap
 * CVE-2025-25186 case). */
#define IMAP_SEQ_STAR UINT32_MAX

struct imap_range {
	uint32_t lo, hi;	/* lo <= hi; hi may be IMAP_SEQ_STAR */
};

struct imap_seqset {
	struct imap_range *r;
	size_t n, cap;
	size_t max_ranges;	/* 0: 100000; parsing more is an error */
};

/* Parse "1:4,7,9:*" (order and overlaps normalised).  Errors name the
 * byte: "sequence set: bad number at byte 4". */
int imap_seqset_parse(struct imap_seqset *s, const char *text, size_t len,
		      struct pn_error *err) PN_WUR;
int imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi) PN_WUR;
bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n);
/* Number of elements with "*" taken as star_value (saturating). */
uint64_t imap_seqset_count(const struct imap_seqset *s, uint32_t star_value);
/* Canonical text ("1:4,7,9:*") appended to out. */
int imap_seqset_format(const struct imap_seqset *s, struct pn_buf *out) PN_WUR;
void imap_seqset_clear(struct imap_seqset *s);	/* empty, keeps memory */
void imap_seqset_free(struct imap_seqset *s);

/* ---- mailbox names (RFC 3501 5.1.3 modified UTF-7) ---- */
/* UTF-8 -> modified UTF-7, appended to out.  -1 on invalid UTF-8. */
int imap_utf7_encode(const char *utf8, size_t len, struct pn_buf *out,
		     struct pn_error *err) PN_WUR;
/* Modified UTF-7 -> UTF-8.  Strict: non-canonical or malformed input is
 * an error naming the byte (callers may then show the raw name). */
int imap_utf7_decode(const char *mutf7, size_t len, struct pn_buf *out,
		     struct pn_error *err) PN_WUR;

/* ---- RFC 5092 IMAP URLs ---- */
struct imap_url {
	bool tls;		/* imaps:// */
	char *user;		/* decoded, NULL if none */
	char *auth;		/* ";AUTH=mech", NULL if none ("*" allowed) */
	char *host;		/* without brackets for IPv6 */
	uint16_t port;		/* 0: the scheme's default */
	char *mailbox;		/* decoded UTF-8, NULL if none */
	uint32_t uidvalidity;	/* 0 if none */
	char *uid;		/* ";UID=..." as given, NULL if none */
	char *section;		/* ";SECTION=...", NULL if none */
	char *search;		/* "?query" decoded, NULL if none */
};

int imap_url_parse(const char *text, struct imap_url *out,
		   struct pn_error *err) PN_WUR;
void imap_url_free(struct imap_url *u);

/* ---- SASL (RFC 4422 and the mechanisms' RFCs) ----
 * A client-side exchange: start gives the initial response (for SASL-IR),
 * step answers each server challenge.  Challenges and responses are raw
 * bytes here; the connection does the base64. */
enum imap_sasl_mech {
	IMAP_SASL_PLAIN,	/* RFC 4616 */
	IMAP_SASL_LOGIN,	/* draft-murchison-sasl-login */
	IMAP_SASL_CRAM_MD5,	/* RFC 2195 */
	IMAP_SASL_XOAUTH2,	/* Google/Microsoft bearer */
	IMAP_SASL_OAUTHBEARER,	/* RFC 7628 */
	IMAP_SASL_EXTERNAL,	/* RFC 4422 A: the TLS client certificate */
};

struct imap_sasl_creds {
	const char *authzid;	/* may be NULL */
	const char *user;
	const char *secret;	/* password or OAuth token */
	const char *host;	/* OAUTHBEARER's host/port fields */
	uint16_t port;
};

struct imap_sasl;
/* Name as IMAP spells it ("PLAIN", "CRAM-MD5") and back (-1 unknown). */
const char *imap_sasl_name(enum imap_sasl_mech m);
int imap_sasl_lookup(const char *name);
/* True when the mechanism has an initial response (SASL-IR may send it). */
bool imap_sasl_has_initial(enum imap_sasl_mech m);
struct imap_sasl *imap_sasl_new(enum imap_sasl_mech m,
				const struct imap_sasl_creds *creds);
/* The next response to send (raw bytes, appended to out) for challenge
 * (NULL for the initial response).  *done_out is set when the mechanism
 * expects no more challenges.  XOAUTH2's and OAUTHBEARER's error JSON is
 * answered as their specifications say (an empty response, "\x01"; RFC
 * 7628 3.2.3) and the command then fails; a challenge the mechanism
 * cannot answer at all (a third LOGIN prompt) is an error. */
int imap_sasl_step(struct imap_sasl *s, const char *challenge, size_t len,
		   struct pn_buf *out, bool *done_out,
		   struct pn_error *err) PN_WUR;
/* Wipes the secret copies. */
void imap_sasl_free(struct imap_sasl **s);

/* ---- trace redaction ----
 * Redact one client line (without CRLF) for a trace: LOGIN's password,
 * AUTHENTICATE's initial response, and any continuation line the
 * connection marked sensitive become "<redacted>".  The conn calls this
 * for every line it traces; exposed for the REPL and tests. */
int imap_redact_line(const char *line, size_t len, bool sensitive,
		     struct pn_buf *out) PN_WUR;

/* ======================================================================
 * Parser (parser.c)
 * ====================================================================== */

/* 0 means the default shown. */
struct imap_limits {
	size_t max_line;	/* non-literal bytes of one response: 1 MiB */
	uint64_t max_literal;	/* one literal: 4 GiB (then an error) */
	size_t max_inline_literal;	/* literals up to this stay in the
					   tree; larger ones go to the sink
					   (or, without one, are an error):
					   256 KiB */
	unsigned max_depth;	/* list nesting: 64 */
	size_t max_items;	/* args in one response: 1000000 */
	size_t max_list;	/* items in one list: 100000 */
};

enum imap_arg_type {
	IMAP_ARG_NIL,
	IMAP_ARG_ATOM,		/* also numbers and "BODY[1.2]<0>" items */
	IMAP_ARG_STRING,	/* quoted string or an inline literal */
	IMAP_ARG_LITERAL_SINK,	/* a literal that went to the sink */
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	const char *str;	/* ATOM/STRING: NUL-terminated (a literal may
				   hold NULs: use len) */
	size_t len;
	bool literal;		/* STRING/LITERAL_SINK came as {n} */
	bool binary;		/* ... as ~{n} (RFC 3516) */
	uint64_t literal_size;	/* LITERAL_SINK */
	const struct imap_arg *list;	/* LIST: nlist items */
	size_t nlist;
};

enum imap_resp_kind {
	IMAP_RESP_TAGGED,	/* "a1 OK ..." */
	IMAP_RESP_UNTAGGED,	/* "* ..." */
	IMAP_RESP_CONTINUE,	/* "+ ..." */
};

enum imap_status {
	IMAP_STATUS_NONE,	/* untagged data, not a status response */
	IMAP_STATUS_OK,
	IMAP_STATUS_NO,
	IMAP_STATUS_BAD,
	IMAP_STATUS_PREAUTH,
	IMAP_STATUS_BYE,
};

/* A response.  Everything it points to lives in the parser's arena and is
 * valid until the parser is fed again (or reset). */
struct imap_response {
	enum imap_resp_kind kind;
	const char *tag;	/* TAGGED: the tag */
	enum imap_status status;
	/* Untagged data: "* 23 EXISTS" -> number 23, has_number, name
	 * "EXISTS"; "* LIST (...)" -> name "LIST"; upper-cased. */
	const char *name;
	uint32_t number;
	bool has_number;
	/* Status responses and CONTINUE: the resp-text.  code is the
	 * upper-cased response code atom or NULL; code_args its arguments
	 * (RFC 3501 resp-text-code; "[PERMANENTFLAGS (\Seen)]" has one list
	 * arg, "[UIDNEXT 5]" one atom); text the human text. */
	const char *code;
	const struct imap_arg *code_args;
	size_t ncode_args;
	const char *text;
	/* Untagged data: the arguments after name ("* FETCH": one list). */
	const struct imap_arg *args;
	size_t nargs;
	/* The raw response bytes without literals' contents (for traces,
	 * the REPL's --raw and error messages).  Literals that went inline
	 * are included. */
	const char *raw;
	size_t raw_len;
	/* Internal: the arena the response lives in (decoders allocate
	 * their structures there too). */
	struct pn_arena *arena;
};

/* Where a large literal's bytes go.  item names the FETCH item that the
 * literal is the value of ("BODY[]", "BINARY[2]", "RFC822.TEXT"), or NULL
 * when it is not a FETCH value; number is the response number (message
 * sequence number for FETCH).  begin/end bracket each literal. */
struct imap_literal_sink {
	void *ctx;
	int (*begin)(void *ctx, uint32_t number, const char *item,
		     uint64_t size, bool binary);
	int (*data)(void *ctx, const char *data, size_t len);
	int (*end)(void *ctx);
};

enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,	/* err says what and where; the stream
				   cannot be resynchronised */
	IMAP_PARSE_MORE = 0,	/* all input used, no whole response yet */
	IMAP_PARSE_DONE = 1,	/* *resp_out is one whole response */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_limits *limits);
void imap_parser_set_sink(struct imap_parser *p,
			  const struct imap_literal_sink *sink);
/* Feed bytes.  *used_out tells how many were consumed: on DONE the rest
 * belongs to the next response (feed it again, after using *resp_out).
 * Errors are exact: "response: literal of 5000000000 bytes exceeds the
 * 4294967296-byte limit (max_literal) at byte 17". */
enum imap_parse_result imap_parser_feed(struct imap_parser *p,
					const char *data, size_t len,
					size_t *used_out,
					const struct imap_response **resp_out,
					struct pn_error *err);
/* Forget a half-parsed response (after an error, a new connection). */
void imap_parser_reset(struct imap_parser *p);
void imap_parser_free(struct imap_parser **p);
/* True when the parser is inside a literal or a line (the connection
 * uses it to say "dropped mid-literal" instead of "dropped"). */
bool imap_parser_in_literal(const struct imap_parser *p);

/* Small helpers over args. */
bool imap_arg_is_atom(const struct imap_arg *a, const char *atom); /* ci */
/* ATOM that is a number (uint32 / uint64); false otherwise. */
bool imap_arg_u32(const struct imap_arg *a, uint32_t *out);
bool imap_arg_u64(const struct imap_arg *a, uint64_t *out);
/* NIL -> NULL; ATOM/STRING -> str. */
const char *imap_arg_nstring(const struct imap_arg *a);

/* ======================================================================
 * Typed decoders (response.c, bodystructure.c, envelope.c)
 * All take a parsed response (or arg) and fill a struct whose strings
 * point into the response (valid as long as it is), except where a
 * decoder allocates (then a _free says so).  They return 0, or -1 with
 * err saying what is malformed ("FETCH: ENVELOPE has 9 fields, not 10").
 * ====================================================================== */

/* CAPABILITY (untagged, or [CAPABILITY ...] code): a set of upper-cased
 * atoms. */
struct imap_caps;
struct imap_caps *imap_caps_new(void);
void imap_caps_free(struct imap_caps **c);
int imap_caps_set(struct imap_caps *c, const struct imap_arg *args,
		  size_t nargs, struct pn_error *err) PN_WUR;
bool imap_caps_has(const struct imap_caps *c, const char *cap);	/* ci */
/* The n-th capability (for listing), NULL past the end. */
const char *imap_caps_get(const struct imap_caps *c, size_t n);
/* "AUTH=PLAIN" -> true for imap_caps_auth(c, "PLAIN"). */
bool imap_caps_auth(const struct imap_caps *c, const char *mech);
/* "APPENDLIMIT=n": the limit, 0 when absent or unlimited. */
uint64_t imap_caps_appendlimit(const struct imap_caps *c);

/* ---- FETCH (RFC 3501 7.4.2, RFC 9051, RFC 3516, RFC 7162) ---- */

struct imap_address {
	const char *name;	/* NIL -> NULL; raw (RFC 2047 not decoded) */
	const char *adl;
	const char *mailbox;	/* group start: mailbox = group name, host NULL;
				   group end: both NULL */
	const char *host;
};

struct imap_envelope {
	const char *date, *subject;
	const struct imap_address *from, *sender, *reply_to, *to, *cc, *bcc;
	size_t nfrom, nsender, nreply_to, nto, ncc, nbcc;
	const char *in_reply_to, *message_id;
};

/* BODYSTRUCTURE / BODY, including extension data (RFC 3501 7.4.2). */
struct imap_body_param {
	const char *name, *value;
};

struct imap_body {
	const char *type, *subtype;	/* as sent (not case-folded) */
	const struct imap_body_param *params;
	size_t nparams;
	const char *id, *description, *encoding;
	uint64_t size;		/* body-fld-octets */
	uint32_t lines;		/* text and message/rfc822 */
	const struct imap_envelope *envelope;	/* message/rfc822 */
	const struct imap_body *parts;	/* multipart: nparts children;
					   message/rfc822: one (the body) */
	size_t nparts;
	/* extension data, present when has_ext */
	bool has_ext;
	const char *md5;
	const char *disposition;	/* NULL when NIL */
	const struct imap_body_param *disp_params;
	size_t ndisp_params;
	const struct imap_arg *language;	/* string or list, may be NULL */
	const char *location;
	const struct imap_arg *extension;	/* anything after, may be NULL */
	size_t nextension;
};

/* One BODY[section]<origin> / BINARY[section] / RFC822* value. */
struct imap_fetch_body {
	const char *item;	/* "BODY[1.2]", "BINARY[2]", "RFC822.HEADER"
				   (without <origin>) */
	const char *section;	/* "1.2", "" for BODY[] */
	uint32_t origin;	/* <origin>, has_origin */
	bool has_origin;
	bool binary;
	const char *data;	/* inline bytes, NULL when NIL or streamed */
	size_t len;
	bool streamed;		/* the bytes went to the literal sink */
	uint64_t size;		/* len, or the streamed literal's size */
};

enum imap_fetch_has {
	IMAP_FETCH_UID = 1 << 0,
	IMAP_FETCH_FLAGS = 1 << 1,
	IMAP_FETCH_INTERNALDATE = 1 << 2,
	IMAP_FETCH_SIZE = 1 << 3,	/* RFC822.SIZE */
	IMAP_FETCH_ENVELOPE = 1 << 4,
	IMAP_FETCH_BODYSTRUCTURE = 1 << 5,	/* BODYSTRUCTURE or BODY */
	IMAP_FETCH_MODSEQ = 1 << 6,
	IMAP_FETCH_BINARY_SIZE = 1 << 7,
};

struct imap_fetch {
	uint32_t seq;		/* message sequence number */
	unsigned has;		/* enum imap_fetch_has bits */
	uint32_t uid;
	const char *const *flags;	/* as sent ("\\Seen", "$Junk") */
	size_t nflags;
	time_t internaldate;	/* UTC (Internaldate2tuple) */
	int internaldate_tz;	/* zone offset in minutes */
	uint64_t size;
	uint64_t modseq;
	const struct imap_envelope *envelope;
	const struct imap_body *body;
	const struct imap_fetch_body *bodies;	/* BODY[...], BINARY[...] */
	size_t nbodies;
	const char *binary_size_section;	/* BINARY.SIZE[section] */
	uint64_t binary_size;
};

/* Decode an untagged FETCH response.  The structures live in the
 * response's arena (valid as long as the response). */
int imap_fetch_decode(const struct imap_response *r, struct imap_fetch *out,
		      struct pn_error *err) PN_WUR;

/* ---- flags (imaplib ParseFlags) ---- */
/* The flags of a "(\Seen $Junk)" list; NULL-terminated array in the
 * response's arena. */
int imap_flags_decode(const struct imap_response *r, const struct imap_arg *a,
		      const char *const **flags_out, size_t *n_out,
		      struct pn_error *err) PN_WUR;

/* ---- LIST / LSUB (RFC 3501, 5258 LIST-EXTENDED, 6154 SPECIAL-USE) ---- */
struct imap_list_entry {
	const char *const *attrs;	/* "\HasNoChildren", "\Sent" ... */
	size_t nattrs;
	char delimiter;		/* 0 when NIL */
	const char *name;	/* decoded to UTF-8 (modified UTF-7, or as
				   sent under UTF8=ACCEPT); raw_name as sent */
	const char *raw_name;
	const char *childinfo;	/* CHILDINFO extended item, or NULL */
	const char *oldname;	/* OLDNAME extended item, or NULL */
};

int imap_list_decode(const struct imap_response *r, bool utf8_accepted,
		     struct imap_list_entry *out, struct pn_error *err) PN_WUR;

/* ---- STATUS (RFC 3501, 7162 HIGHESTMODSEQ, 8438 SIZE) ---- */
enum imap_status_has {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_RECENT = 1 << 1,
	IMAP_STATUS_UIDNEXT = 1 << 2,
	IMAP_STATUS_UIDVALIDITY = 1 << 3,
	IMAP_STATUS_UNSEEN = 1 << 4,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 5,
	IMAP_STATUS_SIZE = 1 << 6,
	IMAP_STATUS_DELETED = 1 << 7,
};

struct imap_status_info {
	const char *name;	/* decoded UTF-8 */
	unsigned has;
	uint32_t messages, recent, uidnext, uidvalidity, unseen, deleted;
	uint64_t highestmodseq, size;
};

int imap_status_decode(const struct imap_response *r, bool utf8_accepted,
		       struct imap_status_info *out,
		       struct pn_error *err) PN_WUR;

/* ---- SEARCH / SORT (numbers) and ESEARCH (RFC 4731) ---- */
struct imap_search_result {
	struct imap_seqset set;	/* the numbers, as ranges */
	/* SORT: the numbers in the server's order (a set forgets it);
	 * malloc'd, NULL for SEARCH/ESEARCH. */
	uint32_t *order;
	size_t norder, order_cap;
	bool uid;		/* ESEARCH said UID */
	const char *tag;	/* ESEARCH (TAG "a3"), or NULL */
	bool has_min, has_max, has_count;
	uint32_t min, max, count;
	uint64_t modseq;	/* (MODSEQ n), 0 if absent */
};

/* Accumulate "* SEARCH 1 2 3", "* SORT ..." or "* ESEARCH ..." into out
 * (several SEARCH responses add up). */
int imap_search_decode(const struct imap_response *r,
		       struct imap_search_result *out,
		       struct pn_error *err) PN_WUR;
/* Free set and order (the struct itself is the caller's). */
void imap_search_result_free(struct imap_search_result *r);

/* ---- response codes (RFC 3501 7.1, RFC 5530, 4315 UIDPLUS, 7162) ---- */
struct imap_code_info {
	const char *code;	/* upper-cased, or NULL */
	/* numbers of UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ,
	 * APPENDLIMIT ... when the code has one */
	uint64_t number;
	bool has_number;
	/* APPENDUID uidvalidity uid-set / COPYUID uidvalidity src dst */
	uint32_t uidvalidity;
	struct imap_seqset src_uids, dst_uids;	/* caller frees */
	/* PERMANENTFLAGS / BADCHARSET list */
	const char *const *list;
	size_t nlist;
};

int imap_code_decode(const struct imap_response *r, struct imap_code_info *out,
		     struct pn_error *err) PN_WUR;
void imap_code_info_free(struct imap_code_info *c);

/* ---- the rest, as small typed views ---- */
struct imap_namespace_entry {
	const char *prefix;
	char delimiter;
};

struct imap_namespaces {
	const struct imap_namespace_entry *personal, *other, *shared;
	size_t npersonal, nother, nshared;
};

int imap_namespace_decode(const struct imap_response *r,
			  struct imap_namespaces *out,
			  struct pn_error *err) PN_WUR;

/* "* QUOTA root (STORAGE 10 512 MESSAGE 3 1000)" */
struct imap_quota_resource {
	const char *name;
	uint64_t usage, limit;
};

struct imap_quota {
	const char *root;
	const struct imap_quota_resource *res;
	size_t nres;
};

int imap_quota_decode(const struct imap_response *r, struct imap_quota *out,
		      struct pn_error *err) PN_WUR;

/* "* VANISHED (EARLIER) 1:3,7" (RFC 7162) */
int imap_vanished_decode(const struct imap_response *r, bool *earlier_out,
			 struct imap_seqset *uids, struct pn_error *err) PN_WUR;

/* ======================================================================
 * Transport (transport.c, tls.c, tunnel.c, compress.c)
 * ====================================================================== */

enum imap_tls_mode {
	IMAP_TLS_DEFAULT,	/* imaps: implicit; imap: STARTTLS required,
				   except on loopback where it is used when
				   offered */
	IMAP_TLS_IMPLICIT,
	IMAP_TLS_STARTTLS,	/* required everywhere, loopback included */
	IMAP_TLS_NONE,		/* plaintext (passwords still refused on a
				   network unless allow_plaintext) */
};

struct imap_tls_info {
	char version[16];	/* "TLSv1.3" */
	char cipher[64];
	char subject[256], issuer[256];
	char not_after[32];	/* "2027-01-01 00:00:00 UTC" */
	bool verified;		/* chain and host name verified */
	bool host_match;	/* the leaf names the host we dialled (checked
				   even when verification is off) */
	char chain[2048];	/* one line per certificate, leaf first */
};

/* ======================================================================
 * The connection (conn.c, command.c, commands.c, idle.c)
 * ====================================================================== */

struct imap_settings {
	/* where: host/port, or tunnel (a shell command whose stdin/stdout
	 * speak IMAP, imaplib's IMAP4_stream) */
	const char *host;
	uint16_t port;		/* 0: 993 implicit TLS, else 143 */
	const char *tunnel;
	enum imap_tls_mode tls;
	const char *cafile, *capath;	/* extra trust; NULL: system store */
	const char *client_cert, *client_key;	/* for EXTERNAL */
	bool insecure;		/* skip verification (says so loudly) */
	bool allow_plaintext;	/* let a password cross an unencrypted
				   network connection */
	unsigned connect_timeout_ms;	/* 0: 15000 */
	unsigned read_timeout_ms;	/* 0: 60000 */
	int trace_fd;		/* -1: none; the redacted wire, timestamped */
	struct imap_limits limits;
	bool compress;		/* COMPRESS=DEFLATE when offered */
};

/* Untagged responses arrive at any time; every one passes through here
 * (after the connection updated its own state from it).  A handler must
 * not call back into the connection. */
struct imap_events {
	void *ctx;
	void (*untagged)(void *ctx, const struct imap_response *r);
	/* Every tagged completion too, after its command's own handler
	 * (the REPL shows each, IDLE's and LOGIN's included); may be NULL. */
	void (*tagged)(void *ctx, const struct imap_response *r);
};

struct imap_conn;

/* Connect, read the greeting, get capabilities, do STARTTLS as the mode
 * requires (discarding anything the server sent before the handshake and
 * asking for capabilities again: CVE-2020-14954/CVE-2021-22946).  Errors
 * are one line: "imap.example.org:143: server does not offer STARTTLS;
 * refusing to continue in plaintext (--tls none allows it)". */
int imap_connect(const struct imap_settings *s, struct imap_conn **conn_out,
		 struct pn_error *err) PN_WUR;
void imap_conn_free(struct imap_conn **conn);	/* closes, no LOGOUT */
void imap_conn_set_events(struct imap_conn *c, const struct imap_events *ev);
void imap_conn_set_literal_sink(struct imap_conn *c,
				const struct imap_literal_sink *sink);

enum imap_conn_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

enum imap_conn_state imap_conn_state(const struct imap_conn *c);
const struct imap_caps *imap_conn_caps(const struct imap_conn *c);
/* The capabilities offered in plaintext before STARTTLS, NULL when there
 * was no STARTTLS.  For display only (postern probe): nothing from
 * before the handshake is believed. */
const struct imap_caps *imap_conn_caps_before_starttls(const struct imap_conn *c);
/* The greeting's text, and whether it was PREAUTH. */
const char *imap_conn_greeting(const struct imap_conn *c);
bool imap_conn_encrypted(const struct imap_conn *c);	/* TLS or tunnel */
/* NULL when not TLS. */
const struct imap_tls_info *imap_conn_tls_info(const struct imap_conn *c);
/* A human description of the peer, for messages: "host:port" or
 * "tunnel 'cmd'". */
const char *imap_conn_peer(const struct imap_conn *c);
/* Timestamps (ms) of connect/TLS for probes. */
void imap_conn_timings(const struct imap_conn *c, double *tcp_ms,
		       double *tls_ms);

/* The outcome of one command. */
struct imap_result {
	enum imap_status status;	/* OK, NO or BAD */
	char code[64];		/* response code atom, "" if none */
	char text[512];		/* the human text */
	double elapsed_ms;
};

/* ---- generic commands ----
 * A command is built from pieces, sent, then waited for.  Pieces are
 * quoted or turned into literals as needed; literals are synchronising,
 * or LITERAL+ / LITERAL- when the server offers them (LITERAL- only up to
 * 4096 bytes).  Several commands may be sent before waiting (pipelining);
 * waiting for one processes the responses of the others in order. */
struct imap_cmd;

/* tag is chosen by the connection ("a1", "a2" ...) unless given. */
struct imap_cmd *imap_cmd_new(struct imap_conn *c, const char *name,
			      const char *tag);
void imap_cmd_atom(struct imap_cmd *cmd, const char *atom);	/* as is */
void imap_cmd_astring(struct imap_cmd *cmd, const char *s);	/* quoted or literal */
void imap_cmd_mailbox(struct imap_cmd *cmd, const char *utf8_name);
void imap_cmd_number(struct imap_cmd *cmd, uint64_t n);
void imap_cmd_seqset(struct imap_cmd *cmd, const struct imap_seqset *s);
/* data must stay valid until imap_cmd_send returns. */
void imap_cmd_literal(struct imap_cmd *cmd, const void *data, size_t len,
		      bool binary);
/* Stream len bytes from fd as a literal (an APPEND of a large file). */
void imap_cmd_literal_fd(struct imap_cmd *cmd, int fd, uint64_t len,
			 bool binary);
/* Mark the command's arguments as secret for the trace (LOGIN). */
void imap_cmd_sensitive(struct imap_cmd *cmd);
/* Progress of large literals: called with bytes sent so far. */
void imap_cmd_progress(struct imap_cmd *cmd,
		       void (*fn)(void *ctx, uint64_t done, uint64_t total),
		       void *ctx);
/* Handler for untagged responses that arrive while this command runs
 * (called before the connection-wide events). */
void imap_cmd_on_untagged(struct imap_cmd *cmd,
			  void (*fn)(void *ctx, const struct imap_response *r),
			  void *ctx);
/* For the REPL, which passes what a human typed: text exactly as given
 * (no separator before it), the tagged completion as a response (raw
 * wire text included), and every literal of the command synchronising
 * even where LITERAL+ is offered (call before adding literals). */
void imap_cmd_raw(struct imap_cmd *cmd, const char *text);
void imap_cmd_on_tagged(struct imap_cmd *cmd,
			void (*fn)(void *ctx, const struct imap_response *r),
			void *ctx);
void imap_cmd_force_sync(struct imap_cmd *cmd);
/* Any piece failing (allocation) is reported here; on -1 the command
 * is gone (do not wait for it). */
int imap_cmd_send(struct imap_cmd *cmd, struct pn_error *err) PN_WUR;
/* Wait for the tagged completion; frees cmd.  Returns 0 when the
 * exchange completed (whatever the status: read res->status), -1 when the
 * connection failed ("connection closed by server during FETCH (inside a
 * 48213-byte literal)"). */
int imap_cmd_wait(struct imap_cmd *cmd, struct imap_result *res,
		  struct pn_error *err) PN_WUR;
/* Send a line typed by a human or a script as is (the REPL): the
 * connection adds the tag, handles {n} literals it contains by the same
 * rules as above.  Then wait as for imap_cmd_wait. */
int imap_command_line(struct imap_conn *c, const char *tag, const char *line,
		      struct imap_result *res, struct pn_error *err) PN_WUR;
/* Read and dispatch responses for up to timeout_ms without a command
 * (to see untagged data between commands). 0 when the time ran out.
 * timeout_ms 0 reads what has arrived, without waiting. */
int imap_poll(struct imap_conn *c, unsigned timeout_ms,
	      struct pn_error *err) PN_WUR;
/* The fd to wait on for readability (REPL and TUI event loops). */
int imap_conn_fd(const struct imap_conn *c);
/* Bytes already read and not yet dispatched: poll the fd only when this
 * is false, or call imap_poll(c, 0) first. */
bool imap_conn_buffered(const struct imap_conn *c);
/* Start (fd >= 0) or stop (-1) the redacted wire trace; the fd stays the
 * caller's. */
void imap_conn_set_trace(struct imap_conn *c, int fd);
/* The letter of the tags the connection chooses ("a1", "a2" ...): the
 * REPL numbers a human's commands a1, a2 ... and has the connection use
 * another letter for the ones it sends itself, so a trace never shows
 * one tag twice. */
void imap_conn_set_tag_prefix(struct imap_conn *c, char prefix);

/* ---- every command (imaplib's surface and the extensions) ----
 * Each returns 0 when the command completed with OK, and -1 otherwise
 * with err holding a one-line message naming the command and the
 * server's answer ("SELECT Archive: NO [NONEXISTENT] Mailbox doesn't
 * exist"), or the connection failure.  res (may be NULL) gets the
 * outcome either way. */

int imap_capability(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_noop(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_logout(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_login(struct imap_conn *c, const char *user, const char *password,
	       struct pn_error *err) PN_WUR;
int imap_authenticate(struct imap_conn *c, enum imap_sasl_mech mech,
		      const struct imap_sasl_creds *creds,
		      struct pn_error *err) PN_WUR;
int imap_enable(struct imap_conn *c, const char *const *caps, size_t n,
		struct pn_error *err) PN_WUR;
/* ID (RFC 2971): fields are n strings, name, value, name, value ... (a
 * NULL value is NIL; n == 0 sends ID NIL); the answer goes to the events. */
int imap_id(struct imap_conn *c, const char *const *fields, size_t n,
	    struct pn_error *err) PN_WUR;
/* out points into the connection: valid until the next imap_namespace or
 * imap_conn_free. */
int imap_namespace(struct imap_conn *c, struct imap_namespaces *out,
		   struct pn_error *err) PN_WUR;
int imap_compress(struct imap_conn *c, struct pn_error *err) PN_WUR;

/* What SELECT/EXAMINE learned. */
struct imap_mailbox_info {
	uint32_t exists, recent, unseen, uidvalidity, uidnext;
	uint64_t highestmodseq;	/* 0 when NOMODSEQ or not CONDSTORE */
	bool read_only;
	/* flags and permanent flags: NULL-terminated, malloc'd; freed by
	 * imap_mailbox_info_free */
	char **flags, **permanent_flags;
};

/* QRESYNC (RFC 7162): reopen with known uidvalidity/modseq; VANISHED and
 * FETCH responses arrive through the events. */
struct imap_qresync {
	uint32_t uidvalidity;
	uint64_t modseq;
	const struct imap_seqset *known_uids;	/* may be NULL */
};

int imap_select(struct imap_conn *c, const char *mailbox, bool read_only,
		const struct imap_qresync *qresync, bool condstore,
		struct imap_mailbox_info *out, struct pn_error *err) PN_WUR;
void imap_mailbox_info_free(struct imap_mailbox_info *m);
int imap_unselect(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_close(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_check(struct imap_conn *c, struct pn_error *err) PN_WUR;

int imap_create(struct imap_conn *c, const char *mailbox,
		const char *special_use, struct pn_error *err) PN_WUR;
int imap_delete(struct imap_conn *c, const char *mailbox,
		struct pn_error *err) PN_WUR;
int imap_rename(struct imap_conn *c, const char *from, const char *to,
		struct pn_error *err) PN_WUR;
int imap_subscribe(struct imap_conn *c, const char *mailbox, bool subscribe,
		   struct pn_error *err) PN_WUR;

/* LIST (LSUB when lsub) with optional LIST-EXTENDED selection and
 * return options ("SPECIAL-USE", "STATUS (MESSAGES UNSEEN)" ...).  Each
 * entry, and each STATUS answer of LIST-STATUS, is handed to fn while the
 * responses stream in: fn(ctx, e, NULL) for a LIST/LSUB entry, fn(ctx,
 * NULL, st) for a STATUS (which follows its mailbox's LIST); both are
 * valid only during the call. */
struct imap_list_opts {
	bool lsub;
	const char *select;	/* "SUBSCRIBED", "SPECIAL-USE", or NULL */
	const char *ret;	/* "SPECIAL-USE STATUS (MESSAGES)", or NULL */
};

int imap_list(struct imap_conn *c, const char *ref, const char *pattern,
	      const struct imap_list_opts *opts,
	      void (*fn)(void *ctx, const struct imap_list_entry *e,
			 const struct imap_status_info *st),
	      void *ctx, struct pn_error *err) PN_WUR;
/* items: "MESSAGES UNSEEN UIDNEXT UIDVALIDITY" (and SIZE, HIGHESTMODSEQ
 * where offered; NULL: those four).  out->name is NULL on return. */
int imap_status(struct imap_conn *c, const char *mailbox, const char *items,
		struct imap_status_info *out, struct pn_error *err) PN_WUR;

/* APPEND one or more messages (MULTIAPPEND when offered and n > 1),
 * refusing up front a message larger than APPENDLIMIT. */
struct imap_append_msg {
	const char *const *flags;	/* may be NULL */
	size_t nflags;
	time_t date;		/* 0: none (the server uses now) */
	int date_tz;		/* minutes east of UTC */
	const void *data;	/* in memory, or ... */
	int fd;			/* ... streamed from fd (when data is NULL) */
	uint64_t size;
	bool binary;		/* send as ~{n} when BINARY is offered */
};

struct imap_append_result {
	uint32_t uidvalidity;	/* 0 when the server has no UIDPLUS */
	struct imap_seqset uids;	/* caller frees */
};

int imap_append(struct imap_conn *c, const char *mailbox,
		const struct imap_append_msg *msgs, size_t n,
		struct imap_append_result *out, struct pn_error *err) PN_WUR;

int imap_expunge(struct imap_conn *c, const struct imap_seqset *uids,
		 struct pn_error *err) PN_WUR;	/* uids: UID EXPUNGE */
/* SEARCH (ESEARCH RETURN (...) when ret is given and offered); criteria
 * is the IMAP search program as text ("UNSEEN FROM alice"); charset may
 * be NULL ("UTF-8" is sent when criteria is not ASCII). */
int imap_search(struct imap_conn *c, bool uid, const char *charset,
		const char *criteria, const char *ret,
		struct imap_search_result *out, struct pn_error *err) PN_WUR;
/* SORT (RFC 5256): criteria "(REVERSE DATE)", then the search program. */
int imap_sort(struct imap_conn *c, bool uid, const char *sort_criteria,
	      const char *charset, const char *search,
	      struct imap_search_result *out, struct pn_error *err) PN_WUR;
/* THREAD: the raw thread list goes to fn as the response's args. */
int imap_thread(struct imap_conn *c, bool uid, const char *algorithm,
		const char *charset, const char *search,
		void (*fn)(void *ctx, const struct imap_response *r),
		void *ctx, struct pn_error *err) PN_WUR;
/* FETCH: items as IMAP text ("(UID FLAGS ENVELOPE BODY.PEEK[])");
 * modifiers e.g. "(CHANGEDSINCE 42 VANISHED)" or NULL.  Every FETCH
 * response is decoded and handed to fn as it arrives (large literals to
 * the connection's literal sink). */
int imap_fetch(struct imap_conn *c, bool uid, const struct imap_seqset *set,
	       const char *items, const char *modifiers,
	       void (*fn)(void *ctx, const struct imap_fetch *f),
	       void *ctx, struct pn_error *err) PN_WUR;
/* STORE: action "+FLAGS", "-FLAGS.SILENT", "FLAGS" ...; unchangedsince 0
 * for none (CONDSTORE).  MODIFIED uids go to *modified when not NULL. */
int imap_store(struct imap_conn *c, bool uid, const struct imap_seqset *set,
	       const char *action, const char *const *flags, size_t nflags,
	       uint64_t unchangedsince, struct imap_seqset *modified,
	       struct pn_error *err) PN_WUR;
/* COPY / MOVE (RFC 6851, falling back to COPY + STORE \Deleted + UID
 * EXPUNGE when MOVE is missing and UIDPLUS is there); COPYUID into out. */
int imap_copy(struct imap_conn *c, bool uid, bool move,
	      const struct imap_seqset *set, const char *mailbox,
	      struct imap_code_info *out, struct pn_error *err) PN_WUR;

/* IDLE (RFC 2177): start, then imap_poll to receive pushes; done sends
 * DONE and waits for the completion.  The connection re-IDLEs every
 * reidle_s seconds (0: 1740, under the 30-minute timeout servers use). */
int imap_idle_start(struct imap_conn *c, unsigned reidle_s,
		    struct pn_error *err) PN_WUR;
int imap_idle_done(struct imap_conn *c, struct pn_error *err) PN_WUR;
/* The same under a tag of the caller's (the REPL's "a7"); NULL: the
 * connection's.  A re-IDLE on the timer takes the connection's. */
int imap_idle_start_tagged(struct imap_conn *c, const char *tag,
			   unsigned reidle_s, struct pn_error *err) PN_WUR;

/* QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464): answers arrive
 * through fn (and the events) as untagged responses to decode. */
typedef void (*imap_untagged_fn)(void *ctx, const struct imap_response *r);
int imap_getquota(struct imap_conn *c, const char *root, imap_untagged_fn fn,
		  void *ctx, struct pn_error *err) PN_WUR;
int imap_getquotaroot(struct imap_conn *c, const char *mailbox,
		      imap_untagged_fn fn, void *ctx,
		      struct pn_error *err) PN_WUR;
int imap_setquota(struct imap_conn *c, const char *root,
		  const char *resources, struct pn_error *err) PN_WUR;
int imap_getacl(struct imap_conn *c, const char *mailbox, imap_untagged_fn fn,
		void *ctx, struct pn_error *err) PN_WUR;
int imap_setacl(struct imap_conn *c, const char *mailbox, const char *who,
		const char *rights, struct pn_error *err) PN_WUR;
int imap_deleteacl(struct imap_conn *c, const char *mailbox, const char *who,
		   struct pn_error *err) PN_WUR;
int imap_myrights(struct imap_conn *c, const char *mailbox,
		  imap_untagged_fn fn, void *ctx, struct pn_error *err) PN_WUR;
int imap_listrights(struct imap_conn *c, const char *mailbox, const char *who,
		    imap_untagged_fn fn, void *ctx,
		    struct pn_error *err) PN_WUR;
int imap_getmetadata(struct imap_conn *c, const char *mailbox,
		     const char *const *entries, size_t n, imap_untagged_fn fn,
		     void *ctx, struct pn_error *err) PN_WUR;
/* value NULL removes the entry. */
int imap_setmetadata(struct imap_conn *c, const char *mailbox,
		     const char *entry, const char *value,
		     struct pn_error *err) PN_WUR;

#endif
