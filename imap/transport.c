/* transport.c - the byte stream under the IMAP connection: TCP with
 * timeouts or a tunnel child, with TLS (tls.c) and DEFLATE (compress.c)
 * switched on in place.
 *
 * The fd is always non-blocking; every operation tries first and then
 * waits in poll() up to its deadline, so a stalled server costs at most
 * one timeout and every wait is measured here, not inside OpenSSL. */
#include "imap_p.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONNECT_MS 15000
/* How long a tunnel child gets to leave on its own after EOF on its
 * stdin, then after SIGTERM, before SIGKILL. */
#define TUNNEL_GRACE_MS 200
#define TUNNEL_TERM_MS 1000

struct imap_transport {
	int fd;			/* read end (the socket for TCP) */
	int wfd;		/* tunnel: the write end; -1 for a socket */
	char peer[300];		/* "host:port" or "tunnel 'cmd'" */
	bool loopback;
	bool tunnel;
	pid_t child;		/* tunnel; 0 once reaped */
	int child_status;
	struct imap_tls *tls;
	struct imap_tls_info tls_info;
	struct imap_deflate *z;
	double tcp_ms, tls_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* 0 means no deadline. */
static double deadline_after(unsigned timeout_ms)
{
	return timeout_ms ? now_ms() + timeout_ms : 0;
}

static struct imap_transport *transport_alloc(struct pn_error *err)
{
	struct imap_transport *t = calloc(1, sizeof(*t));

	if (!t) {
		pn_error_set(err, PN_ENOMEM, "out of memory");
		return NULL;
	}
	t->fd = -1;
	t->wfd = -1;
	return t;
}

static int out_fd(const struct imap_transport *t)
{
	return t->wfd >= 0 ? t->wfd : t->fd;
}

/* Wait for events on the fd until deadline.  "what" finishes the
 * timeout message: "timed out after 60 s waiting for the server". */
static int wait_fd(struct imap_transport *t, short events, double deadline,
		   unsigned timeout_ms, const char *what, struct pn_error *err)
{
	struct pollfd pfd = { .fd = events & POLLOUT ? out_fd(t) : t->fd,
			      .events = events };

	for (;;) {
		int ms = -1;

		if (deadline) {
			double left = deadline - now_ms();

			ms = left <= 0 ? 0 : left >= INT_MAX ? INT_MAX
					     : (int)(left + 0.999);
		}
		int n = poll(&pfd, 1, ms);

		if (n > 0)
			return 0;	/* ready, or an error the I/O reports */
		if (n == 0)
			return pn_error_set(err, PN_EIO,
					    "%s: timed out after %g s %s",
					    t->peer, timeout_ms / 1000.0, what);
		if (errno != EINTR)
			return pn_error_errno(err, errno, "%s: poll", t->peer);
	}
}

/* ---- TCP ------------------------------------------------------------- */

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
	}
	return false;
}

static void set_peer(struct imap_transport *t, const char *host,
		     uint16_t port)
{
	/* An IPv6 literal needs brackets to keep its port readable. */
	if (strchr(host, ':') && host[0] != '[')
		snprintf(t->peer, sizeof(t->peer), "[%s]:%u", host, port);
	else
		snprintf(t->peer, sizeof(t->peer), "%s:%u", host, port);
}

/* One address: 0 connected, -1 failed with errno in *errno_out (0 for a
 * timeout, already in err). */
static int connect_one(struct imap_transport *t, const struct addrinfo *ai,
		       double deadline, unsigned timeout_ms, int *errno_out,
		       struct pn_error *err)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			SOCK_NONBLOCK, ai->ai_protocol);
	socklen_t len = sizeof(*errno_out);

	if (fd < 0) {
		*errno_out = errno;
		return -1;
	}
	t->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	*errno_out = errno;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	*errno_out = 0;
	if (wait_fd(t, POLLOUT, deadline, timeout_ms, "connecting", err) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, errno_out, &len) < 0)
		*errno_out = errno;
	if (*errno_out == 0)
		return 0;
