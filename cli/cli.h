/* cli.h - the command-line front end: dispatch, usage, output helpers.
 *
 * Every command is a function taking its own argc/argv (argv[0] is the
 * command word) and returning the process exit status: 0 success, 1 a
 * runtime failure (the message is already on stderr), 2 a usage error.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/error.h"

struct mime_part;
struct mime_message;
struct mime_leaf_sink;

#define CLI_VERSION "0.1.0"

enum cli_status {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
};

/* ---- commands (each returns an exit status) ---------------------------- */

int cli_mime(int argc, char **argv);
int cli_mime_tree(int argc, char **argv);
int cli_mime_body(int argc, char **argv);
int cli_mime_attachments(int argc, char **argv);
int cli_mime_extract(int argc, char **argv);
int cli_mime_compose(int argc, char **argv);
int cli_mime_cat(int argc, char **argv);
int cli_mime_write(int argc, char **argv);
int cli_ls(int argc, char **argv);
int cli_fetch(int argc, char **argv);
int cli_append(int argc, char **argv);
int cli_copy(int argc, char **argv);
int cli_repl(int argc, char **argv);
int cli_probe(int argc, char **argv);
int cli_accounts(int argc, char **argv);

/* ---- help and errors (help.c) ------------------------------------------ */

/* Print the help text of cmd ("postern", "postern mime", "postern mime
 * tree" ...) to f.  Returns -1 when there is no such command. */
int cli_help(const char *cmd, FILE *f);
/* "CMD: message" on stderr, terminal-sanitised when stderr is a tty. */
void cli_error(const char *cmd, const char *fmt, ...) PN_PRINTF(2, 3);
/* From now on also copy each cli_error/cli_usage message (without "CMD: ")
 * into err, NULL to stop: postern probe --json names the failure in its
 * output. */
void cli_error_tap(struct pn_error *err);
/* "CMD: message (try 'CMD --help')" on stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) PN_PRINTF(2, 3);
/* Report what getopt_long returned as '?' or ':' (opterr must be 0 and
 * optstring must start with ':' or "+:").  Returns CLI_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv,
		     const struct option *longopts);

/* ---- output (help.c) --------------------------------------------------- */

/* Write len bytes that came from mail to f: as they are, or through
 * pn_sanitize_term when tty is true (flags as for pn_sanitize_term). */
void cli_put(FILE *f, bool tty, const char *s, size_t len, unsigned flags);
void cli_puts(FILE *f, bool tty, const char *s);
/* Flush stdout and report a write error (full disk, closed pipe).
 * Returns status, or CLI_FAIL when the flush failed. */
int cli_finish_stdout(const char *cmd, int status);

/* ---- JSON (json.c) ----------------------------------------------------- */

#define CLI_JSON_MAX_DEPTH 16

/* A compact JSON writer.  Strings are escaped so that the output is valid
 * UTF-8 JSON whatever the input: control characters (C0, DEL, C1) and
 * U+2028/U+2029 as \uXXXX, invalid UTF-8 bytes as U+FFFD. */
struct cli_json {
	FILE *out;
	unsigned depth;
	bool after_key;
	bool need_comma[CLI_JSON_MAX_DEPTH];
};

void cli_json_init(struct cli_json *j, FILE *out);
void cli_json_obj_begin(struct cli_json *j);
void cli_json_obj_end(struct cli_json *j);
void cli_json_arr_begin(struct cli_json *j);
void cli_json_arr_end(struct cli_json *j);
void cli_json_key(struct cli_json *j, const char *key);
/* NULL writes null. */
void cli_json_str(struct cli_json *j, const char *s);
void cli_json_strn(struct cli_json *j, const char *s, size_t len);
void cli_json_u64(struct cli_json *j, uint64_t v);
void cli_json_bool(struct cli_json *j, bool v);
/* With decimals digits after the point; NaN and infinities write null. */
void cli_json_double(struct cli_json *j, double v, int decimals);
void cli_json_null(struct cli_json *j);
/* End of one JSON Lines record. */
void cli_json_newline(struct cli_json *j);

