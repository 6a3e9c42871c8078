/* exec.c - from a typed line to a command on the wire.
 *
 * The line is sent as typed, with what a human should not have to do
 * done for them: a tag (a1, a2 ... unless one was typed), literals from
 * files ({file:PATH}, ~{file:PATH} for BINARY, or a word <PATH) and typed
 * ones ({<<END}: the lines up to END), the byte counts, synchronising or
 * LITERAL+ as the server allows, and mailbox names in modified UTF-7.
 * login USER asks for the password; authenticate MECH runs the SASL
 * exchange; idle waits for pushes until Enter.
 */
#include "repl_p.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/buf.h"

#define MAX_LITS 16

/* ---- words ------------------------------------------------------------ */

/* The next word of s (an atom, a "quoted string" or a (list) counts as
 * one), as [*start, *end). */
static const char *next_word(const char *s, const char **start)
{
	int depth = 0;
	bool quoted = false;

	while (*s == ' ' || *s == '\t')
		s++;
	*start = s;
	for (; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = false;
			continue;
		}
		if (*s == '"')
			quoted = true;
		else if (*s == '(' || *s == '[')
			depth++;
		else if ((*s == ')' || *s == ']') && depth > 0)
			depth--;
		else if ((*s == ' ' || *s == '\t') && depth == 0)
			break;
	}
	return s;
}

static bool word_is(const char *s, const char *e, const char *w)
{
	return (size_t)(e - s) == strlen(w) && strncasecmp(s, w, strlen(w)) == 0;
}

bool repl_line_secret(const char *line)
{
	const char *s, *e = next_word(line, &s);

	if (word_is(s, e, "LOGIN") || word_is(s, e, "AUTHENTICATE"))
		return true;
	/* a typed tag first */
	e = next_word(e, &s);
	return word_is(s, e, "LOGIN") || word_is(s, e, "AUTHENTICATE");
}

/* ---- mailbox names --------------------------------------------------- */

static bool is_ascii(const char *s, const char *e)
{
	for (; s < e; s++) {
		if ((unsigned char)*s >= 0x80)
			return false;
	}
	return true;
}

/* A typed mailbox word (quoted or not) as it goes on the wire: UTF-8
 * becomes modified UTF-7 unless UTF8=ACCEPT is on, quoted when needed. */
static int wire_mailbox(const char *s, const char *e, struct pn_buf *out)
{
	struct pn_buf name, enc;
	bool quoted = e - s >= 2 && *s == '"' && e[-1] == '"';
	const char *p;
	int rc = 0;

	if (is_ascii(s, e))
		return pn_buf_add(out, s, (size_t)(e - s));
	pn_buf_init(&name, 0);
	pn_buf_init(&enc, 0);
	if (quoted) {
		for (p = s + 1; p < e - 1 && rc == 0; p++) {
			if (*p == '\\' && p + 1 < e - 1)
				p++;
			rc = pn_buf_addc(&name, *p);
		}
	} else {
		rc = pn_buf_add(&name, s, (size_t)(e - s));
	}
	if (rc == 0)
		rc = imap_utf7_encode(name.data ? name.data : "", name.len, &enc,
				      NULL);
	if (rc == 0 && strpbrk(enc.data ? enc.data : "", " ()%*\"\\{"))
		rc = pn_buf_printf(out, "\"%s\"", enc.data);
	else if (rc == 0)
		rc = pn_buf_add(out, enc.data ? enc.data : "", enc.len);
	pn_buf_free(&name);
	pn_buf_free(&enc);
	return rc;
}

/* The arguments after the command word with mailbox names converted. */
static int convert_args(struct repl *r, const struct repl_syntax *syn,
			const char *args, struct pn_buf *out)
{
	const char *s, *e, *p = args;
	size_t i = 0, nwords = 0;

	if (!syn || (!syn->mailbox_args && !syn->mailbox_last) ||
	    imap_caps_has(imap_conn_caps(r->c), "UTF8=ACCEPT"))
		return pn_buf_adds(out, args);
	for (p = args; (e = next_word(p, &s)) && s < e; p = e)
		nwords++;
	/* UID takes a mailbox last only as UID COPY and UID MOVE (a UID
	 * SEARCH's last word is a search string). */
	if (!strcasecmp(syn->name, "UID")) {
		e = next_word(args, &s);
		if (!word_is(s, e, "COPY") && !word_is(s, e, "MOVE"))
			return pn_buf_adds(out, args);
	}
	for (p = args; *p;) {
		e = next_word(p, &s);
		if (pn_buf_add(out, p, (size_t)(s - p)) < 0)
			return -1;
		if (s == e)
			break;
		if ((syn->mailbox_args & (1u << i)) ||
		    (syn->mailbox_last && i + 1 == nwords && i > 0)) {
			if (wire_mailbox(s, e, out) < 0)
				return -1;
		} else if (pn_buf_add(out, s, (size_t)(e - s)) < 0) {
			return -1;
		}
		i++;
		p = e;
	}
	return 0;
}

