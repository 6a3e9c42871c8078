/* tls.c - OpenSSL under the transport: a verified TLS >= 1.2 client with
 * SNI and host name checks, errors that name the reason in one line, and
 * the certificate summary for struct imap_tls_info.
 *
 * The fd is non-blocking: every call here either finishes or says what
 * it is waiting for, and transport.c does the waiting with its deadline. */
#include "imap_p.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct imap_tls {
	SSL_CTX *ctx;
	SSL *ssl;
	char host[256];		/* without IPv6 brackets */
	char peer[300];
	char leaf_names[200];	/* kept by verify_cb for mismatch errors */
	bool insecure;
	bool established;	/* handshake done: close_notify is owed */
	bool failed;		/* fatal error: OpenSSL forbids shutdown */
};

/* OpenSSL's socket BIO uses write(), not send(MSG_NOSIGNAL): a peer that
 * hung up would raise SIGPIPE and kill us.  Block it around each call
 * and swallow one we caused, leaving the program's own handling alone. */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	struct timespec zero = { 0, 0 };
	sigset_t set, pending;
	int saved = errno;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/* The newest OpenSSL reason, then an empty queue for the next call. */
static const char *ossl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, size, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "unknown error");
	ERR_clear_error();
	return buf;
}

/* ---- setup ----------------------------------------------------------- */

/* OpenSSL reports a missing file as "system lib"; say which and why. */
static int readable(const char *what, const char *path, struct pn_error *err)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	return pn_error_errno(err, errno, "TLS: cannot read %s %s", what, path);
}

static int load_trust(struct imap_tls *tls, const struct imap_settings *s,
		      struct pn_error *err)
{
	char why[128];

	/* A store that is missing is not fatal: --cafile may be enough,
	 * and if not, verification says so with the real reason. */
	if (SSL_CTX_set_default_verify_paths(tls->ctx) != 1)
		ERR_clear_error();
	if (!s->cafile && !s->capath)
		return 0;
	if (readable("--cafile", s->cafile, err) < 0 ||
	    readable("--capath", s->capath, err) < 0)
		return -1;
	if (SSL_CTX_load_verify_locations(tls->ctx, s->cafile, s->capath) == 1)
		return 0;
	return pn_error_set(err, PN_EINVAL, "TLS: cannot load %s %s: %s",
			    s->cafile ? "--cafile" : "--capath",
			    s->cafile ? s->cafile : s->capath,
			    ossl_reason(why, sizeof(why)));
}

/* For SASL EXTERNAL: the key may live in the certificate's file. */
static int load_client_cert(struct imap_tls *tls,
			    const struct imap_settings *s,
			    struct pn_error *err)
{
	const char *key = s->client_key ? s->client_key : s->client_cert;
	char why[128];

	if (!s->client_cert)
		return 0;
	if (readable("client certificate", s->client_cert, err) < 0 ||
	    readable("client key", key, err) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(tls->ctx, s->client_cert) != 1)
		return pn_error_set(err, PN_EINVAL,
				    "TLS: cannot load client certificate %s: %s",
				    s->client_cert,
				    ossl_reason(why, sizeof(why)));
	if (SSL_CTX_use_PrivateKey_file(tls->ctx, key, SSL_FILETYPE_PEM) != 1)
		return pn_error_set(err, PN_EINVAL,
				    "TLS: cannot load client key %s: %s", key,
				    ossl_reason(why, sizeof(why)));
	if (SSL_CTX_check_private_key(tls->ctx) != 1)
		return pn_error_set(err, PN_EINVAL,
				    "TLS: client key %s does not match %s: %s",
				    key, s->client_cert,
				    ossl_reason(why, sizeof(why)));
	return 0;
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* SNI carries names only (RFC 6066 section 3); an address is checked
 * against the certificate's iPAddress entries instead. */
static int set_host(struct imap_tls *tls, struct pn_error *err)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(tls->ssl);
	int ok;

