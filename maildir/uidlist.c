/* uidlist.c - dovecot-uidlist, and Dovecot's dotlock that guards it.
 *
 * Version 3 (Dovecot 1.1 and later):
 *	3 V<uidvalidity> N<next uid> G<128-bit guid in hex> [other fields]
 *	<uid>[ <ext field>...] :<file name up to ':'>
 * Version 1: "1 <uidvalidity> <next uid>" then "<uid> <file name>".
 * Dovecot appends records without rewriting the header, so the N it wrote
 * can be lower than the last UID + 1: the next UID is the larger.
 */
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir_p.h"
#include "../lib/safefile.h"
#include "../lib/sv.h"

void md_uidlist_clear(struct md_uidlist *ul)
{
	for (size_t i = 0; i < ul->n; i++) {
		free(ul->recs[i].key);
		free(ul->recs[i].ext);
	}
	free(ul->recs);
	free(ul->extra_hdr);
	memset(ul, 0, sizeof(*ul));
}

static int grow(struct md_uidlist *ul)
{
	if (ul->n == ul->cap) {
		size_t cap = ul->cap ? ul->cap * 2 : 64;
		void *p = realloc(ul->recs, cap * sizeof(*ul->recs));

		if (!p)
			return -1;
		ul->recs = p;
		ul->cap = cap;
	}
	return 0;
}

int md_uidlist_push_owned(struct md_uidlist *ul, uint32_t uid, char *key,
			  char *ext)
{
	if (grow(ul) < 0) {
		free(key);
		free(ext);
		return -1;
	}
	ul->recs[ul->n].uid = uid;
	ul->recs[ul->n].key = key;
	ul->recs[ul->n].ext = ext;
	ul->n++;
	return 0;
}

int md_uidlist_push(struct md_uidlist *ul, uint32_t uid, const char *key,
		    size_t keylen, const char *ext)
{
	struct md_uid_rec *r;

	if (grow(ul) < 0)
		return -1;
	r = &ul->recs[ul->n];
	r->uid = uid;
	r->key = pn_sv_dup(pn_sv_make(key, keylen));
	r->ext = ext && ext[0] ? strdup(ext) : NULL;
	if (!r->key || (ext && ext[0] && !r->ext)) {
		free(r->key);
		free(r->ext);
		return -1;
	}
	ul->n++;
	return 0;
}

void md_uidlist_new_guid(char out[33])
{
	unsigned char g[16];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(g, sizeof(g), GRND_NONBLOCK) != sizeof(g)) {
		for (size_t i = 0; i < sizeof(g); i++)
			g[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^
					       (getpid() >> (i % 2 * 8)) ^ i);
	}
	for (size_t i = 0; i < sizeof(g); i++)
		snprintf(out + 2 * i, 3, "%02x", g[i]);
}

void md_uidlist_init_new(struct md_uidlist *ul)
{
	md_uidlist_clear(ul);
	ul->version = 3;
	ul->uidvalidity = (uint32_t)time(NULL);
	ul->next_uid = 1;
	md_uidlist_new_guid(ul->guid);
}

static int parse_u32(struct pn_sv s, uint32_t *out)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 10)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int bad_line(struct pn_error *err, const char *path, long line,
		    const char *what)
{
	char shown[400];

	md_display_path(path, shown, sizeof(shown));
	pn_error_set(err, PN_EPARSE, "%s:%ld: %s", shown, line, what);
	if (err)
		err->line = line;
	return -1;
}

static int add_extra(struct md_uidlist *ul, struct pn_sv field)
{
	size_t old = ul->extra_hdr ? strlen(ul->extra_hdr) : 0;
	char *p = realloc(ul->extra_hdr, old + field.len + 2);

	if (!p)
		return -1;
	if (old)
		p[old++] = ' ';
	memcpy(p + old, field.p, field.len);
	p[old + field.len] = '\0';
	ul->extra_hdr = p;
	return 0;
}

