/* console.c - the loop: readline's callback interface on a terminal, so
 * that untagged data arriving between commands (EXISTS, EXPUNGE, FETCH,
 * BYE) is shown when it arrives without breaking the line being typed;
 * a plain line reader for scripts.
 */
#include "repl_p.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "../imap/imap.h"
#include "../lib/buf.h"

#define HISTORY_MAX 2000

double repl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct repl *the_repl;	/* readline's handler takes no context */
static bool handler_on;

/* Print from outside a command without breaking the line being typed:
 * take the prompt and the typed text away, print, put them back. */
void repl_print_async(struct repl *r, void (*fn)(struct repl *r, void *ctx),
		      void *ctx)
{
	char *saved;
	int point;

	if (!r->interactive || r->busy) {
		fn(r, ctx);
		return;
	}
	saved = rl_copy_text(0, rl_end);
	point = rl_point;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	fn(r, ctx);
	rl_restore_prompt();
	rl_replace_line(saved ? saved : "", 0);
	rl_point = point;
	rl_redisplay();
	free(saved);
}

struct shown {
	const struct imap_response *resp;
};

static void show_cb(struct repl *r, void *ctx)
{
	repl_show_response(r, ((struct shown *)ctx)->resp, -1);
}

static void on_untagged(void *ctx, const struct imap_response *resp)
{
	struct repl *r = ctx;
	struct shown s = { resp };

	if (r->quiet)
		return;
	if (resp->status == IMAP_STATUS_BYE)
		r->dead = true;
	repl_print_async(r, show_cb, &s);
}

/* Large server literals stream through here into the spool. */
static int sink_begin(void *ctx, uint32_t number, const char *item,
		      uint64_t size, bool binary)
{
	(void)number;
	(void)item;
	(void)size;
	(void)binary;
	return repl_lit_begin_stream(ctx) < 0 ? -1 : 0;
}

static int sink_data(void *ctx, const char *data, size_t len)
{
	return repl_lit_stream_data(ctx, data, len) < 0 ? -1 : 0;
}

static int sink_end(void *ctx)
{
	repl_lit_end_stream(ctx);
	return 0;
}

/* Every completion, of a typed command or one postern sends for the
 * human (IDLE, AUTHENTICATE), with its time; quiet ones stay quiet. */
static void on_tagged(void *ctx, const struct imap_response *resp)
{
	struct repl *r = ctx;

	if (!r->quiet)
		repl_show_response(r, resp, repl_now_ms() - r->sent_ms);
}

static void hook(struct repl *r)
{
	struct imap_events ev = { r, on_untagged, on_tagged };
	struct imap_literal_sink sink = { r, sink_begin, sink_data, sink_end };

	imap_conn_set_events(r->c, &ev);
	imap_conn_set_literal_sink(r->c, &sink);
	imap_conn_set_tag_prefix(r->c, 'p');
}

static void worst(struct repl *r, int rc)
{
	if (rc > r->status)
		r->status = rc;
}

/* ---- history ------------------------------------------------------------ */

static void history_load(struct repl *r)
{
	char dir[4096], *slash;

	if (!r->o->history)
		return;
	snprintf(dir, sizeof(dir), "%s", r->o->history);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		/* $XDG_STATE_HOME/postern, made as mkdir -p would, private */
		for (char *p = dir + 1; *p; p++) {
			if (*p == '/') {
				*p = 0;
				mkdir(dir, 0700);
				*p = '/';
			}
		}
		mkdir(dir, 0700);
	}
	stifle_history(HISTORY_MAX);
	read_history(r->o->history);
}

static void history_save(struct repl *r)
{
	int fd;

	if (!r->o->history)
		return;
	/* created private before readline writes into it */
	fd = open(r->o->history, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd >= 0)
		close(fd);
	write_history(r->o->history);
}

/* ---- the terminal ------------------------------------------------------- */

static const char *prompt(const struct repl *r)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s%s> %s", r->color ? "\001\033[1m\002" : "",
		 r->dead ? "postern (disconnected)" : "postern",
		 r->color ? "\001\033[0m\002" : "");
	return buf;
}

static void on_line(char *line)
{
	struct repl *r = the_repl;
	struct imap_conn *before = r->c;

	if (!line) {
		r->quit = true;
		fputc('\n', stdout);
		return;
	}
	if (*line && !repl_line_secret(line))
		add_history(line);
	r->busy = true;
	/* At a terminal the status of each command is on screen; the
	 * exit status is for scripts. */
	repl_exec(r, line);
	r->busy = false;
	if (r->c != before)
		hook(r);
	free(line);
	if (!r->quit) {
		rl_set_prompt(prompt(r));
	} else {
		/* Gone before readline draws the prompt again under the
		 * shell's next output. */
		rl_callback_handler_remove();
		handler_on = false;
	}
}

