/* store.c - a Maildir store: its root, its layout, folder names on disk.
 *
 * Maildir++: INBOX is the root, folder "A.B" is the directory ".A.B"
 * holding a "maildirfolder" file.  fs: folder "A/B" is root/A/B.  Either
 * way each name is modified UTF-7 on disk, as Dovecot writes it (maildir/
 * must not include imap/, so the codec is our own, below).
 */
#include "maildir.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir_p.h"
#include "../lib/utf8.h"

void md_display_path(const char *path, char *out, size_t outsz)
{
	const char *home = getenv("HOME");
	size_t hl = home ? strlen(home) : 0;

	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	if (hl > 1 && strncmp(path, home, hl) == 0 && path[hl] == '/')
		snprintf(out, outsz, "~%s", path + hl);
	else
		snprintf(out, outsz, "%s", path);
}

/* ---- modified UTF-7 ----------------------------------------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_flush(struct pn_buf *out, const uint16_t *u, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;

	if (pn_buf_addc(out, '&') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 16) | u[i];
		bits += 16;
		while (bits >= 6) {
			bits -= 6;
			if (pn_buf_addc(out, b64[(acc >> bits) & 63]) < 0)
				return -1;
		}
	}
	if (bits && pn_buf_addc(out, b64[(acc << (6 - bits)) & 63]) < 0)
		return -1;
	return pn_buf_addc(out, '-');
}

int md_mutf7_encode(const char *s, size_t len, struct pn_buf *out)
{
	uint16_t u[256];
	size_t nu = 0, i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		int k;

		if (c >= 0x20 && c < 0x7f) {
			if (nu && b64_flush(out, u, nu) < 0)
				return -1;
			nu = 0;
			if (pn_buf_add(out, c == '&' ? "&-" : s + i,
				       c == '&' ? 2 : 1) < 0)
				return -1;
			i++;
			continue;
		}
		k = pn_utf8_decode(s + i, len - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f)
			return -1;
		if (nu + 2 > sizeof(u) / sizeof(u[0]))
			return -1;
		if (cp >= 0x10000) {
			u[nu++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			u[nu++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			u[nu++] = (uint16_t)cp;
		}
		i += (size_t)k;
	}
	return nu ? b64_flush(out, u, nu) : 0;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

static int put_cp(struct pn_buf *out, uint32_t cp)
{
	char tmp[4];
	int k = pn_utf8_encode(cp, tmp);

	/* printable ASCII must not be encoded: one spelling per name */
	if (k == 0 || cp < 0x80)
		return -1;
	return pn_buf_add(out, tmp, (size_t)k);
}

/* The base64 run of "&...-" (without '&' and '-'). */
static int decode_run(const char *p, size_t n, struct pn_buf *out)
{
	uint32_t acc = 0, hi = 0;
	int bits = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(p[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits < 16)
			continue;
		bits -= 16;
		uint32_t u = (acc >> bits) & 0xffff;

		if (hi) {
			if (u < 0xdc00 || u > 0xdfff ||
			    put_cp(out, 0x10000 + ((hi - 0xd800) << 10) +
						(u - 0xdc00)) < 0)
				return -1;
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
		} else if (put_cp(out, u) < 0) {
			return -1;
		}
	}
	/* leftover bits must be zero padding of less than a byte */
	if (hi || bits >= 6 || (acc & ((1u << bits) - 1)))
		return -1;
	return 0;
}

int md_mutf7_decode(const char *s, size_t len, struct pn_buf *out)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *end;

		if (c < 0x20 || c >= 0x7f)
			return -1;
		if (c != '&') {
			if (pn_buf_addc(out, (char)c) < 0)
				return -1;
			i++;
			continue;
		}
		end = memchr(s + i + 1, '-', len - i - 1);
		if (!end)
			return -1;
		if (end == s + i + 1) {
			if (pn_buf_addc(out, '&') < 0)
				return -1;
		} else if (decode_run(s + i + 1, (size_t)(end - s - i - 1),
				      out) < 0) {
			return -1;
		}
		i = (size_t)(end - s) + 1;
	}
	return 0;
}

/* ---- opening a store ---------------------------------------------------- */

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool sub_is_dir(const char *dir, const char *sub)
{
	char p[4096];

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, sub) >= sizeof(p))
		return false;
	return is_dir(p);
}

bool md_is_maildir(const char *dir)
{
	return sub_is_dir(dir, "cur") && sub_is_dir(dir, "new") &&
	       sub_is_dir(dir, "tmp");
}

