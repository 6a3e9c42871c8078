/* conn.c - connecting, the greeting, the STARTTLS policy, and the loop
 * that reads responses and hands each one to whoever needs it.
 *
 * One response at a time goes: connection state (capabilities, mailbox
 * size, BYE), then the handler of the command in flight, then the
 * caller's events.  Nothing is kept beyond what the state needs, so a
 * FETCH of a million messages costs one response's memory.
 */
#include "imap_p.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/arena.h"

#define RBUF_SIZE (64 * 1024)
#define DEFAULT_READ_TIMEOUT 60000
#define DEFAULT_CONNECT_TIMEOUT 15000

double imap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

/* ---- the literal sink: ours wraps the caller's so a dropped connection
 * can say how large the literal was, and so a missing sink is named. */

static int sink_begin(void *ctx, uint32_t number, const char *item,
		      uint64_t size, bool binary)
{
	struct imap_conn *c = ctx;

	c->in_sink = true;
	c->literal_hint = size;
	if (!c->has_sink) {
		pn_error_set(&c->dead_err, PN_ELIMIT,
			     "a %llu-byte literal%s%s is larger than "
			     "max_inline_literal and no literal sink is set",
			     (unsigned long long)size, item ? " for " : "",
			     item ? item : "");
		return -1;
	}
	return c->sink.begin ? c->sink.begin(c->sink.ctx, number, item, size,
					     binary) : 0;
}

static int sink_data(void *ctx, const char *data, size_t len)
{
	struct imap_conn *c = ctx;

	return c->sink.data ? c->sink.data(c->sink.ctx, data, len) : 0;
}

static int sink_end(void *ctx)
{
	struct imap_conn *c = ctx;

	c->in_sink = false;
	return c->sink.end ? c->sink.end(c->sink.ctx) : 0;
}

void imap_conn_set_literal_sink(struct imap_conn *c,
				const struct imap_literal_sink *sink)
{
	c->has_sink = sink != NULL;
	if (sink)
		c->sink = *sink;
	else
		memset(&c->sink, 0, sizeof(c->sink));
}

void imap_conn_set_events(struct imap_conn *c, const struct imap_events *ev)
{
	if (ev)
		c->ev = *ev;
	else
		memset(&c->ev, 0, sizeof(c->ev));
}

/* ---- failure ---- */

int imap_conn_fail(struct imap_conn *c, struct pn_error *err)
{
	if (!c->dead) {
		c->dead = true;
		if (err && err != &c->dead_err)
			c->dead_err = *err;
		imap_trace_note(c, "connection failed: %s", c->dead_err.msg);
	}
	if (err && err != &c->dead_err)
		*err = c->dead_err;
	imap_cmd_fail_all(c);
	return -1;
}

/* "during FETCH (inside a 48213-byte literal)": what the user needs to
 * tell a server crash from a network drop from a limit. */
static void describe_loss(struct imap_conn *c, const char *what)
{
	char where[96] = "", lit[64] = "";

	if (c->head)
		snprintf(where, sizeof(where), " during %s", c->head->name);
	if (c->in_sink || (c->parser && imap_parser_in_literal(c->parser)))
		snprintf(lit, sizeof(lit), " (inside a %llu-byte literal)",
			 (unsigned long long)c->literal_hint);
	pn_error_set(&c->dead_err, PN_EIO, "%s: %s%s%s%s%s", c->peer, what,
		     where, lit, c->bye ? ": " : "", c->bye ? c->bye_text : "");
}

/* Remember the size of the last literal announced in data, for the
 * message above.  Literal bodies may contain "{5}\r\n" too; then the
 * message names a wrong size, which is harmless. */
static void note_literals(struct imap_conn *c, const char *data, size_t len)
{
	const char *end = data + len, *p = end;

	while (p > data && (p = memrchr(data, '}', (size_t)(p - data)))) {
		const char *q = p;
		uint64_t n = 0, mul = 1;

		if (end - p < 3 || p[1] != '\r' || p[2] != '\n')
			continue;
		while (q > data && q[-1] >= '0' && q[-1] <= '9' && mul < 1000000000000000ULL) {
			n += (uint64_t)(q[-1] - '0') * mul;
			mul *= 10;
			q--;
		}
		if (q > data && q[-1] == '{' && q < p) {
			c->literal_hint = n;
			return;
		}
	}
}

