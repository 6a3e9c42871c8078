/* fuzz_imap_parser.c - libFuzzer target for imap/parser.c and every
 * decoder over its responses.
 *
 * The first byte picks the limits (a small inline-literal limit with or
 * without a sink, a small nesting depth); the rest is a server's byte
 * stream.  Beyond "no crash", the stream is parsed whole, one byte at a
 * time and in uneven chunks: the responses (trees, raw bytes, what the
 * sink saw) and the final error must be identical.  Every decoder then
 * runs on every response.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/imap_p.h"
#include "../../lib/buf.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ---- a canonical text of a response ---- */

static void put(struct pn_buf *o, const void *p, size_t n)
{
	CHECK(pn_buf_add(o, p, n) == 0);
}

static void puts_(struct pn_buf *o, const char *s)
{
	put(o, s ? s : "(null)", strlen(s ? s : "(null)"));
}

static void dump_args(struct pn_buf *o, const struct imap_arg *a, size_t n)
{
	char num[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), " %d:%d%d:%zu:%llu:", a[i].type,
			 a[i].literal, a[i].binary, a[i].len,
			 (unsigned long long)a[i].literal_size);
		puts_(o, num);
		if (a[i].type == IMAP_ARG_LIST) {
			puts_(o, "(");
			dump_args(o, a[i].list, a[i].nlist);
			puts_(o, ")");
		} else {
			CHECK(a[i].str != NULL);
			CHECK(a[i].str[a[i].len] == '\0');
			put(o, a[i].str, a[i].len);
		}
	}
}

static void dump(struct pn_buf *o, const struct imap_response *r)
{
	char num[64];

	snprintf(num, sizeof(num), "\n%d %d %d %u|", r->kind, r->status,
		 r->has_number, r->number);
	puts_(o, num);
	puts_(o, r->tag);
	puts_(o, "|");
	puts_(o, r->name);
	puts_(o, "|");
	puts_(o, r->code);
	dump_args(o, r->code_args, r->ncode_args);
	puts_(o, "|");
	puts_(o, r->text);
	puts_(o, "|");
	dump_args(o, r->args, r->nargs);
	puts_(o, "|raw:");
	put(o, r->raw, r->raw_len);
}

/* ---- the sink: a log that does not depend on chunking ---- */

struct sink {
	struct pn_buf *o;
	uint64_t n, sum;
	bool open;
};

static int sk_begin(void *ctx, uint32_t number, const char *item,
		    uint64_t size, bool binary)
{
	struct sink *s = ctx;
	char num[64];

	CHECK(!s->open);
	s->open = true;
	s->n = s->sum = 0;
	snprintf(num, sizeof(num), "\n[begin %u %llu %d ", number,
		 (unsigned long long)size, binary);
	puts_(s->o, num);
	puts_(s->o, item ? item : "-");
	return 0;
}

static int sk_data(void *ctx, const char *d, size_t n)
{
	struct sink *s = ctx;

	CHECK(s->open && n > 0);
	for (size_t i = 0; i < n; i++)
		s->sum = s->sum * 31 + (unsigned char)d[i];
	s->n += n;
	return 0;
}

static int sk_end(void *ctx)
{
	struct sink *s = ctx;
	char num[64];

	CHECK(s->open);
	s->open = false;
	snprintf(num, sizeof(num), " %llu %llx]", (unsigned long long)s->n,
		 (unsigned long long)s->sum);
	puts_(s->o, num);
	return 0;
}

/* ---- every decoder ---- */

