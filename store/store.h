/* store.h - one mailbox API over IMAP and Maildir.
 *
 * The browser, the REPL's helpers, `postern ls/fetch/append/copy` and a
 * later sync engine talk to mailboxes through this and nothing else, so
 * they work the same on an IMAP server and on a Maildir.  Each back end is
 * a small vtable (store_p.h) in the spirit of isync's drivers.
 *
 * IMAP's shapes are the lingua franca: flags are IMAP flag names
 * ("\\Seen", "$Forwarded", keywords), dates are INTERNALDATE (UTC plus
 * the zone offset), a message's envelope and structure are struct
 * imap_envelope and struct imap_body, search criteria are IMAP SEARCH
 * text.  The Maildir back end computes them the way Dovecot would serve
 * the same directory (maildir flags D F R S T and P, dovecot-keywords,
 * the file's mtime as INTERNALDATE, BODYSTRUCTURE from the MIME parser).
 *
 * Ownership: a store owns its connection or directory handle; a folder
 * belongs to its store and must be freed before it.  Anything handed to a
 * callback is valid only during the call.  Strings returned by accessors
 * belong to the object and live as long as it does.
 *
 * Read-only is a real mode: a store or folder opened read-only sends no
 * command and writes no file that could change a mailbox (IMAP: EXAMINE
 * and .PEEK only; Maildir: no uidlist, flag or cache write).
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../lib/error.h"

struct imap_conn;
struct imap_seqset;
struct imap_envelope;
struct imap_body;

struct store;
struct store_folder;

enum store_kind {
	STORE_IMAP,
	STORE_MAILDIR,
};

/* ---- opening a store ----------------------------------------------------- */

/* Over a connected, authenticated IMAP connection.  On success the store
 * takes the connection (store_free logs out and frees it); on failure it
 * stays the caller's. */
int store_open_imap(struct imap_conn *conn, bool read_only,
		    struct store **out, struct pn_error *err) PN_WUR;
/* Over a Maildir root (Maildir++ or the fs layout, detected).  A missing
 * or empty directory is created unless read_only. */
int store_open_maildir(const char *root, bool read_only, struct store **out,
		       struct pn_error *err) PN_WUR;
void store_free(struct store **s);

enum store_kind store_kind(const struct store *s);
bool store_read_only(const struct store *s);
/* "imap.example.org:993", "tunnel 'cmd'" or the Maildir's path. */
const char *store_label(const struct store *s);
/* The hierarchy separator ('.', '/'), 0 when the server has none. */
char store_separator(const struct store *s);
/* The IMAP connection under an IMAP store, NULL for a Maildir (the REPL
 * and probes speak to it directly). */
struct imap_conn *store_imap_conn(struct store *s);

/* ---- folders --------------------------------------------------------------- */

struct store_folder_info {
	const char *name;	/* UTF-8 ("INBOX", "Archive/2024") */
	const char *raw_name;	/* as the server sent it or as it is on
				   disk (modified UTF-7) */
	char separator;
	const char *const *attrs;	/* IMAP LIST attributes, as a server
					   would send them ("\\HasNoChildren") */
	size_t nattrs;
	const char *special_use;	/* "\\Sent" ... or NULL */
	bool noselect;
	bool subscribed;
	bool has_status;	/* the counters below are filled */
	uint32_t messages, unseen, uidnext, uidvalidity;
	uint64_t size;		/* bytes; has_size */
	bool has_size;
};

/* Every folder (IMAP: LIST "" "*" with SPECIAL-USE; Maildir: every
 * directory), INBOX first on Maildir, in the server's order on IMAP.
 * status: fill the counters (LIST-STATUS in one round trip where offered,
 * else STATUS per folder; Maildir: a read-only scan).  fn returns
 * non-zero to stop (that value is returned). */
int store_list(struct store *s, bool status,
	       int (*fn)(void *ctx, const struct store_folder_info *f),
	       void *ctx, struct pn_error *err) PN_WUR;
int store_create(struct store *s, const char *name,
		 struct pn_error *err) PN_WUR;
