/* header.c - a part's header fields: the list the parser fills and the
 * public accessors and mutators.
 *
 * Parsed fields keep their raw bytes so an untouched header is written
 * back byte for byte; the unfolded value is what accessors return.
 * Fields added through the API have no raw bytes: the writer formats them
 * (fold.c).
 */
#include "mime_p.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/utf8.h"

static void header_free(struct mime_header *h)
{
	free(h->name);
	free(h->value);
	free(h->raw);
	free(h);
}

/* RFC 5322 2.2: printable US-ASCII except ':'. */
static bool is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* If the line starting at v[i] holds only blanks, where its line ending
 * (or the value) starts; else i. */
static size_t skip_blank_line(const char *v, size_t len, size_t i)
{
	size_t j = i;

	while (j < len && (v[j] == ' ' || v[j] == '\t'))
		j++;
	if (j == len || v[j] == '\n' ||
	    (v[j] == '\r' && (j + 1 == len || v[j + 1] == '\n')))
		return j;
	return i;
}

/* The value of a raw field: folds unfolded (RFC 5322 2.2.3 removes only
 * the CRLF), leading whitespace and the final line ending removed.  A
 * fold line of blanks only is the obsolete "empty line in folding" (RFC
 * 5322 4.2: obs-FWS lets folds follow each other); it is dropped whole,
 * as if the two folds were one, so "a\r\n   \r\n b" reads "a b".  NUL
 * bytes are dropped: the value is a C string. */
static char *unfold(const char *v, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	while (len > 0 && (*v == ' ' || *v == '\t' || *v == '\r' ||
			   *v == '\n' || *v == '\0')) {
		v++;
		len--;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\n') {
			i = skip_blank_line(v, len, i + 1) - 1;
			continue;
		}
		if (v[i] == '\0')
			continue;
		if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')
			continue;
		if (v[i] == '\r' && i + 1 == len)
			continue;
		*o++ = v[i];
	}
	*o = '\0';
	return out;
}

/* Link h at the end of part's list. */
static void header_link(struct mime_part *part, struct mime_header *h)
{
	if (part->headers_tail)
		part->headers_tail->next = h;
	else
		part->headers = h;
	part->headers_tail = h;
	part->nheaders++;
}

static bool any_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

int mime_header_append_raw(struct mime_part *part, const char *raw,
			   size_t raw_len, bool *eightbit_out,
			   struct pn_error *err)
{
	const char *colon = memchr(raw, ':', raw_len);
	size_t nlen;
	struct mime_header *h;

