/* config.c - the account file, password_command words and ~/.netrc.
 *
 * The format is deliberately small (postern-config(5)): "[account NAME]"
 * sections of "key = value" lines, '#' or ';' comment lines, no quoting
 * except inside password_command, which is split into words here and run
 * without a shell, so a password manager path with a space or a quote in
 * it can never turn into a second command.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../imap/imap.h"
#include "../lib/buf.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define NETRC_MAX_BYTES (1024 * 1024)

struct cfg_parse {
	const char *cmd;
	const char *path;
	struct cli_config *cfg;
	struct cli_account *cur;
	long lineno;
	long key_line[32];	/* where each key of cur was set, 0: unset */
	struct pn_error *err;
};

static int at(struct cfg_parse *p, const char *fmt, ...) PN_PRINTF(2, 3);

static int at(struct cfg_parse *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pn_error_set(p->err, PN_EPARSE, "%s:%ld: %s", p->path, p->lineno, msg);
	p->err->line = p->lineno;
	return -1;
}

int cli_config_path(char *buf, size_t sz, struct pn_error *err)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	/* XDG Base Directory: a relative value is invalid and ignored. */
	if (x && x[0] == '/')
		n = snprintf(buf, sz, "%s/postern/config", x);
	else if (home && home[0])
		n = snprintf(buf, sz, "%s/.config/postern/config", home);
	else
		return pn_error_set(err, PN_EINVAL,
				    "neither XDG_CONFIG_HOME nor HOME is set; cannot find the config file");
	if (n < 0 || (size_t)n >= sz)
		return pn_error_set(err, PN_ELIMIT, "config path too long");
	return 0;
}

/* ---- words ---------------------------------------------------------- */

static int add_word(char ***v, size_t *n, struct pn_buf *w)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));
	char *s;

	if (!nv)
		return -1;
	*v = nv;
	s = pn_buf_take(w, NULL);
	if (!s)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}

/* One character of s at *i into w, following the quote state q. */
static int word_char(const char *s, size_t *i, char *q, struct pn_buf *w,
		     bool *in_word)
{
	char c = s[*i];

	if (*q == '\'') {
		if (c == '\'')
			*q = 0;
		else if (pn_buf_addc(w, c) < 0)
			return -1;
		return 0;
	}
	if (*q == '"') {
		if (c == '"') {
			*q = 0;
			return 0;
		}
		/* As in sh: inside "...", only \" and \\ lose the backslash. */
		if (c == '\\' && (s[*i + 1] == '"' || s[*i + 1] == '\\'))
			c = s[++*i];
		return pn_buf_addc(w, c);
	}
	*in_word = true;
	if (c == '\'' || c == '"') {
		*q = c;
		return 0;
	}
	if (c == '\\' && s[*i + 1])
		c = s[++*i];
	return pn_buf_addc(w, c);
}

int cli_split_words(const char *s, char ***argv_out, struct pn_error *err)
{
	struct pn_buf w;
	char **v = NULL, q = 0;
	size_t n = 0, i;
	bool in_word = false;

	pn_buf_init(&w, 64 * 1024);
	for (i = 0; s[i]; i++) {
		if (!q && (s[i] == ' ' || s[i] == '\t')) {
			if (in_word && add_word(&v, &n, &w) < 0)
				goto nomem;
			in_word = false;
			continue;
		}
		if (word_char(s, &i, &q, &w, &in_word) < 0)
			goto nomem;
	}
	if (q) {
		pn_buf_free(&w);
		cli_argv_free(&v);
		return pn_error_set(err, PN_EPARSE, "unterminated %c quote", q);
	}
	if (in_word && add_word(&v, &n, &w) < 0)
		goto nomem;
	pn_buf_free(&w);
	if (n == 0)
		return pn_error_set(err, PN_EPARSE, "empty command");
	*argv_out = v;
	return 0;
nomem:
	pn_buf_free(&w);
	cli_argv_free(&v);
	return pn_error_set(err, PN_ENOMEM, "out of memory");
}

void cli_argv_free(char ***argv)
{
	size_t i;

	if (!*argv)
		return;
	for (i = 0; (*argv)[i]; i++)
		free((*argv)[i]);
	free(*argv);
	*argv = NULL;
}

/* ---- keys ----------------------------------------------------------- */

