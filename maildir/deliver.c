/* deliver.c - putting messages into a folder: append and copy.
 *
 * The Maildir rules: a unique name, the bytes written to tmp/ through a
 * file created O_EXCL, fsync, then link() into place (which never
 * replaces) and the tmp/ name removed, so cur/ and new/ only ever hold
 * whole messages.  The UID comes afterwards, under dovecot-uidlist.lock.
 *
 * Where a message lands: with no flags and no keywords in new/, without
 * info, as any delivery (mutt and mblaze then show it as new); otherwise
 * in cur/ with ":2,<flags>", as Dovecot's APPEND with flags does.
 */
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir_p.h"
#include "../lib/safefile.h"

struct sizes {
	uint64_t size, vsize;
	char prev;
};

/* W= is the size with CRLF line ends: each bare LF counts twice. */
static void count(struct sizes *sz, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && sz->prev != '\r')
			sz->vsize++;
		sz->prev = p[i];
	}
	sz->size += n;
	sz->vsize += n;
}

static int copy_fd(int in, int out, struct sizes *sz)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		count(sz, buf, (size_t)n);
		if (pn_write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
}

/* Write the message into tmp/base; the file is complete and on disk when
 * this returns 0. */
static int write_tmp(const char *tmp_path, const struct md_append *a,
		     struct sizes *sz)
{
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				O_NOFOLLOW, 0600);
	int rc = 0, e;

	if (fd < 0)
		return -1;
	if (a->data) {
		count(sz, a->data, (size_t)a->size);
		rc = pn_write_all(fd, a->data, (size_t)a->size);
	} else {
		rc = copy_fd(a->fd, fd, sz);
	}
	if (rc == 0 && a->received) {
		struct timespec ts[2] = { { a->received, 0 },
					  { a->received, 0 } };

		rc = futimens(fd, ts);
	}
	if (rc == 0)
		rc = fsync(fd);
	e = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, e = errno;
	errno = e;
	return rc;
}

static void fsync_dir(const char *dir, const char *sub)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* "<base>,S=<size>,W=<vsize>" into key; the file name adds the info. */
static int make_names(const struct sizes *sz, unsigned flags, uint32_t kw,
		      char *key, size_t keysz, char *name, size_t namesz)
{
	char base[200], info[64] = "";

	if (md_name_unique(base, sizeof(base)) < 0)
		return -1;
	if ((flags || kw) && md_info_format(flags, kw, NULL, info,
					    sizeof(info)) < 0)
		return -1;
	if ((size_t)snprintf(key, keysz, "%s,S=%llu,W=%llu", base,
			     (unsigned long long)sz->size,
			     (unsigned long long)sz->vsize) >= keysz ||
	    (size_t)snprintf(name, namesz, "%s%s", key, info) >= namesz)
		return -1;
	return 0;
}

static int uid_of(struct md_folder *f, const char *key, uint32_t *uid_out,
		  struct pn_error *err)
{
	size_t kl = strlen(key);

	for (size_t i = f->n; i-- > 0;) {
		if (f->msgs[i].keylen == kl && !memcmp(f->msgs[i].name, key, kl)) {
			if (uid_out)
				*uid_out = f->msgs[i].pub.uid;
			return 0;
		}
	}
	return pn_error_set(err, PN_EIO, "%s: delivered but not found again",
			    key);
}

/* link() the finished file into new/ or cur/ under a fresh unique name
 * until one is free (link never replaces). */
static int place(struct md_folder *f, const char *src, const struct sizes *sz,
		 unsigned flags, uint32_t kw, char *key, size_t keysz,
		 struct pn_error *err)
{
	const char *sub = flags || kw ? "cur" : "new";
	char name[512], *dst;
	int rc, e;

	for (int tries = 0; tries < 100; tries++) {
		if (make_names(sz, flags, kw, key, keysz, name, sizeof(name)) < 0)
			return pn_error_set(err, PN_ELIMIT, "file name too long");
		if (asprintf(&dst, "%s/%s/%s", f->path, sub, name) < 0)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		rc = link(src, dst);
		e = errno;
		free(dst);
		if (rc == 0) {
			fsync_dir(f->path, sub);
			return 0;
		}
		if (e != EEXIST) {
			pn_error_errno(err, e, "%s/%s: link", f->path, sub);
			errno = e;	/* callers tell ENOENT and EXDEV apart */
			return -1;
		}
	}
	return pn_error_set(err, PN_EIO, "%s: no unique name found", f->path);
}

static int append_checks(struct md_folder *f, const struct md_append *a,
			 uint32_t *kw, struct pn_error *err)
{
	char shown[400];

	if (f->read_only) {
		md_display_path(f->path, shown, sizeof(shown));
		return pn_error_set(err, PN_EINVAL, "%s: opened read-only",
				    shown);
	}
	if (!a->data && a->fd < 0)
		return pn_error_set(err, PN_EINVAL, "append: no data and no fd");
	return md_folder_keyword_bits(f, a->keywords, a->nkeywords, true, kw,
				      err);
}

