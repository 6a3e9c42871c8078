/* source.c - the bytes a parsed message came from, and the whole-input
 * parse conveniences.
 *
 * A seekable regular file is its own source.  Anything else (a pipe,
 * a socket) is spooled while it is parsed: in memory up to SPOOL_MEM_MAX,
 * then in an unlinked temporary file, so a 1 GB message from stdin never
 * needs 1 GB of memory.
 */
#include "mime_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_MEM_MAX (8u << 20)
#define READ_CHUNK (256u << 10)

/* ---- sources ------------------------------------------------------------- */

struct mime_source *mime_source_new_fd(int fd)
{
	struct mime_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->fd = fd;
	return s;
}

struct mime_source *mime_source_new_mem(const char *data, size_t len,
					bool copy)
{
	struct mime_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->fd = -1;
	if (copy) {
		s->mem_owned = malloc(len ? len : 1);
		if (!s->mem_owned) {
			free(s);
			return NULL;
		}
		if (len)
			memcpy(s->mem_owned, data, len);
		data = s->mem_owned;
	}
	s->mem = data;
	s->mem_len = len;
	return s;
}

struct mime_source *mime_source_ref(struct mime_source *s)
{
	if (s)
		s->refs++;
	return s;
}

void mime_source_unref(struct mime_source **sp)
{
	struct mime_source *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	*sp = NULL;
	if (--s->refs > 0)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->mem_owned);
	free(s);
}

