/* store_p.h - what store.c shares with its back ends (imap.c, maildir.c)
 * and helpers (search.c, describe.c).  Nothing outside store/ includes it.
 */
#ifndef STORE_P_H
#define STORE_P_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pn_arena;
struct mime_part;

/* One back end.  Every entry returns 0 / -1 with err, as the public call
 * it implements (store.h states the contracts and the ownership). */
struct store_driver {
	const char *name;	/* "imap", "maildir" */
	void (*free)(struct store *s);
	int (*list)(struct store *s, bool status,
		    int (*fn)(void *ctx, const struct store_folder_info *f),
		    void *ctx, struct pn_error *err);
	int (*create)(struct store *s, const char *name, struct pn_error *err);
	int (*delete)(struct store *s, const char *name, struct pn_error *err);
	int (*rename)(struct store *s, const char *from, const char *to,
		      struct pn_error *err);
	int (*subscribe)(struct store *s, const char *name, bool subscribe,
			 struct pn_error *err);
	int (*folder_open)(struct store *s, struct store_folder *f,
			   struct pn_error *err);
	void (*folder_close)(struct store_folder *f);
	int (*index)(struct store_folder *f, const struct imap_seqset *uids,
		     unsigned items,
		     int (*fn)(void *ctx, const struct store_msg *m),
		     void *ctx, struct pn_error *err);
	int (*search)(struct store_folder *f, const char *criteria,
		      struct imap_seqset *out, struct pn_error *err);
	int (*fetch)(struct store_folder *f, const struct imap_seqset *uids,
		     enum store_body_kind kind, const char *section,
		     const struct store_sink *sink, size_t *n_out,
		     struct pn_error *err);
	int (*set_flags)(struct store_folder *f,
			 const struct imap_seqset *uids, bool add,
			 const char *const *flags, size_t n,
			 struct pn_error *err);
	int (*expunge)(struct store_folder *f, const struct imap_seqset *uids,
		       struct pn_error *err);
	int (*append)(struct store *s, const char *name,
		      const struct store_new_msg *msgs, size_t n,
		      uint32_t *uidvalidity_out, uint32_t *uids_out,
		      struct pn_error *err);
	/* Copy within this store (same back end, same store); NULL or a
	 * return of 1 means "not here: stream it". */
	int (*copy_local)(struct store_folder *src,
			  const struct imap_seqset *uids, const char *dst_name,
			  bool move, const struct store_progress *progress,
			  size_t *copied_out, struct pn_error *err);
	int (*wait)(struct store_folder *f, unsigned timeout_ms,
		    bool *changed_out, struct pn_error *err);
};

struct store {
	const struct store_driver *drv;
	bool read_only;
	char *label;
	char separator;
	struct store_folder *open_folder;	/* IMAP: the selected one */
	void *impl;		/* the back end's own state */
};

struct store_folder {
	struct store *store;
	char *name;
	bool read_only;
	uint32_t uidvalidity, uidnext, count;
	void *impl;
};

/* ---- describe.c: IMAP's ENVELOPE and BODYSTRUCTURE of a parsed message,
 * computed as a server would (RFC 3501 7.4.2), for the Maildir back end.
 * Everything is allocated in arena. */

/* From a header block's raw field values (NULL when absent). */
struct store_header_fields {
	const char *date, *subject, *from, *sender, *reply_to, *to, *cc,
		*bcc, *in_reply_to, *message_id;
};

int store_envelope_build(struct pn_arena *arena,
			 const struct store_header_fields *h,
			 const struct imap_envelope **out,
			 struct pn_error *err);
/* The BODYSTRUCTURE of part (the root of a parsed message), extension
 * data included. */
int store_body_build(struct pn_arena *arena, struct mime_part *root,
		     const struct imap_body **out, struct pn_error *err);

/* The ENVELOPE of a parsed message's root (header values point into the
 * message, which must outlive it). */
int store_envelope_of(struct pn_arena *arena, struct mime_part *root,
		      const struct imap_envelope **out, struct pn_error *err);

/* Stream a parsed part's raw bytes as IMAP's BODY[section] has them (all
 * after its MIME header), or with mime_header its MIME header, blank line
 * included (BODY[section.MIME]).  fn returns non-zero to stop. */
int store_part_raw(struct mime_part *part, bool mime_header,
		   int (*fn)(void *ctx, const char *data, size_t len),
		   void *ctx, struct pn_error *err);

/* ---- search.c: IMAP SEARCH programs (RFC 3501 6.4.4, RFC 9051 6.4.4)
 * evaluated locally, for back ends without a server (Maildir). */

struct store_search_prog;

/* What the evaluator may ask about one message.  header and text are
 * called only when a key needs them (a flag-only search never opens a
 * file); what they hand out stays valid until the next message. */
struct store_search_msg {
	uint32_t uid, seq;
	const char *const *flags;	/* IMAP names */
	size_t nflags;
	bool recent;
	time_t internaldate;
	int internaldate_tz;
	uint64_t size;
	void *ctx;
	/* The raw header block (up to and including the blank line). */
	int (*header)(void *ctx, const char **data, size_t *len,
		      struct pn_error *err);
	/* The whole message as stored. */
	int (*text)(void *ctx, const char **data, size_t *len,
		    struct pn_error *err);
};

/* Parse criteria; errors name the token and its byte offset:
 * "SEARCH: unknown key 'FORM' at byte 0". */
int store_search_compile(const char *criteria, struct store_search_prog **out,
			 struct pn_error *err);
void store_search_free(struct store_search_prog **p);
/* Does the program need the header block / the whole text? */
bool store_search_needs_header(const struct store_search_prog *p);
bool store_search_needs_text(const struct store_search_prog *p);
/* 1 when m matches, 0 when not, -1 when a callback failed.  max_seq and
 * max_uid are what '*' stands for in sequence and UID sets. */
int store_search_match(const struct store_search_prog *p,
		       const struct store_search_msg *m, uint32_t max_seq,
		       uint32_t max_uid, struct pn_error *err);

#endif
