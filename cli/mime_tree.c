/* mime_tree.c - `postern mime tree`: the part tree, plain or JSON. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../mime/mime.h"

#define SECTION_MAX 1024	/* 64 levels of "NNNN." fit */

static const char *text_charset(const struct mime_part *part)
{
	const char *cs;

	if (strcmp(mime_part_maintype(part), "text") != 0)
		return NULL;
	cs = mime_part_charset(part);
	return cs ? cs : "us-ascii";
}

static void json_sha256(struct cli_json *j, const unsigned char *d)
{
	static const char hex[] = "0123456789abcdef";
	char out[65];
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	cli_json_strn(j, out, 64);
}

static void json_part(struct cli_json *j, const struct cli_row *r)
{
	char sec[SECTION_MAX];

	cli_json_obj_begin(j);
	cli_json_key(j, "section");
	cli_json_str(j, cli_section(r->part, sec, sizeof(sec)));
	cli_json_key(j, "depth");
	cli_json_u64(j, mime_part_depth(r->part));
	cli_json_key(j, "type");
	cli_json_str(j, mime_part_type(r->part));
	cli_json_key(j, "charset");
	cli_json_str(j, text_charset(r->part));
	cli_json_key(j, "disposition");
	cli_json_str(j, mime_part_disposition(r->part));
	cli_json_key(j, "filename");
	cli_json_str(j, mime_part_filename(r->part));
	cli_json_key(j, "size");
	if (r->leaf)
		cli_json_u64(j, r->info.size);
	else
		cli_json_null(j);
	cli_json_key(j, "sha256");
	if (r->leaf)
		json_sha256(j, r->info.sha256);
	else
		cli_json_null(j);
	cli_json_obj_end(j);
}

static void json_header(struct cli_json *j, struct mime_part *root,
			const char *key, const char *field)
{
	char *v = mime_part_header_decoded(root, field);

	cli_json_key(j, key);
	cli_json_str(j, v);
	free(v);
}

static void print_json(const struct cli_show *show, struct mime_part *root,
		       const struct cli_rows *r)
{
	struct cli_json *j = show->j;
	size_t i;

	cli_json_obj_begin(j);
	if (show->file) {
		cli_json_key(j, "file");
		cli_json_str(j, show->file);
	}
	json_header(j, root, "subject", "Subject");
	json_header(j, root, "from", "From");
	json_header(j, root, "to", "To");
	json_header(j, root, "date", "Date");
	json_header(j, root, "message_id", "Message-ID");
	cli_json_key(j, "parts");
	cli_json_arr_begin(j);
	for (i = 0; i < r->n; i++)
		json_part(j, &r->v[i]);
	cli_json_arr_end(j);
	cli_json_obj_end(j);
	cli_json_newline(j);
}

/* Column widths of the plain tree, measured over all rows first so that
 * types, sizes and names line up: section, indented type, size. */
struct widths {
	int sec, type, size;
};

static int type_label(const struct cli_row *r, char *buf, size_t sz)
{
	const char *cs = text_charset(r->part);
	int n;

	if (cs)
		n = snprintf(buf, sz, "%s; %s", mime_part_type(r->part), cs);
	else
		n = snprintf(buf, sz, "%s", mime_part_type(r->part));
	return n < 0 ? 0 : n >= (int)sz ? (int)sz - 1 : n;
}

static void measure(const struct cli_rows *rows, struct widths *w)
{
	char sec[SECTION_MAX], label[256], num[32];

	*w = (struct widths){ 1, 0, 0 };
	for (size_t i = 0; i < rows->n; i++) {
		const struct cli_row *r = &rows->v[i];
		const char *s = cli_section(r->part, sec, sizeof(sec));
		int t = 2 * (int)mime_part_depth(r->part) +
			type_label(r, label, sizeof(label));

		if (s && (int)strlen(s) > w->sec)
			w->sec = (int)strlen(s);
		if (t > w->type)
			w->type = t;
		if (r->leaf) {
			int k = snprintf(num, sizeof(num), "%" PRIu64,
					 r->info.size);

			if (k > w->size)
				w->size = k;
		}
	}
}

/* "1.2   text/html; utf-8   5120  inline "name"": section, type indented
 * by depth, decoded size (leaves only), disposition, file name.  The
 * type and charset come from mail: sanitised like the name. */
