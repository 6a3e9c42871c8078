/* test_transport.c - TCP, the tunnel, discard and DEFLATE against real
 * peers forked on 127.0.0.1 (each bounded by alarm() and stopped by PID). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdbool.h>

#include <cmocka.h>
#include <zlib.h>

#include "../../imap/imap_p.h"

/* ---- peers ----------------------------------------------------------- */

static int listen_local(uint16_t *port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		c += w;
		n -= (size_t)w;
	}
}

static void echo(int fd)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write_all(fd, buf, (size_t)n);
}

static void silent(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void hang_up(int fd)
{
	(void)fd;
}

/* "OK Begin TLS" with a response injected behind it in the same
 * segment, then an ordinary echo: what discard must drop. */
static void inject(int fd)
{
	static const char junk[] = "* OK injected\r\n* CAPABILITY IMAP4rev1\r\n";

	write_all(fd, junk, sizeof(junk) - 1);
	echo(fd);
}

/* Inflate what arrives, deflate it back with Z_SYNC_FLUSH. */
static void zecho(int fd)
{
	z_stream in = { 0 }, out = { 0 };
	unsigned char cbuf[8192], pbuf[32768], zbuf[40000];
	ssize_t n;

	if (inflateInit2(&in, -15) != Z_OK ||
	    deflateInit2(&out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		_exit(1);
	while ((n = read(fd, cbuf, sizeof(cbuf))) > 0) {
		in.next_in = cbuf;
		in.avail_in = (uInt)n;
		do {
			in.next_out = pbuf;
			in.avail_out = sizeof(pbuf);
			if (inflate(&in, Z_SYNC_FLUSH) == Z_DATA_ERROR)
				_exit(1);
			out.next_in = pbuf;
			out.avail_in = (uInt)(sizeof(pbuf) - in.avail_out);
			out.next_out = zbuf;
			out.avail_out = sizeof(zbuf);
			deflate(&out, Z_SYNC_FLUSH);
			write_all(fd, zbuf, sizeof(zbuf) - out.avail_out);
		} while (in.avail_in > 0 || in.avail_out == 0);
	}
}

/* 64 KiB of compressible text, deflated, sent at once. */
#define BURST 65536
static void zburst(int fd)
{
	static unsigned char plain[BURST], zbuf[BURST + 1024];
	z_stream out = { 0 };

	for (size_t i = 0; i < BURST; i++)
		plain[i] = (unsigned char)('a' + (i * 7 + i / 13) % 26);
	if (deflateInit2(&out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		_exit(1);
	out.next_in = plain;
	out.avail_in = BURST;
	out.next_out = zbuf;
	out.avail_out = sizeof(zbuf);
	deflate(&out, Z_SYNC_FLUSH);
	write_all(fd, zbuf, sizeof(zbuf) - out.avail_out);
	silent(fd);
}

/* A server that ends its compressed stream (Z_FINISH) after a last
 * line, then closes, as a server may at LOGOUT. */
static void zfinish(int fd)
{
	static const char bye[] = "* BYE logging out\r\na1 OK done\r\n";
	unsigned char zbuf[256];
	z_stream out = { 0 };

	if (deflateInit2(&out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		_exit(1);
	out.next_in = (unsigned char *)bye;
	out.avail_in = sizeof(bye) - 1;
	out.next_out = zbuf;
	out.avail_out = sizeof(zbuf);
	deflate(&out, Z_FINISH);
	write_all(fd, zbuf, sizeof(zbuf) - out.avail_out);
	deflateEnd(&out);
}

/* Fork a one-connection server; alarm() bounds it if a test goes wrong. */
static pid_t serve(uint16_t *port, void (*fn)(int))
{
	int lfd = listen_local(port, 4);
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		int cfd = accept(lfd, NULL, NULL);

		if (cfd < 0)
			_exit(1);
		fn(cfd);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static struct imap_transport *tcp(uint16_t port)
{
	struct imap_transport *t = NULL;
	struct pn_error err;

	if (imap_transport_tcp("127.0.0.1", port, 5000, &t, &err) < 0)
		fail_msg("connect: %s", err.msg);
	return t;
}

static void send_str(struct imap_transport *t, const char *s)
{
	struct pn_error err;

	if (imap_transport_write(t, s, strlen(s), 5000, &err) < 0)
		fail_msg("write: %s", err.msg);
}

/* Read exactly n bytes (the stream may split them anyhow). */
static void recv_n(struct imap_transport *t, char *buf, size_t n)
{
	struct pn_error err;
	size_t have = 0, got;

	while (have < n) {
		if (imap_transport_read(t, buf + have, n - have, 5000, &got,
					&err) < 0)
			fail_msg("read: %s", err.msg);
		assert_true(got > 0);
		have += got;
	}
}

static void expect_echo(struct imap_transport *t, const char *s)
{
	char buf[256];

	send_str(t, s);
	recv_n(t, buf, strlen(s));
	assert_memory_equal(buf, s, strlen(s));
}

/* ---- TCP ------------------------------------------------------------- */

static void test_tcp_echo(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, echo);
	struct imap_transport *t = tcp(port);
	double tcp_ms = -1, tls_ms = -1;

	assert_true(imap_transport_is_loopback(t));
	assert_false(imap_transport_is_tls(t));
	assert_false(imap_transport_is_tunnel(t));
	assert_false(imap_transport_pending(t));
	assert_null(imap_transport_tls_info(t));
	assert_true(imap_transport_fd(t) >= 0);
	expect_echo(t, "a001 CAPABILITY\r\n");
	imap_transport_timings(t, &tcp_ms, &tls_ms);
	assert_true(tcp_ms >= 0 && tcp_ms < 5000);
	assert_true(tls_ms == 0);
	imap_transport_close(&t);
	assert_null(t);
	stop(pid);
	(void)state;
}

static void test_tcp_localhost_name(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, echo);
	struct imap_transport *t = NULL;
	struct pn_error err;

	/* localhost may resolve to ::1 first, where nobody listens: the
	 * next address must be tried. */
	if (imap_transport_tcp("localhost", port, 5000, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(imap_transport_is_loopback(t));
	expect_echo(t, "x\r\n");
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_tcp_refused(void **state)
{
	uint16_t port;
	int lfd = listen_local(&port, 1);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char want[128];

	close(lfd);
	assert_int_equal(imap_transport_tcp("127.0.0.1", port, 2000, &t,
					    &err), -1);
	assert_null(t);
	snprintf(want, sizeof(want), "127.0.0.1:%u: connect: Connection refused",
		 port);
	assert_string_equal(err.msg, want);
	(void)state;
}

/* A listener that never accepts, its queue filled: the kernel drops
 * further SYNs, so our connect can only time out. */
static void test_tcp_connect_timeout(void **state)
{
	uint16_t port;
	int lfd = listen_local(&port, 0), fillers[8];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct imap_transport *t = NULL;
	struct pn_error err;
	char want[128];
	double t0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	for (int i = 0; i < 8; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000);
	t0 = ms_now();
	assert_int_equal(imap_transport_tcp("127.0.0.1", port, 300, &t, &err),
			 -1);
	assert_true(ms_now() - t0 >= 250 && ms_now() - t0 < 3000);
	snprintf(want, sizeof(want),
		 "127.0.0.1:%u: timed out after 0.3 s connecting", port);
	assert_string_equal(err.msg, want);
	for (int i = 0; i < 8; i++)
		close(fillers[i]);
	close(lfd);
	(void)state;
}

static void test_tcp_read_timeout(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, silent);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	char buf[16], want[128];
	size_t got = 99;
	double t0 = ms_now();

	assert_int_equal(imap_transport_read(t, buf, sizeof(buf), 200, &got,
					     &err), -1);
	assert_true(ms_now() - t0 >= 190 && ms_now() - t0 < 2000);
	assert_int_equal(got, 0);
	snprintf(want, sizeof(want),
		 "127.0.0.1:%u: timed out after 0.2 s waiting for the server",
		 port);
	assert_string_equal(err.msg, want);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_tcp_eof(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, hang_up);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	char buf[16];
	size_t got = 99;

	assert_int_equal(imap_transport_read(t, buf, sizeof(buf), 2000, &got,
					     &err), 0);
	assert_int_equal(got, 0);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* SIGPIPE left at its default: the write must fail, not kill us. */
static void test_tcp_write_after_hangup(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, hang_up);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	static char big[65536];
	int rc = 0;

	signal(SIGPIPE, SIG_DFL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = imap_transport_write(t, big, sizeof(big), 2000, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, ": write: "));
	imap_transport_close(&t);
	(void)state;
}

/* An IPv6 listener on addr (dual-stack when v6only is false). */
static pid_t serve6(const struct in6_addr *addr, bool v6only, uint16_t *port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(sin6);
	int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), on = v6only;
	pid_t pid;

	assert_true(lfd >= 0);
	sin6.sin6_addr = *addr;
	assert_int_equal(setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				    sizeof(on)), 0);
	if (bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
		fail_msg("no IPv6 loopback here: bind ::1: %s", strerror(errno));
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin6, &len), 0);
	*port = ntohs(sin6.sin6_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		int cfd = accept(lfd, NULL, NULL);

		if (cfd >= 0)
			echo(cfd);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void test_tcp_ipv6(void **state)
{
	uint16_t port;
	pid_t pid = serve6(&in6addr_loopback, true, &port);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char want[128];

	/* The bracketed form URLs carry works as well as the bare one. */
	if (imap_transport_tcp("[::1]", port, 5000, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(imap_transport_is_loopback(t));
	expect_echo(t, "a NOOP\r\n");
	imap_transport_close(&t);
	stop(pid);
	/* Nobody listens now: the peer is named with brackets. */
	assert_int_equal(imap_transport_tcp("::1", port, 5000, &t, &err), -1);
	snprintf(want, sizeof(want), "[::1]:%u: connect: Connection refused",
		 port);
	assert_string_equal(err.msg, want);
	(void)state;
}

/* ::ffff:127.0.0.1 is loopback too (RFC 4291 2.5.5.2). */
static void test_tcp_v4_mapped_loopback(void **state)
{
	uint16_t port;
	pid_t pid = serve6(&in6addr_any, false, &port);
	struct imap_transport *t = NULL;
	struct pn_error err;

	if (imap_transport_tcp("::ffff:127.0.0.1", port, 5000, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(imap_transport_is_loopback(t));
	expect_echo(t, "b NOOP\r\n");
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_tcp_unresolvable(void **state)
{
	struct imap_transport *t = NULL;
	struct pn_error err;

	/* A bracketed form must be a numeric address (AI_NUMERICHOST), so
	 * this fails without asking a resolver and runs offline. */
	assert_int_equal(imap_transport_tcp("[not-an-address]", 143, 5000, &t,
					    &err), -1);
	assert_memory_equal(err.msg, "[not-an-address]:143: cannot resolve "
			    "host: ", 37);
	(void)state;
}

/* ---- tunnel ---------------------------------------------------------- */

static struct imap_transport *tunnel(const char *cmd)
{
	struct imap_transport *t = NULL;
	struct pn_error err;

	if (imap_transport_tunnel(cmd, &t, &err) < 0)
		fail_msg("tunnel: %s", err.msg);
	return t;
}

static void test_tunnel_cat(void **state)
{
	struct imap_transport *t = tunnel("cat");
	double t0;

	assert_true(imap_transport_is_tunnel(t));
	assert_false(imap_transport_is_loopback(t));
	assert_false(imap_transport_is_tls(t));
	expect_echo(t, "a001 NOOP\r\n");
	expect_echo(t, "a002 LOGOUT\r\n");
	t0 = ms_now();
	imap_transport_close(&t);
	assert_true(ms_now() - t0 < 1000);	/* cat leaves on EOF */
	(void)state;
}

/* The child's stdin and stdout are pipes, not a socket: Dovecot's imap
 * takes a socket on stdin for inetd and refuses to run (a regression). */
static void test_tunnel_pipes(void **state)
{
	struct imap_transport *t = tunnel(
		"if [ -p /dev/stdin ] && [ -p /dev/stdout ]; then "
		"echo '* OK pipes'; else echo '* BAD not pipes'; fi");
	struct pn_error err;
	char buf[64];
	size_t got = 0, n;

	while (got < 11 && imap_transport_read(t, buf + got, sizeof(buf) - got,
					       5000, &n, &err) == 0 && n)
		got += n;
	assert_int_equal(got, 11);
	assert_memory_equal(buf, "* OK pipes\n", 11);
	imap_transport_close(&t);
	(void)state;
}

static void test_tunnel_exit_status(void **state)
{
	struct imap_transport *t = tunnel("exit 3");
	struct pn_error err;
	char buf[16];
	size_t got = 99;

	assert_int_equal(imap_transport_read(t, buf, sizeof(buf), 5000, &got,
					     &err), -1);
	assert_string_equal(err.msg, "tunnel 'exit 3': exited with status 3");
	imap_transport_close(&t);
	(void)state;
}

static void test_tunnel_not_found(void **state)
{
	struct imap_transport *t = tunnel("/nonexistent/imapd 2>/dev/null");
	struct pn_error err;
	char buf[16];
	size_t got;

	assert_int_equal(imap_transport_read(t, buf, sizeof(buf), 5000, &got,
					     &err), -1);
	assert_string_equal(err.msg, "tunnel '/nonexistent/imapd 2>/dev/null': "
			    "exited with status 127 (command not found?)");
	imap_transport_close(&t);
	(void)state;
}

/* A PREAUTH greeting then a clean exit: data, then plain EOF. */
static void test_tunnel_clean_eof(void **state)
{
	struct imap_transport *t = tunnel("printf '* PREAUTH hi\\r\\n'");
	struct pn_error err;
	char buf[64];
	size_t got;

	recv_n(t, buf, 14);
	assert_memory_equal(buf, "* PREAUTH hi\r\n", 14);
	assert_int_equal(imap_transport_read(t, buf, sizeof(buf), 5000, &got,
					     &err), 0);
	assert_int_equal(got, 0);
	imap_transport_close(&t);
	(void)state;
}

/* A child that ignores EOF and SIGTERM is killed within the grace time. */
static void test_tunnel_close_stubborn(void **state)
{
	struct imap_transport *t = tunnel("trap '' TERM; sleep 5 </dev/null "
					  ">/dev/null");
	double t0;

	usleep(100000);
	t0 = ms_now();
	imap_transport_close(&t);
	assert_true(ms_now() - t0 < 3000);
	(void)state;
}

/* ---- discard and DEFLATE --------------------------------------------- */

static void wait_readable(struct imap_transport *t)
{
	struct pollfd pfd = { .fd = imap_transport_fd(t), .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	usleep(20000);	/* let the whole segment arrive */
}

static void test_discard(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, inject);
	struct imap_transport *t = tcp(port);

	wait_readable(t);
	imap_transport_discard(t);
	assert_false(imap_transport_pending(t));
	expect_echo(t, "a002 CAPABILITY\r\n");
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_deflate_round_trip(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, zecho);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	static char chunk[4096], back[4096];
	uint32_t x = 12345;

	assert_int_equal(imap_transport_start_deflate(t, &err), 0);
	assert_int_equal(imap_transport_start_deflate(t, &err), -1);
	expect_echo(t, "a003 NOOP\r\n");
	/* 200 KiB of half-random text in 4 KiB round trips. */
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(chunk); i++) {
			x = x * 1103515245 + 12345;
			chunk[i] = (char)(i % 3 ? 'a' + (x >> 16) % 26 : ' ');
		}
		if (imap_transport_write(t, chunk, sizeof(chunk), 5000, &err))
			fail_msg("%s", err.msg);
		recv_n(t, back, sizeof(back));
		assert_memory_equal(chunk, back, sizeof(chunk));
	}
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_deflate_pending(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, zburst);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	static char rest[BURST];
	char first[100];

	assert_int_equal(imap_transport_start_deflate(t, &err), 0);
	recv_n(t, first, sizeof(first));
	for (size_t i = 0; i < sizeof(first); i++)
		assert_int_equal(first[i], 'a' + (i * 7 + i / 13) % 26);
	assert_true(imap_transport_pending(t));
	recv_n(t, rest, BURST - sizeof(first));
	assert_false(imap_transport_pending(t));
	assert_int_equal(rest[BURST - sizeof(first) - 1],
			 'a' + ((BURST - 1) * 7 + (BURST - 1) / 13) % 26);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* The bytes before the end of the server's stream are delivered, then
 * EOF: the last response at LOGOUT is not lost (a regression). */
static void test_deflate_stream_end(void **state)
{
	static const char bye[] = "* BYE logging out\r\na1 OK done\r\n";
	uint16_t port;
	pid_t pid = serve(&port, zfinish);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	char buf[128];
	size_t got = 0, n = 1;

	assert_int_equal(imap_transport_start_deflate(t, &err), 0);
	while (n && got < sizeof(buf)) {
		assert_int_equal(imap_transport_read(t, buf + got,
						     sizeof(buf) - got, 5000,
						     &n, &err), 0);
		got += n;
	}
	assert_int_equal(got, sizeof(bye) - 1);
	assert_memory_equal(buf, bye, got);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_deflate_discard(void **state)
{
	uint16_t port;
	pid_t pid = serve(&port, zburst);
	struct imap_transport *t = tcp(port);
	struct pn_error err;
	char first[10];

	assert_int_equal(imap_transport_start_deflate(t, &err), 0);
	recv_n(t, first, sizeof(first));
	assert_true(imap_transport_pending(t));
	imap_transport_discard(t);
	assert_false(imap_transport_pending(t));
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_echo),
		cmocka_unit_test(test_tcp_localhost_name),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_tcp_v4_mapped_loopback),
		cmocka_unit_test(test_tcp_unresolvable),
		cmocka_unit_test(test_tcp_connect_timeout),
		cmocka_unit_test(test_tcp_read_timeout),
		cmocka_unit_test(test_tcp_eof),
		cmocka_unit_test(test_tcp_write_after_hangup),
		cmocka_unit_test(test_tunnel_cat),
		cmocka_unit_test(test_tunnel_pipes),
		cmocka_unit_test(test_tunnel_exit_status),
		cmocka_unit_test(test_tunnel_not_found),
		cmocka_unit_test(test_tunnel_clean_eof),
		cmocka_unit_test(test_tunnel_close_stubborn),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_deflate_round_trip),
		cmocka_unit_test(test_deflate_pending),
		cmocka_unit_test(test_deflate_discard),
		cmocka_unit_test(test_deflate_stream_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
