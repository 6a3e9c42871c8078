/* scan.c - size and SHA-256 of every leaf in the parser's single pass.
 *
 * tree is benchmarked against GMime walking and hashing every leaf, so
 * the bytes are decoded and hashed as the parser streams them past (a
 * mime_leaf_sink) instead of being read back from the file afterwards.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../mime/mime.h"

struct cli_scan {
	struct cli_leaf *v;
	size_t n, cap;
	size_t cursor;		/* leaves arrive in the order walks visit them */
	bool hash;
	EVP_MD_CTX *md;
	EVP_MD *sha256;		/* fetched once, not per leaf */
	struct mime_decoder *dec;
	struct cli_leaf *cur;	/* the leaf being streamed, or NULL */
	struct mime_leaf_sink sink;
};

static int on_decoded(void *ctx, const char *data, size_t len)
{
	struct cli_scan *s = ctx;

	s->cur->size += len;
	if (s->hash && EVP_DigestUpdate(s->md, data, len) != 1)
		return -1;
	return 0;
}

static int hash_begin(struct cli_scan *s, struct cli_leaf *leaf)
{
	memset(leaf, 0, sizeof(*leaf));
	s->cur = leaf;
	if (s->hash && EVP_DigestInit_ex(s->md, s->sha256, NULL) != 1)
		return -1;
	return 0;
}

static int hash_end(struct cli_scan *s)
{
	if (s->hash && EVP_DigestFinal_ex(s->md, s->cur->sha256, NULL) != 1)
		return -1;
	s->cur = NULL;
	return 0;
}

static int sink_begin(void *ctx, struct mime_part *part)
{
	struct cli_scan *s = ctx;
	struct cli_leaf *v;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		v = realloc(s->v, s->cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
	}
	mime_decoder_free(&s->dec);
	s->dec = mime_decoder_new(mime_part_cte(part), on_decoded, s);
	if (!s->dec || hash_begin(s, &s->v[s->n]) < 0)
		return -1;
	s->v[s->n].part = part;
	return 0;
}

static int sink_data(void *ctx, struct mime_part *part, const char *raw,
		     size_t len)
{
	struct cli_scan *s = ctx;

	(void)part;
	if (!s->cur)
		return 0;
	return mime_decoder_feed(s->dec, raw, len);
}

static int sink_end(void *ctx, struct mime_part *part)
{
	struct cli_scan *s = ctx;

	(void)part;
	if (!s->cur)
		return 0;
	if (mime_decoder_finish(s->dec, &s->cur->bad_encoding) < 0 ||
	    hash_end(s) < 0)
		return -1;
	mime_decoder_free(&s->dec);
	s->n++;
	return 0;
}

struct cli_scan *cli_scan_new(bool hash)
{
	struct cli_scan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->hash = hash;
	/* A hash needs no openssl.cnf; reading it costs every run. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (hash && (!(s->md = EVP_MD_CTX_new()) ||
		     !(s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))) {
		cli_scan_free(&s);
		return NULL;
	}
	s->sink.ctx = s;
	s->sink.begin = sink_begin;
	s->sink.data = sink_data;
	s->sink.end = sink_end;
	return s;
}

void cli_scan_free(struct cli_scan **sp)
{
	struct cli_scan *s = *sp;

	if (!s)
		return;
	mime_decoder_free(&s->dec);
	EVP_MD_CTX_free(s->md);
	EVP_MD_free(s->sha256);
	free(s->v);
	free(s);
	*sp = NULL;
}

void cli_scan_reset(struct cli_scan *s)
{
	mime_decoder_free(&s->dec);
	s->cur = NULL;
	s->n = 0;
	s->cursor = 0;
}

const struct mime_leaf_sink *cli_scan_sink(struct cli_scan *s)
{
	return &s->sink;
}

static const struct cli_leaf *find_leaf(struct cli_scan *s,
					const struct mime_part *part)
{
	size_t i;

	if (s->cursor < s->n && s->v[s->cursor].part == part)
		return &s->v[s->cursor++];
	for (i = 0; i < s->n; i++) {
		if (s->v[i].part == part)
			return &s->v[i];
	}
	return NULL;
}

int cli_scan_get(struct cli_scan *s, struct mime_part *part,
		 struct cli_leaf *out, struct pn_error *err)
{
	const struct cli_leaf *leaf = find_leaf(s, part);

	if (leaf) {
		*out = *leaf;
		return 0;
	}
	/* The sink did not see this leaf: read it back from the source. */
	if (hash_begin(s, out) < 0)
		return pn_error_set(err, PN_ENOMEM, "SHA-256 failed");
	out->part = part;
	if (mime_part_decode(part, on_decoded, s, &out->bad_encoding,
			     err) < 0) {
		s->cur = NULL;
		return -1;
	}
	if (hash_end(s) < 0)
		return pn_error_set(err, PN_ENOMEM, "SHA-256 failed");
	return 0;
}

bool cli_part_is_leaf(const struct mime_part *part)
{
	return !mime_part_is_multipart(part) && !mime_part_is_message(part);
}

const char *cli_section(const struct mime_part *part, char *buf, size_t sz)
{
	if (mime_part_section(part, buf, sz) <= 0)
		return NULL;
	return buf;
}

int cli_rows_add(struct mime_part *part, void *ctx)
{
	struct cli_rows *r = ctx;
	struct cli_row *v;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;

		v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return pn_error_set(r->err, PN_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	v = &r->v[r->n++];
	v->part = part;
	v->leaf = cli_part_is_leaf(part);
	if (v->leaf && cli_scan_get(r->scan, part, &v->info, r->err) < 0)
		return -1;
	return 0;
}

void cli_rows_free(struct cli_rows *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}