	if (!tls->host[0])
		return 0;	/* insecure, nothing to name */
	if (is_ip_literal(tls->host)) {
		ok = tls->insecure ||
		     X509_VERIFY_PARAM_set1_ip_asc(param, tls->host) == 1;
	} else {
		SSL_set_hostflags(tls->ssl,
				  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(tls->ssl, tls->host) == 1 &&
		     (tls->insecure || SSL_set1_host(tls->ssl, tls->host) == 1);
	}
	if (ok)
		return 0;
	ERR_clear_error();
	return pn_error_set(err, PN_EINVAL, "TLS: cannot use host name '%s'",
			    tls->host);
}

static void copy_host(struct imap_tls *tls, const char *host)
{
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(tls->host, sizeof(tls->host), "%.*s", (int)(n - 2),
			 host + 1);
	else
		snprintf(tls->host, sizeof(tls->host), "%s", host);
}

static void cert_names(X509 *cert, char *buf, size_t size);

/* After a failed handshake OpenSSL no longer hands out the peer's
 * certificate, so the names it was for are noted while verifying. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx,
				SSL_get_ex_data_X509_STORE_CTX_idx());
	struct imap_tls *tls = ssl ? SSL_get_app_data(ssl) : NULL;

	if (tls && !tls->leaf_names[0])
		cert_names(X509_STORE_CTX_get0_cert(ctx), tls->leaf_names,
			   sizeof(tls->leaf_names));
	return ok;
}

static int tls_setup(struct imap_tls *tls, int fd,
		     const struct imap_settings *s, struct pn_error *err)
{
	tls->ctx = SSL_CTX_new(TLS_client_method());
	if (!tls->ctx)
		return pn_error_set(err, PN_ENOMEM, "TLS: cannot create context");
	SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
	/* Many IMAP servers close after LOGOUT without close_notify; IMAP
	 * frames itself (tagged replies, literal lengths), so a truncation
	 * cannot pass unnoticed and plain EOF is the honest answer. */
	SSL_CTX_set_options(tls->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(tls->ctx, s->insecure ? SSL_VERIFY_NONE
						 : SSL_VERIFY_PEER, verify_cb);
	if (load_trust(tls, s, err) < 0 || load_client_cert(tls, s, err) < 0)
		return -1;
	tls->ssl = SSL_new(tls->ctx);
	if (!tls->ssl || SSL_set_fd(tls->ssl, fd) != 1)
		return pn_error_set(err, PN_ENOMEM, "TLS: cannot create session");
	SSL_set_app_data(tls->ssl, tls);
	SSL_set_connect_state(tls->ssl);
	return set_host(tls, err);
}

int imap_tls_new(int fd, const char *host, const char *peer,
		 const struct imap_settings *s, struct imap_tls **out,
		 struct pn_error *err)
{
	struct imap_tls *tls;

	*out = NULL;
	if ((!host || !*host) && !s->insecure)
		return pn_error_set(err, PN_EINVAL,
				    "TLS: %s: no host name to check the "
				    "certificate against", peer);
	tls = calloc(1, sizeof(*tls));
	if (!tls)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	copy_host(tls, host ? host : "");
	snprintf(tls->peer, sizeof(tls->peer), "%s", peer);
	tls->insecure = s->insecure;
	ERR_clear_error();
	if (tls_setup(tls, fd, s, err) < 0) {
		imap_tls_free(&tls);
		return -1;
	}
	*out = tls;
	return 0;
}

/* ---- describing certificates ----------------------------------------- */

/* XN_FLAG_ONELINE escapes control and 8-bit bytes (\XX), so a hostile
 * certificate cannot write escape sequences to the terminal. */
static void name_line(const X509_NAME *name, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	buf[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE) >= 0) {
		n = BIO_get_mem_data(b, &data);
		snprintf(buf, size, "%.*s", (int)(n > 0 ? n : 0), data);
	}
	BIO_free(b);
}

static void time_str(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "?");
}

/* Append s to buf (size total) without control bytes: names come from
 * the peer. */
static void append_clean(char *buf, size_t size, const char *s, size_t n)
{
	size_t len = strlen(buf);

	for (size_t i = 0; i < n && len + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[len] = '\0';
}

static void append_san(char *buf, size_t size, const GENERAL_NAME *g)
{
	const unsigned char *d;
	char ip[INET6_ADDRSTRLEN] = "";
	int n;

	if (g->type == GEN_DNS) {
		d = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
	} else if (g->type == GEN_IPADD) {
		d = ASN1_STRING_get0_data(g->d.iPAddress);
		n = ASN1_STRING_length(g->d.iPAddress);
		if (n != 4 && n != 16)
			return;
		inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip));
		d = (const unsigned char *)ip;
		n = (int)strlen(ip);
	} else {
		return;
	}
	if (buf[0])
		append_clean(buf, size, ", ", 2);
	append_clean(buf, size, (const char *)d, (size_t)n);
}

