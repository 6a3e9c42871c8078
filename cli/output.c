/* output.c - writing a message to a file atomically, or to stdout. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/safefile.h"
#include "../mime/mime.h"

/* OUT's directory as an fd plus its last component, for pn_atomic_*. */
static int open_out_dir(const char *out, char *base, size_t basesz,
			struct pn_error *err)
{
	const char *slash = strrchr(out, '/');
	char dir[4096];
	int fd;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out + 1), out);
	else
		snprintf(dir, sizeof(dir), ".");
	if ((size_t)snprintf(base, basesz, "%s", slash ? slash + 1 : out) >= basesz)
		return pn_error_set(err, PN_EINVAL, "%s: file name too long", out);
	if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return pn_error_set(err, PN_EINVAL, "%s: not a file name", out);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "%s", dir);
	return fd;
}

int cli_write_message(struct mime_part *root,
		      const struct mime_write_opts *opts, const char *out,
		      bool force, struct pn_error *err)
{
	struct pn_atomic_file af;
	char base[PN_SAFE_NAME_MAX + 1];
	struct stat st;
	int dirfd, rc;

	if (!out || strcmp(out, "-") == 0)
		return mime_write_fd(root, opts, STDOUT_FILENO, err);
	dirfd = open_out_dir(out, base, sizeof(base), err);
	if (dirfd < 0)
		return -1;
	/* Checked early for a clear message; the link at commit time is
	 * what really refuses to replace. */
	if (!force && fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dirfd);
		return pn_error_set(err, PN_EEXIST,
				    "%s exists (--force replaces it)", out);
	}
	rc = pn_atomic_open(&af, dirfd, base, force, err);
	if (rc == 0) {
		rc = mime_write_fd(root, opts, af.fd, err);
		if (rc == 0)
			rc = pn_atomic_commit(&af, err);
		pn_atomic_abort(&af);	/* no-op after a commit */
	}
	close(dirfd);
	return rc;
}
