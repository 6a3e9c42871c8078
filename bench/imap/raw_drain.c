/* raw_drain.c - the IMAP benchmark's limit: the index fetch as bytes.
 *
 * Sends LOGIN, EXAMINE and
 *	UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
 * and reads until each tagged completion, parsing nothing but the search
 * for "\r\nTAG " (the benchmark's mail holds no such line), then LOGOUT.
 * What is left is the server producing the data and the kernel (and
 * OpenSSL, over TLS) moving it: no client can be faster.
 *
 * usage: BENCH_PASSWORD=... raw_drain HOST PORT USER MAILBOX
 *        none|implicit [CAFILE]
 * Prints "raw: N bytes of FETCH responses" to stderr.  A bench tool, not
 * a client: it quotes naively and trusts the server.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int fd = -1;
static SSL *ssl;

static void die(const char *what)
{
	fprintf(stderr, "raw_drain: %s\n", what);
	exit(1);
}

static void put(const char *s)
{
	size_t len = strlen(s);
	int n;

	if (ssl != NULL)
		n = SSL_write(ssl, s, (int)len);
	else
		n = (int)write(fd, s, len);
	if (n != (int)len)
		die("write failed");
}

static long get(char *buf, size_t cap)
{
	if (ssl != NULL)
		return SSL_read(ssl, buf, (int)cap);
	return (long)read(fd, buf, cap);
}

/* Read until a line "TAG ..." completes ("*": the greeting); returns the
 * bytes read.  What came after that line stays at buf for the next call. */
static char buf[1 << 18];
static size_t have;	/* unconsumed bytes at buf (after a completion) */

static unsigned long long until(const char *tag)
{
	char marker[32];
	size_t mlen, keep, pos;
	unsigned long long total = 0;

	snprintf(marker, sizeof(marker), "\n%s ", tag);
	mlen = strlen(marker);
	/* a line feed in front, so that a line at buf[0] matches too */
	memmove(buf + 1, buf, have);
	buf[0] = '\n';
	pos = have + 1;
	for (;;) {
		char *m = memmem(buf, pos, marker, mlen);

		if (m != NULL) {
			char *eol = memchr(m + mlen, '\n',
					   (size_t)(buf + pos - (m + mlen)));
			if (eol != NULL) {
				if (strncmp(m + mlen, "OK", 2) != 0)
					die("command failed");
				have = (size_t)(buf + pos - (eol + 1));
				memmove(buf, eol + 1, have);
				return total;
			}
		}
		/* keep the last bytes: the marker may straddle reads */
		keep = pos < 200 ? pos : 200;
		memmove(buf, buf + pos - keep, keep);
		pos = keep;
		long n = get(buf + pos, sizeof(buf) - pos);
		if (n <= 0)
			die("connection closed");
		total += (unsigned long long)n;
		pos += (size_t)n;
	}
}

static void tcp(const char *host, const char *port)
{
	struct addrinfo hints = { 0 }, *ai;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("getaddrinfo failed");
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect failed");
	freeaddrinfo(ai);
}

static void tls(const char *host, const char *cafile)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cafile == NULL || !SSL_CTX_load_verify_locations(ctx, cafile, NULL))
		die("cannot load CAFILE");
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	if (SSL_connect(ssl) != 1)
		die("TLS handshake failed");
}

int main(int argc, char **argv)
{
	const char *pw = getenv("BENCH_PASSWORD");
	char line[1024];
	unsigned long long n;

	if (argc < 6 || pw == NULL) {
		fprintf(stderr, "usage: BENCH_PASSWORD=... raw_drain HOST PORT "
			"USER MAILBOX none|implicit [CAFILE]\n");
		return 2;
	}
	tcp(argv[1], argv[2]);
	if (strcmp(argv[5], "implicit") == 0)
		tls(argv[1], argc > 6 ? argv[6] : NULL);
	/* the greeting, as if it completed a command tagged "*" */
	(void)until("*");
	snprintf(line, sizeof(line), "r1 LOGIN \"%s\" \"%s\"\r\n", argv[3], pw);
	put(line);
	(void)until("r1");
	snprintf(line, sizeof(line), "r2 EXAMINE \"%s\"\r\n", argv[4]);
	put(line);
	(void)until("r2");
	put("r3 UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
	    "\r\n");
	n = until("r3");
	put("r4 LOGOUT\r\n");
	(void)until("r4");
	fprintf(stderr, "raw: %llu bytes of FETCH responses\n", n);
	return 0;
}