enum key_kind { K_STR, K_PORT, K_TLS, K_AUTH, K_BOOL, K_CMD };

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off;
};

#define KOFF(f) offsetof(struct cli_account, f)

static const struct key_def keys[] = {
	{ "host", K_STR, KOFF(host) },
	{ "port", K_PORT, KOFF(port) },
	{ "tls", K_TLS, KOFF(tls) },
	{ "user", K_STR, KOFF(user) },
	{ "auth", K_AUTH, KOFF(auth) },
	{ "password_command", K_CMD, KOFF(password_command) },
	{ "netrc", K_BOOL, KOFF(netrc) },
	{ "password", K_STR, KOFF(password) },
	{ "cafile", K_STR, KOFF(cafile) },
	{ "capath", K_STR, KOFF(capath) },
	{ "client_cert", K_STR, KOFF(client_cert) },
	{ "client_key", K_STR, KOFF(client_key) },
	{ "tunnel", K_STR, KOFF(tunnel) },
	{ "allow_plaintext", K_BOOL, KOFF(allow_plaintext) },
	{ "compress", K_BOOL, KOFF(compress) },
	{ "mailbox", K_STR, KOFF(mailbox) },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const auth_names[] = {
	"auto", "plain", "login", "cram-md5", "xoauth2", "oauthbearer",
	"external",
};

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		 !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_tls(const char *v, int *out)
{
	if (strcmp(v, "implicit") == 0)
		*out = IMAP_TLS_IMPLICIT;
	else if (strcmp(v, "starttls") == 0)
		*out = IMAP_TLS_STARTTLS;
	else if (strcmp(v, "none") == 0)
		*out = IMAP_TLS_NONE;
	else
		return -1;
	return 0;
}

static int parse_port(const char *v, unsigned *out)
{
	char *end;
	unsigned long n;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < 1 || n > 65535)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static bool auth_known(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++) {
		if (strcmp(auth_names[i], v) == 0)
			return true;
	}
	return false;
}

static int set_str(struct cfg_parse *p, char **slot, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return pn_error_set(p->err, PN_ENOMEM, "out of memory");
	*slot = s;
	return 0;
}

static int set_cmd(struct cfg_parse *p, struct cli_account *a, const char *v)
{
	struct pn_error e;

	if (cli_split_words(v, &a->password_argv, &e) < 0)
		return at(p, "password_command: %s", e.msg);
	return set_str(p, &a->password_command, v);
}

static int set_value(struct cfg_parse *p, const struct key_def *k,
		     const char *v)
{
	struct cli_account *a = p->cur;
	void *slot = (char *)a + k->off;

	switch (k->kind) {
	case K_STR:
		if (!v[0])
			return at(p, "%s needs a value", k->name);
		return set_str(p, slot, v);
	case K_PORT:
		if (parse_port(v, slot) < 0)
			return at(p, "port must be a number from 1 to 65535, not '%s'", v);
		return 0;
	case K_TLS:
		if (parse_tls(v, slot) < 0)
			return at(p, "tls must be implicit, starttls or none, not '%s'", v);
		return 0;
	case K_AUTH:
		if (!auth_known(v))
			return at(p, "auth must be auto, plain, login, cram-md5, xoauth2, oauthbearer or external, not '%s'", v);
		return set_str(p, slot, v);
	case K_BOOL:
		if (parse_bool(v, slot) < 0)
			return at(p, "%s must be yes or no, not '%s'", k->name, v);
		return 0;
	case K_CMD:
		return set_cmd(p, a, v);
	}
	return 0;
}

static void trim(char **s)
{
	char *e;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
}

static int key_line(struct cfg_parse *p, char *line)
{
	char *eq = strchr(line, '='), *key = line, *val;
	size_t i;

	if (!eq)
		return at(p, "expected 'key = value', got '%s'", line);
	*eq = '\0';
	val = eq + 1;
	trim(&key);
	trim(&val);
	if (!p->cur)
		return at(p, "'%s' before any [account NAME] section", key);
	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (p->key_line[i])
			return at(p, "duplicate key '%s' in [account %s] (first on line %ld)",
				  key, p->cur->name, p->key_line[i]);
		p->key_line[i] = p->lineno;
		if (strcmp(key, "password") == 0)
			fprintf(stderr, "%s: warning: %s:%ld: [account %s] stores its password in the config file; password_command or netrc keeps it out\n",
				p->cmd, p->path, p->lineno, p->cur->name);
		return set_value(p, &keys[i], val);
	}
	return at(p, "unknown key '%s' in [account %s]", key, p->cur->name);
}

