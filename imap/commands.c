/* commands.c - one function per IMAP command.
 *
 * Each builds its command from pieces (command.c), hangs handlers on it
 * for the untagged answers it expects, runs it, and turns a NO/BAD into
 * one line naming the command and its object: "SELECT Archive: NO
 * [NONEXISTENT] Mailbox doesn't exist".  Untagged data always also
 * reaches the connection's events.
 */
#include "imap_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/arena.h"

/* Send, wait, and judge.  cmd may be NULL (allocation failed). */
static int run(struct imap_cmd *cmd, struct imap_result *res,
	       struct pn_error *err)
{
	struct imap_result tmp;
	char label[sizeof(cmd->label)];

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	memcpy(label, cmd->label, sizeof(label));
	if (imap_cmd_send(cmd, err) < 0 || imap_cmd_wait(cmd, res, err) < 0)
		return -1;
	return imap_cmd_result_error(label, res, err);
}

static int run_simple(struct imap_conn *c, const char *name,
		      struct pn_error *err)
{
	struct pn_error tmp;

	return run(imap_cmd_new(c, name, NULL), NULL, err ? err : &tmp);
}

#define ERRP(err)                      \
	struct pn_error err##_tmp;     \
	if (!(err))                    \
		(err) = &err##_tmp

/* ---- connection-level ---- */

int imap_capability(struct imap_conn *c, struct pn_error *err)
{
	return run_simple(c, "CAPABILITY", err);
}

int imap_noop(struct imap_conn *c, struct pn_error *err)
{
	return run_simple(c, "NOOP", err);
}

int imap_check(struct imap_conn *c, struct pn_error *err)
{
	return run_simple(c, "CHECK", err);
}

/* The server answers BYE and hangs up, possibly before or right after
 * the tagged OK: either way the session is over.  A connection that
 * drops after LOGOUT went out ended the session too (and some streams,
 * a DEFLATE end say, lose the final BYE/OK): nothing is lost. */
int imap_logout(struct imap_conn *c, struct pn_error *err)
{
	struct imap_cmd *cmd;
	struct imap_result res;

	ERRP(err);
	cmd = imap_cmd_new(c, "LOGOUT", NULL);
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (imap_cmd_send(cmd, err) < 0)
		return -1;
	c->state = IMAP_STATE_LOGOUT;
	if (imap_cmd_wait(cmd, &res, err) < 0) {
		imap_trace_note(c, "LOGOUT: %s (the session is over anyway)",
				err->msg);
		return 0;
	}
	return imap_cmd_result_error("LOGOUT", &res, err);
}

int imap_enable(struct imap_conn *c, const char *const *caps, size_t n,
		struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, "ENABLE", NULL);
	size_t i;

	ERRP(err);
	for (i = 0; i < n; i++)
		imap_cmd_atom(cmd, caps[i]);
	return run(cmd, NULL, err);
}

/* fields: name, value, name, value ... (n strings); a NULL value is NIL. */
int imap_id(struct imap_conn *c, const char *const *fields, size_t n,
	    struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, "ID", NULL);
	size_t i;

	ERRP(err);
	if (n == 0) {
		imap_cmd_atom(cmd, "NIL");
		return run(cmd, NULL, err);
	}
	imap_cmd_atom(cmd, "(");
	for (i = 0; i < n; i++) {
		if (fields[i])
			imap_cmd_string(cmd, fields[i]);
		else
			imap_cmd_atom(cmd, "NIL");
	}
	imap_cmd_raw(cmd, ")");
	return run(cmd, NULL, err);
}

struct ns_ctx {
	struct imap_conn *c;
	struct imap_namespaces *out;
	bool got;
	struct pn_error err;
};

static const struct imap_namespace_entry *
ns_copy(struct pn_arena *a, const struct imap_namespace_entry *e, size_t n)
{
	struct imap_namespace_entry *d;
	size_t i;

	if (!n)
		return NULL;
	d = pn_arena_alloc(a, n * sizeof(*d));
	for (i = 0; d && i < n; i++) {
		d[i].delimiter = e[i].delimiter;
		d[i].prefix = e[i].prefix ? pn_arena_strdup(a, e[i].prefix) :
			NULL;
	}
	return d;
}

static void on_namespace(void *ctx, const struct imap_response *r)
{
	struct ns_ctx *x = ctx;
	struct imap_namespaces ns;
	struct pn_arena *a = x->c->ns_arena;

	if (r->status != IMAP_STATUS_NONE || !r->name ||
	    strcmp(r->name, "NAMESPACE"))
		return;
	if (imap_namespace_decode(r, &ns, &x->err) < 0)
		return;
	x->out->personal = ns_copy(a, ns.personal, ns.npersonal);
	x->out->other = ns_copy(a, ns.other, ns.nother);
	x->out->shared = ns_copy(a, ns.shared, ns.nshared);
	x->out->npersonal = ns.npersonal;
	x->out->nother = ns.nother;
	x->out->nshared = ns.nshared;
	x->got = true;
}

