/* repl_p.h - what the files of repl/ share; nothing outside includes it. */
#ifndef REPL_P_H
#define REPL_P_H

#include "repl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct imap_response;

/* Literals above this come through the literal sink (imap/'s default
 * max_inline_literal), below it inside the response. */
#define REPL_INLINE_MAX (256 * 1024)
/* A literal shown as text when it is text and no longer than this;
 * longer or binary ones are summarised unless .show full. */
#define REPL_SHOW_MAX 4096

struct repl_lit {
	uint64_t off, len;	/* in the spool */
	bool streamed;
};

struct repl {
	struct imap_conn *c;
	const struct repl_opts *o;
	bool interactive;	/* readline on a terminal */
	bool pretty;		/* terminal output: colour, summaries */
	bool color;
	bool timing;		/* show each command's time */
	bool show_full;		/* literals in full */
	bool force_sync;	/* .literal sync */
	bool quiet;		/* an internal command: show nothing */
	bool busy;		/* a command is running (no prompt shown) */
	bool dead;		/* the connection is gone */
	bool quit;
	unsigned tagno;		/* a1, a2 ... for what the human types */
	int status;		/* the worst so far: 0, 1, 2 */
	FILE *out;
	/* the literals of the last command, for .save */
	int spool;
	uint64_t spool_end;
	struct repl_lit *lits;
	size_t nlits, litcap;
	size_t streamed_seen;	/* streamed literals already shown */
	/* mailbox names for completion (UTF-8) */
	char **boxes;
	size_t nboxes;
	bool boxes_known;
	int trace_fd;
	bool own_trace;
	double sent_ms;		/* when the running command went out */
	void *magic;		/* libmagic cookie, NULL if unavailable */
};

/* console.c */
void repl_print_async(struct repl *r, void (*fn)(struct repl *r, void *ctx),
		      void *ctx);
double repl_now_ms(void);

/* show.c: display a response (raw text, literals summarised or not). */
void repl_show_response(struct repl *r, const struct imap_response *resp,
			double elapsed_ms);
void repl_lits_reset(struct repl *r);
int repl_lit_add(struct repl *r, const char *data, size_t len,
		 bool streamed);
int repl_lit_begin_stream(struct repl *r);
int repl_lit_stream_data(struct repl *r, const char *data, size_t len);
void repl_lit_end_stream(struct repl *r);
/* The type of a literal for its summary ("base64, image/png"). */
void repl_describe(struct repl *r, const char *data, size_t len, char *out,
		   size_t outsz);
void repl_note(struct repl *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void repl_errorf(struct repl *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *repl_c(const struct repl *r, const char *code);	/* colour */

/* exec.c: run one typed line; returns 0 OK, 1 NO, 2 BAD/lost. */
int repl_exec(struct repl *r, char *line);
/* Is the typed line one that must not go into the history? */
bool repl_line_secret(const char *line);

/* dot.c: the helpers. */
int repl_dot(struct repl *r, char *line);

/* syntax.c: the commands IMAP has. */
struct repl_syntax {
	const char *name;
	const char *cap;	/* needed capability, NULL for IMAP4rev1 */
	const char *args;	/* "mailbox [(flags)] [date] literal" */
	const char *rfc;
	const char *what;
	unsigned mailbox_args;	/* bit i: argument i is a mailbox name */
	bool mailbox_last;	/* the last argument is a mailbox (COPY) */
};

const struct repl_syntax *repl_syntax_find(const char *name);
const struct repl_syntax *repl_syntax_at(size_t i);	/* NULL at end */
bool repl_syntax_offered(const struct repl *r, const struct repl_syntax *s);

/* complete.c */
void repl_complete_init(struct repl *r);
void repl_boxes_forget(struct repl *r);
void repl_boxes_free(struct repl *r);

#endif
