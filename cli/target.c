/* target.c - from TARGET and the connection options to a logged-in
 * struct imap_conn.
 *
 * TARGET is an account name from the config file, an imap:// or imaps://
 * URL (RFC 5092), or absent when --tunnel CMD is given.  Command-line
 * options override the account and the URL.  The password comes from
 * password_command, ~/.netrc, the config (warned about) or a prompt on
 * /dev/tty, in that order of the account's choice; it is asked for only
 * after the greeting, so a PREAUTH tunnel never needs one.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../lib/buf.h"

#define PASSWORD_MAX 4096

/* Everything the connection needs, merged from account, URL and options;
 * strings point into those (owned elsewhere) except the ones freed in
 * plan_free. */
struct plan {
	struct imap_settings set;
	const char *user;
	const char *auth;	/* "auto" or a mechanism */
	char *const *password_argv;
	bool netrc;
	const char *password;	/* from the config */
	bool compress;
	const char *label;	/* account name or URL, for messages */
	struct cli_config cfg;
	struct imap_url url;
	bool have_url;
	bool no_login;		/* the REPL's --no-login */
	void (*before_login)(void *ctx, struct imap_conn *conn);
	void *before_login_ctx;
};

int cli_conn_opt(const char *cmd, struct cli_conn_opts *o, int c,
		 const char *arg)
{
	char *end;
	unsigned long n;

	switch (c) {
	case CLI_OPT_TUNNEL: o->tunnel = arg; return 1;
	case CLI_OPT_TLS:
		if (strcmp(arg, "implicit") && strcmp(arg, "starttls") &&
		    strcmp(arg, "none"))
			return cli_usage(cmd, "--tls takes implicit, starttls or none, not '%s'", arg);
		o->tls = arg;
		return 1;
	case CLI_OPT_CAFILE: o->cafile = arg; return 1;
	case CLI_OPT_CAPATH: o->capath = arg; return 1;
	case CLI_OPT_INSECURE: o->insecure = true; return 1;
	case CLI_OPT_ALLOW_PLAINTEXT: o->allow_plaintext = true; return 1;
	case CLI_OPT_USER: o->user = arg; return 1;
	case CLI_OPT_AUTH: o->auth = arg; return 1;
	case CLI_OPT_TRACE: o->trace = arg; return 1;
	case CLI_OPT_NETRC: o->netrc = true; return 1;
	case CLI_OPT_TIMEOUT:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || *end || arg[0] < '0' || arg[0] > '9' || n < 1 ||
		    n > 86400)
			return cli_usage(cmd, "--timeout takes whole seconds from 1 to 86400, not '%s'", arg);
		o->timeout_s = (unsigned)n;
		return 1;
	}
	return 0;
}

static int tls_mode(const char *s)
{
	if (strcmp(s, "implicit") == 0)
		return IMAP_TLS_IMPLICIT;
	if (strcmp(s, "starttls") == 0)
		return IMAP_TLS_STARTTLS;
	return IMAP_TLS_NONE;
}

static void from_account(struct plan *pl, const struct cli_account *a)
{
	pl->set.host = a->host;
	pl->set.port = (uint16_t)a->port;
	pl->set.tunnel = a->tunnel;
	pl->set.tls = a->tls;
	pl->set.cafile = a->cafile;
	pl->set.capath = a->capath;
	pl->set.client_cert = a->client_cert;
	pl->set.client_key = a->client_key;
	pl->set.allow_plaintext = a->allow_plaintext;
	pl->user = a->user;
	pl->auth = a->auth;
	pl->password_argv = a->password_argv;
	pl->netrc = a->netrc;
	pl->password = a->password;
	pl->compress = a->compress;
	pl->label = a->name;
}

static void account_names(const struct cli_config *cfg, char *out, size_t sz)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < cfg->n && len + 4 < sz; i++) {
		snprintf(out + len, sz - len, "%s%s", i ? ", " : "",
			 cfg->acc[i].name);
		len = strlen(out);
	}
}

