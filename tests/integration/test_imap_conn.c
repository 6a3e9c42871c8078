/* test_imap_conn.c - connecting to a real Dovecot: plain, STARTTLS,
 * implicit TLS, certificate failures, each SASL mechanism, the PREAUTH
 * tunnel, the trace's redaction, and the connection-loss message (against
 * a small forked fake server).  Dovecot comes from harness.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../../imap/imap.h"
#include "harness.h"

static struct harness H;

#define NEED()                                                          \
	do {                                                            \
		if (!H.ok)                                              \
			fail_msg("Dovecot unavailable: %s", H.why);     \
	} while (0)

static struct imap_settings settings(enum imap_tls_mode tls, uint16_t port)
{
	struct imap_settings s;

	memset(&s, 0, sizeof(s));
	s.host = H.host;
	s.port = port;
	s.tls = tls;
	s.trace_fd = -1;
	s.connect_timeout_ms = 5000;
	s.read_timeout_ms = 10000;
	return s;
}

static struct imap_conn *connect_ok(const struct imap_settings *s)
{
	struct imap_conn *c = NULL;
	struct pn_error err;

	if (imap_connect(s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	return c;
}

static void logout_free(struct imap_conn **c)
{
	struct pn_error err;

	if (imap_logout(*c, &err) < 0)
		fail_msg("logout: %s", err.msg);
	assert_int_equal(imap_conn_state(*c), IMAP_STATE_LOGOUT);
	imap_conn_free(c);
	assert_null(*c);
}

/* ---- plaintext on loopback ---- */

static void test_plain_login(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imap_port;
	c = connect_ok(&s);
	assert_false(imap_conn_encrypted(c));
	assert_null(imap_conn_tls_info(c));
	assert_int_equal(imap_conn_state(c), IMAP_STATE_NOT_AUTHENTICATED);
	assert_true(imap_caps_has(imap_conn_caps(c), "IMAP4rev1"));
	assert_true(imap_caps_has(imap_conn_caps(c), "STARTTLS"));
	if (imap_login(c, H.user, H.password, &err) < 0)
		fail_msg("login: %s", err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	/* after login Dovecot tells the full list */
	assert_true(imap_caps_has(imap_conn_caps(c), "IDLE"));
	assert_int_equal(imap_login(c, H.user, H.password, &err), -1);
	assert_non_null(strstr(err.msg, "already authenticated"));
	logout_free(&c);
}

static void test_wrong_password(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imap_port;
	c = connect_ok(&s);
	assert_int_equal(imap_login(c, H.user, "not-the-password", &err), -1);
	/* "LOGIN alice: NO [AUTHENTICATIONFAILED] Authentication failed." */
	assert_true(strncmp(err.msg, "LOGIN alice: NO [AUTHENTICATIONFAILED]",
			    38) == 0);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_NOT_AUTHENTICATED);
	logout_free(&c);
}

/* ---- TLS ---- */

static void test_default_loopback_uses_starttls(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_DEFAULT, 0);
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imap_port;
	s.cafile = H.ca;
	c = connect_ok(&s);
	assert_true(imap_conn_encrypted(c));
	assert_non_null(imap_conn_tls_info(c));
	assert_true(imap_conn_tls_info(c)->verified);
	/* pre-TLS capabilities were dropped: no STARTTLS now */
	assert_false(imap_caps_has(imap_conn_caps(c), "STARTTLS"));
	if (imap_login(c, H.user, H.password, &err) < 0)
		fail_msg("login: %s", err.msg);
	logout_free(&c);
}

static void test_starttls(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_STARTTLS, 0);
	struct imap_conn *c;
	struct pn_error err;
	const struct imap_tls_info *ti;

	(void)state;
	NEED();
	s.port = H.imap_port;
	s.cafile = H.ca;
	c = connect_ok(&s);
	assert_true(imap_conn_encrypted(c));
	ti = imap_conn_tls_info(c);
	assert_non_null(ti);
	assert_true(ti->verified);
	assert_true(strncmp(ti->version, "TLSv1.", 6) == 0);
	if (imap_authenticate(c, IMAP_SASL_PLAIN,
			      &(struct imap_sasl_creds){ .user = H.user,
					.secret = H.password }, &err) < 0)
		fail_msg("authenticate: %s", err.msg);
	logout_free(&c);
}

