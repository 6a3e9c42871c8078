/* maildir_p.h - internals shared by the files of maildir/ (and its tests).
 *
 * Nothing outside maildir/ and tests/maildir/ includes this.  The layout
 * of struct md_folder is what cache.c/index.c/search.c build on: the
 * message table (msgs, in UID order), the folder path, and the header
 * cache the last scan loaded, which the next md_folder_index() takes over.
 */
#ifndef MAILDIR_P_H
#define MAILDIR_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maildir.h"
#include "../lib/buf.h"
#include "../lib/error.h"

#define MD_KEYWORDS_MAX 26		/* letters a-z */
#define MD_UIDLIST "dovecot-uidlist"
#define MD_UIDLIST_LOCK "dovecot-uidlist.lock"
#define MD_KEYWORDS "dovecot-keywords"
#define MD_SUBSCRIPTIONS "subscriptions"
/* Dovecot's dotlocks go stale after 2 minutes without change. */
#define MD_LOCK_STALE_SECS 120
#define MD_LOCK_TIMEOUT_MS_DEFAULT 30000
/* Files we read whole (uidlist, keywords, subscriptions). */
#define MD_META_MAX ((size_t)256 << 20)

/* ---- the store ---------------------------------------------------------- */

struct md_store {
	char *root;
	enum md_layout layout;
	bool read_only;
	int lock_timeout_ms;	/* waiting for a dotlock; tests shorten it */
	md_warn_fn *warn;	/* md_store_set_warn's, or NULL */
	void *warn_ctx;
};

/* Tells s's md_warn_fn, if any (printf-like). */
void md_warn(const struct md_store *s, const char *fmt, ...)
	PN_PRINTF(2, 3);

/* Tests and tools: how long to wait for dovecot-uidlist.lock. */
void md_store_set_lock_timeout(struct md_store *s, int ms);
bool md_is_inbox(const char *name);
/* dir holds cur/ new/ tmp/. */
bool md_is_maildir(const char *dir);
/* cur/ new/ tmp/ in dir, creating dir and its parents (0700). */
int md_make_maildir(const char *dir);
/* malloc'd directory of a folder (UTF-8 name), or NULL with err. */
char *md_store_folder_path(const struct md_store *s, const char *name,
			   struct pn_error *err);

/* A path for messages: $HOME/ shown as ~/, so errors read like
 * "~/Mail/.Sent/dovecot-uidlist:3: bad UID line". */
void md_display_path(const char *path, char *out, size_t outsz);

/* Read a whole file (at most MD_META_MAX) into b (initialised here).
 * 0 read, 1 no such file, -1 error naming the file. */
int md_read_file(const char *path, struct pn_buf *b, struct pn_error *err) PN_WUR;

/* ---- modified UTF-7 (RFC 3501 5.1.3), for names on disk ----------------- */

/* Append the encoding / decoding of s to out.  Decoding refuses what the
 * encoder would never write (so one name has one spelling). */
int md_mutf7_encode(const char *utf8, size_t len, struct pn_buf *out) PN_WUR;
int md_mutf7_decode(const char *mutf7, size_t len, struct pn_buf *out) PN_WUR;

/* ---- names -------------------------------------------------------------- */

/* md_name_parse(filename) == 0, without filling anything (a scan asks
 * this of every file). */
bool md_name_valid(const char *filename);
/* Length of the part of a file name that identifies the message whatever
 * its flags: everything before ':' (or the lenient '!'), which is the key
 * Dovecot keeps in dovecot-uidlist (",S=..,W=.." included). */
size_t md_name_keylen(const char *filename);
/* The ":2," info for flags + keyword bits, keeping characters of the old
 * info that we do not understand (another program's flags) in place of
 * being dropped.  old_info may be NULL.  out gets ":2,..." */
int md_info_format(unsigned flags, uint32_t kwbits, const char *old_info,
		   char *out, size_t outsz) PN_WUR;
/* Compare two base names the way UIDs are handed out to new files:
 * by the delivery time in the name (secs, then .M usecs), then bytes. */
int md_name_time_cmp(const char *a, const char *b);