/* The answer lives in the connection until the next NAMESPACE. */
int imap_namespace(struct imap_conn *c, struct imap_namespaces *out,
		   struct pn_error *err)
{
	struct ns_ctx x = { c, out, false, { 0 } };
	struct imap_cmd *cmd;

	ERRP(err);
	memset(out, 0, sizeof(*out));
	pn_arena_free(&c->ns_arena);
	c->ns_arena = pn_arena_new();
	if (!c->ns_arena)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	cmd = imap_cmd_new(c, "NAMESPACE", NULL);
	imap_cmd_on_untagged(cmd, on_namespace, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		return -1;
	}
	if (!x.got)
		return pn_error_set(err, PN_EPARSE,
				    "NAMESPACE: no NAMESPACE response");
	return 0;
}

int imap_compress(struct imap_conn *c, struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, "COMPRESS", NULL);

	ERRP(err);
	imap_cmd_atom(cmd, "DEFLATE");
	if (run(cmd, NULL, err) < 0)
		return -1;
	/* RFC 4978: compression starts right after the tagged OK. */
	if (imap_transport_start_deflate(c->t, err) < 0)
		return imap_conn_fail(c, err);
	c->compressed = true;
	return 0;
}

/* Is r the untagged data response called name? */
static bool is_data(const struct imap_response *r, const char *name)
{
	return r->status == IMAP_STATUS_NONE && r->name &&
		!strcmp(r->name, name);
}

/* ---- SELECT / EXAMINE ---- */

struct select_ctx {
	struct imap_mailbox_info *out;
	bool oom;
};

/* A NULL-terminated malloc'd copy of a flag list. */
static char **copy_flags(const struct imap_arg *list, bool *oom)
{
	char **v;
	size_t i, n = 0;

	if (!list || list->type != IMAP_ARG_LIST)
		return NULL;
	v = calloc(list->nlist + 1, sizeof(*v));
	if (!v) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < list->nlist; i++) {
		if (list->list[i].type != IMAP_ARG_ATOM)
			continue;
		v[n] = strdup(list->list[i].str);
		if (!v[n++])
			*oom = true;
	}
	return v;
}

