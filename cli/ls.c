/* ls.c - `postern ls TARGET [--status] [--json]`: the mailboxes of an
 * IMAP server or a Maildir, through the store.
 *
 * On IMAP one LIST "" "*", asking for SPECIAL-USE attributes (RFC 6154)
 * and, with --status, for the counters in the same round trip when
 * LIST-STATUS (RFC 5819) is offered; otherwise one STATUS per selectable
 * mailbox.  On a Maildir the counters come from a read-only scan (nothing
 * is written, not even a uidlist).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/utf8.h"
#include "../store/store.h"

static const char CMD[] = "postern ls";

struct mbox {
	char *name, *raw_name;
	char delimiter;
	char **attrs;
	size_t nattrs;
	char *special_use;
	bool has_status, has_size;
	uint32_t messages, unseen, uidnext, uidvalidity;
	uint64_t size;
};

struct listing {
	struct mbox *v;
	size_t n, cap;
};

static const char *special_use(const struct mbox *m)
{
	return m->special_use;
}

static int copy_entry(struct mbox *m, const struct store_folder_info *f)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->name = strdup(f->name);
	m->raw_name = strdup(f->raw_name ? f->raw_name : f->name);
	m->delimiter = f->separator;
	m->attrs = calloc(f->nattrs + 1, sizeof(*m->attrs));
	m->special_use = f->special_use ? strdup(f->special_use) : NULL;
	if (!m->name || !m->raw_name || !m->attrs ||
	    (f->special_use && !m->special_use))
		return -1;
	for (i = 0; i < f->nattrs; i++) {
		m->attrs[i] = strdup(f->attrs[i]);
		if (!m->attrs[i])
			return -1;
		m->nattrs++;
	}
	m->has_status = f->has_status;
	m->messages = f->messages;
	m->unseen = f->unseen;
	m->uidnext = f->uidnext;
	m->uidvalidity = f->uidvalidity;
	m->has_size = f->has_size;
	m->size = f->size;
	return 0;
}

static int on_folder(void *ctx, const struct store_folder_info *f)
{
	struct listing *l = ctx;
	struct mbox *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
	}
	if (copy_entry(&l->v[l->n++], f) < 0)
		return -1;
	return 0;
}

static void listing_free(struct listing *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].raw_name);
		free(l->v[i].special_use);
		for (k = 0; l->v[i].attrs && k < l->v[i].nattrs; k++)
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
	if (status && m->has_status) {
		cli_json_key(j, "messages");
		cli_json_u64(j, m->messages);
		cli_json_key(j, "unseen");
		cli_json_u64(j, m->unseen);
		cli_json_key(j, "uidnext");
		cli_json_u64(j, m->uidnext);
		cli_json_key(j, "uidvalidity");
		cli_json_u64(j, m->uidvalidity);
	}
	if (status && m->has_size) {
		cli_json_key(j, "size");
		cli_json_u64(j, m->size);
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
	bool h = m->has_status;

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
	num(h, m->messages, 8);
	num(h, m->unseen, 8);
	num(h, m->uidnext, 8);
	num(h, m->uidvalidity, 11);
	num(m->has_size, m->size, 12);
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
	struct cli_store cs;
	struct listing l = { 0 };
	struct pn_error err;
	struct cli_json j;
	size_t i;
	int rc;

	rc = cli_store_open(CMD, o, target, true, &cs);
	if (rc != CLI_OK)
		return rc;
	pn_error_clear(&err);
	rc = store_list(cs.store, status, on_folder, &l, &err);
	if (rc > 0)
		rc = pn_error_set(&err, PN_ENOMEM, "out of memory");
	if (rc < 0) {
		cli_error(CMD, "%s", err.msg);
		cli_store_close(&cs);
		listing_free(&l);
		return CLI_FAIL;
	}
	cli_store_close(&cs);
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
	const char *target;
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
	if ((r = cli_one_target(CMD, &o, argc, argv, true, &target)) != CLI_OK)
		return r;
	return run(&o, target, status, json);
}