/* ---- dispatching one response ---- */

static void update_caps(struct imap_conn *c, const struct imap_arg *args,
			size_t n)
{
	struct pn_error e;

	/* A malformed list keeps the old set: better than none. */
	if (imap_caps_set(c->caps, args, n, &e) < 0)
		imap_trace_note(c, "ignoring capabilities: %s", e.msg);
	else
		c->caps_gen++;
}

static void note_enabled(struct imap_conn *c, const struct imap_response *r)
{
	size_t i;

	for (i = 0; i < r->nargs; i++) {
		if (imap_arg_is_atom(&r->args[i], "UTF8=ACCEPT"))
			c->utf8_accept = true;
		else if (imap_arg_is_atom(&r->args[i], "QRESYNC"))
			c->qresync = c->condstore = true;
		else if (imap_arg_is_atom(&r->args[i], "CONDSTORE"))
			c->condstore = true;
	}
}

static void update_mailbox(struct imap_conn *c, const struct imap_response *r)
{
	if (!strcmp(r->name, "EXISTS") && r->has_number)
		c->exists = r->number;
	else if (!strcmp(r->name, "RECENT") && r->has_number)
		c->recent = r->number;
	else if (!strcmp(r->name, "EXPUNGE") && r->has_number && c->exists)
		c->exists--;
	/* VANISHED (not EARLIER) shrinks the mailbox like EXPUNGE does;
	 * the size follows from the next EXISTS anyway, so we only count. */
	else if (!strcmp(r->name, "VANISHED") && r->nargs == 1 &&
		 r->args[0].type == IMAP_ARG_ATOM) {
		struct imap_seqset s = { 0 };
		uint64_t n;

		if (imap_seqset_parse(&s, r->args[0].str, r->args[0].len,
				      NULL) == 0) {
			n = imap_seqset_count(&s, UINT32_MAX);
			c->exists = n >= c->exists ? 0 : c->exists - (uint32_t)n;
		}
		imap_seqset_free(&s);
	}
}

static void update_state(struct imap_conn *c, const struct imap_response *r)
{
	if (r->code && !strcmp(r->code, "CAPABILITY"))
		update_caps(c, r->code_args, r->ncode_args);
	if (r->status == IMAP_STATUS_BYE) {
		c->bye = true;
		c->state = IMAP_STATE_LOGOUT;
		snprintf(c->bye_text, sizeof(c->bye_text), "BYE %s",
			 r->text ? r->text : "");
		return;
	}
	if (r->status != IMAP_STATUS_NONE || !r->name)
		return;
	if (!strcmp(r->name, "CAPABILITY"))
		update_caps(c, r->args, r->nargs);
	else if (!strcmp(r->name, "ENABLED"))
		note_enabled(c, r);
	else
		update_mailbox(c, r);
}

static struct imap_cmd *find_cmd(struct imap_conn *c, const char *tag)
{
	struct imap_cmd *cmd;

	for (cmd = c->head; cmd; cmd = cmd->next)
		if (!cmd->done && tag && !strcmp(cmd->tag, tag))
			return cmd;
	return NULL;
}

/* The state follows the commands that change it, whoever sent them (the
 * REPL's raw lines included). */
static void state_after(struct imap_conn *c, const char *name,
			enum imap_status st)
{
	bool sel = !strcasecmp(name, "SELECT") || !strcasecmp(name, "EXAMINE");

