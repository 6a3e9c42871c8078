/* imap_ls.c - `postern ls TARGET [--status] [--json]`: the mailboxes.
 *
 * One LIST "" "*", asking for SPECIAL-USE attributes (RFC 6154) and, with
 * --status, for the counters in the same round trip when LIST-STATUS
 * (RFC 5819) is offered; otherwise one STATUS per selectable mailbox.
 * SIZE (RFC 8438) is asked only when STATUS=SIZE is offered.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/utf8.h"

static const char CMD[] = "postern ls";

#define STATUS_ITEMS "MESSAGES UNSEEN UIDNEXT UIDVALIDITY"

struct mbox {
	char *name, *raw_name;
	char delimiter;
	char **attrs;
	size_t nattrs;
	bool noselect;
	struct imap_status_info st;	/* st.name unused */
};

struct listing {
	struct mbox *v;
	size_t n, cap;
	bool nomem;
};

static const char *const special_uses[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
	"\\Trash", "\\Important",
};

static const char *special_use(const struct mbox *m)
{
	size_t i, k;

	for (i = 0; i < m->nattrs; i++) {
		for (k = 0; k < sizeof(special_uses) / sizeof(*special_uses); k++) {
			if (strcasecmp(m->attrs[i], special_uses[k]) == 0)
				return special_uses[k];
		}
	}
	return NULL;
}

static int copy_entry(struct mbox *m, const struct imap_list_entry *e)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->name = strdup(e->name);
	m->raw_name = strdup(e->raw_name ? e->raw_name : e->name);
	m->delimiter = e->delimiter;
	m->attrs = calloc(e->nattrs + 1, sizeof(*m->attrs));
	if (!m->name || !m->raw_name || !m->attrs)
		return -1;
	for (i = 0; i < e->nattrs; i++) {
		m->attrs[i] = strdup(e->attrs[i]);
		if (!m->attrs[i])
			return -1;
		m->nattrs++;
		if (strcasecmp(e->attrs[i], "\\Noselect") == 0 ||
		    strcasecmp(e->attrs[i], "\\NonExistent") == 0)
			m->noselect = true;
	}
	return 0;
}

static struct mbox *find(struct listing *l, const char *name)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	}
	return NULL;
}

static void merge_status(struct mbox *m, const struct imap_status_info *st)
{
	const char *keep = m->st.name;

	m->st = *st;
	m->st.name = keep;
}

/* Called per LIST entry and per LIST-STATUS answer, as they stream in. */
static void on_list(void *ctx, const struct imap_list_entry *e,
		    const struct imap_status_info *st)
{
	struct listing *l = ctx;
	struct mbox *v, *m;

	if (e && !l->nomem) {
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 64;
			v = realloc(l->v, l->cap * sizeof(*v));
			if (!v) {
				l->nomem = true;
				return;
			}
			l->v = v;
		}
		m = &l->v[l->n++];
		if (copy_entry(m, e) < 0)
			l->nomem = true;
	}
	if (st && st->name && !l->nomem && (m = find(l, st->name)))
		merge_status(m, st);
}

static void listing_free(struct listing *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].raw_name);
		for (k = 0; k < l->v[i].nattrs; k++)
			free(l->v[i].attrs[k]);
		free(l->v[i].attrs);
	}
	free(l->v);
}

/* INBOX first, then by name: servers list in their own order (Dovecot's
 * changes between runs), and scripts diff listings. */