fail:
	close(fd);
	t->fd = -1;
	return -1;
}

static int connect_any(struct imap_transport *t, const struct addrinfo *list,
		       unsigned timeout_ms, struct pn_error *err)
{
	double deadline = deadline_after(timeout_ms);
	int e = 0;

	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		if (connect_one(t, ai, deadline, timeout_ms, &e, err) == 0)
			return 0;
		if (e == 0)
			return -1;	/* timed out: no time for the rest */
	}
	return pn_error_set(err, PN_EIO, "%s: connect: %s", t->peer,
			    strerror(e ? e : EHOSTUNREACH));
}

/* getaddrinfo, accepting the bracketed IPv6 form URLs use ("[::1]"). */
static int resolve(const char *host, const char *port, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_family = AF_UNSPEC };
	char bare[256];
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && n - 2 < sizeof(bare) &&
	    host[n - 1] == ']') {
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
		host = bare;
		hints.ai_flags = AI_NUMERICHOST;
	}
	return getaddrinfo(host, port, &hints, out);
}

int imap_transport_tcp(const char *host, uint16_t port, unsigned timeout_ms,
		       struct imap_transport **out, struct pn_error *err)
{
	struct addrinfo *list = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char portstr[8];
	struct imap_transport *t = transport_alloc(err);
	double t0;

	*out = NULL;
	if (!t)
		return -1;
	if (!host || !*host) {
		free(t);
		return pn_error_set(err, PN_EINVAL, "no host to connect to");
	}
	set_peer(t, host, port);
	snprintf(portstr, sizeof(portstr), "%u", port);
	int rc = resolve(host, portstr, &list);

	if (rc != 0) {
		pn_error_set(err, PN_EIO, "%s: cannot resolve host: %s",
			     t->peer, rc == EAI_SYSTEM ? strerror(errno) :
			     gai_strerror(rc));
		free(t);
		return -1;
	}
	t0 = now_ms();	/* the connect alone; resolving is the resolver's */
	rc = connect_any(t, list, timeout_ms ? timeout_ms : DEFAULT_CONNECT_MS,
			 err);
	freeaddrinfo(list);
	if (rc < 0) {
		free(t);
		return -1;
	}
	t->tcp_ms = now_ms() - t0;
	if (getpeername(t->fd, (struct sockaddr *)&ss, &sslen) == 0)
		t->loopback = addr_is_loopback(&ss);
	*out = t;
	return 0;
}

/* ---- tunnel ---------------------------------------------------------- */

/* In the child: never returns.  The exec error goes back over errfd,
 * which close-on-exec shuts on success. */
static void tunnel_exec(const char *cmd, int in, int out, int errfd)
{
	sigset_t none;
	int e;

	/* An ignored SIGPIPE or a blocked mask would leak into the command. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* With our own stdin/stdout closed either fd may be 0 or 1, where
	 * dup2 would clobber it or keep close-on-exec: move both above. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(126);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Collect the child if it has exited (wait_ms 0: just look). */
static bool tunnel_reap(struct imap_transport *t, unsigned wait_ms)
{
	double deadline = now_ms() + wait_ms;

	while (t->child > 0) {
		pid_t r = waitpid(t->child, &t->child_status, WNOHANG);

		if (r == t->child || (r < 0 && errno == ECHILD)) {
			t->child = 0;
			return true;
		}
		if (now_ms() >= deadline)
			return false;
		usleep(5000);
	}
	return true;
}

static void describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(buf, size, "exited with status 127 (command not found?)");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "ended (status %#x)", status);
}

/* EOF or EPIPE on a tunnel: a failed command is an error, a clean exit
 * (or a child still running) plain EOF. */
