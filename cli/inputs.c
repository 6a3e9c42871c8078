/* inputs.c - which messages a command reads: files, '-', Maildir
 * folders, --files-from lists. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../mime/mime.h"

/* A --files-from list holds paths, not mail: 64 MiB is plenty. */
#define FILES_FROM_MAX (64u << 20)

static int add_path(struct cli_inputs *in, char *path, struct pn_error *err)
{
	char **v;

	if (!path)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		v = realloc(in->paths, in->cap * sizeof(*v));
		if (!v) {
			free(path);
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		}
		in->paths = v;
	}
	in->paths[in->n++] = path;
	return 0;
}

static int cmp_basename(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int r = strcmp(strrchr(x, '/') + 1, strrchr(y, '/') + 1);

	return r ? r : strcmp(x, y);
}

/* Every entry of DIR/sub not starting with a dot.  A subdirectory or a
 * dangling link is kept: it fails when read, with its own error line. */
static int add_maildir_sub(struct cli_inputs *in, const char *dir,
			   const char *sub, struct pn_error *err)
{
	struct dirent *de;
	char *path;
	DIR *d;
	int rc = 0;

	if (asprintf(&path, "%s/%s", dir, sub) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	d = opendir(path);
	if (!d) {
		rc = errno == ENOENT ? 0 : pn_error_errno(err, errno, "%s", path);
		free(path);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
			p = NULL;
		rc = add_path(in, p, err);
	}
	closedir(d);
	free(path);
	return rc;
}

static int add_maildir(struct cli_inputs *in, const char *dir,
		       struct pn_error *err)
{
	size_t first = in->n;
	char cur[4096], new[4096];
	struct stat st;

	snprintf(cur, sizeof(cur), "%s/cur", dir);
	snprintf(new, sizeof(new), "%s/new", dir);
	if (stat(cur, &st) != 0 && stat(new, &st) != 0)
		return pn_error_set(err, PN_EINVAL,
				    "%s: a directory but not a Maildir (no cur/ or new/)",
				    dir);
	if (add_maildir_sub(in, dir, "cur", err) < 0 ||
	    add_maildir_sub(in, dir, "new", err) < 0)
		return -1;
	/* Maildir names start with the delivery time: name order is
	 * arrival order, whichever of cur/ and new/ a message is in. */
	qsort(in->paths + first, in->n - first, sizeof(char *), cmp_basename);
	return 0;
}

int cli_read_fd(int fd, struct pn_buf *b, struct pn_error *err)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pn_error_errno(err, errno, "read");
		if (pn_buf_add(b, chunk, n) < 0)
			return pn_error_set(err, PN_ELIMIT,
					    "longer than %zu bytes", b->max);
	}
	return 0;
}

static int add_lines(struct cli_inputs *in, const char *text,
		     struct pn_error *err)
{
	const char *p = text, *nl;
	size_t len;

	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = strchrnul(p, '\n');
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if (add_path(in, strndup(p, len), err) < 0)
			return -1;
	}
	return 0;
}

static int add_files_from(struct cli_inputs *in, const char *list,
			  struct pn_error *err)
{
	struct pn_buf b;
	int fd, rc;

	fd = strcmp(list, "-") == 0 ? STDIN_FILENO
				    : open(list, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "%s", list);
	pn_buf_init(&b, FILES_FROM_MAX);
	rc = cli_read_fd(fd, &b, err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc == 0)
		rc = add_lines(in, pn_buf_cstr(&b), err);
	else
		pn_error_prefix(err, "%s", list);
	pn_buf_free(&b);
	return rc;
}

int cli_inputs_collect(struct cli_inputs *in, char **ops, int nops,
		       const char *files_from, struct pn_error *err)
{
	struct stat st;
	int i;

	memset(in, 0, sizeof(*in));
	in->multi = nops > 1 || files_from;
	for (i = 0; i < nops; i++) {
		if (strcmp(ops[i], "-") != 0 && stat(ops[i], &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			in->multi = true;
			if (add_maildir(in, ops[i], err) < 0)
				return -1;
		} else if (add_path(in, strdup(ops[i]), err) < 0) {
			return -1;
		}
	}
	if (files_from && add_files_from(in, files_from, err) < 0)
		return -1;
	return 0;
}

void cli_inputs_free(struct cli_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		free(in->paths[i]);
	free(in->paths);
	memset(in, 0, sizeof(*in));
}

int cli_parse_message(const char *path, const struct mime_leaf_sink *sink,
		      struct mime_message **msg_out, struct pn_error *err)
{
	int rc;

	if (strcmp(path, "-") == 0)
		rc = mime_parse_fd(STDIN_FILENO, NULL, sink, msg_out, err);
	else
		rc = mime_parse_file(path, NULL, sink, msg_out, err);
	if (rc < 0) {
		/* parse_file names the file itself when it cannot open it. */
		if (strncmp(err->msg, path, strlen(path)) != 0)
			pn_error_prefix(err, "%s", path);
		return -1;
	}
	return 0;
}