static void free_flags(char ***v)
{
	size_t i;

	if (!*v)
		return;
	for (i = 0; (*v)[i]; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

static void select_code(struct select_ctx *x, const struct imap_response *r)
{
	struct imap_mailbox_info *m = x->out;
	const struct imap_arg *a = r->ncode_args ? &r->code_args[0] : NULL;

	if (!strcmp(r->code, "UIDVALIDITY") && a)
		(void)imap_arg_u32(a, &m->uidvalidity);
	else if (!strcmp(r->code, "UIDNEXT") && a)
		(void)imap_arg_u32(a, &m->uidnext);
	else if (!strcmp(r->code, "UNSEEN") && a)
		(void)imap_arg_u32(a, &m->unseen);
	else if (!strcmp(r->code, "HIGHESTMODSEQ") && a)
		(void)imap_arg_u64(a, &m->highestmodseq);
	else if (!strcmp(r->code, "NOMODSEQ"))
		m->highestmodseq = 0;
	else if (!strcmp(r->code, "PERMANENTFLAGS")) {
		free_flags(&m->permanent_flags);
		m->permanent_flags = copy_flags(a, &x->oom);
	} else if (!strcmp(r->code, "CLOSED")) {
		/* RFC 7162 3.2.11: what came before was the old mailbox's. */
		bool ro = m->read_only;

		imap_mailbox_info_free(m);
		memset(m, 0, sizeof(*m));
		m->read_only = ro;
	}
}

static void on_select(void *ctx, const struct imap_response *r)
{
	struct select_ctx *x = ctx;

	if (r->code && r->status == IMAP_STATUS_OK)
		select_code(x, r);
	else if (is_data(r, "EXISTS") && r->has_number)
		x->out->exists = r->number;
	else if (is_data(r, "RECENT") && r->has_number)
		x->out->recent = r->number;
	else if (is_data(r, "FLAGS") && r->nargs == 1) {
		free_flags(&x->out->flags);
		x->out->flags = copy_flags(&r->args[0], &x->oom);
	}
}

static void on_select_done(void *ctx, const struct imap_response *r)
{
	struct select_ctx *x = ctx;

	if (r->code && !strcmp(r->code, "READ-ONLY"))
		x->out->read_only = true;
	else if (r->code && !strcmp(r->code, "READ-WRITE"))
		x->out->read_only = false;
}

static void select_params(struct imap_conn *c, struct imap_cmd *cmd,
			  const struct imap_qresync *q, bool condstore)
{
	char num[64];

	if (q) {
		/* RFC 7162 3.2.5: (QRESYNC (uidvalidity modseq [uids])) */
		snprintf(num, sizeof(num), "(QRESYNC (%u %llu", q->uidvalidity,
			 (unsigned long long)q->modseq);
		imap_cmd_atom(cmd, num);
		if (q->known_uids && q->known_uids->n)
			imap_cmd_seqset(cmd, q->known_uids);
		imap_cmd_raw(cmd, "))");
	} else if (condstore && imap_caps_has(c->caps, "CONDSTORE")) {
		imap_cmd_atom(cmd, "(CONDSTORE)");
	}
}

/* QRESYNC needs ENABLE first (RFC 7162 3.2.3); do it once, quietly. */
static int enable_qresync(struct imap_conn *c, struct pn_error *err)
{
	static const char *const q[] = { "QRESYNC" };

	if (c->qresync)
		return 0;
	if (!imap_caps_has(c->caps, "QRESYNC"))
		return pn_error_set(err, PN_EUNSUPPORTED, "%s: server does "
				    "not offer QRESYNC", c->peer);
	return imap_enable(c, q, 1, err);
}

int imap_select(struct imap_conn *c, const char *mailbox, bool read_only,
		const struct imap_qresync *qresync, bool condstore,
		struct imap_mailbox_info *out, struct pn_error *err)
{
	struct imap_mailbox_info tmp;
	struct select_ctx x;
	const char *name = read_only ? "EXAMINE" : "SELECT";
	struct imap_cmd *cmd;
	int rc;

	ERRP(err);
	if (!out)
		out = &tmp;
	memset(out, 0, sizeof(*out));
	x = (struct select_ctx){ out, false };
	out->read_only = read_only;
	if (qresync && enable_qresync(c, err) < 0)
		return -1;
	cmd = imap_cmd_new(c, name, NULL);
	imap_cmd_label(cmd, "%s %s", name, mailbox);
	imap_cmd_mailbox(cmd, mailbox);
	select_params(c, cmd, qresync, condstore);
	imap_cmd_on_untagged(cmd, on_select, &x);
	imap_cmd_on_tagged(cmd, on_select_done, &x);
	/* RFC 3501 6.3.1: a SELECT, even a failed one, closes the current
	 * mailbox. */
	if (c->state == IMAP_STATE_SELECTED)
		c->state = IMAP_STATE_AUTHENTICATED;
	rc = run(cmd, NULL, err);
	if (rc == 0 && x.oom)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	if (rc == 0)
		c->state = IMAP_STATE_SELECTED;
	if (rc < 0 || out == &tmp)
		imap_mailbox_info_free(out);
	return rc;
}

void imap_mailbox_info_free(struct imap_mailbox_info *m)
{
	if (!m)
		return;
	free_flags(&m->flags);
	free_flags(&m->permanent_flags);
}

static int leave_mailbox(struct imap_conn *c, const char *name,
			 struct pn_error *err)
{
	ERRP(err);
	if (run_simple(c, name, err) < 0)
		return -1;
	c->state = IMAP_STATE_AUTHENTICATED;
	return 0;
}

int imap_unselect(struct imap_conn *c, struct pn_error *err)
{
	return leave_mailbox(c, "UNSELECT", err);
}

int imap_close(struct imap_conn *c, struct pn_error *err)
{
	return leave_mailbox(c, "CLOSE", err);
}

/* ---- mailboxes ---- */

static struct imap_cmd *mailbox_cmd(struct imap_conn *c, const char *name,
				    const char *mailbox)
{
	struct imap_cmd *cmd = imap_cmd_new(c, name, NULL);

	imap_cmd_label(cmd, "%s %s", name, mailbox);
	imap_cmd_mailbox(cmd, mailbox);
	return cmd;
}

int imap_create(struct imap_conn *c, const char *mailbox,
		const char *special_use, struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "CREATE", mailbox);

	ERRP(err);
	/* RFC 6154 3: CREATE name (USE (\Sent)) */
	if (special_use && *special_use) {
		imap_cmd_atom(cmd, "(USE (");
		imap_cmd_raw(cmd, special_use);
		imap_cmd_raw(cmd, "))");
	}
	return run(cmd, NULL, err);
}

int imap_delete(struct imap_conn *c, const char *mailbox,
		struct pn_error *err)
{
	ERRP(err);
	return run(mailbox_cmd(c, "DELETE", mailbox), NULL, err);
}

int imap_rename(struct imap_conn *c, const char *from, const char *to,
		struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "RENAME", from);

	ERRP(err);
	imap_cmd_label(cmd, "RENAME %s %s", from, to);
	imap_cmd_mailbox(cmd, to);
	return run(cmd, NULL, err);
}

int imap_subscribe(struct imap_conn *c, const char *mailbox, bool subscribe,
		   struct pn_error *err)
{
	ERRP(err);
	return run(mailbox_cmd(c, subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE",
			       mailbox), NULL, err);
}

/* ---- LIST / LSUB / STATUS ---- */

struct list_ctx {
	struct imap_conn *c;
	bool lsub;
	void (*fn)(void *ctx, const struct imap_list_entry *e,
		   const struct imap_status_info *st);
	void *ctx;
	struct pn_error err;
};

/* LIST entries and (LIST-STATUS) STATUS answers are handed over one at
 * a time, as they arrive: fn(e, NULL) or fn(NULL, st).  A LIST-STATUS
 * server sends a mailbox's STATUS right after its LIST. */
