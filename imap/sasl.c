/* sasl.c - client side of the SASL mechanisms IMAP servers offer
 * (RFC 4422), as pure encodings: challenges in, responses out, no I/O and
 * no base64 (the connection does that).
 *
 * Steps count the responses already given.  A mechanism with an initial
 * response gives it at step 0 whether the challenge is NULL (SASL-IR,
 * RFC 4959) or the empty "+ " a server sends without SASL-IR.  After the
 * bearer-token mechanisms' first response a failure challenge may still
 * come, so they report done only once they have answered it.
 */
#include "imap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../lib/buf.h"

struct imap_sasl {
	enum imap_sasl_mech mech;
	char *authzid, *user, *secret, *host;
	uint16_t port;
	unsigned steps;		/* responses given so far */
};

static const char *const names[] = {
	[IMAP_SASL_PLAIN] = "PLAIN",
	[IMAP_SASL_LOGIN] = "LOGIN",
	[IMAP_SASL_CRAM_MD5] = "CRAM-MD5",
	[IMAP_SASL_XOAUTH2] = "XOAUTH2",
	[IMAP_SASL_OAUTHBEARER] = "OAUTHBEARER",
	[IMAP_SASL_EXTERNAL] = "EXTERNAL",
};

#define NMECHS (sizeof(names) / sizeof(names[0]))

const char *imap_sasl_name(enum imap_sasl_mech m)
{
	return (size_t)m < NMECHS ? names[m] : NULL;
}

