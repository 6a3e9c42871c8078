/* url.c - RFC 5092 IMAP URLs as command-line targets.
 *
 *   imapurl    = "imap://" iserver ipath-query        (and imaps://)
 *   iserver    = [iuserinfo "@"] host [":" port]
 *   iuserinfo  = enc-user [iauth] / [enc-user] iauth
 *   iauth      = ";AUTH=" ( "*" / enc-auth-type )
 *   ipath-query = ["/" [ icommand ]]
 *   imessagelist = imailbox-ref [ "?" enc-search ]
 *   imessagepart = imailbox-ref iuid [isection] [ipartial] [iurlauth]
 *   imailbox-ref = enc-mailbox [";UIDVALIDITY=" nz-number]
 *   iuid       = "/;UID=" nz-number
 *   isection   = "/;SECTION=" enc-section
 *
 * enc-mailbox may hold '/' (a hierarchy delimiter) but never ';', so the
 * first "/;" ends the mailbox.  imaps:// is not in RFC 5092 but is what
 * everyone writes for port 993.
 */
#include "imap.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/utf8.h"

struct ctx {
	const char *text;	/* the whole URL, for byte offsets */
	struct imap_url *u;
	struct pn_error *err;
};

static int oom(struct ctx *c)
{
	return pn_error_set(c->err, PN_ENOMEM, "URL: out of memory");
}

static int hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* RFC 3986 2.1 percent-decoding into a malloc'd string.  Raw spaces and
 * controls are refused (a pasted URL split by the shell); raw bytes above
 * 0x7f pass, since people paste IRIs.  %00 would cut the C string. */
static int decode_pct(struct ctx *c, const char *s, size_t n,
		      const char *what, char **out)
{
	struct pn_buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int64_t at = s + i - c->text;

		if (ch == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1;
			int l = h >= 0 ? hexval(s[i + 2]) : -1;

			if (l < 0) {
				pn_buf_free(&b);
				pn_error_set(c->err, PN_EPARSE,
					     "URL: bad percent escape");
				return pn_error_at(c->err, at, 0);
			}
			ch = (unsigned char)(h * 16 + l);
			i += 2;
			if (ch == 0) {
				pn_buf_free(&b);
				pn_error_set(c->err, PN_EPARSE,
					     "URL: %%00 in the %s", what);
				return pn_error_at(c->err, at, 0);
			}
		} else if (ch <= 0x20 || ch == 0x7f) {
			pn_buf_free(&b);
			pn_error_set(c->err, PN_EPARSE,
				     "URL: unescaped byte 0x%02x in the %s",
				     ch, what);
			return pn_error_at(c->err, at, 0);
		}
		if (pn_buf_addc(&b, (char)ch) < 0) {
			pn_buf_free(&b);
			return oom(c);
		}
	}
	*out = pn_buf_take(&b, NULL);
	return *out ? 0 : oom(c);
}

/* nz-number (RFC 3501): 1..4294967295, no leading zero. */
static bool parse_nz(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || s[0] == '0')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* "key=" at s, ASCII case-insensitive (RFC 5092 keys are). */
static bool has_key(const char *s, size_t n, const char *key)
{
	size_t k = strlen(key);

	return n >= k && strncasecmp(s, key, k) == 0;
}

static int parse_userinfo(struct ctx *c, const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t ulen = semi ? (size_t)(semi - s) : n;

	if (memchr(s, ':', ulen))
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: ':' in the user name (a password "
				    "does not belong in a URL)");
	if (ulen && decode_pct(c, s, ulen, "user name", &c->u->user) < 0)
		return -1;
	if (!semi) {
		if (ulen == 0)
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: empty user name");
		return 0;
	}
	semi++;
	n -= ulen + 1;
	if (!has_key(semi, n, "AUTH=") || n == 5)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: bad user parameter ';%.*s'",
				    (int)n, semi);
	return decode_pct(c, semi + 5, n - 5, "AUTH mechanism", &c->u->auth);
}

/* RFC 3986 reg-name in practice: letters, digits, '-', '.', '_', '~'. */
static bool host_char(char h)
{
	return (h >= 'a' && h <= 'z') || (h >= 'A' && h <= 'Z') ||
	       (h >= '0' && h <= '9') || h == '-' || h == '.' || h == '_' ||
	       h == '~';
}