static int tunnel_closed(struct imap_transport *t, struct pn_error *err)
{
	char how[96];

	if (!t->tunnel)
		return 0;
	if (t->child && !tunnel_reap(t, TUNNEL_GRACE_MS))
		return 0;
	if (WIFEXITED(t->child_status) && WEXITSTATUS(t->child_status) == 0)
		return 0;
	describe_status(t->child_status, how, sizeof(how));
	return pn_error_set(err, PN_EIO, "%s: %s", t->peer, how);
}

/* Pipes, not a socketpair: some servers refuse a socket on stdin
 * (Dovecot's imap takes it for inetd and exits), and ssh does not care. */
static int tunnel_pipes(struct imap_transport *t, int to[2], int from[2],
			int ep[2], struct pn_error *err)
{
	if (pipe2(to, O_CLOEXEC) < 0)
		return pn_error_errno(err, errno, "%s: pipe", t->peer);
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return pn_error_errno(err, errno, "%s: pipe", t->peer);
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return pn_error_errno(err, errno, "%s: pipe", t->peer);
	}
	return 0;
}

static int tunnel_spawn(struct imap_transport *t, const char *cmd,
			struct pn_error *err)
{
	int to[2], from[2], ep[2], e = 0;

	if (tunnel_pipes(t, to, from, ep, err) < 0)
		return -1;
	t->child = fork();
	if (t->child == 0)
		tunnel_exec(cmd, to[0], from[1], ep[1]);
	e = errno;
	close(to[0]);
	close(from[1]);
	close(ep[1]);
	t->fd = from[0];
	t->wfd = to[1];
	if (t->child < 0) {
		t->child = 0;
		close(ep[0]);
		return pn_error_errno(err, e, "%s: fork", t->peer);
	}
	/* Blocks only until exec succeeds (EOF) or fails (its errno). */
	ssize_t n;

	while ((n = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n != (ssize_t)sizeof(e))
		return 0;
	tunnel_reap(t, TUNNEL_TERM_MS);
	return pn_error_errno(err, e, "%s: cannot run /bin/sh", t->peer);
}

int imap_transport_tunnel(const char *cmd, struct imap_transport **out,
			  struct pn_error *err)
{
	struct imap_transport *t = transport_alloc(err);
	double t0 = now_ms();

	*out = NULL;
	if (!t)
		return -1;
	snprintf(t->peer, sizeof(t->peer), "tunnel '%s'", cmd);
	t->tunnel = true;
	if (tunnel_spawn(t, cmd, err) < 0) {
		imap_transport_close(&t);
		return -1;
	}
	if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(t->wfd, F_SETFL, fcntl(t->wfd, F_GETFL) | O_NONBLOCK) < 0) {
		pn_error_errno(err, errno, "%s: fcntl", t->peer);
		imap_transport_close(&t);
		return -1;
	}
	t->tcp_ms = now_ms() - t0;
	*out = t;
	return 0;
}

/* ---- the plain stream ------------------------------------------------ */