static void greet(struct repl *r)
{
	const struct imap_caps *caps = imap_conn_caps(r->c);
	const char *cap;
	size_t i;

	fprintf(r->out, "%sconnected to %s%s\n%s%s\n", repl_c(r, "dim"),
		imap_conn_peer(r->c), repl_c(r, "reset"),
		imap_conn_greeting(r->c), "");
	fprintf(r->out, "%scapabilities:", repl_c(r, "dim"));
	for (i = 0; (cap = imap_caps_get(caps, i)); i++)
		fprintf(r->out, " %s", cap);
	fprintf(r->out, "%s\n%s%s; .help for the helpers, Tab completes%s\n",
		repl_c(r, "reset"), repl_c(r, "dim"),
		imap_conn_state(r->c) == IMAP_STATE_NOT_AUTHENTICATED ?
			"not logged in (login USER)" : "logged in",
		repl_c(r, "reset"));
}

static int interactive(struct repl *r)
{
	struct pn_error err;

	repl_complete_init(r);
	history_load(r);
	greet(r);
	rl_callback_handler_install(prompt(r), on_line);
	handler_on = true;
	while (!r->quit) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = r->dead ? -1 : imap_conn_fd(r->c), .events = POLLIN },
		};
		int n;

		if (!r->dead && imap_conn_buffered(r->c)) {
			if (imap_poll(r->c, 0, &err) < 0)
				r->dead = true;
			continue;
		}
		n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (imap_poll(r->c, 0, &err) < 0) {
				r->dead = true;
				repl_errorf(r, "%s", err.msg);
				repl_note(r, "the connection is gone: .reconnect or .quit");
				rl_set_prompt(prompt(r));
				rl_forced_update_display();
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP))
			rl_callback_read_char();
	}
	if (handler_on)
		rl_callback_handler_remove();
	handler_on = false;
	history_save(r);
	return r->status;
}

/* ---- scripts ------------------------------------------------------------ */

static int run_one(struct repl *r, char *line)
{
	struct imap_conn *before = r->c;
	int rc = repl_exec(r, line);

	if (r->c != before)
		hook(r);
	/* What arrived after the completion belongs to this command. */
	if (!r->dead && imap_conn_buffered(r->c)) {
		struct pn_error err;

		if (imap_poll(r->c, 0, &err) < 0)
			r->dead = true;
	}
	worst(r, rc);
	return rc;
}

/* Stop at a NO (1) unless --keep-going; at BAD or a lost connection (2)
 * unless --keep-going and the connection is still there. */
static bool stop_after(const struct repl *r, int rc)
{
	if (r->dead && rc == 2)
		return true;
	return rc && !r->o->keep_going;
}

static int script(struct repl *r)
{
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;

	if (r->o->ncommands) {
		for (i = 0; i < r->o->ncommands && !r->quit; i++) {
			char *copy = strdup(r->o->commands[i]);
			int rc;

			if (!copy)
				return 2;
			rc = run_one(r, copy);
			free(copy);
			if (stop_after(r, rc))
				break;
		}
		return r->status;
	}
	while (!r->quit && (n = getline(&line, &cap, stdin)) >= 0) {
		if (stop_after(r, run_one(r, line)))
			break;
	}
	free(line);
	return r->status;
}

int repl_run(struct imap_conn **conn, const struct repl_opts *o)
{
	struct repl r;
	const char *nc = getenv("NO_COLOR");
	int status;

	memset(&r, 0, sizeof(r));
	r.c = *conn;
	r.o = o;
	r.out = stdout;
	r.spool = -1;
	r.trace_fd = o->trace_fd;
	r.interactive = !o->ncommands && isatty(STDIN_FILENO) &&
			isatty(STDOUT_FILENO);
	r.pretty = !o->raw && isatty(STDOUT_FILENO);
	r.color = r.pretty && !(nc && nc[0]);
	r.timing = r.pretty;
	r.magic = magic_open(MAGIC_MIME_TYPE);
	if (r.magic && magic_load(r.magic, NULL) != 0) {
		magic_close(r.magic);
		r.magic = NULL;
	}
	the_repl = &r;
	hook(&r);
	status = r.interactive ? interactive(&r) : script(&r);
	if (!r.dead && imap_conn_state(r.c) != IMAP_STATE_LOGOUT) {
		struct pn_error err;

		r.quiet = true;
		if (imap_logout(r.c, &err) < 0)
			pn_error_clear(&err);
	}
	imap_conn_set_events(r.c, NULL);
	imap_conn_set_literal_sink(r.c, NULL);
	if (r.own_trace && r.trace_fd >= 0)
		close(r.trace_fd);
	if (r.spool >= 0)
		close(r.spool);
	free(r.lits);
	repl_boxes_free(&r);
	if (r.magic)
		magic_close(r.magic);
	*conn = r.c;
	return status;
}
