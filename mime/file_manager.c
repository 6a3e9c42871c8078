/* file_manager.c - the file content manager.
 *
 * get streams a leaf's transfer-decoded bytes to a file descriptor; set
 * "file" makes a part out of a file on disk without reading it into
 * memory: libmagic names the type, one pass over the file picks the
 * transfer encoding, and the writer encodes the file as it writes it.
 */
#include "mime_p.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* By type alone, as email6 asks get_content_maintype(): a built multipart
 * has no boundary until it is written. */
static bool multipart_type(const struct mime_part *part)
{
	const char *mt = mime_part_maintype(part);

	return mt && strcmp(mt, "multipart") == 0;
}

/* ---- get ----------------------------------------------------------------- */

struct fd_sink {
	struct mime_file_target *t;
	int err;		/* errno of a failed write */
};

static int write_all(void *ctx, const char *data, size_t len)
{
	struct fd_sink *s = ctx;

	while (len > 0) {
		ssize_t n = write(s->t->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->err = n < 0 ? errno : EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
		s->t->bytes_out += (uint64_t)n;
	}
	return 0;
}

static int get_to_fd(struct mime_part *part, void *arg, void *ctx,
		     struct pn_error *err)
{
	struct fd_sink s = { arg, 0 };
	bool defect = false;

	(void)ctx;
	if (!s.t || s.t->fd < 0)
		return pn_error_set(err, PN_EINVAL, "no file descriptor given");
	if (multipart_type(part))
		return pn_error_set(err, PN_EINVAL,
				    "get_content not valid on multipart");
	s.t->bytes_out = 0;
	if (mime_part_decode(part, write_all, &s, &defect, err) < 0) {
		if (s.err)
			return pn_error_errno(err, s.err, "write");
		return -1;
	}
	s.t->defect = defect;
	return 0;
}

/* ---- what is in the file ------------------------------------------------- */

struct file_stats {
	uint64_t size;
	uint64_t qp_len;	/* quoted-printable size, text mode */
	size_t col, maxline;
	bool eightbit, nul, bare_cr, prev_cr;
};

static void stats_feed(struct file_stats *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (s->prev_cr && c != '\n')
			s->bare_cr = true;
		s->prev_cr = c == '\r';
		if (c >= 0x80)
			s->eightbit = true;
		else if (c == 0)
			s->nul = true;
		if ((c >= 32 && c <= 126 && c != '=') || c == '\t' ||
		    c == '\n' || c == '\r')
			s->qp_len++;
		else
			s->qp_len += 3;
		if (c == '\n')
			s->col = 0;
		else if (c != '\r' && ++s->col > s->maxline)
			s->maxline = s->col;
	}
	s->size += n;
}

static int scan_file(int fd, const char *path, struct file_stats *s,
		     struct pn_error *err)
{
	unsigned char buf[65536];

	memset(s, 0, sizeof(*s));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pn_error_errno(err, errno, "read %s", path);
		if (n == 0)
			break;
		stats_feed(s, buf, (size_t)n);
	}
	if (s->prev_cr)
		s->bare_cr = true;
	return 0;
}

/* 7bit for short-lined ASCII text; quoted-printable for text that stays
 * shorter that way (mostly ASCII); base64 for the rest.  Line breaks are
 * only line breaks in text: elsewhere they are data the writer must not
 * touch. */
static enum mime_cte file_cte(const struct file_stats *s, bool text)
{
	uint64_t b64_len = (s->size + 2) / 3 * 4;

	if (!text || s->nul || s->bare_cr)
		return MIME_CTE_BASE64;
	if (!s->eightbit && s->maxline <= 78)
		return MIME_CTE_7BIT;
	return s->qp_len + s->qp_len / 75 * 2 <= b64_len ? MIME_CTE_QP
							  : MIME_CTE_BASE64;
}

/* ---- libmagic ------------------------------------------------------------ */

struct detected {
	char type[128];		/* "text/plain" */
	char charset[64];	/* "us-ascii", "" when not text */
};

static void copy_str(char *out, size_t outsz, const char *s)
{
	snprintf(out, outsz, "%s", s ? s : "");
}

/* One libmagic handle per manager, opened on first use: loading the
 * database costs far more than looking at a file, and a message may carry
 * many attachments. */
struct magic_cache {
	magic_t m;
};

static magic_t magic_get(struct magic_cache *mc, struct pn_error *err)
{
	if (mc->m)
		return mc->m;
	mc->m = magic_open(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_ERROR);
	if (!mc->m) {
		pn_error_errno(err, errno, "magic_open");
		return NULL;
	}
	if (magic_load(mc->m, NULL) < 0) {
		pn_error_set(err, PN_EIO, "libmagic: %s", magic_error(mc->m));
		magic_close(mc->m);
		mc->m = NULL;
	}
	return mc->m;
}

static void magic_cache_free(void *ctx)
{
	struct magic_cache *mc = ctx;

	if (mc->m)
		magic_close(mc->m);
	free(mc);
}

static int detect(struct magic_cache *mc, int fd, struct detected *d,
		  struct pn_error *err)
{
	magic_t m = magic_get(mc, err);
	const char *r;
	char *semi;

	if (!m)
		return -1;
	/* magic_descriptor reads from fd's current offset. */
	r = lseek(fd, 0, SEEK_SET) == 0 ? magic_descriptor(m, fd) : NULL;
	copy_str(d->type, sizeof(d->type), r ? r : "application/octet-stream");
	d->charset[0] = '\0';
	semi = strchr(d->type, ';');
	if (semi) {
		const char *cs = strstr(semi, "charset=");

		copy_str(d->charset, sizeof(d->charset), cs ? cs + 8 : NULL);
		*semi = '\0';
	}
	return 0;
}