static void on_list(void *ctx, const struct imap_response *r)
{
	struct list_ctx *x = ctx;
	struct imap_list_entry e;
	struct imap_status_info st;

	if (is_data(r, x->lsub ? "LSUB" : "LIST")) {
		if (imap_list_decode(r, x->c->utf8_accept, &e, &x->err) == 0)
			x->fn(x->ctx, &e, NULL);
	} else if (is_data(r, "STATUS")) {
		if (imap_status_decode(r, x->c->utf8_accept, &st,
				       &x->err) == 0)
			x->fn(x->ctx, NULL, &st);
	}
}

static void list_pattern(struct imap_cmd *cmd, const char *s)
{
	/* list-mailbox allows the wildcards in an atom; quote otherwise. */
	if (*s && strspn(s, "%*") == strlen(s))
		imap_cmd_atom(cmd, s);
	else
		imap_cmd_mailbox(cmd, s);
}

int imap_list(struct imap_conn *c, const char *ref, const char *pattern,
	      const struct imap_list_opts *opts,
	      void (*fn)(void *ctx, const struct imap_list_entry *e,
			 const struct imap_status_info *st),
	      void *ctx, struct pn_error *err)
{
	struct list_ctx x = { c, opts && opts->lsub, fn, ctx, { 0 } };
	struct imap_cmd *cmd = imap_cmd_new(c, x.lsub ? "LSUB" : "LIST", NULL);

	ERRP(err);
	imap_cmd_label(cmd, "%s \"%s\" \"%s\"", x.lsub ? "LSUB" : "LIST",
		       ref ? ref : "", pattern);
	if (!x.lsub && opts && opts->select && *opts->select) {
		imap_cmd_atom(cmd, "(");
		imap_cmd_raw(cmd, opts->select);
		imap_cmd_raw(cmd, ")");
	}
	list_pattern(cmd, ref ? ref : "");
	list_pattern(cmd, pattern);
	if (!x.lsub && opts && opts->ret && *opts->ret) {
		imap_cmd_atom(cmd, "RETURN (");
		imap_cmd_raw(cmd, opts->ret);
		imap_cmd_raw(cmd, ")");
	}
	if (fn)
		imap_cmd_on_untagged(cmd, on_list, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		return -1;
	}
	return 0;
}

struct status_ctx {
	struct imap_conn *c;
	struct imap_status_info *out;
	bool got;
	struct pn_error err;
};

static void on_status(void *ctx, const struct imap_response *r)
{
	struct status_ctx *x = ctx;

	if (!is_data(r, "STATUS") || x->got)
		return;
	if (imap_status_decode(r, x->c->utf8_accept, x->out, &x->err) == 0)
		x->got = true;
	/* The name points into the response, gone after this call. */
	x->out->name = NULL;
}

int imap_status(struct imap_conn *c, const char *mailbox, const char *items,
		struct imap_status_info *out, struct pn_error *err)
{
	struct imap_status_info tmp;
	struct status_ctx x = { c, out ? out : &tmp, false, { 0 } };
	struct imap_cmd *cmd = mailbox_cmd(c, "STATUS", mailbox);

	ERRP(err);
	memset(x.out, 0, sizeof(*x.out));
	imap_cmd_atom(cmd, "(");
	imap_cmd_raw(cmd, items && *items ? items :
		     "MESSAGES UNSEEN UIDNEXT UIDVALIDITY");
	imap_cmd_raw(cmd, ")");
	imap_cmd_on_untagged(cmd, on_status, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		return -1;
	}
	if (!x.got)
		return pn_error_set(err, PN_EPARSE, "STATUS %s: the server "
				    "sent no STATUS response", mailbox);
	return 0;
}

/* ---- APPEND ---- */

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* RFC 3501 date-time: "25-Nov-2026 17:06:28 +0100" (day space-padded). */
static void add_date(struct imap_cmd *cmd, time_t t, int tz)
{
	time_t local = t + (time_t)tz * 60;
	int az = tz < 0 ? -tz : tz;
	struct tm tm;
	char s[64];

	gmtime_r(&local, &tm);
	snprintf(s, sizeof(s), "\"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"",
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, tz < 0 ? '-' : '+', az / 60, az % 60);
	imap_cmd_atom(cmd, s);
}

static void add_flag_list(struct imap_cmd *cmd, const char *const *flags,
			  size_t n)
{
	size_t i;

	imap_cmd_atom(cmd, "(");
	for (i = 0; i < n; i++)
		imap_cmd_atom(cmd, flags[i]);
	imap_cmd_raw(cmd, ")");
}

static void add_message(struct imap_conn *c, struct imap_cmd *cmd,
			const struct imap_append_msg *m)
{
	bool binary = m->binary && imap_caps_has(c->caps, "BINARY");

	if (m->flags && m->nflags)
		add_flag_list(cmd, m->flags, m->nflags);
	if (m->date)
		add_date(cmd, m->date, m->date_tz);
	if (m->data)
		imap_cmd_literal(cmd, m->data, (size_t)m->size, binary);
	else
		imap_cmd_literal_fd(cmd, m->fd, m->size, binary);
}

struct append_ctx {
	struct imap_append_result *out;
	bool oom;
};