static int load_account(const char *cmd, struct plan *pl, const char *name)
{
	const struct cli_account *a;
	struct pn_error err;
	char path[4096], names[512];

	pn_error_clear(&err);
	if (cli_config_path(path, sizeof(path), &err) < 0 ||
	    cli_config_load(cmd, path, &pl->cfg, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return CLI_FAIL;
	}
	if (!pl->cfg.found) {
		cli_error(cmd, "no account '%s': there is no config file %s (an account, an imap:// or imaps:// URL, or --tunnel CMD; see postern-config(5))",
			  name, path);
		return CLI_FAIL;
	}
	a = cli_config_find(&pl->cfg, name);
	if (!a) {
		account_names(&pl->cfg, names, sizeof(names));
		cli_error(cmd, "no account '%s' in %s (accounts: %s)", name,
			  path, names[0] ? names : "none");
		return CLI_FAIL;
	}
	from_account(pl, a);
	return CLI_OK;
}

/* The account a URL's host (and user, when both name one) belongs to. */
static const struct cli_account *url_account(const struct cli_config *cfg,
					      const struct imap_url *u)
{
	const struct cli_account *a;
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		a = &cfg->acc[i];
		if (!a->host || strcasecmp(a->host, u->host) != 0)
			continue;
		if (u->user && a->user && strcmp(u->user, a->user) != 0)
			continue;
		return a;
	}
	return NULL;
}

/* A URL borrows from the matching account what a URL cannot say: the
 * password source, trust anchors, client certificate, policy flags. */
static void from_url_account(struct plan *pl, const struct cli_account *a)
{
	pl->set.cafile = a->cafile;
	pl->set.capath = a->capath;
	pl->set.client_cert = a->client_cert;
	pl->set.client_key = a->client_key;
	pl->set.allow_plaintext = a->allow_plaintext;
	pl->user = a->user;
	pl->auth = a->auth;
	pl->password_argv = a->password_argv;
	pl->netrc = a->netrc;
	pl->password = a->password;
	pl->compress = a->compress;
}

