/* raw_manager.c - the raw-data content manager (email6 raw_data_manager).
 *
 * get: text leaves become UTF-8 text (transfer-decoded, then converted
 * from their charset), other leaves bytes, a parsed message/rfc822 its
 * nested root; multiparts are refused.  set: "text", "bytes", "message".
 */
#include "mime_p.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/utf8.h"

/* ---- get ----------------------------------------------------------------- */

static int to_buf(void *ctx, const char *data, size_t len)
{
	return pn_buf_add(ctx, data, len);
}

static int decode_to_buf(struct mime_part *part, struct pn_buf *out,
			 bool *defect, struct pn_error *err)
{
	pn_buf_init(out, 0);
	if (mime_part_decode(part, to_buf, out, defect, err) < 0) {
		pn_buf_free(out);
		return -1;
	}
	return 0;
}

static int get_bytes(struct mime_part *part, void *arg, void *ctx,
		     struct pn_error *err)
{
	struct mime_content *c = arg;
	struct pn_buf b;
	bool defect = false;

	(void)ctx;
	memset(c, 0, sizeof(*c));
	if (decode_to_buf(part, &b, &defect, err) < 0)
		return -1;
	c->kind = MIME_CONTENT_BYTES;
	c->data = pn_buf_take(&b, &c->len);
	c->defect = defect;
	if (!c->data)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

/* Text comes back with LF line breaks, whatever the message used on the
 * wire (CRLF by RFC 5322, LF in a Maildir): a C string of lines, and what
 * set_content("text") takes. */
static void lf_only(struct pn_buf *b)
{
	size_t o = 0;

	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r' && i + 1 < b->len &&
		    b->data[i + 1] == '\n')
			continue;
		b->data[o++] = b->data[i];
	}
	b->len = o;
	if (b->data)
		b->data[o] = '\0';
}

static int get_text(struct mime_part *part, void *arg, void *ctx,
		    struct pn_error *err)
{
	struct mime_content *c = arg;
	const char *cs = mime_part_charset(part);
	struct pn_buf raw, text;
	bool defect = false, cs_defect = false;
	int rc;

	(void)ctx;
	memset(c, 0, sizeof(*c));
	if (decode_to_buf(part, &raw, &defect, err) < 0)
		return -1;
	/* RFC 2045 5.2: text without a charset is US-ASCII. */
	pn_buf_init(&text, 0);
	rc = mime_charset_to_utf8(cs ? cs : "us-ascii",
				  raw.data ? raw.data : "", raw.len, &text,
				  &cs_defect);
	pn_buf_free(&raw);
	if (rc < 0) {
		pn_buf_free(&text);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	lf_only(&text);
	c->kind = MIME_CONTENT_TEXT;
	c->data = pn_buf_take(&text, &c->len);
	c->defect = defect || cs_defect;
	if (!c->data)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

static int get_message(struct mime_part *part, void *arg, void *ctx,
		       struct pn_error *err)
{
	struct mime_content *c = arg;

	/* A message part the parser did not nest (a depth limit, an empty
	 * body) is handed out as its bytes. */
	if (!mime_part_is_message(part) || !part->first_child)
		return get_bytes(part, arg, ctx, err);
	memset(c, 0, sizeof(*c));
	c->kind = MIME_CONTENT_MESSAGE;
	c->message = part->first_child;
	return 0;
}

static int get_multipart(struct mime_part *part, void *arg, void *ctx,
			 struct pn_error *err)
{
	(void)part;
	(void)arg;
	(void)ctx;
	return pn_error_set(err, PN_EINVAL,
			    "get_content not valid on multipart");
}

/* ---- set: helpers -------------------------------------------------------- */

struct cte_name {
	const char *name;
	enum mime_cte cte;
};

static const struct cte_name cte_names[] = {
	{ "7bit", MIME_CTE_7BIT },
	{ "8bit", MIME_CTE_8BIT },
	{ "binary", MIME_CTE_BINARY },
	{ "base64", MIME_CTE_BASE64 },
	{ "quoted-printable", MIME_CTE_QP },
};

static const char *cte_str(enum mime_cte cte)
{
	for (size_t i = 0; i < sizeof(cte_names) / sizeof(cte_names[0]); i++) {
		if (cte_names[i].cte == cte)
			return cte_names[i].name;
	}
	return "7bit";
}

static int cte_from_opt(const char *s, enum mime_cte *out,
			struct pn_error *err)
{
	for (size_t i = 0; i < sizeof(cte_names) / sizeof(cte_names[0]); i++) {
		if (strcasecmp(cte_names[i].name, s) == 0) {
			*out = cte_names[i].cte;
			return 0;
		}
	}
	return pn_error_set(err, PN_EINVAL,
			    "Unknown content transfer encoding %s", s);
}

/* Content-Type maintype/subtype, then the CTE field once the body is in. */
static int put_type(struct mime_part *part, const char *maintype,
		    const char *subtype, struct pn_error *err)
{
	char *type;
	int rc;

	if (strpbrk(maintype, "/;\r\n \t\"") || strpbrk(subtype, "/;\r\n \t\"")
	    || !*maintype || !*subtype)
		return pn_error_set(err, PN_EINVAL, "invalid type %s/%s",
				    maintype, subtype);
	if (asprintf(&type, "%s/%s", maintype, subtype) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = mime_part_header_add(part, "Content-Type", type, err);
	free(type);
	if (rc == 0 && mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return rc;
}

static int put_cte(struct mime_part *part, enum mime_cte cte,
		   struct pn_error *err)
{
	return mime_part_header_add(part, "Content-Transfer-Encoding",
				    cte_str(cte), err);
}

static int finish(struct mime_part *part, const struct mime_set_opts *opts,
		  struct pn_error *err)
{
	if (mime_apply_set_opts(part, opts, err) < 0)
		return -1;
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

/* ---- set "text" ---------------------------------------------------------- */

/* The names email6 rewrites (email.charset.ALIASES, the common ones). */
static const char *charset_alias(const char *cs)
{
	static const char *const map[][2] = {
		{ "latin-1", "iso-8859-1" }, { "latin_1", "iso-8859-1" },
		{ "latin1", "iso-8859-1" }, { "latin-2", "iso-8859-2" },
		{ "latin_2", "iso-8859-2" }, { "latin2", "iso-8859-2" },
		{ "ascii", "us-ascii" }, { "utf8", "utf-8" },
		{ "utf_8", "utf-8" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(map[i][0], cs) == 0)
			return map[i][1];
	}
	return cs;
}

/* email6 _encode_text: the text is split into lines and joined again with
 * LF, always ending in one. */
static int normalize_lines(const char *s, struct pn_buf *out)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\r') {
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
			c = '\n';
		}
		if (pn_buf_addc(out, c) < 0)
			return -1;
	}
	if (out->len == 0 || out->data[out->len - 1] != '\n')
		return pn_buf_addc(out, '\n');
	return 0;
}

static int iconv_all(iconv_t cd, struct pn_buf *in, struct pn_buf *out)
{
	char *ip = in->data;
	size_t il = in->len;

	while (il > 0) {
		char *op;
		size_t ol, before;

		if (pn_buf_reserve(out, il * 4 + 16) < 0)
			return -1;
		op = out->data + out->len;
		ol = out->cap - out->len - 1;
		before = ol;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG)
			return -1;
		out->len += before - ol;
	}
	out->data[out->len] = '\0';
	return 0;
}

/* UTF-8 to the charset asked for; text that does not fit is an error, as
 * email6's encode() raises. */
static int encode_charset(struct pn_buf *text, const char *cs,
			  struct pn_buf *out, struct pn_error *err)
{
	iconv_t cd;
	int rc;