static void plain_row(const struct cli_show *show, const struct cli_row *r,
		      const struct widths *w)
{
	const char *fn = mime_part_filename(r->part);
	const char *disp = mime_part_disposition(r->part);
	int depth = 2 * (int)mime_part_depth(r->part);
	char sec[SECTION_MAX], label[256];
	const char *s = cli_section(r->part, sec, sizeof(sec));
	int n = type_label(r, label, sizeof(label));

	printf("%*s%-*s  %*s", show->file ? 2 : 0, "", w->sec, s ? s : "-",
	       depth, "");
	cli_puts(stdout, show->tty, label);
	if (!r->leaf && !disp && !fn) {
		fputc('\n', stdout);	/* no trailing padding */
		return;
	}
	printf("%*s", w->type - depth - n, "");
	if (r->leaf)
		printf("  %*" PRIu64, w->size, r->info.size);
	else if (w->size)
		printf("  %*s", w->size, "");
	if (disp) {
		fputs("  ", stdout);
		cli_puts(stdout, show->tty, disp);
	}
	if (fn) {
		fputs(disp ? " \"" : "  \"", stdout);
		cli_puts(stdout, show->tty, fn);
		fputc('"', stdout);
	}
	fputc('\n', stdout);
}

/* The defect a transfer decoder's complaint stands for. */
static enum mime_defect_kind decode_defect(const struct mime_part *part)
{
	switch (mime_part_cte(part)) {
	case MIME_CTE_QP:
		return MIME_DEFECT_BAD_QP;
	case MIME_CTE_UUENCODE:
		return MIME_DEFECT_BAD_UUENCODE;
	default:
		return MIME_DEFECT_BAD_BASE64;
	}
}

static int by_offset(const void *a, const void *b)
{
	const struct mime_defect *x = *(const struct mime_defect *const *)a;
	const struct mime_defect *y = *(const struct mime_defect *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void defect_line(const struct cli_show *show, const char *pad,
			const struct mime_defect *d)
{
	char sec[SECTION_MAX];
	const char *s = d->part ? cli_section(d->part, sec, sizeof(sec)) : NULL;

	printf("%s  part %s, byte %" PRIu64 ": %s: ", pad, s ? s : "-",
	       d->offset, mime_defect_name(d->kind));
	cli_puts(stdout, show->tty, d->msg);
	fputc('\n', stdout);
}

/* What the parser and the decoders found wrong, after the tree, in byte
 * order: for people debugging mail, the point of reading a broken message
 * at all.  The JSON format is fixed by its keys, so plain output only. */
static void print_defects(const struct cli_show *show,
			  const struct mime_message *msg,
			  const struct cli_rows *r)
{
	size_t n = mime_message_defect_count(msg), i, bad = 0;
	const char *pad = show->file ? "  " : "";
	const struct mime_defect **d = n ? calloc(n, sizeof(*d)) : NULL;
	char sec[SECTION_MAX];

	for (i = 0; d && i < n; i++)
		d[i] = mime_message_defect(msg, i);
	if (d)
		qsort(d, n, sizeof(*d), by_offset);
	for (i = 0; i < r->n; i++)
		bad += r->v[i].leaf && r->v[i].info.bad_encoding;
	if (n + bad)
		printf("%sdefects:\n", pad);
	for (i = 0; i < n; i++)
		defect_line(show, pad, d ? d[i] : mime_message_defect(msg, i));
	free(d);
	for (i = 0; i < r->n; i++) {
		const struct cli_row *row = &r->v[i];
		const char *s;

		if (!row->leaf || !row->info.bad_encoding)
			continue;
		s = cli_section(row->part, sec, sizeof(sec));
		printf("%s  part %s: %s: malformed %s content, decoded as far "
		       "as it goes\n", pad, s ? s : "-",
		       mime_defect_name(decode_defect(row->part)),
		       mime_cte_name(mime_part_cte(row->part)));
	}
}

static void print_plain(const struct cli_show *show,
			const struct mime_message *msg,
			const struct cli_rows *r)
{
	struct widths w;
	size_t i;

	if (show->file) {
		cli_puts(stdout, show->tty, show->file);
		fputs(":\n", stdout);
	}
	measure(r, &w);
	for (i = 0; i < r->n; i++)
		plain_row(show, &r->v[i], &w);
	print_defects(show, msg, r);
}

static int show_tree(const struct cli_show *show, struct mime_message *msg,
		     struct pn_error *err)
{
	struct mime_part *root = mime_message_root(msg);
	struct cli_rows r = { .scan = show->scan, .err = err };
	int rc;

	rc = mime_walk(root, cli_rows_add, &r);
	if (rc == 0) {
		if (show->json)
			print_json(show, root, &r);
		else
			print_plain(show, msg, &r);
	}
	cli_rows_free(&r);
	return rc ? -1 : 0;
}

int cli_mime_tree(int argc, char **argv)
{
	return cli_multi_main("postern mime tree", argc, argv, show_tree, true);
}
