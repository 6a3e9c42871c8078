/* test_tls.c - TLS through the transport against `openssl s_server` on
 * 127.0.0.1, with the certificates tests/imap/certs.sh makes: verified,
 * refused for each reason, insecure, TLS 1.1 refused, info filled. */
#include <errno.h>
#include <fcntl.h>
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

#include <cmocka.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "../../imap/imap_p.h"

static char certdir[] = "/tmp/postern-tls-XXXXXX";
static char logpath[300];

/* certs.sh beside this file, whatever the working directory. */
static const char *certs_script(void)
{
	static char path[512];
	const char *slash = strrchr(__FILE__, '/');

	snprintf(path, sizeof(path), "%.*scerts.sh",
		 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
	return path;
}

static int setup_certs(void **state)
{
	char cmd[1024];

	(void)state;
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# test_tls: no openssl binary in PATH: cannot "
			"start s_server\n");
		return -1;
	}
	if (!mkdtemp(certdir))
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", certs_script(), certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "# test_tls: %s failed\n", cmd);
		return -1;
	}
	snprintf(logpath, sizeof(logpath), "%s/s_server.log", certdir);
	return 0;
}

static int remove_certs(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint16_t free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static bool log_says_accept(void)
{
	char buf[4096] = "";
	FILE *f = fopen(logpath, "r");

	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	buf[n] = '\0';
	fclose(f);
	return strstr(buf, "ACCEPT") != NULL;
}

/* s_server NAME [extra args...] reversing lines (-rev); up to 5 s to
 * start listening, killed by PID in stop(). */
static pid_t s_server(uint16_t *port, const char *name, const char *extra)
{
	char cmd[1024];
	pid_t pid;

	*port = free_port();
	unlink(logpath);
	snprintf(cmd, sizeof(cmd), "exec openssl s_server -accept 127.0.0.1:%u "
		 "-cert '%s/%s.pem' -key '%s/%s.key' -rev %s", *port, certdir,
		 name, certdir, name, extra ? extra : "");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		alarm(30);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !log_says_accept(); i++)
		usleep(10000);
	if (!log_says_accept())
		fail_msg("s_server did not start: %s", cmd);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static char cafile[300];

static struct imap_settings settings(bool with_ca)
{
	struct imap_settings s = { .trace_fd = -1,
				   .connect_timeout_ms = 5000 };

	snprintf(cafile, sizeof(cafile), "%s/ca.pem", certdir);
	if (with_ca)
		s.cafile = cafile;
	return s;
}

/* Connect and start TLS: 0 or -1 with err filled; *t set either way. */
static int tls_connect(uint16_t port, const char *host,
		       const struct imap_settings *s,
		       struct imap_transport **t, struct pn_error *err)
{
	if (imap_transport_tcp("127.0.0.1", port, 5000, t, err) < 0)
		fail_msg("connect: %s", err->msg);
	return imap_transport_start_tls(*t, host, s, err);
}

/* s_server -rev answers each line reversed. */
static void expect_reversed(struct imap_transport *t)
{
	struct pn_error err;
	char buf[64];
	size_t have = 0, got;

	if (imap_transport_write(t, "abc\n", 4, 5000, &err) < 0)
		fail_msg("write: %s", err.msg);
	while (have < 4) {
		if (imap_transport_read(t, buf + have, 4 - have, 5000, &got,
					&err) < 0)
			fail_msg("read: %s", err.msg);
		assert_true(got > 0);
		have += got;
	}
	assert_memory_equal(buf, "cba\n", 4);
}

static void test_verified_with_cafile(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "server", NULL);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	const struct imap_tls_info *info;
	struct pn_error err;
	double tcp_ms, tls_ms;

	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(imap_transport_is_tls(t));
	info = imap_transport_tls_info(t);
	assert_non_null(info);
	assert_true(info->verified);
	assert_true(!strcmp(info->version, "TLSv1.3") ||
		    !strcmp(info->version, "TLSv1.2"));
	assert_true(info->cipher[0] != '\0');
	assert_string_equal(info->subject, "O = postern tests, CN = localhost");
	assert_string_equal(info->issuer,
			    "O = postern tests, CN = postern test CA");
	assert_int_equal(strlen(info->not_after), 23);
	assert_memory_equal(info->not_after + 19, " UTC", 4);
	assert_non_null(strstr(info->chain, "0: O = postern tests, CN = "
			       "localhost (issuer: O = postern tests, CN = "
			       "postern test CA; until "));
	assert_non_null(strstr(info->chain, "\n1: O = postern tests, CN = "
			       "postern test CA (issuer"));
	imap_transport_timings(t, &tcp_ms, &tls_ms);
	assert_true(tls_ms > 0);
	expect_reversed(t);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* A name: SNI sent, checked with SSL_set1_host. */
static void test_verified_by_name(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "server", NULL);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;

	if (tls_connect(port, "localhost", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(imap_transport_tls_info(t)->verified);
	expect_reversed(t);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* The handshake must fail; its message lands in msg (PN_ERROR_MSG_MAX). */
static uint16_t refused(const char *cert, bool with_ca, const char *host,
			char *msg)
{
	uint16_t port;
	pid_t pid = s_server(&port, cert, NULL);
	struct imap_settings s = settings(with_ca);
	struct imap_transport *t = NULL;
	struct pn_error err;

	assert_int_equal(tls_connect(port, host, &s, &t, &err), -1);
	assert_false(imap_transport_is_tls(t));
	memcpy(msg, err.msg, sizeof(err.msg));
	imap_transport_close(&t);
	stop(pid);
	return port;
}

static void test_refused_self_signed(void **state)
{
	char msg[PN_ERROR_MSG_MAX], want[PN_ERROR_MSG_MAX];
	uint16_t port = refused("selfsigned", false, "127.0.0.1", msg);

	snprintf(want, sizeof(want), "TLS: certificate verify failed: "
		 "self-signed certificate (127.0.0.1:%u; --cafile FILE trusts "
		 "a private CA)", port);
	assert_string_equal(msg, want);
	(void)state;
}

static void test_refused_unknown_ca(void **state)
{
	char msg[PN_ERROR_MSG_MAX], want[PN_ERROR_MSG_MAX];
	uint16_t port = refused("server", false, "127.0.0.1", msg);

	snprintf(want, sizeof(want), "TLS: certificate verify failed: unable "
		 "to get local issuer certificate (127.0.0.1:%u; --cafile FILE "
		 "trusts a private CA)", port);
	assert_string_equal(msg, want);
	(void)state;
}

static void test_refused_wrong_host(void **state)
{
	char msg[PN_ERROR_MSG_MAX];

	(void)refused("wronghost", true, "127.0.0.1", msg);
	assert_string_equal(msg, "TLS: certificate is for other.example, not "
			    "127.0.0.1 (host name mismatch)");
	(void)refused("server", true, "other.example", msg);
	assert_string_equal(msg, "TLS: certificate is for localhost, "
			    "127.0.0.1, ::1, not other.example (host name "
			    "mismatch)");
	(void)state;
}

static void test_refused_expired(void **state)
{
	char msg[PN_ERROR_MSG_MAX], want[PN_ERROR_MSG_MAX];
	uint16_t port = refused("expired", true, "127.0.0.1", msg);

	snprintf(want, sizeof(want), "TLS: certificate verify failed: "
		 "certificate has expired (127.0.0.1:%u; check this machine's "
		 "clock, or the server must renew its certificate)", port);
	assert_string_equal(msg, want);
	(void)state;
}

static void test_insecure(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "selfsigned", NULL);
	struct imap_settings s = settings(false);
	struct imap_transport *t = NULL;
	const struct imap_tls_info *info;
	struct pn_error err;

	s.insecure = true;
	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	info = imap_transport_tls_info(t);
	assert_false(info->verified);
	assert_string_equal(info->subject, "O = postern tests, CN = localhost");
	assert_string_equal(info->subject, info->issuer);
	assert_non_null(strstr(info->chain, "0: O = postern tests"));
	expect_reversed(t);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_tls11_refused(void **state)
{
	uint16_t port;
	/* TLS 1.1 needs security level 0 in OpenSSL 3 (SHA-1 signatures). */
	pid_t pid = s_server(&port, "server",
			     "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char want[256];

	assert_int_equal(tls_connect(port, "127.0.0.1", &s, &t, &err), -1);
	snprintf(want, sizeof(want), "TLS: handshake with 127.0.0.1:%u failed: ",
		 port);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_non_null(strstr(err.msg, "; the server offers no TLS 1.2 or "
			       "later"));
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_pending(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "server", NULL);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char c;
	size_t got;

	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_false(imap_transport_pending(t));
	assert_int_equal(imap_transport_write(t, "hello\n", 6, 5000, &err), 0);
	assert_int_equal(imap_transport_read(t, &c, 1, 5000, &got, &err), 0);
	assert_int_equal(got, 1);
	assert_int_equal(c, 'o');
	assert_true(imap_transport_pending(t));
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_client_cert(void **state)
{
	uint16_t port;
	char extra[600], cert[300], key[300];
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;

	snprintf(extra, sizeof(extra), "-Verify 1 -CAfile '%s'", cafile);
	pid_t pid = s_server(&port, "server", extra);

	snprintf(cert, sizeof(cert), "%s/client.pem", certdir);
	snprintf(key, sizeof(key), "%s/client.key", certdir);
	s.client_cert = cert;
	s.client_key = key;
	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	expect_reversed(t);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* TLS 1.3 tells a missing client certificate only after the handshake,
 * on the first read. */
static void test_client_cert_missing(void **state)
{
	uint16_t port;
	char extra[600];
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char buf[16], want[200];
	size_t got;
	int rc;

	snprintf(extra, sizeof(extra), "-Verify 1 -CAfile '%s' -tls1_3",
		 cafile);
	pid_t pid = s_server(&port, "server", extra);

	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	rc = imap_transport_write(t, "x\n", 2, 5000, &err);
	if (rc == 0)
		rc = imap_transport_read(t, buf, sizeof(buf), 5000, &got, &err);
	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "TLS: read from 127.0.0.1:%u failed: "
		 "tlsv13 alert certificate required; the server wants a "
		 "client certificate", port);
	assert_string_equal(err.msg, want);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

static void test_bad_cafile(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "server", NULL);
	struct imap_settings s = settings(false);
	struct imap_transport *t = NULL;
	struct pn_error err;

	s.cafile = "/nonexistent/ca.pem";
	assert_int_equal(tls_connect(port, "127.0.0.1", &s, &t, &err), -1);
	assert_string_equal(err.msg, "TLS: cannot read --cafile "
			    "/nonexistent/ca.pem: No such file or directory");
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* Implicit TLS against a plaintext IMAP greeting. */
static void test_plaintext_server(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	pid_t pid;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	pid = fork();
	if (pid == 0) {
		alarm(10);
		int c = accept(lfd, NULL, NULL);

		if (write(c, "* OK IMAP4rev1 ready\r\n", 22) != 22)
			_exit(1);
		sleep(5);
		_exit(0);
	}
	close(lfd);
	assert_int_equal(tls_connect(ntohs(sin.sin_port), "127.0.0.1", &s, &t,
				     &err), -1);
	assert_non_null(strstr(err.msg, "wrong version number; the server did "
			       "not answer in TLS: a plaintext port wants "
			       "STARTTLS"));
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* ---- a TLS peer of our own: STARTTLS and DEFLATE over TLS ------------- */

static void ssl_write_all(SSL *ssl, const void *p, size_t n)
{
	size_t done;

	if (n && SSL_write_ex(ssl, p, n, &done) != 1)
		_exit(1);
}

/* Echo what arrives; with z, inflate it and deflate it back. */
static void ssl_echo(SSL *ssl, bool z)
{
	z_stream in = { 0 }, out = { 0 };
	unsigned char cbuf[8192], pbuf[32768], zbuf[40000];
	size_t n;

	if (inflateInit2(&in, -15) != Z_OK ||
	    deflateInit2(&out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		_exit(1);
	while (SSL_read_ex(ssl, cbuf, sizeof(cbuf), &n) == 1) {
		if (!z) {
			ssl_write_all(ssl, cbuf, n);
			continue;
		}
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
			ssl_write_all(ssl, zbuf, sizeof(zbuf) - out.avail_out);
		} while (in.avail_in > 0 || in.avail_out == 0);
	}
}

/* One connection: the plaintext prelude (a STARTTLS reply, maybe with
 * an injection behind it), then TLS with server.pem, then an echo. */
static void tls_peer_child(int lfd, const char *prelude, bool z)
{
	char cert[300], key[300];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int fd = accept(lfd, NULL, NULL);
	SSL *ssl;

	alarm(20);
	snprintf(cert, sizeof(cert), "%s/server-chain.pem", certdir);
	snprintf(key, sizeof(key), "%s/server.key", certdir);
	if (!ctx || fd < 0 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(1);
	if (prelude && write(fd, prelude, strlen(prelude)) < 0)
		_exit(1);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		_exit(2);
	ssl_echo(ssl, z);
	_exit(0);
}

static pid_t tls_peer(uint16_t *port, const char *prelude, bool z)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		tls_peer_child(lfd, prelude, z);
	close(lfd);
	return pid;
}

static void echo_round(struct imap_transport *t, const char *msg)
{
	struct pn_error err;
	char buf[256];
	size_t have = 0, got, n = strlen(msg);

	if (imap_transport_write(t, msg, n, 5000, &err) < 0)
		fail_msg("write: %s", err.msg);
	while (have < n) {
		if (imap_transport_read(t, buf + have, n - have, 5000, &got,
					&err) < 0)
			fail_msg("read: %s", err.msg);
		assert_true(got > 0);
		have += got;
	}
	assert_memory_equal(buf, msg, n);
}

#define BEGIN_TLS "a001 OK Begin TLS now\r\n"
#define INJECTED "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"

/* Read the STARTTLS reply only, as the connection does, leaving the
 * injected bytes behind it in the socket; with discard the handshake
 * must still succeed (CVE-2021-22946's "injected response" case). */
static int starttls_with_injection(bool discard, struct pn_error *err)
{
	uint16_t port;
	pid_t pid = tls_peer(&port, BEGIN_TLS INJECTED, false);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	char buf[sizeof(BEGIN_TLS)];
	size_t got;
	int rc;

	if (imap_transport_tcp("127.0.0.1", port, 5000, &t, err) < 0)
		fail_msg("connect: %s", err->msg);
	assert_int_equal(imap_transport_read(t, buf, sizeof(BEGIN_TLS) - 1,
					     5000, &got, err), 0);
	assert_int_equal(got, sizeof(BEGIN_TLS) - 1);
	usleep(50000);	/* the injection is surely here now */
	if (discard)
		imap_transport_discard(t);
	rc = imap_transport_start_tls(t, "localhost", &s, err);
	if (rc == 0) {
		assert_true(imap_transport_tls_info(t)->verified);
		echo_round(t, "a002 CAPABILITY\r\n");
	}
	imap_transport_close(&t);
	stop(pid);
	return rc;
}

static void test_starttls_discards_injection(void **state)
{
	struct pn_error err;

	if (starttls_with_injection(true, &err) < 0)
		fail_msg("%s", err.msg);
	/* The control: without discard the injected bytes reach OpenSSL. */
	assert_int_equal(starttls_with_injection(false, &err), -1);
	assert_non_null(strstr(err.msg, "wrong version number"));
	(void)state;
}

static void test_deflate_over_tls(void **state)
{
	uint16_t port;
	pid_t pid = tls_peer(&port, NULL, true);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	char line[200];

	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(imap_transport_start_deflate(t, &err), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(line, sizeof(line), "a%03d UID FETCH %d:* (FLAGS "
			 "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])\r\n", i,
			 i * 1000);
		echo_round(t, line);
	}
	/* TLS and DEFLATE both hold nothing back. */
	assert_false(imap_transport_pending(t));
	/* STARTTLS once compression is on would be a protocol error. */
	assert_int_equal(imap_transport_start_tls(t, "127.0.0.1", &s, &err),
			 -1);
	imap_transport_close(&t);
	stop(pid);
	(void)state;
}

/* The server dies mid-session with SIGPIPE at its default: OpenSSL's
 * write() must give an error, not kill the test. */
static void test_write_after_server_died(void **state)
{
	uint16_t port;
	pid_t pid = s_server(&port, "server", NULL);
	struct imap_settings s = settings(true);
	struct imap_transport *t = NULL;
	struct pn_error err;
	static char big[65536];
	int rc = 0;

	if (tls_connect(port, "127.0.0.1", &s, &t, &err) < 0)
		fail_msg("%s", err.msg);
	signal(SIGPIPE, SIG_DFL);
	stop(pid);
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = imap_transport_write(t, big, sizeof(big), 2000, &err);
	assert_int_equal(rc, -1);
	assert_memory_equal(err.msg, "TLS: 127.0.0.1:", 15);
	imap_transport_close(&t);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified_with_cafile),
		cmocka_unit_test(test_verified_by_name),
		cmocka_unit_test(test_refused_self_signed),
		cmocka_unit_test(test_refused_unknown_ca),
		cmocka_unit_test(test_refused_wrong_host),
		cmocka_unit_test(test_refused_expired),
		cmocka_unit_test(test_insecure),
		cmocka_unit_test(test_tls11_refused),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_client_cert),
		cmocka_unit_test(test_client_cert_missing),
		cmocka_unit_test(test_bad_cafile),
		cmocka_unit_test(test_plaintext_server),
		cmocka_unit_test(test_starttls_discards_injection),
		cmocka_unit_test(test_deflate_over_tls),
		cmocka_unit_test(test_write_after_server_died),
	};

	return cmocka_run_group_tests(tests, setup_certs, remove_certs);
}