static void test_starttls_untrusted(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_STARTTLS, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imap_port;
	s.cafile = H.self_signed_cert;	/* trusts something else */
	assert_int_equal(imap_connect(&s, &c, &err), -1);
	assert_null(c);
	assert_non_null(strstr(err.msg, "certificate"));
	assert_null(strchr(err.msg, '\n'));
}

static void test_implicit_tls(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_IMPLICIT, 0);
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imaps_port;
	s.cafile = H.ca;
	c = connect_ok(&s);
	assert_true(imap_conn_encrypted(c));
	assert_true(imap_conn_tls_info(c)->verified);
	if (imap_login(c, H.user, H.password, &err) < 0)
		fail_msg("login: %s", err.msg);
	if (imap_noop(c, &err) < 0)
		fail_msg("noop: %s", err.msg);
	logout_free(&c);
}

static void test_implicit_tls_without_cafile(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_IMPLICIT, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imaps_port;
	assert_int_equal(imap_connect(&s, &c, &err), -1);
	assert_null(c);
	assert_non_null(strstr(err.msg, "certificate"));
}

/* ---- a forked fake server: certificate failures, policy, loss ---- */

struct fake {
	pid_t pid;
	uint16_t port;
	char log[64];		/* what the client sent, line by line */
};

static int fake_listen(bool any, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		fail_msg("fake server: %s", strerror(errno));
	*port = ntohs(a.sin_port);
	return fd;
}

static SSL *fake_tls(int fd, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;

	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(2);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		_exit(0);	/* the client refused us: expected */
	return ssl;
}

/* Steps: "<" reads one client line into the log; "!tls" starts TLS with
 * cert (a first step "!later" says not before); anything else is sent.
 * After the last step the server closes the connection. */
static void fake_child(int lfd, const char *log, const char *cert,
		       const char *key, const char *const *steps)
{
	int fd, out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	SSL *ssl = NULL;
	char ch;

	alarm(20);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	if (cert && strcmp(*steps, "!later"))
		ssl = fake_tls(fd, cert, key);
	for (; *steps; steps++) {
		if (!strcmp(*steps, "!later"))
			continue;
		if (!strcmp(*steps, "!tls")) {
			ssl = fake_tls(fd, cert, key);
			continue;
		}
		if (strcmp(*steps, "<")) {
			if (ssl)
				SSL_write(ssl, *steps, (int)strlen(*steps));
			else if (write(fd, *steps, strlen(*steps)) < 0)
				_exit(1);
			continue;
		}
		while ((ssl ? SSL_read(ssl, &ch, 1) : read(fd, &ch, 1)) == 1) {
			if (write(out, &ch, 1) < 0 || ch == '\n')
				break;
		}
	}
	_exit(0);
}

static void fake_start(struct fake *f, bool any, const char *cert,
		       const char *key, const char *const *steps)
{
	int lfd = fake_listen(any, &f->port);

	snprintf(f->log, sizeof(f->log), "/tmp/postern-fake-%d.log",
		 (int)getpid());
	f->pid = fork();
	if (f->pid == 0)
		fake_child(lfd, f->log, cert, key, steps);
	close(lfd);
	assert_true(f->pid > 0);
}

/* What the client sent; malloc'd. */
static char *fake_stop(struct fake *f)
{
	int st;
	char *log;

	kill(f->pid, SIGTERM);
	waitpid(f->pid, &st, 0);
	log = harness_slurp(f->log, NULL);
	unlink(f->log);
	return log ? log : strdup("");
}

