/* store.c - a Maildir store: its root, its layout, folder names on disk.
 *
 * Maildir++: INBOX is the root, folder "A.B" is the directory ".A.B"
 * holding a "maildirfolder" file.  fs: folder "A/B" is root/A/B.  Either
 * way each name is modified UTF-7 on disk, as Dovecot writes it (maildir/
 * must not include imap/, so the codec is our own, below).
 */
#include "maildir.h"

#include <dirent.h>
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
