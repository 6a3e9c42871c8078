/* probe.c - `postern probe TARGET`: a read-only health report of an IMAP
 * server (being written; this placeholder keeps the build whole). */
#include "cli.h"

int cli_probe(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("postern probe", "not available yet");
	return CLI_FAIL;
}