static void decode_all(const struct imap_response *r)
{
	struct imap_fetch f;
	struct imap_list_entry le;
	struct imap_status_info st;
	struct imap_search_result sr = { 0 };
	struct imap_code_info ci;
	struct imap_namespaces ns;
	struct imap_quota q;
	struct imap_seqset vs = { 0 };
	struct imap_caps *caps = imap_caps_new();
	const char *const *flags;
	struct pn_error err;
	size_t n;
	bool earlier;

	CHECK(caps != NULL);
	(void)!imap_fetch_decode(r, &f, &err);
	(void)!imap_list_decode(r, false, &le, &err);
	(void)!imap_list_decode(r, true, &le, &err);
	(void)!imap_status_decode(r, false, &st, &err);
	(void)!imap_search_decode(r, &sr, &err);
	imap_search_result_free(&sr);
	(void)!imap_code_decode(r, &ci, &err);
	imap_code_info_free(&ci);
	(void)!imap_namespace_decode(r, &ns, &err);
	(void)!imap_quota_decode(r, &q, &err);
	(void)!imap_vanished_decode(r, &earlier, &vs, &err);
	imap_seqset_free(&vs);
	(void)!imap_caps_set(caps, r->args, r->nargs, &err);
	(void)!imap_caps_set(caps, r->code_args, r->ncode_args, &err);
	(void)imap_caps_appendlimit(caps);
	(void)imap_caps_auth(caps, "PLAIN");
	imap_caps_free(&caps);
	for (size_t i = 0; i < r->nargs; i++) {
		uint64_t v;
		uint32_t u;

		(void)!imap_flags_decode(r, &r->args[i], &flags, &n, &err);
		(void)imap_arg_u64(&r->args[i], &v);
		(void)imap_arg_u32(&r->args[i], &u);
		(void)imap_arg_nstring(&r->args[i]);
		(void)imap_arg_is_atom(&r->args[i], "NIL");
	}
}

/* ---- one pass over the stream ---- */

static void limits_for(uint8_t b, struct imap_limits *lim, bool *sink)
{
	memset(lim, 0, sizeof(*lim));
	*sink = b & 1;
	if (b & 2)
		lim->max_inline_literal = 8;
	if (b & 4)
		lim->max_depth = 4;
	if (b & 8)
		lim->max_line = 256;
	if (b & 16)
		lim->max_list = 5;
	if (b & 32)
		lim->max_items = 20;
}

/* step 0: whole; 1: bytewise; else: chunks of 1..step bytes. */
static void pass(const char *in, size_t len, uint8_t cfg, size_t step,
		 struct pn_buf *o, bool decode)
{
	struct imap_limits lim;
	struct sink sk = { .o = o };
	struct imap_literal_sink s = { &sk, sk_begin, sk_data, sk_end };
	struct imap_parser *p;
	uint32_t seed = 12345;
	size_t pos = 0;
	bool use_sink;

	limits_for(cfg, &lim, &use_sink);
	p = imap_parser_new(&lim);
	CHECK(p != NULL);
	if (use_sink)
		imap_parser_set_sink(p, &s);
	while (pos < len) {
		size_t chunk = len - pos, used;
		const struct imap_response *r;
		struct pn_error err;
		enum imap_parse_result res;

		if (step == 1) {
			chunk = 1;
		} else if (step > 1) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % step;
			if (chunk > len - pos)
				chunk = len - pos;
		}
		res = imap_parser_feed(p, in + pos, chunk, &used, &r, &err);
		if (res == IMAP_PARSE_ERROR) {
			puts_(o, "\nerror: ");
			puts_(o, err.msg);
			break;
		}
		CHECK(used <= chunk);
		pos += used;
		if (res == IMAP_PARSE_MORE) {
			CHECK(used == chunk);
			continue;
		}
		CHECK(r != NULL);
		dump(o, r);
		if (decode)
			decode_all(r);
	}
	imap_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pn_buf a = { 0 }, b = { 0 }, c = { 0 };
	const char *in = (const char *)data + 1;

	if (size < 1)
		return 0;
	size--;
	pass(in, size, data[0], 0, &a, true);
	pass(in, size, data[0], 1, &b, false);
	pass(in, size, data[0], 7, &c, false);
	CHECK(a.len == b.len && memcmp(pn_buf_cstr(&a), pn_buf_cstr(&b),
				       a.len) == 0);
	CHECK(a.len == c.len && memcmp(pn_buf_cstr(&a), pn_buf_cstr(&c),
				       a.len) == 0);
	pn_buf_free(&a);
	pn_buf_free(&b);
	pn_buf_free(&c);
	return 0;
}
