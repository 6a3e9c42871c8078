/* mime_attachments.c - `postern mime attachments`: what iter_attachments
 * yields, one line (or JSON object) each. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../mime/mime.h"

#define SECTION_MAX 1024

static void json_att(struct cli_json *j, const struct cli_row *a)
{
	char sec[SECTION_MAX];

	cli_json_obj_begin(j);
	cli_json_key(j, "section");
	cli_json_str(j, cli_section(a->part, sec, sizeof(sec)));
	cli_json_key(j, "type");
	cli_json_str(j, mime_part_type(a->part));
	cli_json_key(j, "filename");
	cli_json_str(j, mime_part_filename(a->part));
	cli_json_key(j, "size");
	if (a->leaf)
		cli_json_u64(j, a->info.size);
	else
		cli_json_null(j);
	cli_json_obj_end(j);
}

static void print_json(const struct cli_show *show, const struct cli_rows *a)
{
	struct cli_json *j = show->j;
	size_t i;

	cli_json_obj_begin(j);
	if (show->file) {
		cli_json_key(j, "file");
		cli_json_str(j, show->file);
	}
	cli_json_key(j, "attachments");
	cli_json_arr_begin(j);
	for (i = 0; i < a->n; i++)
		json_att(j, &a->v[i]);
	cli_json_arr_end(j);
	cli_json_obj_end(j);
	cli_json_newline(j);
}

/* Tab-separated columns: section, type, filename ("-" when none), size
 * ("-" for a container). */
static void plain_att(const struct cli_show *show, const struct cli_row *a)
{
	const char *fn = mime_part_filename(a->part);
	char sec[SECTION_MAX];
	const char *s = cli_section(a->part, sec, sizeof(sec));

	if (show->file)
		fputs("  ", stdout);
	printf("%s\t", s ? s : "-");
	cli_puts(stdout, show->tty, mime_part_type(a->part));
	fputc('\t', stdout);
	cli_puts(stdout, show->tty, fn ? fn : "-");
	if (a->leaf)
		printf("\t%" PRIu64 "\n", a->info.size);
	else
		fputs("\t-\n", stdout);
}

static void print_plain(const struct cli_show *show, const struct cli_rows *a)
{
	size_t i;

	if (show->file) {
		cli_puts(stdout, show->tty, show->file);
		fputs(":\n", stdout);
	}
	for (i = 0; i < a->n; i++)
		plain_att(show, &a->v[i]);
}

static int show_attachments(const struct cli_show *show,
			    struct mime_message *msg, struct pn_error *err)
{
	struct cli_rows a = { .scan = show->scan, .err = err };
	int rc;

	rc = mime_iter_attachments(mime_message_root(msg), cli_rows_add, &a);
	if (rc == 0) {
		if (show->json)
			print_json(show, &a);
		else
			print_plain(show, &a);
	}
	cli_rows_free(&a);
	return rc ? -1 : 0;
}

int cli_mime_attachments(int argc, char **argv)
{
	return cli_multi_main("postern mime attachments", argc, argv,
			      show_attachments, false);
}
