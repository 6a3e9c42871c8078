/* store.c - the public calls: argument checks, the read-only rule, and
 * the one piece that belongs to no back end, a copy between two stores.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "store_p.h"
#include "../imap/imap.h"
#include "../lib/buf.h"
#include "../lib/safefile.h"

static int refuse_read_only(const struct store *s, const char *what,
			    struct pn_error *err)
{
	return pn_error_set(err, PN_EINVAL, "%s: %s is open read-only", what,
			    s->label);
}

void store_free(struct store **s)
{
	if (!s || !*s)
		return;
	if ((*s)->drv)
		(*s)->drv->free(*s);
	free((*s)->label);
	free(*s);
	*s = NULL;
}

enum store_kind store_kind(const struct store *s)
{
	return strcmp(s->drv->name, "imap") == 0 ? STORE_IMAP : STORE_MAILDIR;
}

bool store_read_only(const struct store *s)
{
	return s->read_only;
}

const char *store_label(const struct store *s)
{
	return s->label;
}

char store_separator(const struct store *s)
{
	return s->separator;
}

/* ---- folders --------------------------------------------------------- */

int store_list(struct store *s, bool status,
	       int (*fn)(void *ctx, const struct store_folder_info *f),
	       void *ctx, struct pn_error *err)
{
	pn_error_clear(err);
	return s->drv->list(s, status, fn, ctx, err);
}

static int check_name(const char *what, const char *name,
		      struct pn_error *err)
{
	if (!name || !name[0])
		return pn_error_set(err, PN_EINVAL, "%s: empty folder name",
				    what);
	if (strpbrk(name, "\r\n"))
		return pn_error_set(err, PN_EINVAL,
				    "%s: a folder name cannot hold CR or LF",
				    what);
	return 0;
}

int store_create(struct store *s, const char *name, struct pn_error *err)
{
	pn_error_clear(err);
	if (s->read_only)
		return refuse_read_only(s, "create", err);
	if (check_name("create", name, err) < 0)
		return -1;
	return s->drv->create(s, name, err);
}

int store_delete(struct store *s, const char *name, struct pn_error *err)
{
	pn_error_clear(err);
	if (s->read_only)
		return refuse_read_only(s, "delete", err);
	if (check_name("delete", name, err) < 0)
		return -1;
	if (s->open_folder && strcmp(s->open_folder->name, name) == 0)
		return pn_error_set(err, PN_EINVAL,
				    "delete: %s is open; close it first", name);
	return s->drv->delete(s, name, err);
}

int store_rename(struct store *s, const char *from, const char *to,
		 struct pn_error *err)
{
	pn_error_clear(err);
	if (s->read_only)
		return refuse_read_only(s, "rename", err);
	if (check_name("rename", from, err) < 0 ||
	    check_name("rename", to, err) < 0)
		return -1;
	return s->drv->rename(s, from, to, err);
}

int store_subscribe(struct store *s, const char *name, bool subscribe,
		    struct pn_error *err)
{
	pn_error_clear(err);
	if (s->read_only)
		return refuse_read_only(s, subscribe ? "subscribe" :
				"unsubscribe", err);
	if (check_name("subscribe", name, err) < 0)
		return -1;
	return s->drv->subscribe(s, name, subscribe, err);
}

int store_folder_open(struct store *s, const char *name, bool read_only,
		      struct store_folder **out, struct pn_error *err)
{
	struct store_folder *f;

	*out = NULL;
	pn_error_clear(err);
	if (check_name("open", name, err) < 0)
		return -1;
	if (s->open_folder && store_kind(s) == STORE_IMAP)
		return pn_error_set(err, PN_EINVAL,
				    "open %s: %s is still open (an IMAP connection has one selected mailbox)",
				    name, s->open_folder->name);
	f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	f->store = s;
	f->read_only = read_only || s->read_only;
	if (s->drv->folder_open(s, f, err) < 0) {
		free(f->name);
		free(f);
		return -1;
	}
	if (store_kind(s) == STORE_IMAP)
		s->open_folder = f;
	*out = f;
	return 0;
}

void store_folder_free(struct store_folder **f)
{
	if (!f || !*f)
		return;
	(*f)->store->drv->folder_close(*f);
	if ((*f)->store->open_folder == *f)
		(*f)->store->open_folder = NULL;
	free((*f)->name);
	free(*f);
	*f = NULL;
}

const char *store_folder_name(const struct store_folder *f)
{
	return f->name;
}