static void cert_refused(const char *cert, const char *key, const char *want)
{
	static const char *const steps[] = { "* OK hi\r\n", "<", NULL };
	struct imap_settings s = settings(IMAP_TLS_IMPLICIT, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct fake f;

	NEED();
	fake_start(&f, false, cert, key, steps);
	s.port = f.port;
	s.cafile = H.ca;
	assert_int_equal(imap_connect(&s, &c, &err), -1);
	free(fake_stop(&f));
	assert_null(c);
	if (!strstr(err.msg, want))
		fail_msg("expected '%s' in: %s", want, err.msg);
}

static void test_self_signed_refused(void **state)
{
	(void)state;
	cert_refused(H.self_signed_cert, H.self_signed_key, "self-signed");
}

static void test_wrong_host_refused(void **state)
{
	(void)state;
	cert_refused(H.wrong_host_cert, H.wrong_host_key, "wrong.invalid");
}

/* A non-loopback address of this machine, for the plaintext policy. */
static const char *lan_address(void)
{
	static char addr[64];
	FILE *p = popen("hostname -I 2>/dev/null", "r");

	addr[0] = '\0';
	if (p) {
		if (fscanf(p, "%63s", addr) != 1)
			addr[0] = '\0';
		pclose(p);
	}
	if (!addr[0] || !strncmp(addr, "127.", 4) || strchr(addr, ':'))
		fail_msg("no non-loopback IPv4 address to test the plaintext "
			 "policy on");
	return addr;
}

static int fake_connect(const char *const *steps, bool lan,
			enum imap_tls_mode tls, struct imap_conn **c,
			struct pn_error *err)
{
	struct imap_settings s = settings(tls, 0);
	struct fake f;
	int rc;

	fake_start(&f, lan, NULL, NULL, steps);
	s.port = f.port;
	s.host = lan ? lan_address() : "127.0.0.1";
	rc = imap_connect(&s, c, err);
	imap_conn_free(c);
	free(fake_stop(&f));
	return rc;
}

static void test_network_plaintext_password_refused(void **state)
{
	static const char *const steps[] = {
		"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plain\r\n", "<", NULL
	};
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct imap_sasl_creds cr = { .user = "alice", .secret = "s3cret" };
	struct fake f;
	char *log;

	(void)state;
	fake_start(&f, true, NULL, NULL, steps);
	s.port = f.port;
	s.host = lan_address();
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_false(imap_conn_encrypted(c));
	assert_int_equal(imap_login(c, "alice", "s3cret", &err), -1);
	assert_non_null(strstr(err.msg, "refusing to send a password"));
	assert_int_equal(imap_authenticate(c, IMAP_SASL_PLAIN, &cr, &err), -1);
	assert_non_null(strstr(err.msg, "--allow-plaintext"));
	imap_conn_free(&c);
	log = fake_stop(&f);
	assert_null(strstr(log, "s3cret"));
	assert_null(strstr(log, "LOGIN"));
	free(log);
}

static void policy_refused(const char *const *steps, enum imap_tls_mode tls,
			   bool lan, const char *want)
{
	struct imap_conn *c = NULL;
	struct pn_error err;

	assert_int_equal(fake_connect(steps, lan, tls, &c, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("expected '%s' in: %s", want, err.msg);
	assert_non_null(strstr(err.msg, "refusing to continue in plaintext"));
}

static void test_starttls_missing_refused(void **state)
{
	static const char *const steps[] = {
		"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] no tls\r\n", "<", NULL
	};

	(void)state;
	/* default mode off loopback, and --tls starttls on loopback */
	policy_refused(steps, IMAP_TLS_DEFAULT, true, "does not offer STARTTLS");
	policy_refused(steps, IMAP_TLS_STARTTLS, false,
		       "does not offer STARTTLS");
}

static void test_starttls_no_refused(void **state)
{
	static const char *const steps[] = {
		"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", "<",
		"a1 NO not today\r\n", "<", NULL
	};

	(void)state;
	policy_refused(steps, IMAP_TLS_STARTTLS, false,
		       "STARTTLS failed: NO not today");
}

static void test_preauth_plaintext_refused(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n", "<",
		NULL
	};

	(void)state;
	policy_refused(steps, IMAP_TLS_DEFAULT, true, "PREAUTH");
	policy_refused(steps, IMAP_TLS_STARTTLS, false, "PREAUTH");
}

static void test_loss_inside_literal(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", "<",
		"* 1 FETCH (UID 7 BODY[] {48213}\r\nFrom: a@b\r\n", NULL
	};
	struct imap_conn *c = NULL;
	struct imap_result res;
	struct pn_error err;
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct fake f;

	(void)state;
	fake_start(&f, false, NULL, NULL, steps);
	s.port = f.port;
	s.host = "127.0.0.1";
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	assert_int_equal(imap_command_line(c, NULL, "FETCH 1 BODY[]", &res,
					   &err), -1);
	free(fake_stop(&f));
	if (!strstr(err.msg, "connection closed by server during FETCH "
		    "(inside a 48213-byte literal)"))
		fail_msg("got: %s", err.msg);
	/* the connection stays failed, and says so again */
	assert_int_equal(imap_noop(c, &err), -1);
	assert_non_null(strstr(err.msg, "connection closed"));
	imap_conn_free(&c);
}

/* ---- literals, MOVE fallback: what goes on the wire, exactly ---- */

static struct imap_conn *fake_preauth(struct fake *f,
				      const char *const *steps)
{
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;

	fake_start(f, false, NULL, NULL, steps);
	s.port = f->port;
	s.host = "127.0.0.1";
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	return c;
}

static void on_exists(void *ctx, const struct imap_response *r)
{
	if (r->name && !strcmp(r->name, "EXISTS"))
		*(uint32_t *)ctx = r->number;
}

static void test_sync_literal_waits(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", "<",
		"* 3 EXISTS\r\n+ go ahead\r\n", "<",
		"a1 OK [APPENDUID 7 3] done\r\n", "<",
		"a2 NO [LIMIT] too big\r\n", "<", NULL
	};
	struct imap_append_msg m = { .data = "hello", .size = 5 };
	struct imap_append_result ar;
	struct imap_events ev;
	uint32_t exists = 0;
	struct imap_conn *c;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	c = fake_preauth(&f, steps);
	memset(&ev, 0, sizeof(ev));
	ev.ctx = &exists;
	ev.untagged = on_exists;
	imap_conn_set_events(c, &ev);
	if (imap_append(c, "INBOX", &m, 1, &ar, &err) < 0)
		fail_msg("append: %s", err.msg);
	assert_int_equal(exists, 3);	/* dispatched while waiting */
	assert_int_equal(ar.uidvalidity, 7);
	assert_true(imap_seqset_contains(&ar.uids, 3));
	imap_seqset_free(&ar.uids);
	/* refused instead of "+": the literal is never sent */
	assert_int_equal(imap_append(c, "Big", &m, 1, NULL, &err), -1);
	assert_string_equal(err.msg, "APPEND Big: NO [LIMIT] too big");
	imap_conn_free(&c);
	log = fake_stop(&f);
	assert_string_equal(log, "a1 APPEND INBOX {5}\r\nhello\r\n"
			    "a2 APPEND Big {5}\r\n");
	free(log);
}