static int by_name(const void *a, const void *b)
{
	const struct mbox *x = a, *y = b;
	bool xi = strcasecmp(x->name, "INBOX") == 0;
	bool yi = strcasecmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void status_items(const struct imap_caps *caps, char *out, size_t sz)
{
	snprintf(out, sz, "%s%s", STATUS_ITEMS,
		 imap_caps_has(caps, "STATUS=SIZE") ? " SIZE" : "");
}

static int do_list(struct imap_conn *c, bool status, struct listing *l,
		   bool *got_status, struct pn_error *err)
{
	const struct imap_caps *caps = imap_conn_caps(c);
	struct imap_list_opts lo = { 0 };
	char ret[160], items[96];
	bool su = imap_caps_has(caps, "SPECIAL-USE") &&
		  imap_caps_has(caps, "LIST-EXTENDED");
	bool ls = status && imap_caps_has(caps, "LIST-STATUS");

	status_items(caps, items, sizeof(items));
	snprintf(ret, sizeof(ret), "%s%s%s%s%s", su ? "SPECIAL-USE" : "",
		 su && ls ? " " : "", ls ? "STATUS (" : "", ls ? items : "",
		 ls ? ")" : "");
	lo.ret = ret[0] ? ret : NULL;
	*got_status = ls;
	if (imap_list(c, "", "*", &lo, on_list, l, err) < 0)
		return -1;
	if (l->nomem)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

/* Without LIST-STATUS: one STATUS per selectable mailbox. */
static int status_each(struct imap_conn *c, struct listing *l,
		       struct pn_error *err)
{
	char items[96];
	size_t i;

	status_items(imap_conn_caps(c), items, sizeof(items));
	for (i = 0; i < l->n; i++) {
		if (l->v[i].noselect)
			continue;
		if (imap_status(c, l->v[i].name, items, &l->v[i].st, err) < 0)
			return -1;
		l->v[i].st.name = NULL;
	}
	return 0;
}

/* ---- output ----------------------------------------------------------- */

static void json_mbox(struct cli_json *j, const struct mbox *m, bool status)
{
	char d[2] = { m->delimiter, 0 };
	size_t i;

	cli_json_obj_begin(j);
	cli_json_key(j, "name");
	cli_json_str(j, m->name);
	cli_json_key(j, "raw_name");
	cli_json_str(j, m->raw_name);
	cli_json_key(j, "delimiter");
	cli_json_str(j, m->delimiter ? d : NULL);
	cli_json_key(j, "attributes");
	cli_json_arr_begin(j);
	for (i = 0; i < m->nattrs; i++)
		cli_json_str(j, m->attrs[i]);
	cli_json_arr_end(j);
	cli_json_key(j, "special_use");
	cli_json_str(j, special_use(m));
	if (status && (m->st.has & IMAP_STATUS_MESSAGES)) {
		cli_json_key(j, "messages");
		cli_json_u64(j, m->st.messages);
	}
	if (status && (m->st.has & IMAP_STATUS_UNSEEN)) {
		cli_json_key(j, "unseen");
		cli_json_u64(j, m->st.unseen);
	}
	if (status && (m->st.has & IMAP_STATUS_UIDNEXT)) {
		cli_json_key(j, "uidnext");
		cli_json_u64(j, m->st.uidnext);
	}
	if (status && (m->st.has & IMAP_STATUS_UIDVALIDITY)) {
		cli_json_key(j, "uidvalidity");
		cli_json_u64(j, m->st.uidvalidity);
	}
	if (status && (m->st.has & IMAP_STATUS_SIZE)) {
		cli_json_key(j, "size");
		cli_json_u64(j, m->st.size);
	}
	cli_json_obj_end(j);
	cli_json_newline(j);
}

/* Display width: code points (mailbox names are rarely wide script). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(size_t n)
{
	while (n-- > 0)
		putchar(' ');
}

static void num(bool have, uint64_t v, int w)
{
	if (have)
		printf("  %*" PRIu64, w, v);
	else
		printf("  %*s", w, "-");
}

static void plain_row(const struct mbox *m, size_t namew, bool status,
		      bool tty)
{
	const char *use = special_use(m);
	unsigned h = m->st.has;

	cli_puts(stdout, tty, m->name);
	if (!status) {
		if (use) {
			pad(namew - width(m->name) + 2);
			fputs(use, stdout);
		}
		putchar('\n');
		return;
	}
	pad(namew - width(m->name));
	printf("  %-10s", use ? use : "");
	num(h & IMAP_STATUS_MESSAGES, m->st.messages, 8);
	num(h & IMAP_STATUS_UNSEEN, m->st.unseen, 8);
	num(h & IMAP_STATUS_UIDNEXT, m->st.uidnext, 8);
	num(h & IMAP_STATUS_UIDVALIDITY, m->st.uidvalidity, 11);
	num(h & IMAP_STATUS_SIZE, m->st.size, 12);
	putchar('\n');
}

static void print_plain(const struct listing *l, bool status)
{
	bool tty = isatty(STDOUT_FILENO);
	size_t i, namew = 7;	/* "MAILBOX" */

	for (i = 0; i < l->n; i++) {
		if (width(l->v[i].name) > namew)
			namew = width(l->v[i].name);
	}
	if (status) {
		printf("%-*s  %-10s  %8s  %8s  %8s  %11s  %12s\n", (int)namew,
		       "MAILBOX", "USE", "MESSAGES", "UNSEEN", "UIDNEXT",
		       "UIDVALIDITY", "SIZE");
	}
	for (i = 0; i < l->n; i++)
		plain_row(&l->v[i], namew, status, tty);
}

static int run(const struct cli_conn_opts *o, const char *target, bool status,
	       bool json)
{
	struct cli_session s;
	struct listing l = { 0 };
	struct pn_error err;
	struct cli_json j;
	bool got_status = false;
	size_t i;
	int rc;

	rc = cli_session_open(CMD, o, target, &s);
	if (rc != CLI_OK)
		return rc;
	pn_error_clear(&err);
	rc = do_list(s.conn, status, &l, &got_status, &err);
	if (rc == 0 && status && !got_status)
		rc = status_each(s.conn, &l, &err);
	cli_session_close(&s);
	if (rc < 0) {
		cli_error(CMD, "%s", err.msg);
		listing_free(&l);
		return CLI_FAIL;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), by_name);
	cli_json_init(&j, stdout);
	if (json) {
		for (i = 0; i < l.n; i++)
			json_mbox(&j, &l.v[i], status);
	} else {
		print_plain(&l, status);
	}
	listing_free(&l);
	return cli_finish_stdout(CMD, CLI_OK);
}

int cli_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_conn_opts o = { 0 };
	bool status = false, json = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":sjh", opts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		switch (c) {
		case 's': status = true; break;
		case 'j': json = true; break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if (!o.tunnel && optind >= argc)
		return cli_usage(CMD, "missing TARGET (an account, an imap:// or imaps:// URL, or --tunnel CMD)");
	if (argc - optind > (o.tunnel ? 0 : 1))
		return cli_usage(CMD, "unexpected argument '%s'",
				 argv[optind + (o.tunnel ? 0 : 1)]);
	return run(&o, o.tunnel ? NULL : argv[optind], status, json);
}