int store_delete(struct store *s, const char *name,
		 struct pn_error *err) PN_WUR;
int store_rename(struct store *s, const char *from, const char *to,
		 struct pn_error *err) PN_WUR;
int store_subscribe(struct store *s, const char *name, bool subscribe,
		    struct pn_error *err) PN_WUR;

/* Open a folder: IMAP SELECT (EXAMINE when read_only or the store is),
 * Maildir scan and uidlist.  An IMAP store has one open folder at a
 * time: opening another while one is open is refused. */
int store_folder_open(struct store *s, const char *name, bool read_only,
		      struct store_folder **out, struct pn_error *err) PN_WUR;
/* IMAP: UNSELECT (or CLOSE-free re-EXAMINE when UNSELECT is missing, so
 * nothing is expunged by accident). */
void store_folder_free(struct store_folder **f);
const char *store_folder_name(const struct store_folder *f);
bool store_folder_read_only(const struct store_folder *f);
uint32_t store_folder_uidvalidity(const struct store_folder *f);
uint32_t store_folder_uidnext(const struct store_folder *f);
uint32_t store_folder_count(const struct store_folder *f);

/* ---- the message index ----------------------------------------------------- */

enum store_items {
	STORE_ITEM_FLAGS = 1 << 0,	/* flags, internaldate, size: always */
	STORE_ITEM_ENVELOPE = 1 << 1,
	STORE_ITEM_STRUCTURE = 1 << 2,
};

struct store_msg {
	uint32_t uid;
	const char *const *flags;	/* IMAP names, system flags first */
	size_t nflags;
	time_t internaldate;	/* UTC */
	int internaldate_tz;	/* minutes east of UTC */
	uint64_t size;		/* RFC822.SIZE (CRLF line ends counted) */
	/* STORE_ITEM_ENVELOPE: raw strings as IMAP's ENVELOPE has them
	 * (RFC 2047 words not decoded). */
	const struct imap_envelope *envelope;
	/* STORE_ITEM_STRUCTURE */
	const struct imap_body *body;
};

/* Hand every message in uids (NULL: all) to fn in UID order as the data
 * streams in (IMAP: one UID FETCH; Maildir: the header cache), so a large
 * folder's first screen can be drawn before the last message arrives.
 * fn returns non-zero to stop early (on IMAP the rest of the responses is
 * read and dropped); that value is returned. */
int store_index(struct store_folder *f, const struct imap_seqset *uids,
		unsigned items,
		int (*fn)(void *ctx, const struct store_msg *m), void *ctx,
		struct pn_error *err) PN_WUR;

/* UIDs matching an IMAP SEARCH program ("UNSEEN FROM alice SINCE
 * 1-Nov-2026").  On Maildir the program is evaluated here: ALL, the flag
 * keys (SEEN, UNSEEN, ANSWERED, DELETED, DRAFT, FLAGGED and their UN-
 * forms, NEW, OLD, RECENT), KEYWORD/UNKEYWORD, FROM, TO, CC, BCC,
 * SUBJECT, HEADER, BODY, TEXT, BEFORE/ON/SINCE, SENTBEFORE/SENTON/
 * SENTSINCE, LARGER, SMALLER, UID, sequence sets, NOT, OR and
 * parentheses.  *out is filled (its old content replaced). */
int store_search(struct store_folder *f, const char *criteria,
		 struct imap_seqset *out, struct pn_error *err) PN_WUR;

/* ---- bodies ------------------------------------------------------------------ */

enum store_body_kind {
	STORE_BODY_RAW,		/* the whole message, as stored */
	STORE_BODY_HEADER,	/* the header block, blank line included */
	STORE_BODY_PART,	/* one part, transfer encoding undone
				   (IMAP BINARY) */
	STORE_BODY_PART_ENCODED,	/* one part as stored (BODY[section];
					   also HEADER, TEXT, N.MIME) */
};

/* Where bodies go: begin(uid, size) - data ... - end, once per message.
 * size is exact for RAW and HEADER, a hint (may be 0) otherwise.
 * Returning non-zero from begin or data skips the rest of that message
 * (the next begins as usual). */