	if (c->state == IMAP_STATE_LOGOUT)
		return;
	if (st != IMAP_STATUS_OK) {
		/* RFC 3501 6.3.1: a failed SELECT leaves none selected. */
		if (sel && c->state == IMAP_STATE_SELECTED)
			c->state = IMAP_STATE_AUTHENTICATED;
		return;
	}
	if (sel)
		c->state = IMAP_STATE_SELECTED;
	else if (!strcasecmp(name, "LOGIN") ||
		 !strcasecmp(name, "AUTHENTICATE") ||
		 !strcasecmp(name, "CLOSE") || !strcasecmp(name, "UNSELECT"))
		c->state = IMAP_STATE_AUTHENTICATED;
}

static void complete_cmd(struct imap_cmd *cmd, const struct imap_response *r)
{
	state_after(cmd->c, cmd->name, r->status);
	cmd->done = true;
	cmd->res.status = r->status;
	snprintf(cmd->res.code, sizeof(cmd->res.code), "%s",
		 r->code ? r->code : "");
	snprintf(cmd->res.text, sizeof(cmd->res.text), "%s",
		 r->text ? r->text : "");
	cmd->res.elapsed_ms = imap_now_ms() - cmd->start_ms;
	if (cmd->tagged)
		cmd->tagged(cmd->tagged_ctx, r);
}

static void dispatch(struct imap_conn *c, const struct imap_response *r)
{
	struct imap_cmd *cmd;

	imap_trace_server(c, r);
	if (r->kind == IMAP_RESP_CONTINUE) {
		c->got_continue = true;
		pn_buf_reset(&c->cont_text);
		if (r->text && pn_buf_adds(&c->cont_text, r->text) < 0)
			pn_buf_reset(&c->cont_text);
		return;
	}
	if (r->kind == IMAP_RESP_TAGGED) {
		if (r->code && !strcmp(r->code, "CAPABILITY"))
			update_caps(c, r->code_args, r->ncode_args);
		cmd = find_cmd(c, r->tag);
		if (cmd)
			complete_cmd(cmd, r);
		else
			imap_trace_note(c, "ignoring unknown tag %s", r->tag);
		if (cmd && c->ev.tagged)
			c->ev.tagged(c->ev.ctx, r);
		return;
	}
	update_state(c, r);
	for (cmd = c->head; cmd && cmd->done; cmd = cmd->next)
		;
	if (cmd && cmd->untagged)
		cmd->untagged(cmd->untagged_ctx, r);
	if (c->ev.untagged)
		c->ev.untagged(c->ev.ctx, r);
}

/* ---- reading ---- */

/* Feed buffered bytes: 1 with *r_out a whole response, 0 when more
 * bytes are needed, -1 on a parse error (the stream is lost). */
static int feed(struct imap_conn *c, const struct imap_response **r_out,
		struct pn_error *err)
{
	enum imap_parse_result pr;
	size_t used = 0;

	if (c->rpos >= c->rlen) {
		c->rpos = c->rlen = 0;
		return 0;
	}
	pr = imap_parser_feed(c->parser, c->rbuf + c->rpos, c->rlen - c->rpos,
			      &used, r_out, err);
	c->rpos += used;
	if (pr == IMAP_PARSE_ERROR) {
		if (c->dead_err.msg[0] && c->dead_err.code == PN_ELIMIT)
			*err = c->dead_err;
		if (c->head || !c->greeting)
			pn_error_prefix(err, "%s: %s", c->peer, c->head ?
					c->head->name : "greeting");
		else
			pn_error_prefix(err, "%s", c->peer);
		return imap_conn_fail(c, err);
	}
	if (pr == IMAP_PARSE_DONE)
		return 1;
	/* "need more" normally used everything; keep what it did not. */
	memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
	c->rlen -= c->rpos;
	c->rpos = 0;
	if (c->rlen == c->rcap) {
		pn_error_set(err, PN_ELIMIT, "%s: the parser stalled on a "
			     "full %zu-byte buffer", c->peer, c->rcap);
		return imap_conn_fail(c, err);
	}
	return 0;
}

/* A transport error, named as "PEER: COMMAND: what".  The transport's
 * own messages start with the peer already (a tunnel's exit status
 * does): it is not said twice. */
