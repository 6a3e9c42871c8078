/* multi.c - the shared driver of tree and attachments: options, the list
 * of inputs, one message at a time with per-message errors. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#include "../mime/mime.h"

struct multi_opts {
	bool json;
	const char *files_from;
};

static int parse_opts(const char *cmd, int argc, char **argv,
		      struct multi_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "files-from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'f':
			o->files_from = optarg;
			break;
		case 'h':
			cli_help(cmd, stdout);
			return -1;
		default:
			return cli_getopt_error(cmd, c, argv, opts);
		}
	}
	if (optind >= argc && !o->files_from)
		return cli_usage(cmd, "missing FILE");
	return 0;
}

/* stdin can be read once: as one message or as the list, not both. */
static int check_stdin(const char *cmd, int nops, char **ops,
		       const struct multi_opts *o)
{
	int i, n = o->files_from && strcmp(o->files_from, "-") == 0;

	for (i = 0; i < nops; i++)
		n += strcmp(ops[i], "-") == 0;
	if (n > 1)
		return cli_usage(cmd, "stdin ('-') can be used only once");
	return 0;
}

static int show_one(const char *cmd, const char *path, cli_show_fn fn,
		    struct cli_show *show)
{
	struct mime_message *msg = NULL;
	struct pn_error err;
	int rc;

	pn_error_clear(&err);
	cli_scan_reset(show->scan);
	rc = cli_parse_message(path, cli_scan_sink(show->scan), &msg, &err);
	if (rc == 0) {
		rc = fn(show, msg, &err);
		if (rc < 0)
			pn_error_prefix(&err, "%s", path);
	}
	mime_message_free(&msg);
	if (rc < 0)
		cli_error(cmd, "%s", err.msg);
	return rc;
}

static int run(const char *cmd, struct cli_inputs *in, cli_show_fn fn,
	       const struct multi_opts *o, bool hash)
{
	struct cli_json j;
	struct cli_show show = { 0 };
	int status = CLI_OK;
	size_t i;

	cli_json_init(&j, stdout);
	show.json = o->json;
	show.tty = isatty(STDOUT_FILENO);
	show.j = &j;
	show.scan = cli_scan_new(hash);
	if (!show.scan) {
		cli_error(cmd, "out of memory");
		return CLI_FAIL;
	}
	for (i = 0; i < in->n; i++) {
		show.file = in->multi ? in->paths[i] : NULL;
		if (show_one(cmd, in->paths[i], fn, &show) < 0)
			status = CLI_FAIL;
	}
	cli_scan_free(&show.scan);
	return status;
}

int cli_multi_main(const char *cmd, int argc, char **argv, cli_show_fn fn,
		   bool hash)
{
	struct cli_inputs in;
	struct multi_opts o;
	struct pn_error err;
	int rc;

	rc = parse_opts(cmd, argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = check_stdin(cmd, argc - optind, argv + optind, &o);
	if (rc != 0)
		return rc;
	pn_error_clear(&err);
	if (cli_inputs_collect(&in, argv + optind, argc - optind,
			       o.files_from, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		cli_inputs_free(&in);
		return CLI_FAIL;
	}
	rc = run(cmd, &in, fn, &o, hash);
	cli_inputs_free(&in);
	return rc;
}
