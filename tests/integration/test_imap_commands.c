/* test_imap_commands.c - every command Dovecot supports, against a real
 * Dovecot (harness.c): mailboxes, LIST-EXTENDED/LIST-STATUS, STATUS,
 * SELECT/EXAMINE, APPEND (MULTIAPPEND, APPENDUID, 10 MB from an fd),
 * FETCH of every item kind, STORE with UNCHANGEDSINCE, COPY/MOVE,
 * SEARCH/ESEARCH/SORT/THREAD, EXPUNGE/UID EXPUNGE, IDLE, QRESYNC,
 * pipelining, NAMESPACE/ID/ENABLE/QUOTA/ACL/METADATA, COMPRESS, and the
 * REPL's raw lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../imap/imap.h"
#include "harness.h"

static struct harness H;

#define NEED()                                                          \
	do {                                                            \
		if (!H.ok)                                              \
			fail_msg("Dovecot unavailable: %s", H.why);     \
	} while (0)

#define OK(call)                                                        \
	do {                                                            \
		struct pn_error e_;                                     \
		if ((call) < 0)                                         \
			fail_msg("%s: %s", #call, e_.msg);              \
	} while (0)

static const char MSG1[] =
	"From: Alice <alice@example.org>\r\n"
	"To: Bob <bob@example.org>\r\n"
	"Subject: first\r\n"
	"Message-ID: <one@example.org>\r\n"
	"Date: Wed, 25 Nov 2026 12:00:00 +0000\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Hello Bob\r\n"
	"--b\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"x.bin\"\r\n"
	"\r\n"
	"AAECAw==\r\n"
	"--b--\r\n";

static const char MSG2[] =
	"From: Bob <bob@example.org>\r\n"
	"To: Alice <alice@example.org>\r\n"
	"Subject: Re: first\r\n"
	"Message-ID: <two@example.org>\r\n"
	"In-Reply-To: <one@example.org>\r\n"
	"References: <one@example.org>\r\n"
	"Date: Wed, 25 Nov 2026 13:00:00 +0000\r\n"
	"\r\n"
	"Reply\r\n";

static const char MSG3[] =
	"From: Carol <carol@example.org>\r\n"
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
	"Date: Wed, 25 Nov 2026 14:00:00 +0000\r\n"
	"\r\n"
	"Hallo\r\n";

static struct imap_conn *login(bool compress)
{
	struct imap_settings s;
	struct imap_conn *c = NULL;
	struct pn_error e_;

	memset(&s, 0, sizeof(s));
	s.host = H.host;
	s.port = H.imap_port;
	s.tls = IMAP_TLS_NONE;
	s.trace_fd = -1;
	s.read_timeout_ms = 20000;
	s.compress = compress;
	if (imap_connect(&s, &c, &e_) < 0)
		fail_msg("connect: %s", e_.msg);
	if (imap_login(c, H.user, H.password, &e_) < 0)
		fail_msg("login: %s", e_.msg);
	return c;
}

static void bye(struct imap_conn **c)
{
	OK(imap_logout(*c, &e_));
	imap_conn_free(c);
}

/* Append the two test messages to mailbox; their UIDs in *uids. */
static uint32_t add_two(struct imap_conn *c, const char *mailbox,
			struct imap_seqset *uids)
{
	static const char *const seen[] = { "\\Seen", "$Work" };
	struct imap_append_msg m[2] = {
		{ .flags = seen, .nflags = 2, .date = 1795000000,
		  .date_tz = 60, .data = MSG1, .size = sizeof(MSG1) - 1 },
		{ .data = MSG2, .size = sizeof(MSG2) - 1 },
	};
	struct imap_append_result r;

	OK(imap_append(c, mailbox, m, 2, &r, &e_));
	assert_true(r.uidvalidity > 0);
	assert_int_equal(imap_seqset_count(&r.uids, 0), 2);
	if (uids)
		*uids = r.uids;
	else
		imap_seqset_free(&r.uids);
	return r.uidvalidity;
}

/* ---- events ---- */

struct seen {
	unsigned exists, expunge, vanished, fetch, id, enabled;
	uint32_t last_exists;
	char vanished_text[128];
};

static void on_event(void *ctx, const struct imap_response *r)
{
	struct seen *s = ctx;

	if (!r->name || r->status != IMAP_STATUS_NONE)
		return;
	if (!strcmp(r->name, "EXISTS")) {
		s->exists++;
		s->last_exists = r->number;
	} else if (!strcmp(r->name, "EXPUNGE")) {
		s->expunge++;
	} else if (!strcmp(r->name, "VANISHED")) {
		s->vanished++;
		snprintf(s->vanished_text, sizeof(s->vanished_text), "%.*s",
			 (int)r->raw_len, r->raw);
	} else if (!strcmp(r->name, "FETCH")) {
		s->fetch++;
	} else if (!strcmp(r->name, "ID")) {
		s->id++;
	} else if (!strcmp(r->name, "ENABLED")) {
		s->enabled++;
	}
}

/* ---- mailboxes ---- */

struct listed {
	char names[64][64];
	char attrs[64][128];
	unsigned n, nstatus;
	uint32_t status_messages[64];
	char status_names[64][64];
};

