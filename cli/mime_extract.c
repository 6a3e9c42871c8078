/* mime_extract.c - `postern mime extract`: decoded parts to files.
 *
 * Names come from the message, so they are hostile: pn_safe_filename
 * reduces them to a plain basename, and pn_atomic_* create the file with
 * O_EXCL|O_NOFOLLOW relative to the directory fd, so neither "../x" nor a
 * symlink planted in DIR can make us write outside it.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/safefile.h"
#include "../mime/mime.h"

static const char CMD[] = "postern mime extract";

#define SECTION_MAX 1024
#define MAX_PARTS_ASKED 1024

struct job {
	const char *dir;
	int dirfd;
	bool force;
	bool tty;
	struct mime_manager *files;
	char **written;		/* names this run made, so --force never
				   replaces a file we just extracted */
	size_t nwritten;
};

static const struct {
	const char *type, *ext;
} ext_table[] = {
	{ "text/plain", "txt" }, { "text/html", "html" },
	{ "text/csv", "csv" }, { "text/calendar", "ics" },
	{ "text/xml", "xml" }, { "text/markdown", "md" },
	{ "text/x-diff", "diff" }, { "text/x-patch", "patch" },
	{ "text/rtf", "rtf" }, { "text/vcard", "vcf" },
	{ "text/x-vcard", "vcf" }, { "image/png", "png" },
	{ "image/jpeg", "jpg" }, { "image/gif", "gif" },
	{ "image/webp", "webp" }, { "image/svg+xml", "svg" },
	{ "image/bmp", "bmp" }, { "image/tiff", "tif" },
	{ "audio/mpeg", "mp3" }, { "audio/ogg", "ogg" },
	{ "audio/wav", "wav" }, { "video/mp4", "mp4" },
	{ "application/pdf", "pdf" }, { "application/zip", "zip" },
	{ "application/gzip", "gz" }, { "application/x-tar", "tar" },
	{ "application/json", "json" }, { "application/xml", "xml" },
	{ "application/msword", "doc" }, { "application/rtf", "rtf" },
	{ "application/pgp-signature", "asc" },
	{ "application/pgp-encrypted", "asc" },
	{ "application/pkcs7-signature", "p7s" },
	{ "application/x-pkcs7-signature", "p7s" },
	{ "application/ics", "ics" }, { "message/rfc822", "eml" },
	{ "message/global", "eml" }, { "message/delivery-status", "txt" },
};

static const char *type_ext(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(ext_table) / sizeof(ext_table[0]); i++) {
		if (strcmp(ext_table[i].type, type) == 0)
			return ext_table[i].ext;
	}
	return strncmp(type, "text/", 5) == 0 ? "txt" : "bin";
}

/* The section a user names the part by: a single-part message's body is
 * "1", as IMAP has it. */
static void part_label(struct mime_part *part, char *sec, size_t sz)
{
	if (!cli_section(part, sec, sz))
		snprintf(sec, sz, "1");
}

static bool written_before(const struct job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->nwritten; i++) {
		if (strcmp(job->written[i], name) == 0)
			return true;
	}
	return false;
}

static void remember(struct job *job, const char *name)
{
	char **v = realloc(job->written, (job->nwritten + 1) * sizeof(*v));
	char *copy = strdup(name);

	if (v)
		job->written = v;
	if (!v || !copy) {
		free(copy);
		return;	/* only --force's same-run check loses this name */
	}
	v[job->nwritten++] = copy;
}

static void safe_name(struct mime_part *part, const char *sec, char *out,
		      size_t outsz)
{
	const char *fn = mime_part_filename(part);
	char fallback[SECTION_MAX + 32];

	snprintf(fallback, sizeof(fallback), "part-%s.%s", sec,
		 type_ext(mime_part_type(part)));
	pn_safe_filename(fn ? fn : fallback, fallback, out, outsz);
}

static void report(const struct job *job, const char *name, uint64_t size,
		   const char *sec)
{
	size_t n = strlen(job->dir);
	const char *slash = n && job->dir[n - 1] == '/' ? "" : "/";

	fputs("wrote ", stdout);
	cli_puts(stdout, job->tty, job->dir);
	fputs(slash, stdout);
	cli_puts(stdout, job->tty, name);
	printf(" (%" PRIu64 " bytes, section %s)\n", size, sec);
}

static int write_part(struct job *job, struct mime_part *part,
		      struct pn_error *err)
{
	struct pn_atomic_file af;
	struct mime_file_target t = { 0 };
	char sec[SECTION_MAX], name[PN_SAFE_NAME_MAX + 1];
	bool replace;
	int rc;