/* The names a certificate is for: subjectAltName, else the CN. */
static void cert_names(X509 *cert, char *buf, size_t size)
{
	GENERAL_NAMES *names;
	char cn[256];
	int n;

	buf[0] = '\0';
	if (!cert)
		return;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++)
		append_san(buf, size, sk_GENERAL_NAME_value(names, i));
	GENERAL_NAMES_free(names);
	if (buf[0])
		return;
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
				      NID_commonName, cn, sizeof(cn));
	if (n > 0)
		append_clean(buf, size, cn, (size_t)n);
	else
		snprintf(buf, size, "no name at all");
}

static const char *verify_hint(long v)
{
	switch (v) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "; --cafile FILE trusts a private CA";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "; check this machine's clock, or the server must "
		       "renew its certificate";
	default:
		return "";
	}
}

static int verify_error(struct imap_tls *tls, long v, struct pn_error *err)
{
	ERR_clear_error();
	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return pn_error_set(err, PN_EIO, "TLS: certificate is for %s, "
				    "not %s (host name mismatch)",
				    tls->leaf_names[0] ? tls->leaf_names : "?",
				    tls->host);
	return pn_error_set(err, PN_EIO,
			    "TLS: certificate verify failed: %s (%s%s)",
			    X509_verify_cert_error_string(v), tls->peer,
			    verify_hint(v));
}