/* [APPENDUID uidvalidity uid-set] (RFC 4315 3). */
static void on_append_done(void *ctx, const struct imap_response *r)
{
	struct append_ctx *x = ctx;
	struct imap_seqset s = { 0 };
	const struct imap_arg *a = r->code_args;
	size_t i;

	if (!r->code || strcmp(r->code, "APPENDUID") || r->ncode_args < 2 ||
	    a[1].type != IMAP_ARG_ATOM || !imap_arg_u32(&a[0],
							&x->out->uidvalidity))
		return;
	if (imap_seqset_parse(&s, a[1].str, a[1].len, NULL) == 0)
		for (i = 0; i < s.n; i++)
			if (imap_seqset_add(&x->out->uids, s.r[i].lo,
					    s.r[i].hi) < 0)
				x->oom = true;
	imap_seqset_free(&s);
}

static int check_appendlimit(struct imap_conn *c, const char *mailbox,
			     const struct imap_append_msg *msgs, size_t n,
			     struct pn_error *err)
{
	uint64_t limit = imap_caps_appendlimit(c->caps);
	size_t i;

	for (i = 0; limit && i < n; i++)
		if (msgs[i].size > limit)
			return pn_error_set(err, PN_ELIMIT, "APPEND %s: message "
					    "%zu is %llu bytes, over the "
					    "server's APPENDLIMIT of %llu",
					    mailbox, i + 1,
					    (unsigned long long)msgs[i].size,
					    (unsigned long long)limit);
	return 0;
}

static int append_some(struct imap_conn *c, const char *mailbox,
		       const struct imap_append_msg *msgs, size_t n,
		       struct append_ctx *x, struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "APPEND", mailbox);
	size_t i;

	for (i = 0; i < n; i++)
		add_message(c, cmd, &msgs[i]);
	imap_cmd_on_tagged(cmd, on_append_done, x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	return x->oom ? pn_error_set(err, PN_ENOMEM, "out of memory") : 0;
}

int imap_append(struct imap_conn *c, const char *mailbox,
		const struct imap_append_msg *msgs, size_t n,
		struct imap_append_result *out, struct pn_error *err)
{
	struct imap_append_result tmp = { 0 };
	struct append_ctx x = { out ? out : &tmp, false };
	size_t i;
	int rc = 0;

	ERRP(err);
	memset(x.out, 0, sizeof(*x.out));
	if (check_appendlimit(c, mailbox, msgs, n, err) < 0)
		return -1;
	/* RFC 3502: one command, all or nothing. */
	if (n > 1 && imap_caps_has(c->caps, "MULTIAPPEND"))
		rc = append_some(c, mailbox, msgs, n, &x, err);
	else
		for (i = 0; i < n && rc == 0; i++)
			rc = append_some(c, mailbox, &msgs[i], 1, &x, err);
	if (!out)
		imap_seqset_free(&tmp.uids);
	return rc;
}

/* ---- in a selected mailbox ---- */

static struct imap_cmd *uid_cmd(struct imap_conn *c, bool uid,
				const char *name)
{
	char full[32];

	snprintf(full, sizeof(full), "%s%s", uid ? "UID " : "", name);
	return imap_cmd_new(c, full, NULL);
}

int imap_expunge(struct imap_conn *c, const struct imap_seqset *uids,
		 struct pn_error *err)
{
	struct imap_cmd *cmd;

	ERRP(err);
	if (!uids)
		return run_simple(c, "EXPUNGE", err);
	cmd = uid_cmd(c, true, "EXPUNGE");
	imap_cmd_seqset(cmd, uids);
	return run(cmd, NULL, err);
}

struct search_ctx {
	struct imap_search_result *out;
	const char *name;	/* "SEARCH" or "SORT" */
	struct pn_error err;
};

static void on_search(void *ctx, const struct imap_response *r)
{
	struct search_ctx *x = ctx;

	if (!is_data(r, x->name) && !is_data(r, "ESEARCH"))
		return;
	if (imap_search_decode(r, x->out, &x->err) < 0)
		return;
	/* Points into the response; our command's tag is known anyway. */
	x->out->tag = NULL;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static int run_search(struct imap_cmd *cmd, struct search_ctx *x,
		      struct pn_error *err)
{
	imap_cmd_on_untagged(cmd, on_search, x);
	if (run(cmd, NULL, err) < 0) {
		imap_search_result_free(x->out);
		return -1;
	}
	if (x->err.msg[0]) {
		*err = x->err;
		imap_search_result_free(x->out);
		return -1;
	}
	return 0;
}

/* One word of a search program: a quoted string (unescaped into *out)
 * or a run up to a space or parenthesis.  Returns the end. */
static const char *program_word(const char *p, struct pn_buf *out, bool *ok)
{
	pn_buf_reset(out);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			*ok &= pn_buf_addc(out, *p) == 0;
		}
		return *p ? p + 1 : p;
	}
	for (; *p && *p != ' ' && *p != '(' && *p != ')'; p++)
		*ok &= pn_buf_addc(out, *p) == 0;
	return p;
}