/* "3 V<uidvalidity> N<next> G<guid> ..." (fields in any order). */
static int parse_header_v3(struct pn_sv rest, struct md_uidlist *ul)
{
	bool have_v = false;

	while (rest.len) {
		struct pn_sv f = pn_sv_chop(&rest, ' ');

		if (f.len == 0)
			continue;
		if (f.p[0] == 'V') {
			if (parse_u32(pn_sv_make(f.p + 1, f.len - 1),
				      &ul->uidvalidity) < 0)
				return -1;
			have_v = true;
		} else if (f.p[0] == 'N') {
			if (parse_u32(pn_sv_make(f.p + 1, f.len - 1),
				      &ul->next_uid) < 0)
				return -1;
		} else if (f.p[0] == 'G') {
			/* Dovecot calls any other G "Invalid mailbox GUID"
			 * and rebuilds the list (new UIDVALIDITY) */
			if (f.len != 33)
				return -1;
			for (size_t i = 1; i < 33; i++)
				if (!strchr("0123456789abcdefABCDEF", f.p[i]))
					return -1;
			memcpy(ul->guid, f.p + 1, 32);
			ul->guid[32] = '\0';
		} else if (add_extra(ul, f) < 0) {
			return -1;
		}
	}
	return have_v ? 0 : -1;
}

static int parse_header(struct pn_sv line, struct md_uidlist *ul)
{
	struct pn_sv ver = pn_sv_chop(&line, ' ');

	if (pn_sv_eq(ver, PN_SV_LIT("3"))) {
		ul->version = 3;
		return parse_header_v3(line, ul);
	}
	if (pn_sv_eq(ver, PN_SV_LIT("1"))) {
		ul->version = 1;
		if (parse_u32(pn_sv_chop(&line, ' '), &ul->uidvalidity) < 0 ||
		    parse_u32(pn_sv_chop(&line, ' '), &ul->next_uid) < 0 ||
		    line.len)
			return -1;
		return 0;
	}
	return -2;
}

/* v3: "<uid> [ext fields] :<key>"; v1: "<uid> <key>". */
static int parse_record(struct pn_sv line, struct md_uidlist *ul)
{
	struct pn_sv num = pn_sv_chop(&line, ' ');
	uint32_t uid;
	char *ext = NULL;
	int rc;

	if (parse_u32(num, &uid) < 0 || uid == 0 ||
	    (ul->n && uid <= ul->recs[ul->n - 1].uid))
		return -1;
	if (ul->version == 1) {
		if (!line.len || pn_sv_find(line, '/') >= 0)
			return -1;
		/* v1 kept whole names: the key is what precedes ':' */
		if (pn_sv_find(line, ':') > 0)
			line.len = (size_t)pn_sv_find(line, ':');
		return md_uidlist_push(ul, uid, line.p, line.len, NULL);
	}
	for (size_t i = 0; i < line.len; i++) {
		if (line.p[i] == ':' && (i == 0 || line.p[i - 1] == ' ')) {
			struct pn_sv key = pn_sv_make(line.p + i + 1,
						      line.len - i - 1);
			long info = pn_sv_find(key, ':');

			/* "the last known file name": flags may follow ':' */
			if (info >= 0)
				key.len = (size_t)info;
			if (!key.len || pn_sv_find(key, '/') >= 0)
				return -1;
			if (i > 1 && !(ext = pn_sv_dup(pn_sv_make(line.p, i - 1))))
				return -1;
			rc = md_uidlist_push(ul, uid, key.p, key.len, ext);
			free(ext);
			return rc;
		}
	}
	return -1;
}

static void finish_next_uid(struct md_uidlist *ul)
{
	if (ul->n && ul->recs[ul->n - 1].uid >= ul->next_uid)
		ul->next_uid = ul->recs[ul->n - 1].uid + 1;
	if (ul->next_uid == 0)
		ul->next_uid = 1;
}

int md_uidlist_parse(const char *text, size_t len, const char *path,
		     struct md_uidlist *out, struct pn_error *err)
{
	struct pn_sv rest = pn_sv_make(text, len);
	long lineno = 0;

	md_uidlist_clear(out);
	while (rest.len) {
		struct pn_sv line = pn_sv_chop(&rest, '\n');
		int rc;

		lineno++;
		if (lineno == 1) {
			rc = parse_header(line, out);
			if (rc == -2)
				return bad_line(err, path, 1, "unsupported version");
			if (rc < 0)
				return bad_line(err, path, 1, "bad header");
			continue;
		}
		if (line.len == 0)
			continue;
		if (parse_record(line, out) < 0)
			return bad_line(err, path, lineno, "bad UID line");
	}
	if (lineno == 0)
		return bad_line(err, path, 1, "empty file");
	finish_next_uid(out);
	return 0;
}