/* A missing or empty directory may become a store; anything else not. */
static int dir_state(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty ? 1 : 2;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* cur/ new/ tmp/ inside dir (which may exist). */
int md_make_maildir(const char *dir)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char p[4096];

	if (mkdir_p(dir, 0700) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, subs[i]) >=
		    sizeof(p))
			return errno = ENAMETOOLONG, -1;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* fs when some non-dot subdirectory holds cur/ (a folder as a
 * directory); Maildir++ otherwise, which is also what an empty store
 * becomes. */
static enum md_layout detect_layout(const char *root)
{
	enum md_layout l = MD_LAYOUT_MAILDIRPP;
	DIR *d = opendir(root);
	struct dirent *e;

	if (!d)
		return l;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "cur") ||
		    !strcmp(e->d_name, "new") || !strcmp(e->d_name, "tmp"))
			continue;
		char sub[4096];

		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", root,
				     e->d_name) < sizeof(sub) &&
		    sub_is_dir(sub, "cur")) {
			l = MD_LAYOUT_FS;
			break;
		}
	}
	closedir(d);
	return l;
}

static int check_root(const char *root, bool read_only, struct pn_error *err)
{
	char shown[400];
	int st;

	md_display_path(root, shown, sizeof(shown));
	if (md_is_maildir(root))
		return 0;
	st = dir_state(root);
	if (st < 0)
		return pn_error_errno(err, errno, "%s", shown);
	if (st == 2 || read_only)
		return pn_error_set(err, PN_ENOTFOUND,
				    "%s: not a Maildir (no cur/ new/ tmp/)",
				    shown);
	if (md_make_maildir(root) < 0)
		return pn_error_errno(err, errno, "%s", shown);
	return 0;
}

int md_store_open(const char *root, enum md_layout layout, bool read_only,
		  struct md_store **out, struct pn_error *err)
{
	struct md_store *s;
	size_t n;

	*out = NULL;
	if (!root || !root[0])
		return pn_error_set(err, PN_EINVAL, "empty Maildir path");
	if (check_root(root, read_only, err) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->root = strdup(root))) {
		free(s);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	n = strlen(s->root);
	while (n > 1 && s->root[n - 1] == '/')
		s->root[--n] = '\0';
	s->layout = layout == MD_LAYOUT_AUTO ? detect_layout(s->root) : layout;
	s->read_only = read_only;
	s->lock_timeout_ms = MD_LOCK_TIMEOUT_MS_DEFAULT;
	*out = s;
	return 0;
}

void md_store_free(struct md_store **s)
{
	if (!s || !*s)
		return;
	free((*s)->root);
	free(*s);
	*s = NULL;
}

char md_store_separator(const struct md_store *s)
{
	return s->layout == MD_LAYOUT_FS ? '/' : '.';
}

enum md_layout md_store_layout(const struct md_store *s)
{
	return s->layout;
}

void md_store_set_warn(struct md_store *s, md_warn_fn *fn, void *ctx)
{
	s->warn = fn;
	s->warn_ctx = ctx;
}

void md_warn(const struct md_store *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->warn(s->warn_ctx, msg);
}

void md_store_set_lock_timeout(struct md_store *s, int ms)
{
	s->lock_timeout_ms = ms < 0 ? 0 : ms;
}

bool md_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* A UTF-8 folder name is usable when each component is non-empty, not
 * "." or "..", has no '/' inside (Maildir++) and does not start with '.'
 * (which would make it a hidden or Maildir++ entry in the fs layout). */
static int check_name(const struct md_store *s, const char *name,
		      struct pn_error *err)
{
	char sep = md_store_separator(s);
	const char *p = name;

	if (!name[0] || strlen(name) > 1000 || !pn_utf8_valid(name, strlen(name)))
		goto bad;
	for (;;) {
		size_t n = strcspn(p, sep == '.' ? "." : "/");

		if (n == 0 || p[0] == '.' || memchr(p, '/', n) ||
		    (sep == '/' && (n == 3 && (!strncmp(p, "cur", 3) ||
					       !strncmp(p, "new", 3) ||
					       !strncmp(p, "tmp", 3)))))
			goto bad;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				goto bad;
		if (!p[n])
			return 0;
		p += n + 1;
	}
bad:
	return pn_error_set(err, PN_EINVAL, "\"%s\": not a usable folder name",
			    name);
}

