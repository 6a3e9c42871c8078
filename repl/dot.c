/* dot.c - the helpers: lines starting with '.' never reach the server. */
#include "repl_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/safefile.h"

static const struct {
	const char *name, *args, *what;
} helpers[] = {
	{ ".help", "[COMMAND]", "this list, or the syntax of an IMAP command" },
	{ ".caps", "", "the server's capabilities, as postern last learned them" },
	{ ".trace", "on | off | FILE", "the redacted wire trace (timestamps, both directions) on stderr or appended to FILE" },
	{ ".timing", "[on | off]", "connect times; on/off: each command's time after its completion" },
	{ ".save", "FILE [N]", "write the last command's literal (the Nth, else the largest) to FILE (never replaced)" },
	{ ".show", "full | summary", "literals in full, or binary and long ones summarised" },
	{ ".literal", "sync | auto", "synchronising literals always, or LITERAL+ / LITERAL- when offered" },
	{ ".tls", "", "the TLS version, cipher and certificate chain of this connection" },
	{ ".reconnect", "", "connect (and log in) again" },
	{ ".quit", "", "leave (also Ctrl-D); LOGOUT is sent" },
};

static void help_list(struct repl *r)
{
	size_t i;

	fprintf(r->out, "Type IMAP commands without tags: select INBOX, uid fetch 1:* (flags).\n"
			"Literals: {file:PATH} or <PATH sends a file, ~{file:PATH} as BINARY,\n"
			"{<<END} the lines you type up to END.  login USER asks for the password.\n"
			"Tab completes commands, mailboxes, fetch items, flags and search keys.\n\n");
	for (i = 0; i < sizeof(helpers) / sizeof(*helpers); i++)
		fprintf(r->out, "  %-10s %-16s %s\n", helpers[i].name,
			helpers[i].args, helpers[i].what);
	fprintf(r->out, "\n.help COMMAND explains an IMAP command (.help fetch).\n");
}

static int help(struct repl *r, const char *arg)
{
	const struct repl_syntax *s;

	if (!*arg) {
		help_list(r);
		return 0;
	}
	s = repl_syntax_find(arg);
	if (!s) {
		repl_errorf(r, ".help: no IMAP command '%s' (.help lists the helpers)",
			    arg);
		return 2;
	}
	fprintf(r->out, "%s%s %s%s\n  %s\n  %s%s%s%s\n", repl_c(r, "bold"),
		s->name, s->args, repl_c(r, "reset"), s->what, s->rfc,
		s->cap ? "; needs " : "", s->cap ? s->cap : "",
		s->cap && !repl_syntax_offered(r, s) ?
			" (this server does not offer it)" : "");
	return 0;
}

static int caps(struct repl *r)
{
	const struct imap_caps *c = imap_conn_caps(r->c);
	const char *cap;
	size_t i;

	for (i = 0; (cap = imap_caps_get(c, i)); i++)
		fprintf(r->out, "%s%s", i ? " " : "", cap);
	fputc('\n', r->out);
	return 0;
}

static int trace(struct repl *r, const char *arg)
{
	int fd;

	if (r->own_trace && r->trace_fd >= 0)
		close(r->trace_fd);
	r->own_trace = false;
	if (!strcasecmp(arg, "off") || !*arg) {
		r->trace_fd = -1;
		imap_conn_set_trace(r->c, -1);
		repl_note(r, "trace off");
		return 0;
	}
	if (!strcasecmp(arg, "on")) {
		r->trace_fd = STDERR_FILENO;
		imap_conn_set_trace(r->c, STDERR_FILENO);
		repl_note(r, "trace on stderr (passwords redacted)");
		return 0;
	}
	fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		repl_errorf(r, ".trace %s: %s", arg, strerror(errno));
		return 2;
	}
	r->trace_fd = fd;
	r->own_trace = true;
	imap_conn_set_trace(r->c, fd);
	repl_note(r, "trace appended to %s (passwords redacted)", arg);
	return 0;
}

static int timing(struct repl *r, const char *arg)
{
	double tcp = 0, tls = 0;

	if (!strcasecmp(arg, "on"))
		r->timing = true;
	else if (!strcasecmp(arg, "off"))
		r->timing = false;
	imap_conn_timings(r->c, &tcp, &tls);
	fprintf(r->out, "connect %.1f ms, TLS %.1f ms; command times %s\n",
		tcp, tls, r->timing ? "shown" : "hidden");
	return 0;
}