int mime_source_read(struct mime_source *s, uint64_t off, char *buf,
		     size_t len, size_t *got_out, struct pn_error *err)
{
	ssize_t n;

	*got_out = 0;
	if (!s)
		return pn_error_set(err, PN_EINVAL, "message has no source");
	if (s->fd < 0) {
		if (off >= s->mem_len)
			return 0;
		if (len > s->mem_len - off)
			len = (size_t)(s->mem_len - off);
		memcpy(buf, s->mem + off, len);
		*got_out = len;
		return 0;
	}
	do
		n = pread(s->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pn_error_errno(err, errno, "reading message at byte %llu",
				      (unsigned long long)off);
	*got_out = (size_t)n;
	return 0;
}

/* ---- attaching ----------------------------------------------------------- */

static void attach(struct mime_message *msg, struct mime_source *src)
{
	struct mime_part *part = msg->root;

	mime_source_unref(&msg->src);
	msg->src = src;
	while (part) {
		mime_source_unref(&part->src);
		part->src = mime_source_ref(src);
		if (part->first_child) {
			part = part->first_child;
			continue;
		}
		while (part && !part->next)
			part = part->parent;
		if (part)
			part = part->next;
	}
}

int mime_message_attach_fd(struct mime_message *msg, int fd,
			   struct pn_error *err)
{
	struct mime_source *src = mime_source_new_fd(fd);

	if (!src) {
		close(fd);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	attach(msg, src);
	return 0;
}

int mime_message_attach_mem(struct mime_message *msg, const char *data,
			    size_t len, bool copy, struct pn_error *err)
{
	struct mime_source *src = mime_source_new_mem(data, len, copy);

	if (!src)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	attach(msg, src);
	return 0;
}

/* ---- whole-input parsing ------------------------------------------------- */

int mime_parse_mem(const char *data, size_t len, bool copy,
		   const struct mime_limits *limits,
		   struct mime_message **msg_out, struct pn_error *err)
{
	struct mime_parser *p = mime_parser_new(limits, NULL);
	int rc = -1;

	*msg_out = NULL;
	if (!p)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (mime_parser_feed(p, data, len, err) == 0 &&
	    mime_parser_finish(p, msg_out, err) == 0) {
		rc = mime_message_attach_mem(*msg_out, data, len, copy, err);
		if (rc < 0)
			mime_message_free(msg_out);
	}
	mime_parser_free(&p);
	return rc;
}

/* Where a non-seekable input goes while it is parsed. */
struct spool {
	struct pn_buf mem;
	int fd;			/* -1 while in memory */
};

static int spool_tmpfile(struct spool *sp, struct pn_error *err)
{
	const char *dir = getenv("TMPDIR");
	struct pn_buf path;
	size_t off = 0;
	int fd;

	pn_buf_init(&path, 0);
	if (!dir || !*dir)
		dir = "/tmp";
	if (pn_buf_printf(&path, "%s/postern-spool-XXXXXX", dir) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	fd = mkostemp(path.data, O_CLOEXEC);
	if (fd < 0) {
		pn_error_errno(err, errno, "creating a spool file in %s", dir);
		pn_buf_free(&path);
		return -1;
	}
	unlink(path.data);
	pn_buf_free(&path);
	while (off < sp->mem.len) {
		ssize_t n = write(fd, sp->mem.data + off, sp->mem.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return pn_error_errno(err, errno, "writing spool file");
		}
		off += (size_t)n;
	}
	pn_buf_free(&sp->mem);
	sp->fd = fd;
	return 0;
}

static int spool_add(struct spool *sp, const char *data, size_t len,
		     struct pn_error *err)
{
	if (sp->fd < 0 && sp->mem.len + len > SPOOL_MEM_MAX &&
	    spool_tmpfile(sp, err) < 0)
		return -1;
	if (sp->fd < 0) {
		if (pn_buf_add(&sp->mem, data, len) < 0)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		return 0;
	}
	while (len) {
		ssize_t n = write(sp->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pn_error_errno(err, errno, "writing spool file");
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read fd to EOF into the parser, and into sp when not NULL. */
static int feed_fd(struct mime_parser *p, int fd, struct spool *sp,
		   struct pn_error *err)
{
	char *buf = malloc(READ_CHUNK);
	int rc = 0;

	if (!buf)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pn_error_errno(err, errno, "reading message");
			break;
		}
		if (n == 0)
			break;
		if ((sp && spool_add(sp, buf, (size_t)n, err) < 0) ||
		    mime_parser_feed(p, buf, (size_t)n, err) < 0) {
			rc = -1;
			break;
		}
	}
	free(buf);
	return rc;
}

static int parse_seekable(int fd, const struct mime_limits *limits,
			  const struct mime_leaf_sink *sink,
			  struct mime_message **msg_out, struct pn_error *err)
{
	struct mime_parser *p = mime_parser_new(limits, sink);
	int rc = -1;

	if (!p) {
		close(fd);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	if (feed_fd(p, fd, NULL, err) == 0 &&
	    mime_parser_finish(p, msg_out, err) == 0) {
		rc = mime_message_attach_fd(*msg_out, fd, err);
		fd = -1;
		if (rc < 0)
			mime_message_free(msg_out);
	}
	if (fd >= 0)
		close(fd);
	mime_parser_free(&p);
	return rc;
}

static int parse_spooled(int fd, const struct mime_limits *limits,
			 const struct mime_leaf_sink *sink,
			 struct mime_message **msg_out, struct pn_error *err)
{
	struct mime_parser *p = mime_parser_new(limits, sink);
	struct spool sp = { .fd = -1 };
	int rc = -1;

	pn_buf_init(&sp.mem, 0);
	if (!p)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (feed_fd(p, fd, &sp, err) == 0 &&
	    mime_parser_finish(p, msg_out, err) == 0) {
		if (sp.fd >= 0) {
			rc = mime_message_attach_fd(*msg_out, sp.fd, err);
			sp.fd = -1;
		} else {
			size_t len = sp.mem.len;
			char *data = pn_buf_take(&sp.mem, NULL);
			struct mime_source *src = data ?
				mime_source_new_mem(data, len, false) : NULL;

			if (src) {
				src->mem_owned = data;
				attach(*msg_out, src);
				rc = 0;
			} else {
				free(data);
				rc = pn_error_set(err, PN_ENOMEM,
						  "out of memory");
			}
		}
		if (rc < 0)
			mime_message_free(msg_out);
	}
	if (sp.fd >= 0)
		close(sp.fd);
	pn_buf_free(&sp.mem);
	mime_parser_free(&p);
	return rc;
}

int mime_parse_fd(int fd, const struct mime_limits *limits,
		  const struct mime_leaf_sink *sink,
		  struct mime_message **msg_out, struct pn_error *err)
{
	struct stat st;

	*msg_out = NULL;
	/* A regular file read from its start is its own source; the
	 * caller keeps fd, so the source gets a duplicate. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(fd, 0, SEEK_CUR) == 0) {
		int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

		if (dupfd < 0)
			return pn_error_errno(err, errno, "dup");
		return parse_seekable(dupfd, limits, sink, msg_out, err);
	}
	return parse_spooled(fd, limits, sink, msg_out, err);
}

int mime_parse_file(const char *path, const struct mime_limits *limits,
		    const struct mime_leaf_sink *sink,
		    struct mime_message **msg_out, struct pn_error *err)
{
	struct stat st;
	int fd, rc;

	*msg_out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "%s", path);
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO or a device: cannot be read back, spool it */
		rc = parse_spooled(fd, limits, sink, msg_out, err);
		close(fd);
	} else {
		rc = parse_seekable(fd, limits, sink, msg_out, err);
	}
	if (rc < 0) {
		pn_error_prefix(err, "%s", path);
		return -1;
	}
	return 0;
}
