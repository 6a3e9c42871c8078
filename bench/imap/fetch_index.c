/* fetch_index.c - the index-screen fetch through libimap, nothing else.
 *
 * Stand-in for `postern fetch TARGET MAILBOX` while the CLI does not yet
 * offer it (bench/imap/run.py says which of the two it timed): connect,
 * LOGIN, SELECT, then
 *	UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
 * with every FETCH response parsed and decoded into typed results (the
 * envelope's subject and first sender touched, as an index line would),
 * then LOGOUT.  Prints "N messages, B bytes" to stderr.
 *
 * usage: fetch_index HOST PORT USER MAILBOX none|implicit|starttls [CAFILE]
 * The password is read from $BENCH_PASSWORD (not argv: ps shows argv).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/imap.h"

struct tally {
	unsigned long n;
	unsigned long long bytes;
	unsigned long subject_chars;
};

static void on_fetch(void *ctx, const struct imap_fetch *f)
{
	struct tally *t = ctx;

	t->n++;
	t->bytes += f->size;
	if (f->envelope != NULL && f->envelope->subject != NULL)
		t->subject_chars += strlen(f->envelope->subject);
}

static int fail(const char *what, const struct pn_error *err)
{
	fprintf(stderr, "fetch_index: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct imap_settings s;
	struct imap_conn *c = NULL;
	struct imap_mailbox_info mi;
	struct imap_seqset all = { 0 };
	struct pn_error err;
	struct tally t = { 0 };
	const char *pw = getenv("BENCH_PASSWORD");

	if (argc < 6 || pw == NULL) {
		fprintf(stderr, "usage: BENCH_PASSWORD=... fetch_index HOST "
			"PORT USER MAILBOX none|implicit|starttls [CAFILE]\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	s.host = argv[1];
	s.port = (uint16_t)atoi(argv[2]);
	s.trace_fd = -1;
	if (strcmp(argv[5], "none") == 0)
		s.tls = IMAP_TLS_NONE;
	else if (strcmp(argv[5], "implicit") == 0)
		s.tls = IMAP_TLS_IMPLICIT;
	else
		s.tls = IMAP_TLS_STARTTLS;
	s.cafile = argc > 6 ? argv[6] : NULL;
	if (imap_connect(&s, &c, &err) < 0)
		return fail("connect", &err);
	if (imap_login(c, argv[3], pw, &err) < 0)
		return fail("login", &err);
	memset(&mi, 0, sizeof(mi));
	if (imap_select(c, argv[4], true, NULL, false, &mi, &err) < 0)
		return fail("select", &err);
	imap_mailbox_info_free(&mi);
	if (imap_seqset_add(&all, 1, IMAP_SEQ_STAR) < 0) {
		fprintf(stderr, "fetch_index: out of memory\n");
		return 1;
	}
	if (imap_fetch(c, true, &all,
		       "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)", NULL,
		       on_fetch, &t, &err) < 0)
		return fail("fetch", &err);
	imap_seqset_free(&all);
	if (imap_logout(c, &err) < 0)
		return fail("logout", &err);
	imap_conn_free(&c);
	fprintf(stderr, "%lu messages, %llu bytes\n", t.n, t.bytes);
	return 0;
}