char *md_store_folder_path(const struct md_store *s, const char *name,
			   struct pn_error *err)
{
	struct pn_buf b;

	if (md_is_inbox(name)) {
		char *p = strdup(s->root);

		if (!p)
			pn_error_set(err, PN_ENOMEM, "out of memory");
		return p;
	}
	if (check_name(s, name, err) < 0)
		return NULL;
	pn_buf_init(&b, 8192);
	if (pn_buf_printf(&b, "%s/%s", s->root,
			  s->layout == MD_LAYOUT_FS ? "" : ".") < 0 ||
	    md_mutf7_encode(name, strlen(name), &b) < 0) {
		pn_buf_free(&b);
		pn_error_set(err, PN_EINVAL, "\"%s\": not a usable folder name",
			     name);
		return NULL;
	}
	return pn_buf_take(&b, NULL);
}

/* ---- listing ------------------------------------------------------------ */

struct flist {
	struct md_folder_info *v;
	size_t n, cap;
	char **subs;		/* subscriptions, UTF-8 */
	size_t nsubs;
};

static void flist_free(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].name);
		free((char *)l->v[i].path);
	}
	for (size_t i = 0; i < l->nsubs; i++)
		free(l->subs[i]);
	free(l->subs);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int flist_add(struct flist *l, char *name, char *path)
{
	if (!name || !path)
		goto fail;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			goto fail;
		l->v = p;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].name = name;
	l->v[l->n].path = path;
	l->n++;
	return 0;
fail:
	free(name);
	free(path);
	return -1;
}

/* The UTF-8 name of an on-disk (modified UTF-7) name, NULL if invalid. */
static char *disk_to_name(const char *disk, size_t len)
{
	struct pn_buf b;

	pn_buf_init(&b, 8192);
	if (md_mutf7_decode(disk, len, &b) < 0) {
		pn_buf_free(&b);
		return NULL;
	}
	return pn_buf_take(&b, NULL);
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* Maildir++: ".Name.Sub" directories at the root.  Names starting ".."
 * are deletions in progress (Dovecot's and ours). */
static int list_pp(const struct md_store *s, struct flist *l)
{
	DIR *d = opendir(s->root);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -1;
	while (rc == 0 && (e = readdir(d))) {
		char *path, *name;

		if (e->d_name[0] != '.' || e->d_name[1] == '.' || !e->d_name[1])
			continue;
		path = path_join(s->root, e->d_name);
		if (!path || !is_dir(path)) {
			free(path);
			continue;
		}
		name = disk_to_name(e->d_name + 1, strlen(e->d_name + 1));
		if (!name || md_is_inbox(name)) {
			free(name);
			free(path);
			continue;
		}
		rc = flist_add(l, name, path);
	}
	closedir(d);
	return rc;
}

/* fs: every directory holding cur/ below the root is a folder. */
static int list_fs(const char *dir, const char *prefix, int depth,
		   struct flist *l)
{
	DIR *d = depth < 32 ? opendir(dir) : NULL;
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (e = readdir(d))) {
		char *path, *enc = NULL, *name;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "cur") ||
		    !strcmp(e->d_name, "new") || !strcmp(e->d_name, "tmp"))
			continue;
		path = path_join(dir, e->d_name);
		if (!path || !is_dir(path)) {
			free(path);
			continue;
		}
		if (asprintf(&enc, "%s%s", prefix, e->d_name) < 0)
			enc = NULL;
		name = enc ? disk_to_name(enc, strlen(enc)) : NULL;
		if (name && !md_is_inbox(name)) {
			char *child = NULL;

			if (asprintf(&child, "%s/", enc) < 0)
				rc = -1;
			else
				rc = list_fs(path, child, depth + 1, l);
			if (rc == 0)
				free(child);	/* asprintf failed: undefined */
		}
		if (rc == 0 && name && !md_is_inbox(name) &&
		    sub_is_dir(path, "cur")) {
			rc = flist_add(l, name, path);
			name = path = NULL;
		}
		free(name);
		free(path);
		free(enc);
	}
	closedir(d);
	return rc;
}

/* ---- subscriptions ------------------------------------------------------ */

/* Dovecot 2.3 writes "V\t2\n\n" and then one name a line, modified UTF-7,
 * with '\t' where the hierarchy separator goes.  Older files have no
 * version line and the separator itself. */
