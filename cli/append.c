/* append.c - `postern append TARGET MAILBOX FILE...`: upload messages
 * to an IMAP server or deliver them into a Maildir, through the store.
 *
 * Every file is checked and prepared before anything is sent, so a bad
 * third file leaves the mailbox untouched: it must start with a header
 * field, and a file with bare LF line endings is rewritten with CRLF
 * (RFC 3501 APPEND takes RFC 5322 text, whose lines end in CRLF) into an
 * unlinked temporary file, so a large message never sits in memory.  Then
 * one MULTIAPPEND (RFC 3502) when offered, else one APPEND per file.  A
 * Maildir gets the bytes as they are (no CRLF: Maildir files use the
 * line ends they are given) and each message the UID Dovecot would give.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/date.h"
#include "../lib/safefile.h"
#include "../mime/mime.h"
#include "../store/store.h"

static const char CMD[] = "postern append";

#define MAX_FLAGS 64
#define SCAN_CHUNK 65536
/* Messages per MULTIAPPEND: each needs an open file while it goes. */
#define MULTIAPPEND_MAX 100

struct upload {
	const char *label;	/* the operand ("-" for stdin) */
	int fd;			/* at offset 0, CRLF line endings */
	uint64_t size;
	uint64_t file_size;	/* as checked, to notice a change */
	bool converted;		/* LF: sent through a CRLF copy */
	bool spooled;		/* a temporary copy (stdin, a pipe) */
};

struct batch {
	struct upload *u;
	size_t n;
	const char *flags[MAX_FLAGS];
	size_t nflags;
	time_t date;
	int date_tz;
	bool keep_eol;		/* a Maildir: no CRLF conversion */
};

/* ---- preparing a file -------------------------------------------------- */

static int temp_fd(struct pn_error *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/postern-append-XXXXXX",
		 dir && dir[0] ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "temporary file in %s",
				      dir && dir[0] ? dir : "/tmp");
	unlink(path);
	return fd;
}

/* stdin, a FIFO or <(process substitution): copied to a temporary file,
 * because the size must be known before the literal is sent. */
static int spool(int in, struct pn_error *err)
{
	char buf[SCAN_CHUNK];
	ssize_t n;
	int fd = temp_fd(err);

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (pn_write_all(fd, buf, (size_t)n) < 0) {
			close(fd);
			return pn_error_errno(err, errno, "spooling");
		}
	}
	if (n < 0) {
		close(fd);
		return pn_error_errno(err, errno, "read");
	}
	return fd;
}

/* RFC 5322 2.2: a field name is printable ASCII except ':'.  The first
 * line of a message must be one (an mbox "From " line is not). */
static bool starts_with_field(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] > ' ' && s[i] < 127 && s[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;	/* obs-optional: blanks before the colon */
	return i < len && s[i] == ':';
}

/* Look at the file once: does it start with a field, has it a bare LF? */
static int scan(int fd, bool *field_out, bool *bare_lf_out,
		struct pn_error *err)
{
	char buf[SCAN_CHUNK], prev = 0;
	bool first = true;
	ssize_t n, i;

	*field_out = *bare_lf_out = false;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return pn_error_errno(err, errno, "seek");
	while (!*bare_lf_out) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pn_error_errno(err, errno, "read");
		if (n == 0)
			break;
		if (first)
			*field_out = starts_with_field(buf, (size_t)n);
		first = false;
		for (i = 0; i < n && !*bare_lf_out; i++) {
			if (buf[i] == '\n' && prev != '\r')
				*bare_lf_out = true;
			prev = buf[i];
		}
	}
	return 0;
}

static int count_bytes(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(uint64_t *)ctx += len;
	return 0;
}

/* CRLF everywhere through the MIME writer (binary parts left alone):
 * into a temporary file (out >= 0 gets it), or only counted (out_fd
 * NULL), which is how the size is known when the file is checked. */
