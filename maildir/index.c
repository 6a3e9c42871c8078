/* index.c - md_folder_index(): what an index screen needs of every
 * message, from the header cache when it is current, else from the
 * header block of each file (never its body).
 */
#include "maildir.h"
#include "cache_p.h"
#include "maildir_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Most header blocks fit in one page; the first read asks for one page so
 * a small message costs one read() and the body is left alone.  Longer
 * headers continue in bigger steps. */
#define FIRST_CHUNK 4096
#define NEXT_CHUNK 16384

static const char *const field_names[MD_HF_COUNT] = {
	"date", "from", "to", "subject", "message-id",
};

static int field_index(const char *name, size_t len)
{
	for (int i = 0; i < MD_HF_COUNT; i++) {
		if (strlen(field_names[i]) == len &&
		    strncasecmp(field_names[i], name, len) == 0)
			return i;
	}
	return -1;
}

int md_hfield_lookup(const char *name)
{
	return name ? field_index(name, strlen(name)) : -1;
}

/* ---- parsing a header block -------------------------------------------- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Unfold value bytes [from, to) in place (RFC 5322 2.2.3: unfolding is
 * removing each CRLF that precedes WSP; a bare LF counts as CRLF, as
 * Maildir files use LF), trim WSP at both ends and NUL-terminate at
 * buf + from.  The output never outruns the input, so writing over it is
 * safe.  Returns the value's length. */