/* ---- dovecot-keywords --------------------------------------------------- */

struct md_keywords {
	char *names[MD_KEYWORDS_MAX];	/* NULL: letter unused */
};

int md_keywords_parse(const char *text, size_t len, const char *path,
		      struct md_keywords *out, struct pn_error *err) PN_WUR;
/* "0 name\n" lines, in index order, into out. */
int md_keywords_format(const struct md_keywords *kw, struct pn_buf *out) PN_WUR;
/* Read dir/dovecot-keywords; a missing file is an empty table. */
int md_keywords_read(const char *dir, struct md_keywords *out,
		     struct pn_error *err) PN_WUR;
/* Write it atomically (dovecot-keywords.lock, renamed over). */
int md_keywords_write(const char *dir, const struct md_keywords *kw,
		      int timeout_ms, struct pn_error *err) PN_WUR;
/* Read-modify-write under the lock: kw gets the file plus names. */
int md_keywords_update(const char *dir, const char *const *names, size_t n,
		       int timeout_ms, struct md_keywords *kw,
		       struct pn_error *err) PN_WUR;
void md_keywords_clear(struct md_keywords *kw);
/* Index of name (case-sensitive, as Dovecot's keywords are), or -1. */
int md_keywords_find(const struct md_keywords *kw, const char *name);
/* Find or add (first free letter).  -1 with err when all 26 are used or
 * the name is not a valid IMAP atom. */
int md_keywords_add(struct md_keywords *kw, const char *name,
		    struct pn_error *err) PN_WUR;

/* ---- dovecot-uidlist ---------------------------------------------------- */

struct md_uid_rec {
	uint32_t uid;
	char *key;		/* file name up to ':' */
	char *ext;		/* extension fields as read ("S28 W32"), or NULL */
};

struct md_uidlist {
	unsigned version;	/* 1 or 3 as read; always written as 3 */
	uint32_t uidvalidity;
	uint32_t next_uid;	/* max(header N, last UID + 1) */
	char guid[33];		/* 32 hex digits, "" when absent (a written
				   list always gets one: Dovecot's rule) */
	char *extra_hdr;	/* header fields other than V N G, or NULL */
	struct md_uid_rec *recs;	/* ascending UIDs */
	size_t n, cap;
};

/* path is only for error messages.  Lines must have ascending UIDs. */
int md_uidlist_parse(const char *text, size_t len, const char *path,
		     struct md_uidlist *out, struct pn_error *err) PN_WUR;
int md_uidlist_format(const struct md_uidlist *ul, struct pn_buf *out) PN_WUR;
/* Read dir/dovecot-uidlist; *exists_out false (and ul empty) when none.
 * Not locked: a final line without '\n' is ignored (being appended). */
int md_uidlist_read(const char *dir, struct md_uidlist *ul, bool locked,
		    bool *exists_out, struct pn_error *err) PN_WUR;
void md_uidlist_clear(struct md_uidlist *ul);
int md_uidlist_push(struct md_uidlist *ul, uint32_t uid, const char *key,
		    size_t keylen, const char *ext) PN_WUR;
/* The same taking ownership of malloc'd key and ext (freed on failure). */
int md_uidlist_push_owned(struct md_uidlist *ul, uint32_t uid, char *key,
			  char *ext) PN_WUR;
/* 128 random bits in hex, as Dovecot's mailbox GUIDs. */
void md_uidlist_new_guid(char out[33]);
/* A fresh header: version 3, UIDVALIDITY now, next UID 1, random GUID. */
void md_uidlist_init_new(struct md_uidlist *ul);

/* Dovecot's dotlock: NAME.lock created exclusively in dir (link() of a
 * temporary file, else O_EXCL) already holding "PID:HOST"; the new NAME
 * is written to a temporary file renamed over it while the lock is held,
 * then the lock is removed (or just removed, to give up).  A lock whose
 * mtime is older than MD_LOCK_STALE_SECS, or whose owner is a dead
 * process of this host, is taken over; otherwise wait with backoff up to
 * timeout_ms and fail with
 * "DIR/NAME is locked by another process (NAME.lock, N s)". */