int md_uidlist_format(const struct md_uidlist *ul, struct pn_buf *out)
{
	if (pn_buf_printf(out, "3 V%u N%u", ul->uidvalidity, ul->next_uid) < 0)
		return -1;
	if (ul->guid[0] && pn_buf_printf(out, " G%s", ul->guid) < 0)
		return -1;
	if (ul->extra_hdr && pn_buf_printf(out, " %s", ul->extra_hdr) < 0)
		return -1;
	if (pn_buf_addc(out, '\n') < 0)
		return -1;
	for (size_t i = 0; i < ul->n; i++) {
		const struct md_uid_rec *r = &ul->recs[i];

		if (pn_buf_printf(out, "%u%s%s :%s\n", r->uid, r->ext ? " " : "",
				  r->ext ? r->ext : "", r->key) < 0)
			return -1;
	}
	return 0;
}

/* Whole file into b; 1 when it does not exist. */
int md_read_file(const char *path, struct pn_buf *b, struct pn_error *err)
{
	char shown[400];
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0 && errno == ENOENT)
		return 1;
	md_display_path(path, shown, sizeof(shown));
	if (fd < 0)
		return pn_error_errno(err, errno, "%s", shown);
	pn_buf_init(b, MD_META_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || pn_buf_add(b, chunk, (size_t)n) < 0) {
			int e = n < 0 ? errno : errno ? errno : ENOMEM;

			close(fd);
			pn_buf_free(b);
			return pn_error_errno(err, e, "%s", shown);
		}
	}
	close(fd);
	return 0;
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

int md_uidlist_read(const char *dir, struct md_uidlist *ul, bool locked,
		    bool *exists_out, struct pn_error *err)
{
	struct pn_buf b = { 0 };
	char *path = join(dir, MD_UIDLIST);
	int rc;

	*exists_out = false;
	md_uidlist_clear(ul);
	if (!path)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = md_read_file(path, &b, err);
	if (rc == 0) {
		size_t len = b.len;

		/* Dovecot appends records under its lock: without ours, a
		 * last line lacking its '\n' may still be being written. */
		while (!locked && len && b.data[len - 1] != '\n')
			len--;
		*exists_out = true;
		rc = md_uidlist_parse(pn_buf_cstr(&b), len ? len : b.len, path,
				      ul, err);
	} else if (rc == 1) {
		rc = 0;
	}
	pn_buf_free(&b);
	free(path);
	return rc;
}

/* ---- the dotlock -------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Dovecot writes "PID:HOST" into its dotlocks so that a lock whose owner
 * died on this host can be taken over at once; we do the same. */
static void lock_owner(char *out, size_t outsz)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outsz, "%ld:%s", (long)getpid(), host);
}

