/* mime_cmd.c - `postern mime SUBCOMMAND`: pick the subcommand. */
#include "cli.h"

#include <string.h>

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{ "tree", cli_mime_tree },
	{ "body", cli_mime_body },
	{ "attachments", cli_mime_attachments },
	{ "extract", cli_mime_extract },
	{ "compose", cli_mime_compose },
	{ "cat", cli_mime_cat },
	{ "write", cli_mime_write },
};

int cli_mime(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_getopt_error("postern mime", c, argv, opts);
		cli_help("postern mime", stdout);
		return CLI_OK;
	}
	if (optind >= argc)
		return cli_usage("postern mime", "missing subcommand");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[optind], subcommands[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 0;
			return subcommands[i].fn(argc, argv);
		}
	}
	return cli_usage("postern mime", "unknown subcommand '%s'",
			 argv[optind]);
}