/* Text between literals: no doubled spaces, and ")" right after one. */
static void program_text(struct imap_cmd *cmd, struct pn_buf *text)
{
	const char *t = pn_buf_cstr(text);
	size_t n = text->len;

	while (*t == ' ')
		t++, n--;
	while (n && t[n - 1] == ' ')
		n--;
	if (n) {
		char *copy = strndup(t, n);

		if (!copy)
			cmd->failed = true;
		else if (*copy == ')')
			imap_cmd_raw(cmd, copy);
		else
			imap_cmd_atom(cmd, copy);
		free(copy);
	}
	pn_buf_reset(text);
}

/* The search program as the user wrote it, except that a word with
 * 8-bit bytes (a UTF-8 name, say) becomes a literal: RFC 3501 allows
 * them in neither atoms nor quoted strings. */
static void add_program(struct imap_cmd *cmd, const char *prog)
{
	struct pn_buf word = { 0 }, text = { 0 };
	const char *p = prog, *end;
	bool ok = true;

	if (!cmd)
		return;
	while (*p) {
		end = program_word(p, &word, &ok);
		if (end == p) {
			ok &= pn_buf_addc(&text, *p++) == 0;
		} else if (is_ascii(pn_buf_cstr(&word))) {
			ok &= pn_buf_add(&text, p, (size_t)(end - p)) == 0;
		} else {
			program_text(cmd, &text);
			imap_cmd_literal_copy(cmd, word.data, word.len);
		}
		p = end > p ? end : p;
	}
	program_text(cmd, &text);
	if (!ok && !cmd->failed) {
		cmd->failed = true;
		pn_error_set(&cmd->build_err, PN_ENOMEM, "out of memory");
	}
	pn_buf_free(&word);
	pn_buf_free(&text);
}

int imap_search(struct imap_conn *c, bool uid, const char *charset,
		const char *criteria, const char *ret,
		struct imap_search_result *out, struct pn_error *err)
{
	struct search_ctx x = { out, "SEARCH", { 0 } };
	struct imap_cmd *cmd = uid_cmd(c, uid, "SEARCH");

	ERRP(err);
	memset(out, 0, sizeof(*out));
	if (ret && imap_caps_has(c->caps, "ESEARCH")) {
		imap_cmd_atom(cmd, "RETURN (");
		imap_cmd_raw(cmd, ret);
		imap_cmd_raw(cmd, ")");
	}
	if (!charset && !is_ascii(criteria))
		charset = "UTF-8";
	if (charset) {
		imap_cmd_atom(cmd, "CHARSET");
		imap_cmd_astring(cmd, charset);
	}
	add_program(cmd, criteria);
	return run_search(cmd, &x, err);
}

int imap_sort(struct imap_conn *c, bool uid, const char *sort_criteria,
	      const char *charset, const char *search,
	      struct imap_search_result *out, struct pn_error *err)
{
	struct search_ctx x = { out, "SORT", { 0 } };
	struct imap_cmd *cmd = uid_cmd(c, uid, "SORT");

	ERRP(err);
	memset(out, 0, sizeof(*out));
	imap_cmd_atom(cmd, sort_criteria);
	imap_cmd_astring(cmd, charset ? charset : "UTF-8");
	add_program(cmd, search && *search ? search : "ALL");
	return run_search(cmd, &x, err);
}

struct thread_ctx {
	void (*fn)(void *ctx, const struct imap_response *r);
	void *ctx;
};

static void on_thread(void *ctx, const struct imap_response *r)
{
	struct thread_ctx *x = ctx;

	if (is_data(r, "THREAD") && x->fn)
		x->fn(x->ctx, r);
}

int imap_thread(struct imap_conn *c, bool uid, const char *algorithm,
		const char *charset, const char *search,
		void (*fn)(void *ctx, const struct imap_response *r),
		void *ctx, struct pn_error *err)
{
	struct thread_ctx x = { fn, ctx };
	struct imap_cmd *cmd = uid_cmd(c, uid, "THREAD");

	ERRP(err);
	imap_cmd_atom(cmd, algorithm ? algorithm : "REFERENCES");
	imap_cmd_astring(cmd, charset ? charset : "UTF-8");
	add_program(cmd, search && *search ? search : "ALL");
	imap_cmd_on_untagged(cmd, on_thread, &x);
	return run(cmd, NULL, err);
}

struct fetch_ctx {
	void (*fn)(void *ctx, const struct imap_fetch *f);
	void *ctx;
	struct pn_error err;
};

static void on_fetch(void *ctx, const struct imap_response *r)
{
	struct fetch_ctx *x = ctx;
	struct imap_fetch f;
	struct pn_error e;

	if (!is_data(r, "FETCH"))
		return;
	/* One undecodable response must not hide the others: report the
	 * first after the command completes. */
	if (imap_fetch_decode(r, &f, &e) < 0) {
		if (!x->err.msg[0])
			x->err = e;
		return;
	}
	if (x->fn)
		x->fn(x->ctx, &f);
}