static int raw_read(struct imap_transport *t, char *buf, size_t len,
		    size_t *got_out, struct pn_error *err)
{
	ssize_t n = t->wfd >= 0 ? read(t->fd, buf, len)
				: recv(t->fd, buf, len, 0);

	if (n >= 0) {
		*got_out = (size_t)n;
		return IMAP_IO_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IMAP_IO_WANT_READ;
	return pn_error_errno(err, errno, "%s: read", t->peer);
}

/* write(2) to a pipe whose reader is gone raises SIGPIPE, and pipes have
 * no MSG_NOSIGNAL: block it for the call and swallow one that came, so
 * the program's own handling of SIGPIPE stays as it was. */
static ssize_t pipe_write(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* MSG_NOSIGNAL: a server that hung up must give an error, not SIGPIPE. */
static int raw_write(struct imap_transport *t, const void *buf, size_t len,
		     size_t *done_out, struct pn_error *err)
{
	ssize_t n = t->wfd >= 0 ? pipe_write(t->wfd, buf, len)
				: send(t->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0) {
		*done_out = (size_t)n;
		return IMAP_IO_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return IMAP_IO_WANT_WRITE;
	int e = errno;

	if (e == EPIPE && tunnel_closed(t, err) < 0)
		return IMAP_IO_ERROR;
	return pn_error_errno(err, e, "%s: write", t->peer);
}

static short want_events(int rc)
{
	return rc == IMAP_IO_WANT_WRITE ? POLLOUT : POLLIN;
}

/* Below DEFLATE: TLS or the plain fd, waiting as each asks. */
static int lower_read(struct imap_transport *t, char *buf, size_t len,
		      unsigned timeout_ms, size_t *got_out,
		      struct pn_error *err)
{
	double deadline = deadline_after(timeout_ms);

	for (;;) {
		int rc = t->tls ? imap_tls_read(t->tls, buf, len, got_out, err)
				: raw_read(t, buf, len, got_out, err);

		if (rc == IMAP_IO_ERROR)
			return -1;
		if (rc == IMAP_IO_OK)
			break;
		if (wait_fd(t, want_events(rc), deadline, timeout_ms,
			    "waiting for the server", err) < 0)
			return -1;
	}
	if (*got_out == 0)
		return tunnel_closed(t, err);
	return 0;
}

static int lower_write(struct imap_transport *t, const char *buf, size_t len,
		       unsigned timeout_ms, struct pn_error *err)
{
	double deadline = deadline_after(timeout_ms);

	while (len > 0) {
		size_t done = 0;
		int rc = t->tls ? imap_tls_write(t->tls, buf, len, &done, err)
				: raw_write(t, buf, len, &done, err);

		if (rc == IMAP_IO_ERROR)
			return -1;
		if (rc == IMAP_IO_OK) {
			buf += done;
			len -= done;
			continue;
		}
		if (wait_fd(t, want_events(rc), deadline, timeout_ms,
			    "sending to the server", err) < 0)
			return -1;
	}
	return 0;
}

/* The DEFLATE layer calls down through these. */
struct lower_ctx {
	struct imap_transport *t;
	unsigned timeout_ms;
};

static int lower_read_cb(void *ctx, char *buf, size_t len, size_t *got_out,
			 struct pn_error *err)
{
	struct lower_ctx *c = ctx;

	return lower_read(c->t, buf, len, c->timeout_ms, got_out, err);
}

static int lower_write_cb(void *ctx, const void *buf, size_t len,
			  struct pn_error *err)
{
	struct lower_ctx *c = ctx;

	return lower_write(c->t, buf, len, c->timeout_ms, err);
}

int imap_transport_read(struct imap_transport *t, char *buf, size_t len,
			unsigned timeout_ms, size_t *got_out,
			struct pn_error *err)
{
	struct lower_ctx c = { t, timeout_ms };

	*got_out = 0;
	if (len == 0)
		return pn_error_set(err, PN_EINVAL, "%s: read of 0 bytes",
				    t->peer);
	if (t->z)
		return imap_deflate_read(t->z, buf, len, got_out,
					 lower_read_cb, &c, err);
	return lower_read(t, buf, len, timeout_ms, got_out, err);
}

int imap_transport_write(struct imap_transport *t, const void *buf,
			 size_t len, unsigned timeout_ms,
			 struct pn_error *err)
{
	struct lower_ctx c = { t, timeout_ms };

	if (t->z)
		return imap_deflate_write(t->z, buf, len, lower_write_cb, &c,
					  err);
	return lower_write(t, buf, len, timeout_ms, err);
}

/* ---- layers ---------------------------------------------------------- */

int imap_transport_start_tls(struct imap_transport *t, const char *host,
			     const struct imap_settings *s,
			     struct pn_error *err)
{
	unsigned timeout_ms = s->connect_timeout_ms ? s->connect_timeout_ms
						    : DEFAULT_CONNECT_MS;
	double deadline = deadline_after(timeout_ms), t0 = now_ms();
	int rc;

	if (t->tls || t->z)
		return pn_error_set(err, PN_EINVAL, "%s: TLS already started%s",
				    t->peer, t->z ? " or compression on" : "");
	if (t->wfd >= 0)
		return pn_error_set(err, PN_EUNSUPPORTED, "%s: TLS inside a "
				    "tunnel is not supported (the tunnel "
				    "command carries the encryption, e.g. "
				    "ssh or openssl s_client)", t->peer);
	if (imap_tls_new(t->fd, host, t->peer, s, &t->tls, err) < 0)
		return -1;
	while ((rc = imap_tls_handshake(t->tls, &t->tls_info, err)) > 0) {
		if (wait_fd(t, want_events(rc), deadline, timeout_ms,
			    "in the TLS handshake", err) < 0)
			break;
	}
	if (rc != IMAP_IO_OK) {
		imap_tls_free(&t->tls);
		return -1;
	}
	t->tls_ms = now_ms() - t0;
	return 0;
}

int imap_transport_start_deflate(struct imap_transport *t,
				 struct pn_error *err)
{
	if (t->z)
		return pn_error_set(err, PN_EINVAL, "%s: DEFLATE already on",
				    t->peer);
	return imap_deflate_new(&t->z, err);
}

bool imap_transport_pending(const struct imap_transport *t)
{
	if (t->z && imap_deflate_pending(t->z))
		return true;
	return t->tls && imap_tls_pending(t->tls);
}

/* Before a STARTTLS handshake nothing the server sent can be genuine:
 * it has not seen our ClientHello yet.  Dropping what already arrived
 * (CVE-2020-14954, CVE-2021-22946) also drains the kernel's queue, since
 * a response injected in the same packet as "OK Begin TLS" sits there. */
void imap_transport_discard(struct imap_transport *t)
{
	char junk[4096];

	if (t->z)
		imap_deflate_discard(t->z);
	if (t->tls)
		return;	/* decrypted data is the server's own */
	if (t->wfd >= 0) {
		while (read(t->fd, junk, sizeof(junk)) > 0)	/* O_NONBLOCK */
			;
		return;
	}
	while (recv(t->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

int imap_transport_fd(const struct imap_transport *t)
{
	return t->fd;
}

bool imap_transport_is_tls(const struct imap_transport *t)
{
	return t->tls != NULL;
}

bool imap_transport_is_tunnel(const struct imap_transport *t)
{
	return t->tunnel;
}

bool imap_transport_is_loopback(const struct imap_transport *t)
{
	return t->loopback;
}

const struct imap_tls_info *imap_transport_tls_info(const struct imap_transport *t)
{
	return t->tls ? &t->tls_info : NULL;
}

void imap_transport_timings(const struct imap_transport *t, double *tcp_ms,
			    double *tls_ms)
{
	if (tcp_ms)
		*tcp_ms = t->tcp_ms;
	if (tls_ms)
		*tls_ms = t->tls_ms;
}

/* Closing the socket first lets a well-behaved child (ssh, imapd) leave
 * on EOF; SIGTERM and then SIGKILL only for one that does not. */
static void tunnel_stop(struct imap_transport *t)
{
	if (tunnel_reap(t, TUNNEL_GRACE_MS))
		return;
	kill(t->child, SIGTERM);
	if (tunnel_reap(t, TUNNEL_TERM_MS))
		return;
	kill(t->child, SIGKILL);
	while (waitpid(t->child, &t->child_status, 0) < 0 && errno == EINTR)
		;
	t->child = 0;
}

void imap_transport_close(struct imap_transport **tp)
{
	struct imap_transport *t = *tp;

	if (!t)
		return;
	imap_deflate_free(&t->z);
	imap_tls_free(&t->tls);
	if (t->fd >= 0)
		close(t->fd);
	if (t->wfd >= 0)
		close(t->wfd);
	if (t->child > 0)
		tunnel_stop(t);
	free(t);
	*tp = NULL;
}
