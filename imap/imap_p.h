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
#include "../lib/buf.h"

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

/* Layers inside the transport: transport.c owns the socket, the deadlines
 * and poll(); tls.c and compress.c never wait themselves, so every
 * timeout is measured in one place. */
enum imap_io {
	IMAP_IO_ERROR = -1,
	IMAP_IO_OK = 0,
	IMAP_IO_WANT_READ,	/* retry when the fd is readable */
	IMAP_IO_WANT_WRITE,	/* retry when the fd is writable */
};

struct imap_tls;
/* peer ("host:port") is for messages only. */
int imap_tls_new(int fd, const char *host, const char *peer,
		 const struct imap_settings *s, struct imap_tls **out,
		 struct pn_error *err) PN_WUR;
/* Each returns an enum imap_io; on OK the handshake filled info. */
int imap_tls_handshake(struct imap_tls *tls, struct imap_tls_info *info,
		       struct pn_error *err) PN_WUR;
/* *got_out 0 on OK: the peer closed. */
int imap_tls_read(struct imap_tls *tls, char *buf, size_t len,
		  size_t *got_out, struct pn_error *err) PN_WUR;
int imap_tls_write(struct imap_tls *tls, const void *buf, size_t len,
		   size_t *done_out, struct pn_error *err) PN_WUR;
bool imap_tls_pending(const struct imap_tls *tls);
void imap_tls_free(struct imap_tls **tls);	/* close_notify, best effort */

/* DEFLATE (RFC 4978) over whatever carries the bytes below it. */
struct imap_deflate;
typedef int (*imap_lower_read_fn)(void *ctx, char *buf, size_t len,
				  size_t *got_out, struct pn_error *err);
typedef int (*imap_lower_write_fn)(void *ctx, const void *buf, size_t len,
				   struct pn_error *err);
int imap_deflate_new(struct imap_deflate **out, struct pn_error *err) PN_WUR;
/* Compress with Z_SYNC_FLUSH, so the peer can act on it at once. */
int imap_deflate_write(struct imap_deflate *z, const void *buf, size_t len,
		       imap_lower_write_fn lower, void *ctx,
		       struct pn_error *err) PN_WUR;
/* As imap_transport_read; calls lower only when nothing is inflated. */
int imap_deflate_read(struct imap_deflate *z, char *buf, size_t len,
		      size_t *got_out, imap_lower_read_fn lower, void *ctx,
		      struct pn_error *err) PN_WUR;
bool imap_deflate_pending(const struct imap_deflate *z);
void imap_deflate_discard(struct imap_deflate *z);
void imap_deflate_free(struct imap_deflate **z);

/* ---- the connection's internals (conn.c command.c auth.c idle.c trace.c)
 * Shared by the files that implement struct imap_conn; nothing else
 * touches these fields. */
struct imap_cmd_lit {
	size_t text_end;	/* the text before it ends here (after {n}) */
	const void *data;	/* NULL: stream from fd */
	int fd;
	uint64_t size;
	bool sync;		/* wait for "+" before sending */
	bool owned;		/* data is ours to free */
};

struct imap_cmd {
	struct imap_conn *c;
	struct imap_cmd *next;	/* in the connection's in-flight queue */
	char tag[32];
	char name[32];		/* "FETCH", "UID FETCH": for messages */
	char label[200];	/* "SELECT Archive": prefixes errors */
	struct pn_buf text;	/* "a1 NAME args", literal markers inline */
	struct imap_cmd_lit *lits;
	size_t nlits, caplits;
	bool nospace;		/* the next piece follows "(" directly */
	bool failed;		/* a piece could not be added */
	struct pn_error build_err;
	bool sensitive;
	bool force_sync;	/* every literal synchronising (REPL) */
	bool sent, done;
	struct imap_result res;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	void (*untagged)(void *ctx, const struct imap_response *r);
	void *untagged_ctx;
	void (*tagged)(void *ctx, const struct imap_response *r);
	void *tagged_ctx;
	double start_ms;
};

