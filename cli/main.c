/* main.c - the postern entry point: global options and command dispatch. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Scripts pipe tree --json over whole Maildirs: a large stdout buffer
 * keeps write(2) calls few.  A terminal keeps stdio's line buffering. */
#define STDOUT_BUF_SIZE (256 * 1024)

static int cmd_help(int argc, char **argv)
{
	char cmd[256] = "postern";
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return cli_help("postern help", stdout), CLI_OK;
		if (strlen(cmd) + strlen(argv[i]) + 2 > sizeof(cmd))
			break;
		strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	if (cli_help(cmd, stdout) < 0) {
		cli_error("postern help", "unknown command '%s'",
			  cmd + strlen("postern "));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int dispatch(int argc, char **argv)
{
	if (strcmp(argv[0], "mime") == 0)
		return cli_mime(argc, argv);
	if (strcmp(argv[0], "ls") == 0)
		return cli_ls(argc, argv);
	if (strcmp(argv[0], "fetch") == 0)
		return cli_fetch(argc, argv);
	if (strcmp(argv[0], "append") == 0)
		return cli_append(argc, argv);
	if (strcmp(argv[0], "copy") == 0)
		return cli_copy(argc, argv);
	if (strcmp(argv[0], "repl") == 0)
		return cli_repl(argc, argv);
	if (strcmp(argv[0], "probe") == 0)
		return cli_probe(argc, argv);
	if (strcmp(argv[0], "accounts") == 0)
		return cli_accounts(argc, argv);
	if (strcmp(argv[0], "help") == 0)
		return cmd_help(argc, argv);
	return cli_usage("postern", "unknown command '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* Static because stdio uses it until exit, after main returns. */
	static char outbuf[STDOUT_BUF_SIZE];
	int c, status;

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	opterr = 0;
	/* '+': stop at the command word; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_help("postern", stdout);
			return cli_finish_stdout("postern", CLI_OK);
		case 'V':
			printf("postern %s\n", CLI_VERSION);
			return cli_finish_stdout("postern", CLI_OK);
		default:
			return cli_getopt_error("postern", c, argv, opts);
		}
	}
	if (optind >= argc)
		return cli_usage("postern", "missing command");
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: re-initialise for the command's parse */
	status = dispatch(argc, argv);
	return cli_finish_stdout("postern", status);
}