static void name_transport_error(const struct imap_conn *c,
				 struct pn_error *err)
{
	size_t n = strlen(c->peer);

	if (n && !strncmp(err->msg, c->peer, n) &&
	    !strncmp(err->msg + n, ": ", 2)) {
		struct pn_error rest = *err;

		if (!c->head)
			return;
		memmove(rest.msg, err->msg + n + 2, strlen(err->msg + n + 2) + 1);
		pn_error_prefix(&rest, "%s: %s", c->peer, c->head->name);
		*err = rest;
		return;
	}
	pn_error_prefix(err, "%s%s%s", c->peer, c->head ? ": " : "",
			c->head ? c->head->name : "");
}

static int fill(struct imap_conn *c, unsigned timeout_ms, struct pn_error *err)
{
	size_t got = 0;

	if (c->dead) {
		*err = c->dead_err;
		return -1;
	}
	if (imap_transport_read(c->t, c->rbuf + c->rlen, c->rcap - c->rlen,
				timeout_ms, &got, err) < 0) {
		name_transport_error(c, err);
		return imap_conn_fail(c, err);
	}
	if (got == 0) {
		describe_loss(c, "connection closed by server");
		imap_conn_fail(c, &c->dead_err);
		*err = c->dead_err;
		return -1;
	}
	note_literals(c, c->rbuf + c->rlen, got);
	c->rlen += got;
	return 0;
}

static unsigned read_timeout(const struct imap_conn *c)
{
	return c->set.read_timeout_ms ? c->set.read_timeout_ms :
		DEFAULT_READ_TIMEOUT;
}

/* The next whole response, reading as needed. */
static int next_response(struct imap_conn *c, unsigned timeout_ms,
			 const struct imap_response **r_out,
			 struct pn_error *err)
{
	int rc;

	if (c->dead) {
		*err = c->dead_err;
		return -1;
	}
	for (;;) {
		rc = feed(c, r_out, err);
		if (rc != 0)
			return rc;
		if (fill(c, timeout_ms ? timeout_ms : read_timeout(c), err) < 0)
			return -1;
	}
}

int imap_conn_step(struct imap_conn *c, unsigned timeout_ms,
		   struct pn_error *err)
{
	const struct imap_response *r;

	if (next_response(c, timeout_ms, &r, err) < 0)
		return -1;
	dispatch(c, r);
	return 0;
}

int imap_conn_drain(struct imap_conn *c, struct pn_error *err)
{
	const struct imap_response *r;
	int n = 0, rc;

	while ((rc = feed(c, &r, err)) == 1) {
		dispatch(c, r);
		n++;
	}
	return rc < 0 ? -1 : n;
}

int imap_conn_write(struct imap_conn *c, const void *buf, size_t len,
		    struct pn_error *err)
{
	if (c->dead) {
		*err = c->dead_err;
		return -1;
	}
	if (imap_transport_write(c->t, buf, len, read_timeout(c), err) < 0) {
		name_transport_error(c, err);
		return imap_conn_fail(c, err);
	}
	return 0;
}

/* ---- connecting ---- */

bool imap_conn_loopback(const struct imap_conn *c)
{
	return c->t && imap_transport_is_loopback(c->t);
}

static int copy_settings(struct imap_conn *c, const struct imap_settings *s)
{
	bool oom = false;

	c->set = *s;
	c->host = dup_or_null(s->host, &oom);
	c->tunnel = dup_or_null(s->tunnel, &oom);
	c->cafile = dup_or_null(s->cafile, &oom);
	c->capath = dup_or_null(s->capath, &oom);
	c->cert = dup_or_null(s->client_cert, &oom);
	c->key = dup_or_null(s->client_key, &oom);
	c->set.host = c->host;
	c->set.tunnel = c->tunnel;
	c->set.cafile = c->cafile;
	c->set.capath = c->capath;
	c->set.client_cert = c->cert;
	c->set.client_key = c->key;
	return oom ? -1 : 0;
}