bool store_folder_read_only(const struct store_folder *f)
{
	return f->read_only;
}

uint32_t store_folder_uidvalidity(const struct store_folder *f)
{
	return f->uidvalidity;
}

uint32_t store_folder_uidnext(const struct store_folder *f)
{
	return f->uidnext;
}

uint32_t store_folder_count(const struct store_folder *f)
{
	return f->count;
}

/* ---- messages -------------------------------------------------------- */

int store_index(struct store_folder *f, const struct imap_seqset *uids,
		unsigned items,
		int (*fn)(void *ctx, const struct store_msg *m), void *ctx,
		struct pn_error *err)
{
	pn_error_clear(err);
	return f->store->drv->index(f, uids, items, fn, ctx, err);
}

int store_search(struct store_folder *f, const char *criteria,
		 struct imap_seqset *out, struct pn_error *err)
{
	pn_error_clear(err);
	imap_seqset_clear(out);
	if (!criteria || !criteria[0])
		criteria = "ALL";
	if (strpbrk(criteria, "\r\n"))
		return pn_error_set(err, PN_EINVAL,
				    "SEARCH: the program cannot hold CR or LF");
	return f->store->drv->search(f, criteria, out, err);
}

int store_fetch(struct store_folder *f, const struct imap_seqset *uids,
		enum store_body_kind kind, const char *section,
		const struct store_sink *sink, size_t *n_out,
		struct pn_error *err)
{
	size_t n = 0;
	int rc;

	pn_error_clear(err);
	if ((kind == STORE_BODY_PART || kind == STORE_BODY_PART_ENCODED) &&
	    (!section || !section[0] || strlen(section) > 128 ||
	     strpbrk(section, " ()[]<>\"\\\r\n")))
		return pn_error_set(err, PN_EINVAL, "bad section '%s'",
				    section ? section : "");
	rc = f->store->drv->fetch(f, uids, kind, section, sink, &n, err);
	if (n_out)
		*n_out = n;
	return rc;
}

static int refuse_folder_ro(const struct store_folder *f, const char *what,
			    struct pn_error *err)
{
	return pn_error_set(err, PN_EINVAL, "%s: %s is open read-only", what,
			    f->name);
}

int store_set_flags(struct store_folder *f, const struct imap_seqset *uids,
		    bool add, const char *const *flags, size_t n,
		    struct pn_error *err)
{
	size_t i;

	pn_error_clear(err);
	if (f->read_only)
		return refuse_folder_ro(f, "set flags", err);
	for (i = 0; i < n; i++) {
		if (!store_flag_valid(flags[i]))
			return pn_error_set(err, PN_EINVAL,
					    "'%s' is not a flag name (an atom, or \\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft)",
					    flags[i]);
		if (strcasecmp(flags[i], "\\Recent") == 0)
			return pn_error_set(err, PN_EINVAL,
					    "\\Recent is the server's to set");
	}
	if (n == 0)
		return 0;
	return f->store->drv->set_flags(f, uids, add, flags, n, err);
}

int store_expunge(struct store_folder *f, const struct imap_seqset *uids,
		  struct pn_error *err)
{
	pn_error_clear(err);
	if (f->read_only)
		return refuse_folder_ro(f, "expunge", err);
	return f->store->drv->expunge(f, uids, err);
}

int store_append(struct store *s, const char *name,
		 const struct store_new_msg *msgs, size_t n,
		 uint32_t *uidvalidity_out, uint32_t *uids_out,
		 struct pn_error *err)
{
	size_t i, k;

	pn_error_clear(err);
	if (uidvalidity_out)
		*uidvalidity_out = 0;
	for (i = 0; uids_out && i < n; i++)
		uids_out[i] = 0;
	if (s->read_only)
		return refuse_read_only(s, "append", err);
	if (check_name("append", name, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < msgs[i].nflags; k++) {
			if (!store_flag_valid(msgs[i].flags[k]) ||
			    strcasecmp(msgs[i].flags[k], "\\Recent") == 0)
				return pn_error_set(err, PN_EINVAL,
						    "append: '%s' is not a flag a message can be given",
						    msgs[i].flags[k]);
		}
	}
	if (n == 0)
		return 0;
	return s->drv->append(s, name, msgs, n, uidvalidity_out, uids_out,
			      err);
}

int store_folder_wait(struct store_folder *f, unsigned timeout_ms,
		      bool *changed_out, struct pn_error *err)
{
	pn_error_clear(err);
	*changed_out = false;
	return f->store->drv->wait(f, timeout_ms, changed_out, err);
}

