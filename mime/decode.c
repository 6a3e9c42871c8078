/* decode.c - streaming transfer decoding (RFC 2045 6: base64,
 * quoted-printable; identity for 7bit, 8bit, binary) plus x-uuencode,
 * and mime_part_decode reading a part's raw body back from its source. */
#include "mime_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/base64.h"
#include "../lib/qp.h"

/* Input slice decoded at once; the output buffer is sized for it. */
#define SLICE (48u << 10)
#define OUT_MAX (SLICE + 128)
/* A uuencoded line holds at most 63 bytes in 84 characters; longer lines
 * are cut (what is past this cannot be data). */
#define UU_LINE_MAX 256
/* Text before "begin" kept to give back as is when "begin" never comes
 * (Python returns the raw payload then). */
#define UU_PRELUDE_MAX (64u << 10)
#define READ_CHUNK (64u << 10)

enum uu_state { UU_BEFORE, UU_DATA, UU_END, UU_RAW };

struct mime_decoder {
	enum mime_cte cte;
	mime_data_fn fn;
	void *ctx;
	bool defect;
	bool failed;
	struct pn_b64_decoder b64;
	struct pn_qp_decoder qp;
	/* uuencode */
	enum uu_state uu;
	char uline[UU_LINE_MAX];
	size_t ulen;
	bool ulong;		/* the current line was cut */
	struct pn_buf prelude;
	char out[OUT_MAX];
};

struct mime_decoder *mime_decoder_new(enum mime_cte cte, mime_data_fn fn,
				      void *ctx)
{
	struct mime_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cte = cte;
	d->fn = fn;
	d->ctx = ctx;
	pn_b64_decoder_init(&d->b64);
	pn_qp_decoder_init(&d->qp);
	pn_buf_init(&d->prelude, UU_PRELUDE_MAX + UU_LINE_MAX + 2);
	return d;
}

void mime_decoder_free(struct mime_decoder **dp)
{
	if (!dp || !*dp)
		return;
	pn_buf_free(&(*dp)->prelude);
	free(*dp);
	*dp = NULL;
}

static int out(struct mime_decoder *d, const char *s, size_t n)
{
	if (!n || d->failed)
		return d->failed ? -1 : 0;
	if (d->fn(d->ctx, s, n)) {
		d->failed = true;
		return -1;
	}
	return 0;
}

/* ---- uuencode ------------------------------------------------------------ */

static int uu_val(char c)
{
	return (c - 0x20) & 0x3f;	/* ' ' and '`' are both 0 */
}

/* One data line: a length character, then 4 characters per 3 bytes.
 * Missing characters count as zero, as binascii.a2b_uu does. */
static int uu_data_line(struct mime_decoder *d, const char *s, size_t n)
{
	size_t want, i, o = 0;
	unsigned char buf[64];

	if (n == 0) {
		d->defect = true;	/* a blank line inside the data */
		return 0;
	}
	want = (size_t)uu_val(s[0]);
	s++;
	n--;
	if (n * 3 / 4 < want)
		d->defect = true;
	for (i = 0; o < want; i += 4) {
		unsigned v[4], j;

		for (j = 0; j < 4; j++)
			v[j] = i + j < n ? (unsigned)uu_val(s[i + j]) : 0;
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (o < want)
			buf[o++] = (unsigned char)((v[1] & 0xf) << 4 | v[2] >> 2);
		if (o < want)
			buf[o++] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
	}
	return out(d, (const char *)buf, want);
}

static bool is_begin(const char *s, size_t n)
{
	size_t i = 6;

	/* "begin" SP octal-mode SP name */
	if (n < 8 || memcmp(s, "begin ", 6))
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '7')
		i++;
	return i > 6 && (i == n || s[i] == ' ');
}

static bool is_end(const char *s, size_t n)
{
	while (n && strchr(" \t\f", s[n - 1]))
		n--;
	while (n && strchr(" \t\f", *s)) {
		s++;
		n--;
	}
	return n == 3 && !memcmp(s, "end", 3);
}

static int uu_line(struct mime_decoder *d, const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	switch (d->uu) {
	case UU_BEFORE:
		if (is_begin(s, n)) {
			d->uu = UU_DATA;
			pn_buf_free(&d->prelude);
		}
		return 0;
	case UU_DATA:
		if (is_end(s, n)) {
			d->uu = UU_END;
			return 0;
		}
		return uu_data_line(d, s, n);
	default:
		return 0;	/* after "end": ignored, like Python */
	}
}

/* Before "begin", keep the raw bytes; if they grow too big, give up on
 * finding it and pass everything through. */
static int uu_prelude(struct mime_decoder *d, const char *s, size_t n)
{
	if (d->uu != UU_BEFORE)
		return 0;
	if (d->prelude.len + n <= UU_PRELUDE_MAX) {
		if (pn_buf_add(&d->prelude, s, n) < 0)
			return -1;
		return 0;
	}
	d->defect = true;
	d->uu = UU_RAW;
	if (out(d, d->prelude.data, d->prelude.len) < 0)
		return -1;
	pn_buf_free(&d->prelude);
	return 1;
}

static int uu_feed(struct mime_decoder *d, const char *raw, size_t len)
{
	while (len) {
		const char *nl;
		size_t n, take;
		int rc;

		if (d->uu == UU_RAW)
			return out(d, raw, len);
		nl = memchr(raw, '\n', len);
		n = nl ? (size_t)(nl - raw) : len;
		rc = uu_prelude(d, raw, nl ? n + 1 : n);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;	/* now raw: the same bytes again */
		take = n;
		if (d->ulen + take > UU_LINE_MAX) {
			take = UU_LINE_MAX - d->ulen;
			d->ulong = true;
		}
		memcpy(d->uline + d->ulen, raw, take);
		d->ulen += take;
		if (nl) {
			rc = uu_line(d, d->uline, d->ulen);
			d->ulen = 0;
			d->ulong = false;
			if (rc < 0)
				return -1;
			n++;
		}
		raw += n;
		len -= n;
	}
	return 0;
}