/* ---- inputs (inputs.c) ------------------------------------------------- */

/* The messages a tree/attachments run reads: the FILE operands, with a
 * Maildir folder expanded to the files in its cur/ and new/ (sorted by
 * name), plus the lines of --files-from.  "-" is stdin. */
struct cli_inputs {
	char **paths;		/* malloc'd strings */
	size_t n, cap;
	bool multi;		/* more than one message may come: label them */
};

int cli_inputs_collect(struct cli_inputs *in, char **ops, int nops,
		       const char *files_from, struct pn_error *err) PN_WUR;
void cli_inputs_free(struct cli_inputs *in);

struct pn_buf;
/* Read fd to its end into b (whose max applies). */
int cli_read_fd(int fd, struct pn_buf *b, struct pn_error *err) PN_WUR;

/* Parse path ("-" is stdin) with sink (may be NULL); on failure err is
 * prefixed with the path. */
int cli_parse_message(const char *path, const struct mime_leaf_sink *sink,
		      struct mime_message **msg_out,
		      struct pn_error *err) PN_WUR;

/* ---- writing messages (output.c) --------------------------------------- */

struct mime_write_opts;
/* Write the message under root to out ("-" or NULL: stdout) through
 * mime_write: atomically (temporary file, fsync, link into place), never
 * replacing an existing out unless force. */
int cli_write_message(struct mime_part *root,
		      const struct mime_write_opts *opts, const char *out,
		      bool force, struct pn_error *err) PN_WUR;

/* ---- the tree/attachments driver (multi.c) ---------------------------- */

/* What a per-message printer gets.  file is the path to label the output
 * with, NULL when only one message was asked for. */
struct cli_show {
	const char *file;
	bool json;
	bool tty;		/* stdout is a terminal: sanitise mail text */
	struct cli_json *j;
	struct cli_scan *scan;
};

/* Print msg; -1 with err set if it cannot be (nothing printed then). */
typedef int (*cli_show_fn)(const struct cli_show *show,
			   struct mime_message *msg, struct pn_error *err);

/* Parse the options shared by tree and attachments ([--json]
 * [--files-from LIST] FILE...), then parse and show every message, one
 * error line per message that fails.  hash: compute SHA-256 of leaves. */
int cli_multi_main(const char *cmd, int argc, char **argv, cli_show_fn fn,
		   bool hash);

/* ---- one-pass leaf scan (scan.c) --------------------------------------- */

/* Size and SHA-256 of every leaf's transfer-decoded bytes, computed by a
 * leaf sink while the parser streams the message, so the input is read
 * once.  A leaf the sink did not see is decoded again on demand. */
struct cli_leaf {
	const struct mime_part *part;
	uint64_t size;
	unsigned char sha256[32];
	bool bad_encoding;	/* the transfer decoder met malformed input */
};

struct cli_scan;

struct cli_scan *cli_scan_new(bool hash);
void cli_scan_free(struct cli_scan **s);
/* Forget the leaves of the previous message. */
void cli_scan_reset(struct cli_scan *s);
const struct mime_leaf_sink *cli_scan_sink(struct cli_scan *s);
/* Size (and digest when hashing) of leaf part; -1 with err set when it
 * cannot be decoded. */
int cli_scan_get(struct cli_scan *s, struct mime_part *part,
		 struct cli_leaf *out, struct pn_error *err) PN_WUR;
/* The parts a tree/attachments run prints, with their leaf data, all
 * gathered before anything is printed so that a message failing half-way
 * prints nothing but its error line. */
struct cli_row {
	struct mime_part *part;
	bool leaf;
	struct cli_leaf info;	/* valid when leaf */
};

