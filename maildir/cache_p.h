/* cache_p.h - the header cache and the header-block reader behind
 * md_folder_index() and md_folder_search().  Private to maildir/.
 *
 * The cache file "postern-cache" in a folder holds, per message base name,
 * the raw unfolded Date, From, To, Subject and Message-ID values with the
 * file's mtime, size and inode number for invalidation.  Layout
 * (little-endian):
 *
 *   header  "PNHC", u32 version, u32 uidvalidity, u32 count,
 *           u64 body_len, u64 checksum (of the body)          32 bytes
 *   record  u32 rec_len, i64 mtime, u64 size, u32 len[6],
 *           u64 ino (readdir's d_ino, 0 unknown)               52 bytes
 *           then base, date, from, to, subject, message_id, each
 *           followed by a NUL; len 0xffffffff marks an absent field
 *           (no bytes, no NUL)
 *
 * The file's own mtime is not when it was written but when the stamps in
 * it were last taken from the files (the start of the oldest scan that
 * stat'ed them; see md_cache_stamp): the writer sets it.
 *
 * Loading reads the file with one read() and checks everything (magic,
 * version, uidvalidity, checksum, every length against the record and
 * the file, every NUL) before trusting it; anything wrong means "no
 * cache".  Records then point into the buffer: no copy per message.
 */
#ifndef MAILDIR_CACHE_P_H
#define MAILDIR_CACHE_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"

#define MD_CACHE_NAME "postern-cache"
#define MD_CACHE_VERSION 2
/* A cache larger than this is not ours (50,000 messages need ~15 MB). */
#define MD_CACHE_MAX ((size_t)512 << 20)

/* The fields an index needs, in cache order after the base name. */
enum md_hfield {
	MD_HF_DATE,
	MD_HF_FROM,
	MD_HF_TO,
	MD_HF_SUBJECT,
	MD_HF_MESSAGE_ID,
	MD_HF_COUNT
};

/* Values are NUL-terminated; NULL when the header has no such field. */
struct md_hvalues {
	const char *v[MD_HF_COUNT];
	uint32_t len[MD_HF_COUNT];
};

/* ---- header blocks (index.c) ------------------------------------------- */

/* One reusable buffer for reading header blocks: no allocation per message
 * once it has grown to the largest header seen. */
struct md_hreader {
	char *buf;
	size_t cap;
};

/* Header blocks longer than this are cut here (the rest is taken as body):
 * a bound on memory for hostile files, far above real mail. */
#define MD_HEADER_MAX ((size_t)16 << 20)

/* Read the header block of the file open on fd (up to the first empty
 * line, or the whole file when there is none) and fill out with the first
 * occurrence of each field, unfolded.  Values point into r->buf and are
 * valid until the next call.  Returns -1 with errno on a read error. */
int md_header_read(struct md_hreader *r, int fd, struct md_hvalues *out);
/* Parse a header block already in memory (buf[len] must be writable):
 * used by md_header_read and by tests. */
void md_header_parse(char *buf, size_t len, struct md_hvalues *out);
void md_hreader_free(struct md_hreader *r);
/* Index of a field name (case-blind) or -1. */
int md_hfield_lookup(const char *name);

/* ---- the cache file (cache.c) ------------------------------------------ */

/* What a record is checked against: the message file as a scan saw it. */
struct md_stamp {
	int64_t mtime;		/* ns */
	uint64_t size;
	uint64_t ino;		/* readdir's d_ino, 0 unknown */
};

/* How long the stamps in a cache are taken on trust by a scan (see
 * md_cache_stamp): past this, a scan stats every file again and the next
 * md_folder_index() writes the cache anew.  It bounds how long a change
 * the Maildir rules forbid (a file rewritten or touched in place, same
 * name, same inode) can go unseen; an hour keeps a folder opened a few
 * times an hour warm at the price of one full scan an hour. */
#define MD_CACHE_TRUST_SECS 3600
/* A record whose file was modified less than this before its stamp was
 * taken (or after) is never taken on trust: mail that has just arrived is
 * where what the rules forbid happens, if anywhere (a filter rewriting
 * what it delivered, an mtime set after the rename into new/, a file
 * still being written in place), and there are few such files. */