static void test_literal_plus_minus_and_appendlimit(void **state)
{
	static const char *const plus[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL- APPENDLIMIT=4000] "
		"hi\r\n", "<", "<", "a1 OK done\r\n", "<", NULL
	};
	char big[5000];
	struct imap_append_msg m = { .data = "hello", .size = 5 };
	struct imap_append_msg b = { .data = big, .size = sizeof(big) };
	struct imap_conn *c;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	memset(big, 'x', sizeof(big));
	c = fake_preauth(&f, plus);
	/* LITERAL-: non-synchronising up to 4096 bytes */
	if (imap_append(c, "INBOX", &m, 1, NULL, &err) < 0)
		fail_msg("append: %s", err.msg);
	/* APPENDLIMIT: refused before anything is sent */
	assert_int_equal(imap_append(c, "INBOX", &b, 1, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "APPENDLIMIT of 4000"));
	imap_conn_free(&c);
	log = fake_stop(&f);
	assert_string_equal(log, "a1 APPEND INBOX {5+}\r\nhello\r\n");
	free(log);
}

static void test_move_fallback(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hi\r\n", "<",
		"a1 OK [COPYUID 9 5:6 20:21] copied\r\n", "<",
		"a2 OK stored\r\n", "<",
		"* 1 EXPUNGE\r\n* 1 EXPUNGE\r\na3 OK gone\r\n", "<", NULL
	};
	struct imap_seqset set = { 0 };
	struct imap_code_info ci;
	struct imap_conn *c;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	c = fake_preauth(&f, steps);
	assert_int_equal(imap_seqset_add(&set, 1, 2), 0);
	if (imap_copy(c, false, true, &set, "Archive", &ci, &err) < 0)
		fail_msg("move: %s", err.msg);
	assert_int_equal(ci.uidvalidity, 9);
	assert_true(imap_seqset_contains(&ci.dst_uids, 21));
	imap_code_info_free(&ci);
	imap_seqset_free(&set);
	imap_conn_free(&c);
	log = fake_stop(&f);
	/* exactly the copied UIDs are expunged, never a plain EXPUNGE */
	assert_string_equal(log, "a1 COPY 1:2 Archive\r\n"
			    "a2 UID STORE 5:6 +FLAGS.SILENT (\\Deleted)\r\n"
			    "a3 UID EXPUNGE 5:6\r\n");
	free(log);
}

