/* command.c - struct imap_cmd: building a command from pieces, sending it
 * with its literals, and waiting for its completion.
 *
 * A command is text with literal markers ("a5 APPEND INBOX {3120}") plus
 * the literals' sources.  Sending writes text up to each marker, waits
 * for "+" when the literal is synchronising (dispatching whatever else
 * arrives meanwhile), streams the literal, and goes on.  Sent commands
 * queue on the connection until their tagged response: that queue is the
 * pipelining.
 */
#include "imap_p.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Longer strings go as literals: quoted strings that long are a nuisance
 * to servers with line limits (Dovecot allows 64 KiB per line). */
#define MAX_QUOTED 1024
/* RFC 7888: LITERAL- allows non-synchronising literals up to 4096. */
#define LITERAL_MINUS_MAX 4096
#define CHUNK (64 * 1024)

static void build_fail(struct imap_cmd *cmd, int rc)
{
	if (rc < 0 && !cmd->failed) {
		cmd->failed = true;
		pn_error_set(&cmd->build_err, PN_ENOMEM,
			     "%s: out of memory building the command",
			     cmd->name);
	}
}

struct imap_cmd *imap_cmd_new(struct imap_conn *c, const char *name,
			      const char *tag)
{
	struct imap_cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return NULL;
	cmd->c = c;
	if (tag)
		snprintf(cmd->tag, sizeof(cmd->tag), "%s", tag);
	else
		snprintf(cmd->tag, sizeof(cmd->tag), "%c%u",
			 c->tag_prefix ? c->tag_prefix : 'a', c->next_tag++);
	snprintf(cmd->name, sizeof(cmd->name), "%s", name);
	snprintf(cmd->label, sizeof(cmd->label), "%s", name);
	build_fail(cmd, pn_buf_printf(&cmd->text, "%s %s", cmd->tag, name));
	cmd->start_ms = imap_now_ms();
	return cmd;
}

void imap_cmd_label(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	if (!cmd)
		return;
	va_start(ap, fmt);
	vsnprintf(cmd->label, sizeof(cmd->label), fmt, ap);
	va_end(ap);
}

/* Raw text without the separating space ("(", ")"). */
void imap_cmd_raw(struct imap_cmd *cmd, const char *text)
{
	size_t n;

	if (!cmd)
		return;
	build_fail(cmd, pn_buf_adds(&cmd->text, text));
	n = strlen(text);
	cmd->nospace = n && text[n - 1] == '(';
}

static void sep(struct imap_cmd *cmd)
{
	if (!cmd->nospace)
		build_fail(cmd, pn_buf_addc(&cmd->text, ' '));
	cmd->nospace = false;
}

void imap_cmd_atom(struct imap_cmd *cmd, const char *atom)
{
	if (!cmd)
		return;
	sep(cmd);
	imap_cmd_raw(cmd, atom);
}

void imap_cmd_number(struct imap_cmd *cmd, uint64_t n)
{
	if (!cmd)
		return;
	sep(cmd);
	build_fail(cmd, pn_buf_printf(&cmd->text, "%llu",
				      (unsigned long long)n));
}

void imap_cmd_seqset(struct imap_cmd *cmd, const struct imap_seqset *s)
{
	if (!cmd)
		return;
	sep(cmd);
	build_fail(cmd, imap_seqset_format(s, &cmd->text));
}

/* ---- strings and literals ---- */

static void add_lit(struct imap_cmd *cmd, const void *data, int fd,
		    uint64_t len, bool binary, bool owned)
{
	const struct imap_caps *caps = cmd->c->caps;
	struct imap_cmd_lit *l;
	bool sync = cmd->force_sync || (!imap_caps_has(caps, "LITERAL+") &&
		!(imap_caps_has(caps, "LITERAL-") && len <= LITERAL_MINUS_MAX));

	if (cmd->nlits == cmd->caplits) {
		size_t ncap = cmd->caplits ? cmd->caplits * 2 : 4;
		void *p = realloc(cmd->lits, ncap * sizeof(*cmd->lits));

		if (!p) {
			build_fail(cmd, -1);
			if (owned)
				free((void *)data);
			return;
		}
		cmd->lits = p;
		cmd->caplits = ncap;
	}
	sep(cmd);
	build_fail(cmd, pn_buf_printf(&cmd->text, "%s{%llu%s}\r\n",
				      binary ? "~" : "",
				      (unsigned long long)len,
				      sync ? "" : "+"));
	l = &cmd->lits[cmd->nlits++];
	*l = (struct imap_cmd_lit){ .text_end = cmd->text.len, .data = data,
				    .fd = fd, .size = len, .sync = sync,
				    .owned = owned };
}

