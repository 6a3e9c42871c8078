#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

/* Characters that render as nothing or reorder text: C1 controls, soft
 * hyphen, combining grapheme joiner, Arabic letter mark, Mongolian
 * selectors, zero-width and bidi controls, word joiners and invisible
 * operators, Hangul fillers, variation selectors, BOM, interlinear
 * annotation, and the tag / variation-selector planes.  A name made of
 * these could look like something else in a listing (Trojan Source,
 * CVE-2021-42574; "txt.exe" spelled with U+202E). */
static bool invisible(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{ 0x80, 0x9f }, { 0xad, 0xad }, { 0x34f, 0x34f },
		{ 0x61c, 0x61c }, { 0x115f, 0x1160 }, { 0x17b4, 0x17b5 },
		{ 0x180b, 0x180f }, { 0x200b, 0x200f }, { 0x2028, 0x202e },
		{ 0x205f, 0x206f }, { 0x3164, 0x3164 }, { 0xfe00, 0xfe0f },
		{ 0xfeff, 0xfeff }, { 0xffa0, 0xffa0 }, { 0xfff0, 0xfffb },
		{ 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff },
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

/* Copy s to out (room for len + 1) without controls and invisibles;
 * invalid UTF-8 bytes become '_'.  Returns the new length. */
static size_t filter(const char *s, size_t len, char *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t cp;
		int k = pn_utf8_decode(s + i, len - i, &cp);

		if (k == 0) {
			out[n++] = '_';
			i++;
			continue;
		}
		if (cp >= 0x20 && cp != 0x7f && !invisible(cp)) {
			memcpy(out + n, s + i, (size_t)k);
			n += (size_t)k;
		}
		i += (size_t)k;
	}
	out[n] = '\0';
	return n;
}

/* Leading dots (hidden files, ".."), dashes (options) and spaces go;
 * trailing dots and spaces go (Windows drops them, hiding the real
 * extension).  Returns the new length; s is moved in place. */
static size_t trim(char *s, size_t len)
{
	size_t start = 0;

	while (start < len && strchr(".- ", s[start]))
		start++;
	while (len > start && (s[len - 1] == '.' || s[len - 1] == ' '))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
	return len - start;
}

/* Windows device names are reserved with any extension ("con.txt"). */
static bool reserved(const char *s)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL" };
	size_t stem = strcspn(s, ".");

	for (size_t i = 0; i < 4; i++)
		if (stem == 3 && strncasecmp(s, dev[i], 3) == 0)
			return true;
	return stem == 4 && (strncasecmp(s, "COM", 3) == 0 ||
			     strncasecmp(s, "LPT", 3) == 0) &&
	       s[3] >= '1' && s[3] <= '9';
}

/* Cut s (length len) to at most cap bytes on a UTF-8 boundary, keeping a
 * short extension.  Returns the new length. */
static size_t cap_length(char *s, size_t len, size_t cap)
{
	const char *dot = strrchr(s, '.');
	size_t ext = dot && dot > s ? len - (size_t)(dot - s) : 0;
	size_t stem;

	if (len <= cap)
		return len;
	if (ext > 16 || ext * 2 > cap)
		ext = 0;	/* not an extension worth keeping */
	stem = cap - ext;
	while (stem > 0 && ((unsigned char)s[stem] & 0xc0) == 0x80)
		stem--;
	while (stem > 0 && (s[stem - 1] == ' ' || s[stem - 1] == '.'))
		stem--;
	memmove(s + stem, s + len - ext, ext);
	s[stem + ext] = '\0';
	return stem + ext;
}

bool pn_safe_filename(const char *name, const char *fallback, char *out,
		      size_t outsz)
{
	const char *base = name ? name : "";
	size_t cap, len;
	char *tmp;

	if (outsz == 0)
		return true;
	cap = outsz - 1 < PN_SAFE_NAME_MAX ? outsz - 1 : PN_SAFE_NAME_MAX;
	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	len = strlen(base);
	tmp = malloc(len + 2);	/* filter output + a '_' prefix */
	len = tmp ? trim(tmp + 1, filter(base, len, tmp + 1)) : 0;
	if (len > 0 && reserved(tmp + 1)) {
		tmp[0] = '_';
		len++;
	} else if (len > 0) {
		memmove(tmp, tmp + 1, len + 1);
	}
	if (len == 0) {
		free(tmp);
		if (fallback)
			pn_safe_filename(fallback, NULL, out, outsz);
		else
			snprintf(out, outsz, "part");
		return true;
	}
	len = cap_length(tmp, len, cap);
	memcpy(out, tmp, len + 1);
	free(tmp);
	return !name || strcmp(out, name) != 0;
}

int pn_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A name nobody can predict, so another user cannot plant a symlink or
 * file there first (O_EXCL would refuse it anyway; this avoids the
 * denial of service). */
static void make_tmp_name(char *out, size_t outsz)
{
	static unsigned counter;
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^
		    (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() << 40 ^
		    ++counter;
	}
	snprintf(out, outsz, ".pn-%016llx.tmp", (unsigned long long)r);
}