static void on_list(void *ctx, const struct imap_list_entry *e,
		    const struct imap_status_info *st)
{
	struct listed *l = ctx;
	size_t i;

	if (e && l->n < 64) {
		snprintf(l->names[l->n], 64, "%s", e->name);
		l->attrs[l->n][0] = '\0';
		for (i = 0; i < e->nattrs; i++) {
			strncat(l->attrs[l->n], e->attrs[i], 60);
			strcat(l->attrs[l->n], " ");
		}
		l->n++;
	}
	if (st && l->nstatus < 64) {
		snprintf(l->status_names[l->nstatus], 64, "%s",
			 st->name ? st->name : "");
		l->status_messages[l->nstatus++] = st->messages;
	}
}

static int find(const struct listed *l, const char *name)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return (int)i;
	return -1;
}

static void test_mailboxes(void **state)
{
	struct imap_conn *c;
	struct listed l;
	struct imap_list_opts sub = { .select = "SUBSCRIBED" };
	struct imap_list_opts lsub = { .lsub = true };
	struct pn_error err;
	int i;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Proj/One", NULL, &e_));
	OK(imap_create(c, "Entwürfe", NULL, &e_));
	OK(imap_rename(c, "Proj/One", "Proj/Two", &e_));
	OK(imap_subscribe(c, "Proj/Two", true, &e_));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "*", NULL, on_list, &l, &e_));
	assert_true(find(&l, "Proj/Two") >= 0);
	assert_true(find(&l, "Proj/One") < 0);
	assert_true(find(&l, "Entwürfe") >= 0);	/* mUTF-7 both ways */
	i = find(&l, "Proj");
	assert_true(i >= 0);
	assert_non_null(strstr(l.attrs[i], "\\HasChildren"));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "*", &sub, on_list, &l, &e_));	/* LIST-EXTENDED */
	assert_true(find(&l, "Proj/Two") >= 0);
	assert_true(find(&l, "Entwürfe") < 0);
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "Proj/%", &lsub, on_list, &l, &e_));
	assert_int_equal(l.n, 1);
	OK(imap_subscribe(c, "Proj/Two", false, &e_));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "Proj/%", &lsub, on_list, &l, &e_));
	assert_int_equal(l.n, 0);
	OK(imap_delete(c, "Proj/Two", &e_));
	OK(imap_delete(c, "Entwürfe", &e_));
	/* one line: command, mailbox, the server's answer */
	assert_int_equal(imap_delete(c, "Proj/Two", &err), -1);
	if (strncmp(err.msg, "DELETE Proj/Two: NO ", 20))
		fail_msg("got: %s", err.msg);
	assert_int_equal(imap_select(c, "Nope", false, NULL, false, NULL,
				     &err), -1);
	/* "SELECT Nope: NO Mailbox doesn't exist: Nope" (this Dovecot
	 * sends no [NONEXISTENT] for SELECT) */
	if (strncmp(err.msg, "SELECT Nope: NO ", 16) ||
	    !strstr(err.msg, "doesn't exist"))
		fail_msg("got: %s", err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	bye(&c);
}

static void test_create_special_use(void **state)
{
	struct imap_conn *c;
	struct listed l;
	struct imap_list_opts su = { .ret = "SPECIAL-USE" };
	struct pn_error err;
	int i, rc;

	(void)state;
	NEED();
	c = login(false);
	rc = imap_create(c, "Outbox2", "\\Sent", &err);
	if (imap_caps_has(imap_conn_caps(c), "CREATE-SPECIAL-USE")) {
		if (rc < 0)
			fail_msg("create: %s", err.msg);
		memset(&l, 0, sizeof(l));
		OK(imap_list(c, "", "Outbox2", &su, on_list, &l, &e_));
		assert_int_equal(l.n, 1);
		assert_non_null(strstr(l.attrs[0], "\\Sent"));
	} else if (rc < 0) {
		/* the refusal is one line naming the command */
		assert_true(strncmp(err.msg, "CREATE Outbox2: ", 16) == 0);
	}
	if (rc == 0)
		OK(imap_delete(c, "Outbox2", &e_));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "*", &su, on_list, &l, &e_));
	i = find(&l, "Sent");
	assert_true(i >= 0);
	assert_non_null(strstr(l.attrs[i], "\\Sent"));
	bye(&c);
}

static void test_list_status_and_status(void **state)
{
	struct imap_list_opts ls = { .ret = "SPECIAL-USE STATUS (MESSAGES "
				     "UNSEEN)" };
	struct imap_status_info st;
	struct imap_conn *c;
	struct listed l;
	unsigned i;
	bool found = false;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "StatusBox", NULL, &e_));
	add_two(c, "StatusBox", NULL);
	assert_true(imap_caps_has(imap_conn_caps(c), "LIST-STATUS"));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "*", &ls, on_list, &l, &e_));
	assert_true(l.nstatus > 0);
	for (i = 0; i < l.nstatus; i++)
		if (!strcmp(l.status_names[i], "StatusBox")) {
			assert_int_equal(l.status_messages[i], 2);
			found = true;
		}
	assert_true(found);
	OK(imap_status(c, "StatusBox", "MESSAGES UNSEEN UIDNEXT UIDVALIDITY "
		       "HIGHESTMODSEQ SIZE", &st, &e_));
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.unseen, 1);
	assert_true(st.has & IMAP_STATUS_UIDNEXT);
	assert_true(st.uidnext >= 3);
	assert_true(st.highestmodseq > 0);
	assert_true(st.size >= sizeof(MSG1) - 1 + sizeof(MSG2) - 1);
	OK(imap_delete(c, "StatusBox", &e_));
	bye(&c);
}

