/* mime_compose.c - `postern mime compose`: a message from text, html,
 * inline images and attachments, through the builder (email6's
 * promotion: text + html -> alternative, html + images -> related,
 * anything + attachments -> mixed). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/date.h"
#include "../lib/safefile.h"
#include "../lib/utf8.h"
#include "../mime/mime.h"

static const char CMD[] = "postern mime compose";

#define MAX_LIST 256
/* A body is read into memory (the raw manager takes a string); mail
 * bodies this large are not text anyone types. */
#define BODY_MAX (64u << 20)

struct list {
	const char *v[MAX_LIST];
	size_t n;
};

struct opts {
	const char *from, *subject, *text, *html, *out;
	struct list to, cc, related, attach, headers;
	bool force;
};

enum {
	OPT_FROM = 256, OPT_TO, OPT_CC, OPT_TEXT, OPT_HTML, OPT_RELATED,
	OPT_ATTACH, OPT_HEADER,
};

static int push(struct list *l, const char *v, const char *opt)
{
	if (l->n == MAX_LIST)
		return cli_usage(CMD, "too many %s options", opt);
	l->v[l->n++] = v;
	return 0;
}

static int take_opt(int c, struct opts *o)
{
	switch (c) {
	case OPT_FROM:
		o->from = optarg;
		return 0;
	case 's':
		o->subject = optarg;
		return 0;
	case OPT_TEXT:
		o->text = optarg;
		return 0;
	case OPT_HTML:
		o->html = optarg;
		return 0;
	case 'o':
		o->out = optarg;
		return 0;
	case 'f':
		o->force = true;
		return 0;
	case OPT_TO:
		return push(&o->to, optarg, "--to");
	case OPT_CC:
		return push(&o->cc, optarg, "--cc");
	case OPT_RELATED:
		return push(&o->related, optarg, "--related");
	case OPT_ATTACH:
		return push(&o->attach, optarg, "--attach");
	case OPT_HEADER:
		return push(&o->headers, optarg, "--header");
	}
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "cc", required_argument, NULL, OPT_CC },
		{ "subject", required_argument, NULL, 's' },
		{ "text", required_argument, NULL, OPT_TEXT },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "related", required_argument, NULL, OPT_RELATED },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:o:fh", lo, NULL)) != -1) {
		if (c == 'h') {
			cli_help(CMD, stdout);
			return -1;
		}
		rc = take_opt(c, o);
		if (rc < 0)
			return cli_getopt_error(CMD, c, argv, lo);
		if (rc > 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!o->from || !o->to.n || !o->subject)
		return cli_usage(CMD, "missing %s", !o->from ? "--from" :
				 !o->to.n ? "--to" : "--subject");
	if (o->related.n && !o->html)
		return cli_usage(CMD, "--related needs --html to refer to it");
	return 0;
}

/* ---- validation: nothing the user gives may add a header line ---------- */

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static int check_list(const struct list *l, const char *opt)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (has_crlf(l->v[i]))
			return cli_usage(CMD, "header injection refused: CR or LF in %s",
					 opt);
	}
	return 0;
}

/* The builder owns the structure: a user's Content-Type would lie about
 * the body it wrote. */
static bool reserved_field(const char *name, size_t len)
{
	return (len >= 8 && strncasecmp(name, "content-", 8) == 0) ||
	       (len == 12 && strncasecmp(name, "mime-version", 12) == 0);
}

static int check_header(const char *h)
{
	const char *colon = strchr(h, ':');
	size_t i, len = colon ? (size_t)(colon - h) : 0;

	if (has_crlf(h))
		return cli_usage(CMD, "header injection refused: CR or LF in --header");
	if (!colon || len == 0)
		return cli_usage(CMD, "--header '%s': expected 'Name: value'", h);
	for (i = 0; i < len; i++) {
		if (h[i] <= 32 || h[i] >= 127)
			return cli_usage(CMD, "--header '%s': bad field name", h);
	}
	if (reserved_field(h, len))
		return cli_usage(CMD, "--header '%.*s': set by compose itself",
				 (int)len, h);
	return 0;
}