static enum imap_tls_mode effective_mode(const struct imap_settings *s)
{
	if (s->tunnel)
		return IMAP_TLS_NONE;	/* the tunnel is the protection */
	if (s->tls == IMAP_TLS_DEFAULT && s->port == 993)
		return IMAP_TLS_IMPLICIT;
	return s->tls;
}

static struct imap_conn *conn_alloc(const struct imap_settings *s)
{
	struct imap_conn *c = calloc(1, sizeof(*c));
	static const struct imap_literal_sink wrap = {
		NULL, sink_begin, sink_data, sink_end
	};
	struct imap_literal_sink sink = wrap;

	if (!c)
		return NULL;
	c->next_tag = 1;
	c->rcap = RBUF_SIZE;
	c->rbuf = malloc(c->rcap);
	c->caps = imap_caps_new();
	c->parser = imap_parser_new(&s->limits);
	if (copy_settings(c, s) < 0 || !c->rbuf || !c->caps || !c->parser) {
		imap_conn_free(&c);
		return NULL;
	}
	sink.ctx = c;
	imap_parser_set_sink(c->parser, &sink);
	return c;
}

static int open_transport(struct imap_conn *c, enum imap_tls_mode mode,
			  struct pn_error *err)
{
	const struct imap_settings *s = &c->set;
	unsigned to = s->connect_timeout_ms ? s->connect_timeout_ms :
		DEFAULT_CONNECT_TIMEOUT;

	if (s->tunnel) {
		snprintf(c->peer, sizeof(c->peer), "tunnel '%s'", s->tunnel);
		return imap_transport_tunnel(s->tunnel, &c->t, err);
	}
	if (!s->host || !*s->host)
		return pn_error_set(err, PN_EINVAL, "no host to connect to");
	if (!c->set.port)
		c->set.port = mode == IMAP_TLS_IMPLICIT ? 993 : 143;
	snprintf(c->peer, sizeof(c->peer), strchr(s->host, ':') ?
		 "[%s]:%u" : "%s:%u", s->host, (unsigned)c->set.port);
	if (imap_transport_tcp(s->host, c->set.port, to, &c->t, err) < 0)
		return -1;
	if (mode == IMAP_TLS_IMPLICIT &&
	    imap_transport_start_tls(c->t, s->host, s, err) < 0)
		return -1;
	return 0;
}

static int read_greeting(struct imap_conn *c, struct pn_error *err)
{
	const struct imap_response *r;

	if (next_response(c, 0, &r, err) < 0)
		return -1;
	dispatch(c, r);
	if (r->kind != IMAP_RESP_UNTAGGED ||
	    (r->status != IMAP_STATUS_OK && r->status != IMAP_STATUS_PREAUTH &&
	     r->status != IMAP_STATUS_BYE))
		return pn_error_set(err, PN_EPARSE,
				    "%s: not an IMAP greeting: %.*s", c->peer,
				    (int)(r->raw_len > 200 ? 200 : r->raw_len),
				    r->raw);
	if (r->status == IMAP_STATUS_BYE)
		return pn_error_set(err, PN_EIO, "%s: server refused: BYE %s",
				    c->peer, r->text ? r->text : "");
	free(c->greeting);
	c->greeting = strdup(r->text ? r->text : "");
	if (!c->greeting)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	c->preauth = r->status == IMAP_STATUS_PREAUTH;
	c->state = c->preauth ? IMAP_STATE_AUTHENTICATED :
		IMAP_STATE_NOT_AUTHENTICATED;
	return 0;
}

static bool caps_known(const struct imap_conn *c)
{
	return imap_caps_get(c->caps, 0) != NULL;
}

/* Run a command without arguments; -1 unless it completed with OK. */
static int simple_cmd(struct imap_conn *c, const char *name,
		      struct imap_result *res, struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, name, NULL);

	if (imap_cmd_send(cmd, err) < 0 || imap_cmd_wait(cmd, res, err) < 0)
		return -1;
	return 0;
}

/* After the handshake nothing from before it may be believed: not
 * buffered bytes (injected responses, CVE-2021-22946 / CVE-2020-14954),
 * not the capabilities (a stripped STARTTLS or a fake AUTH=). */