void imap_cmd_literal(struct imap_cmd *cmd, const void *data, size_t len,
		      bool binary)
{
	if (cmd)
		add_lit(cmd, data ? data : "", -1, len, binary, false);
}

void imap_cmd_literal_fd(struct imap_cmd *cmd, int fd, uint64_t len,
			 bool binary)
{
	if (cmd)
		add_lit(cmd, NULL, fd, len, binary, false);
}

/* A literal of a copy of data (the caller's bytes need not live on). */
void imap_cmd_literal_copy(struct imap_cmd *cmd, const void *data, size_t len)
{
	char *copy;

	if (!cmd)
		return;
	copy = malloc(len ? len : 1);
	if (!copy) {
		build_fail(cmd, -1);
		return;
	}
	memcpy(copy, data ? data : "", len);
	add_lit(cmd, copy, -1, len, false, true);
}

static bool astring_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){%*\"\\", ch);
}

/* 0: atom, 1: quoted, 2: literal (RFC 3501 astring / RFC 6855). */
static int astring_kind(const struct imap_cmd *cmd, const char *s, size_t n)
{
	bool atom = n > 0 && strcasecmp(s, "NIL") != 0;
	size_t i;

	if (n > MAX_QUOTED)
		return 2;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n' || ch == 0)
			return 2;
		if (ch >= 0x80 && !cmd->c->utf8_accept)
			return 2;
		if (!astring_char(ch))
			atom = false;
	}
	return atom ? 0 : 1;
}

static void add_astring(struct imap_cmd *cmd, const char *s, size_t n,
			bool atom_ok)
{
	size_t i;
	int kind = astring_kind(cmd, s, n);

	switch (kind == 0 && !atom_ok ? 1 : kind) {
	case 0:
		sep(cmd);
		build_fail(cmd, pn_buf_add(&cmd->text, s, n));
		return;
	case 1:
		sep(cmd);
		build_fail(cmd, pn_buf_addc(&cmd->text, '"'));
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				build_fail(cmd, pn_buf_addc(&cmd->text, '\\'));
			build_fail(cmd, pn_buf_addc(&cmd->text, s[i]));
		}
		build_fail(cmd, pn_buf_addc(&cmd->text, '"'));
		return;
	}
	/* The caller's string need not outlive the call. */
	imap_cmd_literal_copy(cmd, s, n);
}

void imap_cmd_astring(struct imap_cmd *cmd, const char *s)
{
	if (cmd)
		add_astring(cmd, s ? s : "", s ? strlen(s) : 0, true);
}

/* A string (quoted or literal, never an atom): ID, METADATA values. */
void imap_cmd_string(struct imap_cmd *cmd, const char *s)
{
	if (cmd)
		add_astring(cmd, s ? s : "", s ? strlen(s) : 0, false);
}

void imap_cmd_mailbox(struct imap_cmd *cmd, const char *utf8_name)
{
	struct pn_buf b = { 0 };
	size_t n = strlen(utf8_name);

	if (!cmd)
		return;
	/* RFC 6855: under UTF8=ACCEPT names go as UTF-8, else mUTF-7. */
	if (cmd->c->utf8_accept) {
		add_astring(cmd, utf8_name, n, true);
		return;
	}
	if (imap_utf7_encode(utf8_name, n, &b, &cmd->build_err) < 0) {
		if (!cmd->failed)
			pn_error_prefix(&cmd->build_err, "%s", cmd->label);
		cmd->failed = true;
	} else {
		add_astring(cmd, pn_buf_cstr(&b), b.len, true);
	}
	pn_buf_free(&b);
}

void imap_cmd_sensitive(struct imap_cmd *cmd)
{
	if (cmd)
		cmd->sensitive = true;
}