	if (eightbit_out)
		*eightbit_out = any_8bit(raw, raw_len);
	if (!colon)
		return pn_error_set(err, PN_EPARSE, "header field without ':'");
	/* Obsolete syntax (RFC 5322 4.5.8): blanks before the colon. */
	for (nlen = (size_t)(colon - raw); nlen > 0 &&
	     (raw[nlen - 1] == ' ' || raw[nlen - 1] == '\t'); nlen--)
		;
	for (size_t i = 0; i < nlen; i++)
		if (!is_ftext((unsigned char)raw[i]))
			nlen = 0;
	if (nlen == 0)
		return pn_error_set(err, PN_EPARSE, "invalid header field name");
	h = calloc(1, sizeof(*h));
	if (!h)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	h->name = strndup(raw, nlen);
	h->value = unfold(colon + 1, raw_len - (size_t)(colon + 1 - raw));
	h->raw = malloc(raw_len + 1);
	if (!h->name || !h->value || !h->raw) {
		header_free(h);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	memcpy(h->raw, raw, raw_len);
	h->raw[raw_len] = '\0';
	h->raw_len = raw_len;
	header_link(part, h);
	return 0;
}

void mime_headers_free(struct mime_part *part)
{
	struct mime_header *h, *next;

	for (h = part->headers; h; h = next) {
		next = h->next;
		header_free(h);
	}
	part->headers = part->headers_tail = NULL;
	part->nheaders = 0;
}

struct mime_header *mime_header_find(const struct mime_part *part,
				     const char *name)
{
	for (struct mime_header *h = part->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h;
	return NULL;
}

static const struct mime_header *header_at(const struct mime_part *part,
					   size_t i)
{
	const struct mime_header *h = part->headers;

	while (h && i-- > 0)
		h = h->next;
	return h;
}

size_t mime_part_header_count(const struct mime_part *part)
{
	return part->nheaders;
}

const char *mime_part_header_name(const struct mime_part *part, size_t i)
{
	const struct mime_header *h = header_at(part, i);

	return h ? h->name : NULL;
}

const char *mime_part_header_value(const struct mime_part *part, size_t i)
{
	const struct mime_header *h = header_at(part, i);

	return h ? h->value : NULL;
}

const char *mime_part_header_get(const struct mime_part *part,
				 const char *name)
{
	const struct mime_header *h = mime_header_find(part, name);

	return h ? h->value : NULL;
}

char *mime_part_header_decoded(const struct mime_part *part, const char *name)
{
	const struct mime_header *h = mime_header_find(part, name);
	struct pn_buf out = { 0 };

	if (!h)
		return NULL;
	if (mime_decode_header(h->value, strlen(h->value), &out, NULL) < 0) {
		pn_buf_free(&out);
		return NULL;
	}
	return pn_buf_take(&out, NULL);
}

/* What goes out must not let a value start a new field (header
 * injection), and must be text the writer can encode. */
static int check_field(const char *name, const char *value,
		       struct pn_error *err)
{
	if (!name || !*name)
		return pn_error_set(err, PN_EINVAL, "empty header name");
	if (strpbrk(name, "\r\n"))
		return pn_error_set(err, PN_EINVAL,
				    "header injection: CR or LF in header name");
	for (const char *p = name; *p; p++)
		if (!is_ftext((unsigned char)*p))
			return pn_error_set(err, PN_EINVAL,
					    "invalid header name \"%s\"", name);
	if (!value)
		return pn_error_set(err, PN_EINVAL, "%s: no value", name);
	if (strpbrk(value, "\r\n"))
		return pn_error_set(err, PN_EINVAL,
				    "header injection: CR or LF in %s value",
				    name);
	if (!pn_utf8_valid(value, strlen(value)))
		return pn_error_set(err, PN_EINVAL,
				    "%s value is not valid UTF-8", name);
	return 0;
}

static struct mime_header *header_new(const char *name, const char *value)
{
	struct mime_header *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->name = strdup(name);
	h->value = strdup(value);
	if (!h->name || !h->value) {
		header_free(h);
		return NULL;
	}
	return h;
}

/* Derived fields (type, filename ...) follow the headers. */
static int changed(struct mime_part *part, struct pn_error *err)
{
	mime_part_touch(part, true);
	if (mime_part_refresh(part, false) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

int mime_part_header_add(struct mime_part *part, const char *name,
			 const char *value, struct pn_error *err)
{
	struct mime_header *h;

	if (check_field(name, value, err) < 0)
		return -1;
	h = header_new(name, value);
	if (!h)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	header_link(part, h);
	return changed(part, err);
}

/* Unlink every field called name; the first is replaced by repl when
 * repl is not NULL.  Returns how many were removed. */
static size_t replace_all(struct mime_part *part, const char *name,
			  struct mime_header *repl)
{
	struct mime_header **pp = &part->headers, *h;
	size_t n = 0;

	part->headers_tail = NULL;
	while ((h = *pp)) {
		if (strcasecmp(h->name, name) != 0) {
			part->headers_tail = h;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		n++;
		if (repl) {
			repl->next = h->next;
			*pp = repl;
			part->headers_tail = repl;
			pp = &repl->next;
			repl = NULL;
		} else {
			part->nheaders--;
		}
		header_free(h);
	}
	return n;
}

int mime_part_header_set(struct mime_part *part, const char *name,
			 const char *value, struct pn_error *err)
{
	struct mime_header *h;

	if (check_field(name, value, err) < 0)
		return -1;
	h = header_new(name, value);
	if (!h)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (replace_all(part, name, h) == 0)
		header_link(part, h);
	return changed(part, err);
}

size_t mime_part_header_remove(struct mime_part *part, const char *name)
{
	size_t n = replace_all(part, name, NULL);

	/* Nothing to report on failure: only allocation can fail, and the
	 * derived fields are then recomputed by the next change. */
	if (n > 0)
		changed(part, NULL);
	return n;
}

/* The value with param set: the token, then every parameter through
 * mime_param_format (so non-ASCII ones are stored RFC 2231 encoded). */
static int rebuild_structured(const char *token, struct mime_param *params,
			      const char *param, const char *value,
			      struct pn_buf *out)
{
	bool done = false;
	int r = pn_buf_adds(out, token);

	for (struct mime_param *p = params; p && r == 0; p = p->next) {
		bool hit = strcasecmp(p->name, param) == 0;

		if (hit && done)
			continue;	/* a duplicate: first wins on parse */
		r = mime_param_format(p->name, hit ? value : p->value, out);
		done |= hit;
	}
	if (r == 0 && !done)
		r = mime_param_format(param, value, out);
	return r;
}

int mime_part_set_param(struct mime_part *part, const char *header,
			const char *param, const char *value,
			struct pn_error *err)
{
	const char *old = mime_part_header_get(part, header);
	struct mime_param *params = NULL;
	struct pn_buf out = { 0 };
	char *token = NULL;
	int r;

	if (check_field(header, value, err) < 0)
		return -1;
	if (!old && strcasecmp(header, "content-type") != 0)
		return pn_error_set(err, PN_ENOTFOUND,
				    "%s: no such header to set %s in", header,
				    param);
	if (mime_parse_structured(old ? old : "text/plain", &token, &params,
				  NULL) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (!token) {
		r = pn_error_set(err, PN_EINVAL, "%s: invalid value \"%s\"",
				 header, old);
	} else if (rebuild_structured(token, params, param, value, &out) < 0) {
		if (errno == EINVAL)
			r = pn_error_set(err, PN_EINVAL, "%s: invalid parameter"
					 " name \"%s\"", header, param);
		else
			r = pn_error_set(err, PN_ENOMEM, "out of memory");
	} else {
		r = mime_part_header_set(part, header, pn_buf_cstr(&out), err);
	}
	free(token);
	mime_params_free(&params);
	pn_buf_free(&out);
	return r;
}