#define MD_CACHE_SETTLE_SECS 3600

struct md_cache {
	char *data;		/* the whole file; NULL when there is none */
	size_t len;
	uint32_t uidvalidity;	/* as asked of md_cache_load */
	uint32_t count;
	uint64_t *table;	/* key hash: record offset | hash's high half,
				   0 empty (see cache.c) */
	size_t table_mask;
	int64_t verified;	/* ns: the file's mtime, when its stamps were
				   last taken from the files */
	bool trusted;		/* verified within MD_CACHE_TRUST_SECS of the
				   load: md_cache_stamp may answer */
	const char *why;	/* why the file was ignored (tests, debug) */
};

/* Load dir's cache.  A missing, unreadable, stale (other version or
 * uidvalidity) or corrupt file leaves c empty with c->why saying so; only
 * allocation failure returns -1. */
int md_cache_load(struct md_cache *c, int dirfd, uint32_t uidvalidity,
		  struct pn_error *err) PN_WUR;
/* The values stored for the message key (file name up to ':', see
 * md_name_keylen) if its record has this mtime (ns), size and inode.
 * *hint says which record to try first (start at 0; updated to follow a
 * walk in UID order). */
bool md_cache_lookup(const struct md_cache *c, const char *key,
		     size_t keylen, const struct md_stamp *st,
		     struct md_hvalues *out, uint32_t *hint);
/* A scan's question: may the file with this key (hash: md_key_hash of
 * it) and d_ino skip its fstatat() and take size and mtime from the
 * cache?  Yes (*out filled) only when the cache is trusted (see
 * md_cache_fresh), has a record for key with the same non-zero inode, and
 * that record's mtime is older than c->verified minus
 * MD_CACHE_SETTLE_SECS.  c may be NULL (no). */
bool md_cache_stamp(const struct md_cache *c, const char *key, size_t keylen,
		    uint64_t hash, uint64_t ino, struct md_stamp *out);
/* A hint that md_cache_stamp will soon ask about hash: fetch its table
 * slot, or (record) the record the slot names.  Changes nothing. */
void md_cache_prefetch(const struct md_cache *c, uint64_t hash, bool record);
/* Stamps taken at verified (ns) may be trusted at now (ns): not in the
 * future, not older than MD_CACHE_TRUST_SECS. */
bool md_cache_fresh(int64_t verified, int64_t now);
/* CLOCK_REALTIME in ns, the clock of file times. */
int64_t md_now_ns(void);
void md_cache_free(struct md_cache *c);

struct md_cache_sum {
	uint64_t h;
	char tail[8];
	size_t ntail;
};

/* The hash of the cache's key table, also used by folder.c's. */
uint64_t md_key_hash(const char *s, size_t n);

/* The header's checksum of a body (tests forge caches with it). */
uint64_t md_cache_checksum(const char *p, size_t n);

/* Writing streams records to "postern-cache.tmp.PID" and renames it over
 * the cache at the end, so readers see the old file or the new one. */
struct md_cache_writer {
	int dirfd;		/* not owned */
	int fd;
	char tmp[64];
	uint32_t count;
	uint64_t body_len;
	struct md_cache_sum sum;
	char *buf;		/* write buffer */
	size_t used;
	bool failed;		/* a write failed: abort at commit */
};

/* Returns -1 when the cache cannot be written (read-only directory,
 * permissions): the caller just goes without. */
int md_cache_writer_open(struct md_cache_writer *w, int dirfd);
void md_cache_writer_add(struct md_cache_writer *w, const char *key,
			 size_t keylen, const struct md_stamp *st,
			 const struct md_hvalues *v);
/* verified (ns) becomes the file's mtime: the oldest time at which one
 * of the stamps written was taken from its file. */
int md_cache_writer_commit(struct md_cache_writer *w, uint32_t uidvalidity,
			   int64_t verified);
void md_cache_writer_abort(struct md_cache_writer *w);

#endif