static int set_host(struct ctx *c, const char *s, size_t n, bool ipv6)
{
	unsigned char addr[16];
	size_t i;

	c->u->host = strndup(s, n);
	if (!c->u->host)
		return oom(c);
	if (ipv6) {
		if (inet_pton(AF_INET6, c->u->host, addr) != 1)
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: bad IPv6 address '[%s]'",
					    c->u->host);
		return 0;
	}
	if (n == 0)
		return pn_error_set(c->err, PN_EPARSE, "URL: missing host");
	for (i = 0; i < n; i++)
		if (!host_char(s[i]))
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: bad host '%s'", c->u->host);
	return 0;
}

/* RFC 3986 3.2.3 allows an empty port: the scheme's default. */
static int set_port(struct ctx *c, const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < n && i < 6; i++) {
		if (s[i] < '0' || s[i] > '9')
			break;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i != n || (n && (v == 0 || v > 65535)))
		return pn_error_set(c->err, PN_EPARSE, "URL: bad port '%.*s'",
				    (int)(n > 64 ? 64 : n), s);
	c->u->port = (uint16_t)v;
	return 0;
}

static int parse_hostport(struct ctx *c, const char *s, size_t n)
{
	const char *end = s + n, *colon;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: '[' without ']' in the host");
		if (set_host(c, s + 1, (size_t)(close - s - 1), true) < 0)
			return -1;
		if (close + 1 == end)
			return 0;
		if (close[1] != ':')
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: bad host '%.*s'", (int)n, s);
		return set_port(c, close + 2, (size_t)(end - close - 2));
	}
	colon = memchr(s, ':', n);
	if (set_host(c, s, colon ? (size_t)(colon - s) : n, false) < 0)
		return -1;
	return colon ? set_port(c, colon + 1, (size_t)(end - colon - 1)) : 0;
}

/* The user name may itself hold a (percent-encoded) '@', never a raw one
 * in a well-formed URL; the last '@' is the separator either way. */
static int parse_authority(struct ctx *c, const char *s, size_t n)
{
	const char *at = NULL, *p;

	for (p = s; p < s + n; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return parse_hostport(c, s, n);
	if (parse_userinfo(c, s, (size_t)(at - s)) < 0)
		return -1;
	return parse_hostport(c, at + 1, (size_t)(s + n - at - 1));
}

static bool has_8bit(const struct pn_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			return true;
	return false;
}

/* RFC 5092 3.6 puts the modified UTF-7 name in the URL; people (and
 * RFC 3987 IRIs) write percent-encoded UTF-8.  Both give UTF-8 here: a
 * name that is valid modified UTF-7 and decodes to non-ASCII is taken as
 * such; anything else is already UTF-8.  An ASCII result is left alone,
 * so "A&-B" stays as written (no UTF-8 name would be spelled that way
 * on purpose, but neither is there a name it must mean). */
static int set_mailbox(struct ctx *c, const char *s, size_t n)
{
	struct pn_buf b = { 0 };
	char *raw;

	if (decode_pct(c, s, n, "mailbox", &raw) < 0)
		return -1;
	c->u->mailbox = raw;
	if (!pn_utf8_valid(raw, strlen(raw)))
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: mailbox is not valid UTF-8");
	if (imap_utf7_decode(raw, strlen(raw), &b, NULL) == 0 &&
	    has_8bit(&b)) {
		c->u->mailbox = pn_buf_take(&b, NULL);
		if (!c->u->mailbox) {
			c->u->mailbox = raw;
			return oom(c);
		}
		free(raw);
	}
	pn_buf_free(&b);
	return 0;
}

static int parse_mailbox_ref(struct ctx *c, const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t mlen = semi ? (size_t)(semi - s) : n, plen = n - mlen;

	if (semi && mlen == 0)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: '%.*s' without a mailbox",
				    (int)plen, semi);
	if (mlen && set_mailbox(c, s, mlen) < 0)
		return -1;
	if (!semi)
		return 0;
	if (!has_key(semi, plen, ";UIDVALIDITY="))
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: bad mailbox parameter '%.*s'",
				    (int)plen, semi);
	if (!parse_nz(semi + 13, plen - 13, &c->u->uidvalidity))
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: bad UIDVALIDITY '%.*s'",
				    (int)plen - 13, semi + 13);
	return 0;
}

/* s is a ';' and what follows: RFC 5092's ;PARTIAL=, and RFC 4467's
 * ;EXPIRE= and ;URLAUTH= (for BURL submission), which a client reading
 * mail has no use for. */
