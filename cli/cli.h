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

/* ---- help and errors (help.c) ------------------------------------------ */

/* Print the help text of cmd ("postern", "postern mime", "postern mime
 * tree" ...) to f.  Returns -1 when there is no such command. */
int cli_help(const char *cmd, FILE *f);
/* "CMD: message" on stderr, terminal-sanitised when stderr is a tty. */
void cli_error(const char *cmd, const char *fmt, ...) PN_PRINTF(2, 3);
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

#endif