static int subs_parse(const struct md_store *s, const char *text, size_t len,
		      char ***out, size_t *n_out)
{
	const char *p = text, *end = text + len;
	char **v = NULL;
	size_t n = 0;

	if (len >= 4 && !memcmp(text, "V\t", 2)) {
		const char *blank = strstr(text, "\n\n");

		p = blank ? blank + 2 : end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *disk = strndup(p, l), *name;
		void *nv;

		p += l + 1;
		if (!disk)
			goto fail;
		for (char *q = disk; *q; q++)
			if (*q == '\t')
				*q = md_store_separator(s);
		name = l ? disk_to_name(disk, l) : NULL;
		free(disk);
		if (!name)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(name);
			goto fail;
		}
		v = nv;
		v[n++] = name;
	}
	*out = v;
	*n_out = n;
	return 0;
fail:
	while (n)
		free(v[--n]);
	free(v);
	return -1;
}

static int subs_read(const struct md_store *s, char ***out, size_t *n_out,
		     struct pn_error *err)
{
	struct pn_buf b = { 0 };
	char *path = path_join(s->root, MD_SUBSCRIPTIONS);
	int rc;

	*out = NULL;
	*n_out = 0;
	if (!path)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = md_read_file(path, &b, err);
	if (rc == 0 && subs_parse(s, pn_buf_cstr(&b), b.len, out, n_out) < 0)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	pn_buf_free(&b);
	free(path);
	return rc < 0 ? -1 : 0;
}

static int subs_format(const struct md_store *s, char **v, size_t n,
		       struct pn_buf *b)
{
	char sep = md_store_separator(s);

	if (pn_buf_adds(b, "V\t2\n\n") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t start = b->len;

		if (!v[i])
			continue;
		if (md_mutf7_encode(v[i], strlen(v[i]), b) < 0)
			return -1;
		for (size_t j = start; j < b->len; j++)
			if (b->data[j] == sep)
				b->data[j] = '\t';
		if (pn_buf_addc(b, '\n') < 0)
			return -1;
	}
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	if (md_is_inbox(a) && md_is_inbox(b))
		return true;
	return strcmp(a, b) == 0;
}

static int subs_write(struct md_store *s, char **v, size_t n,
		      struct pn_error *err)
{
	struct md_dotlock lock;
	struct pn_buf b;
	int rc;