static void chain_line(X509 *cert, int depth, char *buf, size_t size)
{
	char subject[256], issuer[256], until[32], line[600];

	name_line(X509_get_subject_name(cert), subject, sizeof(subject));
	name_line(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	time_str(X509_get0_notAfter(cert), until, sizeof(until));
	snprintf(line, sizeof(line), "%d: %s (issuer: %s; until %s)\n", depth,
		 subject, issuer, until);
	append_clean(buf, size, line, strlen(line) - 1);
	if (strlen(buf) + 1 < size)
		strcat(buf, "\n");
}

static void fill_info(struct imap_tls *tls, struct imap_tls_info *info)
{
	X509 *leaf = SSL_get0_peer_certificate(tls->ssl);
	STACK_OF(X509) *chain = SSL_get0_verified_chain(tls->ssl);

	memset(info, 0, sizeof(*info));
	snprintf(info->version, sizeof(info->version), "%s",
		 SSL_get_version(tls->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
		 SSL_CIPHER_get_name(SSL_get_current_cipher(tls->ssl)));
	info->verified = !tls->insecure &&
			 SSL_get_verify_result(tls->ssl) == X509_V_OK;
	if (!leaf)
		return;
	name_line(X509_get_subject_name(leaf), info->subject,
		  sizeof(info->subject));
	name_line(X509_get_issuer_name(leaf), info->issuer,
		  sizeof(info->issuer));
	time_str(X509_get0_notAfter(leaf), info->not_after,
		 sizeof(info->not_after));
	/* Apart from the chain, so that --insecure can still tell a wrong
	 * name from an unknown CA. */
	if (is_ip_literal(tls->host))
		info->host_match = X509_check_ip_asc(leaf, tls->host, 0) == 1;
	else if (tls->host[0])
		info->host_match = X509_check_host(leaf, tls->host, 0,
				X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	/* Unverified (insecure): what the server sent, leaf first. */
	if (!chain || !info->verified)
		chain = SSL_get_peer_cert_chain(tls->ssl);
	for (int i = 0; chain && i < sk_X509_num(chain); i++)
		chain_line(sk_X509_value(chain, i), i, info->chain,
			   sizeof(info->chain));
}

/* ---- I/O ------------------------------------------------------------- */

static const char *tls_hint(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_WRONG_VERSION_NUMBER:
		return "; the server did not answer in TLS: a plaintext port "
		       "wants STARTTLS";
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
		return "; the server offers no TLS 1.2 or later";
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return "; the server wants a client certificate";
	default:
		return "";
	}
}

/* "handshake with", "read from", "write to": the message's verb. */
static const char *op_phrase(const char *op)
{
	if (!strcmp(op, "read"))
		return "read from";
	if (!strcmp(op, "write"))
		return "write to";
	return "handshake with";
}

/* A failed SSL call that is not just "wait": one line naming why. */
static int io_error(struct imap_tls *tls, int e, int saved_errno,
		    const char *op, struct pn_error *err)
{
	unsigned long code = ERR_peek_last_error();
	char why[160];

	tls->failed = true;
	if (e == SSL_ERROR_SYSCALL && !code) {
		ERR_clear_error();
		if (saved_errno)
			return pn_error_errno(err, saved_errno, "TLS: %s: %s",
					      tls->peer, op);
		return pn_error_set(err, PN_EIO, "TLS: %s closed the "
				    "connection%s", tls->peer,
				    strcmp(op, "handshake") ? "" :
				    " during the handshake");
	}
	ossl_reason(why, sizeof(why));
	return pn_error_set(err, PN_EIO, "TLS: %s %s failed: %s%s",
			    op_phrase(op), tls->peer, why, tls_hint(code));
}

static int want(int e)
{
	if (e == SSL_ERROR_WANT_READ)
		return IMAP_IO_WANT_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return IMAP_IO_WANT_WRITE;
	return IMAP_IO_ERROR;
}

int imap_tls_handshake(struct imap_tls *tls, struct imap_tls_info *info,
		       struct pn_error *err)
{
	struct sigpipe_guard g;
	int ret, e, saved;
	long v;

	ERR_clear_error();
	sigpipe_block(&g);
	ret = SSL_do_handshake(tls->ssl);
	saved = errno;
	sigpipe_restore(&g);
	if (ret == 1) {
		tls->established = true;
		fill_info(tls, info);
		return IMAP_IO_OK;
	}
	e = SSL_get_error(tls->ssl, ret);
	if (want(e) != IMAP_IO_ERROR)
		return want(e);
	v = SSL_get_verify_result(tls->ssl);
	if (!tls->insecure && v != X509_V_OK) {
		tls->failed = true;
		return verify_error(tls, v, err);
	}
	return io_error(tls, e, saved, "handshake", err);
}

int imap_tls_read(struct imap_tls *tls, char *buf, size_t len,
		  size_t *got_out, struct pn_error *err)
{
	struct sigpipe_guard g;
	int ok, e, saved;

	*got_out = 0;
	ERR_clear_error();
	sigpipe_block(&g);
	ok = SSL_read_ex(tls->ssl, buf, len, got_out);
	saved = errno;
	sigpipe_restore(&g);
	if (ok)
		return IMAP_IO_OK;
	e = SSL_get_error(tls->ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN) {
		*got_out = 0;
		return IMAP_IO_OK;
	}
	if (want(e) != IMAP_IO_ERROR)
		return want(e);
	return io_error(tls, e, saved, "read", err);
}

int imap_tls_write(struct imap_tls *tls, const void *buf, size_t len,
		   size_t *done_out, struct pn_error *err)
{
	struct sigpipe_guard g;
	int ok, e, saved;

	*done_out = 0;
	ERR_clear_error();
	sigpipe_block(&g);
	ok = SSL_write_ex(tls->ssl, buf, len, done_out);
	saved = errno;
	sigpipe_restore(&g);
	if (ok)
		return IMAP_IO_OK;
	e = SSL_get_error(tls->ssl, 0);
	if (want(e) != IMAP_IO_ERROR)
		return want(e);
	return io_error(tls, e, saved, "write", err);
}

/* Decrypted application data only: a partial record still in OpenSSL's
 * buffer cannot be read without more from the socket. */
bool imap_tls_pending(const struct imap_tls *tls)
{
	return SSL_pending(tls->ssl) > 0;
}

void imap_tls_free(struct imap_tls **tlsp)
{
	struct imap_tls *tls = *tlsp;
	struct sigpipe_guard g;

	if (!tls)
		return;
	if (tls->ssl && tls->established && !tls->failed) {
		/* One non-blocking call sends close_notify; we do not wait
		 * for the server's. */
		sigpipe_block(&g);
		SSL_shutdown(tls->ssl);
		sigpipe_restore(&g);
	}
	ERR_clear_error();
	SSL_free(tls->ssl);
	SSL_CTX_free(tls->ctx);
	free(tls);
	*tlsp = NULL;
}