static int to_crlf(int in_fd, int *out_fd, uint64_t *size_out,
		   struct pn_error *err)
{
	static const struct mime_write_opts wo = { "\r\n" };
	struct mime_message *msg = NULL;
	int rc, out = -1, in = dup(in_fd);

	if (in < 0)
		return pn_error_errno(err, errno, "dup");
	*size_out = 0;
	/* parse_fd reads from the current offset; the source it keeps is
	 * its own (the dup is closed either way). */
	lseek(in, 0, SEEK_SET);
	rc = mime_parse_fd(in, NULL, NULL, &msg, err);
	close(in);
	if (rc < 0)
		return -1;
	if (out_fd && (out = temp_fd(err)) < 0)
		rc = -1;
	else if (out_fd)
		rc = mime_write_fd(mime_message_root(msg), &wo, out, err);
	else
		rc = mime_write(mime_message_root(msg), &wo, count_bytes,
				size_out, err);
	mime_message_free(&msg);
	if (rc < 0 && out >= 0)
		close(out);
	if (rc == 0 && out_fd)
		*out_fd = out;
	return rc;
}

static int open_input(struct upload *u, struct pn_error *err)
{
	struct stat st;
	int fd;

	if (strcmp(u->label, "-") == 0) {
		u->fd = spool(STDIN_FILENO, err);
		u->spooled = true;
		return u->fd < 0 ? -1 : 0;
	}
	fd = open(u->label, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		pn_error_errno(err, errno, "cannot open");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return pn_error_set(err, PN_EINVAL, "is a directory");
	}
	u->fd = fd;
	if (S_ISREG(st.st_mode))
		return 0;
	u->fd = spool(fd, err);
	u->spooled = true;
	close(fd);
	return u->fd < 0 ? -1 : 0;
}

/* Checked files are closed until their turn, so thousands of them do not
 * exhaust descriptors (a spool of stdin or a pipe cannot be reopened and
 * stays open); an LF file is converted only when its turn comes. */
static void park(struct upload *u)
{
	if (u->spooled || u->fd < 0)
		return;
	close(u->fd);
	u->fd = -1;
}

static int reopen(struct upload *u, struct pn_error *err)
{
	struct stat st;

	if (u->fd >= 0)
		return lseek(u->fd, 0, SEEK_SET) < 0 ?
			pn_error_errno(err, errno, "seek") : 0;
	u->fd = open(u->label, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0 || fstat(u->fd, &st) < 0)
		return pn_error_errno(err, errno, "cannot open");
	if ((uint64_t)st.st_size != u->file_size)
		return pn_error_set(err, PN_EINVAL, "changed since it was checked (%" PRIu64 " bytes then, %lld now)",
				    u->file_size, (long long)st.st_size);
	return 0;
}

static int unpark(struct upload *u, struct pn_error *err)
{
	uint64_t size;
	int out;

	if (reopen(u, err) < 0)
		return -1;
	if (!u->converted)
		return 0;
	if (to_crlf(u->fd, &out, &size, err) < 0)
		return -1;
	close(u->fd);
	u->fd = out;
	u->spooled = true;	/* the temporary copy cannot be reopened */
	u->converted = false;	/* done */
	if (lseek(out, 0, SEEK_END) != (off_t)u->size)
		return pn_error_set(err, PN_EINVAL, "changed since it was checked");
	return lseek(out, 0, SEEK_SET) < 0 ? pn_error_errno(err, errno, "seek") : 0;
}

static int prepare(struct upload *u, bool keep_eol, struct pn_error *err)
{
	struct stat st;
	bool field, bare_lf;

	if (open_input(u, err) < 0)
		return -1;
	if (scan(u->fd, &field, &bare_lf, err) < 0)
		return -1;
	if (!field)
		return pn_error_set(err, PN_EPARSE,
				    "not a mail message (no header fields before the first blank line)");
	if (fstat(u->fd, &st) < 0)
		return pn_error_errno(err, errno, "stat");
	u->file_size = u->size = (uint64_t)st.st_size;
	if (keep_eol)
		bare_lf = false;
	u->converted = bare_lf;
	if (bare_lf && to_crlf(u->fd, NULL, &u->size, err) < 0)
		return -1;
	return 0;
}