int pn_atomic_open(struct pn_atomic_file *f, int dirfd, const char *name,
		   bool replace, struct pn_error *err)
{
	size_t n = strlen(name);
	int e = EEXIST;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dirfd = dirfd;
	f->replace = replace;
	if (n == 0 || n >= sizeof(f->name) || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return pn_error_set(err, PN_EINVAL, "unusable file name '%s'",
				    name);
	memcpy(f->name, name, n + 1);
	for (int tries = 0; tries < 16 && e == EEXIST; tries++) {
		make_tmp_name(f->tmp_name, sizeof(f->tmp_name));
		/* umask still applies to 0644, as for any new file. */
		f->fd = openat(dirfd, f->tmp_name, O_WRONLY | O_CREAT |
			       O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f->fd >= 0)
			return 0;
		e = errno;
	}
	f->tmp_name[0] = '\0';
	return pn_error_errno(err, e, "%s: cannot create temporary file", name);
}

/* Make the data durable before it gets its name: a crash must leave
 * either no file or the whole file, never an empty one. */
static int finish_data(struct pn_atomic_file *f, struct pn_error *err)
{
	int rc;

	if (f->fd < 0)
		return f->tmp_name[0] ? 0 : pn_error_set(err, PN_EINVAL,
				"%s: file is not open", f->name);
	rc = fsync(f->fd);
	if (rc < 0) {
		int e = errno;

		close(f->fd);
		f->fd = -1;
		return pn_error_errno(err, e, "%s: fsync", f->name);
	}
	rc = close(f->fd);
	f->fd = -1;
	if (rc < 0)
		return pn_error_errno(err, errno, "%s: close", f->name);
	return 0;
}

static void sync_dir(int dirfd)
{
	int fd = dirfd;

	if (dirfd == AT_FDCWD)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Best effort: an O_PATH descriptor cannot be synced (EBADF), and
	 * the file already has its name either way. */
	if (fd >= 0)
		(void)fsync(fd);
	if (fd >= 0 && fd != dirfd)
		close(fd);
}

/* Give the temporary file the name `name`.  Without replace, link(2)
 * never follows or replaces anything at the destination, dangling
 * symlinks included; renameat2(RENAME_NOREPLACE) covers file systems
 * without hard links.  With replace, rename(2) replaces a symlink itself
 * and never writes through it. */
static int place(struct pn_atomic_file *f, const char *name,
		 struct pn_error *err)
{
	int rc, e;

	if (f->replace) {
		rc = renameat(f->dirfd, f->tmp_name, f->dirfd, name);
	} else {
		rc = linkat(f->dirfd, f->tmp_name, f->dirfd, name, 0);
		if (rc == 0) {
			(void)unlinkat(f->dirfd, f->tmp_name, 0);
		} else if (errno == EPERM || errno == EOPNOTSUPP ||
			   errno == ENOSYS || errno == EMLINK) {
			rc = renameat2(f->dirfd, f->tmp_name, f->dirfd, name,
				       RENAME_NOREPLACE);
		}
	}
	if (rc < 0) {
		e = errno;
		if (e == EEXIST)
			return pn_error_set(err, PN_EEXIST, "%s: file exists",
					    name);
		return pn_error_errno(err, e, "%s: cannot create", name);
	}
	f->tmp_name[0] = '\0';
	sync_dir(f->dirfd);
	return 0;
}

int pn_atomic_commit(struct pn_atomic_file *f, struct pn_error *err)
{
	if (finish_data(f, err) < 0)
		return -1;
	return place(f, f->name, err);
}

int pn_atomic_commit_unique(struct pn_atomic_file *f, struct pn_error *err)
{
	char base[sizeof(f->name)];
	struct pn_error e;
	const char *dot;
	int stem;

	if (finish_data(f, err) < 0)
		return -1;
	if (place(f, f->name, &e) == 0)
		return 0;
	memcpy(base, f->name, sizeof(base));
	dot = strrchr(base, '.');
	stem = dot && dot > base ? (int)(dot - base) : (int)strlen(base);
	for (int i = 1; i <= 9999 && e.code == PN_EEXIST; i++) {
		int n = snprintf(f->name, sizeof(f->name), "%.*s-%d%s", stem,
				 base, i, base + stem);

		if (n < 0 || (size_t)n >= sizeof(f->name))
			break;
		if (place(f, f->name, &e) == 0)
			return 0;
	}
	memcpy(f->name, base, sizeof(base));
	if (e.code == PN_EEXIST)
		return pn_error_set(err, PN_EEXIST, "%s: file exists, and so "
				    "do its numbered variants", base);
	if (err)
		*err = e;
	return -1;
}

void pn_atomic_abort(struct pn_atomic_file *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->tmp_name[0]) {
		(void)unlinkat(f->dirfd, f->tmp_name, 0);
		f->tmp_name[0] = '\0';
	}
}