void imap_cmd_progress(struct imap_cmd *cmd,
		       void (*fn)(void *ctx, uint64_t done, uint64_t total),
		       void *ctx)
{
	if (!cmd)
		return;
	cmd->progress = fn;
	cmd->progress_ctx = ctx;
}

void imap_cmd_on_untagged(struct imap_cmd *cmd,
			  void (*fn)(void *ctx, const struct imap_response *r),
			  void *ctx)
{
	if (!cmd)
		return;
	cmd->untagged = fn;
	cmd->untagged_ctx = ctx;
}

void imap_cmd_force_sync(struct imap_cmd *cmd)
{
	if (cmd)
		cmd->force_sync = true;
}

void imap_cmd_on_tagged(struct imap_cmd *cmd,
			void (*fn)(void *ctx, const struct imap_response *r),
			void *ctx)
{
	if (!cmd)
		return;
	cmd->tagged = fn;
	cmd->tagged_ctx = ctx;
}

/* ---- the queue ---- */

static void enqueue(struct imap_conn *c, struct imap_cmd *cmd)
{
	if (c->tail)
		c->tail->next = cmd;
	else
		c->head = cmd;
	c->tail = cmd;
}

static void dequeue(struct imap_conn *c, struct imap_cmd *cmd)
{
	struct imap_cmd **pp, *prev = NULL;

	for (pp = &c->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == cmd) {
			*pp = cmd->next;
			if (c->tail == cmd)
				c->tail = prev;
			cmd->next = NULL;
			return;
		}
	}
}

void imap_cmd_free(struct imap_cmd *cmd)
{
	size_t i;

	if (!cmd)
		return;
	for (i = 0; i < cmd->nlits; i++)
		if (cmd->lits[i].owned)
			free((void *)cmd->lits[i].data);
	free(cmd->lits);
	pn_buf_free(&cmd->text);
	free(cmd);
}

/* The waiting commands notice c->dead themselves; nothing to undo. */
void imap_cmd_fail_all(struct imap_conn *c)
{
	(void)c;
}

/* ---- sending ---- */

static int send_text(struct imap_cmd *cmd, size_t from, size_t to,
		     struct pn_error *err)
{
	const char *p = cmd->text.data + from;
	size_t n = to - from;

	/* The trace shows the line without CRLF, redacted; what follows a
	 * literal of a sensitive command may be the secret itself (LOGIN
	 * {5} alice "password"), so it is hidden whole. */
	if (cmd->sensitive && from > 0 && n > 2)
		imap_trace_client(cmd->c, NULL, 0, true);
	else if (n > 2 || from == 0)
		imap_trace_client(cmd->c, p, n >= 2 ? n - 2 : n,
				  cmd->sensitive);
	return imap_conn_write(cmd->c, p, n, err);
}

static int send_fd(struct imap_cmd *cmd, const struct imap_cmd_lit *l,
		   struct pn_error *err)
{
	uint64_t done = 0;
	char *buf = malloc(CHUNK);
	int rc = 0;

	if (!buf)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	while (rc == 0 && done < l->size) {
		size_t want = l->size - done > CHUNK ? CHUNK :
			(size_t)(l->size - done);
		ssize_t got = read(l->fd, buf, want);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			/* The server waits for bytes we cannot send: the
			 * connection is unusable from here. */
			pn_error_set(err, PN_EIO, "%s: the file ended after "
				     "%llu of %llu bytes%s%s", cmd->label,
				     (unsigned long long)done,
				     (unsigned long long)l->size,
				     got < 0 ? ": " : "",
				     got < 0 ? strerror(errno) : "");
			rc = imap_conn_fail(cmd->c, err);
			break;
		}
		rc = imap_conn_write(cmd->c, buf, (size_t)got, err);
		done += (uint64_t)got;
		if (rc == 0 && cmd->progress)
			cmd->progress(cmd->progress_ctx, done, l->size);
	}
	free(buf);
	return rc;
}

static int send_mem(struct imap_cmd *cmd, const struct imap_cmd_lit *l,
		    struct pn_error *err)
{
	uint64_t done = 0;

