/* maildir.h - Maildir and Maildir++ stores that Dovecot, mutt, mblaze and
 * mbsync can share with postern without a lost flag or a changed UID.
 *
 * A store is a root directory.  Folders are Maildir++ (".Sub.Folder"
 * beside cur/new/tmp of INBOX at the root, hierarchy separator '.') or the
 * fs layout (folders as nested directories, as Dovecot's LAYOUT=fs, INBOX
 * at the root, separator '/'); folder names on disk are modified UTF-7 as
 * Dovecot writes them, and UTF-8 in this API.
 *
 * UIDs and keywords are Dovecot's: dovecot-uidlist (version 3) and
 * dovecot-keywords in each folder, written under Dovecot's lock
 * (dovecot-uidlist.lock, O_EXCL, stale after 2 minutes), so a UID is the
 * same whether Dovecot or postern assigned it.  Deliveries follow the
 * Maildir rules (unique name, tmp/, fsync, link into new/ or cur/).
 *
 * maildir/ does no MIME: messages are files of bytes.  Header fields for
 * an index come from a per-folder cache (postern-cache in the folder,
 * versioned, rebuilt when stale or corrupt, never required).
 *
 * Strings returned by md_* belong to the object they came from and stay
 * valid until it changes (a rescan, a write) or is freed.
 */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../lib/error.h"

/* ---- flags ------------------------------------------------------------- */

/* The ":2," info letters, in the order the spec wants them written. */
enum md_flag {
	MD_FLAG_DRAFT = 1 << 0,		/* D  \Draft */
	MD_FLAG_FLAGGED = 1 << 1,	/* F  \Flagged */
	MD_FLAG_PASSED = 1 << 2,	/* P  (forwarded; $Forwarded) */
	MD_FLAG_REPLIED = 1 << 3,	/* R  \Answered */
	MD_FLAG_SEEN = 1 << 4,		/* S  \Seen */
	MD_FLAG_TRASHED = 1 << 5,	/* T  \Deleted */
};

/* Parse a file name: base (up to ':' or the platform's '!' variant),
 * S= and W= sizes, ":2," flags and keyword letters a-z.  Returns -1 for a
 * name that is not a Maildir message name (dot files, tmp names). */
struct md_name {
	char base[256];		/* the unique part, without ",S=..:2,..." */
	uint64_t size;		/* S=, 0 when absent */
	uint64_t vsize;		/* W= (size with CRLF line ends), 0 absent */
	unsigned flags;		/* enum md_flag */
	uint32_t keyword_bits;	/* letter a is bit 0 ... z is bit 25 */
	bool has_info;		/* ":2," present */
};

int md_name_parse(const char *filename, struct md_name *out) PN_WUR;
/* Build "base[,S=n][,W=n]:2,FLAGS" (flags in ASCII order: D F P R S T,
 * then keyword letters) into out. */
int md_name_format(const struct md_name *n, char *out, size_t outsz) PN_WUR;
/* A fresh unique base: "time.M<usec>P<pid>Q<counter>R<random>.host" as
 * Dovecot names deliveries (host sanitised: '/' and ':' escaped). */
int md_name_unique(char *out, size_t outsz) PN_WUR;

/* ---- stores and folders ------------------------------------------------ */

enum md_layout {
	MD_LAYOUT_AUTO,		/* fs if any subdirectory holding cur/ is not
				   dot-named, else Maildir++ */
	MD_LAYOUT_MAILDIRPP,
	MD_LAYOUT_FS,
};

struct md_store;

/* root must be a Maildir (cur/, new/, tmp/) or, unless read_only, an
 * empty or missing directory (created).  Errors: "~/Mail: not a Maildir
 * (no cur/ new/ tmp/)". */
int md_store_open(const char *root, enum md_layout layout, bool read_only,
		  struct md_store **out, struct pn_error *err) PN_WUR;
void md_store_free(struct md_store **s);
char md_store_separator(const struct md_store *s);	/* '.' or '/' */
enum md_layout md_store_layout(const struct md_store *s);
/* What the library found wrong in another program's files and read the
 * way Dovecot does, in the words Dovecot would log it: "~/Mail/cur/..:
 * dovecot-uidlist names 1.M1P1.h twice (UIDs 2 and 5): UID 5 is the
 * message's, as in Dovecot".  Nothing is said unless fn is set. */
typedef void md_warn_fn(void *ctx, const char *msg);
void md_store_set_warn(struct md_store *s, md_warn_fn *fn, void *ctx);

struct md_folder_info {
	const char *name;	/* UTF-8, "INBOX", "Archive.2024" */
	const char *path;	/* the directory */
	bool subscribed;	/* in the root's "subscriptions" file */
	bool has_children;
	const char *special_use;	/* "\Sent", "\Trash" ... by name, or
					   NULL (Dovecot's defaults) */
};

/* Every folder, INBOX first, then by name.  fn returns non-zero to stop. */
int md_store_list(struct md_store *s,
		  int (*fn)(void *ctx, const struct md_folder_info *f),
		  void *ctx, struct pn_error *err) PN_WUR;
int md_folder_create(struct md_store *s, const char *name,
		     struct pn_error *err) PN_WUR;
/* Refuses INBOX; refuses a folder with children (as Dovecot does). */
int md_folder_delete(struct md_store *s, const char *name,
		     struct pn_error *err) PN_WUR;
int md_folder_rename(struct md_store *s, const char *from, const char *to,
		     struct pn_error *err) PN_WUR;
/* The "subscriptions" file as Dovecot keeps it (version line, one name a
 * line), rewritten atomically. */
int md_subscribe(struct md_store *s, const char *name, bool subscribe,
		 struct pn_error *err) PN_WUR;