static int starttls_switch(struct imap_conn *c, struct pn_error *err)
{
	imap_transport_discard(c->t);
	c->rpos = c->rlen = 0;
	imap_parser_reset(c->parser);
	if (imap_transport_start_tls(c->t, c->host, &c->set, err) < 0)
		return imap_conn_fail(c, err);
	/* Kept only to be shown (postern probe compares the two sets). */
	imap_caps_free(&c->caps_before_tls);
	c->caps_before_tls = c->caps;
	c->caps = imap_caps_new();
	if (!c->caps)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return imap_capability(c, err);
}

static int starttls_refuse(struct imap_conn *c, const char *why,
			   struct pn_error *err)
{
	return pn_error_set(err, PN_EUNSUPPORTED,
			    "%s: %s; refusing to continue in plaintext "
			    "(--tls none allows it)", c->peer, why);
}

static int starttls_policy(struct imap_conn *c, enum imap_tls_mode mode,
			   struct pn_error *err)
{
	bool loop = imap_transport_is_loopback(c->t), required;
	struct imap_result res;
	char why[700];

	if (mode == IMAP_TLS_NONE || mode == IMAP_TLS_IMPLICIT ||
	    imap_transport_is_tls(c->t) || imap_transport_is_tunnel(c->t))
		return 0;
	/* Issue 4: required by default except on loopback, where it is
	 * used when offered; --tls starttls requires it everywhere. */
	required = mode == IMAP_TLS_STARTTLS || !loop;
	if (c->preauth)
		return required ? starttls_refuse(c, "PREAUTH greeting on an "
			"unencrypted connection (STARTTLS is impossible "
			"after it)", err) : 0;
	if (!caps_known(c) && imap_capability(c, err) < 0)
		return -1;
	if (!imap_caps_has(c->caps, "STARTTLS"))
		return required ? starttls_refuse(c, "server does not offer "
						  "STARTTLS", err) : 0;
	if (simple_cmd(c, "STARTTLS", &res, err) < 0)
		return -1;
	if (res.status != IMAP_STATUS_OK) {
		if (!required)
			return 0;
		snprintf(why, sizeof(why), "STARTTLS failed: %s%s%s%s %s",
			 res.status == IMAP_STATUS_NO ? "NO" : "BAD",
			 res.code[0] ? " [" : "", res.code,
			 res.code[0] ? "]" : "", res.text);
		return starttls_refuse(c, why, err);
	}
	return starttls_switch(c, err);
}

int imap_connect(const struct imap_settings *s, struct imap_conn **conn_out,
		 struct pn_error *err)
{
	struct pn_error tmp;
	enum imap_tls_mode mode = effective_mode(s);
	struct imap_conn *c;

	if (!err)
		err = &tmp;
	*conn_out = NULL;
	c = conn_alloc(s);
	if (!c)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (open_transport(c, mode, err) < 0 || read_greeting(c, err) < 0 ||
	    starttls_policy(c, mode, err) < 0 ||
	    (!caps_known(c) && imap_capability(c, err) < 0) ||
	    (c->preauth && imap_conn_authenticated(c, err) < 0)) {
		/* Name the peer once: transport and TLS errors already do. */
		if (c->peer[0] && !strstr(err->msg, c->peer))
			pn_error_prefix(err, "%s", c->peer);
		imap_conn_free(&c);
		return -1;
	}
	*conn_out = c;
	return 0;
}

int imap_conn_authenticated(struct imap_conn *c, struct pn_error *err)
{
	c->state = IMAP_STATE_AUTHENTICATED;
	if (c->set.compress && !c->compressed &&
	    imap_caps_has(c->caps, "COMPRESS=DEFLATE"))
		return imap_compress(c, err);
	return 0;
}