static int save(struct repl *r, char *arg)
{
	char *space = strchr(arg, ' ');
	struct pn_atomic_file af;
	struct pn_error err;
	const struct repl_lit *l = NULL;
	char buf[65536];
	uint64_t done = 0;
	size_t i;
	long n = 0;
	char *slash;
	int dfd;

	if (space) {
		*space = 0;
		n = atol(space + 1);
	}
	if (!*arg) {
		repl_errorf(r, ".save FILE [N]: the file is missing");
		return 2;
	}
	if (r->nlits == 0) {
		repl_errorf(r, ".save: the last command brought no literal");
		return 1;
	}
	if (n > 0 && (size_t)n <= r->nlits) {
		l = &r->lits[n - 1];
	} else if (n) {
		repl_errorf(r, ".save: there are %zu literals, not %ld", r->nlits, n);
		return 1;
	} else {
		for (i = 0; i < r->nlits; i++) {
			if (!l || r->lits[i].len > l->len)
				l = &r->lits[i];
		}
	}
	/* The atomic writer takes a directory (kept open until the commit)
	 * and a plain name. */
	slash = strrchr(arg, '/');
	if (slash) {
		*slash = 0;
		dfd = open(arg[0] ? arg : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
	} else {
		dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0) {
		repl_errorf(r, ".save %s: %s", arg, strerror(errno));
		return 2;
	}
	if (pn_atomic_open(&af, dfd, slash ? slash + 1 : arg, false, &err) < 0) {
		close(dfd);
		repl_errorf(r, ".save %s: %s", arg, err.msg);
		return 2;
	}
	while (done < l->len) {
		size_t want = l->len - done < sizeof(buf) ?
			(size_t)(l->len - done) : sizeof(buf);
		ssize_t k = pread(r->spool, buf, want, (off_t)(l->off + done));

		if (k <= 0 || pn_write_all(af.fd, buf, (size_t)k) < 0) {
			repl_errorf(r, ".save %s: %s", arg, strerror(errno));
			pn_atomic_abort(&af);
			close(dfd);
			return 2;
		}
		done += (uint64_t)k;
	}
	if (pn_atomic_commit(&af, &err) < 0) {
		repl_errorf(r, ".save %s: %s", arg,
			    err.code == PN_EEXIST ? "exists; not replaced" : err.msg);
		pn_atomic_abort(&af);
		close(dfd);
		return 2;
	}
	pn_atomic_abort(&af);
	close(dfd);
	repl_note(r, "wrote %s (%llu bytes)", arg, (unsigned long long)l->len);
	return 0;
}

static int tls(struct repl *r)
{
	const struct imap_tls_info *t = imap_conn_tls_info(r->c);

	if (!t) {
		fprintf(r->out, "no TLS on this connection (%s)\n",
			imap_conn_encrypted(r->c) ? "a tunnel" : "plaintext");
		return 0;
	}
	fprintf(r->out, "%s, %s\nsubject  %s\nissuer   %s\nexpires  %s\nverified %s\nchain:\n%s%s",
		t->version, t->cipher, t->subject, t->issuer, t->not_after,
		t->verified ? "yes (chain and host name)" : "NO (--insecure)",
		t->chain, t->chain[0] && t->chain[strlen(t->chain) - 1] != '\n' ?
			"\n" : "");
	return 0;
}

static int reconnect(struct repl *r)
{
	struct imap_conn *c;

	if (!r->o->reconnect) {
		repl_errorf(r, ".reconnect: not available here");
		return 2;
	}
	if (r->o->reconnect(r->o->ctx, &c) < 0)
		return 2;
	r->c = c;
	r->dead = false;
	repl_boxes_forget(r);
	if (r->trace_fd >= 0)
		imap_conn_set_trace(c, r->trace_fd);
	repl_note(r, "connected again: %s", imap_conn_greeting(c));
	return 0;	/* repl_run sees the new connection and hooks into it */
}

int repl_dot(struct repl *r, char *line)
{
	char *arg = line + strcspn(line, " \t");
	size_t n = (size_t)(arg - line);

	while (*arg == ' ' || *arg == '\t')
		*arg++ = 0;
	line[n] = 0;
	if (!strcmp(line, ".help") || !strcmp(line, ".h") || !strcmp(line, ".?"))
		return help(r, arg);
	if (!strcmp(line, ".caps"))
		return caps(r);
	if (!strcmp(line, ".trace"))
		return trace(r, arg);
	if (!strcmp(line, ".timing"))
		return timing(r, arg);
	if (!strcmp(line, ".save"))
		return save(r, arg);
	if (!strcmp(line, ".show")) {
		if (!strcasecmp(arg, "full"))
			r->show_full = true;
		else if (!strcasecmp(arg, "summary") || !*arg)
			r->show_full = false;
		else
			return repl_errorf(r, ".show full | summary"), 2;
		repl_note(r, "literals shown %s", r->show_full ? "in full" :
			  "summarised when binary or long");
		return 0;
	}
	if (!strcmp(line, ".literal")) {
		if (!strcasecmp(arg, "sync"))
			r->force_sync = true;
		else if (!strcasecmp(arg, "auto") || !*arg)
			r->force_sync = false;
		else
			return repl_errorf(r, ".literal sync | auto"), 2;
		repl_note(r, "literals %s", r->force_sync ?
			  "synchronising (wait for +)" :
			  "LITERAL+ / LITERAL- when offered");
		return 0;
	}
	if (!strcmp(line, ".tls"))
		return tls(r);
	if (!strcmp(line, ".reconnect"))
		return reconnect(r);
	if (!strcmp(line, ".quit") || !strcmp(line, ".exit") ||
	    !strcmp(line, ".q")) {
		r->quit = true;
		return 0;
	}
	repl_errorf(r, "%s: no such helper (.help lists them)", line);
	return 2;
}
