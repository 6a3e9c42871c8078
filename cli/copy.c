/* copy.c - `postern copy SRC MAILBOX DST MAILBOX`: copy (or move)
 * messages between any two targets, IMAP or Maildir, either way, keeping
 * flags, keywords and INTERNALDATE.
 *
 * The same TARGET on both sides is one store, so the copy happens where
 * the mail is (UID COPY/MOVE on the server, hard links in a Maildir);
 * otherwise each message streams through a temporary file from one side
 * to the other.  A move removes the originals only after every copy has
 * landed, and only those that did.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../store/store.h"

static const char CMD[] = "postern copy";

struct opts {
	const char *uids, *search;
	bool move, create, verbose;
};

struct progress_ctx {
	bool tty;		/* stderr: a progress line */
	bool verbose;		/* stdout: a line per message */
	size_t last_shown;
};

static void on_progress(void *ctx, size_t done, size_t total, uint32_t uid,
			uint32_t new_uid)
{
	struct progress_ctx *p = ctx;

	if (p->verbose && uid) {
		if (new_uid)
			printf("UID %" PRIu32 " -> UID %" PRIu32 "\n", uid,
			       new_uid);
		else
			printf("UID %" PRIu32 " copied\n", uid);
	}
	/* At most a hundred updates, and the last one. */
	if (p->tty && (done == total || done - p->last_shown >= total / 100 + 1)) {
		fprintf(stderr, "\r%s: %zu/%zu", CMD, done, total);
		if (done == total)
			fputc('\n', stderr);
		p->last_shown = done;
	}
}

/* Does dst have the folder?  0 yes, 1 no, -1 error. */
struct find_ctx {
	const char *name;
	bool found;
};

static int on_folder(void *ctx, const struct store_folder_info *f)
{
	struct find_ctx *x = ctx;

	if (strcmp(f->name, x->name) == 0 ||
	    (strcasecmp(x->name, "INBOX") == 0 &&
	     strcasecmp(f->name, "INBOX") == 0))
		x->found = true;
	return 0;
}

static int ensure_folder(struct store *dst, const char *name,
			 struct pn_error *err)
{
	struct find_ctx x = { name, false };

	if (store_list(dst, false, on_folder, &x, err) < 0)
		return -1;
	if (x.found)
		return 0;
	if (store_create(dst, name, err) < 0)
		return -1;
	fprintf(stderr, "%s: created %s in %s\n", CMD, name, store_label(dst));
	return 0;
}

static int do_copy(struct store *src, const char *src_box, struct store *dst,
		   const char *dst_box, const struct opts *op,
		   struct pn_error *err)
{
	struct progress_ctx pc = { isatty(STDERR_FILENO), op->verbose, 0 };
	struct store_progress prog = { &pc, on_progress };
	struct store_folder *f;
	struct imap_seqset set = { 0 };
	const struct imap_seqset *which = NULL;
	size_t copied = 0;
	int rc;

	if (op->create && ensure_folder(dst, dst_box, err) < 0)
		return -1;
	if (store_folder_open(src, src_box, !op->move, &f, err) < 0)
		return -1;
	rc = 0;
	if (op->uids) {
		rc = imap_seqset_parse(&set, op->uids, strlen(op->uids), err);
		which = &set;
	} else if (op->search) {
		rc = store_search(f, op->search, &set, err);
		which = &set;
	}
	if (rc == 0 && which && set.n == 0) {
		printf("no message matches; nothing copied\n");
	} else if (rc == 0) {
		rc = store_copy(f, which, dst, dst_box, op->move, &prog,
				&copied, err);
		if (pc.tty && pc.last_shown && rc < 0)
			fputc('\n', stderr);
		if (rc == 0 || copied)
			printf("%s %zu message%s from %s to %s%s\n",
			       op->move ? "moved" : "copied", copied,
			       copied == 1 ? "" : "s", src_box, dst_box,
			       rc < 0 ? " before the error below" : "");
	}
	imap_seqset_free(&set);
	store_folder_free(&f);
	return rc;
}

static int run(const struct cli_conn_opts *o, char **args,
	       const struct opts *op)
{
	struct cli_store s, d;
	struct store *dst;
	struct pn_error err;
	bool same = strcmp(args[0], args[2]) == 0;
	int rc;

	rc = cli_store_open(CMD, o, args[0], !op->move && !same, &s);
	if (rc != CLI_OK)
		return rc;
	memset(&d, 0, sizeof(d));
	if (same) {
		dst = s.store;
	} else {
		rc = cli_store_open(CMD, o, args[2], false, &d);
		if (rc != CLI_OK) {
			cli_store_close(&s);
			return rc;
		}
		dst = d.store;
	}
	pn_error_clear(&err);
	rc = do_copy(s.store, args[1], dst, args[3], op, &err);
	if (rc < 0)
		cli_error(CMD, "%s", err.msg);
	if (!same)
		cli_store_close(&d);
	cli_store_close(&s);
	return rc < 0 ? CLI_FAIL : cli_finish_stdout(CMD, CLI_OK);
}

int cli_copy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "search", required_argument, NULL, 's' },
		{ "move", no_argument, NULL, 'm' },
		{ "create", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_conn_opts o = { 0 };
	struct opts op = { 0 };
	struct imap_seqset set = { 0 };
	struct pn_error err;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:s:mcvh", longopts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		switch (c) {
		case 'u':
			op.uids = optarg;
			r = imap_seqset_parse(&set, optarg, strlen(optarg), &err);
			imap_seqset_free(&set);
			if (r < 0)
				return cli_usage(CMD, "--uid: %s", err.msg);
			break;
		case 's': op.search = optarg; break;
		case 'm': op.move = true; break;
		case 'c': op.create = true; break;
		case 'v': op.verbose = true; break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, longopts);
		}
	}
	if (o.tunnel)
		return cli_usage(CMD, "--tunnel names one side only; give each side as an account (tunnel = CMD in the config), a URL or a Maildir");
	if (op.uids && op.search)
		return cli_usage(CMD, "--uid and --search exclude each other");
	if (argc - optind < 4)
		return cli_usage(CMD, "missing %s",
				 (const char *[]){ "SRC MAILBOX DST MAILBOX",
						   "MAILBOX DST MAILBOX",
						   "DST MAILBOX",
						   "the destination MAILBOX" }[argc - optind]);
	if (argc - optind > 4)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind + 4]);
	if (strcmp(argv[optind], argv[optind + 2]) == 0 &&
	    strcmp(argv[optind + 1], argv[optind + 3]) == 0 && op.move)
		return cli_usage(CMD, "source and destination are the same mailbox");
	return run(&o, argv + optind, &op);
}