static int validate(const struct opts *o)
{
	const struct list single[] = {
		{ { o->from }, 1 }, { { o->subject }, 1 },
	};
	size_t i;
	int rc;

	if ((rc = check_list(&single[0], "--from")) ||
	    (rc = check_list(&single[1], "--subject")) ||
	    (rc = check_list(&o->to, "--to")) ||
	    (rc = check_list(&o->cc, "--cc")) ||
	    (rc = check_list(&o->related, "--related")) ||
	    (rc = check_list(&o->attach, "--attach")))
		return rc;
	if (o->text && o->html && strcmp(o->text, "-") == 0 &&
	    strcmp(o->html, "-") == 0)
		return cli_usage(CMD, "stdin ('-') can be read only once");
	for (i = 0; i < o->headers.n; i++) {
		rc = check_header(o->headers.v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the pieces -------------------------------------------------------- */

static int read_text(const char *path, char **out, struct pn_error *err)
{
	struct pn_buf b;
	int fd, rc;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO
				    : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pn_error_errno(err, errno, "%s", path);
	pn_buf_init(&b, BODY_MAX);
	rc = cli_read_fd(fd, &b, err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0)
		pn_error_prefix(err, "%s", path);
	else if (memchr(pn_buf_cstr(&b), 0, b.len) ||
		 !pn_utf8_valid(pn_buf_cstr(&b), b.len))
		rc = pn_error_set(err, PN_EINVAL, "%s: not UTF-8 text", path);
	else if (!(*out = pn_buf_take(&b, NULL)))
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	pn_buf_free(&b);
	return rc;
}

static void random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	size_t i;

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	/* getrandom cannot fail for <= 256 bytes once the pool is ready;
	 * should it, the time still keeps ids apart in practice. */
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes) {
		for (i = 0; i < nbytes; i++)
			r[i] = (unsigned char)(time(NULL) >> (i % 4 * 8)) ^ i;
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* The host part of Message-ID: the host name if it is a plain dot-atom,
 * else something that is. */
static void id_host(char *out, size_t sz)
{
	size_t i;

	if (gethostname(out, sz) != 0 || !out[0])
		snprintf(out, sz, "localhost");
	out[sz - 1] = '\0';
	for (i = 0; out[i]; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-", out[i]))
			out[i] = '-';
	}
}

static char *join(const struct list *l)
{
	struct pn_buf b;
	size_t i;

	pn_buf_init(&b, 0);
	for (i = 0; i < l->n; i++) {
		if ((i && pn_buf_adds(&b, ", ") < 0) ||
		    pn_buf_adds(&b, l->v[i]) < 0) {
			pn_buf_free(&b);
			return NULL;
		}
	}
	return pn_buf_take(&b, NULL);
}

/* ---- building ---------------------------------------------------------- */

struct build {
	const struct opts *o;
	struct mime_message *msg;
	struct mime_part *root;
	struct mime_manager *raw, *files;
	struct pn_error err;
};

/* From, To, Cc, Subject, Date, Message-ID, then --header fields; a
 * --header naming one of ours replaces it. */
static int add_headers(struct build *b)
{
	char date[32], host[256], rnd[33], mid[400];
	char *to = join(&b->o->to), *cc = join(&b->o->cc);
	time_t now = time(NULL);
	struct mime_part *r = b->root;
	int rc;

	pn_date_format(now, pn_local_tzoff(now), date);
	id_host(host, sizeof(host));
	random_hex(rnd, 16);
	snprintf(mid, sizeof(mid), "<%s.%" PRIdMAX "@%s>", rnd, (intmax_t)now,
		 host);
	rc = !to || !cc ? pn_error_set(&b->err, PN_ENOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = mime_part_header_add(r, "From", b->o->from, &b->err);
	if (rc == 0)
		rc = mime_part_header_add(r, "To", to, &b->err);
	if (rc == 0 && b->o->cc.n)
		rc = mime_part_header_add(r, "Cc", cc, &b->err);
	if (rc == 0)
		rc = mime_part_header_add(r, "Subject", b->o->subject, &b->err);
	if (rc == 0)
		rc = mime_part_header_add(r, "Date", date, &b->err);
	if (rc == 0)
		rc = mime_part_header_add(r, "Message-ID", mid, &b->err);
	free(to);
	free(cc);
	return rc;
}

static bool ours(const char *name)
{
	static const char *const names[] = { "from", "to", "cc", "subject",
					     "date", "message-id" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(names[i], name) == 0)
			return true;
	}
	return false;
}

static int add_user_headers(struct build *b)
{
	const struct list *h = &b->o->headers;
	char name[256];
	const char *value;
	size_t i, len;
	int rc = 0;

	for (i = 0; rc == 0 && i < h->n; i++) {
		len = strcspn(h->v[i], ":");
		snprintf(name, sizeof(name), "%.*s", (int)len, h->v[i]);
		value = h->v[i] + len + 1;
		value += strspn(value, " \t");
		if (ours(name))
			rc = mime_part_header_set(b->root, name, value, &b->err);
		else
			rc = mime_part_header_add(b->root, name, value, &b->err);
	}
	return rc;
}

static int add_bodies(struct build *b, struct mime_part **html_out)
{
	static const struct mime_set_opts html_opts = { .subtype = "html" };
	char *text = NULL, *html = NULL;
	int rc = 0;

	*html_out = NULL;
	if (b->o->text)
		rc = read_text(b->o->text, &text, &b->err);
	if (rc == 0 && b->o->html)
		rc = read_text(b->o->html, &html, &b->err);
	/* No --text and no --html: an empty text/plain, so attachments
	 * still have a body part in front of them. */
	if (rc == 0 && (text || !html))
		rc = mime_set_content(b->raw, b->root, "text", text ? text : "",
				      NULL, &b->err);
	if (rc == 0 && html && text) {
		rc = mime_add_alternative(b->root, b->raw, "text", html,
					  &html_opts, html_out, &b->err);
	} else if (rc == 0 && html) {
		rc = mime_set_content(b->raw, b->root, "text", html,
				      &html_opts, &b->err);
		*html_out = b->root;
	}
	free(text);
	free(html);
	return rc;
}

/* "CID=FILE", or FILE alone (also when FILE itself contains '='). */
static void split_related(const char *arg, char *cid, size_t cidsz,
			  const char **path_out)
{
	const char *eq = strchr(arg, '=');

	cid[0] = '\0';
	*path_out = arg;
	if (!eq || access(arg, F_OK) == 0)
		return;
	snprintf(cid, cidsz, "%.*s", (int)(eq - arg), arg);
	*path_out = eq + 1;
}

static int add_one_related(struct build *b, struct mime_part *html,
			   const char *arg)
{
	struct mime_set_opts opts = { 0 };
	char cid[512], rnd[33];
	const char *path;

	split_related(arg, cid, sizeof(cid), &path);
	if (!cid[0]) {
		random_hex(rnd, 16);
		snprintf(cid, sizeof(cid), "%s@postern", rnd);
		/* The html must say cid:...: tell the user what to write. */
		fprintf(stderr, "%s: %s is cid:%s\n", CMD, path, cid);
	}
	opts.cid = cid;
	if (mime_add_related(html, b->files, "file", path, &opts, NULL,
			     &b->err) < 0) {
		pn_error_prefix(&b->err, "%s", path);
		return -1;
	}
	return 0;
}

static int add_files(struct build *b, struct mime_part *html)
{
	size_t i;

	for (i = 0; i < b->o->related.n; i++) {
		if (add_one_related(b, html, b->o->related.v[i]) < 0)
			return -1;
	}
	for (i = 0; i < b->o->attach.n; i++) {
		if (mime_add_attachment(b->root, b->files, "file",
					b->o->attach.v[i], NULL, NULL,
					&b->err) < 0) {
			pn_error_prefix(&b->err, "%s", b->o->attach.v[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- output ------------------------------------------------------------ */

static int write_out(struct build *b)
{
	return cli_write_message(b->root, NULL, b->o->out, b->o->force,
				 &b->err);
}

static int build_and_write(struct build *b)
{
	struct mime_part *html = NULL;

	b->msg = mime_message_new();
	b->raw = mime_raw_manager_new();
	b->files = mime_file_manager_new();
	if (!b->msg || !b->raw || !b->files)
		return pn_error_set(&b->err, PN_ENOMEM, "out of memory");
	b->root = mime_message_root(b->msg);
	if (add_headers(b) < 0 || add_user_headers(b) < 0 ||
	    add_bodies(b, &html) < 0 || add_files(b, html) < 0)
		return -1;
	return write_out(b);
}

int cli_mime_compose(int argc, char **argv)
{
	struct opts o = { 0 };
	struct build b = { .o = &o };
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = validate(&o);
	if (rc != 0)
		return rc;
	pn_error_clear(&b.err);
	fflush(stdout);
	rc = build_and_write(&b) < 0 ? CLI_FAIL : CLI_OK;
	if (rc != CLI_OK)
		cli_error(CMD, "%s", b.err.msg);
	mime_manager_free(&b.files);
	mime_manager_free(&b.raw);
	mime_message_free(&b.msg);
	return rc;
}