struct store_sink {
	void *ctx;
	int (*begin)(void *ctx, uint32_t uid, uint64_t size);
	int (*data)(void *ctx, const char *data, size_t len);
	int (*end)(void *ctx, uint32_t uid);
};

/* Stream the bodies of the messages in uids, in UID order, never whole in
 * memory.  section: for the PART kinds ("2", "1.2", "3.1.1"; TEXT,
 * HEADER, MIME forms with ENCODED).  Read-only: never sets \Seen.  A UID
 * with no such message or part is skipped; *n_out (may be NULL) counts
 * the messages delivered. */
int store_fetch(struct store_folder *f, const struct imap_seqset *uids,
		enum store_body_kind kind, const char *section,
		const struct store_sink *sink, size_t *n_out,
		struct pn_error *err) PN_WUR;

/* ---- changing messages -------------------------------------------------------- */

/* Add (add = true) or remove flags from every message in uids. */
int store_set_flags(struct store_folder *f, const struct imap_seqset *uids,
		    bool add, const char *const *flags, size_t n,
		    struct pn_error *err) PN_WUR;
/* Remove exactly the messages in uids (IMAP: \Deleted then UID EXPUNGE;
 * refused without UIDPLUS rather than expunging other \Deleted mail). */
int store_expunge(struct store_folder *f, const struct imap_seqset *uids,
		  struct pn_error *err) PN_WUR;

/* New messages.  flags as IMAP names; date 0 means now. */
struct store_new_msg {
	const void *data;	/* in memory, or ... */
	int fd;			/* ... streamed from fd when data is NULL */
	uint64_t size;
	const char *const *flags;
	size_t nflags;
	time_t date;
	int date_tz;		/* minutes east of UTC */
};

/* Append n messages to the folder called name (IMAP: one MULTIAPPEND
 * where offered; Maildir: delivered under the uidlist lock with the UID
 * Dovecot would give).  uids_out (may be NULL) gets n UIDs, 0 where the
 * server did not say (no UIDPLUS); *uidvalidity_out likewise. */
int store_append(struct store *s, const char *name,
		 const struct store_new_msg *msgs, size_t n,
		 uint32_t *uidvalidity_out, uint32_t *uids_out,
		 struct pn_error *err) PN_WUR;

/* Progress of a long copy: called after each message. */
struct store_progress {
	void *ctx;
	void (*fn)(void *ctx, size_t done, size_t total, uint32_t uid,
		   uint32_t new_uid);
};

/* Copy (or move) the messages in uids of src to the folder dst_name of
 * dst, keeping flags, keywords and INTERNALDATE.  Same IMAP store: UID
 * COPY/MOVE on the server.  Same Maildir store: links.  Otherwise each
 * message is streamed from one side to the other; a move removes the
 * originals only after every copy has landed.  \Recent is never copied.
 * *copied_out (may be NULL) counts the messages copied, also on error. */
int store_copy(struct store_folder *src, const struct imap_seqset *uids,
	       struct store *dst, const char *dst_name, bool move,
	       const struct store_progress *progress, size_t *copied_out,
	       struct pn_error *err) PN_WUR;

/* ---- change events ------------------------------------------------------------- */

/* Wait up to timeout_ms for the folder to change (new, removed or
 * re-flagged messages): IMAP IDLE where offered, else NOOP every few
 * seconds; Maildir: inotify on new/ and cur/, then a rescan.  *changed_out
 * says whether something did; the next store_index shows it. */
int store_folder_wait(struct store_folder *f, unsigned timeout_ms,
		      bool *changed_out, struct pn_error *err) PN_WUR;

/* ---- helpers ----------------------------------------------------------------------- */

/* Is flag an IMAP system flag (\Seen, \Answered, \Flagged, \Deleted,
 * \Draft, \Recent), ASCII case-blind? */
bool store_flag_is_system(const char *flag);
/* A flag or keyword name a server would accept: an atom without
 * atom-specials, or a system flag.  The CLI checks user input with it. */
bool store_flag_valid(const char *flag);

#endif