	part_label(part, sec, sizeof(sec));
	safe_name(part, sec, name, sizeof(name));
	replace = job->force && !written_before(job, name);
	if (pn_atomic_open(&af, job->dirfd, name, replace, err) < 0)
		return -1;
	t.fd = af.fd;
	rc = mime_get_content(job->files, part, &t, err);
	if (rc == 0)
		rc = replace ? pn_atomic_commit(&af, err)
			     : pn_atomic_commit_unique(&af, err);
	pn_atomic_abort(&af);
	if (rc < 0) {
		pn_error_prefix(err, "section %s", sec);
		return -1;
	}
	remember(job, af.name);
	report(job, af.name, t.bytes_out, sec);
	return 0;
}

/* --all: every leaf, including those inside attached messages, but not
 * the multipart and message/rfc822 containers themselves (their content
 * is what gets written, part by part). */
static int collect_leaf(struct mime_part *part, void *ctx)
{
	struct mime_part ***out = ctx;

	if (cli_part_is_leaf(part))
		*(*out)++ = part;
	return 0;
}

static int count_part(struct mime_part *part, void *ctx)
{
	(void)part;
	++*(size_t *)ctx;
	return 0;
}

static struct mime_part **all_leaves(struct mime_part *root, size_t *n_out)
{
	struct mime_part **v, **end;
	size_t n = 0;

	mime_walk(root, count_part, &n);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return NULL;
	end = v;
	mime_walk(root, collect_leaf, &end);
	*n_out = end - v;
	return v;
}

/* Resolve every --part before writing anything: a typo should not leave
 * half the parts extracted. */
static struct mime_part **named_parts(struct mime_part *root, char **secs,
				      size_t n, const char *path)
{
	struct mime_part **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < n; i++) {
		v[i] = mime_part_by_section(root, secs[i]);
		if (!v[i]) {
			cli_error(CMD, "%s: no part %s", path, secs[i]);
		} else if (mime_part_is_multipart(v[i])) {
			cli_error(CMD, "%s: part %s is a %s container; extract its parts instead",
				  path, secs[i], mime_part_type(v[i]));
			v[i] = NULL;
		}
		if (!v[i]) {
			free(v);
			return NULL;
		}
	}
	if (!v)
		cli_error(CMD, "out of memory");
	return v;
}

static int open_dir(struct job *job)
{
	job->dirfd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A missing DIR is created (not its parents); an existing symlink
	 * to a directory is fine: the user named it. */
	if (job->dirfd < 0 && errno == ENOENT && mkdir(job->dir, 0777) == 0)
		job->dirfd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (job->dirfd < 0) {
		cli_error(CMD, "%s: %s", job->dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_all_parts(struct job *job, struct mime_part **parts,
			   size_t n, const char *path)
{
	struct pn_error err;
	int status = CLI_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		pn_error_clear(&err);
		if (write_part(job, parts[i], &err) < 0) {
			cli_error(CMD, "%s: %s", path, err.msg);
			status = CLI_FAIL;
		}
	}
	return status;
}

struct opts {
	char *secs[MAX_PARTS_ASKED];
	size_t nsecs;
	bool all, force;
	const char *dir;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "part", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:ao:fh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->nsecs == MAX_PARTS_ASKED)
				return cli_usage(CMD, "too many --part options");
			o->secs[o->nsecs++] = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case 'o':
			o->dir = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'h':
			cli_help(CMD, stdout);
			return -1;
		default:
			return cli_getopt_error(CMD, c, argv, lo);
		}
	}
	if (o->all == (o->nsecs > 0))
		return cli_usage(CMD, o->all ? "--all and --part exclude each other"
					     : "missing --part SECTION or --all");
	if (optind >= argc)
		return cli_usage(CMD, "missing FILE");
	if (argc - optind > 1)
		return cli_usage(CMD, "one FILE only");
	return 0;
}

static int extract(struct job *job, const struct opts *o, const char *path)
{
	struct mime_message *msg = NULL;
	struct mime_part **parts;
	struct pn_error err;
	size_t n = o->nsecs;
	int status = CLI_FAIL;

	pn_error_clear(&err);
	if (cli_parse_message(path, NULL, &msg, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		return CLI_FAIL;
	}
	if (o->all) {
		parts = all_leaves(mime_message_root(msg), &n);
		if (!parts)
			cli_error(CMD, "out of memory");
	} else
		parts = named_parts(mime_message_root(msg), (char **)o->secs,
				    n, path);
	if (parts && open_dir(job) == 0) {
		status = write_all_parts(job, parts, n, path);
		close(job->dirfd);
	}
	free(parts);
	mime_message_free(&msg);
	return status;
}

int cli_mime_extract(int argc, char **argv)
{
	struct opts o = { .dir = "." };
	struct job job = { 0 };
	size_t i;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	job.dir = o.dir;
	job.force = o.force;
	job.tty = isatty(STDOUT_FILENO);
	job.files = mime_file_manager_new();
	if (!job.files) {
		cli_error(CMD, "out of memory");
		return CLI_FAIL;
	}
	rc = extract(&job, &o, argv[optind]);
	mime_manager_free(&job.files);
	for (i = 0; i < job.nwritten; i++)
		free(job.written[i]);
	free(job.written);
	return rc;
}