/* ---- literals ----------------------------------------------------------- */

struct piece {
	const char *text;	/* text before the literal (not trimmed) */
	size_t len;
	int fd;			/* a file literal, or -1 */
	char *data;		/* a typed literal */
	uint64_t size;
	bool binary;
};

struct parsed {
	struct piece p[MAX_LITS + 1];
	size_t n;
	const char *tail;	/* text after the last literal */
};

static void parsed_free(struct parsed *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		if (ps->p[i].fd >= 0)
			close(ps->p[i].fd);
		free(ps->p[i].data);
	}
	ps->n = 0;
}

static int open_literal(struct repl *r, const char *path, struct piece *pc)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		repl_errorf(r, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		repl_errorf(r, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	pc->fd = fd;
	pc->size = (uint64_t)st.st_size;
	return 0;
}

/* Lines up to one that is exactly word, joined with CRLF (none after
 * the last): from the script, or typed at a "> " prompt. */
static char *read_heredoc(struct repl *r, FILE *in, const char *word,
			  uint64_t *size)
{
	struct pn_buf b;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true;

	pn_buf_init(&b, 0);
	for (;;) {
		if (r->interactive) {
			fputs("> ", stdout);
			fflush(stdout);
		}
		n = getline(&line, &cap, in);
		if (n < 0) {
			repl_errorf(r, "literal: input ended before '%s'", word);
			free(line);
			pn_buf_free(&b);
			return NULL;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (strcmp(line, word) == 0)
			break;
		/* joined with CRLF, none after the last line: a password
		 * sent this way must not end in one */
		if ((!first && pn_buf_add(&b, "\r\n", 2) < 0) ||
		    pn_buf_add(&b, line, (size_t)n) < 0) {
			free(line);
			pn_buf_free(&b);
			return NULL;
		}
		first = false;
	}
	free(line);
	*size = b.len;
	return b.data ? pn_buf_take(&b, NULL) : strdup("");
}

/* Split args at the literals they name. */
static int parse_literals(struct repl *r, const char *args, FILE *in,
			  struct parsed *ps)
{
	const char *p = args, *s, *e, *mark = args;
	char path[4096];

	memset(ps, 0, sizeof(*ps));
	while (*p) {
		struct piece *pc;
		bool binary = false;
		size_t plen;

		e = next_word(p, &s);
		if (s == e)
			break;
		p = e;
		if (*s == '~' && s[1] == '{')
			binary = true;
		if (!((binary || *s == '{') && e[-1] == '}' &&
		      (!strncmp(s + binary, "{file:", 6) ||
		       !strncmp(s + binary, "{<<", 3))) &&
		    !(*s == '<' && e - s > 1 && s[1] != '<'))
			continue;
		if (ps->n == MAX_LITS) {
			repl_errorf(r, "more than %d literals in one command",
				    MAX_LITS);
			return -1;
		}
		pc = &ps->p[ps->n];
		pc->text = mark;
		pc->len = (size_t)(s - mark);
		pc->fd = -1;
		pc->binary = binary;
		ps->n++;
		if (*s == '<') {
			plen = (size_t)(e - s - 1);
			snprintf(path, sizeof(path), "%.*s", (int)plen, s + 1);
			if (open_literal(r, path, pc) < 0)
				return -1;
		} else if (!strncmp(s + binary, "{file:", 6)) {
			plen = (size_t)(e - (s + binary + 6) - 1);
			snprintf(path, sizeof(path), "%.*s", (int)plen,
				 s + binary + 6);
			if (open_literal(r, path, pc) < 0)
				return -1;
		} else {
			plen = (size_t)(e - (s + binary + 3) - 1);
			snprintf(path, sizeof(path), "%.*s", (int)plen,
				 s + binary + 3);
			if (!path[0]) {
				repl_errorf(r, "{<<WORD}: the word that ends the literal is missing");
				return -1;
			}
			pc->data = read_heredoc(r, in, path, &pc->size);
			if (!pc->data)
				return -1;
		}
		mark = e;
	}
	ps->tail = mark;
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct repl *r = ctx;

	if (!r->interactive || total < (1u << 20))
		return;
	fprintf(stderr, "\r%s: sending literal %llu/%llu KiB (%u%%)",
		"postern", (unsigned long long)(done >> 10),
		(unsigned long long)(total >> 10),
		(unsigned)(total ? done * 100 / total : 100));
	if (done == total)
		fputc('\n', stderr);
}

static char *trimmed(const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return strndup(s, len);
}

static int outcome(struct repl *r, int rc, const struct imap_result *res,
		   const struct pn_error *err)
{
	if (rc < 0) {
		repl_errorf(r, "%s", err->msg);
		r->dead = imap_conn_state(r->c) == IMAP_STATE_LOGOUT ||
			  strstr(err->msg, "closed") || strstr(err->msg, "lost") ||
			  strstr(err->msg, "timed out") || strstr(err->msg, "reset");
		return 2;
	}
	switch (res->status) {
	case IMAP_STATUS_OK:
		return 0;
	case IMAP_STATUS_NO:
		return 1;
	default:
		return 2;
	}
}

/* Send name + args (with literals) under tag, wait, show. */
static int send_command(struct repl *r, const char *tag, const char *name,
			const char *args, FILE *in, bool sensitive)
{
	const struct repl_syntax *syn = repl_syntax_find(name);
	struct imap_result res;
	struct imap_cmd *cmd;
	struct pn_error err;
	struct parsed ps;
	struct pn_buf conv;
	char upper[32], *seg;
	size_t i;
	int rc;

	pn_buf_init(&conv, 0);
	if (convert_args(r, syn, args, &conv) < 0) {
		pn_buf_free(&conv);
		repl_errorf(r, "out of memory");
		return 2;
	}
	if (parse_literals(r, conv.data ? conv.data : "", in, &ps) < 0) {
		parsed_free(&ps);
		pn_buf_free(&conv);
		return 2;
	}
	snprintf(upper, sizeof(upper), "%s", name);
	for (i = 0; upper[i]; i++) {
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	}
	cmd = imap_cmd_new(r->c, upper, tag);
	if (!cmd) {
		parsed_free(&ps);
		pn_buf_free(&conv);
		repl_errorf(r, "out of memory");
		return 2;
	}
	if (sensitive)
		imap_cmd_sensitive(cmd);
	if (r->force_sync)
		imap_cmd_force_sync(cmd);
	for (i = 0; i < ps.n; i++) {
		seg = trimmed(ps.p[i].text, ps.p[i].len);
		if (seg && seg[0])
			imap_cmd_raw(cmd, seg);
		free(seg);
		if (ps.p[i].fd >= 0)
			imap_cmd_literal_fd(cmd, ps.p[i].fd, ps.p[i].size,
					    ps.p[i].binary);
		else
			imap_cmd_literal(cmd, ps.p[i].data, (size_t)ps.p[i].size,
					 ps.p[i].binary);
	}
	seg = ps.n ? strdup(ps.tail) : strdup(conv.data ? conv.data : "");
	if (seg && seg[0])
		imap_cmd_raw(cmd, seg);
	free(seg);
	imap_cmd_progress(cmd, on_progress, r);
	repl_lits_reset(r);
	r->sent_ms = repl_now_ms();
	pn_error_clear(&err);
	memset(&res, 0, sizeof(res));
	rc = imap_cmd_send(cmd, &err);
	if (rc == 0)
		rc = imap_cmd_wait(cmd, &res, &err);
	parsed_free(&ps);
	pn_buf_free(&conv);
	if (syn && (!strcasecmp(syn->name, "CREATE") ||
		    !strcasecmp(syn->name, "DELETE") ||
		    !strcasecmp(syn->name, "RENAME")))
		repl_boxes_forget(r);
	return outcome(r, rc, &res, &err);
}

/* ---- the commands postern runs itself ------------------------------------ */

static char *unquote(const char *s, const char *e)
{
	struct pn_buf b;

	pn_buf_init(&b, 0);
	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		for (s++, e--; s < e; s++) {
			if (*s == '\\' && s + 1 < e)
				s++;
			if (pn_buf_addc(&b, *s) < 0)
				break;
		}
	} else if (pn_buf_add(&b, s, (size_t)(e - s)) < 0) {
		pn_buf_free(&b);
		return NULL;
	}
	return b.data ? pn_buf_take(&b, NULL) : strdup("");
}

static int ask(struct repl *r, const char *prompt, struct pn_buf *out)
{
	if (!r->o->ask_secret || r->o->ask_secret(r->o->ctx, prompt, out) < 0) {
		repl_errorf(r, "no terminal to ask for the password on; give it in the line, or log in from the account");
		return -1;
	}
	return 0;
}

/* login USER: the password asked for, never echoed nor kept. */
static int do_login(struct repl *r, const char *tag, const char *args,
		    FILE *in)
{
	const char *s, *e = next_word(args, &s), *s2, *e2;
	struct pn_buf pw, line;
	char *user;
	int rc;

	e2 = next_word(e, &s2);
	if (s2 != e2 || s == e)
		return send_command(r, tag, "LOGIN", args, in, true);
	user = unquote(s, e);
	pn_buf_init_secret(&pw, 4096);
	pn_buf_init_secret(&line, 8192);
	rc = user ? ask(r, "Password: ", &pw) : -1;
	if (rc == 0) {
		/* Quoted, with the two characters a quoted string escapes. */
		const char *p;

		rc = pn_buf_printf(&line, " %.*s \"", (int)(e - s), s);
		for (p = pw.data ? pw.data : ""; rc == 0 && *p; p++) {
			if (*p == '"' || *p == '\\')
				rc = pn_buf_addc(&line, '\\');
			if (rc == 0)
				rc = pn_buf_addc(&line, *p);
		}
		if (rc == 0)
			rc = pn_buf_addc(&line, '"');
		if (rc == 0 && (strpbrk(pw.data ? pw.data : "", "\r\n") ||
				pw.len > 1000))
			rc = -1;
	}
	free(user);
	if (rc < 0) {
		pn_buf_free(&pw);
		pn_buf_free(&line);
		return 2;
	}
	rc = send_command(r, tag, "LOGIN", line.data, in, true);
	pn_buf_free(&pw);
	pn_buf_free(&line);
	return rc;
}

/* authenticate MECH [USER]: the exchange run by postern (base64 and
 * challenges), the secret asked for. */
static int do_authenticate(struct repl *r, const char *args)
{
	const char *s, *e = next_word(args, &s), *s2, *e2;
	struct imap_sasl_creds creds;
	struct pn_buf secret;
	struct pn_error err;
	char mech[32], *user = NULL;
	int m, rc;

	e2 = next_word(e, &s2);
	snprintf(mech, sizeof(mech), "%.*s", (int)(e - s), s);
	m = imap_sasl_lookup(mech);
	if (m < 0) {
		repl_errorf(r, "authenticate: unknown mechanism '%s' (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, EXTERNAL)",
			    mech);
		return 2;
	}
	memset(&creds, 0, sizeof(creds));
	pn_buf_init_secret(&secret, 16384);
	if (s2 != e2)
		user = unquote(s2, e2);
	creds.user = user ? user : "";
	if (m != IMAP_SASL_EXTERNAL) {
		if (!user) {
			repl_errorf(r, "authenticate %s USER: the user is missing",
				    mech);
			pn_buf_free(&secret);
			return 2;
		}
		if (ask(r, m == IMAP_SASL_XOAUTH2 || m == IMAP_SASL_OAUTHBEARER ?
			"Token: " : "Password: ", &secret) < 0) {
			free(user);
			pn_buf_free(&secret);
			return 2;
		}
		creds.secret = secret.data ? secret.data : "";
	}
	pn_error_clear(&err);
	r->sent_ms = repl_now_ms();
	rc = imap_authenticate(r->c, (enum imap_sasl_mech)m, &creds, &err);
	free(user);
	pn_buf_free(&secret);
	if (rc < 0) {
		repl_errorf(r, "%s", err.msg);
		return imap_conn_state(r->c) == IMAP_STATE_LOGOUT ? 2 : 1;
	}
	repl_note(r, "authenticated (%s, %.1f ms)", mech,
		  repl_now_ms() - r->sent_ms);
	return 0;
}

/* IDLE until Enter (a terminal), or for SECONDS (a script: 10). */
static int do_idle(struct repl *r, const char *tag, const char *args)
{
	struct pn_error err;
	double until;
	char buf[256];
	long secs = atol(args);
	int rc = 0;

	if (!imap_caps_has(imap_conn_caps(r->c), "IDLE")) {
		repl_errorf(r, "the server does not offer IDLE");
		return 1;
	}
	if (secs <= 0)
		secs = r->interactive ? 0 : 10;
	pn_error_clear(&err);
	r->sent_ms = repl_now_ms();
	if (imap_idle_start_tagged(r->c, tag, 0, &err) < 0) {
		repl_errorf(r, "%s", err.msg);
		return 2;
	}
	if (r->interactive)
		repl_note(r, "idling: pushes show as they come; Enter sends DONE");
	until = secs ? repl_now_ms() + (double)secs * 1000 : 0;
	while (rc == 0) {
		struct pollfd pfd[2] = {
			{ .fd = imap_conn_fd(r->c), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		double left = until ? until - repl_now_ms() : 1000;
		int n;

		if (until && left <= 0)
			break;
		if (imap_conn_buffered(r->c)) {
			rc = imap_poll(r->c, 0, &err);
			rc = rc < 0 ? -1 : 0;
			continue;
		}
		n = poll(pfd, r->interactive ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			rc = imap_poll(r->c, 0, &err) < 0 ? -1 : 0;
		else if (n == 0)
			rc = imap_poll(r->c, 0, &err) < 0 ? -1 : 0; /* re-IDLE timer */
		if (r->interactive && n > 0 && (pfd[1].revents & POLLIN)) {
			ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));

			if (k <= 0 || memchr(buf, '\n', (size_t)k))
				break;
		}
	}
	if (rc < 0) {
		repl_errorf(r, "%s", err.msg);
		r->dead = true;
		return 2;
	}
	repl_note(r, "DONE");
	if (imap_idle_done(r->c, &err) < 0) {
		repl_errorf(r, "%s", err.msg);
		return 2;
	}
	return 0;
}

/* ---- a line ----------------------------------------------------------------- */

static bool is_command(const char *s, const char *e)
{
	char w[32];

	if (e - s <= 0 || e - s >= (long)sizeof(w))
		return false;
	snprintf(w, sizeof(w), "%.*s", (int)(e - s), s);
	return repl_syntax_find(w) != NULL;
}

static int exec_line(struct repl *r, char *line, FILE *in)
{
	const char *s, *e, *s2, *e2;
	char tag[64], name[64];
	const char *rest, *use_tag = NULL;

	e = next_word(line, &s);
	if (s == e)
		return 0;
	/* "a1 select INBOX": a tag of one's own when the second word is
	 * a command and the first is not. */
	e2 = next_word(e, &s2);
	if (!is_command(s, e) && is_command(s2, e2) && e - s < 40 &&
	    !memchr(s, '"', (size_t)(e - s))) {
		snprintf(tag, sizeof(tag), "%.*s", (int)(e - s), s);
		use_tag = tag;
		s = s2;
		e = e2;
	} else {
		snprintf(tag, sizeof(tag), "a%u", ++r->tagno);
		use_tag = tag;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(e - s), s);
	rest = e;
	/* The commands postern sends itself (a completion's LIST, IDLE,
	 * AUTHENTICATE) are tagged p1, p2 ... by the connection (console.c
	 * sets the letter), so no tag shows up twice. */
	if (!strcasecmp(name, "LOGIN"))
		return do_login(r, use_tag, rest, in);
	if (!strcasecmp(name, "AUTHENTICATE"))
		return do_authenticate(r, rest);
	if (!strcasecmp(name, "IDLE"))
		return do_idle(r, use_tag, rest);
	if (!strcasecmp(name, "STARTTLS")) {
		repl_errorf(r, "STARTTLS is done when connecting (--tls starttls); typed here it would leave the connection in plaintext");
		return 2;
	}
	if (!strcasecmp(name, "COMPRESS")) {
		struct pn_error err;

		if (imap_compress(r->c, &err) < 0) {
			repl_errorf(r, "%s", err.msg);
			return 1;
		}
		repl_note(r, "COMPRESS=DEFLATE on");
		return 0;
	}
	if (!is_command(s, e) && r->interactive)
		repl_note(r, "(%s is not an IMAP command postern knows; sent as typed)",
			  name);
	{
		int rc = send_command(r, use_tag, name, rest, in, false);

		if (!strcasecmp(name, "LOGOUT") && rc == 0)
			r->quit = true;
		return rc;
	}
}

int repl_exec(struct repl *r, char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		     line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '#')
		return 0;
	if (*line == '.')
		return repl_dot(r, line);
	if (r->dead) {
		repl_errorf(r, "not connected (.reconnect connects again, .quit leaves)");
		return 2;
	}
	return exec_line(r, line, stdin);
}