static int prepare_all(struct batch *b, uint64_t limit)
{
	struct pn_error err;
	int failed = 0;
	size_t i;

	for (i = 0; i < b->n; i++) {
		pn_error_clear(&err);
		if (prepare(&b->u[i], b->keep_eol, &err) < 0) {
			cli_error(CMD, "%s: %s", b->u[i].label, err.msg);
			failed++;
		} else if (limit && b->u[i].size > limit) {
			cli_error(CMD, "%s: %" PRIu64 " bytes is more than the server's APPENDLIMIT of %" PRIu64 " bytes",
				  b->u[i].label, b->u[i].size, limit);
			failed++;
		}
		park(&b->u[i]);
	}
	if (failed)
		cli_error(CMD, "nothing appended");
	return failed ? -1 : 0;
}

/* ---- sending ----------------------------------------------------------- */

static void fill_msg(const struct batch *b, const struct upload *u,
		     struct store_new_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->flags = b->nflags ? b->flags : NULL;
	m->nflags = b->nflags;
	m->date = b->date;
	m->date_tz = b->date_tz;
	m->fd = u->fd;
	m->size = u->size;
}

static void report(const struct upload *u, uint32_t uidvalidity, uint32_t uid)
{
	cli_puts(stdout, isatty(STDOUT_FILENO), u->label);
	if (uid && uidvalidity)
		printf(": appended as UID %" PRIu32 " (UIDVALIDITY %" PRIu32 ")",
		       uid, uidvalidity);
	else
		fputs(": appended (the server reports no UID)", stdout);
	putchar('\n');
}

static int send_some(struct store *st, const char *mailbox,
		     const struct batch *b, size_t first, size_t n)
{
	struct store_new_msg *m = calloc(n, sizeof(*m));
	uint32_t *uids = calloc(n, sizeof(*uids)), uidvalidity = 0;
	struct pn_error err;
	size_t i;
	int rc;

	if (!m || !uids) {
		free(m);
		free(uids);
		cli_error(CMD, "out of memory");
		return -1;
	}
	pn_error_clear(&err);
	for (i = 0; i < n; i++) {
		if (unpark(&b->u[first + i], &err) < 0) {
			cli_error(CMD, "%s: %s", b->u[first + i].label, err.msg);
			free(m);
			free(uids);
			return -1;
		}
		fill_msg(b, &b->u[first + i], &m[i]);
	}
	rc = store_append(st, mailbox, m, n, &uidvalidity, uids, &err);
	if (rc < 0)
		cli_error(CMD, "%s: %s", b->u[first].label, err.msg);
	for (i = 0; i < n; i++) {
		close(b->u[first + i].fd);
		b->u[first + i].fd = -1;
	}
	for (i = 0; rc == 0 && i < n; i++)
		report(&b->u[first + i], uidvalidity, uids[i]);
	free(uids);
	free(m);
	return rc;
}

/* Each message of a MULTIAPPEND holds a descriptor (two while an LF
 * file is converted) until the command ends: stay well under the limit. */
static size_t batch_size(void)
{
	struct rlimit rl;
	size_t n = MULTIAPPEND_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < n)
		n = rl.rlim_cur / 4;
	return n ? n : 1;
}

static int send_all(struct store *st, const char *mailbox,
		    const struct batch *b)
{
	struct imap_conn *c = store_imap_conn(st);
	size_t i, step = 1;

	/* A Maildir takes many at once as well: each is its own delivery. */
	if (!c || imap_caps_has(imap_conn_caps(c), "MULTIAPPEND"))
		step = batch_size();
	for (i = 0; i < b->n; i += step) {
		if (send_some(st, mailbox, b, i, b->n - i < step ? b->n - i : step) < 0)
			return -1;
	}
	return 0;
}

