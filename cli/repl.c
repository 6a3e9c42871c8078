/* repl.c - `postern repl TARGET`: the raw IMAP console (repl/) over a
 * connection made the way every other command makes one.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/buf.h"
#include "../repl/repl.h"

static const char CMD[] = "postern repl";

#define MAX_COMMANDS 256

struct ctx {
	const struct cli_conn_opts *o;
	const char *target;
	struct cli_session s;
};

static int ask_secret(void *vctx, const char *prompt, struct pn_buf *out)
{
	struct pn_error err;

	(void)vctx;
	if (cli_prompt_secret(prompt, out, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int reconnect(void *vctx, struct imap_conn **conn_out)
{
	struct ctx *x = vctx;
	struct cli_session s;

	if (cli_session_open(CMD, x->o, x->target, &s) != CLI_OK)
		return -1;
	cli_session_close(&x->s);
	x->s = s;
	*conn_out = s.conn;
	return 0;
}

/* $XDG_STATE_HOME/postern/repl_history, else ~/.local/state/... */
static char *history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (state && state[0] == '/') {
		if (asprintf(&p, "%s/postern/repl_history", state) < 0)
			p = NULL;
	} else if (home && home[0]) {
		if (asprintf(&p, "%s/.local/state/postern/repl_history", home) < 0)
			p = NULL;
	}
	return p;
}

static int run(struct cli_conn_opts *o, const char *target,
	       struct repl_opts *ro)
{
	struct ctx x = { o, target, { 0 } };
	char *path;
	int rc;

	if (target && cli_target_maildir(target, &path)) {
		free(path);
		return cli_usage(CMD, "%s is a Maildir, which speaks no IMAP: use postern ls/fetch on it, or serve it with --tunnel '/usr/lib/dovecot/imap -o mail_location=maildir:PATH'",
				 target);
	}
	rc = cli_session_open(CMD, o, target, &x.s);
	if (rc != CLI_OK)
		return rc == CLI_USAGE ? rc : 2;
	ro->ask_secret = ask_secret;
	ro->reconnect = reconnect;
	ro->ctx = &x;
	ro->trace_fd = x.s.trace_fd;
	ro->history = path = history_path();
	rc = repl_run(&x.s.conn, ro);
	free(path);
	cli_session_close(&x.s);
	return rc;
}

int cli_repl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "command", required_argument, NULL, 'c' },
		{ "raw", no_argument, NULL, 'r' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "no-login", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_conn_opts o = { 0 };
	struct repl_opts ro;
	char *cmds[MAX_COMMANDS];
	const char *target;
	int c, r;

	memset(&ro, 0, sizeof(ro));
	ro.commands = cmds;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:rknh", opts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		switch (c) {
		case 'c':
			if (ro.ncommands == MAX_COMMANDS)
				return cli_usage(CMD, "more than %d -c commands; use a script on stdin",
						 MAX_COMMANDS);
			cmds[ro.ncommands++] = optarg;
			break;
		case 'r': ro.raw = true; break;
		case 'k': ro.keep_going = true; break;
		case 'n': o.no_login = true; break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if ((r = cli_one_target(CMD, &o, argc, argv, false, &target)) != CLI_OK)
		return r;
	r = run(&o, target, &ro);
	fflush(stdout);
	return r;
}