	while (done < l->size) {
		size_t n = l->size - done > CHUNK ? CHUNK :
			(size_t)(l->size - done);

		if (imap_conn_write(cmd->c, (const char *)l->data + done, n,
				    err) < 0)
			return -1;
		done += n;
		if (cmd->progress)
			cmd->progress(cmd->progress_ctx, done, l->size);
	}
	return 0;
}

int imap_cmd_wait_continue(struct imap_cmd *cmd, struct pn_error *err)
{
	struct imap_conn *c = cmd->c;

	while (!c->got_continue && !cmd->done)
		if (imap_conn_step(c, 0, err) < 0)
			return -1;
	return c->got_continue ? 1 : 0;
}

/* 1: sent, 0: the server refused the literal (cmd completed). */
static int send_literal(struct imap_cmd *cmd, size_t *pos, size_t i,
			struct pn_error *err)
{
	const struct imap_cmd_lit *l = &cmd->lits[i];
	int rc;

	cmd->c->got_continue = false;
	if (send_text(cmd, *pos, l->text_end, err) < 0)
		return -1;
	*pos = l->text_end;
	if (l->sync) {
		rc = imap_cmd_wait_continue(cmd, err);
		if (rc <= 0)
			return rc;
	}
	imap_trace_literal(cmd->c, l->data, l->size, cmd->sensitive);
	rc = l->data ? send_mem(cmd, l, err) : send_fd(cmd, l, err);
	return rc < 0 ? -1 : 1;
}

int imap_cmd_send(struct imap_cmd *cmd, struct pn_error *err)
{
	struct pn_error tmp;
	size_t pos = 0, i;
	int rc;

	if (!err)
		err = &tmp;
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (cmd->failed || pn_buf_add(&cmd->text, "\r\n", 2) < 0) {
		*err = cmd->build_err;
		if (!cmd->failed)
			pn_error_set(err, PN_ENOMEM, "out of memory");
		imap_cmd_free(cmd);
		return -1;
	}
	enqueue(cmd->c, cmd);
	cmd->sent = true;
	for (i = 0, rc = 1; i < cmd->nlits && rc > 0; i++)
		rc = send_literal(cmd, &pos, i, err);
	if (rc > 0)
		rc = send_text(cmd, pos, cmd->text.len, err);
	if (rc < 0) {
		/* Nobody waits for it: its handlers' contexts are gone. */
		dequeue(cmd->c, cmd);
		imap_cmd_free(cmd);
		return -1;
	}
	return 0;
}