struct imap_conn {
	struct imap_settings set;	/* strings below are our copies */
	char *host, *tunnel, *cafile, *capath, *cert, *key;
	char peer[300];
	struct imap_transport *t;
	struct imap_parser *parser;
	struct imap_caps *caps;
	struct imap_caps *caps_before_tls;	/* as offered in plaintext, for
						   probes; never trusted */
	enum imap_conn_state state;
	char *greeting;
	bool preauth;
	bool bye;
	char bye_text[256];
	unsigned next_tag;
	char tag_prefix;	/* 'a' unless set (the REPL's own use 'p') */
	struct imap_cmd *head, *tail;	/* sent, waiting for their tag */
	struct imap_events ev;
	struct imap_literal_sink sink;	/* the caller's; ctx NULL: none */
	bool has_sink;
	bool in_sink;
	uint64_t literal_hint;	/* size of the literal being read */
	char *rbuf;
	size_t rpos, rlen, rcap;
	bool dead;		/* the stream is unusable */
	struct pn_error dead_err;
	bool got_continue;
	struct pn_buf cont_text;	/* the last "+ ..." text */
	bool utf8_accept, qresync, condstore;
	bool compressed;
	unsigned caps_gen;	/* bumped whenever capabilities change */
	uint32_t exists, recent;
	struct pn_arena *ns_arena;	/* imap_namespace's answer */
	/* IDLE (idle.c) */
	struct imap_cmd *idle_cmd;
	unsigned reidle_s;
	double idle_since_ms;
};

double imap_now_ms(void);
/* Read one response (waiting up to timeout_ms; 0 the read timeout) and
 * dispatch it: state, the running command's handler, the events.  -1
 * when the connection failed (c->dead, message names the command). */
int imap_conn_step(struct imap_conn *c, unsigned timeout_ms,
		   struct pn_error *err) PN_WUR;
/* Dispatch whatever whole responses are already buffered; the number. */
int imap_conn_drain(struct imap_conn *c, struct pn_error *err) PN_WUR;
int imap_conn_write(struct imap_conn *c, const void *buf, size_t len,
		    struct pn_error *err) PN_WUR;
/* Mark the connection failed with err's message; returns -1. */
int imap_conn_fail(struct imap_conn *c, struct pn_error *err);
/* After LOGIN/AUTHENTICATE succeeded: capabilities, COMPRESS. */
int imap_conn_authenticated(struct imap_conn *c, struct pn_error *err) PN_WUR;
bool imap_conn_loopback(const struct imap_conn *c);

/* command.c */
void imap_cmd_literal_copy(struct imap_cmd *cmd, const void *data,
			   size_t len);
/* A string, quoted or literal but never an atom (ID, METADATA values). */
void imap_cmd_string(struct imap_cmd *cmd, const char *s);
void imap_cmd_label(struct imap_cmd *cmd, const char *fmt, ...)
	PN_PRINTF(2, 3);
/* Wait until a "+" arrives (1) or cmd completes (0). */
int imap_cmd_wait_continue(struct imap_cmd *cmd, struct pn_error *err) PN_WUR;
/* A continuation line (SASL response, DONE) with CRLF, traced. */
int imap_conn_send_line(struct imap_conn *c, const char *line, size_t len,
			bool sensitive, struct pn_error *err) PN_WUR;
/* Fail every command in flight (the connection died). */
void imap_cmd_fail_all(struct imap_conn *c);
void imap_cmd_free(struct imap_cmd *cmd);
/* One-line error for a completed command: "LABEL: NO [CODE] text". */
int imap_cmd_result_error(const char *label, const struct imap_result *res,
			  struct pn_error *err);

/* idle.c: re-IDLE when due; ms until the next one (or UINT32_MAX). */
int imap_idle_tick(struct imap_conn *c, struct pn_error *err) PN_WUR;
unsigned imap_idle_due_ms(const struct imap_conn *c);

/* trace.c: no-ops when trace_fd < 0.  A NULL client line is traced as
 * "<redacted>". */
void imap_trace_client(struct imap_conn *c, const char *line, size_t len,
		       bool sensitive);
void imap_trace_literal(struct imap_conn *c, const void *data, uint64_t len,
			bool sensitive);
void imap_trace_server(struct imap_conn *c, const struct imap_response *r);
void imap_trace_note(struct imap_conn *c, const char *fmt, ...)
	PN_PRINTF(2, 3);

#endif