/* ---- SELECT / EXAMINE / FETCH ---- */

static void test_select_examine(void **state)
{
	struct imap_mailbox_info mi;
	struct imap_conn *c;
	size_t i;
	bool seen = false;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Sel", NULL, &e_));
	add_two(c, "Sel", NULL);
	OK(imap_select(c, "Sel", false, NULL, true, &mi, &e_));
	assert_int_equal(imap_conn_state(c), IMAP_STATE_SELECTED);
	assert_int_equal(mi.exists, 2);
	assert_false(mi.read_only);
	assert_true(mi.uidvalidity > 0);
	assert_int_equal(mi.uidnext, 3);
	assert_int_equal(mi.unseen, 2);		/* first unseen: #2 */
	assert_true(mi.highestmodseq > 0);	/* CONDSTORE */
	assert_non_null(mi.flags);
	for (i = 0; mi.flags[i]; i++)
		seen |= !strcmp(mi.flags[i], "\\Seen");
	assert_true(seen);
	assert_non_null(mi.permanent_flags);
	imap_mailbox_info_free(&mi);
	OK(imap_select(c, "Sel", true, NULL, false, &mi, &e_));
	assert_true(mi.read_only);
	assert_int_equal(mi.exists, 2);
	imap_mailbox_info_free(&mi);
	OK(imap_check(c, &e_));
	OK(imap_unselect(c, &e_));
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	OK(imap_select(c, "Sel", false, NULL, false, NULL, &e_));
	OK(imap_close(c, &e_));
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	OK(imap_delete(c, "Sel", &e_));
	bye(&c);
}

struct fetched {
	unsigned n;
	struct imap_fetch f[4];	/* scalars only survive the callback */
	char subject[4][64], from_host[4][64], body_type[4][32];
	unsigned nparts[4];
	char flags[4][128];
	char section[4][8][48];
	char data[4][8][512];
	size_t len[4][8];
	size_t nbodies[4];
};

static void on_fetch(void *ctx, const struct imap_fetch *f)
{
	struct fetched *x = ctx;
	unsigned k = x->n++;
	size_t i;

	if (k >= 4)
		return;
	x->f[k] = *f;
	if (f->envelope) {
		snprintf(x->subject[k], 64, "%s", f->envelope->subject ?
			 f->envelope->subject : "");
		if (f->envelope->nfrom)
			snprintf(x->from_host[k], 64, "%s",
				 f->envelope->from[0].host);
	}
	if (f->body) {
		snprintf(x->body_type[k], 32, "%s/%s", f->body->type,
			 f->body->subtype);
		x->nparts[k] = (unsigned)f->body->nparts;
	}
	x->flags[k][0] = '\0';
	for (i = 0; i < f->nflags; i++) {
		strncat(x->flags[k], f->flags[i], 40);
		strcat(x->flags[k], " ");
	}
	x->nbodies[k] = f->nbodies < 8 ? f->nbodies : 8;
	for (i = 0; i < x->nbodies[k]; i++) {
		const struct imap_fetch_body *b = &f->bodies[i];

		snprintf(x->section[k][i], 48, "%s%s", b->item,
			 b->has_origin ? "<>" : "");
		x->len[k][i] = b->len;
		if (b->data)
			memcpy(x->data[k][i], b->data,
			       b->len < 511 ? b->len : 511);
	}
}

static int body_index(const struct fetched *x, unsigned k, const char *item)
{
	size_t i;

	for (i = 0; i < x->nbodies[k]; i++)
		if (!strcmp(x->section[k][i], item))
			return (int)i;
	fail_msg("no %s in the FETCH response", item);
	return -1;
}