static int load_url(const char *cmd, struct plan *pl, const char *text)
{
	const struct cli_account *a;
	struct pn_error err;
	char path[4096];

	pn_error_clear(&err);
	if (imap_url_parse(text, &pl->url, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return CLI_FAIL;
	}
	pl->have_url = true;
	if (cli_config_path(path, sizeof(path), &err) == 0 &&
	    cli_config_load(cmd, path, &pl->cfg, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return CLI_FAIL;
	}
	a = url_account(&pl->cfg, &pl->url);
	if (a)
		from_url_account(pl, a);
	pl->set.host = pl->url.host;
	pl->set.port = pl->url.port;
	pl->set.tls = pl->url.tls ? IMAP_TLS_IMPLICIT : IMAP_TLS_DEFAULT;
	if (pl->url.user)
		pl->user = pl->url.user;
	if (pl->url.auth && strcmp(pl->url.auth, "*") != 0)
		pl->auth = pl->url.auth;
	pl->label = text;
	return CLI_OK;
}

static void apply_opts(struct plan *pl, const struct cli_conn_opts *o)
{
	if (o->tunnel) {
		pl->set.tunnel = o->tunnel;
		pl->set.host = NULL;
		pl->label = o->tunnel;
	}
	if (o->tls)
		pl->set.tls = tls_mode(o->tls);
	if (o->cafile)
		pl->set.cafile = o->cafile;
	if (o->capath)
		pl->set.capath = o->capath;
	if (o->insecure)
		pl->set.insecure = true;
	if (o->allow_plaintext)
		pl->set.allow_plaintext = true;
	if (o->user)
		pl->user = o->user;
	if (o->auth)
		pl->auth = o->auth;
	if (o->netrc)
		pl->netrc = true;
	if (o->timeout_s) {
		pl->set.connect_timeout_ms = o->timeout_s * 1000;
		pl->set.read_timeout_ms = o->timeout_s * 1000;
	}
}

static bool is_url(const char *t)
{
	return strncmp(t, "imap://", 7) == 0 || strncmp(t, "imaps://", 8) == 0;
}

static int resolve(const char *cmd, const struct cli_conn_opts *o,
		   const char *target, struct plan *pl)
{
	int rc = CLI_OK;

	pl->set.trace_fd = -1;
	pl->set.tls = IMAP_TLS_DEFAULT;
	pl->auth = "auto";
	if (target && strstr(target, "://") && !is_url(target)) {
		cli_error(cmd, "'%s': only imap:// and imaps:// URLs are targets", target);
		return CLI_USAGE;
	}
	if (target && is_url(target))
		rc = load_url(cmd, pl, target);
	else if (target)
		rc = load_account(cmd, pl, target);
	if (rc != CLI_OK)
		return rc;
	apply_opts(pl, o);
	if (!pl->auth)
		pl->auth = "auto";
	if (pl->auth && strcmp(pl->auth, "auto") != 0 &&
	    strcasecmp(pl->auth, "login") != 0 && imap_sasl_lookup(pl->auth) < 0) {
		cli_error(cmd, "unknown authentication mechanism '%s' (auto, plain, login, cram-md5, xoauth2, oauthbearer, external)",
			  pl->auth);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static void plan_free(struct plan *pl)
{
	cli_config_free(&pl->cfg);
	if (pl->have_url)
		imap_url_free(&pl->url);
}

/* ---- passwords ------------------------------------------------------- */

static int read_pipe(int fd, struct pn_buf *b)
{
	char chunk[512];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if (pn_buf_add(b, chunk, (size_t)n) < 0)
			return -1;
	}
}

static int wait_child(pid_t pid, const char *name, struct pn_error *err)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return pn_error_errno(err, errno, "password_command '%s'", name);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return pn_error_set(err, PN_EIO, "password_command '%s' exited with status %d",
				    name, WEXITSTATUS(st));
	return pn_error_set(err, PN_EIO, "password_command '%s' was killed by signal %d",
			    name, WTERMSIG(st));
}

/* The first line the command prints is the password; its stdin and stderr
 * stay ours so a gpg pinentry or a "pass" error reaches the user. */
static int run_password_command(char *const *argv, struct pn_buf *out,
				struct pn_error *err)
{
	int fds[2], rc;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return pn_error_errno(err, errno, "password_command: pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return pn_error_errno(err, errno, "password_command: fork");
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "postern: password_command: cannot run '%s': %s\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	rc = read_pipe(fds[0], out);
	close(fds[0]);
	if (wait_child(pid, argv[0], err) < 0)
		return -1;
	if (rc < 0)
		return pn_error_set(err, PN_EIO, "password_command '%s': output unreadable or longer than %d bytes",
				    argv[0], PASSWORD_MAX);
	out->len = strcspn(pn_buf_cstr(out), "\r\n");
	if (out->len == 0)
		return pn_error_set(err, PN_EINVAL, "password_command '%s' printed no password", argv[0]);
	out->data[out->len] = '\0';
	return 0;
}

static struct termios saved_tty;
static volatile sig_atomic_t tty_fd = -1;

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void restore_tty(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int read_tty_line(int fd, struct pn_buf *out)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			return n < 0 ? -1 : 0;
		if (c != '\r' && pn_buf_addc(out, c) < 0)
			return -1;
	}
}

int cli_prompt_secret(const char *prompt, struct pn_buf *out,
		      struct pn_error *err)
{
	struct termios t;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), rc;

	if (fd < 0)
		return pn_error_set(err, PN_EINVAL, "no terminal to ask for the password on");
	if (tcgetattr(fd, &saved_tty) < 0) {
		close(fd);
		return pn_error_set(err, PN_EINVAL, "no terminal to ask for the password on");
	}
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tty_fd = fd;
	signal(SIGINT, restore_tty);
	signal(SIGTERM, restore_tty);
	signal(SIGHUP, restore_tty);
	/* Echo off before the prompt shows: an answer typed as soon as it
	 * appears must neither echo nor be flushed away. */
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0 ||
	    write(fd, prompt, strlen(prompt)) < 0)
		rc = -1;
	else
		rc = read_tty_line(fd, out);
	tcsetattr(fd, TCSAFLUSH, &saved_tty);
	tty_fd = -1;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (write(fd, "\n", 1) < 0)
		rc = rc < 0 ? rc : 0;
	close(fd);
	if (rc < 0)
		return pn_error_set(err, PN_EIO, "cannot read the password from the terminal");
	return 0;
}