int imap_sasl_lookup(const char *name)
{
	size_t i;

	for (i = 0; name && i < NMECHS; i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

bool imap_sasl_has_initial(enum imap_sasl_mech m)
{
	return m == IMAP_SASL_PLAIN || m == IMAP_SASL_XOAUTH2 ||
	       m == IMAP_SASL_OAUTHBEARER || m == IMAP_SASL_EXTERNAL;
}

static void wipe_free(char *p)
{
	if (!p)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

static bool dup_field(const char *in, char **out)
{
	*out = NULL;
	if (!in)
		return true;
	*out = strdup(in);
	return *out != NULL;
}

struct imap_sasl *imap_sasl_new(enum imap_sasl_mech m,
				const struct imap_sasl_creds *creds)
{
	static const struct imap_sasl_creds none;
	struct imap_sasl *s;

	if ((size_t)m >= NMECHS)
		return NULL;
	if (!creds)
		creds = &none;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mech = m;
	s->port = creds->port;
	if (!dup_field(creds->authzid, &s->authzid) ||
	    !dup_field(creds->user, &s->user) ||
	    !dup_field(creds->secret, &s->secret) ||
	    !dup_field(creds->host, &s->host))
		imap_sasl_free(&s);
	return s;
}

void imap_sasl_free(struct imap_sasl **sp)
{
	struct imap_sasl *s = sp ? *sp : NULL;

	if (!s)
		return;
	wipe_free(s->authzid);
	wipe_free(s->user);
	wipe_free(s->secret);
	wipe_free(s->host);
	explicit_bzero(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

static int fail(const struct imap_sasl *s, struct pn_error *err,
		const char *fmt, ...) PN_PRINTF(3, 4);

static int fail(const struct imap_sasl *s, struct pn_error *err,
		const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pn_error_set(err, PN_EINVAL, "SASL %s: %s",
			    imap_sasl_name(s->mech), what);
}

static int need(const struct imap_sasl *s, const char *v, const char *what,
		struct pn_error *err)
{
	return v ? 0 : fail(s, err, "no %s given", what);
}

static int oom(struct pn_error *err)
{
	return pn_error_set(err, PN_ENOMEM, "SASL: out of memory");
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd. */
static int step_plain(struct imap_sasl *s, struct pn_buf *out, bool *done,
		      struct pn_error *err)
{
	if (s->steps)
		return fail(s, err, "unexpected challenge after the response");
	if (need(s, s->user, "user name", err) < 0 ||
	    need(s, s->secret, "password", err) < 0)
		return -1;
	if (pn_buf_adds(out, s->authzid ? s->authzid : "") < 0 ||
	    pn_buf_addc(out, '\0') < 0 || pn_buf_adds(out, s->user) < 0 ||
	    pn_buf_addc(out, '\0') < 0 || pn_buf_adds(out, s->secret) < 0)
		return oom(err);
	*done = true;
	return 0;
}

/* RFC 4422 appendix A: the identity is the TLS client certificate; the
 * response is only the authzid to act as, usually empty. */
static int step_external(struct imap_sasl *s, struct pn_buf *out,
			 bool *done, struct pn_error *err)
{
	if (s->steps)
		return fail(s, err, "unexpected challenge after the response");
	if (s->authzid && pn_buf_adds(out, s->authzid) < 0)
		return oom(err);
	*done = true;
	return 0;
}

/* draft-murchison-sasl-login: the prompts' text varies ("Username:",
 * "User Name\0", localised ...), so only their order matters. */
static int step_login(struct imap_sasl *s, const char *challenge,
		      struct pn_buf *out, bool *done, struct pn_error *err)
{
	if (!challenge)
		return fail(s, err, "no initial response (wait for the "
				    "server's prompt)");
	if (s->steps >= 2)
		return fail(s, err, "unexpected third challenge");
	if (s->steps == 0) {
		if (need(s, s->user, "user name", err) < 0)
			return -1;
		return pn_buf_adds(out, s->user) < 0 ? oom(err) : 0;
	}
	if (need(s, s->secret, "password", err) < 0)
		return -1;
	if (pn_buf_adds(out, s->secret) < 0)
		return oom(err);
	*done = true;
	return 0;
}

/* RFC 2195 2: user SP lower-case hex HMAC-MD5(password, challenge). */
static int step_cram(struct imap_sasl *s, const char *challenge, size_t len,
		     struct pn_buf *out, bool *done, struct pn_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int rc = 0;

	if (!challenge)
		return fail(s, err, "no initial response");
	if (s->steps)
		return fail(s, err, "unexpected second challenge");
	if (len == 0)
		return fail(s, err, "empty challenge");
	if (need(s, s->user, "user name", err) < 0 ||
	    need(s, s->secret, "password", err) < 0)
		return -1;
	if (!HMAC(EVP_md5(), s->secret, (int)strlen(s->secret),
		  (const unsigned char *)challenge, len, md, &mdlen))
		return fail(s, err, "HMAC-MD5 failed (MD5 disabled in the "
				    "OpenSSL configuration?)");
	if (pn_buf_adds(out, s->user) < 0 || pn_buf_addc(out, ' ') < 0)
		rc = oom(err);
	for (i = 0; rc == 0 && i < mdlen; i++)
		if (pn_buf_printf(out, "%02x", md[i]) < 0)
			rc = oom(err);
	OPENSSL_cleanse(md, sizeof(md));
	*done = rc == 0;
	return rc;
}

/* ^A separates the key/value pairs of both bearer formats, so a value
 * holding one would let it forge fields. */
static int no_ctrl_a(const struct imap_sasl *s, const char *v,
		     const char *what, struct pn_error *err)
{
	if (v && strchr(v, '\x01'))
		return fail(s, err, "the %s contains a ^A byte", what);
	return 0;
}

/* Google's and Microsoft's XOAUTH2: "user=" user ^A "auth=Bearer "
 * token ^A ^A.  A failure comes as a challenge holding JSON, which the
 * client answers with an empty response; the server then says NO. */
static int step_xoauth2(struct imap_sasl *s, struct pn_buf *out, bool *done,
			struct pn_error *err)
{
	if (s->steps == 1) {
		*done = true;
		return 0;
	}
	if (s->steps > 1)
		return fail(s, err, "unexpected challenge after the error");
	if (need(s, s->user, "user name", err) < 0 ||
	    need(s, s->secret, "token", err) < 0 ||
	    no_ctrl_a(s, s->user, "user name", err) < 0 ||
	    no_ctrl_a(s, s->secret, "token", err) < 0)
		return -1;
	if (pn_buf_printf(out, "user=%s\x01" "auth=Bearer %s\x01\x01",
			  s->user, s->secret) < 0)
		return oom(err);
	return 0;
}

/* RFC 5801 7: in a gs2 saslname ',' and '=' are written =2C and =3D. */
static int add_saslname(struct pn_buf *out, const char *name)
{
	const char *p;
	int rc = 0;

	for (p = name; *p && rc == 0; p++) {
		if (*p == ',')
			rc = pn_buf_adds(out, "=2C");
		else if (*p == '=')
			rc = pn_buf_adds(out, "=3D");
		else
			rc = pn_buf_addc(out, *p);
	}
	return rc;
}

/* RFC 7628 3.1: gs2-header ("n," [ "a=" authzid ] ",") then kvpairs,
 * each ending in ^A, then a final ^A.  The authzid is the one given, or
 * else the user name (what RFC 7628 4.1's example and servers expect);
 * host and port are sent when known (they SHOULD be, 3.1). */
static int oauthbearer_initial(struct imap_sasl *s, struct pn_buf *out,
			       struct pn_error *err)
{
	const char *who = s->authzid ? s->authzid : s->user;
	int rc;

	if (need(s, s->secret, "token", err) < 0 ||
	    no_ctrl_a(s, s->secret, "token", err) < 0 ||
	    no_ctrl_a(s, s->host, "host name", err) < 0)
		return -1;
	rc = pn_buf_adds(out, who ? "n,a=" : "n,");
	if (rc == 0 && who)
		rc = add_saslname(out, who);
	if (rc == 0)
		rc = pn_buf_adds(out, ",\x01");
	if (rc == 0 && s->host)
		rc = pn_buf_printf(out, "host=%s\x01", s->host);
	if (rc == 0 && s->port)
		rc = pn_buf_printf(out, "port=%u\x01", (unsigned)s->port);
	if (rc == 0)
		rc = pn_buf_printf(out, "auth=Bearer %s\x01\x01", s->secret);
	return rc < 0 ? oom(err) : 0;
}

/* RFC 7628 3.2.3: a failure arrives as a challenge holding JSON; the
 * client must answer with a lone ^A, and the server then fails the
 * exchange.  The JSON itself is not ours to interpret. */
static int step_oauthbearer(struct imap_sasl *s, struct pn_buf *out,
			    bool *done, struct pn_error *err)
{
	if (s->steps == 0)
		return oauthbearer_initial(s, out, err);
	if (s->steps > 1)
		return fail(s, err, "unexpected challenge after the error");
	if (pn_buf_addc(out, '\x01') < 0)
		return oom(err);
	*done = true;
	return 0;
}

static int dispatch(struct imap_sasl *s, const char *challenge, size_t len,
		    struct pn_buf *out, bool *done, struct pn_error *err)
{
	switch (s->mech) {
	case IMAP_SASL_PLAIN:
		return step_plain(s, out, done, err);
	case IMAP_SASL_LOGIN:
		return step_login(s, challenge, out, done, err);
	case IMAP_SASL_CRAM_MD5:
		return step_cram(s, challenge, len, out, done, err);
	case IMAP_SASL_XOAUTH2:
		return step_xoauth2(s, out, done, err);
	case IMAP_SASL_OAUTHBEARER:
		return step_oauthbearer(s, out, done, err);
	case IMAP_SASL_EXTERNAL:
		return step_external(s, out, done, err);
	}
	return pn_error_set(err, PN_EINVAL, "SASL: unknown mechanism");
}

int imap_sasl_step(struct imap_sasl *s, const char *challenge, size_t len,
		   struct pn_buf *out, bool *done_out, struct pn_error *err)
{
	size_t start = out->len;
	bool done = false;

	if (done_out)
		*done_out = false;
	if (!s)
		return pn_error_set(err, PN_EINVAL, "SASL: no exchange");
	if (dispatch(s, challenge, len, out, &done, err) < 0) {
		/* Leave no half-written secret behind in the caller's
		 * buffer. */
		if (out->data) {
			explicit_bzero(out->data + start, out->len - start);
			out->len = start;
		}
		return -1;
	}
	s->steps++;
	if (done_out)
		*done_out = done;
	return 0;
}