static void test_fetch_items(void **state)
{
	struct imap_seqset all = { 0 }, uids;
	struct imap_conn *c;
	struct fetched x;
	int i;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Fetch", NULL, &e_));
	add_two(c, "Fetch", &uids);
	OK(imap_select(c, "Fetch", false, NULL, true, NULL, &e_));
	assert_int_equal(imap_seqset_add(&all, 1, IMAP_SEQ_STAR), 0);
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, false, &all, "(UID FLAGS INTERNALDATE RFC822.SIZE "
		      "ENVELOPE BODYSTRUCTURE MODSEQ)", NULL, on_fetch, &x,
		      &e_));
	assert_int_equal(x.n, 2);
	assert_int_equal(x.f[0].seq, 1);
	assert_true(imap_seqset_contains(&uids, x.f[0].uid));
	assert_non_null(strstr(x.flags[0], "\\Seen"));
	assert_non_null(strstr(x.flags[0], "$Work"));
	/* Maildir keeps the instant, not the zone we sent */
	assert_int_equal(x.f[0].internaldate, 1795000000);
	assert_int_equal(x.f[0].size, sizeof(MSG1) - 1);
	assert_string_equal(x.subject[0], "first");
	assert_string_equal(x.from_host[0], "example.org");
	assert_int_equal(strcasecmp(x.body_type[0], "multipart/mixed"), 0);
	assert_int_equal(x.nparts[0], 2);
	assert_int_equal(strcasecmp(x.body_type[1], "text/plain"), 0);
	assert_true(x.f[0].has & IMAP_FETCH_MODSEQ);
	assert_true(x.f[0].modseq > 0);
	/* body sections, partial, BINARY, BINARY.SIZE, RFC822.* */
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, true, &uids, "(BODY.PEEK[] BODY.PEEK[HEADER.FIELDS "
		      "(Subject)] BODY.PEEK[1]<0.5> BINARY.PEEK[2] "
		      "BINARY.SIZE[2] RFC822.HEADER)", NULL, on_fetch, &x,
		      &e_));
	assert_int_equal(x.n, 2);
	i = body_index(&x, 0, "BODY[]");
	assert_int_equal(x.len[0][i], sizeof(MSG1) - 1);
	assert_memory_equal(x.data[0][i], MSG1, sizeof(MSG1) - 1);
	i = body_index(&x, 0, "BODY[HEADER.FIELDS (SUBJECT)]");
	assert_string_equal(x.data[0][i], "Subject: first\r\n\r\n");
	i = body_index(&x, 0, "BODY[1]<>");
	assert_string_equal(x.data[0][i], "Hello");
	i = body_index(&x, 0, "BINARY[2]");
	assert_int_equal(x.len[0][i], 4);
	assert_memory_equal(x.data[0][i], "\0\1\2\3", 4);
	assert_true(x.f[0].has & IMAP_FETCH_BINARY_SIZE);
	assert_int_equal(x.f[0].binary_size, 4);
	i = body_index(&x, 0, "RFC822.HEADER");
	assert_true(strncmp(x.data[0][i], "From: Alice", 11) == 0);
	/* the unread flag stayed: PEEK */
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, false, &all, "FLAGS", NULL, on_fetch, &x, &e_));
	assert_null(strstr(x.flags[1], "\\Seen"));
	imap_seqset_free(&all);
	imap_seqset_free(&uids);
	OK(imap_delete(c, "Fetch", &e_));
	bye(&c);
}

/* ---- STORE / COPY / MOVE / EXPUNGE ---- */

static void test_store_unchangedsince(void **state)
{
	static const char *const flagged[] = { "\\Flagged" };
	static const char *const answered[] = { "\\Answered" };
	struct imap_seqset uids, mod = { 0 }, one = { 0 };
	struct imap_conn *c;
	struct fetched x;
	uint64_t ms;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Store", NULL, &e_));
	add_two(c, "Store", &uids);
	OK(imap_select(c, "Store", false, NULL, true, NULL, &e_));
	OK(imap_store(c, true, &uids, "+FLAGS", flagged, 1, 0, NULL, &e_));
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, true, &uids, "(FLAGS MODSEQ)", NULL, on_fetch, &x,
		      &e_));
	assert_non_null(strstr(x.flags[1], "\\Flagged"));
	ms = x.f[0].modseq;
	/* message 2 changes, so a store unchanged since ms fails for it */
	assert_int_equal(imap_seqset_add(&one, uids.r[0].hi, uids.r[0].hi), 0);
	OK(imap_store(c, true, &one, "-FLAGS.SILENT", flagged, 1, 0, NULL,
		      &e_));
	OK(imap_store(c, true, &uids, "+FLAGS", answered, 1, ms, &mod, &e_));
	assert_true(imap_seqset_contains(&mod, uids.r[0].hi));
	assert_false(imap_seqset_contains(&mod, uids.r[0].lo));
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, true, &uids, "FLAGS", NULL, on_fetch, &x, &e_));
	assert_non_null(strstr(x.flags[0], "\\Answered"));
	assert_null(strstr(x.flags[1], "\\Answered"));
	imap_seqset_free(&uids);
	imap_seqset_free(&mod);
	imap_seqset_free(&one);
	OK(imap_unselect(c, &e_));
	OK(imap_delete(c, "Store", &e_));
	bye(&c);
}

static void test_copy_move_expunge(void **state)
{
	static const char *const del[] = { "\\Deleted" };
	struct imap_seqset uids, first = { 0 }, all = { 0 };
	struct imap_code_info ci;
	struct imap_status_info st;
	struct imap_conn *c;
	struct seen ev = { 0 };
	struct imap_events events = { &ev, on_event };

	(void)state;
	NEED();
	c = login(false);
	imap_conn_set_events(c, &events);
	OK(imap_create(c, "Src", NULL, &e_));
	OK(imap_create(c, "Dst", NULL, &e_));
	add_two(c, "Src", &uids);
	OK(imap_select(c, "Src", false, NULL, false, NULL, &e_));
	OK(imap_copy(c, true, false, &uids, "Dst", &ci, &e_));
	assert_true(ci.uidvalidity > 0);
	assert_int_equal(imap_seqset_count(&ci.src_uids, 0), 2);
	assert_int_equal(imap_seqset_count(&ci.dst_uids, 0), 2);
	imap_code_info_free(&ci);
	assert_int_equal(imap_seqset_add(&first, 1, 1), 0);
	OK(imap_copy(c, false, true, &first, "Dst", &ci, &e_));	/* MOVE */
	assert_int_equal(imap_seqset_count(&ci.dst_uids, 0), 1);
	assert_true(imap_seqset_contains(&ci.src_uids, uids.r[0].lo));
	imap_code_info_free(&ci);
	assert_int_equal(ev.expunge, 1);
	OK(imap_status(c, "Dst", "MESSAGES", &st, &e_));
	assert_int_equal(st.messages, 3);
	/* Dst: UID EXPUNGE takes only what it names, EXPUNGE the rest */
	OK(imap_select(c, "Dst", false, NULL, false, NULL, &e_));
	assert_int_equal(imap_seqset_add(&all, 1, IMAP_SEQ_STAR), 0);
	OK(imap_store(c, false, &all, "+FLAGS.SILENT", del, 1, 0, NULL, &e_));
	imap_seqset_clear(&first);
	assert_int_equal(imap_seqset_add(&first, 1, 1), 0);
	ev.expunge = 0;
	OK(imap_expunge(c, &first, &e_));	/* UID 1 */
	assert_int_equal(ev.expunge, 1);
	OK(imap_expunge(c, NULL, &e_));
	assert_int_equal(ev.expunge, 3);
	OK(imap_status(c, "Src", "MESSAGES", &st, &e_));
	assert_int_equal(st.messages, 1);
	imap_seqset_free(&uids);
	imap_seqset_free(&first);
	imap_seqset_free(&all);
	OK(imap_close(c, &e_));
	OK(imap_delete(c, "Src", &e_));
	OK(imap_delete(c, "Dst", &e_));
	bye(&c);
}