static bool owner_dead(const char *lock_path)
{
	char buf[300], mine[300], host[280];
	long pid;
	ssize_t n;
	int fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	lock_owner(mine, sizeof(mine));
	if (sscanf(buf, "%ld:%279[^\n]", &pid, host) != 2 || pid <= 0 ||
	    strcmp(host, strchr(mine, ':') + 1))
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* A lock nobody touched for MD_LOCK_STALE_SECS, or whose owner is dead,
 * belongs to a writer that will never finish: Dovecot overrides it, and
 * so do we.  Unlinked only if it is still the lock we judged (another
 * taker may have replaced it meanwhile).  1 removed, 0 not stale. */
static int remove_if_stale(const char *lock_path)
{
	struct stat st, again;

	if (lstat(lock_path, &st) < 0)
		return errno == ENOENT ? 1 : 0;
	if (time(NULL) - st.st_mtime <= MD_LOCK_STALE_SECS &&
	    !owner_dead(lock_path))
		return 0;
	if (lstat(lock_path, &again) < 0)
		return errno == ENOENT ? 1 : 0;
	if (again.st_ino != st.st_ino ||
	    again.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    again.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
		return 0;
	if (unlink(lock_path) < 0 && errno != ENOENT)
		return 0;
	return 1;
}

static int lock_busy(struct md_dotlock *out, const char *name, long long waited,
		     struct pn_error *err)
{
	char shown[400];

	md_display_path(out->target_path, shown, sizeof(shown));
	pn_error_set(err, PN_EIO,
		     "%s is locked by another process (%s.lock, %lld s)", shown,
		     name, waited / 1000);
	free(out->lock_path);
	free(out->target_path);
	out->lock_path = out->target_path = NULL;
	return -1;
}

/* A temporary file for the lock's first content, in the Maildir's tmp/
 * (cleaned after 36 hours if we die here) or, without one, in dir. */
static int lock_temp(const char *dir, char *path, size_t pathsz)
{
	char uniq[200];
	int fd;

	if (md_name_unique(uniq, sizeof(uniq)) < 0)
		return errno = ENAMETOOLONG, -1;
	snprintf(path, pathsz, "%s/tmp/%s.lock", dir, uniq);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	snprintf(path, pathsz, "%s/.%s.lock", dir, uniq);
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    0600);
}

/* Create lock_path already holding "PID:HOST": written to a temporary
 * file first and link()ed into place, which fails with EEXIST exactly as
 * O_EXCL does (Dovecot's dotlocks know both ways).  So a writer killed
 * at any moment leaves a lock that names its dead owner, never an empty
 * one that Dovecot would wait 2 minutes for.  Returns the fd or -1. */
static int create_lock(const char *dir, const char *lock_path)
{
	char tmp[4096], owner[300];
	int fd, rc, e;

	lock_owner(owner, sizeof(owner));
	fd = lock_temp(dir, tmp, sizeof(tmp));
	if (fd < 0)
		return -1;
	if (pn_write_all(fd, owner, strlen(owner)) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return errno = e, -1;
	}
	rc = link(tmp, lock_path);
	e = errno;
	unlink(tmp);
	if (rc == 0)
		return fd;
	close(fd);
	if (e == EEXIST)
		return errno = e, -1;
	/* no hard links here: O_EXCL, with a short window of emptiness */
	fd = open(lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd >= 0 && pn_write_all(fd, owner, strlen(owner)) < 0)
		e = errno;	/* empty: goes stale by age instead */
	return fd;
}

int md_dotlock_take(const char *dir, const char *name, int timeout_ms,
		    struct md_dotlock *out, struct pn_error *err)
{
	long long start = now_ms();
	int delay = 5;
	char shown[400];

	out->fd = -1;
	out->target_path = join(dir, name);
	if (asprintf(&out->lock_path, "%s/%s.lock", dir, name) < 0)
		out->lock_path = NULL;
	if (!out->target_path || !out->lock_path) {
		free(out->target_path);
		free(out->lock_path);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	for (;;) {
		out->fd = create_lock(dir, out->lock_path);
		if (out->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
		if (remove_if_stale(out->lock_path))
			continue;
		if (now_ms() - start >= timeout_ms)
			return lock_busy(out, name, now_ms() - start, err);
		sleep_ms(delay);
		delay = delay * 2 > 200 ? 200 : delay * 2;
	}
	md_display_path(out->lock_path, shown, sizeof(shown));
	pn_error_errno(err, errno, "%s", shown);
	free(out->lock_path);
	free(out->target_path);
	out->lock_path = out->target_path = NULL;
	return -1;
}

void md_dotlock_release(struct md_dotlock *l)
{
	if (l->fd >= 0) {
		close(l->fd);
		unlink(l->lock_path);
	}
	l->fd = -1;
	free(l->lock_path);
	free(l->target_path);
	l->lock_path = l->target_path = NULL;
}

/* The new content goes to a temporary file that is renamed over the
 * target while the lock (still saying "PID:HOST") is held; the lock goes
 * last.  A writer killed at any point leaves either the old or the new
 * file whole, and a lock naming its dead owner. */
int md_dotlock_commit(struct md_dotlock *l, const void *data, size_t len,
		      struct pn_error *err)
{
	char tmp[4096], shown[400], *slash, *dir;
	int fd, e;

	dir = strdup(l->target_path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash) {
		free(dir);
		md_dotlock_release(l);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	*slash = '\0';
	fd = lock_temp(dir, tmp, sizeof(tmp));
	free(dir);
	md_display_path(l->target_path, shown, sizeof(shown));
	if (fd < 0)
		goto fail;
	if (pn_write_all(fd, data, len) < 0 || fsync(fd) < 0 ||
	    rename(tmp, l->target_path) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto fail;
	}
	close(fd);
	md_dotlock_release(l);
	return 0;
fail:
	e = errno;
	md_dotlock_release(l);
	return pn_error_errno(err, e, "%s", shown);
}