static bool name_ok(const char *n)
{
	if (!n[0])
		return false;
	for (; *n; n++) {
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' ||
		      *n == '.' || *n == '@' || *n == '+'))
			return false;
	}
	return true;
}

static int check_account(struct cfg_parse *p);

static int section_line(struct cfg_parse *p, char *line)
{
	char *end = strchr(line, ']'), *name;
	struct cli_account *v;
	size_t i;

	if (!end || end[1])
		return at(p, "malformed section header '%s'", line);
	*end = '\0';
	name = line + 1;
	trim(&name);
	if (strncmp(name, "account", 7) != 0 ||
	    (name[7] != ' ' && name[7] != '\t'))
		return at(p, "unknown section '[%s]' (expected [account NAME])", name);
	name += 7;
	trim(&name);
	if (!name_ok(name))
		return at(p, "bad account name '%s' (letters, digits and - _ . @ + only)", name);
	if (p->cur && check_account(p) < 0)
		return -1;
	for (i = 0; i < p->cfg->n; i++) {
		if (strcmp(p->cfg->acc[i].name, name) == 0)
			return at(p, "duplicate [account %s] (first on line %ld)",
				  name, p->cfg->acc[i].line);
	}
	v = realloc(p->cfg->acc, (p->cfg->n + 1) * sizeof(*v));
	if (!v)
		return pn_error_set(p->err, PN_ENOMEM, "out of memory");
	p->cfg->acc = v;
	p->cur = &v[p->cfg->n++];
	memset(p->cur, 0, sizeof(*p->cur));
	p->cur->line = p->lineno;
	memset(p->key_line, 0, sizeof(p->key_line));
	return set_str(p, &p->cur->name, name);
}

/* Checked when the section ends, reported at its header line. */
static int check_account(struct cfg_parse *p)
{
	struct cli_account *a = p->cur;
	long saved = p->lineno;
	int rc = 0;

	p->lineno = a->line;
	if (!a->host && !a->tunnel)
		rc = at(p, "[account %s] has neither host nor tunnel", a->name);
	else if (a->host && a->tunnel)
		rc = at(p, "[account %s] has both host and tunnel; keep one", a->name);
	else if ((a->password_command != NULL) + a->netrc + (a->password != NULL) > 1)
		rc = at(p, "[account %s]: choose one of password_command, netrc and password", a->name);
	p->lineno = saved;
	return rc;
}

static int parse_line(struct cfg_parse *p, char *line)
{
	trim(&line);
	if (!line[0] || line[0] == '#' || line[0] == ';')
		return 0;
	if (line[0] == '[')
		return section_line(p, line);
	return key_line(p, line);
}

static int parse_text(struct cfg_parse *p, char *text, size_t len)
{
	char *line = text, *nl;

	if (memchr(text, '\0', len))
		return pn_error_set(p->err, PN_EPARSE, "%s: contains a NUL byte; not a text file", p->path);
	while (line < text + len) {
		p->lineno++;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (parse_line(p, line) < 0)
			return -1;
		if (!nl)
			break;
		line = nl + 1;
	}
	if (p->cur)
		return check_account(p);
	return 0;
}

static void warn_mode(const char *cmd, const char *path, const struct stat *st)
{
	if (!(st->st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)))
		return;
	fprintf(stderr, "%s: warning: %s is accessible by other users (mode %04o); it says how to get your passwords: chmod 600 '%s'\n",
		cmd, path, (unsigned)(st->st_mode & 07777), path);
}

static int read_file(const char *path, size_t max, struct stat *st,
		     struct pn_buf *b, bool *found, struct pn_error *err)
{
	FILE *f = fopen(path, "re");
	int rc;

	*found = false;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return pn_error_errno(err, errno, "%s", path);
	}
	*found = true;
	if (fstat(fileno(f), st) < 0) {
		fclose(f);
		return pn_error_errno(err, errno, "%s", path);
	}
	pn_buf_init(b, max);
	rc = cli_read_fd(fileno(f), b, err);
	fclose(f);
	if (rc < 0)
		pn_error_prefix(err, "%s", path);
	return rc;
}