static int unsupported(struct ctx *c, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);

	if (eq && (has_key(s, n, ";PARTIAL=") || has_key(s, n, ";URLAUTH=") ||
		   has_key(s, n, ";EXPIRE=")))
		return pn_error_set(c->err, PN_EUNSUPPORTED,
				    "URL: '%.*s' is not supported",
				    (int)(eq - s + 1), s);
	return pn_error_set(c->err, PN_EPARSE, "URL: unexpected '%.*s'",
			    (int)n, s);
}

/* One "/;KEY=value" segment of imessagepart; *seen counts UID (1) and
 * SECTION (2), which RFC 5092 allows once each and in that order. */
static int parse_segment(struct ctx *c, const char *s, size_t n, int *seen)
{
	const char *semi = memchr(s, ';', n);
	uint32_t uid;

	if (semi)	/* no value holds ';' (not a bchar) */
		return unsupported(c, semi, (size_t)(s + n - semi));
	if (has_key(s, n, "UID=") && *seen == 0) {
		if (!parse_nz(s + 4, n - 4, &uid))
			return pn_error_set(c->err, PN_EPARSE,
					    "URL: bad UID '%.*s'",
					    (int)n - 4, s + 4);
		*seen = 1;
		c->u->uid = strndup(s + 4, n - 4);
		return c->u->uid ? 0 : oom(c);
	}
	if (has_key(s, n, "SECTION=") && *seen == 1 && n > 8) {
		*seen = 2;
		return decode_pct(c, s + 8, n - 8, "section", &c->u->section);
	}
	if (has_key(s, n, "SECTION=") && *seen == 0)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: ;SECTION= without ;UID=");
	if (has_key(s, n, "PARTIAL="))
		return unsupported(c, s - 1, n + 1);
	return pn_error_set(c->err, PN_EPARSE, "URL: unexpected ';%.*s'",
			    (int)n, s);
}

static const char *find_semi_seg(const char *s, const char *end)
{
	for (; s + 1 < end; s++)
		if (s[0] == '/' && s[1] == ';')
			return s;
	return end;
}

static int parse_path(struct ctx *c, const char *s)
{
	const char *q = strchr(s, '?'), *end = q ? q : s + strlen(s);
	const char *seg = find_semi_seg(s, end), *next;
	int seen = 0;

	if (parse_mailbox_ref(c, s, (size_t)(seg - s)) < 0)
		return -1;
	if (seg < end && !c->u->mailbox)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: ;UID= without a mailbox");
	for (; seg < end; seg = next) {
		next = find_semi_seg(seg + 2, end);
		if (parse_segment(c, seg + 2, (size_t)(next - seg - 2),
				  &seen) < 0)
			return -1;
	}
	if (!q)
		return 0;
	if (seen)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: '?search' after ;UID=");
	if (!c->u->mailbox)
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: '?search' without a mailbox");
	return decode_pct(c, q + 1, strlen(q + 1), "search", &c->u->search);
}

static int parse_url(struct ctx *c)
{
	const char *p = c->text;
	size_t alen;

	if (strncasecmp(p, "imap://", 7) == 0) {
		p += 7;
	} else if (strncasecmp(p, "imaps://", 8) == 0) {
		c->u->tls = true;
		p += 8;
	} else {
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: not an imap:// or imaps:// URL");
	}
	if (strchr(p, '#'))
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: fragments ('#') are not supported");
	alen = strcspn(p, "/?");
	if (p[alen] == '?')
		return pn_error_set(c->err, PN_EPARSE,
				    "URL: '?search' without a mailbox");
	if (parse_authority(c, p, alen) < 0)
		return -1;
	return p[alen] == '/' ? parse_path(c, p + alen + 1) : 0;
}

int imap_url_parse(const char *text, struct imap_url *out,
		   struct pn_error *err)
{
	struct ctx c = { text, out, err };

	memset(out, 0, sizeof(*out));
	if (parse_url(&c) < 0) {
		imap_url_free(out);
		return -1;
	}
	return 0;
}

void imap_url_free(struct imap_url *u)
{
	free(u->user);
	free(u->auth);
	free(u->host);
	free(u->mailbox);
	free(u->uid);
	free(u->section);
	free(u->search);
	memset(u, 0, sizeof(*u));
}