/* Split detected or given type into maintype and subtype.  libmagic names
 * empty files inode/x-empty or application/x-empty: those are data of no
 * particular kind. */
static void pick_type(const struct detected *d,
		      const struct mime_set_opts *opts, char *mt, char *st,
		      size_t sz)
{
	const char *slash = strchr(d->type, '/');

	if (opts->maintype) {
		copy_str(mt, sz, opts->maintype);
		copy_str(st, sz, opts->subtype ? opts->subtype
					       : "octet-stream");
		return;
	}
	if (!slash || strncmp(d->type, "inode/", 6) == 0 ||
	    strcmp(d->type, "application/x-empty") == 0) {
		copy_str(mt, sz, "application");
		copy_str(st, sz, "octet-stream");
		return;
	}
	snprintf(mt, sz, "%.*s", (int)(slash - d->type), d->type);
	copy_str(st, sz, opts->subtype ? opts->subtype : slash + 1);
}

/* The charset libmagic reports, when it names one. */
static const char *text_charset(const struct detected *d,
				const struct mime_set_opts *opts)
{
	if (opts->charset)
		return opts->charset;
	if (!d->charset[0] || strcmp(d->charset, "binary") == 0 ||
	    strncmp(d->charset, "unknown", 7) == 0)
		return NULL;
	return d->charset;
}

/* ---- set "file" ---------------------------------------------------------- */

static int opt_cte(const char *s, const struct file_stats *st,
		   enum mime_cte *out, struct pn_error *err)
{
	bool unknown = false;

	*out = mime_cte_parse(s, &unknown);
	if (unknown || *out == MIME_CTE_UUENCODE || *out == MIME_CTE_UNKNOWN)
		return pn_error_set(err, PN_EINVAL,
				    "Unknown content transfer encoding %s", s);
	if (*out == MIME_CTE_7BIT && (st->eightbit || st->nul))
		return pn_error_set(err, PN_EINVAL,
				    "non-ASCII data cannot be sent as 7bit");
	return 0;
}

static int put_headers(struct mime_part *part, const char *mt,
		       const char *st, const char *charset, enum mime_cte cte,
		       struct pn_error *err)
{
	char type[300];

	if (!*mt || !*st || strpbrk(mt, "/;\r\n \t\"") ||
	    strpbrk(st, "/;\r\n \t\""))
		return pn_error_set(err, PN_EINVAL, "invalid type %s/%s", mt,
				    st);
	snprintf(type, sizeof(type), "%s/%s", mt, st);
	if (mime_part_header_add(part, "Content-Type", type, err) < 0)
		return -1;
	if (charset && strcmp(mt, "text") == 0 &&
	    mime_part_set_param(part, "Content-Type", "charset", charset,
				err) < 0)
		return -1;
	return mime_part_header_add(part, "Content-Transfer-Encoding",
				    mime_cte_name(cte), err);
}

/* The body is read again when the message is written: keep a path that
 * survives a change of working directory. */
static int set_path(struct mime_part *part, const char *path, enum mime_cte cte,
		    struct pn_error *err)
{
	char *abs = realpath(path, NULL);

	if (!abs)
		abs = strdup(path);
	if (!abs)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	pn_buf_reset(&part->body);
	free(part->body_path);
	part->body_path = abs;
	part->body_path_cte = cte;
	mime_part_touch(part, false);
	return 0;
}

static int describe(struct magic_cache *mc, int fd, const char *path,
		    const struct mime_set_opts *opts,
		    struct mime_part *part, struct pn_error *err)
{
	struct detected d;
	struct file_stats st;
	char mt[128], sub[128];
	enum mime_cte cte;

	if (detect(mc, fd, &d, err) < 0)
		return -1;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return pn_error_errno(err, errno, "seek %s", path);
	if (scan_file(fd, path, &st, err) < 0)
		return -1;
	pick_type(&d, opts, mt, sub, sizeof(mt));
	if (opts->cte) {
		if (opt_cte(opts->cte, &st, &cte, err) < 0)
			return -1;
	} else {
		cte = file_cte(&st, strcmp(mt, "text") == 0);
	}
	if (put_headers(part, mt, sub, text_charset(&d, opts), cte, err) < 0)
		return -1;
	return set_path(part, path, cte, err);
}

static int set_file(struct mime_part *part, const void *content,
		    const struct mime_set_opts *opts, void *ctx,
		    struct pn_error *err)
{
	const char *path = content;
	struct mime_set_opts o = *opts;
	struct stat sb;
	int fd, rc;

	if (!path || !*path)
		return pn_error_set(err, PN_EINVAL, "no file name given");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "open %s", path);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return pn_error_set(err, PN_EINVAL, "%s is not a regular file",
				    path);
	}
	rc = describe(ctx, fd, path, opts, part, err);
	close(fd);
	if (rc < 0)
		return -1;
	if (!o.filename)
		o.filename = basename(path);
	if (mime_apply_set_opts(part, &o, err) < 0)
		return -1;
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

struct mime_manager *mime_file_manager_new(void)
{
	struct mime_manager *m = mime_manager_new();
	struct magic_cache *mc = m ? calloc(1, sizeof(*mc)) : NULL;

	if (!m)
		return NULL;
	if (!mc || mime_manager_add_cleanup(m, magic_cache_free, mc) < 0) {
		free(mc);
		mime_manager_free(&m);
		return NULL;
	}
	if (mime_manager_add_get(m, "", get_to_fd, NULL) < 0 ||
	    mime_manager_add_set(m, "file", set_file, mc) < 0)
		mime_manager_free(&m);
	return m;
}