int imap_fetch(struct imap_conn *c, bool uid, const struct imap_seqset *set,
	       const char *items, const char *modifiers,
	       void (*fn)(void *ctx, const struct imap_fetch *f),
	       void *ctx, struct pn_error *err)
{
	struct fetch_ctx x = { fn, ctx, { 0 } };
	struct imap_cmd *cmd = uid_cmd(c, uid, "FETCH");

	ERRP(err);
	imap_cmd_seqset(cmd, set);
	imap_cmd_atom(cmd, items);
	if (modifiers && *modifiers)
		imap_cmd_atom(cmd, modifiers);
	imap_cmd_on_untagged(cmd, on_fetch, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		pn_error_prefix(err, "FETCH");
		return -1;
	}
	return 0;
}

struct store_ctx {
	struct imap_seqset *modified;
	struct pn_error err;
};

/* [MODIFIED set] (RFC 7162 3.1.3) on the tagged OK or NO. */
static void on_store_done(void *ctx, const struct imap_response *r)
{
	struct store_ctx *x = ctx;
	const struct imap_arg *a = r->code_args;

	if (!x->modified || !r->code || strcmp(r->code, "MODIFIED") ||
	    r->ncode_args < 1 || a[0].type != IMAP_ARG_ATOM)
		return;
	if (imap_seqset_parse(x->modified, a[0].str, a[0].len, &x->err) < 0)
		pn_error_prefix(&x->err, "STORE: MODIFIED");
}

int imap_store(struct imap_conn *c, bool uid, const struct imap_seqset *set,
	       const char *action, const char *const *flags, size_t nflags,
	       uint64_t unchangedsince, struct imap_seqset *modified,
	       struct pn_error *err)
{
	struct store_ctx x = { modified, { 0 } };
	struct imap_cmd *cmd = uid_cmd(c, uid, "STORE");
	char mod[64];

	ERRP(err);
	if (modified)
		imap_seqset_clear(modified);
	imap_cmd_seqset(cmd, set);
	if (unchangedsince) {
		snprintf(mod, sizeof(mod), "(UNCHANGEDSINCE %llu)",
			 (unsigned long long)unchangedsince);
		imap_cmd_atom(cmd, mod);
	}
	imap_cmd_atom(cmd, action);
	add_flag_list(cmd, flags, nflags);
	imap_cmd_on_tagged(cmd, on_store_done, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		return -1;
	}
	return 0;
}

struct copy_ctx {
	struct imap_code_info *out;
	struct pn_error err;
};

/* COPYUID comes on the tagged OK (COPY) or an untagged OK before the
 * expunges (MOVE, RFC 6851 4.3). */
static void on_copyuid(void *ctx, const struct imap_response *r)
{
	struct copy_ctx *x = ctx;

	if (!r->code || strcmp(r->code, "COPYUID") ||
	    r->status != IMAP_STATUS_OK)
		return;
	imap_code_info_free(x->out);
	if (imap_code_decode(r, x->out, &x->err) < 0)
		return;
	/* Strings and lists point into the response. */
	x->out->code = NULL;
	x->out->list = NULL;
	x->out->nlist = 0;
}

static int copy_once(struct imap_conn *c, bool uid, const char *name,
		     const struct imap_seqset *set, const char *mailbox,
		     struct imap_code_info *out, struct pn_error *err)
{
	struct copy_ctx x = { out, { 0 } };
	struct imap_cmd *cmd = uid_cmd(c, uid, name);

	imap_cmd_label(cmd, "%s%s %s", uid ? "UID " : "", name, mailbox);
	imap_cmd_seqset(cmd, set);
	imap_cmd_mailbox(cmd, mailbox);
	imap_cmd_on_untagged(cmd, on_copyuid, &x);
	imap_cmd_on_tagged(cmd, on_copyuid, &x);
	if (run(cmd, NULL, err) < 0)
		return -1;
	if (x.err.msg[0]) {
		*err = x.err;
		return -1;
	}
	return 0;
}

/* RFC 6851 3.3: without MOVE, COPY + \Deleted + UID EXPUNGE of exactly
 * those messages; plain EXPUNGE would take others marked \Deleted. */
static int move_fallback(struct imap_conn *c, bool uid,
			 const struct imap_seqset *set, const char *mailbox,
			 struct imap_code_info *out, struct pn_error *err)
{
	static const char *const del[] = { "\\Deleted" };
	const struct imap_seqset *uids = uid ? set : &out->src_uids;

	if (!imap_caps_has(c->caps, "UIDPLUS"))
		return pn_error_set(err, PN_EUNSUPPORTED, "MOVE %s: the "
				    "server offers neither MOVE nor UIDPLUS",
				    mailbox);
	if (copy_once(c, uid, "COPY", set, mailbox, out, err) < 0)
		return -1;
	if (!uids->n)
		return pn_error_set(err, PN_EUNSUPPORTED, "MOVE %s: COPY gave "
				    "no COPYUID; the originals stay",
				    mailbox);
	if (imap_store(c, true, uids, "+FLAGS.SILENT", del, 1, 0, NULL,
		       err) < 0)
		return -1;
	return imap_expunge(c, uids, err);
}

int imap_copy(struct imap_conn *c, bool uid, bool move,
	      const struct imap_seqset *set, const char *mailbox,
	      struct imap_code_info *out, struct pn_error *err)
{
	struct imap_code_info tmp;
	int rc;