/* ---- copy between stores ------------------------------------------------ */

/* A message is streamed through a temporary file: a Maildir delivery and
 * an IMAP APPEND both need the size before the first byte, and nothing
 * here may hold a whole message in memory. */
/* An unlinked temporary file in $TMPDIR (else /tmp). */
static int tmpfile_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !dir[0])
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/postern-copy-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

struct spool {
	int fd;
	uint64_t size;
	bool failed;
	int saved_errno;
	bool crlf;		/* bare LF becomes CRLF (an IMAP APPEND) */
	bool cr;		/* the last byte written was CR */
};

static int spool_begin(void *ctx, uint32_t uid, uint64_t size)
{
	struct spool *sp = ctx;

	(void)uid;
	(void)size;
	sp->size = 0;
	sp->failed = false;
	sp->cr = false;
	if (ftruncate(sp->fd, 0) < 0 || lseek(sp->fd, 0, SEEK_SET) < 0) {
		sp->failed = true;
		sp->saved_errno = errno;
		return 1;
	}
	return 0;
}

static int spool_write(struct spool *sp, const char *data, size_t len)
{
	if (len && pn_write_all(sp->fd, data, len) < 0) {
		sp->failed = true;
		sp->saved_errno = errno;
		return 1;
	}
	sp->size += len;
	return 0;
}

/* IMAP takes RFC 5322 text, lines ending in CRLF (RFC 3501 6.3.11), as
 * `postern append` sends it; a Maildir keeps the bytes it is given. */
static int spool_data(void *ctx, const char *data, size_t len)
{
	struct spool *sp = ctx;
	size_t i, from = 0;

	if (!sp->crlf)
		return spool_write(sp, data, len);
	for (i = 0; i < len; i++) {
		if (data[i] == '\n' && !(i ? data[i - 1] == '\r' : sp->cr)) {
			if (spool_write(sp, data + from, i - from) ||
			    spool_write(sp, "\r", 1))
				return 1;
			from = i;
		}
	}
	if (len)
		sp->cr = data[len - 1] == '\r';
	return spool_write(sp, data + from, len - from);
}

static int spool_end(void *ctx, uint32_t uid)
{
	(void)ctx;
	(void)uid;
	return 0;
}

/* What the index said of each message to copy. */
struct copy_meta {
	uint32_t uid;
	time_t date;
	int tz;
	char **flags;
	size_t nflags;
};

struct copy_list {
	struct copy_meta *v;
	size_t n, cap;
	bool nomem;
};

static void meta_free(struct copy_list *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < l->v[i].nflags; k++)
			free(l->v[i].flags[k]);
		free(l->v[i].flags);
	}
	free(l->v);
}

static int collect_meta(void *ctx, const struct store_msg *m)
{
	struct copy_list *l = ctx;
	struct copy_meta *c, *v;
	size_t i;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v)
			goto nomem;
		l->v = v;
	}
	c = &l->v[l->n];
	memset(c, 0, sizeof(*c));
	c->uid = m->uid;
	c->date = m->internaldate;
	c->tz = m->internaldate_tz;
	c->flags = calloc(m->nflags + 1, sizeof(*c->flags));
	if (!c->flags)
		goto nomem;
	l->n++;
	for (i = 0; i < m->nflags; i++) {
		/* \Recent belongs to the server's session, not the message. */
		if (strcasecmp(m->flags[i], "\\Recent") == 0)
			continue;
		if (!(c->flags[c->nflags] = strdup(m->flags[i])))
			goto nomem;
		c->nflags++;
	}
	return 0;
nomem:
	l->nomem = true;
	return 1;
}