struct cli_rows {
	struct cli_row *v;
	size_t n, cap;
	struct cli_scan *scan;
	struct pn_error *err;
};

/* A mime_part_fn (ctx is a struct cli_rows): append part and, for a leaf,
 * its size and digest.  -1 with rows->err set on failure. */
int cli_rows_add(struct mime_part *part, void *ctx);
void cli_rows_free(struct cli_rows *rows);

/* A leaf for tree/attachments: neither a multipart nor a parsed
 * message/rfc822. */
bool cli_part_is_leaf(const struct mime_part *part);
/* Section for display: "" for the root becomes NULL. */
const char *cli_section(const struct mime_part *part, char *buf, size_t sz);

/* ---- accounts (config.c) ---------------------------------------------- */

/* One [account NAME] section of the config file (see postern-config(5)).
 * Strings are malloc'd and NULL when the key is absent. */
struct cli_account {
	char *name;
	long line;		/* of the [account NAME] header */
	char *host;
	unsigned port;		/* 0: the TLS mode's default */
	int tls;		/* enum imap_tls_mode; IMAP_TLS_DEFAULT if unset */
	char *user;
	char *auth;		/* lower case mechanism or "auto" */
	char *password_command;	/* as written */
	char **password_argv;	/* split, NULL-terminated */
	bool netrc;
	char *password;		/* only with a warning; see the man page */
	char *cafile, *capath, *client_cert, *client_key;
	char *tunnel;
	char *mailbox;		/* default mailbox for fetch */
	bool allow_plaintext;
	bool compress;
};

struct cli_config {
	char *path;
	bool found;		/* false: no file (not an error) */
	struct cli_account *acc;
	size_t n;
};

/* $XDG_CONFIG_HOME/postern/config, else ~/.config/postern/config. */
int cli_config_path(char *buf, size_t sz, struct pn_error *err) PN_WUR;
/* Read and validate path.  A missing file gives found = false.  Errors
 * are "PATH:LINE: what" ; warnings (group/world readable, a stored
 * password) go to stderr prefixed with cmd. */
int cli_config_load(const char *cmd, const char *path, struct cli_config *cfg,
		    struct pn_error *err) PN_WUR;
const struct cli_account *cli_config_find(const struct cli_config *cfg,
					  const char *name);
void cli_config_free(struct cli_config *cfg);

/* Split s into words the way a shell would split a plain command line,
 * without running one: blanks separate words, '...' is literal, "..."
 * allows \\" and \\\\, a backslash outside quotes escapes the next
 * character.  Nothing is expanded.  *argv_out is NULL-terminated; free
 * with cli_argv_free. */
int cli_split_words(const char *s, char ***argv_out, struct pn_error *err) PN_WUR;
void cli_argv_free(char ***argv);

/* Look host (and user, when not NULL) up in ~/.netrc ($NETRC overrides
 * the path).  0 with *password_out malloc'd (and *login_out when the
 * entry has one), or 0 with *password_out NULL when there is no entry;
 * -1 on a read or syntax error. */
int cli_netrc_lookup(const char *host, const char *user, char **login_out,
		     char **password_out, struct pn_error *err) PN_WUR;

/* ---- targets and connections (target.c) ------------------------------- */

struct imap_conn;

/* Options every IMAP command takes (long only). */
enum cli_conn_optcode {
	CLI_OPT_TUNNEL = 1000,
	CLI_OPT_TLS,
	CLI_OPT_CAFILE,
	CLI_OPT_CAPATH,
	CLI_OPT_INSECURE,
	CLI_OPT_ALLOW_PLAINTEXT,
	CLI_OPT_USER,
	CLI_OPT_AUTH,
	CLI_OPT_TRACE,
	CLI_OPT_TIMEOUT,
	CLI_OPT_NETRC,
};

