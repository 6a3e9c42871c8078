/* repl.h - `postern repl`: a console for raw IMAP, built for debugging
 * servers.
 *
 * A human types commands without tags; the console numbers them, turns
 * {file:PATH} and <PATH into literals with the right byte count, shows
 * untagged data as it arrives without breaking the input line, and the
 * tagged completion with its time.  Lines starting with '.' are helpers
 * that never reach the server (.help, .caps, .trace, .tls ...).  Without a
 * terminal (or with commands given on the command line) it runs as a
 * script: responses on stdout, exit status 0 when every command ended OK,
 * 1 on NO, 2 on BAD or a lost connection.
 *
 * repl/ sees only imap/ and lib/; the CLI hands it a connection and the
 * few things only the CLI knows how to do (ask for a password, connect
 * again).
 */
#ifndef REPL_H
#define REPL_H

#include <stdbool.h>
#include <stddef.h>

struct imap_conn;
struct pn_buf;

struct repl_opts {
	bool raw;		/* the wire text exactly: no colour, no
				   summaries, no timings */
	bool keep_going;	/* scripts: go on after NO and BAD */
	char *const *commands;	/* -c: run these and stop */
	size_t ncommands;
	const char *history;	/* history file, NULL for none */
	/* Read a secret on the terminal without echo into out (0), or -1
	 * with a message on stderr. */
	int (*ask_secret)(void *ctx, const char *prompt, struct pn_buf *out);
	/* Connect (and log in) again: 0 with *conn_out, or -1 after
	 * printing why.  The old connection is the callback's to close. */
	int (*reconnect)(void *ctx, struct imap_conn **conn_out);
	void *ctx;
	int trace_fd;		/* the --trace already on the connection, or -1 */
};

/* Run the console (a terminal on stdin and stdout, no commands given) or
 * the script (otherwise) over conn.  Returns the exit status.  The
 * connection stays the caller's; after .reconnect it is the one the
 * callback returned, stored back in *conn. */
int repl_run(struct imap_conn **conn, const struct repl_opts *o);

#endif