	pn_buf_init(&b, MD_META_MAX);
	if (subs_format(s, v, n, &b) < 0) {
		pn_buf_free(&b);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	rc = md_dotlock_take(s->root, MD_SUBSCRIPTIONS, s->lock_timeout_ms,
			     &lock, err);
	if (rc == 0)
		rc = md_dotlock_commit(&lock, b.data, b.len, err);
	pn_buf_free(&b);
	return rc;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int md_subscribe(struct md_store *s, const char *name, bool subscribe,
		 struct pn_error *err)
{
	char **v = NULL;
	size_t n = 0, found = SIZE_MAX;
	int rc = 0;

	if (s->read_only)
		return pn_error_set(err, PN_EINVAL, "%s: opened read-only",
				    s->root);
	if (!md_is_inbox(name) && check_name(s, name, err) < 0)
		return -1;
	if (subs_read(s, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (name_eq(v[i], name))
			found = i;
	if (subscribe && found == SIZE_MAX) {
		void *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv || !(((char **)nv)[n] = strdup(name))) {
			free_names(nv ? nv : v, n);
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		}
		v = nv;
		n++;
		rc = subs_write(s, v, n, err);
	} else if (!subscribe && found != SIZE_MAX) {
		free(v[found]);
		v[found] = NULL;
		rc = subs_write(s, v, n, err);
	}
	free_names(v, n);
	return rc;
}

/* ---- md_store_list ------------------------------------------------------ */

static const char *special_use_of(const char *name)
{
	static const struct {
		const char *name, *use;
	} map[] = {
		{ "Drafts", "\\Drafts" },	{ "Sent", "\\Sent" },
		{ "Sent Messages", "\\Sent" },	{ "Sent Items", "\\Sent" },
		{ "Trash", "\\Trash" },		{ "Deleted Messages", "\\Trash" },
		{ "Junk", "\\Junk" },		{ "Spam", "\\Junk" },
		{ "Archive", "\\Archive" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, name))
			return map[i].use;
	return NULL;
}

static int info_cmp(const void *a, const void *b)
{
	const struct md_folder_info *x = a, *y = b;

	if (md_is_inbox(x->name) != md_is_inbox(y->name))
		return md_is_inbox(x->name) ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Children of v[i] sort after "name<sep>" in byte order. */
static bool has_children(const struct flist *l, size_t i, char sep)
{
	const char *name = l->v[i].name;
	size_t n = strlen(name);

	for (size_t j = 0; j < l->n; j++) {
		const char *o = l->v[j].name;

		if (md_is_inbox(name) ? !strncasecmp(o, "INBOX", 5) && o[5] == sep
				      : !strncmp(o, name, n) && o[n] == sep)
			return true;
	}
	return false;
}

static void decorate(struct flist *l, char sep)
{
	for (size_t i = 0; i < l->n; i++) {
		struct md_folder_info *f = &l->v[i];

		f->has_children = has_children(l, i, sep);
		f->special_use = special_use_of(f->name);
		for (size_t k = 0; k < l->nsubs; k++)
			if (name_eq(l->subs[k], f->name))
				f->subscribed = true;
	}
}

int md_store_list(struct md_store *s,
		  int (*fn)(void *ctx, const struct md_folder_info *f),
		  void *ctx, struct pn_error *err)
{
	struct flist l = { 0 };
	char shown[400];
	int rc;

	md_display_path(s->root, shown, sizeof(shown));
	if (flist_add(&l, strdup("INBOX"), strdup(s->root)) < 0 ||
	    (s->layout == MD_LAYOUT_FS ? list_fs(s->root, "", 0, &l)
				       : list_pp(s, &l)) < 0) {
		rc = pn_error_errno(err, errno, "%s", shown);
		goto out;
	}
	if (subs_read(s, &l.subs, &l.nsubs, err) < 0) {
		rc = -1;
		goto out;
	}
	qsort(l.v, l.n, sizeof(*l.v), info_cmp);
	decorate(&l, md_store_separator(s));
	rc = 0;
	for (size_t i = 0; i < l.n; i++)
		if (fn(ctx, &l.v[i]))
			break;
out:
	flist_free(&l);
	return rc;
}

/* ---- create, delete, rename --------------------------------------------- */

static int refuse_ro(const struct md_store *s, struct pn_error *err)
{
	char shown[400];

	md_display_path(s->root, shown, sizeof(shown));
	return pn_error_set(err, PN_EINVAL, "%s: opened read-only", shown);
}

static int touch_maildirfolder(const char *dir)
{
	char *p = path_join(dir, "maildirfolder");
	int fd = p ? open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
		   : -1;

	free(p);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int md_folder_create(struct md_store *s, const char *name,
		     struct pn_error *err)
{
	char *path;
	struct stat st;
	int rc = 0;

	if (s->read_only)
		return refuse_ro(s, err);
	if (md_is_inbox(name))
		return pn_error_set(err, PN_EEXIST, "INBOX: exists already");
	path = md_store_folder_path(s, name, err);
	if (!path)
		return -1;
	if (lstat(path, &st) == 0 && (s->layout != MD_LAYOUT_FS ||
				      sub_is_dir(path, "cur")))
		rc = pn_error_set(err, PN_EEXIST, "%s: exists already", name);
	else if (md_make_maildir(path) < 0 ||
		 (s->layout != MD_LAYOUT_FS && touch_maildirfolder(path) < 0))
		rc = pn_error_errno(err, errno, "%s", path);
	free(path);
	return rc;
}

/* rm -r below an open directory fd, never following symlinks. */
static int remove_tree(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM)
			continue;
		int sub = depth < 64 ? openat(dfd, e->d_name,
					      O_RDONLY | O_DIRECTORY |
						      O_NOFOLLOW | O_CLOEXEC)
				     : -1;

		if (sub < 0 || remove_tree(sub, depth + 1) < 0 ||
		    unlinkat(dfd, e->d_name, AT_REMOVEDIR) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

/* Maildir++: any ".Name.*" directory; fs: any subdirectory other than
 * cur/ new/ tmp/. */
static bool folder_has_children(const struct md_store *s, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	const char *dir = s->layout == MD_LAYOUT_FS ? path : s->root;
	size_t bl = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		if (s->layout == MD_LAYOUT_FS)
			found = e->d_name[0] != '.' &&
				strcmp(e->d_name, "cur") &&
				strcmp(e->d_name, "new") &&
				strcmp(e->d_name, "tmp") &&
				sub_is_dir(path, e->d_name);
		else
			found = !strncmp(e->d_name, base, bl) &&
				e->d_name[bl] == '.';
	}
	if (d)
		closedir(d);
	return found;
}

int md_folder_delete(struct md_store *s, const char *name,
		     struct pn_error *err)
{
	char *path, *trash = NULL, uniq[200];
	int rc = -1, fd;

	if (s->read_only)
		return refuse_ro(s, err);
	if (md_is_inbox(name))
		return pn_error_set(err, PN_EINVAL, "INBOX cannot be deleted");
	if (!(path = md_store_folder_path(s, name, err)))
		return -1;
	if (!is_dir(path)) {
		pn_error_set(err, PN_ENOTFOUND, "%s: no such folder", name);
		goto out;
	}
	if (folder_has_children(s, path)) {
		pn_error_set(err, PN_EINVAL,
			     "%s: has child folders (delete them first)", name);
		goto out;
	}
	/* Out of sight first (Dovecot does the same with a ".." name), so a
	 * half-deleted folder is never listed. */
	if (md_name_unique(uniq, sizeof(uniq)) < 0 ||
	    asprintf(&trash, "%s/..postern-trash.%s", s->root, uniq) < 0) {
		trash = NULL;
		pn_error_set(err, PN_ENOMEM, "out of memory");
		goto out;
	}
	if (rename(path, trash) < 0) {
		pn_error_errno(err, errno, "%s: rename", path);
		goto out;
	}
	fd = open(trash, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || remove_tree(fd, 0) < 0 || rmdir(trash) < 0)
		pn_error_errno(err, errno, "%s: remove", trash);
	else
		rc = 0;
out:
	free(trash);
	free(path);
	return rc;
}

/* Maildir++ children ".From.x" follow their parent to ".To.x". */
static int rename_children(const struct md_store *s, const char *from_base,
			   const char *to_base, struct pn_error *err)
{
	size_t fl = strlen(from_base);
	DIR *d = opendir(s->root);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return pn_error_errno(err, errno, "%s", s->root);
	while (rc == 0 && (e = readdir(d))) {
		char *a, *b;

		if (strncmp(e->d_name, from_base, fl) || e->d_name[fl] != '.')
			continue;
		a = path_join(s->root, e->d_name);
		if (asprintf(&b, "%s/%s%s", s->root, to_base,
			     e->d_name + fl) < 0)
			b = NULL;
		if (!a || !b || rename(a, b) < 0)
			rc = pn_error_errno(err, errno, "%s: rename", e->d_name);
		free(a);
		free(b);
		/* renaming changed the directory under readdir: start over */
		if (rc == 0) {
			rewinddir(d);
		}
	}
	closedir(d);
	return rc;
}

static int rename_checks(struct md_store *s, const char *from, const char *to,
			 struct pn_error *err)
{
	char sep = md_store_separator(s);
	size_t fl = strlen(from);

	if (s->read_only)
		return refuse_ro(s, err);
	if (md_is_inbox(from))
		return pn_error_set(err, PN_EUNSUPPORTED,
				    "INBOX cannot be renamed");
	if (md_is_inbox(to))
		return pn_error_set(err, PN_EEXIST, "INBOX: exists already");
	if (!strncmp(to, from, fl) && to[fl] == sep)
		return pn_error_set(err, PN_EINVAL,
				    "%s: cannot be moved into itself", from);
	return 0;
}

int md_folder_rename(struct md_store *s, const char *from, const char *to,
		     struct pn_error *err)
{
	char *a = NULL, *b = NULL;
	struct stat st;
	int rc = -1;

	if (rename_checks(s, from, to, err) < 0)
		return -1;
	if (!(a = md_store_folder_path(s, from, err)) ||
	    !(b = md_store_folder_path(s, to, err)))
		goto out;
	if (!is_dir(a)) {
		pn_error_set(err, PN_ENOTFOUND, "%s: no such folder", from);
		goto out;
	}
	if (lstat(b, &st) == 0) {
		pn_error_set(err, PN_EEXIST, "%s: exists already", to);
		goto out;
	}
	if (s->layout == MD_LAYOUT_FS) {
		char *slash = strrchr(b, '/');

		*slash = '\0';
		rc = mkdir_p(b, 0700);
		*slash = '/';
		if (rc < 0 || rename(a, b) < 0)
			rc = pn_error_errno(err, errno, "%s: rename", a);
		goto out;
	}
	if (rename(a, b) < 0) {
		pn_error_errno(err, errno, "%s: rename", a);
		goto out;
	}
	rc = rename_children(s, strrchr(a, '/') + 1, strrchr(b, '/') + 1, err);
out:
	free(a);
	free(b);
	return rc;
}
