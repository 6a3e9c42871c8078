/* mime_cat.c - `postern mime cat FILE SECTION`: one part's decoded bytes. */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/safefile.h"
#include "../lib/utf8.h"
#include "../mime/mime.h"

static const char CMD[] = "postern mime cat";

struct out {
	bool tty;
	struct pn_buf carry;	/* tty: an incomplete UTF-8 tail */
	struct pn_buf clean;
	int err;		/* errno of a failed write */
};

/* Where the last complete UTF-8 sequence in s ends, so a character cut
 * by a chunk boundary is sanitised whole with the next chunk. */
static size_t complete_prefix(const char *s, size_t n)
{
	size_t i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return need > n - (i - 1) ? i - 1 : n;
}

static int flush_clean(struct out *o, size_t upto)
{
	int rc;

	pn_buf_reset(&o->clean);
	if (pn_sanitize_term(o->carry.data ? o->carry.data : "", upto,
			     PN_SAN_KEEP_NEWLINE | PN_SAN_KEEP_TAB,
			     &o->clean) < 0)
		return -1;
	pn_buf_consume(&o->carry, upto);
	rc = pn_write_all(STDOUT_FILENO, pn_buf_cstr(&o->clean), o->clean.len);
	if (rc < 0)
		o->err = errno;
	return rc;
}

static int emit(void *ctx, const char *data, size_t len)
{
	struct out *o = ctx;

	if (!o->tty) {
		if (pn_write_all(STDOUT_FILENO, data, len) < 0) {
			o->err = errno;
			return -1;
		}
		return 0;
	}
	if (pn_buf_add(&o->carry, data, len) < 0)
		return -1;
	return flush_clean(o, complete_prefix(o->carry.data, o->carry.len));
}

static int refuse(const char *path, const char *sec, struct mime_part *part,
		  bool tty, bool force)
{
	const char *maintype = mime_part_maintype(part);

	if (mime_part_is_multipart(part)) {
		cli_error(CMD, "%s: part %s is a %s container; name one of its parts",
			  path, sec, mime_part_type(part));
		return -1;
	}
	if (tty && !force && strcmp(maintype, "text") != 0 &&
	    strcmp(maintype, "message") != 0) {
		cli_error(CMD, "refusing to write binary part %s (%s) to a terminal; use --force or redirect",
			  sec, mime_part_type(part));
		return -1;
	}
	return 0;
}

static int cat_part(const char *path, struct mime_part *part, bool tty)
{
	struct out o = { .tty = tty };
	struct pn_error err;
	int rc;

	pn_error_clear(&err);
	pn_buf_init(&o.carry, 0);
	pn_buf_init(&o.clean, 0);
	rc = mime_part_decode(part, emit, &o, NULL, &err);
	if (rc == 0 && tty && o.carry.len)
		rc = flush_clean(&o, o.carry.len);
	if (rc < 0 && o.err)
		cli_error(CMD, "write to stdout: %s", strerror(o.err));
	else if (rc < 0)
		cli_error(CMD, "%s: %s", path, err.msg);
	pn_buf_free(&o.carry);
	pn_buf_free(&o.clean);
	return rc < 0 ? CLI_FAIL : CLI_OK;
}

static int run(const char *path, const char *sec, bool force)
{
	struct mime_message *msg = NULL;
	struct mime_part *part;
	struct pn_error err;
	bool tty = isatty(STDOUT_FILENO);
	int status = CLI_FAIL;

	pn_error_clear(&err);
	if (cli_parse_message(path, NULL, &msg, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		return CLI_FAIL;
	}
	part = mime_part_by_section(mime_message_root(msg), sec);
	if (!part)
		cli_error(CMD, "%s: no part %s", path, sec);
	else if (refuse(path, sec, part, tty, force) == 0)
		status = cat_part(path, part, tty);
	mime_message_free(&msg);
	return status;
}

int cli_mime_cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if (argc - optind < 2)
		return cli_usage(CMD, "missing %s",
				 argc - optind ? "SECTION" : "FILE and SECTION");
	if (argc - optind > 2)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind + 2]);
	return run(argv[optind], argv[optind + 1], force);
}