int cli_config_load(const char *cmd, const char *path, struct cli_config *cfg,
		    struct pn_error *err)
{
	struct cfg_parse p = { cmd, path, cfg, NULL, 0, { 0 }, err };
	struct pn_buf b = { 0 };
	struct stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = strdup(path);
	if (!cfg->path)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (read_file(path, CONFIG_MAX_BYTES, &st, &b, &cfg->found, err) < 0)
		return -1;
	if (!cfg->found)
		return 0;
	warn_mode(cmd, path, &st);
	rc = parse_text(&p, b.data ? b.data : (char *)"", b.len);
	pn_buf_free(&b);
	return rc;
}

const struct cli_account *cli_config_find(const struct cli_config *cfg,
					  const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		if (strcmp(cfg->acc[i].name, name) == 0)
			return &cfg->acc[i];
	}
	return NULL;
}

static void account_free(struct cli_account *a)
{
	free(a->name);
	free(a->host);
	free(a->user);
	free(a->auth);
	free(a->password_command);
	cli_argv_free(&a->password_argv);
	if (a->password) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	free(a->cafile);
	free(a->capath);
	free(a->client_cert);
	free(a->client_key);
	free(a->tunnel);
	free(a->mailbox);
}

void cli_config_free(struct cli_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n; i++)
		account_free(&cfg->acc[i]);
	free(cfg->acc);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- ~/.netrc ---------------------------------------------------------
 * The tokens of netrc(5): machine NAME / default, login, password,
 * account, macdef (whose body runs to a blank line and is skipped). */

struct netrc_scan {
	char *p;
	const char *host, *user;
	char *login, *password;
	bool in_match, done;
};

static char *next_token(char **p)
{
	char *s = *p, *t;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!*s)
		return NULL;
	t = s;
	while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return t;
}

static void netrc_entry_end(struct netrc_scan *n)
{
	if (n->in_match && n->password &&
	    (!n->user || !n->login || strcmp(n->user, n->login) == 0)) {
		n->done = true;
		return;
	}
	n->login = n->password = NULL;
	n->in_match = false;
}

static void netrc_token(struct netrc_scan *n, const char *t)
{
	char *v;

	if (strcmp(t, "machine") == 0 || strcmp(t, "default") == 0) {
		netrc_entry_end(n);
		if (n->done)
			return;
		v = strcmp(t, "machine") == 0 ? next_token(&n->p) : NULL;
		n->in_match = !v || strcasecmp(v, n->host) == 0;
	} else if (strcmp(t, "login") == 0) {
		n->login = next_token(&n->p);
	} else if (strcmp(t, "password") == 0) {
		n->password = next_token(&n->p);
	} else if (strcmp(t, "account") == 0) {
		next_token(&n->p);
	} else if (strcmp(t, "macdef") == 0) {
		v = strstr(n->p, "\n\n");
		n->p = v ? v + 2 : n->p + strlen(n->p);
	}
}

static int netrc_path(char *buf, size_t sz)
{
	const char *env = getenv("NETRC"), *home = getenv("HOME");
	int n;

	if (env && env[0])
		n = snprintf(buf, sz, "%s", env);
	else if (home && home[0])
		n = snprintf(buf, sz, "%s/.netrc", home);
	else
		return -1;
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

int cli_netrc_lookup(const char *host, const char *user, char **login_out,
		     char **password_out, struct pn_error *err)
{
	struct netrc_scan n = { 0 };
	struct pn_buf b = { 0 };
	struct stat st;
	char path[4096], *t;
	bool found;

	*login_out = *password_out = NULL;
	if (netrc_path(path, sizeof(path)) < 0)
		return 0;
	if (read_file(path, NETRC_MAX_BYTES, &st, &b, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	n.p = b.data ? b.data : (char *)"";
	n.host = host;
	n.user = user;
	while (!n.done && (t = next_token(&n.p)))
		netrc_token(&n, t);
	if (!n.done)
		netrc_entry_end(&n);
	if (n.done) {
		*password_out = strdup(n.password);
		*login_out = n.login ? strdup(n.login) : NULL;
	}
	explicit_bzero(b.data, b.len);
	pn_buf_free(&b);
	if (n.done && !*password_out)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}