int imap_conn_send_line(struct imap_conn *c, const char *line, size_t len,
			bool sensitive, struct pn_error *err)
{
	struct pn_buf b = { 0 };
	int rc;

	imap_trace_client(c, line, len, sensitive);
	if (pn_buf_add(&b, line, len) < 0 || pn_buf_add(&b, "\r\n", 2) < 0) {
		pn_buf_free(&b);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	rc = imap_conn_write(c, b.data, b.len, err);
	pn_buf_free(&b);
	return rc;
}

/* ---- waiting ---- */

int imap_cmd_wait(struct imap_cmd *cmd, struct imap_result *res,
		  struct pn_error *err)
{
	struct pn_error tmp;
	struct imap_conn *c;
	int rc = 0;

	if (!err)
		err = &tmp;
	if (!cmd)
		return pn_error_set(err, PN_EINVAL, "no command to wait for");
	c = cmd->c;
	while (!cmd->done && rc == 0)
		rc = c->dead ? -1 : imap_conn_step(c, 0, err);
	if (!cmd->done) {
		*err = c->dead_err;
		rc = -1;
	} else {
		rc = 0;
		if (res)
			*res = cmd->res;
	}
	dequeue(c, cmd);
	imap_cmd_free(cmd);
	return rc;
}

int imap_cmd_result_error(const char *label, const struct imap_result *res,
			  struct pn_error *err)
{
	const char *st = res->status == IMAP_STATUS_NO ? "NO" :
		res->status == IMAP_STATUS_BAD ? "BAD" :
		res->status == IMAP_STATUS_BYE ? "BYE" : "?";

	if (res->status == IMAP_STATUS_OK)
		return 0;
	return pn_error_set(err, PN_EIO, "%s: %s%s%s%s %s", label, st,
			    res->code[0] ? " [" : "", res->code,
			    res->code[0] ? "]" : "", res->text);
}

/* ---- raw lines (the REPL) ---- */

/* A "{n}" or "{n+}" (or "~{n}") closing a line at p: the size, the end
 * of the marker line (after its newline) in *next, *sync. */
static bool marker_at(const char *line, const char *p, uint64_t *n,
		      const char **next, bool *sync)
{
	const char *q = p;

	if (*p != '}')
		return false;
	*sync = true;
	if (q > line && q[-1] == '+') {
		*sync = false;
		q--;
	}
	*n = 0;
	{
		uint64_t mul = 1;
		const char *d = q;

		while (d > line && d[-1] >= '0' && d[-1] <= '9' && mul < 1000000000000000000ULL) {
			*n += (uint64_t)(d[-1] - '0') * mul;
			mul *= 10;
			d--;
		}
		if (d == q || d == line || d[-1] != '{')
			return false;
	}
	if (p[1] == '\r' && p[2] == '\n')
		*next = p + 3;
	else if (p[1] == '\n')
		*next = p + 2;
	else
		return false;
	return true;
}

/* A literal whose marker the user typed: as typed, sync or not. */
static int add_user_lit(struct imap_cmd *cmd, const char *data, uint64_t n,
			bool sync)
{
	struct imap_cmd_lit *l;

	if (cmd->nlits == cmd->caplits) {
		size_t ncap = cmd->caplits ? cmd->caplits * 2 : 4;
		void *p = realloc(cmd->lits, ncap * sizeof(*cmd->lits));

		if (!p)
			return -1;
		cmd->lits = p;
		cmd->caplits = ncap;
	}
	l = &cmd->lits[cmd->nlits++];
	*l = (struct imap_cmd_lit){ .text_end = cmd->text.len, .data = data,
				    .fd = -1, .size = n, .sync = sync };
	return 0;
}

/* Split the user's text at literal markers into text and literals. */
static int add_raw_line(struct imap_cmd *cmd, const char *rest,
			struct pn_error *err)
{
	const char *p = rest, *end = rest + strlen(rest), *next;
	uint64_t n;
	bool sync;

	while (p < end) {
		const char *brace = memchr(p, '}', (size_t)(end - p));

		if (!brace || !marker_at(rest, brace, &n, &next, &sync)) {
			build_fail(cmd, pn_buf_add(&cmd->text, p,
					(size_t)((brace ? brace + 1 : end) - p)));
			p = brace ? brace + 1 : end;
			continue;
		}
		if ((uint64_t)(end - next) < n)
			return pn_error_set(err, PN_EINVAL, "%s: literal of "
					    "%llu bytes but only %zu follow",
					    cmd->name, (unsigned long long)n,
					    (size_t)(end - next));
		build_fail(cmd, pn_buf_add(&cmd->text, p,
					   (size_t)(brace + 1 - p)));
		build_fail(cmd, pn_buf_add(&cmd->text, "\r\n", 2));
		build_fail(cmd, add_user_lit(cmd, next, n, sync));
		p = next + n;
	}
	return 0;
}

int imap_command_line(struct imap_conn *c, const char *tag, const char *line,
		      struct imap_result *res, struct pn_error *err)
{
	struct pn_error tmp;
	char name[32];
	size_t n = strcspn(line, " \r\n");
	struct imap_cmd *cmd;

	if (!err)
		err = &tmp;
	snprintf(name, sizeof(name), "%.*s", (int)(n < 31 ? n : 31), line);
	if (!n)
		return pn_error_set(err, PN_EINVAL, "empty command line");
	cmd = imap_cmd_new(c, name, tag);
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	/* The trace must not show what a human typed after LOGIN. */
	if (!strcasecmp(name, "LOGIN") || !strcasecmp(name, "AUTHENTICATE"))
		cmd->sensitive = true;
	if (add_raw_line(cmd, line + n, err) < 0) {
		imap_cmd_free(cmd);
		return -1;
	}
	if (imap_cmd_send(cmd, err) < 0)
		return -1;
	return imap_cmd_wait(cmd, res, err);
}