#define CLI_CONN_LONGOPTS \
	{ "tunnel", required_argument, NULL, CLI_OPT_TUNNEL }, \
	{ "tls", required_argument, NULL, CLI_OPT_TLS }, \
	{ "cafile", required_argument, NULL, CLI_OPT_CAFILE }, \
	{ "capath", required_argument, NULL, CLI_OPT_CAPATH }, \
	{ "insecure", no_argument, NULL, CLI_OPT_INSECURE }, \
	{ "allow-plaintext", no_argument, NULL, CLI_OPT_ALLOW_PLAINTEXT }, \
	{ "user", required_argument, NULL, CLI_OPT_USER }, \
	{ "auth", required_argument, NULL, CLI_OPT_AUTH }, \
	{ "trace", required_argument, NULL, CLI_OPT_TRACE }, \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT }, \
	{ "netrc", no_argument, NULL, CLI_OPT_NETRC }

struct cli_conn_opts {
	const char *tunnel, *tls, *cafile, *capath, *user, *auth, *trace;
	bool insecure, allow_plaintext, netrc;
	unsigned timeout_s;	/* 0: the library's defaults */
	bool no_login;		/* connect only (the REPL's --no-login) */
	/* Called once connected, before logging in (postern probe notes
	 * what was offered to an anonymous client); may be NULL. */
	void (*before_login)(void *ctx, struct imap_conn *conn);
	void *before_login_ctx;
};

/* Handle one getopt result c if it is a connection option: returns 1
 * when handled, 0 when c is not one, CLI_USAGE (after printing) for a
 * bad value. */
int cli_conn_opt(const char *cmd, struct cli_conn_opts *o, int c,
		 const char *arg);

/* An open, logged-in connection and what the TARGET said besides. */
struct cli_session {
	struct imap_conn *conn;
	char *mailbox;		/* URL path or account's mailbox, or NULL */
	char *url_uid;		/* URL ;UID=, or NULL */
	char *url_section;	/* URL ;SECTION=, or NULL */
	int trace_fd;
};

/* Resolve target (NULL with --tunnel), connect and log in.  Prints the
 * error itself (prefixed with cmd) and returns CLI_FAIL or CLI_USAGE;
 * CLI_OK with *s filled. */
int cli_session_open(const char *cmd, const struct cli_conn_opts *o,
		     const char *target, struct cli_session *s);
/* LOGOUT (errors ignored: the work is done), close, free. */
void cli_session_close(struct cli_session *s);

/* The single TARGET operand after the options (none with --tunnel) of
 * ls, repl and probe: CLI_OK with *target_out (NULL with --tunnel), else
 * the usage error printed.  maildir: the message offers a Maildir too. */
int cli_one_target(const char *cmd, const struct cli_conn_opts *o, int argc,
		   char **argv, bool maildir, const char **target_out);

struct pn_buf;
/* Ask on /dev/tty with echo off (the terminal restored on a signal);
 * out should be a secret buffer (pn_buf_init_secret). */
int cli_prompt_secret(const char *prompt, struct pn_buf *out,
		      struct pn_error *err) PN_WUR;

/* ---- targets as stores (store_target.c) -------------------------------- */

struct store;

/* Is target a Maildir ("maildir:PATH", a path, or a directory with
 * cur/)?  *path_out (malloc'd) is its directory, ~ expanded. */
bool cli_target_maildir(const char *target, char **path_out);

/* An open store and, for IMAP, what the TARGET said besides (the
 * session's mailbox, ;UID= and ;SECTION=; its conn belongs to the store). */
struct cli_store {
	struct store *store;
	struct cli_session session;
	bool maildir;
};

/* Open target (NULL with --tunnel) as a store: a Maildir (connection
 * options refused), else an IMAP session.  Prints errors itself; returns
 * CLI_OK, CLI_FAIL or CLI_USAGE. */
int cli_store_open(const char *cmd, const struct cli_conn_opts *o,
		   const char *target, bool read_only, struct cli_store *cs);
void cli_store_close(struct cli_store *cs);

#endif