static int run(const struct cli_conn_opts *o, const char *target,
	       const char *mailbox, struct batch *b)
{
	struct cli_store cs;
	struct imap_conn *c;
	int rc;

	rc = cli_store_open(CMD, o, target, false, &cs);
	if (rc != CLI_OK)
		return rc;
	c = store_imap_conn(cs.store);
	b->keep_eol = cs.maildir;
	rc = prepare_all(b, c ? imap_caps_appendlimit(imap_conn_caps(c)) : 0);
	if (rc == 0)
		rc = send_all(cs.store, mailbox, b);
	cli_store_close(&cs);
	return rc < 0 ? CLI_FAIL : cli_finish_stdout(CMD, CLI_OK);
}

/* ---- options ------------------------------------------------------------ */

/* RFC 3501 flag: "\" atom, or a keyword atom. */
static bool flag_ok(const char *f)
{
	const char *p = f[0] == '\\' ? f + 1 : f;

	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p <= ' ' || *p >= 127 || strchr("(){%*\"\\]", *p))
			return false;
	}
	return true;
}

static int parse_flags(struct batch *b, char *arg)
{
	char *save = NULL, *f;

	for (f = strtok_r(arg, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		if (!flag_ok(f))
			return cli_usage(CMD, "--flags: '%s' is not an IMAP flag", f);
		if (strcasecmp(f, "\\Recent") == 0)
			return cli_usage(CMD, "--flags: \\Recent is set by the server only");
		if (b->nflags == MAX_FLAGS)
			return cli_usage(CMD, "--flags: more than %d flags", MAX_FLAGS);
		b->flags[b->nflags++] = f;
	}
	return 0;
}

static int parse_date(struct batch *b, const char *arg)
{
	struct pn_error err;

	if (pn_date_parse(arg, strlen(arg), &b->date, &b->date_tz, &err) == 0 ||
	    pn_internaldate_parse(arg, strlen(arg), &b->date, &b->date_tz,
				  &err) == 0)
		return 0;
	return cli_usage(CMD, "--date: '%s' is neither an RFC 5322 date (Wed, 25 Nov 2026 16:21:03 +0000) nor an IMAP one (25-Nov-2026 16:21:03 +0000)",
			 arg);
}

static int operands(const struct cli_conn_opts *o, struct batch *b, int argc,
		    char **argv)
{
	int need = o->tunnel ? 1 : 2, i, stdin_seen = 0;
	const char *target = o->tunnel ? NULL : argv[optind];

	if (argc - optind < need)
		return cli_usage(CMD, "missing %s", o->tunnel || argc - optind == 1 ?
				 "MAILBOX" : "TARGET and MAILBOX");
	if (argc - optind == need)
		return cli_usage(CMD, "missing FILE ('-' for stdin)");
	b->n = (size_t)(argc - optind - need);
	b->u = calloc(b->n, sizeof(*b->u));
	if (!b->u) {
		cli_error(CMD, "out of memory");
		return CLI_FAIL;
	}
	for (i = 0; i < (int)b->n; i++) {
		b->u[i].label = argv[optind + need + i];
		b->u[i].fd = -1;
		stdin_seen += strcmp(b->u[i].label, "-") == 0;
	}
	if (stdin_seen > 1)
		return cli_usage(CMD, "'-' (stdin) given more than once");
	return run(o, target, argv[optind + need - 1], b);
}

int cli_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flags", required_argument, NULL, 'f' },
		{ "date", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_conn_opts o = { 0 };
	struct batch b;
	size_t i;
	int c, r;

	memset(&b, 0, sizeof(b));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:d:h", opts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		r = 0;
		switch (c) {
		case 'f': r = parse_flags(&b, optarg); break;
		case 'd': r = parse_date(&b, optarg); break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
		if (r)
			return r;
	}
	r = operands(&o, &b, argc, argv);
	for (i = 0; i < b.n; i++) {
		if (b.u[i].fd >= 0)
			close(b.u[i].fd);
	}
	free(b.u);
	return r;
}
