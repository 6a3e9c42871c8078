/* imap_append.c - `postern append TARGET MAILBOX FILE...`: upload
 * messages.  The one IMAP command here that writes to the server.
 *
 * Every file is checked and prepared before anything is sent, so a bad
 * third file leaves the mailbox untouched: it must start with a header
 * field, and a file with bare LF line endings is rewritten with CRLF
 * (RFC 3501 APPEND takes RFC 5322 text, whose lines end in CRLF) into an
 * unlinked temporary file, so a large message never sits in memory.  Then
 * one MULTIAPPEND (RFC 3502) when offered, else one APPEND per file.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/date.h"
#include "../lib/safefile.h"
#include "../mime/mime.h"

static const char CMD[] = "postern append";

#define MAX_FLAGS 64
#define SCAN_CHUNK 65536

struct upload {
	const char *label;	/* the operand ("-" for stdin) */
	int fd;			/* at offset 0, CRLF line endings */
	uint64_t size;
	bool converted;
};

struct batch {
	struct upload *u;
	size_t n;
	const char *flags[MAX_FLAGS];
	size_t nflags;
	time_t date;
	int date_tz;
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

static int spool_stdin(struct pn_error *err)
{
	char buf[SCAN_CHUNK];
	ssize_t n;
	int fd = temp_fd(err);

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (pn_write_all(fd, buf, (size_t)n) < 0) {
			close(fd);
			return pn_error_errno(err, errno, "spooling stdin");
		}
	}
	if (n < 0) {
		close(fd);
		return pn_error_errno(err, errno, "reading stdin");
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

/* CRLF everywhere through the MIME writer (binary parts left alone). */
static int to_crlf(struct upload *u, struct pn_error *err)
{
	static const struct mime_write_opts wo = { "\r\n" };
	struct mime_message *msg = NULL;
	int out, in = dup(u->fd);

	if (in < 0)
		return pn_error_errno(err, errno, "dup");
	lseek(in, 0, SEEK_SET);
	if (mime_parse_fd(in, NULL, NULL, &msg, err) < 0) {
		close(in);
		return -1;
	}
	close(in);
	out = temp_fd(err);
	if (out < 0 || mime_write_fd(mime_message_root(msg), &wo, out, err) < 0) {
		if (out >= 0)
			close(out);
		mime_message_free(&msg);
		return -1;
	}
	mime_message_free(&msg);
	close(u->fd);
	u->fd = out;
	u->converted = true;
	return 0;
}

static int open_input(struct upload *u, struct pn_error *err)
{
	if (strcmp(u->label, "-") == 0)
		u->fd = spool_stdin(err);
	else if ((u->fd = open(u->label, O_RDONLY | O_CLOEXEC)) < 0)
		pn_error_errno(err, errno, "cannot open");
	return u->fd < 0 ? -1 : 0;
}

static int prepare(struct upload *u, struct pn_error *err)
{
	struct stat st;
	bool field, bare_lf;

	if (open_input(u, err) < 0)
		return -1;
	if (fstat(u->fd, &st) < 0)
		return pn_error_errno(err, errno, "stat");
	if (!S_ISREG(st.st_mode))
		return pn_error_set(err, PN_EINVAL, "not a regular file");
	if (scan(u->fd, &field, &bare_lf, err) < 0)
		return -1;
	if (!field)
		return pn_error_set(err, PN_EPARSE,
				    "not a mail message (no header fields before the first blank line)");
	if (bare_lf && to_crlf(u, err) < 0)
		return -1;
	if (fstat(u->fd, &st) < 0)
		return pn_error_errno(err, errno, "stat");
	u->size = (uint64_t)st.st_size;
	if (lseek(u->fd, 0, SEEK_SET) < 0)
		return pn_error_errno(err, errno, "seek");
	return 0;
}

static int prepare_all(struct batch *b, uint64_t limit)
{
	struct pn_error err;
	int failed = 0;
	size_t i;

	for (i = 0; i < b->n; i++) {
		pn_error_clear(&err);
		if (prepare(&b->u[i], &err) < 0) {
			cli_error(CMD, "%s: %s", b->u[i].label, err.msg);
			failed++;
		} else if (limit && b->u[i].size > limit) {
			cli_error(CMD, "%s: %" PRIu64 " bytes is more than the server's APPENDLIMIT of %" PRIu64 " bytes",
				  b->u[i].label, b->u[i].size, limit);
			failed++;
		}
	}
	if (failed)
		cli_error(CMD, "nothing appended");
	return failed ? -1 : 0;
}

/* ---- sending ----------------------------------------------------------- */

static void fill_msg(const struct batch *b, const struct upload *u,
		     struct imap_append_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->flags = b->nflags ? b->flags : NULL;
	m->nflags = b->nflags;
	m->date = b->date;
	m->date_tz = b->date_tz;
	m->fd = u->fd;
	m->size = u->size;
}

/* The k-th UID of the APPENDUID set (in the order the messages went). */
static uint32_t nth_uid(const struct imap_seqset *s, size_t k)
{
	size_t i;
	uint64_t span;

	for (i = 0; i < s->n; i++) {
		span = (uint64_t)s->r[i].hi - s->r[i].lo + 1;
		if (k < span)
			return s->r[i].lo + (uint32_t)k;
		k -= span;
	}
	return 0;
}

static void report(const struct upload *u, const struct imap_append_result *r,
		   size_t k)
{
	uint32_t uid = r->uidvalidity ? nth_uid(&r->uids, k) : 0;

	cli_puts(stdout, isatty(STDOUT_FILENO), u->label);
	if (uid)
		printf(": appended as UID %" PRIu32 " (UIDVALIDITY %" PRIu32 ")",
		       uid, r->uidvalidity);
	else
		fputs(": appended (the server reports no UID)", stdout);
	putchar('\n');
}

static int send_some(struct imap_conn *c, const char *mailbox,
		     const struct batch *b, size_t first, size_t n)
{
	struct imap_append_msg *m = calloc(n, sizeof(*m));
	struct imap_append_result r;
	struct pn_error err;
	size_t i;
	int rc;

	if (!m) {
		cli_error(CMD, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		fill_msg(b, &b->u[first + i], &m[i]);
	memset(&r, 0, sizeof(r));
	pn_error_clear(&err);
	rc = imap_append(c, mailbox, m, n, &r, &err);
	if (rc < 0)
		cli_error(CMD, "%s: %s", b->u[first].label, err.msg);
	for (i = 0; rc == 0 && i < n; i++)
		report(&b->u[first + i], &r, i);
	imap_seqset_free(&r.uids);
	free(m);
	return rc;
}

static int send_all(struct imap_conn *c, const char *mailbox,
		    const struct batch *b)
{
	size_t i;

	if (b->n > 1 && imap_caps_has(imap_conn_caps(c), "MULTIAPPEND"))
		return send_some(c, mailbox, b, 0, b->n);
	for (i = 0; i < b->n; i++) {
		if (send_some(c, mailbox, b, i, 1) < 0)
			return -1;
	}
	return 0;
}

static int run(const struct cli_conn_opts *o, const char *target,
	       const char *mailbox, struct batch *b)
{
	struct cli_session s;
	int rc;

	rc = cli_session_open(CMD, o, target, &s);
	if (rc != CLI_OK)
		return rc;
	rc = prepare_all(b, imap_caps_appendlimit(imap_conn_caps(s.conn)));
	if (rc == 0)
		rc = send_all(s.conn, mailbox, b);
	cli_session_close(&s);
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
