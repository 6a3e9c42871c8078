/* mime_body.c - `postern mime body`: the get_body choice as UTF-8 text. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#include "../lib/utf8.h"
#include "../mime/mime.h"

static const char CMD[] = "postern mime body";

struct prefs {
	const char *v[3];
	size_t n;
};

/* "related,html,plain" in any order, each at most once. */
static int parse_prefer(const char *arg, struct prefs *p)
{
	static const char *const known[] = { "related", "html", "plain" };
	const char *s = arg, *end;
	size_t i, k, len;

	p->n = 0;
	for (; *s; s = *end ? end + 1 : end) {
		end = strchrnul(s, ',');
		len = end - s;
		for (k = 0; k < 3; k++) {
			if (strlen(known[k]) == len &&
			    strncmp(known[k], s, len) == 0)
				break;
		}
		if (k == 3)
			return cli_usage(CMD, "--prefer: unknown body kind '%.*s'",
					 (int)len, s);
		for (i = 0; i < p->n; i++) {
			if (p->v[i] == known[k])
				return cli_usage(CMD, "--prefer: '%s' given twice",
						 known[k]);
		}
		p->v[p->n++] = known[k];
	}
	if (p->n == 0)
		return cli_usage(CMD, "--prefer: empty list");
	return 0;
}

/* email6's get_body answers a multipart/related itself when "related"
 * wins; the text to show is then the body found in its start part
 * (start= Content-ID, else the first subpart). */
static struct mime_part *related_root(struct mime_part *rel)
{
	const char *start = mime_part_param(rel, "start");
	struct mime_part *c = mime_part_first_child(rel);
	struct mime_part *first = c;
	char want[512];

	if (start) {
		snprintf(want, sizeof(want), "%s", start);
		if (want[0] == '<')
			memmove(want, want + 1, strlen(want));
		want[strcspn(want, ">")] = '\0';
		for (; c; c = mime_part_next(c)) {
			const char *cid = mime_part_content_id(c);

			if (cid && strcmp(cid, want) == 0)
				return c;
		}
	}
	return first;
}

static struct mime_part *choose(struct mime_part *root, const struct prefs *p)
{
	static const char *const text_prefs[] = { "html", "plain" };
	const char *rest[3];
	struct mime_part *body = mime_get_body(root, p->v, p->n);
	size_t i, n = 0;

	if (!body || !mime_part_is_multipart(body))
		return body;
	for (i = 0; i < p->n; i++) {
		if (strcmp(p->v[i], "related") != 0)
			rest[n++] = p->v[i];
	}
	root = related_root(body);
	if (!root)
		return NULL;
	body = n ? mime_get_body(root, rest, n) : NULL;
	/* "related" won but the rest of the list fits nothing in it: show
	 * whatever text the related root holds rather than nothing. */
	if (!body || mime_part_is_multipart(body))
		body = mime_get_body(root, text_prefs, 2);
	return body && !mime_part_is_multipart(body) ? body : NULL;
}

/* The body is text for a Unix reader: CRLF (what a built or a network
 * message has) becomes LF, as the terminal sanitiser does too. */
static void put_lf(const char *s, size_t len)
{
	const char *end = s + len, *cr;

	while ((cr = memchr(s, '\r', end - s)) && cr + 1 < end) {
		fwrite(s, 1, cr - s, stdout);
		if (cr[1] != '\n')
			fputc('\r', stdout);
		s = cr + 1;
	}
	fwrite(s, 1, end - s, stdout);
}

static int print_body(const char *path, struct mime_part *body)
{
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_content c = { 0 };
	struct pn_error err;
	int rc;

	pn_error_clear(&err);
	if (!raw) {
		cli_error(CMD, "out of memory");
		return CLI_FAIL;
	}
	rc = mime_get_content(raw, body, &c, &err);
	mime_manager_free(&raw);
	if (rc < 0) {
		cli_error(CMD, "%s: %s", path, err.msg);
		return CLI_FAIL;
	}
	if (isatty(STDOUT_FILENO))
		cli_put(stdout, true, c.data ? c.data : "", c.len,
			PN_SAN_KEEP_NEWLINE | PN_SAN_KEEP_TAB);
	else
		put_lf(c.data ? c.data : "", c.len);
	mime_content_clear(&c);
	return CLI_OK;
}

static int run(const char *path, const struct prefs *p)
{
	struct mime_message *msg = NULL;
	struct mime_part *body;
	struct pn_error err;
	int status;

	pn_error_clear(&err);
	if (cli_parse_message(path, NULL, &msg, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		return CLI_FAIL;
	}
	body = choose(mime_message_root(msg), p);
	if (!body) {
		cli_error(CMD, "%s: no body of the kinds asked for", path);
		status = CLI_FAIL;
	} else {
		status = print_body(path, body);
	}
	mime_message_free(&msg);
	return status;
}

int cli_mime_body(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefer", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prefs p = { { "related", "html", "plain" }, 3 };
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			rc = parse_prefer(optarg, &p);
			if (rc)
				return rc;
			break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if (optind >= argc)
		return cli_usage(CMD, "missing FILE");
	if (argc - optind > 1)
		return cli_usage(CMD, "one FILE only");
	return run(argv[optind], &p);
}