static size_t unfold(char *buf, size_t from, size_t to)
{
	size_t w = from, i = from;

	/* "Subject:\n  text" folds right after the colon. */
	while (i < to && (is_wsp(buf[i]) || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	for (; i < to; i++) {
		char c = buf[i];

		if (c == '\n' || (c == '\r' && (i + 1 == to || buf[i + 1] == '\n')))
			continue;
		buf[w++] = c;
	}
	while (w > from && is_wsp(buf[w - 1]))
		w--;
	buf[w] = '\0';
	return w - from;
}

/* End of the field starting at p: the LF that is not followed by a
 * continuation line, or len. */
static size_t field_end(const char *buf, size_t p, size_t len)
{
	for (;;) {
		const char *nl = memchr(buf + p, '\n', len - p);

		if (!nl)
			return len;
		p = (size_t)(nl - buf);
		if (p + 1 >= len || !is_wsp(buf[p + 1]))
			return p;
		p++;
	}
}

void md_header_parse(char *buf, size_t len, struct md_hvalues *out)
{
	size_t p = 0;

	memset(out, 0, sizeof(*out));
	while (p < len) {
		size_t end = field_end(buf, p, len);
		const char *colon = memchr(buf + p, ':', end - p);

		/* Lines without a colon (an mbox "From " line, garbage) and
		 * stray continuation lines are skipped, as mutt does. */
		if (colon && !is_wsp(buf[p])) {
			size_t nlen = (size_t)(colon - buf) - p;
			int i;

			/* Obsolete syntax allows WSP before the colon. */
			while (nlen > 0 && is_wsp(buf[p + nlen - 1]))
				nlen--;
			i = field_index(buf + p, nlen);
			if (i >= 0 && !out->v[i]) {
				size_t v = (size_t)(colon - buf) + 1;

				out->len[i] = (uint32_t)unfold(buf, v, end);
				out->v[i] = buf + v;
			}
		}
		p = end + 1;
	}
}

/* ---- reading a header block -------------------------------------------- */

static int hreader_reserve(struct md_hreader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 65536;
	char *p;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(r->buf, cap);
	if (!p)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Length of the header block in buf[0..len) including the LF that ends
 * its last field, or 0 while no empty line has been seen.  *scan keeps
 * the place between calls so that each byte is looked at once. */
static size_t header_end(const char *buf, size_t len, size_t *scan)
{
	size_t p = *scan;

	/* An empty line first: no header at all. */
	if (len >= 1 && buf[0] == '\n')
		return 1;
	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
		return 2;
	if (len == 1 && buf[0] == '\r')
		return 0;
	while (p < len) {
		const char *nl = memchr(buf + p, '\n', len - p);
		size_t q;

		if (!nl)
			break;
		q = (size_t)(nl - buf) + 1;
		if (q < len && buf[q] == '\n')
			return q;
		if (q + 1 < len && buf[q] == '\r' && buf[q + 1] == '\n')
			return q;
		if (q >= len || (q + 1 >= len && buf[q] == '\r')) {
			*scan = q - 1;	/* decide when more has arrived */
			return 0;
		}
		p = q;
	}
	*scan = len;
	return 0;
}

int md_header_read(struct md_hreader *r, int fd, struct md_hvalues *out)
{
	size_t len = 0, scan = 0, hlen = 0;
	size_t chunk = FIRST_CHUNK;

	while (!hlen) {
		ssize_t n;

		if (hreader_reserve(r, len + chunk + 1) < 0)
			return errno = ENOMEM, -1;
		n = read(fd, r->buf + len, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			hlen = len;	/* no empty line: all header */
			break;
		}
		len += (size_t)n;
		hlen = header_end(r->buf, len, &scan);
		if (!hlen && len >= MD_HEADER_MAX)
			hlen = len;	/* cut, see MD_HEADER_MAX */
		chunk = NEXT_CHUNK;
	}
	md_header_parse(r->buf, hlen, out);
	return 0;
}

void md_hreader_free(struct md_hreader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

/* ---- the index --------------------------------------------------------- */

struct ix {
	struct md_folder *f;
	int dirfd, curfd, newfd;
	struct md_cache cache;
	struct md_cache_writer w;
	bool writing;
	struct md_hreader r;
	uint32_t hint;		/* next cache record, see md_cache_lookup */
};

/* What invalidates a cached record: the file's mtime (ns), size and
 * inode as the scan saw them.  A rename (flags) keeps all three, and the
 * key, so it does not cost a re-read. */
static void msg_stamp(const struct md_msg *m, struct md_stamp *st)
{
	st->mtime = m->mtime_ns ? m->mtime_ns :
				  (int64_t)m->pub.received * 1000000000;
	st->size = m->file_size > 0 ? (uint64_t)m->file_size : m->pub.size;
	st->ino = m->ino;
}

/* The cache the folder's scan loaded (to take stamps from it) is the one
 * to use: it was checked already, and reading 15 MB twice is a good part
 * of a warm index. */
static int ix_cache(struct ix *x, struct md_folder *f, struct pn_error *err)
{
	if (f->cache && f->cache->uidvalidity == f->ul.uidvalidity) {
		x->cache = *f->cache;
		free(f->cache);
		f->cache = NULL;
		return 0;
	}
	return md_cache_load(&x->cache, x->dirfd, f->ul.uidvalidity, err);
}

static int ix_open(struct ix *x, struct md_folder *f, struct pn_error *err)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	x->curfd = x->newfd = -1;
	x->w.fd = -1;
	x->dirfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->dirfd >= 0)
		x->curfd = openat(x->dirfd, "cur", O_RDONLY | O_DIRECTORY |
				  O_CLOEXEC);
	if (x->curfd >= 0)
		x->newfd = openat(x->dirfd, "new", O_RDONLY | O_DIRECTORY |
				  O_CLOEXEC);
	if (x->newfd < 0) {
		char shown[512];

		md_display_path(f->path, shown, sizeof(shown));
		return pn_error_errno(err, errno, "%s: cannot open folder",
				      shown);
	}
	return ix_cache(x, f, err);
}

static void ix_close(struct ix *x)
{
	if (x->writing)
		md_cache_writer_abort(&x->w);
	md_cache_free(&x->cache);
	md_hreader_free(&x->r);
	if (x->newfd >= 0)
		close(x->newfd);
	if (x->curfd >= 0)
		close(x->curfd);
	if (x->dirfd >= 0)
		close(x->dirfd);
}

/* The time the stamps of a new cache were taken: the oldest of them (a
 * stamp a scan took from the cache is as old as that cache). */
static int64_t ix_verified(const struct md_folder *f)
{
	int64_t v = md_now_ns();

	for (size_t i = 0; i < f->n; i++)
		if (f->msgs[i].verified_ns < v)
			v = f->msgs[i].verified_ns;
	return v;
}

/* Does the cache need writing: a message it lacks (or has stale), or a
 * record for a message that is gone?  Or is it too old to be trusted by
 * a scan while this folder's stamps, all taken afresh, would be (see
 * md_cache_stamp): writing it again is what makes the next open warm.
 * Deciding first keeps a warm run free of any write. */
static bool ix_dirty(const struct ix *x)
{
	struct md_hvalues v;
	size_t hits = 0;
	uint32_t hint = 0;
	int64_t now = md_now_ns();

	for (size_t i = 0; i < x->f->n; i++) {
		const struct md_msg *m = &x->f->msgs[i];
		struct md_stamp st;

		msg_stamp(m, &st);
		if (!md_cache_lookup(&x->cache, m->name, m->keylen, &st, &v,
				     &hint))
			return true;
		hits++;
	}
	if (hits != x->cache.count)
		return true;
	return hits && !md_cache_fresh(x->cache.verified, now) &&
	       md_cache_fresh(ix_verified(x->f), now);
}

/* O_NONBLOCK: a FIFO (or a symlink to a device) among the messages must
 * not hang the index; for a regular file it changes nothing. */
#define MSG_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)

static int open_msg(struct ix *x, struct md_msg *m)
{
	int fd = openat(m->pub.in_new ? x->newfd : x->curfd, m->name,
			MSG_OPEN_FLAGS);

	/* Another writer renamed it (flags) since the scan: find it again
	 * by its key rather than lose it. */
	if (fd < 0 && errno == ENOENT && md_msg_relocate(x->f, m, NULL) == 0)
		fd = openat(m->pub.in_new ? x->newfd : x->curfd, m->name,
			    MSG_OPEN_FLAGS);
	return fd;
}

/* Errors that say "this is not a message file" (a directory, a FIFO
 * without a writer, a device): shown without fields, like a vanished
 * message, rather than failing the whole index. */
static bool not_a_message(int e)
{
	return e == ENOENT || e == EISDIR || e == EAGAIN || e == ENXIO ||
	       e == ELOOP;
}

/* The header values of m from its file.  Returns 1 when the message
 * vanished (expunged by another writer) or is not a file we can read
 * (see not_a_message): the entry is shown without fields, not cached. */
static int read_values(struct ix *x, struct md_msg *m, struct md_hvalues *v,
		       struct pn_error *err)
{
	int fd = open_msg(x, m), rc;
	char path[512];

	memset(v, 0, sizeof(*v));
	if (fd >= 0) {
		int e;

		/* Only the first page or so is wanted: no readahead of the
		 * body when the page cache is cold. */
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		rc = md_header_read(&x->r, fd, v);
		e = errno;
		close(fd);
		if (rc == 0)
			return 0;
		errno = e;
	}
	if (not_a_message(errno)) {
		memset(v, 0, sizeof(*v));
		return 1;
	}
	md_display_path(x->f->path, path, sizeof(path));
	return pn_error_errno(err, errno, "%s/%s/%s", path,
			      m->pub.in_new ? "new" : "cur", m->name);
}

static int ix_entry(struct ix *x, struct md_msg *m, struct md_hvalues *v,
		    struct pn_error *err)
{
	struct md_stamp st;
	int rc;

	msg_stamp(m, &st);
	if (md_cache_lookup(&x->cache, m->name, m->keylen, &st, v, &x->hint))
		rc = 0;
	else
		rc = read_values(x, m, v, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && x->writing)
		md_cache_writer_add(&x->w, m->name, m->keylen, &st, v);
	return 0;
}

int md_folder_index(struct md_folder *f,
		    int (*fn)(void *ctx, const struct md_index_entry *e),
		    void *ctx, struct pn_error *err)
{
	struct ix x;
	int rc = -1;

	if (ix_open(&x, f, err) < 0)
		goto out;
	/* Read-only never writes; a directory we may not write in is
	 * found out by the temporary file's open and costs nothing more. */
	if (!f->read_only && ix_dirty(&x))
		x.writing = md_cache_writer_open(&x.w, x.dirfd) == 0;
	for (size_t i = 0; i < f->n; i++) {
		struct md_msg *m = &f->msgs[i];
		struct md_hvalues v;
		struct md_index_entry e;

		if (ix_entry(&x, m, &v, err) < 0)
			goto out;
		e.msg = &m->pub;
		e.date = v.v[MD_HF_DATE];
		e.from = v.v[MD_HF_FROM];
		e.to = v.v[MD_HF_TO];
		e.subject = v.v[MD_HF_SUBJECT];
		e.message_id = v.v[MD_HF_MESSAGE_ID];
		if (fn(ctx, &e) != 0) {
			/* The caller has seen enough; a cache of only the
			 * first messages would drop the old file's others. */
			rc = 0;
			goto out;
		}
	}
	if (x.writing) {
		x.writing = false;
		/* Failing to keep a cache is not an error: it is optional. */
		(void)md_cache_writer_commit(&x.w, f->ul.uidvalidity,
					     ix_verified(f));
	}
	rc = 0;
out:
	ix_close(&x);
	return rc;
}
