/* auth.c - LOGIN and AUTHENTICATE, with the plaintext policy.
 *
 * No password crosses an unencrypted network connection unless the user
 * said --allow-plaintext (issue 4); loopback and tunnels are fine.  The
 * trace never shows a secret: the commands are marked sensitive and every
 * SASL response line is traced as "<redacted>".
 */
#include "imap_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/base64.h"

static int plaintext_check(struct imap_conn *c, const char *what,
			   struct pn_error *err)
{
	if (imap_conn_encrypted(c) || imap_conn_loopback(c) ||
	    c->set.allow_plaintext)
		return 0;
	return pn_error_set(err, PN_EUNSUPPORTED, "%s: refusing to send a "
			    "password over the unencrypted connection to %s "
			    "(use TLS, or --allow-plaintext)", what, c->peer);
}

static int not_twice(struct imap_conn *c, const char *what,
		     struct pn_error *err)
{
	if (c->state == IMAP_STATE_NOT_AUTHENTICATED)
		return 0;
	return pn_error_set(err, PN_EINVAL, "%s: already authenticated",
			    what);
}

/* Capabilities before login are often partial (RFC 3501 7.2.1): ask
 * again unless the OK carried them. */
static int after_auth(struct imap_conn *c, unsigned caps_gen,
		      struct pn_error *err)
{
	c->state = IMAP_STATE_AUTHENTICATED;
	if (c->caps_gen == caps_gen && imap_capability(c, err) < 0)
		return -1;
	return imap_conn_authenticated(c, err);
}

int imap_login(struct imap_conn *c, const char *user, const char *password,
	       struct pn_error *err)
{
	struct pn_error tmp;
	struct imap_result res;
	struct imap_cmd *cmd;
	unsigned gen = c->caps_gen;
	char label[160];

	if (!err)
		err = &tmp;
	snprintf(label, sizeof(label), "LOGIN %s", user);
	if (not_twice(c, "LOGIN", err) < 0)
		return -1;
	if (imap_caps_has(c->caps, "LOGINDISABLED"))
		return pn_error_set(err, PN_EUNSUPPORTED, "LOGIN: %s disabled "
				    "LOGIN (LOGINDISABLED)%s", c->peer,
				    imap_conn_encrypted(c) ? "" :
				    "; it wants TLS first");
	if (plaintext_check(c, "LOGIN", err) < 0)
		return -1;
	cmd = imap_cmd_new(c, "LOGIN", NULL);
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	imap_cmd_sensitive(cmd);
	imap_cmd_astring(cmd, user);
	imap_cmd_astring(cmd, password);
	c->got_continue = false;
	if (imap_cmd_send(cmd, err) < 0 || imap_cmd_wait(cmd, &res, err) < 0)
		return -1;
	if (imap_cmd_result_error(label, &res, err) < 0)
		return -1;
	return after_auth(c, gen, err);
}

/* ---- AUTHENTICATE (RFC 3501 6.2.2, RFC 4959 SASL-IR) ---- */

static int b64_encode(const struct pn_buf *in, struct pn_buf *out)
{
	struct pn_b64_encoder e;
	size_t n;

	pn_b64_encoder_init(&e, 0, "\r\n");
	pn_buf_reset(out);
	if (pn_buf_reserve(out, pn_b64_encoded_max(&e, in->len) + 8) < 0)
		return -1;
	n = pn_b64_encode(&e, in->data ? in->data : "", in->len, out->data);
	n += pn_b64_encode_finish(&e, out->data + n);
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

static int b64_decode(const char *in, struct pn_buf *out)
{
	struct pn_b64_decoder d;
	size_t len = strlen(in), n;
	bool trunc;

	pn_b64_decoder_init(&d);
	pn_buf_reset(out);
	if (pn_buf_reserve(out, PN_B64_DECODED_MAX(len) + 4) < 0)
		return -1;
	n = pn_b64_decode(&d, in, len, out->data);
	n += pn_b64_decode_finish(&d, out->data + n, &trunc);
	out->len = n;
	out->data[n] = '\0';
	return d.bad || trunc ? -1 : 0;
}

struct sasl_run {
	struct imap_conn *c;
	struct imap_cmd *cmd;
	struct imap_sasl *sasl;
	const char *mech;
	bool initial_pending;	/* has an initial response not yet sent */
	struct pn_buf raw, line;	/* secrets: wiped before freeing */
	char label[64];
};

static void wipe(struct pn_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap ? b->cap : b->len);
	pn_buf_free(b);
}

/* Answer one "+ challenge".  A step error cancels with "*" (RFC 3501
 * 6.2.2); the caller then reads the server's BAD and reports ours. */