struct place_ctx {
	struct md_folder *f;
	const char *src;
	struct sizes sz;
	unsigned flags;
	uint32_t kw;
	char key[400];
};

static int place_hook(void *ctx, struct pn_error *err)
{
	struct place_ctx *p = ctx;

	return place(p->f, p->src, &p->sz, p->flags, p->kw, p->key,
		     sizeof(p->key), err);
}

int md_folder_append(struct md_folder *f, const struct md_append *a,
		     uint32_t *uid_out, struct pn_error *err)
{
	struct place_ctx p = { .f = f, .flags = a->flags };
	struct md_locked_hook hook = { place_hook, &p };
	char base[200], *tmp = NULL;
	int rc = -1;

	if (append_checks(f, a, &p.kw, err) < 0)
		return -1;
	if (md_name_unique(base, sizeof(base)) < 0 ||
	    asprintf(&tmp, "%s/tmp/%s", f->path, base) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (write_tmp(tmp, a, &p.sz) < 0) {
		pn_error_errno(err, errno, "%s", tmp);
		goto out;
	}
	p.src = tmp;
	/* linked into place only once the uidlist lock is ours */
	if (md_folder_sync_locked(f, p.key, &hook, false, NULL, err) < 0 ||
	    uid_of(f, p.key, uid_out, err) < 0)
		goto out;
	rc = 0;
out:
	unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- copy --------------------------------------------------------------- */

/* Another file system (or no hard links): deliver a copy of the bytes. */
static int copy_bytes(struct md_folder *f, struct md_msg *m,
		      struct md_folder *dst, uint32_t *uid_out,
		      struct pn_error *err)
{
	struct md_append a = { 0 };
	int fd, rc;

	if (md_message_open(f, m->pub.uid, &fd, err) < 0)
		return -1;
	a.fd = fd;
	a.flags = m->pub.flags;
	a.keywords = m->pub.keywords;
	a.nkeywords = m->pub.nkeywords;
	a.received = m->pub.received;
	rc = md_folder_append(dst, &a, uid_out, err);
	close(fd);
	return rc;
}

/* Sizes for the new name: from the source's name, else its file. */
static void src_sizes(const struct md_msg *m, struct sizes *sz)
{
	struct md_name nm;

	if (md_name_parse(m->name, &nm) < 0)
		memset(&nm, 0, sizeof(nm));
	sz->size = nm.size ? nm.size : (uint64_t)m->file_size;
	sz->vsize = nm.vsize;
}

struct link_ctx {
	struct md_folder *f, *dst;
	struct md_msg *m;
	uint32_t kw;
	bool fallback;		/* no hard link possible: copy the bytes */
	char key[400];
};

static int link_hook(void *ctx, struct pn_error *err)
{
	struct link_ctx *c = ctx;
	struct sizes sz;

	for (int tries = 0; tries < 10; tries++) {
		char *src = md_msg_path(c->f, c->m);
		int rc, e;

		if (!src)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		src_sizes(c->m, &sz);
		rc = place(c->dst, src, &sz, c->m->pub.flags, c->kw, c->key,
			   sizeof(c->key), err);
		e = errno;
		free(src);
		if (rc == 0)
			return 0;
		if (e != ENOENT) {
			/* EXDEV, EPERM, EMLINK: copy the bytes instead */
			c->fallback = true;
			return -1;
		}
		if (md_msg_relocate(c->f, c->m, err) < 0)
			return -1;
	}
	return pn_error_set(err, PN_EIO, "UID %u: the file keeps moving",
			    c->m->pub.uid);
}

int md_folder_copy(struct md_folder *f, uint32_t uid, struct md_folder *dst,
		   uint32_t *new_uid_out, struct pn_error *err)
{
	struct link_ctx c = { .f = f, .dst = dst };
	struct md_locked_hook hook = { link_hook, &c };
	struct pn_error dummy;

	if (!err)
		err = &dummy;
	c.m = md_folder_find(f, uid);
	if (!c.m)
		return pn_error_set(err, PN_ENOTFOUND, "UID %u: no such message",
				    uid);
	if (dst->read_only)
		return pn_error_set(err, PN_EINVAL, "%s: opened read-only",
				    dst->path);
	if (md_folder_keyword_bits(dst, c.m->pub.keywords, c.m->pub.nkeywords,
				   true, &c.kw, err) < 0)
		return -1;
	if (md_folder_sync_locked(dst, c.key, &hook, false, NULL, err) < 0) {
		/* the hook failed before any rescan: c.m is still valid */
		if (c.fallback)
			return copy_bytes(f, c.m, dst, new_uid_out, err);
		return -1;
	}
	return uid_of(dst, c.key, new_uid_out, err);
}
