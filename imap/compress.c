/* compress.c - COMPRESS=DEFLATE (RFC 4978): raw deflate both ways over
 * whatever carries the bytes below (TLS or the plain stream).
 *
 * Inflated bytes wait in outbuf.  Whenever outbuf runs dry, zlib is run
 * again on what it still holds before anything is read from below, so
 * "outbuf empty" really means "nothing without more input" and pending()
 * never sends an event loop into a read that blocks with data in hand. */
#include "imap_p.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define ZCHUNK 16384

struct imap_deflate {
	z_stream inf, def;
	bool inf_init, def_init;
	bool more;		/* the last inflate filled outbuf */
	bool ended;		/* the server finished its stream (Z_FINISH):
				   what it produced is still read, then EOF */
	size_t out_pos, out_len;
	unsigned char inbuf[ZCHUNK];	/* compressed, from below */
	unsigned char outbuf[ZCHUNK];	/* inflated, not yet read */
	unsigned char zbuf[ZCHUNK];	/* compressed, going down */
};

int imap_deflate_new(struct imap_deflate **out, struct pn_error *err)
{
	struct imap_deflate *z = calloc(1, sizeof(*z));

	*out = NULL;
	if (!z)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	/* RFC 4978 section 2: raw deflate, no zlib header (windowBits < 0). */
	z->inf_init = inflateInit2(&z->inf, -15) == Z_OK;
	z->def_init = deflateInit2(&z->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
				   -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	if (!z->inf_init || !z->def_init) {
		imap_deflate_free(&z);
		return pn_error_set(err, PN_ENOMEM, "DEFLATE: cannot start zlib");
	}
	*out = z;
	return 0;
}

/* Refill outbuf from what zlib already has (outbuf must be empty). */
static int inflate_some(struct imap_deflate *z, struct pn_error *err)
{
	int rc;

	z->out_pos = z->out_len = 0;
	do {
		z->inf.next_out = z->outbuf;
		z->inf.avail_out = sizeof(z->outbuf);
		rc = inflate(&z->inf, Z_SYNC_FLUSH);
		/* A server that ends its stream (at LOGOUT, say) still sent
		 * the bytes before the end: hand them over, then EOF. */
		if (rc == Z_STREAM_END) {
			z->ended = true;
			z->more = false;
			z->out_len = sizeof(z->outbuf) - z->inf.avail_out;
			return 0;
		}
		/* Z_BUF_ERROR: no progress possible, not an error. */
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return pn_error_set(err, PN_EIO, "DEFLATE: corrupt "
					    "data from the server: %s",
					    z->inf.msg ? z->inf.msg : "?");
		z->out_len = sizeof(z->outbuf) - z->inf.avail_out;
		z->more = z->inf.avail_out == 0;
	} while (z->out_len == 0 && (z->inf.avail_in > 0 || z->more));
	return 0;
}

int imap_deflate_read(struct imap_deflate *z, char *buf, size_t len,
		      size_t *got_out, imap_lower_read_fn lower, void *ctx,
		      struct pn_error *err)
{
	size_t n;

	*got_out = 0;
	while (z->out_pos == z->out_len) {
		if (z->ended)
			return 0;	/* end of the compressed stream */
		if (lower(ctx, (char *)z->inbuf, sizeof(z->inbuf), &n, err) < 0)
			return -1;
		if (n == 0)
			return 0;	/* the peer closed */
		z->inf.next_in = z->inbuf;
		z->inf.avail_in = (uInt)n;
		if (inflate_some(z, err) < 0)
			return -1;
	}
	n = z->out_len - z->out_pos;
	if (n > len)
		n = len;
	memcpy(buf, z->outbuf + z->out_pos, n);
	z->out_pos += n;
	if (z->out_pos == z->out_len && !z->ended &&
	    (z->inf.avail_in > 0 || z->more) && inflate_some(z, err) < 0)
		return -1;
	*got_out = n;
	return 0;
}

/* One piece short enough for zlib's uInt counters. */
static int deflate_piece(struct imap_deflate *z, const unsigned char *p,
			 uInt n, imap_lower_write_fn lower, void *ctx,
			 struct pn_error *err)
{
	int rc;

	z->def.next_in = (unsigned char *)p;
	z->def.avail_in = n;
	/* Z_SYNC_FLUSH until zlib leaves output space unused: only then is
	 * every byte of the command on its way to the server. */
	do {
		z->def.next_out = z->zbuf;
		z->def.avail_out = sizeof(z->zbuf);
		rc = deflate(&z->def, Z_SYNC_FLUSH);
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return pn_error_set(err, PN_EIO, "DEFLATE: compression "
					    "failed (zlib %d)", rc);
		size_t out = sizeof(z->zbuf) - z->def.avail_out;

		if (out && lower(ctx, z->zbuf, out, err) < 0)
			return -1;
	} while (z->def.avail_out == 0 || z->def.avail_in > 0);
	return 0;
}

int imap_deflate_write(struct imap_deflate *z, const void *buf, size_t len,
		       imap_lower_write_fn lower, void *ctx,
		       struct pn_error *err)
{
	const unsigned char *p = buf;

	do {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		if (deflate_piece(z, p, n, lower, ctx, err) < 0)
			return -1;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

bool imap_deflate_pending(const struct imap_deflate *z)
{
	return z->out_pos < z->out_len;
}

void imap_deflate_discard(struct imap_deflate *z)
{
	z->out_pos = z->out_len = 0;
	z->inf.avail_in = 0;
	z->more = false;
}

void imap_deflate_free(struct imap_deflate **zp)
{
	struct imap_deflate *z = *zp;

	if (!z)
		return;
	if (z->inf_init)
		inflateEnd(&z->inf);
	if (z->def_init)
		deflateEnd(&z->def);
	free(z);
	*zp = NULL;
}