	if (strcasecmp(cs, "utf-8") == 0) {
		*out = *text;
		memset(text, 0, sizeof(*text));
		return 0;
	}
	cd = iconv_open(cs, "UTF-8");
	if (cd == (iconv_t)-1)
		return pn_error_set(err, PN_EINVAL, "unknown charset %s", cs);
	pn_buf_init(out, 0);
	rc = iconv_all(cd, text, out);
	iconv_close(cd);
	if (rc < 0) {
		pn_buf_free(out);
		return pn_error_set(err, PN_EINVAL,
				    "text cannot be encoded as %s", cs);
	}
	return 0;
}

static int set_text(struct mime_part *part, const void *content,
		    const struct mime_set_opts *opts, void *ctx,
		    struct pn_error *err)
{
	const char *cs = charset_alias(opts->charset ? opts->charset : "utf-8");
	struct pn_buf lf, enc;
	enum mime_cte cte;
	int rc = -1;

	(void)ctx;
	if (!content)
		return pn_error_set(err, PN_EINVAL, "no text given");
	if (!pn_utf8_valid(content, strlen(content)))
		return pn_error_set(err, PN_EINVAL, "text is not valid UTF-8");
	pn_buf_init(&lf, 0);
	if (normalize_lines(content, &lf) < 0) {
		pn_buf_free(&lf);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	rc = encode_charset(&lf, cs, &enc, err);
	pn_buf_free(&lf);
	if (rc < 0)
		return -1;
	rc = -1;
	if (opts->cte) {
		if (cte_from_opt(opts->cte, &cte, err) < 0)
			goto out;
		/* email6 _encode_text knows no binary: text has lines. */
		if (cte == MIME_CTE_BINARY) {
			pn_error_set(err, PN_EINVAL, "Unknown content transfer "
				     "encoding %s", opts->cte);
			goto out;
		}
	} else {
		cte = mime_choose_cte(enc.data, enc.len, true);
	}
	if (put_type(part, "text", opts->subtype ? opts->subtype : "plain",
		     err) < 0 ||
	    mime_part_set_body(part, enc.data, enc.len, cte, err) < 0 ||
	    mime_part_set_param(part, "Content-Type", "charset", cs, err) < 0 ||
	    put_cte(part, cte, err) < 0)
		goto out;
	rc = finish(part, opts, err);
out:
	pn_buf_free(&enc);
	return rc;
}

/* ---- set "bytes" --------------------------------------------------------- */

static int set_bytes(struct mime_part *part, const void *content,
		     const struct mime_set_opts *opts, void *ctx,
		     struct pn_error *err)
{
	const struct mime_bytes *b = content;
	enum mime_cte cte = MIME_CTE_BASE64;