static int uu_finish(struct mime_decoder *d)
{
	if (d->ulen && uu_line(d, d->uline, d->ulen) < 0)
		return -1;
	d->ulen = 0;
	if (d->uu == UU_BEFORE) {
		d->defect = true;	/* no "begin" line: the raw text */
		if (out(d, d->prelude.data, d->prelude.len) < 0)
			return -1;
	} else if (d->uu == UU_DATA) {
		d->defect = true;	/* no "end" line */
	}
	return 0;
}

/* ---- the decoder --------------------------------------------------------- */

int mime_decoder_feed(struct mime_decoder *d, const char *raw, size_t len)
{
	size_t n;

	if (d->failed)
		return -1;
	switch (d->cte) {
	case MIME_CTE_BASE64:
		while (len) {
			n = len < SLICE ? len : SLICE;
			if (out(d, d->out, pn_b64_decode(&d->b64, raw, n,
							 d->out)) < 0)
				return -1;
			raw += n;
			len -= n;
		}
		return 0;
	case MIME_CTE_QP:
		while (len) {
			n = len < SLICE ? len : SLICE;
			if (out(d, d->out, pn_qp_decode(&d->qp, raw, n,
							d->out)) < 0)
				return -1;
			raw += n;
			len -= n;
		}
		return 0;
	case MIME_CTE_UUENCODE:
		return uu_feed(d, raw, len);
	default:
		return out(d, raw, len);
	}
}

int mime_decoder_finish(struct mime_decoder *d, bool *defect_out)
{
	bool truncated = false;
	size_t n;

	if (d->failed)
		return -1;
	switch (d->cte) {
	case MIME_CTE_BASE64:
		n = pn_b64_decode_finish(&d->b64, d->out, &truncated);
		if (truncated || d->b64.bad)
			d->defect = true;
		if (out(d, d->out, n) < 0)
			return -1;
		break;
	case MIME_CTE_QP:
		n = pn_qp_decode_finish(&d->qp, d->out);
		if (d->qp.bad)
			d->defect = true;
		if (out(d, d->out, n) < 0)
			return -1;
		break;
	case MIME_CTE_UUENCODE:
		if (uu_finish(d) < 0)
			return -1;
		break;
	default:
		break;
	}
	if (defect_out)
		*defect_out = d->defect;
	return 0;
}

/* ---- a part's body ------------------------------------------------------- */

/* A file from the file manager holds the content itself, not encoded. */
static int decode_path(struct mime_part *part, mime_data_fn fn, void *ctx,
		       struct pn_error *err)
{
	char *buf = malloc(READ_CHUNK);
	int fd, rc = 0;

	if (!buf)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	fd = open(part->body_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return pn_error_errno(err, errno, "%s", part->body_path);
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pn_error_errno(err, errno, "%s", part->body_path);
			break;
		}
		if (n == 0)
			break;
		if (fn(ctx, buf, (size_t)n)) {
			rc = pn_error_set(err, PN_EINVAL, "stopped by caller");
			break;
		}
	}
	close(fd);
	free(buf);
	return rc;
}

static int decode_source(struct mime_part *part, struct mime_source *src,
			 struct mime_decoder *d, struct pn_error *err)
{
	uint64_t off = part->off_body, end = part->off_end;
	char *buf = malloc(READ_CHUNK);

	if (!buf)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	while (off < end) {
		size_t want = end - off < READ_CHUNK ? (size_t)(end - off) :
			      READ_CHUNK, got;

		if (mime_source_read(src, off, buf, want, &got, err) < 0)
			break;
		if (got == 0) {
			pn_error_set(err, PN_EIO, "message source ends at byte "
				     "%llu, part needs %llu",
				     (unsigned long long)off,
				     (unsigned long long)end);
			break;
		}
		if (mime_decoder_feed(d, buf, got) < 0) {
			pn_error_set(err, PN_EINVAL, "stopped by caller");
			break;
		}
		off += got;
	}
	free(buf);
	return off < end ? -1 : 0;
}

int mime_part_decode(struct mime_part *part, mime_data_fn fn, void *ctx,
		     bool *defect_out, struct pn_error *err)
{
	struct mime_source *src;
	struct mime_decoder *d;
	int rc;

	if (defect_out)
		*defect_out = false;
	if (!part)
		return pn_error_set(err, PN_EINVAL, "no part");
	if (part->body_path)
		return decode_path(part, fn, ctx, err);
	src = part->src ? part->src : part->msg ? part->msg->src : NULL;
	d = mime_decoder_new(part->cte, fn, ctx);
	if (!d)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (!src && !part->content_dirty && part->off_end > part->off_body) {
		/* parsed, but mime_message_attach_* was never called */
		rc = pn_error_set(err, PN_EINVAL, "message has no source");
	} else if (part->content_dirty || !src) {
		rc = mime_decoder_feed(d, part->body.data ? part->body.data : "",
				       part->body.len);
		if (rc < 0)
			pn_error_set(err, PN_EINVAL, "stopped by caller");
	} else {
		rc = decode_source(part, src, d, err);
	}
	if (rc == 0 && mime_decoder_finish(d, defect_out) < 0)
		rc = pn_error_set(err, PN_EINVAL, "stopped by caller");
	mime_decoder_free(&d);
	return rc;
}