void imap_conn_free(struct imap_conn **conn)
{
	struct imap_conn *c = *conn;
	struct imap_cmd *cmd, *next;

	if (!c)
		return;
	for (cmd = c->head; cmd; cmd = next) {
		next = cmd->next;
		imap_cmd_free(cmd);
	}
	imap_transport_close(&c->t);
	imap_parser_free(&c->parser);
	imap_caps_free(&c->caps);
	imap_caps_free(&c->caps_before_tls);
	pn_arena_free(&c->ns_arena);
	pn_buf_free(&c->cont_text);
	free(c->greeting);
	free(c->rbuf);
	free(c->host);
	free(c->tunnel);
	free(c->cafile);
	free(c->capath);
	free(c->cert);
	free(c->key);
	free(c);
	*conn = NULL;
}

/* ---- accessors ---- */

enum imap_conn_state imap_conn_state(const struct imap_conn *c)
{
	return c->state;
}

const struct imap_caps *imap_conn_caps(const struct imap_conn *c)
{
	return c->caps;
}

const struct imap_caps *imap_conn_caps_before_starttls(const struct imap_conn *c)
{
	return c->caps_before_tls;
}

const char *imap_conn_greeting(const struct imap_conn *c)
{
	return c->greeting ? c->greeting : "";
}

bool imap_conn_encrypted(const struct imap_conn *c)
{
	return c->t && (imap_transport_is_tls(c->t) ||
			imap_transport_is_tunnel(c->t));
}

const struct imap_tls_info *imap_conn_tls_info(const struct imap_conn *c)
{
	return c->t && imap_transport_is_tls(c->t) ?
		imap_transport_tls_info(c->t) : NULL;
}

const char *imap_conn_peer(const struct imap_conn *c)
{
	return c->peer;
}

void imap_conn_timings(const struct imap_conn *c, double *tcp_ms,
		       double *tls_ms)
{
	imap_transport_timings(c->t, tcp_ms, tls_ms);
}

int imap_conn_fd(const struct imap_conn *c)
{
	return imap_transport_fd(c->t);
}

bool imap_conn_buffered(const struct imap_conn *c)
{
	return c->rpos < c->rlen || imap_transport_pending(c->t);
}

void imap_conn_set_trace(struct imap_conn *c, int fd)
{
	c->set.trace_fd = fd;
}

void imap_conn_set_tag_prefix(struct imap_conn *c, char prefix)
{
	c->tag_prefix = prefix;
}

/* Between commands (and during IDLE) the server may push; wait for it
 * without a command, re-IDLEing when the timer says so. */
static int poll_once(struct imap_conn *c, unsigned wait_ms,
		     struct pn_error *err)
{
	struct pollfd pfd = { .fd = imap_transport_fd(c->t), .events = POLLIN };
	int rc;

	if (!imap_transport_pending(c->t)) {
		rc = poll(&pfd, 1, (int)wait_ms);
		if (rc < 0 && errno != EINTR)
			return pn_error_errno(err, errno, "%s: poll", c->peer);
		if (rc <= 0)
			return 0;
	}
	if (fill(c, read_timeout(c), err) < 0)
		return -1;
	return imap_conn_drain(c, err);
}

int imap_poll(struct imap_conn *c, unsigned timeout_ms, struct pn_error *err)
{
	struct pn_error tmp;
	double deadline = imap_now_ms() + timeout_ms;
	bool read_once = false;
	int n;

	if (!err)
		err = &tmp;
	if (c->dead) {
		*err = c->dead_err;
		return -1;
	}
	n = imap_conn_drain(c, err);
	while (n == 0) {
		double left = deadline - imap_now_ms();
		unsigned wait;

		if (c->idle_cmd && imap_idle_tick(c, err) < 0)
			return -1;
		/* The socket is looked at once even with no time left: a
		 * caller whose poll() said "readable" passes 0. */
		if (left <= 0 && read_once)
			return 0;
		wait = left <= 0 ? 0 : left > imap_idle_due_ms(c) ?
			imap_idle_due_ms(c) : (unsigned)left + 1;
		n = poll_once(c, wait, err);
		read_once = true;
	}
	return n < 0 ? -1 : 1;
}
