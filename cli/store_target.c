/* store_target.c - from TARGET to a struct store: a Maildir, or an IMAP
 * session through target.c.
 *
 * A TARGET is a Maildir when it says so ("maildir:PATH"), when it looks
 * like a path (it has a '/', or starts with '.' or '~'), or when it is a
 * directory holding cur/ (a bare "Mail" in the current directory); an
 * account name wins only when no such directory exists, so an account
 * called "work" and a Maildir called "./work" are both reachable.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/imap.h"
#include "../store/store.h"

static bool is_dir(const char *path, const char *sub)
{
	char buf[4096];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s%s%s", path, sub ? "/" : "",
		 sub ? sub : "");
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ~ and ~/... as the shell would have expanded them (a TARGET written
 * into a config or quoted in a script arrives unexpanded). */
static char *expand_home(const char *p)
{
	const char *home = getenv("HOME");
	char *out;

	if (p[0] != '~' || (p[1] && p[1] != '/') || !home)
		return strdup(p);
	if (asprintf(&out, "%s%s", home, p + 1) < 0)
		return NULL;
	return out;
}

bool cli_target_maildir(const char *target, char **path_out)
{
	const char *p = target;

	*path_out = NULL;
	if (!target)
		return false;
	if (strncmp(target, "maildir:", 8) == 0) {
		p = target + 8;
		/* maildir:///abs/path, as a URL would be written */
		if (strncmp(p, "//", 2) == 0)
			p += 2;
	} else if (strstr(target, "://")) {
		/* a URL, ours or not: target.c says which are targets */
		return false;
	} else if (!strchr(target, '/') && target[0] != '.' &&
		   target[0] != '~' && !is_dir(target, "cur")) {
		return false;
	}
	*path_out = expand_home(p[0] ? p : ".");
	return *path_out != NULL;
}

int cli_store_open(const char *cmd, const struct cli_conn_opts *o,
		   const char *target, bool read_only, struct cli_store *cs)
{
	struct pn_error err;
	char *path;
	int rc;

	memset(cs, 0, sizeof(*cs));
	cs->session.trace_fd = -1;
	if (!o->tunnel && cli_target_maildir(target, &path)) {
		cs->maildir = true;
		/* Connection options mean nothing to a directory: say so
		 * rather than ignore them. */
		if (o->tls || o->cafile || o->capath || o->insecure ||
		    o->allow_plaintext || o->user || o->auth || o->netrc ||
		    o->timeout_s) {
			free(path);
			return cli_usage(cmd, "%s is a Maildir; connection options do not apply",
					 target);
		}
		if (!read_only && !is_dir(path, NULL))
			fprintf(stderr, "%s: creating the Maildir %s\n", cmd,
				path);
		rc = store_open_maildir(path, read_only, &cs->store, &err);
		free(path);
		if (rc < 0) {
			cli_error(cmd, "%s", err.msg);
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	rc = cli_session_open(cmd, o, target, &cs->session);
	if (rc != CLI_OK)
		return rc;
	if (store_open_imap(cs->session.conn, read_only, &cs->store, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		cli_session_close(&cs->session);
		return CLI_FAIL;
	}
	/* The store owns the connection now. */
	cs->session.conn = NULL;
	return CLI_OK;
}

void cli_store_close(struct cli_store *cs)
{
	store_free(&cs->store);
	cli_session_close(&cs->session);
}
