/* harness.c - run tests/integration/dovecot.py and read its JSON.
 *
 * The JSON is flat apart from "users" and the argv list, and we own its
 * producer, so a small key lookup is enough: no JSON library for tests. */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *script(void)
{
	static const char *const paths[] = {
		"tests/integration/dovecot.py",
		"../tests/integration/dovecot.py",
		"../../tests/integration/dovecot.py",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

__attribute__((format(printf, 2, 3)))
static void why(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
	h->ok = false;
}

/* The JSON string value after "key": (first occurrence), unescaped. */
static bool json_str(const char *json, const char *key, char *out, size_t n)
{
	char pat[128];
	const char *p;
	size_t k = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == '\n')
		p++;
	if (*p++ != '"')
		return false;
	for (; *p && *p != '"' && k + 1 < n; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			out[k++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
	return *p == '"';
}

static long json_num(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

char *harness_slurp(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	fclose(f);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

static int parse_info(struct harness *h, const char *json)
{
	h->imap_port = (uint16_t)json_num(json, "imap_port");
	h->imaps_port = (uint16_t)json_num(json, "imaps_port");
	h->pid = (int)json_num(json, "pid");
	if (!json_str(json, "host", h->host, sizeof(h->host)) ||
	    !json_str(json, "alice", h->password, sizeof(h->password)) ||
	    !json_str(json, "bob", h->password2, sizeof(h->password2)) ||
	    !json_str(json, "ca", h->ca, sizeof(h->ca)) ||
	    !json_str(json, "mail_root", h->mail_root, sizeof(h->mail_root)) ||
	    !json_str(json, "preauth_cmd", h->preauth_cmd,
		      sizeof(h->preauth_cmd)) ||
	    h->imap_port == 0 || h->imaps_port == 0) {
		why(h, "dovecot.py printed JSON without host/ports/users/ca/"
		    "mail_root/preauth_cmd: %.300s", json);
		return -1;
	}
	json_str(json, "self_signed_cert", h->self_signed_cert,
		 sizeof(h->self_signed_cert));
	json_str(json, "self_signed_key", h->self_signed_key,
		 sizeof(h->self_signed_key));
	json_str(json, "wrong_host_key", h->wrong_host_key,
		 sizeof(h->wrong_host_key));
	json_str(json, "wrong_host_cert", h->wrong_host_cert,
		 sizeof(h->wrong_host_cert));
	json_str(json, "server_cert", h->server_cert, sizeof(h->server_cert));
	json_str(json, "server_key", h->server_key, sizeof(h->server_key));
	json_str(json, "config", h->config, sizeof(h->config));
	json_str(json, "dir", h->dir, sizeof(h->dir));
	snprintf(h->user, sizeof(h->user), "alice");
	snprintf(h->user2, sizeof(h->user2), "bob");
	h->ok = true;
	return 0;
}

static int attach(struct harness *h, const char *info)
{
	char *json = harness_slurp(info, NULL);
	int rc;

	if (!json) {
		why(h, "POSTERN_TEST_DOVECOT=%s: %s", info, strerror(errno));
		return -1;
	}
	rc = parse_info(h, json);
	free(json);
	return rc;
}

int harness_start(struct harness *h)
{
	const char *env = getenv("POSTERN_TEST_DOVECOT"), *py = script();
	char tmpl[] = "/tmp/postern-dovecot-XXXXXX", cmd[2048], path[700];
	char *json;
	int st;

	memset(h, 0, sizeof(*h));
	if (env && *env)
		return attach(h, env);
	if (!py) {
		why(h, "tests/integration/dovecot.py not found (run from the "
		    "repository root)");
		return -1;
	}
	if (!mkdtemp(tmpl)) {
		why(h, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(h->dir, sizeof(h->dir), "%s", tmpl);
	snprintf(cmd, sizeof(cmd), "python3 '%s' start '%s' >'%s/start.out' "
		 "2>&1", py, h->dir, h->dir);
	st = system(cmd);
	h->started = true;
	snprintf(path, sizeof(path), "%s/start.out", h->dir);
	if (st != 0) {
		json = harness_slurp(path, NULL);
		why(h, "dovecot.py start failed (status %d): %.800s", st,
		    json ? json : "(no output)");
		free(json);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/info.json", h->dir);
	return attach(h, path);
}

void harness_stop(struct harness *h)
{
	const char *py = script();
	char cmd[2048];

	if (!h->started || !h->dir[0])
		return;
	if (py) {
		snprintf(cmd, sizeof(cmd), "python3 '%s' stop '%s' >/dev/null "
			 "2>&1", py, h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# harness: stopping Dovecot in %s "
				"failed\n", h->dir);
	}
	if (!getenv("POSTERN_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# harness: rm -rf %s failed\n", h->dir);
	}
	h->started = false;
}
