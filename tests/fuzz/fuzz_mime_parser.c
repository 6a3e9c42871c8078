/* fuzz_mime_parser.c - libFuzzer target for the streaming MIME parser.
 *
 * Parses the input whole and (when small) one byte at a time and in
 * uneven chunks, and requires the same tree, offsets and defects each
 * way; checks the offsets nest; walks the tree, computes and resolves
 * every section; decodes every leaf.  Limits are small so deep or wide
 * inputs reach them quickly. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mime/mime_p.h"

static const struct mime_limits limits = {
	.max_depth = 12,
	.max_parts = 300,
	.max_header_line = 4096,
	.max_header_block = 16384,
	.max_headers = 100,
};

static void append(struct pn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(struct pn_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (pn_buf_vprintf(b, fmt, ap) < 0)
		abort();
	va_end(ap);
}

static int describe_part(struct mime_part *part, void *ctx)
{
	struct pn_buf *b = ctx;
	char sec[512];
	size_t i;

	if (mime_part_section(part, sec, sizeof(sec)) < 0)
		strcpy(sec, "?");
	append(b, "[%s %s %llu %llu %llu %d %zu]", sec, mime_part_type(part),
	       (unsigned long long)part->off_start,
	       (unsigned long long)part->off_body,
	       (unsigned long long)part->off_end,
	       mime_part_is_multipart(part), mime_part_header_count(part));
	for (i = 0; i < mime_part_header_count(part); i++)
		append(b, "%s;", mime_part_header_name(part, i));
	return 0;
}

static char *describe(struct mime_message *msg)
{
	struct pn_buf b;
	size_t i;

	pn_buf_init(&b, 0);
	mime_walk(mime_message_root(msg), describe_part, &b);
	for (i = 0; i < mime_message_defect_count(msg); i++) {
		const struct mime_defect *d = mime_message_defect(msg, i);

		append(&b, "{%s %llu %s}", mime_defect_name(d->kind),
		       (unsigned long long)d->offset, d->msg);
	}
	append(&b, "eol=%s", msg->eol);
	return pn_buf_take(&b, NULL);
}

struct sinkstate {
	uint64_t bytes;
	unsigned depth;
};

static int s_begin(void *ctx, struct mime_part *part)
{
	struct sinkstate *s = ctx;

	(void)part;
	if (s->depth++)
		abort();	/* begin without end */
	return 0;
}

static int s_data(void *ctx, struct mime_part *part, const char *raw,
		  size_t len)
{
	struct sinkstate *s = ctx;
	volatile char c;

	(void)part;
	if (!s->depth || !len)
		abort();
	c = raw[0];
	c = raw[len - 1];
	(void)c;
	s->bytes += len;
	return 0;
}

static int s_end(void *ctx, struct mime_part *part)
{
	struct sinkstate *s = ctx;

	(void)part;
	if (s->depth-- != 1)
		abort();
	return 0;
}

static struct mime_message *parse(const uint8_t *data, size_t size,
				  size_t chunk, struct sinkstate *s)
{
	struct mime_leaf_sink sink = { s, s_begin, s_data, s_end };
	struct mime_parser *p = mime_parser_new(&limits, &sink);
	struct mime_message *msg = NULL;
	struct pn_error err;
	size_t off = 0, step = chunk;

	if (!p)
		abort();
	while (off < size) {
		size_t n = chunk ? step : size;

		if (n > size - off)
			n = size - off;
		if (mime_parser_feed(p, (const char *)data + off, n, &err) < 0)
			abort();
		off += n;
		if (chunk > 1)
			step = step % 13 + 1;	/* uneven chunks */
	}
	if (mime_parser_finish(p, &msg, &err) < 0)
		abort();
	mime_parser_free(&p);
	return msg;
}

static uint64_t leaf_bytes;

static void check_nesting(struct mime_part *part, size_t size)
{
	struct mime_part *c;
	uint64_t prev = part->off_body;

	if (part->off_start > part->off_body ||
	    part->off_body > part->off_end || part->off_end > size)
		abort();
	if (!part->first_child && !mime_part_is_multipart(part))
		leaf_bytes += part->off_end - part->off_body;
	for (c = part->first_child; c; c = c->next) {
		if (c->off_start < prev || c->off_end > part->off_end)
			abort();
		prev = c->off_end;
	}
}

static int count_out(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(uint64_t *)ctx += len;
	return 0;
}

static int visit(struct mime_part *part, void *ctx)
{
	struct mime_part *root = ctx;
	char sec[512];
	struct pn_error err;
	uint64_t n = 0;
	bool defect;

	check_nesting(part, (size_t)root->off_end);
	if (mime_part_section(part, sec, sizeof(sec)) >= 0 &&
	    !mime_part_by_section(root, sec))
		abort();	/* every section resolves */
	(void)mime_part_charset(part);
	(void)mime_part_filename(part);
	(void)mime_part_content_id(part);
	(void)mime_part_disposition(part);
	if (!part->first_child &&
	    mime_part_decode(part, count_out, &n, &defect, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sinkstate s0 = { 0 }, s1 = { 0 }, s2 = { 0 };
	struct mime_message *whole, *other;
	struct pn_error err;
	char *a, *b;

	whole = parse(data, size, 0, &s0);
	a = describe(whole);
	if (size <= 4096) {
		other = parse(data, size, 1, &s1);
		b = describe(other);
		if (strcmp(a, b) || s0.bytes != s1.bytes) {
			fprintf(stderr, "whole:\n%s\nbytewise:\n%s\n", a, b);
			abort();
		}
		free(b);
		mime_message_free(&other);
		other = parse(data, size, 2, &s2);
		b = describe(other);
		if (strcmp(a, b) || s0.bytes != s2.bytes) {
			fprintf(stderr, "whole:\n%s\nchunked:\n%s\n", a, b);
			abort();
		}
		free(b);
		mime_message_free(&other);
	}
	free(a);
	if (mime_message_attach_mem(whole, (const char *)data, size, false,
				    &err) < 0)
		abort();
	leaf_bytes = 0;
	mime_walk(mime_message_root(whole), visit, mime_message_root(whole));
	mime_message_free(&whole);
	return 0;
}