	ERRP(err);
	if (!out)
		out = &tmp;
	memset(out, 0, sizeof(*out));
	if (move && !imap_caps_has(c->caps, "MOVE"))
		rc = move_fallback(c, uid, set, mailbox, out, err);
	else
		rc = copy_once(c, uid, move ? "MOVE" : "COPY", set, mailbox,
			       out, err);
	if (out == &tmp)
		imap_code_info_free(&tmp);
	return rc;
}

/* ---- QUOTA, ACL, METADATA: the answers go to fn undecoded ---- */

struct pass_ctx {
	const char *names[2];
	imap_untagged_fn fn;
	void *ctx;
};

static void on_pass(void *ctx, const struct imap_response *r)
{
	struct pass_ctx *x = ctx;

	if (!x->fn)
		return;
	if (is_data(r, x->names[0]) || (x->names[1] && is_data(r, x->names[1])))
		x->fn(x->ctx, r);
}

static int run_pass(struct imap_cmd *cmd, const char *n1, const char *n2,
		    imap_untagged_fn fn, void *ctx, struct pn_error *err)
{
	struct pass_ctx x = { { n1, n2 }, fn, ctx };

	imap_cmd_on_untagged(cmd, on_pass, &x);
	return run(cmd, NULL, err);
}

int imap_getquota(struct imap_conn *c, const char *root, imap_untagged_fn fn,
		  void *ctx, struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, "GETQUOTA", NULL);

	ERRP(err);
	imap_cmd_label(cmd, "GETQUOTA \"%s\"", root);
	imap_cmd_astring(cmd, root);
	return run_pass(cmd, "QUOTA", NULL, fn, ctx, err);
}

int imap_getquotaroot(struct imap_conn *c, const char *mailbox,
		      imap_untagged_fn fn, void *ctx, struct pn_error *err)
{
	ERRP(err);
	return run_pass(mailbox_cmd(c, "GETQUOTAROOT", mailbox), "QUOTAROOT",
			"QUOTA", fn, ctx, err);
}

int imap_setquota(struct imap_conn *c, const char *root,
		  const char *resources, struct pn_error *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c, "SETQUOTA", NULL);

	ERRP(err);
	imap_cmd_label(cmd, "SETQUOTA \"%s\"", root);
	imap_cmd_astring(cmd, root);
	imap_cmd_atom(cmd, "(");
	imap_cmd_raw(cmd, resources ? resources : "");
	imap_cmd_raw(cmd, ")");
	return run(cmd, NULL, err);
}

int imap_getacl(struct imap_conn *c, const char *mailbox, imap_untagged_fn fn,
		void *ctx, struct pn_error *err)
{
	ERRP(err);
	return run_pass(mailbox_cmd(c, "GETACL", mailbox), "ACL", NULL, fn,
			ctx, err);
}

int imap_setacl(struct imap_conn *c, const char *mailbox, const char *who,
		const char *rights, struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "SETACL", mailbox);

	ERRP(err);
	imap_cmd_astring(cmd, who);
	imap_cmd_astring(cmd, rights);
	return run(cmd, NULL, err);
}

int imap_deleteacl(struct imap_conn *c, const char *mailbox, const char *who,
		   struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "DELETEACL", mailbox);

	ERRP(err);
	imap_cmd_astring(cmd, who);
	return run(cmd, NULL, err);
}

int imap_myrights(struct imap_conn *c, const char *mailbox,
		  imap_untagged_fn fn, void *ctx, struct pn_error *err)
{
	ERRP(err);
	return run_pass(mailbox_cmd(c, "MYRIGHTS", mailbox), "MYRIGHTS", NULL,
			fn, ctx, err);
}

int imap_listrights(struct imap_conn *c, const char *mailbox, const char *who,
		    imap_untagged_fn fn, void *ctx, struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "LISTRIGHTS", mailbox);

	ERRP(err);
	imap_cmd_astring(cmd, who);
	return run_pass(cmd, "LISTRIGHTS", NULL, fn, ctx, err);
}

int imap_getmetadata(struct imap_conn *c, const char *mailbox,
		     const char *const *entries, size_t n, imap_untagged_fn fn,
		     void *ctx, struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "GETMETADATA", mailbox);
	size_t i;

	ERRP(err);
	imap_cmd_atom(cmd, "(");
	for (i = 0; i < n; i++)
		imap_cmd_astring(cmd, entries[i]);
	imap_cmd_raw(cmd, ")");
	return run_pass(cmd, "METADATA", NULL, fn, ctx, err);
}

int imap_setmetadata(struct imap_conn *c, const char *mailbox,
		     const char *entry, const char *value,
		     struct pn_error *err)
{
	struct imap_cmd *cmd = mailbox_cmd(c, "SETMETADATA", mailbox);

	ERRP(err);
	imap_cmd_atom(cmd, "(");
	imap_cmd_astring(cmd, entry);
	if (value)
		imap_cmd_string(cmd, value);
	else
		imap_cmd_atom(cmd, "NIL");
	imap_cmd_raw(cmd, ")");
	return run(cmd, NULL, err);
}