static int copy_one(struct store_folder *src, const struct copy_meta *m,
		    struct spool *sp, struct store *dst, const char *dst_name,
		    uint32_t *new_uid, struct pn_error *err)
{
	struct store_sink sink = { sp, spool_begin, spool_data, spool_end };
	struct imap_seqset one = { 0 };
	struct store_new_msg nm;
	size_t got = 0;
	int rc;

	if (imap_seqset_add(&one, m->uid, m->uid) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = src->store->drv->fetch(src, &one, STORE_BODY_RAW, NULL, &sink,
				    &got, err);
	imap_seqset_free(&one);
	if (rc < 0)
		return -1;
	if (sp->failed)
		return pn_error_errno(err, sp->saved_errno,
				      "UID %u: spooling the message", m->uid);
	if (got == 0)
		return pn_error_set(err, PN_ENOTFOUND,
				    "UID %u: gone from %s before it was copied",
				    m->uid, src->name);
	if (lseek(sp->fd, 0, SEEK_SET) < 0)
		return pn_error_errno(err, errno, "spool");
	memset(&nm, 0, sizeof(nm));
	nm.fd = sp->fd;
	nm.size = sp->size;
	nm.flags = (const char *const *)m->flags;
	nm.nflags = m->nflags;
	nm.date = m->date;
	nm.date_tz = m->tz;
	return dst->drv->append(dst, dst_name, &nm, 1, NULL, new_uid, err);
}

static int copy_stream(struct store_folder *src, const struct imap_seqset *uids,
		       struct store *dst, const char *dst_name, bool move,
		       const struct store_progress *progress,
		       size_t *copied_out, struct pn_error *err)
{
	struct copy_list l = { 0 };
	struct imap_seqset done = { 0 };
	struct spool sp = { -1, 0, false, 0, false, false };
	uint32_t new_uid;
	size_t i;
	int rc;

	rc = src->store->drv->index(src, uids, STORE_ITEM_FLAGS, collect_meta,
				    &l, err);
	if (rc == 0 && l.nomem)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	sp.crlf = store_kind(dst) == STORE_IMAP;
	if (rc == 0) {
		sp.fd = tmpfile_fd();
		if (sp.fd < 0)
			rc = pn_error_errno(err, errno,
					    "a temporary file to copy through");
	}
	for (i = 0; rc == 0 && i < l.n; i++) {
		new_uid = 0;
		rc = copy_one(src, &l.v[i], &sp, dst, dst_name, &new_uid, err);
		if (rc < 0)
			break;
		(*copied_out)++;
		if (imap_seqset_add(&done, l.v[i].uid, l.v[i].uid) < 0)
			rc = pn_error_set(err, PN_ENOMEM, "out of memory");
		if (progress && progress->fn)
			progress->fn(progress->ctx, i + 1, l.n, l.v[i].uid,
				     new_uid);
	}
	/* A move removes only what has landed, and only once it has: a
	 * failure half-way leaves the rest where it was. */
	if (move && done.n > 0) {
		struct pn_error e2;

		if (src->store->drv->expunge(src, &done, &e2) < 0 && rc == 0) {
			*err = e2;
			pn_error_prefix(err, "copied, but removing the originals failed");
			rc = -1;
		}
	}
	if (sp.fd >= 0)
		close(sp.fd);
	imap_seqset_free(&done);
	meta_free(&l);
	return rc;
}

int store_copy(struct store_folder *src, const struct imap_seqset *uids,
	       struct store *dst, const char *dst_name, bool move,
	       const struct store_progress *progress, size_t *copied_out,
	       struct pn_error *err)
{
	size_t copied = 0;
	int rc;

	pn_error_clear(err);
	if (copied_out)
		*copied_out = 0;
	if (dst->read_only)
		return refuse_read_only(dst, "copy", err);
	if (move && src->read_only)
		return refuse_folder_ro(src, "move", err);
	if (check_name("copy", dst_name, err) < 0)
		return -1;
	if (dst == src->store && strcmp(dst_name, src->name) == 0 && move)
		return pn_error_set(err, PN_EINVAL,
				    "move: source and destination are both %s",
				    dst_name);
	rc = 1;
	if (dst == src->store && src->store->drv->copy_local)
		rc = src->store->drv->copy_local(src, uids, dst_name, move,
						 progress, &copied, err);
	if (rc == 1)
		rc = copy_stream(src, uids, dst, dst_name, move, progress,
				 &copied, err);
	if (copied_out)
		*copied_out = copied;
	return rc;
}

/* ---- flags ------------------------------------------------------------ */

bool store_flag_is_system(const char *flag)
{
	static const char *const sys[] = {
		"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
		"\\Recent",
	};
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(*sys); i++) {
		if (strcasecmp(flag, sys[i]) == 0)
			return true;
	}
	return false;
}

bool store_flag_valid(const char *flag)
{
	const unsigned char *p;

	if (!flag || !flag[0])
		return false;
	if (flag[0] == '\\')
		return store_flag_is_system(flag);
	/* atom-specials (RFC 3501 9): ( ) { SP CTL % * " \ ]; '\' only
	 * as the first character of a system flag. */
	for (p = (const unsigned char *)flag; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p))
			return false;
	}
	return strlen(flag) <= 255;
}