	(void)ctx;
	if (!b || (!b->data && b->len))
		return pn_error_set(err, PN_EINVAL, "no bytes given");
	if (!opts->maintype)
		return pn_error_set(err, PN_EINVAL,
				    "set_content of bytes needs a maintype");
	/* email6 set_bytes_content: base64 unless told otherwise. */
	if (opts->cte && cte_from_opt(opts->cte, &cte, err) < 0)
		return -1;
	if (put_type(part, opts->maintype,
		     opts->subtype ? opts->subtype : "octet-stream", err) < 0 ||
	    mime_part_set_body(part, b->data ? b->data : "", b->len, cte,
			       err) < 0 ||
	    put_cte(part, cte, err) < 0)
		return -1;
	return finish(part, opts, err);
}

/* ---- set "message" ------------------------------------------------------- */

/* RFC 2046 5.2: rfc822 bodies are 7bit, 8bit or binary (email6 claims
 * 8bit when not told); external-body is 7bit; partial cannot hold a parsed
 * message; other subtypes should be 7bit (5.2.4). */
static int message_cte(const char *subtype, const char *want,
		       enum mime_cte *out, struct pn_error *err)
{
	if (strcasecmp(subtype, "partial") == 0)
		return pn_error_set(err, PN_EINVAL, "message/partial is not "
				    "supported for Message objects");
	if (want && cte_from_opt(want, out, err) < 0)
		return -1;
	if (strcasecmp(subtype, "rfc822") == 0) {
		if (want && *out != MIME_CTE_7BIT && *out != MIME_CTE_8BIT &&
		    *out != MIME_CTE_BINARY)
			return pn_error_set(err, PN_EINVAL,
					    "message/rfc822 parts do not "
					    "support cte=%s", want);
		if (!want)
			*out = MIME_CTE_8BIT;
	} else if (strcasecmp(subtype, "external-body") == 0) {
		if (want && *out != MIME_CTE_7BIT)
			return pn_error_set(err, PN_EINVAL, "message/external-"
					    "body parts do not support cte=%s",
					    want);
		*out = MIME_CTE_7BIT;
	} else if (!want) {
		*out = MIME_CTE_7BIT;
	}
	return 0;
}

static bool is_ancestor(const struct mime_part *anc,
			const struct mime_part *p)
{
	for (; p; p = p->parent) {
		if (p == anc)
			return true;
	}
	return false;
}

static int set_message(struct mime_part *part, const void *content,
		       const struct mime_set_opts *opts, void *ctx,
		       struct pn_error *err)
{
	struct mime_message *m = (struct mime_message *)content;
	const char *sub = opts->subtype ? opts->subtype : "rfc822";
	struct mime_part *root;
	enum mime_cte cte = MIME_CTE_7BIT;

	(void)ctx;
	if (!m || !m->root)
		return pn_error_set(err, PN_EINVAL, "no message given");
	root = m->root;
	if (m == part->msg || is_ancestor(root, part))
		return pn_error_set(err, PN_EINVAL,
				    "a message cannot contain itself");
	if (message_cte(sub, opts->cte, &cte, err) < 0 ||
	    put_type(part, "message", sub, err) < 0 ||
	    put_cte(part, cte, err) < 0)
		return -1;
	/* The tree moves; the emptied message stays the caller's. */
	m->root = NULL;
	mime_part_set_message(root, part->msg);
	mime_part_append_child(part, root);
	mime_part_touch(part, false);
	return finish(part, opts, err);
}

struct mime_manager *mime_raw_manager_new(void)
{
	static const char *const leaves[] = { "audio", "image", "video",
					      "application", "" };
	struct mime_manager *m = mime_manager_new();
	int rc = 0;

	if (!m)
		return NULL;
	rc |= mime_manager_add_get(m, "text", get_text, NULL);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		rc |= mime_manager_add_get(m, leaves[i], get_bytes, NULL);
	rc |= mime_manager_add_get(m, "message/rfc822", get_message, NULL);
	rc |= mime_manager_add_get(m, "message/global", get_message, NULL);
	/* Other message subtypes are opaque bytes (RFC 2046 5.2.4). */
	rc |= mime_manager_add_get(m, "message", get_bytes, NULL);
	rc |= mime_manager_add_get(m, "multipart", get_multipart, NULL);
	rc |= mime_manager_add_set(m, "text", set_text, NULL);
	rc |= mime_manager_add_set(m, "bytes", set_bytes, NULL);
	rc |= mime_manager_add_set(m, "message", set_message, NULL);
	if (rc) {
		mime_manager_free(&m);
		return NULL;
	}
	return m;
}