struct md_dotlock {
	int fd;
	char *lock_path;
	char *target_path;
};

int md_dotlock_take(const char *dir, const char *name, int timeout_ms,
		    struct md_dotlock *out, struct pn_error *err) PN_WUR;
/* Write data as the new target (fsync'd, renamed over it).  Releases. */
int md_dotlock_commit(struct md_dotlock *l, const void *data, size_t len,
		      struct pn_error *err) PN_WUR;
void md_dotlock_release(struct md_dotlock *l);

/* ---- folders ------------------------------------------------------------ */

/* One message: the public view plus what we need to find and rename it. */
struct md_msg {
	struct md_message pub;	/* pub.filename == name, pub.keywords == kwv */
	char *name;		/* current file name (in cur/ or new/) */
	size_t keylen;		/* name[0..keylen) is the uidlist key */
	const char **kwv;	/* malloc'd, points into folder->kw.names */
	char *ext;		/* uidlist extension fields to write back */
	off_t file_size;	/* st_size at scan (0 when not stat'ed) */
	int64_t mtime_ns;	/* st_mtim at scan */
	uint64_t ino;		/* readdir's d_ino, 0 unknown */
	int64_t verified_ns;	/* when file_size and mtime_ns were taken from
				   the file: the scan's start for an fstatat,
				   the cache's time when taken from it */
};

struct md_cache;

struct md_folder {
	struct md_store *store;
	char *name;
	char *path;
	bool read_only;
	struct md_uidlist ul;	/* header (uidvalidity, next_uid, guid ...) */
	struct md_keywords kw;
	struct md_msg *msgs;	/* UID order */
	size_t n;
	/* postern-cache as the last scan loaded it (NULL: none), kept for
	 * the next md_folder_index(), which takes it over. */
	struct md_cache *cache;
	/* The last scan: files stat'ed, files whose stamps came from the
	 * cache (tests, and the numbers behind a slow open). */
	size_t scan_statted, scan_trusted;
	/* uidlist records given up by the syncs since the open because
	 * three scans did not find their file (an expunge, ours or another
	 * program's, or a fault): the concurrency test, where nothing is
	 * expunged, wants 0. */
	size_t records_gone;
};

/* Rebuild f->msgs from disk; under the uidlist lock when writing.
 * extra_key (may be NULL) names a file we delivered: it gets its UID
 * after any other writer's new files.  force_write rewrites the uidlist
 * even when no UID was given (after an expunge).  *changed_out may be
 * NULL. */
int md_folder_sync(struct md_folder *f, const char *extra_key,
		   bool force_write, bool *changed_out,
		   struct pn_error *err) PN_WUR;
/* As md_folder_sync, always writing, with hook->fn run once the lock is
 * held and before the scan: a delivery links its file into place there,
 * so that a file in new/ or cur/ gets its UID in the same locked step
 * (as Dovecot does) and a lock that cannot be had delivers nothing. */
struct md_locked_hook {
	int (*fn)(void *ctx, struct pn_error *err);
	void *ctx;
};

int md_folder_sync_locked(struct md_folder *f, const char *extra_key,
			  const struct md_locked_hook *hook, bool force_write,
			  bool *changed_out, struct pn_error *err) PN_WUR;
/* The message with uid, or NULL. */
struct md_msg *md_folder_find(struct md_folder *f, uint32_t uid);
/* Find a message's file again by its key after a rename elsewhere:
 * updates m->name/in_new.  0 found, -1 gone (err set). */
int md_msg_relocate(struct md_folder *f, struct md_msg *m,
		    struct pn_error *err) PN_WUR;
/* "dir/cur/name" or "dir/new/name" into a malloc'd string. */
char *md_msg_path(const struct md_folder *f, const struct md_msg *m);
/* Keyword bits of names (adding to the folder's table; writes
 * dovecot-keywords when a name is new). */
int md_folder_keyword_bits(struct md_folder *f, const char *const *names,
			   size_t n, bool create, uint32_t *bits_out,
			   struct pn_error *err) PN_WUR;

#endif
