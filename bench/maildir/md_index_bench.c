/* md_index_bench.c - the postern side of bench/maildir until the postern
 * CLI opens Maildir targets: open DIR as a Maildir store, open INBOX and
 * print what an index screen shows (date, from, subject, flags, size) for
 * every message through md_folder_index().
 *
 *   md_index_bench [--open-only] [--read-only] DIR
 *
 * --open-only opens the folder (assigning UIDs, writing dovecot-uidlist
 * the first time) and stops: the runner's untimed setup step.
 * --read-only opens read-only (no cache is written).
 * Prints to stderr the message count and, measured inside the process,
 * the seconds spent opening the folder (scan, stat, dovecot-uidlist) and
 * producing the index, so the runner can tell the two apart.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../maildir/maildir.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

static int show(void *ctx, const struct md_index_entry *e)
{
	static const char letters[] = "DFPRST";
	char flags[8];
	size_t n = 0;
	size_t *count = ctx;

	for (int i = 0; i < 6; i++) {
		if (e->msg->flags & (1u << i))
			flags[n++] = letters[i];
	}
	flags[n] = '\0';
	printf("%u\t%s\t%s\t%s\t%s\t%llu\n", e->msg->uid, nz(e->date),
	       nz(e->from), nz(e->subject), flags,
	       (unsigned long long)e->msg->size);
	++*count;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char obuf[1 << 20];
	bool open_only = false, read_only = false;
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	size_t count = 0;
	double t0, t1, t2;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--open-only") == 0)
			open_only = true;
		else if (strcmp(argv[i], "--read-only") == 0)
			read_only = true;
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: md_index_bench [--open-only] "
			"[--read-only] DIR\n");
		return 2;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	t0 = now();
	if (md_store_open(argv[i], MD_LAYOUT_AUTO, read_only, &s, &err) < 0 ||
	    md_folder_open(s, "INBOX", read_only, &f, &err) < 0 ||
	    (t1 = now(), 0) ||
	    (!open_only && md_folder_index(f, show, &count, &err) < 0)) {
		fprintf(stderr, "md_index_bench: %s\n", err.msg);
		md_folder_free(&f);
		md_store_free(&s);
		return 1;
	}
	fflush(stdout);
	t2 = now();
	fprintf(stderr, "%zu messages, open %.4f s, index %.4f s\n",
		open_only ? md_folder_count(f) : count, t1 - t0, t2 - t1);
	md_folder_free(&f);
	md_store_free(&s);
	return fflush(stdout) == 0 ? 0 : 1;
}