static int netrc_password(struct plan *pl, const char *host, struct pn_buf *out,
			  char **login_out, struct pn_error *err)
{
	char *pw = NULL;

	if (cli_netrc_lookup(host, pl->user, login_out, &pw, err) < 0)
		return -1;
	if (!pw)
		return pn_error_set(err, PN_ENOTFOUND, "no entry for machine %s%s%s in ~/.netrc",
				    host, pl->user ? " login " : "",
				    pl->user ? pl->user : "");
	if (pn_buf_adds(out, pw) < 0) {
		free(pw);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return 0;
}

/* login_out: a login name ~/.netrc supplied (when the plan had none). */
static int get_password(struct plan *pl, const char *peer, struct pn_buf *out,
			char **login_out, struct pn_error *err)
{
	char prompt[600];
	const char *host = pl->set.host ? pl->set.host : "";

	if (pl->password_argv)
		return run_password_command(pl->password_argv, out, err);
	if (pl->netrc)
		return netrc_password(pl, host, out, login_out, err);
	if (pl->password)
		return pn_buf_adds(out, pl->password) < 0 ?
			pn_error_set(err, PN_ENOMEM, "out of memory") : 0;
	snprintf(prompt, sizeof(prompt), "Password for %s at %s: ", pl->user,
		 peer);
	if (cli_prompt_secret(prompt, out, err) < 0) {
		snprintf(prompt, sizeof(prompt), "%s", err->msg);
		return pn_error_set(err, err->code,
				    "no password for %s at %s: %s (set password_command or netrc = yes in an account; see postern-config(5))",
				    pl->user, peer, prompt);
	}
	return 0;
}

/* ---- logging in ------------------------------------------------------ */

static int pick_mech(struct imap_conn *c, const char *auth)
{
	const struct imap_caps *caps = imap_conn_caps(c);

	if (strcmp(auth, "auto") == 0)
		return caps && imap_caps_auth(caps, "PLAIN") ? IMAP_SASL_PLAIN : -1;
	if (strcasecmp(auth, "login") == 0)
		return caps && imap_caps_auth(caps, "LOGIN") ? IMAP_SASL_LOGIN : -1;
	return imap_sasl_lookup(auth);
}

static int do_login(struct imap_conn *c, struct plan *pl, const char *user,
		    const char *secret, struct pn_error *err)
{
	struct imap_sasl_creds cr = { 0 };
	int mech = pick_mech(c, pl->auth);

	/* -1: "auto" without AUTH=PLAIN, or "login" without AUTH=LOGIN: the
	 * LOGIN command, which every IMAP4rev1 server has. */
	if (mech < 0)
		return imap_login(c, user, secret, err);
	cr.user = user;
	cr.secret = secret;
	cr.host = pl->set.host;
	cr.port = pl->set.port;
	return imap_authenticate(c, (enum imap_sasl_mech)mech, &cr, err);
}

static int authenticate(const char *cmd, struct imap_conn *c, struct plan *pl)
{
	struct pn_buf pw;
	struct pn_error err;
	char *netrc_login = NULL;
	const char *user;
	bool external = strcasecmp(pl->auth, "external") == 0;
	int rc;

	pn_error_clear(&err);
	pn_buf_init(&pw, PASSWORD_MAX);
	rc = 0;
	/* ~/.netrc may supply the login; anything else needs it first. */
	if (!pl->user && !pl->netrc && !external)
		rc = pn_error_set(&err, PN_EINVAL, "no user name for %s (--user, user = in the account, or user@ in the URL)",
				  imap_conn_peer(c));
	if (rc == 0 && !external)
		rc = get_password(pl, imap_conn_peer(c), &pw, &netrc_login,
				  &err);
	user = pl->user ? pl->user : netrc_login;
	if (rc == 0 && !user && !external)
		rc = pn_error_set(&err, PN_EINVAL, "no user name for %s (--user, user = in the account, a login in ~/.netrc, or user@ in the URL)",
				  imap_conn_peer(c));
	if (rc == 0)
		rc = do_login(c, pl, user ? user : "", pn_buf_cstr(&pw), &err);
	if (pw.data)
		explicit_bzero(pw.data, pw.cap);
	pn_buf_free(&pw);
	free(netrc_login);
	if (rc < 0)
		cli_error(cmd, "%s", err.msg);
	return rc < 0 ? CLI_FAIL : CLI_OK;
}

/* ---- the session ----------------------------------------------------- */

static int open_trace(const char *cmd, const struct cli_conn_opts *o,
		      int *fd_out)
{
	const char *path = o->trace ? o->trace : getenv("POSTERN_TRACE");

	*fd_out = -1;
	if (!path || !path[0])
		return CLI_OK;
	/* 0600: even redacted, a trace shows what mail you have. */
	*fd_out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
		       O_NOCTTY, 0600);
	if (*fd_out < 0) {
		cli_error(cmd, "trace file %s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	return CLI_OK;
}

static void warn_insecure(const char *cmd, const struct plan *pl)
{
	if (!pl->set.insecure)
		return;
	fprintf(stderr, "%s: WARNING: --insecure turns off TLS certificate and host name verification: anyone on the network path can read and change this session, password included\n",
		cmd);
}

static int keep_target_bits(struct cli_session *s, const struct plan *pl,
			    const char *mailbox)
{
	const char *uid = pl->have_url ? pl->url.uid : NULL;
	const char *sec = pl->have_url ? pl->url.section : NULL;

	s->mailbox = mailbox ? strdup(mailbox) : NULL;
	s->url_uid = uid ? strdup(uid) : NULL;
	s->url_section = sec ? strdup(sec) : NULL;
	if ((mailbox && !s->mailbox) || (uid && !s->url_uid) ||
	    (sec && !s->url_section))
		return -1;
	return 0;
}

static int connect_plan(const char *cmd, struct plan *pl,
			struct cli_session *s)
{
	struct pn_error err;

	pn_error_clear(&err);
	if (!pl->set.host && !pl->set.tunnel) {
		cli_error(cmd, "'%s' names no host", pl->label);
		return CLI_USAGE;
	}
	pl->set.trace_fd = s->trace_fd;
	pl->set.compress = pl->compress;
	warn_insecure(cmd, pl);
	if (imap_connect(&pl->set, &s->conn, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return CLI_FAIL;
	}
	if (pl->before_login)
		pl->before_login(pl->before_login_ctx, s->conn);
	if (pl->no_login)
		return CLI_OK;
	if (imap_conn_state(s->conn) == IMAP_STATE_NOT_AUTHENTICATED &&
	    authenticate(cmd, s->conn, pl) != CLI_OK)
		return CLI_FAIL;
	if (pl->compress &&
	    imap_caps_has(imap_conn_caps(s->conn), "COMPRESS=DEFLATE") &&
	    imap_compress(s->conn, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_session_open(const char *cmd, const struct cli_conn_opts *o,
		     const char *target, struct cli_session *s)
{
	struct plan pl;
	const char *mailbox;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(&pl, 0, sizeof(pl));
	s->trace_fd = -1;
	rc = resolve(cmd, o, target, &pl);
	if (rc == CLI_OK)
		rc = open_trace(cmd, o, &s->trace_fd);
	if (rc == CLI_OK) {
		mailbox = pl.have_url ? pl.url.mailbox : NULL;
		if (!mailbox && target && !pl.have_url)
			mailbox = cli_config_find(&pl.cfg, target)->mailbox;
		if (keep_target_bits(s, &pl, mailbox) < 0) {
			cli_error(cmd, "out of memory");
			rc = CLI_FAIL;
		}
	}
	pl.no_login = o->no_login;
	pl.before_login = o->before_login;
	pl.before_login_ctx = o->before_login_ctx;
	if (rc == CLI_OK)
		rc = connect_plan(cmd, &pl, s);
	plan_free(&pl);
	if (rc != CLI_OK)
		cli_session_close(s);
	return rc;
}

int cli_one_target(const char *cmd, const struct cli_conn_opts *o, int argc,
		   char **argv, bool maildir, const char **target_out)
{
	int need = o->tunnel ? 0 : 1;

	*target_out = NULL;
	if (argc - optind < need)
		return cli_usage(cmd, "missing TARGET (an account, an imap:// or imaps:// URL, %sor --tunnel CMD)",
				 maildir ? "a Maildir, " : "");
	if (argc - optind > need)
		return cli_usage(cmd, "unexpected argument '%s'",
				 argv[optind + need]);
	*target_out = need ? argv[optind] : NULL;
	return CLI_OK;
}

void cli_session_close(struct cli_session *s)
{
	struct pn_error err;

	if (s->conn && imap_conn_state(s->conn) != IMAP_STATE_LOGOUT &&
	    imap_logout(s->conn, &err) < 0) {
		/* The work is done; a server that drops us at LOGOUT is fine. */
	}
	imap_conn_free(&s->conn);
	if (s->trace_fd >= 0)
		close(s->trace_fd);
	s->trace_fd = -1;
	free(s->mailbox);
	free(s->url_uid);
	free(s->url_section);
	s->mailbox = s->url_uid = s->url_section = NULL;
}