/* ---- SEARCH / ESEARCH / SORT / THREAD ---- */

static void on_thread(void *ctx, const struct imap_response *r)
{
	unsigned *n = ctx;

	*n += (unsigned)r->nargs;
}

static void test_search_sort_thread(void **state)
{
	struct imap_search_result sr;
	struct imap_conn *c;
	unsigned threads = 0;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Search", NULL, &e_));
	add_two(c, "Search", NULL);
	OK(imap_select(c, "Search", false, NULL, false, NULL, &e_));
	OK(imap_search(c, false, NULL, "ALL", NULL, &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 2);
	imap_search_result_free(&sr);
	OK(imap_search(c, true, NULL, "UNSEEN FROM bob", NULL, &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 1);
	imap_search_result_free(&sr);
	OK(imap_search(c, false, "UTF-8", "SUBJECT first", NULL, &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 2);
	imap_search_result_free(&sr);
	/* ESEARCH */
	assert_true(imap_caps_has(imap_conn_caps(c), "ESEARCH"));
	OK(imap_search(c, true, NULL, "ALL", "MIN MAX COUNT", &sr, &e_));
	assert_true(sr.has_count && sr.count == 2);
	assert_true(sr.has_min && sr.has_max && sr.min < sr.max);
	assert_true(sr.uid);
	imap_search_result_free(&sr);
	/* SORT: newest first */
	OK(imap_sort(c, false, "(REVERSE DATE)", NULL, "ALL", &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 2);
	assert_int_equal(sr.norder, 2);
	assert_int_equal(sr.order[0], 2);
	assert_int_equal(sr.order[1], 1);
	imap_search_result_free(&sr);
	OK(imap_thread(c, true, "REFERENCES", NULL, "ALL", on_thread,
		       &threads, &e_));
	assert_int_equal(threads, 1);	/* the reply joins its parent */
	/* 8-bit words go as literals, CHARSET UTF-8 added */
	OK(imap_append(c, "Search", &(struct imap_append_msg){ .data = MSG3,
			.size = sizeof(MSG3) - 1 }, 1, NULL, &e_));
	OK(imap_noop(c, &e_));
	OK(imap_search(c, false, NULL, "SUBJECT \"Grüße\"", NULL, &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 1);
	assert_true(imap_seqset_contains(&sr.set, 3));
	imap_search_result_free(&sr);
	OK(imap_search(c, false, NULL, "(OR SUBJECT Grüße FROM nobody) "
		       "NOT DELETED", NULL, &sr, &e_));
	assert_int_equal(imap_seqset_count(&sr.set, 0), 1);
	imap_search_result_free(&sr);
	OK(imap_close(c, &e_));
	OK(imap_delete(c, "Search", &e_));
	bye(&c);
}

/* ---- IDLE and QRESYNC: a second connection changes the mailbox ---- */

static void test_idle_sees_append(void **state)
{
	struct imap_append_msg m = { .data = MSG2, .size = sizeof(MSG2) - 1 };
	struct imap_conn *a, *b;
	struct seen ev = { 0 };
	struct imap_events events = { &ev, on_event };
	struct pn_error err;
	int i, rc = 0;

	(void)state;
	NEED();
	a = login(false);
	b = login(false);
	OK(imap_create(a, "Idle", NULL, &e_));
	OK(imap_select(a, "Idle", false, NULL, false, NULL, &e_));
	imap_conn_set_events(a, &events);
	OK(imap_idle_start(a, 0, &e_));
	assert_int_equal(imap_idle_start(a, 0, &err), -1);
	OK(imap_append(b, "Idle", &m, 1, NULL, &e_));
	for (i = 0; i < 50 && ev.exists == 0 && rc >= 0; i++)
		rc = imap_poll(a, 200, &err);
	if (rc < 0)
		fail_msg("poll: %s", err.msg);
	assert_int_equal(ev.exists, 1);
	assert_int_equal(ev.last_exists, 1);
	OK(imap_idle_done(a, &e_));
	OK(imap_noop(a, &e_));
	/* a short re-IDLE timer: DONE + IDLE again under imap_poll */
	OK(imap_idle_start(a, 1, &e_));
	OK(imap_append(b, "Idle", &m, 1, NULL, &e_));
	for (i = 0; i < 15 && rc >= 0; i++)
		rc = imap_poll(a, 200, &err);
	if (rc < 0)
		fail_msg("poll: %s", err.msg);
	OK(imap_idle_done(a, &e_));
	assert_int_equal(ev.last_exists, 2);
	OK(imap_close(a, &e_));
	OK(imap_delete(a, "Idle", &e_));
	bye(&a);
	bye(&b);
}

static void test_qresync_vanished(void **state)
{
	static const char *const del[] = { "\\Deleted" };
	struct imap_mailbox_info mi;
	struct imap_seqset uids, first = { 0 };
	struct imap_qresync q = { 0 };
	struct imap_conn *a, *b;
	struct seen ev = { 0 };
	struct imap_events events = { &ev, on_event };
	char want[64];

	(void)state;
	NEED();
	a = login(false);
	b = login(false);
	OK(imap_create(a, "Qr", NULL, &e_));
	add_two(a, "Qr", &uids);
	OK(imap_select(a, "Qr", false, NULL, true, &mi, &e_));
	q.uidvalidity = mi.uidvalidity;
	q.modseq = mi.highestmodseq;
	q.known_uids = &uids;
	imap_mailbox_info_free(&mi);
	OK(imap_close(a, &e_));
	/* b expunges the first message */
	OK(imap_select(b, "Qr", false, NULL, false, NULL, &e_));
	assert_int_equal(imap_seqset_add(&first, uids.r[0].lo, uids.r[0].lo),
			 0);
	OK(imap_store(b, true, &first, "+FLAGS.SILENT", del, 1, 0, NULL, &e_));
	OK(imap_expunge(b, &first, &e_));
	/* a reopens with what it knew: VANISHED (EARLIER) names it */
	imap_conn_set_events(a, &events);
	OK(imap_select(a, "Qr", false, &q, false, &mi, &e_));
	assert_int_equal(mi.exists, 1);
	assert_true(mi.highestmodseq > q.modseq);
	imap_mailbox_info_free(&mi);
	assert_int_equal(ev.vanished, 1);
	snprintf(want, sizeof(want), "VANISHED (EARLIER) %u", uids.r[0].lo);
	if (!strstr(ev.vanished_text, want))
		fail_msg("expected '%s' in '%s'", want, ev.vanished_text);
	imap_seqset_free(&uids);
	imap_seqset_free(&first);
	OK(imap_close(a, &e_));
	OK(imap_close(b, &e_));
	OK(imap_delete(a, "Qr", &e_));
	bye(&a);
	bye(&b);
}

/* ---- pipelining ---- */

struct pipe_ctx {
	unsigned n;
	uint32_t seqs[8];
};

static void on_pipe_fetch(void *ctx, const struct imap_response *r)
{
	struct pipe_ctx *p = ctx;

	if (r->name && !strcmp(r->name, "FETCH") && p->n < 8)
		p->seqs[p->n++] = r->number;
}

static void test_pipelined_fetches(void **state)
{
	struct imap_conn *c;
	struct imap_cmd *cmd[3];
	struct pipe_ctx pc[3];
	struct imap_result res;
	char set[32];
	int i;

	(void)state;
	NEED();
	c = login(false);
	OK(imap_create(c, "Pipe", NULL, &e_));
	add_two(c, "Pipe", NULL);
	add_two(c, "Pipe", NULL);
	OK(imap_select(c, "Pipe", true, NULL, false, NULL, &e_));
	memset(pc, 0, sizeof(pc));
	for (i = 0; i < 3; i++) {
		cmd[i] = imap_cmd_new(c, "FETCH", NULL);
		snprintf(set, sizeof(set), "%d:%d", i + 1, i + 2);
		imap_cmd_atom(cmd[i], set);
		imap_cmd_atom(cmd[i], "(UID RFC822.SIZE)");
		imap_cmd_on_untagged(cmd[i], on_pipe_fetch, &pc[i]);
		OK(imap_cmd_send(cmd[i], &e_));
	}
	/* All three are on the wire before the first answer is read.
	 * Dovecot runs them concurrently, so untagged FETCHes of a later
	 * command may come before an earlier one's OK (RFC 3501 5.5): they
	 * go to the oldest command still running; all six arrive. */
	for (i = 0; i < 3; i++) {
		OK(imap_cmd_wait(cmd[i], &res, &e_));
		assert_int_equal(res.status, IMAP_STATUS_OK);
	}
	assert_int_equal(pc[0].n + pc[1].n + pc[2].n, 6);
	assert_int_equal(pc[0].seqs[0], 1);
	OK(imap_close(c, &e_));
	OK(imap_delete(c, "Pipe", &e_));
	bye(&c);
}

/* ---- a 10 MB literal, appended from an fd and fetched to a sink ---- */

struct collect {
	char *buf;
	size_t len, cap;
	uint64_t announced;
	unsigned begins, ends;
};

static int c_begin(void *ctx, uint32_t number, const char *item,
		   uint64_t size, bool binary)
{
	struct collect *k = ctx;

	(void)number;
	(void)binary;
	assert_string_equal(item, "BODY[]");
	k->announced = size;
	k->begins++;
	return 0;
}

static int c_data(void *ctx, const char *data, size_t len)
{
	struct collect *k = ctx;

	if (k->len + len > k->cap) {
		k->cap = (k->len + len) * 2;
		k->buf = realloc(k->buf, k->cap);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	return 0;
}

static int c_end(void *ctx)
{
	((struct collect *)ctx)->ends++;
	return 0;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	uint64_t *last = ctx;

	assert_true(done > *last && done <= total);
	*last = done;
}

static char *make_big(size_t size)
{
	char *m = malloc(size);
	size_t i, n;

	assert_non_null(m);
	n = (size_t)snprintf(m, size, "From: a@example.org\r\nSubject: big"
			     "\r\n\r\n");
	for (i = n; i < size; i++)
		m[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' :
			(char)('A' + i % 26);
	return m;
}

static void test_big_literal_fd(void **state)
{
	const size_t size = 10 * 1024 * 1024;
	char path[] = "/tmp/postern-big-XXXXXX";
	struct collect k = { 0 };
	struct imap_literal_sink sink = { &k, c_begin, c_data, c_end };
	struct imap_append_result ar;
	struct imap_conn *c;
	struct imap_cmd *cmd;
	struct imap_result res;
	struct fetched x;
	uint64_t last = 0;
	char *m = make_big(size);
	int fd = mkstemp(path);

	(void)state;
	NEED();
	assert_true(fd >= 0);
	assert_int_equal(write(fd, m, size), (ssize_t)size);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	unlink(path);
	c = login(false);
	OK(imap_create(c, "Big", NULL, &e_));
	/* the generic builder with progress: APPEND Big {10485760} */
	cmd = imap_cmd_new(c, "APPEND", NULL);
	imap_cmd_mailbox(cmd, "Big");
	imap_cmd_literal_fd(cmd, fd, size, false);
	imap_cmd_progress(cmd, on_progress, &last);
	OK(imap_cmd_send(cmd, &e_));
	OK(imap_cmd_wait(cmd, &res, &e_));
	assert_int_equal(res.status, IMAP_STATUS_OK);
	assert_string_equal(res.code, "APPENDUID");
	assert_int_equal(last, size);
	/* and through imap_append from the fd again */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	OK(imap_append(c, "Big", &(struct imap_append_msg){ .fd = fd,
			.size = size }, 1, &ar, &e_));
	close(fd);
	OK(imap_select(c, "Big", true, NULL, false, NULL, &e_));
	imap_conn_set_literal_sink(c, &sink);
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, true, &ar.uids, "BODY.PEEK[]", NULL, on_fetch, &x,
		      &e_));
	imap_conn_set_literal_sink(c, NULL);
	assert_int_equal(x.n, 1);
	assert_int_equal(k.begins, 1);
	assert_int_equal(k.ends, 1);
	assert_int_equal(k.announced, size);
	assert_int_equal(k.len, size);
	assert_true(memcmp(k.buf, m, size) == 0);
	/* without a sink a literal over max_inline_literal is an error
	 * naming the limit, not a 10 MB allocation */
	{
		struct imap_conn *d = login(false);
		struct pn_error err;

		OK(imap_select(d, "Big", true, NULL, false, NULL, &e_));
		assert_int_equal(imap_fetch(d, true, &ar.uids, "BODY.PEEK[]",
					    NULL, NULL, NULL, &err), -1);
		if (!strstr(err.msg, "no literal sink"))
			fail_msg("got: %s", err.msg);
		imap_conn_free(&d);
	}
	imap_seqset_free(&ar.uids);
	free(k.buf);
	free(m);
	OK(imap_close(c, &e_));
	OK(imap_delete(c, "Big", &e_));
	bye(&c);
}

/* ---- the rest ---- */

struct names {
	unsigned n;
	char what[16][32];
};

static void on_any(void *ctx, const struct imap_response *r)
{
	struct names *k = ctx;

	if (k->n < 16)
		snprintf(k->what[k->n++], 32, "%s", r->name ? r->name : "");
}

/* "* METADATA INBOX (/private/comment value)": the value's length. */
static void on_meta(void *ctx, const struct imap_response *r)
{
	size_t *len = ctx;

	if (r->nargs == 2 && r->args[1].type == IMAP_ARG_LIST &&
	    r->args[1].nlist == 2)
		*len = r->args[1].list[1].len;
}

static void test_misc_commands(void **state)
{
	static const char *const idf[] = { "name", "postern", "version",
					   "0.1" };
	static const char *const en[] = { "CONDSTORE" };
	static const char *const ent[] = { "/private/comment" };
	struct imap_namespaces ns;
	struct imap_conn *c;
	struct names k;
	struct seen ev = { 0 };
	struct imap_events events = { &ev, on_event };
	struct listed l;
	size_t vlen;
	char *big;

	(void)state;
	NEED();
	c = login(false);
	imap_conn_set_events(c, &events);
	OK(imap_capability(c, &e_));
	OK(imap_noop(c, &e_));
	OK(imap_namespace(c, &ns, &e_));
	assert_int_equal(ns.npersonal, 1);
	assert_string_equal(ns.personal[0].prefix, "");
	assert_int_equal(ns.personal[0].delimiter, '/');
	OK(imap_id(c, idf, 4, &e_));
	assert_int_equal(ev.id, 1);
	OK(imap_enable(c, en, 1, &e_));
	assert_int_equal(ev.enabled, 1);
	memset(&k, 0, sizeof(k));
	OK(imap_getquotaroot(c, "INBOX", on_any, &k, &e_));
	assert_true(k.n >= 2);
	assert_string_equal(k.what[0], "QUOTAROOT");
	assert_string_equal(k.what[1], "QUOTA");
	memset(&k, 0, sizeof(k));
	OK(imap_getquota(c, "User quota", on_any, &k, &e_));
	assert_int_equal(k.n, 1);
	memset(&k, 0, sizeof(k));
	OK(imap_myrights(c, "INBOX", on_any, &k, &e_));
	assert_string_equal(k.what[0], "MYRIGHTS");
	memset(&k, 0, sizeof(k));
	OK(imap_getacl(c, "INBOX", on_any, &k, &e_));
	assert_string_equal(k.what[0], "ACL");
	memset(&k, 0, sizeof(k));
	OK(imap_listrights(c, "INBOX", "bob", on_any, &k, &e_));
	assert_string_equal(k.what[0], "LISTRIGHTS");
	OK(imap_setacl(c, "INBOX", "bob", "lr", &e_));
	OK(imap_deleteacl(c, "INBOX", "bob", &e_));
	OK(imap_setmetadata(c, "INBOX", "/private/comment", "hello\r\nworld",
			    &e_));
	memset(&k, 0, sizeof(k));
	OK(imap_getmetadata(c, "INBOX", ent, 1, on_any, &k, &e_));
	assert_int_equal(k.n, 1);
	assert_string_equal(k.what[0], "METADATA");
	/* a long value goes as a literal (LITERAL+ here) and comes back */
	big = malloc(5001);
	memset(big, 'v', 5000);
	big[5000] = '\0';
	OK(imap_setmetadata(c, "INBOX", "/private/comment", big, &e_));
	vlen = 0;
	OK(imap_getmetadata(c, "INBOX", ent, 1, on_meta, &vlen, &e_));
	assert_int_equal(vlen, 5000);
	free(big);
	OK(imap_setmetadata(c, "INBOX", "/private/comment", NULL, &e_));
	/* names needing quotes and escapes */
	OK(imap_create(c, "Odd \"name\" here", NULL, &e_));
	memset(&l, 0, sizeof(l));
	OK(imap_list(c, "", "Odd*", NULL, on_list, &l, &e_));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.names[0], "Odd \"name\" here");
	OK(imap_delete(c, "Odd \"name\" here", &e_));
	bye(&c);
}

static void test_compress(void **state)
{
	struct imap_conn *c;
	struct fetched x;
	struct imap_seqset all = { 0 };

	(void)state;
	NEED();
	c = login(true);	/* settings.compress: after LOGIN */
	assert_true(imap_caps_has(imap_conn_caps(c), "COMPRESS=DEFLATE"));
	OK(imap_create(c, "Z", NULL, &e_));
	add_two(c, "Z", NULL);
	OK(imap_select(c, "Z", true, NULL, false, NULL, &e_));
	assert_int_equal(imap_seqset_add(&all, 1, IMAP_SEQ_STAR), 0);
	memset(&x, 0, sizeof(x));
	OK(imap_fetch(c, false, &all, "(ENVELOPE BODY.PEEK[])", NULL, on_fetch,
		      &x, &e_));
	assert_int_equal(x.n, 2);
	assert_string_equal(x.subject[1], "Re: first");
	imap_seqset_free(&all);
	OK(imap_close(c, &e_));
	OK(imap_delete(c, "Z", &e_));
	bye(&c);
}

static void test_command_line(void **state)
{
	struct imap_conn *c;
	struct imap_result res;
	struct names k = { 0 };
	struct imap_events events = { &k, on_any };

	(void)state;
	NEED();
	c = login(false);
	imap_conn_set_events(c, &events);
	OK(imap_command_line(c, NULL, "LIST \"\" INBOX", &res, &e_));
	assert_int_equal(res.status, IMAP_STATUS_OK);
	assert_string_equal(k.what[0], "LIST");
	/* a literal the user typed: sent after the server's "+" */
	OK(imap_command_line(c, "x1", "EXAMINE {5}\r\nINBOX", &res, &e_));
	assert_int_equal(res.status, IMAP_STATUS_OK);
	assert_string_equal(res.code, "READ-ONLY");
	OK(imap_command_line(c, NULL, "FROB", &res, &e_));
	assert_int_equal(res.status, IMAP_STATUS_BAD);
	bye(&c);
}

static int group_setup(void **state)
{
	(void)state;
	if (harness_start(&H) < 0)
		fprintf(stderr, "# Dovecot harness: %s\n", H.why);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	harness_stop(&H);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailboxes),
		cmocka_unit_test(test_create_special_use),
		cmocka_unit_test(test_list_status_and_status),
		cmocka_unit_test(test_select_examine),
		cmocka_unit_test(test_fetch_items),
		cmocka_unit_test(test_store_unchangedsince),
		cmocka_unit_test(test_copy_move_expunge),
		cmocka_unit_test(test_search_sort_thread),
		cmocka_unit_test(test_idle_sees_append),
		cmocka_unit_test(test_qresync_vanished),
		cmocka_unit_test(test_pipelined_fetches),
		cmocka_unit_test(test_big_literal_fd),
		cmocka_unit_test(test_misc_commands),
		cmocka_unit_test(test_compress),
		cmocka_unit_test(test_command_line),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