static void test_starttls_injection_discarded(void **state)
{
	static const char *const steps[] = {
		"!later", "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", "<",
		/* injected right behind the OK, in the same segment */
		"a1 OK go\r\n* CAPABILITY IMAP4rev1 INJECTED AUTH=PLAIN\r\n",
		"!tls", "<",
		"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK caps\r\n", "<",
		NULL
	};
	struct imap_settings s = settings(IMAP_TLS_STARTTLS, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	NEED();
	fake_start(&f, false, H.server_cert, H.server_key, steps);
	s.port = f.port;
	s.host = "127.0.0.1";
	s.cafile = H.ca;
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_true(imap_conn_encrypted(c));
	assert_false(imap_caps_has(imap_conn_caps(c), "INJECTED"));
	assert_false(imap_caps_has(imap_conn_caps(c), "STARTTLS"));
	assert_true(imap_caps_auth(imap_conn_caps(c), "PLAIN"));
	imap_conn_free(&c);
	log = fake_stop(&f);
	assert_string_equal(log, "a1 STARTTLS\r\na2 CAPABILITY\r\n");
	free(log);
}

static void test_read_timeout_names_command(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", "<", "<", NULL
	};
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct fake f;

	(void)state;
	fake_start(&f, false, NULL, NULL, steps);
	s.port = f.port;
	s.host = "127.0.0.1";
	s.read_timeout_ms = 300;
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_int_equal(imap_noop(c, &err), -1);
	if (!strstr(err.msg, "NOOP") || !strstr(err.msg, "timed out"))
		fail_msg("got: %s", err.msg);
	imap_conn_free(&c);
	free(fake_stop(&f));
}

static void test_bye_then_close(void **state)
{
	static const char *const steps[] = {
		"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", "<",
		"* BYE shutting down for maintenance\r\n", NULL
	};
	struct imap_conn *c;
	struct pn_error err;
	struct fake f;

	(void)state;
	c = fake_preauth(&f, steps);
	assert_int_equal(imap_noop(c, &err), -1);
	if (!strstr(err.msg, "connection closed by server during NOOP: BYE "
		    "shutting down for maintenance"))
		fail_msg("got: %s", err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_LOGOUT);
	imap_conn_free(&c);
	free(fake_stop(&f));
}

static void test_logindisabled(void **state)
{
	static const char *const steps[] = {
		"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] hi\r\n",
		"<", NULL
	};
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	fake_start(&f, false, NULL, NULL, steps);
	s.port = f.port;
	s.host = "127.0.0.1";
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_int_equal(imap_login(c, "alice", "s3cret", &err), -1);
	assert_non_null(strstr(err.msg, "LOGINDISABLED"));
	imap_conn_free(&c);
	log = fake_stop(&f);
	assert_string_equal(log, "");
	free(log);
}

static void test_sasl_step_error_cancels(void **state)
{
	static const char *const steps[] = {
		"* OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi\r\n", "<",
		"+ VXNlcm5hbWU6\r\n", "<", "+ UGFzc3dvcmQ6\r\n", "<",
		"+ VXNlcm5hbWU6\r\n", "<", "a1 BAD cancelled\r\n", "<", NULL
	};
	struct imap_sasl_creds cr = { .user = "alice", .secret = "s3cret" };
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_conn *c = NULL;
	struct pn_error err;
	struct fake f;
	char *log;

	(void)state;
	fake_start(&f, false, NULL, NULL, steps);
	s.port = f.port;
	s.host = "127.0.0.1";
	if (imap_connect(&s, &c, &err) < 0)
		fail_msg("connect: %s", err.msg);
	assert_int_equal(imap_authenticate(c, IMAP_SASL_LOGIN, &cr, &err), -1);
	assert_true(strncmp(err.msg, "AUTHENTICATE LOGIN", 18) == 0);
	assert_null(strstr(err.msg, "cancelled"));	/* ours, not the BAD */
	assert_int_equal(imap_conn_state(c), IMAP_STATE_NOT_AUTHENTICATED);
	imap_conn_free(&c);
	log = fake_stop(&f);
	/* user, password (base64), then "*" instead of a third answer */
	assert_string_equal(log, "a1 AUTHENTICATE LOGIN\r\nYWxpY2U=\r\n"
			    "czNjcmV0\r\n*\r\n");
	free(log);
}

