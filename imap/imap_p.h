/* imap_p.h - the IMAP client's shared internals; only imap/ includes it.
 *
 * Which file does what:
 *   seqset.c utf7.c url.c sasl.c redact.c   values (no I/O)
 *   parser.c        the streaming response parser
 *   args.c          imap_arg helpers
 *   response.c      decoders: caps, codes, flags, LIST, STATUS, SEARCH,
 *                   NAMESPACE, QUOTA, VANISHED
 *   fetch.c         FETCH items, ENVELOPE, BODYSTRUCTURE
 *   transport.c     TCP with timeouts, the tunnel child, the I/O loop
 *   tls.c           OpenSSL: verification, SNI, info, errors
 *   compress.c      COMPRESS=DEFLATE (zlib) as a transport layer
 *   conn.c          connect, greeting, STARTTLS policy, reading/dispatch
 *   command.c       struct imap_cmd: building, literals, pipelining
 *   commands.c      one function per IMAP command
 *   auth.c          LOGIN/AUTHENTICATE with the plaintext policy
 *   idle.c          IDLE
 *   trace.c         the timestamped, redacted wire trace
 */
#ifndef IMAP_P_H
#define IMAP_P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap.h"

#define IMAP_DEFAULT_MAX_LINE (1024 * 1024)
#define IMAP_DEFAULT_MAX_LITERAL ((uint64_t)4 << 30)
#define IMAP_DEFAULT_MAX_INLINE_LITERAL (256 * 1024)
#define IMAP_DEFAULT_MAX_DEPTH 64
#define IMAP_DEFAULT_MAX_ITEMS 1000000
#define IMAP_DEFAULT_MAX_LIST 100000

void imap_limits_resolve(const struct imap_limits *in, struct imap_limits *out);

/* Allocate in a response's arena (decoders); NULL on exhaustion. */
void *imap_response_alloc(const struct imap_response *r, size_t n);

/* ---- transport (transport.c, tls.c, compress.c) ---------------------------
 * A byte stream with timeouts.  TLS and DEFLATE are layers switched on in
 * place (STARTTLS, COMPRESS), so the connection keeps one object. */
struct imap_transport;

int imap_transport_tcp(const char *host, uint16_t port, unsigned timeout_ms,
		       struct imap_transport **out, struct pn_error *err) PN_WUR;
/* sh -c cmd with its stdin/stdout as the stream; stderr passes through. */
int imap_transport_tunnel(const char *cmd, struct imap_transport **out,
			  struct pn_error *err) PN_WUR;
/* Start TLS over the stream (implicit TLS, or after STARTTLS's OK):
 * verification per s (cafile/capath/insecure, client cert), SNI and host
 * name check against host, TLS >= 1.2.  Errors name the reason in one
 * line: "TLS: certificate verify failed: self-signed certificate
 * (imap.example.org:993; --cafile FILE trusts a private CA)". */
int imap_transport_start_tls(struct imap_transport *t, const char *host,
			     const struct imap_settings *s,
			     struct pn_error *err) PN_WUR;
int imap_transport_start_deflate(struct imap_transport *t,
				 struct pn_error *err) PN_WUR;
/* Read up to len bytes, waiting at most timeout_ms (0: forever); *got_out
 * 0 means the peer closed.  A timeout is an error ("timed out after 60 s
 * waiting for the server"). */
int imap_transport_read(struct imap_transport *t, char *buf, size_t len,
			unsigned timeout_ms, size_t *got_out,
			struct pn_error *err) PN_WUR;
int imap_transport_write(struct imap_transport *t, const void *buf,
			 size_t len, unsigned timeout_ms,
			 struct pn_error *err) PN_WUR;
/* Bytes already decrypted/inflated and waiting (so poll() on the fd is
 * not the whole story). */
bool imap_transport_pending(const struct imap_transport *t);
/* Throw away anything buffered but not yet read (before a TLS handshake:
 * the STARTTLS injection defence). */
void imap_transport_discard(struct imap_transport *t);
int imap_transport_fd(const struct imap_transport *t);
bool imap_transport_is_tls(const struct imap_transport *t);
bool imap_transport_is_tunnel(const struct imap_transport *t);
bool imap_transport_is_loopback(const struct imap_transport *t);
const struct imap_tls_info *imap_transport_tls_info(const struct imap_transport *t);
void imap_transport_timings(const struct imap_transport *t, double *tcp_ms,
			    double *tls_ms);
void imap_transport_close(struct imap_transport **t);

#endif