/* ---- a folder ---------------------------------------------------------- */

struct md_message {
	uint32_t uid;
	const char *filename;	/* the name in cur/ or new/ */
	bool in_new;
	unsigned flags;		/* enum md_flag */
	const char *const *keywords;	/* from dovecot-keywords letters */
	size_t nkeywords;
	uint64_t size;		/* S= or the file's size */
	time_t received;	/* the file's mtime: Dovecot's INTERNALDATE */
};

struct md_folder;

/* Open a folder: scan new/ and cur/, read dovecot-uidlist and
 * dovecot-keywords, and (read-write only, under the uidlist lock) give
 * UIDs to messages that have none, writing the uidlist the way Dovecot
 * does.  A folder without a uidlist gets one Dovecot accepts
 * (UIDVALIDITY = now).  Read-only never writes anything.
 *
 * A message another program renames during the scan (a flag change) can
 * be missed by readdir; a uidlist record whose file is not seen is kept
 * unless two more scans miss it too, so a message expunged elsewhere
 * costs two extra scans and a busy folder never loses a UID.
 *
 * Sizes and received times of the files the header cache knows (same
 * name up to ':', same inode) come from the cache, not from a stat:
 * Maildir files never change once delivered, only get renamed, and new,
 * renamed, replaced and removed files are always seen.  A file changed
 * in place against the rules (rewritten, touched) shows its old size,
 * received time and header fields until the cache's stamps are an hour
 * old, or at once when it had been modified less than an hour before
 * they were taken, or when postern-cache is removed. */
int md_folder_open(struct md_store *s, const char *name, bool read_only,
		   struct md_folder **out, struct pn_error *err) PN_WUR;
void md_folder_free(struct md_folder **f);
uint32_t md_folder_uidvalidity(const struct md_folder *f);
uint32_t md_folder_uidnext(const struct md_folder *f);
/* Messages in UID order. */
size_t md_folder_count(const struct md_folder *f);
const struct md_message *md_folder_message(const struct md_folder *f,
					   size_t i);
const struct md_message *md_folder_by_uid(const struct md_folder *f,
					  uint32_t uid);
/* Scan again (another writer may have changed the folder); *changed_out
 * says whether anything did. */
int md_folder_rescan(struct md_folder *f, bool *changed_out,
		     struct pn_error *err) PN_WUR;
/* The directory to watch for changes (inotify on new/ and cur/). */
const char *md_folder_path(const struct md_folder *f);

/* Open a message for reading.  A file renamed by another writer since
 * the scan (flags changed) is found again by its base name: never "lost". */
int md_message_open(struct md_folder *f, uint32_t uid, int *fd_out,
		    struct pn_error *err) PN_WUR;

/* Change flags and keywords (keyword names are created in
 * dovecot-keywords as needed, at most 26).  Moves the file from new/ to
 * cur/.  A rename race (file vanished) is handled by rescanning. */
int md_message_set_flags(struct md_folder *f, uint32_t uid, unsigned add,
			 unsigned remove, const char *const *kw_add,
			 size_t nkw_add, const char *const *kw_remove,
			 size_t nkw_remove, struct pn_error *err) PN_WUR;

/* Deliver a message into the folder: from memory (data) or an fd
 * (streamed), with flags, keywords and a received time (0: now; set as
 * the file's mtime).  The UID is assigned under the uidlist lock as
 * Dovecot would (uidnext), written to *uid_out.  The name carries S=
 * (and W=) like Dovecot's.  Never leaves a partial file in cur/ or new/. */
struct md_append {
	const void *data;
	int fd;			/* when data is NULL */
	uint64_t size;
	unsigned flags;
	const char *const *keywords;
	size_t nkeywords;
	time_t received;
};

int md_folder_append(struct md_folder *f, const struct md_append *a,
		     uint32_t *uid_out, struct pn_error *err) PN_WUR;
/* Remove messages (unlink; the uidlist drops them). */
int md_folder_expunge(struct md_folder *f, const uint32_t *uids, size_t n,
		      struct pn_error *err) PN_WUR;
/* Copy to another folder of any store (hard link when on the same file
 * system, else a copy), keeping flags, keywords and received time. */
int md_folder_copy(struct md_folder *f, uint32_t uid, struct md_folder *dst,
		   uint32_t *new_uid_out, struct pn_error *err) PN_WUR;

/* ---- the header cache and an index -------------------------------------- */

/* What an index screen needs of each message, read from the header block
 * (raw, unfolded values; decoding is the caller's business) and kept in
 * the folder's cache.  A stale or corrupt cache is rebuilt; a cache that
 * cannot be written (read-only, permissions) is simply not kept. */
struct md_index_entry {
	const struct md_message *msg;
	const char *date, *from, *to, *subject, *message_id;	/* NULL if absent */
};

/* Call fn for every message in UID order.  Cold: reads each header block
 * (only the header, never the body).  Warm: from the cache, touching only
 * messages whose file changed (mtime/size/inode as the scan saw them; see
 * md_folder_open for what a scan takes from the cache). */
int md_folder_index(struct md_folder *f,
		    int (*fn)(void *ctx, const struct md_index_entry *e),
		    void *ctx, struct pn_error *err) PN_WUR;

/* UIDs of messages with all of flags_set and none of flags_clear, whose
 * header field (NULL: any) contains needle (ASCII case-blind, raw
 * value), NULL needle: flags only.  Results in UID order into a malloc'd
 * array (*uids_out, caller frees). */
int md_folder_search(struct md_folder *f, unsigned flags_set,
		     unsigned flags_clear, const char *field,
		     const char *needle, uint32_t **uids_out, size_t *n_out,
		     struct pn_error *err) PN_WUR;

#endif