static int sasl_answer(struct sasl_run *s, struct pn_error *err)
{
	struct pn_buf chal = { 0 };
	bool done = false;
	int rc;

	pn_buf_reset(&s->raw);
	if (s->initial_pending) {
		/* No SASL-IR: the server's empty "+" asks for it. */
		s->initial_pending = false;
		rc = imap_sasl_step(s->sasl, NULL, 0, &s->raw, &done, err);
	} else if (b64_decode(pn_buf_cstr(&s->c->cont_text), &chal) < 0) {
		rc = pn_error_set(err, PN_EPARSE, "AUTHENTICATE %s: the "
				  "server's challenge is not base64", s->mech);
	} else {
		rc = imap_sasl_step(s->sasl, chal.data ? chal.data : "",
				    chal.len, &s->raw, &done, err);
	}
	pn_buf_free(&chal);
	s->c->got_continue = false;
	if (rc < 0) {
		struct pn_error ignored;

		(void)!imap_conn_send_line(s->c, "*", 1, false, &ignored);
		return -1;
	}
	if (b64_encode(&s->raw, &s->line) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return imap_conn_send_line(s->c, pn_buf_cstr(&s->line), s->line.len,
				   true, err);
}

static int sasl_start(struct sasl_run *s, struct pn_error *err)
{
	bool done = false;

	s->cmd = imap_cmd_new(s->c, "AUTHENTICATE", NULL);
	if (!s->cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	imap_cmd_label(s->cmd, "AUTHENTICATE %s", s->mech);
	imap_cmd_sensitive(s->cmd);
	imap_cmd_atom(s->cmd, s->mech);
	if (s->initial_pending && imap_caps_has(s->c->caps, "SASL-IR")) {
		s->initial_pending = false;
		if (imap_sasl_step(s->sasl, NULL, 0, &s->raw, &done, err) < 0 ||
		    b64_encode(&s->raw, &s->line) < 0) {
			imap_cmd_free(s->cmd);
			return -1;
		}
		/* RFC 4959: an empty initial response is sent as "=". */
		imap_cmd_atom(s->cmd, s->line.len ? pn_buf_cstr(&s->line) : "=");
	}
	s->c->got_continue = false;
	return imap_cmd_send(s->cmd, err);
}

static int sasl_exchange(struct sasl_run *s, struct imap_result *res,
			 struct pn_error *err)
{
	struct pn_error step_err = { 0 };
	int rc;

	if (sasl_start(s, err) < 0)
		return -1;
	while ((rc = imap_cmd_wait_continue(s->cmd, err)) == 1)
		if (sasl_answer(s, &step_err) < 0 && step_err.msg[0])
			break;
	if (rc < 0)
		return -1;
	if (imap_cmd_wait(s->cmd, res, err) < 0)
		return -1;
	if (step_err.msg[0]) {
		*err = step_err;
		pn_error_prefix(err, "AUTHENTICATE %s", s->mech);
		return -1;
	}
	return imap_cmd_result_error(s->label, res, err);
}

int imap_authenticate(struct imap_conn *c, enum imap_sasl_mech mech,
		      const struct imap_sasl_creds *creds,
		      struct pn_error *err)
{
	struct pn_error tmp;
	struct sasl_run s = { .c = c, .mech = imap_sasl_name(mech) };
	struct imap_result res;
	unsigned gen = c->caps_gen;
	int rc;

	if (!err)
		err = &tmp;
	if (!s.mech)
		return pn_error_set(err, PN_EINVAL, "AUTHENTICATE: unknown "
				    "mechanism %d", (int)mech);
	if (not_twice(c, "AUTHENTICATE", err) < 0)
		return -1;
	if (!imap_caps_auth(c->caps, s.mech))
		return pn_error_set(err, PN_EUNSUPPORTED, "AUTHENTICATE %s: "
				    "%s does not offer AUTH=%s", s.mech,
				    c->peer, s.mech);
	/* CRAM-MD5 and EXTERNAL never reveal the secret itself. */
	if (mech != IMAP_SASL_CRAM_MD5 && mech != IMAP_SASL_EXTERNAL &&
	    plaintext_check(c, "AUTHENTICATE", err) < 0)
		return -1;
	s.sasl = imap_sasl_new(mech, creds);
	if (!s.sasl)
		return pn_error_set(err, PN_ENOMEM, "AUTHENTICATE %s: cannot "
				    "start the mechanism", s.mech);
	s.initial_pending = imap_sasl_has_initial(mech);
	snprintf(s.label, sizeof(s.label), "AUTHENTICATE %s", s.mech);
	rc = sasl_exchange(&s, &res, err);
	imap_sasl_free(&s.sasl);
	wipe(&s.raw);
	wipe(&s.line);
	if (rc < 0)
		return -1;
	return after_auth(c, gen, err);
}
