/* raw_headers.c - the limit for bench/maildir: list DIR/cur and DIR/new
 * once and read each file up to its empty line (4 KiB, then 16 KiB
 * reads, as maildir/index.c does), parsing nothing and printing only the
 * count and bytes read.  No UIDs, no flags, no output per message, no
 * cache: the least any index of these files has to do.
 *
 *   raw_headers [-n] DIR
 *
 * By default it reads in name order (which, for Maildir names starting
 * with the delivery time, is the order postern's UIDs give) and tells the
 * kernel not to read ahead (POSIX_FADV_RANDOM), as postern does: the
 * strict limit.  -n is the naive reader: directory order, readahead on.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[16 << 20];

/* Bytes read from the file until "\n\n" or "\n\r\n" has been seen. */
static size_t read_header(int fd)
{
	size_t len = 0, chunk = 4096;

	while (len + chunk <= sizeof(buf)) {
		size_t from = len > 2 ? len - 2 : 0;
		ssize_t n = read(fd, buf + len, chunk);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memmem(buf + from, len - from, "\n\n", 2) ||
		    memmem(buf + from, len - from, "\n\r\n", 3))
			break;
		chunk = 16384;
	}
	return len;
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_dir(int dirfd, const char *sub, struct names *l)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		perror(sub);
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 4096;
			l->v = realloc(l->v, l->cap * sizeof(*l->v));
			if (!l->v)
				return -1;
		}
		if (asprintf(&l->v[l->n++], "%s/%s", sub, de->d_name) < 0)
			return -1;
	}
	closedir(d);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	/* cur/ and new/ mixed by name, not by directory */
	return strcmp(x + 4, y + 4);
}

int main(int argc, char **argv)
{
	struct names l = { 0 };
	size_t bytes = 0, files = 0;
	int naive = argc == 3 && strcmp(argv[1], "-n") == 0;
	int dirfd;

	if (argc != 2 + naive) {
		fprintf(stderr, "usage: raw_headers [-n] DIR\n");
		return 2;
	}
	dirfd = open(argv[1 + naive], O_RDONLY | O_DIRECTORY);
	if (dirfd < 0 || add_dir(dirfd, "cur", &l) < 0 ||
	    add_dir(dirfd, "new", &l) < 0)
		return 1;
	if (!naive)
		qsort(l.v, l.n, sizeof(*l.v), cmp);
	for (size_t i = 0; i < l.n; i++) {
		int fd = openat(dirfd, l.v[i], O_RDONLY);

		if (fd < 0)
			continue;
		if (!naive)
			posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		bytes += read_header(fd);
		close(fd);
		files++;
		free(l.v[i]);
	}
	free(l.v);
	printf("%zu files, %zu bytes read\n", files, bytes);
	return 0;
}
