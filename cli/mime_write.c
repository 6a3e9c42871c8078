/* mime_write.c - `postern mime write`: parse a message and write it back.
 *
 * Without options the output is byte for byte the input (the writer
 * copies unmodified parts from the source), which makes this the check
 * that parsing loses nothing.  With --eol every line ending becomes CRLF
 * or LF (except inside binary parts): IMAP APPEND wants CRLF, a Maildir
 * written by hand or exported from an mbox usually has LF.
 */
#include "cli.h"

#include <string.h>

#include "../mime/mime.h"

static const char CMD[] = "postern mime write";

static int run(const char *path, const struct mime_write_opts *wo,
	       const char *out, bool force)
{
	struct mime_message *msg = NULL;
	struct pn_error err;
	int rc;

	pn_error_clear(&err);
	if (cli_parse_message(path, NULL, &msg, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		return CLI_FAIL;
	}
	rc = cli_write_message(mime_message_root(msg), wo, out, force, &err);
	mime_message_free(&msg);
	if (rc < 0) {
		cli_error(CMD, "%s", err.msg);
		return CLI_FAIL;
	}
	return cli_finish_stdout(CMD, CLI_OK);
}

static int parse_eol(const char *arg, struct mime_write_opts *wo)
{
	if (strcmp(arg, "crlf") == 0)
		wo->eol = "\r\n";
	else if (strcmp(arg, "lf") == 0)
		wo->eol = "\n";
	else
		return -1;
	return 0;
}

int cli_mime_write(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eol", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mime_write_opts wo = { NULL };
	const char *out = NULL;
	bool force = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":e:o:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (parse_eol(optarg, &wo) < 0)
				return cli_usage(CMD, "--eol takes crlf or lf, not '%s'",
						 optarg);
			break;
		case 'o':
			out = optarg;
			break;
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
	if (argc - optind < 1)
		return cli_usage(CMD, "missing FILE");
	if (argc - optind > 1)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind + 1]);
	return run(argv[optind], &wo, out, force);
}