/* ---- SASL, each mechanism Dovecot offers ---- */

static void sasl_login(enum imap_sasl_mech mech, bool tls)
{
	struct imap_settings s = settings(tls ? IMAP_TLS_STARTTLS :
					  IMAP_TLS_NONE, 0);
	struct imap_sasl_creds cr = { .user = H.user, .secret = H.password };
	struct imap_conn *c;
	struct pn_error err;

	NEED();
	s.port = H.imap_port;
	s.cafile = H.ca;
	c = connect_ok(&s);
	if (!imap_caps_auth(imap_conn_caps(c), imap_sasl_name(mech)))
		fail_msg("Dovecot does not offer AUTH=%s", imap_sasl_name(mech));
	if (imap_authenticate(c, mech, &cr, &err) < 0)
		fail_msg("AUTHENTICATE %s: %s", imap_sasl_name(mech), err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	if (imap_noop(c, &err) < 0)
		fail_msg("noop: %s", err.msg);
	logout_free(&c);
}

static void test_sasl_plain(void **state)
{
	(void)state;
	sasl_login(IMAP_SASL_PLAIN, false);
	sasl_login(IMAP_SASL_PLAIN, true);
}

static void test_sasl_login(void **state)
{
	(void)state;
	sasl_login(IMAP_SASL_LOGIN, false);
}

static void test_sasl_cram_md5(void **state)
{
	(void)state;
	sasl_login(IMAP_SASL_CRAM_MD5, false);
}

static void test_sasl_wrong_password(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_sasl_creds cr = { .user = H.user, .secret = "nope" };
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.port = H.imap_port;
	c = connect_ok(&s);
	assert_int_equal(imap_authenticate(c, IMAP_SASL_CRAM_MD5, &cr, &err),
			 -1);
	if (strncmp(err.msg, "AUTHENTICATE CRAM-MD5: NO", 25))
		fail_msg("got: %s", err.msg);
	/* the connection is still usable */
	cr.secret = H.password;
	if (imap_authenticate(c, IMAP_SASL_PLAIN, &cr, &err) < 0)
		fail_msg("AUTHENTICATE PLAIN: %s", err.msg);
	logout_free(&c);
}

/* ---- the tunnel ---- */

static void test_tunnel_preauth(void **state)
{
	struct imap_settings s = settings(IMAP_TLS_DEFAULT, 0);
	struct imap_mailbox_info mi;
	struct imap_conn *c;
	struct pn_error err;

	(void)state;
	NEED();
	s.host = NULL;
	s.tunnel = H.preauth_cmd;	/* /usr/lib/dovecot/imap -c ... -u alice */
	c = connect_ok(&s);
	assert_true(imap_conn_encrypted(c));	/* tunnels count as safe */
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	assert_non_null(strstr(imap_conn_peer(c), "tunnel"));
	assert_true(imap_caps_has(imap_conn_caps(c), "IMAP4rev1"));
	if (imap_select(c, "INBOX", false, NULL, false, &mi, &err) < 0)
		fail_msg("select: %s", err.msg);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_SELECTED);
	assert_true(mi.uidvalidity > 0);
	imap_mailbox_info_free(&mi);
	logout_free(&c);
}

/* ---- the trace ---- */

static void test_trace_redacts(void **state)
{
	char path[] = "/tmp/postern-trace-XXXXXX";
	struct imap_settings s = settings(IMAP_TLS_NONE, 0);
	struct imap_sasl_creds cr = { .user = H.user, .secret = H.password };
	struct imap_conn *c;
	struct pn_error err;
	struct imap_result res;
	char *text, *big, line[256];
	int fd;

	(void)state;
	NEED();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	s.port = H.imap_port;
	s.trace_fd = fd;
	c = connect_ok(&s);
	if (imap_login(c, H.user, H.password, &err) < 0)
		fail_msg("login: %s", err.msg);
	logout_free(&c);
	c = connect_ok(&s);
	if (imap_authenticate(c, IMAP_SASL_PLAIN, &cr, &err) < 0)
		fail_msg("authenticate: %s", err.msg);
	logout_free(&c);
	/* the REPL: a literal user name, then the password quoted */
	c = connect_ok(&s);
	snprintf(line, sizeof(line), "LOGIN {%zu}\r\n%s \"%s\"",
		 strlen(H.user), H.user, H.password);
	if (imap_command_line(c, NULL, line, &res, &err) < 0)
		fail_msg("raw LOGIN: %s", err.msg);
	assert_int_equal(res.status, IMAP_STATUS_OK);
	assert_int_equal(imap_conn_state(c), IMAP_STATE_AUTHENTICATED);
	logout_free(&c);
	/* a password that must go as a literal (8-bit): redacted too */
	c = connect_ok(&s);
	assert_int_equal(imap_login(c, H.user, "p\xc3\xa4ss-literal", &err),
			 -1);
	/* literals: small ones shown, large ones summarised */
	if (imap_login(c, H.user, H.password, &err) < 0)
		fail_msg("login: %s", err.msg);
	big = calloc(1, 2000);
	memset(big, 'x', 1999);
	memcpy(big, "Subject: big\r\n\r\n", 16);
	if (imap_append(c, "INBOX", &(struct imap_append_msg){ .data = big,
			.size = 1999 }, 1, NULL, &err) < 0)
		fail_msg("append: %s", err.msg);
	if (imap_command_line(c, NULL, "EXAMINE INBOX", &res, &err) < 0 ||
	    imap_command_line(c, NULL, "FETCH * BODY.PEEK[]", &res, &err) < 0)
		fail_msg("fetch: %s", err.msg);
	free(big);
	logout_free(&c);
	close(fd);
	text = harness_slurp(path, NULL);
	unlink(path);
	assert_non_null(text);
	if (strstr(text, H.password) || strstr(text, "YWxpY2UAYWxpY2Ut"))
		fail_msg("password in the trace:\n%s", text);
	/* the rest is there, timestamped, both ways */
	assert_non_null(strstr(text, " C: a1 CAPABILITY") ?
			strstr(text, " C: a1 CAPABILITY") :
			strstr(text, " C: a1 LOGIN alice"));
	assert_non_null(strstr(text, "LOGIN alice"));
	assert_non_null(strstr(text, "<redacted>"));
	assert_non_null(strstr(text, " S: * OK"));
	assert_non_null(strstr(text, "AUTHENTICATE PLAIN"));
	assert_null(strstr(text, "ss-literal"));
	assert_non_null(strstr(text, "C: {1999 bytes}"));
	assert_non_null(strstr(text, "{1999 bytes}"));
	assert_null(strstr(text, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	free(text);
}

static int group_setup(void **state)
{
	(void)state;
	if (harness_start(&H) < 0)
		fprintf(stderr, "# Dovecot harness: %s\n", H.why);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	harness_stop(&H);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_login),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_default_loopback_uses_starttls),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_untrusted),
		cmocka_unit_test(test_implicit_tls),
		cmocka_unit_test(test_implicit_tls_without_cafile),
		cmocka_unit_test(test_self_signed_refused),
		cmocka_unit_test(test_wrong_host_refused),
		cmocka_unit_test(test_network_plaintext_password_refused),
		cmocka_unit_test(test_starttls_missing_refused),
		cmocka_unit_test(test_starttls_no_refused),
		cmocka_unit_test(test_preauth_plaintext_refused),
		cmocka_unit_test(test_loss_inside_literal),
		cmocka_unit_test(test_sync_literal_waits),
		cmocka_unit_test(test_literal_plus_minus_and_appendlimit),
		cmocka_unit_test(test_move_fallback),
		cmocka_unit_test(test_starttls_injection_discarded),
		cmocka_unit_test(test_read_timeout_names_command),
		cmocka_unit_test(test_bye_then_close),
		cmocka_unit_test(test_logindisabled),
		cmocka_unit_test(test_sasl_step_error_cancels),
		cmocka_unit_test(test_sasl_plain),
		cmocka_unit_test(test_sasl_login),
		cmocka_unit_test(test_sasl_cram_md5),
		cmocka_unit_test(test_sasl_wrong_password),
		cmocka_unit_test(test_tunnel_preauth),
		cmocka_unit_test(test_trace_redacts),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
