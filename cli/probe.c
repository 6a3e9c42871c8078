/* probe.c - `postern probe TARGET [--json] [--no-login]`: a one-shot,
 * read-only health report of an IMAP server.
 *
 * One connection: what the server offered before STARTTLS (kept by the
 * connection for display only), before login (the before_login hook of
 * cli_session_open), and after login; then NAMESPACE, one timed LIST ""
 * "*" (RETURN (SPECIAL-USE) where LIST-EXTENDED allows it), a timed
 * EXAMINE INBOX (never SELECT: no \Recent is taken, no flag changes) and
 * a timed UID FETCH of the last 100 ENVELOPEs (no body, so no \Seen).
 * Everything is gathered first and printed at the end, as text or as one
 * JSON object, so that a failure half-way still reports what was learned.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../imap/imap.h"

static const char CMD[] = "postern probe";

/* The benchmark FETCH: the newest messages, as a client opening a
 * mailbox would ask for them. */
#define FETCH_LAST 100
/* RFC 9051 has no rule; most CAs warn two weeks ahead too. */
#define CERT_WARN_DAYS 14
#define KEY_WIDTH 18

/* The extensions postern's commands use when a server offers them. */
static const char *const extensions[] = {
    "IDLE",	   "UIDPLUS",
    "MOVE",	   "CONDSTORE",
    "QRESYNC",	   "ESEARCH",
    "SORT",	   "THREAD",
    "LITERAL+",	   "BINARY",
    "SPECIAL-USE", "LIST-STATUS",
    "MULTIAPPEND", "COMPRESS=DEFLATE",
    "APPENDLIMIT", "UTF8=ACCEPT",
    "NAMESPACE",   "ID",
    "ENABLE",	   "QUOTA",
    "ACL",	   "METADATA",
};
#define NEXT (sizeof(extensions) / sizeof(*extensions))

/* RFC 6154 section 2, plus \Important (RFC 8457). */
static const char *const special_uses[] = {
    "\\All",  "\\Archive", "\\Drafts", "\\Flagged",
    "\\Junk", "\\Sent",	   "\\Trash",  "\\Important",
};

struct strv {
	char **v;
	size_t n, cap;
};

struct ns_entry {
	char *prefix;
	char delimiter;
};

struct ns_list {
	struct ns_entry *v;
	size_t n;
};

struct special {
	char *name, *use;
};

struct probe {
	bool oom;
	/* connection, filled by the before_login hook */
	bool connected;
	char *peer;
	const char *mode; /* "implicit", "STARTTLS", "none", "tunnel" */
	double tcp_ms, tls_ms;
	bool have_tls;
	struct imap_tls_info tls;
	long days_left;
	bool have_days;
	char *greeting;
	bool preauth;
	bool had_starttls;
	struct strv caps_plain;	 /* before STARTTLS */
	struct strv caps_before; /* before login */
	struct strv mechs;	 /* its AUTH= mechanisms */
	/* after login */
	bool logged_in;
	struct strv caps_after;
	bool have_ns;
	struct ns_list ns[3]; /* personal, other, shared */
	struct special *su;
	size_t nsu, capsu;
	bool listed;
	double list_ms;
	size_t list_count;
	bool examined;
	double examine_ms;
	uint32_t exists;
	bool fetched_ok;
	double fetch_ms;
	size_t fetched;
	uint32_t first_uid;
	char *list_err, *inbox_err; /* a NO or BAD, as reported */
	struct strv warnings;
	/* the error that ended the run (cli_error_tap), if any */
	struct pn_error err;
	bool failed;
};

/* ---- small helpers ---------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static char *dup_or_flag(struct probe *p, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		p->oom = true;
	return d;
}

static void strv_add(struct probe *p, struct strv *s, const char *str)
{
	char **v;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 32;
		v = realloc(s->v, s->cap * sizeof(*v));
		if (!v) {
			p->oom = true;
			return;
		}
		s->v = v;
	}
	s->v[s->n] = dup_or_flag(p, str);
	if (s->v[s->n])
		s->n++;
}

static bool strv_has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcasecmp(s->v[i], str) == 0)
			return true;
	}
	return false;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void copy_caps(struct probe *p, struct strv *dst,
		      const struct imap_caps *caps)
{
	const char *cap;

	for (size_t i = 0; caps && (cap = imap_caps_get(caps, i)); i++)
		strv_add(p, dst, cap);
}

/* "THREAD" is offered as THREAD=REFERENCES, "QUOTA" may come as
 * QUOTA=RES-STORAGE, APPENDLIMIT as APPENDLIMIT=n. */
static bool offers(const struct strv *caps, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < caps->n; i++) {
		if (strcasecmp(caps->v[i], name) == 0 ||
		    (strncasecmp(caps->v[i], name, n) == 0 &&
		     caps->v[i][n] == '='))
			return true;
	}
	return false;
}

static void add_warning(struct probe *p, const char *kind, const char *fmt,
			va_list ap)
{
	char msg[1024];
	size_t k = strlen(kind);

	memcpy(msg, kind, k);
	vsnprintf(msg + k, sizeof(msg) - k, fmt, ap);
	strv_add(p, &p->warnings, msg);
}

static void warn(struct probe *p, const char *fmt, ...) PN_PRINTF(2, 3);
static void note(struct probe *p, const char *fmt, ...) PN_PRINTF(2, 3);

static void warn(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_warning(p, "warning: ", fmt, ap);
	va_end(ap);
}

static void note(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_warning(p, "note: ", fmt, ap);
	va_end(ap);
}

/* ---- before login (the cli_session_open hook) ------------------------- */

/* "2027-01-01 00:00:00 UTC" (imap_tls_info.not_after) to whole days left,
 * negative once expired. */
static bool days_until(const char *not_after, long *days_out)
{
	struct tm tm = {0};
	time_t t;
	long long diff;

	if (sscanf(not_after, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	diff = (long long)t - (long long)time(NULL);
	/* whole days, rounded down: an hour past expiry is day -1 */
	*days_out =
	    (long)(diff >= 0 ? diff / 86400 : -((-diff + 86399) / 86400));
	return true;
}

static void before_login(void *ctx, struct imap_conn *c)
{
	struct probe *p = ctx;
	const struct imap_tls_info *tls = imap_conn_tls_info(c);
	const struct imap_caps *plain = imap_conn_caps_before_starttls(c);

	p->connected = true;
	p->peer = dup_or_flag(p, imap_conn_peer(c));
	imap_conn_timings(c, &p->tcp_ms, &p->tls_ms);
	p->greeting = dup_or_flag(p, imap_conn_greeting(c));
	p->preauth = imap_conn_state(c) != IMAP_STATE_NOT_AUTHENTICATED;
	p->had_starttls = plain != NULL;
	copy_caps(p, &p->caps_plain, plain);
	copy_caps(p, &p->caps_before, imap_conn_caps(c));
	for (size_t i = 0; i < p->caps_before.n; i++) {
		if (strncasecmp(p->caps_before.v[i], "AUTH=", 5) == 0)
			strv_add(p, &p->mechs, p->caps_before.v[i] + 5);
	}
	if (tls) {
		p->have_tls = true;
		p->tls = *tls;
		p->have_days = days_until(tls->not_after, &p->days_left);
		p->mode = plain ? "STARTTLS" : "implicit";
	} else {
		/* encrypted without TLS: a tunnel (ssh, a local imapd) */
		p->mode = imap_conn_encrypted(c) ? "tunnel" : "none";
	}
}

/* ---- after login ------------------------------------------------------ */

static void copy_ns(struct probe *p, struct ns_list *dst,
		    const struct imap_namespace_entry *v, size_t n)
{
	dst->v = calloc(n ? n : 1, sizeof(*dst->v));
	if (!dst->v) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		dst->v[i].prefix = dup_or_flag(p, v[i].prefix);
		dst->v[i].delimiter = v[i].delimiter;
		dst->n++;
	}
}

static int probe_namespace(struct probe *p, struct imap_conn *c,
			   struct pn_error *err)
{
	struct imap_namespaces ns;

	if (!imap_caps_has(imap_conn_caps(c), "NAMESPACE"))
		return 0;
	if (imap_namespace(c, &ns, err) < 0)
		return -1;
	p->have_ns = true;
	copy_ns(p, &p->ns[0], ns.personal, ns.npersonal);
	copy_ns(p, &p->ns[1], ns.other, ns.nother);
	copy_ns(p, &p->ns[2], ns.shared, ns.nshared);
	return 0;
}

static void add_special(struct probe *p, const char *name, const char *use)
{
	struct special *v;

	if (p->nsu == p->capsu) {
		p->capsu = p->capsu ? 2 * p->capsu : 16;
		v = realloc(p->su, p->capsu * sizeof(*v));
		if (!v) {
			p->oom = true;
			return;
		}
		p->su = v;
	}
	p->su[p->nsu].name = dup_or_flag(p, name);
	p->su[p->nsu].use = dup_or_flag(p, use);
	p->nsu++;
}

static void on_list(void *ctx, const struct imap_list_entry *e,
		    const struct imap_status_info *st)
{
	struct probe *p = ctx;

	(void)st;
	if (!e)
		return;
	p->list_count++;
	for (size_t i = 0; i < e->nattrs; i++) {
		for (size_t k = 0;
		     k < sizeof(special_uses) / sizeof(*special_uses); k++) {
			if (strcasecmp(e->attrs[i], special_uses[k]) == 0)
				add_special(p, e->name, special_uses[k]);
		}
	}
}

static int probe_list(struct probe *p, struct imap_conn *c,
		      struct pn_error *err)
{
	const struct imap_caps *caps = imap_conn_caps(c);
	struct imap_list_opts o = {0};
	double t0;

	/* RETURN (SPECIAL-USE) needs LIST-EXTENDED (RFC 6154 5.1); without
	 * it a SPECIAL-USE server still sends the attributes. */
	if (imap_caps_has(caps, "LIST-EXTENDED") &&
	    imap_caps_has(caps, "SPECIAL-USE"))
		o.ret = "SPECIAL-USE";
	t0 = now_ms();
	if (imap_list(c, "", "*", &o, on_list, p, err) < 0)
		return -1;
	p->list_ms = now_ms() - t0;
	p->listed = true;
	return 0;
}

static void on_first_uid(void *ctx, const struct imap_fetch *f)
{
	struct probe *p = ctx;

	if (f->has & IMAP_FETCH_UID)
		p->first_uid = f->uid;
}

static void on_envelope(void *ctx, const struct imap_fetch *f)
{
	struct probe *p = ctx;

	if (f->has & IMAP_FETCH_ENVELOPE)
		p->fetched++;
}

/* UID FETCH first:* (UID ENVELOPE) of the newest FETCH_LAST messages: the
 * UID of the first of them comes from an untimed FETCH n (UID). */
static int probe_fetch(struct probe *p, struct imap_conn *c,
		       struct pn_error *err)
{
	struct imap_seqset set = {0};
	uint32_t lo = p->exists > FETCH_LAST ? p->exists - FETCH_LAST + 1 : 1;
	double t0;
	int rc;

	if (imap_seqset_add(&set, lo, lo) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = imap_fetch(c, false, &set, "(UID)", NULL, on_first_uid, p, err);
	imap_seqset_clear(&set);
	if (rc == 0 && !p->first_uid)
		rc = pn_error_set(
		    err, PN_EPARSE,
		    "FETCH %" PRIu32 " (UID): no UID in the answer", lo);
	if (rc == 0 && imap_seqset_add(&set, p->first_uid, IMAP_SEQ_STAR) < 0)
		rc = pn_error_set(err, PN_ENOMEM, "out of memory");
	if (rc == 0) {
		t0 = now_ms();
		rc = imap_fetch(c, true, &set, "(UID ENVELOPE)", NULL,
				on_envelope, p, err);
		p->fetch_ms = now_ms() - t0;
	}
	imap_seqset_free(&set);
	if (rc == 0)
		p->fetched_ok = true;
	return rc;
}

static int probe_inbox(struct probe *p, struct imap_conn *c,
		       struct pn_error *err)
{
	struct imap_mailbox_info mi;
	double t0 = now_ms();

	if (imap_select(c, "INBOX", true, NULL, false, &mi, err) < 0)
		return -1;
	p->examine_ms = now_ms() - t0;
	p->examined = true;
	p->exists = mi.exists;
	imap_mailbox_info_free(&mi);
	if (p->exists == 0) {
		p->fetched_ok = true;
		return 0;
	}
	return probe_fetch(p, c, err);
}

/* A NO or BAD is a finding; a dead connection ends the probe. */
static bool still_there(struct imap_conn *c)
{
	struct pn_error e;

	return imap_conn_state(c) != IMAP_STATE_LOGOUT && imap_noop(c, &e) == 0;
}

static int after_login(struct probe *p, struct imap_conn *c)
{
	int (*const steps[])(struct probe *, struct imap_conn *,
			     struct pn_error *) = {
	    probe_namespace,
	    probe_list,
	    probe_inbox,
	};
	struct pn_error err;

	p->logged_in = true;
	copy_caps(p, &p->caps_after, imap_conn_caps(c));
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		pn_error_clear(&err);
		if (steps[i](p, c, &err) == 0)
			continue;
		if (!still_there(c)) {
			p->err = err;
			p->failed = true;
			return -1;
		}
		warn(p, "%s", err.msg);
		if (steps[i] == probe_list)
			p->list_err = dup_or_flag(p, err.msg);
		if (steps[i] == probe_inbox)
			p->inbox_err = dup_or_flag(p, err.msg);
	}
	return 0;
}

/* ---- warnings --------------------------------------------------------- */

/* What may rightly vanish once TLS is up or once logged in (RFC 3501
 * 6.2.1, 7.2.1; RFC 4959; RFC 2221). */
static bool pre_auth_only(const char *cap)
{
	static const char *const names[] = {
	    "STARTTLS",
	    "LOGINDISABLED",
	    "SASL-IR",
	    "LOGIN-REFERRALS",
	};

	if (strncasecmp(cap, "AUTH=", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (strcasecmp(cap, names[i]) == 0)
			return true;
	}
	return false;
}

/* The capabilities in a but not in b that should not have gone, as one
 * space-separated string in buf; false when there are none. */
static bool lost(const struct strv *a, const struct strv *b, char *buf,
		 size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n; i++) {
		if (pre_auth_only(a->v[i]) || strv_has(b, a->v[i]))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
					"%s%s", len ? " " : "", a->v[i]);
	}
	return buf[0] != '\0';
}

static void warn_tls(struct probe *p)
{
	if (!p->have_tls)
		return;
	if (!p->tls.verified)
		warn(p, "the certificate was not verified (--insecure)");
	if (!p->tls.host_match)
		warn(p, "the certificate does not name the host dialled");
	if (p->have_days && p->days_left < 0)
		warn(p, "the certificate expired %s", p->tls.not_after);
	else if (p->have_days && p->days_left < CERT_WARN_DAYS)
		warn(p, "the certificate expires in %ld days (%s)",
		     p->days_left, p->tls.not_after);
	if (strcmp(p->tls.version, "TLSv1.2") == 0)
		note(p, "TLS 1.2 negotiated, not 1.3");
}

/* A password may cross the network in clear: on a plaintext connection,
 * or before STARTTLS (what a stripping attacker would be offered). */
static void warn_plaintext(struct probe *p, const struct strv *caps,
			   const char *when)
{
	if (!strv_has(caps, "LOGINDISABLED"))
		warn(p,
		     "%s the server accepts LOGIN without encryption (no "
		     "LOGINDISABLED)",
		     when);
	if (strv_has(caps, "AUTH=PLAIN") || strv_has(caps, "AUTH=LOGIN"))
		warn(p,
		     "%s the server offers AUTH=PLAIN/LOGIN without encryption",
		     when);
}

static void warn_caps(struct probe *p)
{
	char buf[1024];

	if (p->had_starttls && p->caps_plain.n)
		warn_plaintext(p, &p->caps_plain, "before STARTTLS");
	if (strcmp(p->mode, "none") == 0 && !p->preauth) {
		warn(p, "the connection is not encrypted");
		warn_plaintext(p, &p->caps_before, "on this connection");
	}
	if (p->had_starttls &&
	    lost(&p->caps_plain, &p->caps_before, buf, sizeof(buf)))
		warn(p,
		     "after STARTTLS the server no longer offers %s: was the "
		     "plaintext answer tampered with?",
		     buf);
	if (p->logged_in && !p->preauth &&
	    lost(&p->caps_before, &p->caps_after, buf, sizeof(buf)))
		warn(p,
		     "after login the server no longer offers %s (offered "
		     "before): a proxy in front of a different backend?",
		     buf);
	if (p->logged_in && strv_has(&p->caps_after, "STARTTLS") && p->have_tls)
		note(p, "STARTTLS is still offered inside TLS");
}

/* Missing extensions and what postern does without them. */
static void note_missing(struct probe *p)
{
	static const struct {
		const char *cap, *why;
	} notes[] = {
	    {"IDLE", "new mail is seen only by polling"},
	    {"UIDPLUS",
	     "the UIDs of appended and copied messages are not reported"},
	    {"MOVE", "moves are COPY, STORE \\Deleted and EXPUNGE"},
	    {"CONDSTORE", "flag changes are found by fetching every flag"},
	    {"QRESYNC", "reopening a mailbox refetches its UIDs and flags"},
	    {"SPECIAL-USE", "Sent, Drafts, Trash ... are found by name only"},
	    {"LIST-STATUS", "counters cost one STATUS per mailbox"},
	    {"ESEARCH", "searches return every number, not ranges"},
	};

	if (!p->logged_in)
		return;
	for (size_t i = 0; i < sizeof(notes) / sizeof(*notes); i++) {
		if (!offers(&p->caps_after, notes[i].cap))
			note(p, "no %s: %s", notes[i].cap, notes[i].why);
	}
	if (!offers(&p->caps_after, "LITERAL+") &&
	    !offers(&p->caps_after, "LITERAL-"))
		note(p, "no LITERAL+ or LITERAL-: every literal costs a round "
			"trip");
}

static void find_warnings(struct probe *p)
{
	if (!p->connected)
		return;
	warn_tls(p);
	if (p->preauth && strcmp(p->mode, "none") == 0)
		warn(p, "PREAUTH on an unencrypted connection");
	warn_caps(p);
	note_missing(p);
}

/* ---- human output ----------------------------------------------------- */

static void section(const char *title, bool *first)
{
	if (!*first)
		putchar('\n');
	*first = false;
	puts(title);
}

static void kv(bool tty, const char *key, const char *val)
{
	int w = KEY_WIDTH - (int)strlen(key) - 1;

	printf("  %s:%*s ", key, w > 0 ? w : 0, "");
	cli_puts(stdout, tty, val);
	putchar('\n');
}

static void kvf(bool tty, const char *key, const char *fmt, ...)
    PN_PRINTF(3, 4);

static void kvf(bool tty, const char *key, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kv(tty, key, buf);
}

/* A word list wrapped under its value column. */
static void kv_words(bool tty, const char *key, const struct strv *s,
		     const char *none)
{
	size_t col = 3 + KEY_WIDTH, pos = col;

	if (!s->n) {
		kv(tty, key, none);
		return;
	}
	printf("  %s:%*s", key, (int)(KEY_WIDTH - strlen(key) - 1), "");
	for (size_t i = 0; i < s->n; i++) {
		if (pos > col && pos + 1 + strlen(s->v[i]) > 79) {
			printf("\n%*s", (int)col - 1, "");
			pos = col;
		}
		putchar(' ');
		cli_puts(stdout, tty, s->v[i]);
		pos += 1 + strlen(s->v[i]);
	}
	putchar('\n');
}

static void print_connection(const struct probe *p, bool tty)
{
	const char *how = strcmp(p->mode, "implicit") == 0 ? "implicit TLS"
			  : strcmp(p->mode, "none") == 0   ? "none (plaintext)"
							   : p->mode;
	bool tunnel = strcmp(p->mode, "tunnel") == 0;

	kv(tty, "peer", p->peer);
	kv(tty, "mode", how);
	kvf(tty, tunnel ? "command start" : "TCP connect", "%.1f ms",
	    p->tcp_ms);
	if (p->have_tls)
		kvf(tty, "TLS handshake", "%.1f ms", p->tls_ms);
}

static void print_tls(const struct probe *p, bool tty)
{
	char left[64] = "";

	if (p->have_days && p->days_left < 0)
		snprintf(left, sizeof(left), " (EXPIRED)");
	else if (p->have_days)
		snprintf(left, sizeof(left), " (%ld days left%s)", p->days_left,
			 p->days_left < CERT_WARN_DAYS ? ", renew now" : "");
	kv(tty, "version", p->tls.version);
	kv(tty, "cipher", p->tls.cipher);
	kv(tty, "subject", p->tls.subject);
	kv(tty, "issuer", p->tls.issuer);
	kvf(tty, "not after", "%s%s", p->tls.not_after, left);
	kv(tty, "verified", p->tls.verified ? "yes" : "no (--insecure)");
	kv(tty, "host match", p->tls.host_match ? "yes" : "no");
}

static void print_auth(const struct probe *p, bool tty)
{
	kv_words(tty, "offered", &p->mechs,
		 p->preauth ? "none (PREAUTH)" : "none");
	if (!p->preauth)
		kv(tty, "LOGIN command",
		   strv_has(&p->caps_before, "LOGINDISABLED")
		       ? "disabled (LOGINDISABLED)"
		       : "allowed");
}

static void print_ns(const struct probe *p, bool tty)
{
	static const char *const kinds[] = {"personal", "other", "shared"};
	char buf[1024], one[300];
	size_t len;

	for (size_t k = 0; k < 3; k++) {
		buf[0] = '\0';
		for (size_t i = 0; i < p->ns[k].n; i++) {
			const struct ns_entry *e = &p->ns[k].v[i];

			if (e->delimiter)
				snprintf(one, sizeof(one),
					 "\"%s\" (delimiter \"%c\")", e->prefix,
					 e->delimiter);
			else
				snprintf(one, sizeof(one),
					 "\"%s\" (no delimiter)", e->prefix);
			len = strlen(buf);
			snprintf(buf + len, sizeof(buf) - len, "%s%s",
				 len ? ", " : "", one);
		}
		kv(tty, kinds[k], buf[0] ? buf : "none");
	}
}

static void print_timings(const struct probe *p, bool tty)
{
	if (p->listed)
		kvf(tty, "LIST \"\" \"*\"", "%.1f ms, %zu mailboxes",
		    p->list_ms, p->list_count);
	else
		kvf(tty, "LIST \"\" \"*\"", "failed: %s",
		    p->list_err ? p->list_err : "?");
	if (p->examined)
		kvf(tty, "EXAMINE INBOX", "%.1f ms, %" PRIu32 " messages",
		    p->examine_ms, p->exists);
	else
		kvf(tty, "EXAMINE INBOX", "failed: %s",
		    p->inbox_err ? p->inbox_err : "?");
	if (p->examined && p->exists == 0)
		kv(tty, "FETCH ENVELOPE", "skipped (INBOX is empty)");
	else if (p->examined && p->fetched_ok)
		kvf(tty, "FETCH ENVELOPE",
		    "%.1f ms, %zu messages (UID FETCH of the last %d)",
		    p->fetch_ms, p->fetched, FETCH_LAST);
	else if (p->examined)
		kvf(tty, "FETCH ENVELOPE", "failed: %s",
		    p->inbox_err ? p->inbox_err : "?");
}

static const struct strv *ext_caps(const struct probe *p)
{
	return p->logged_in ? &p->caps_after : &p->caps_before;
}

static void print_after_login(const struct probe *p, bool tty, bool *first)
{
	section("Namespace", first);
	if (p->have_ns)
		print_ns(p, tty);
	else
		kv(tty, "NAMESPACE", "not offered");
	section("Special-use folders", first);
	for (size_t i = 0; i < p->nsu; i++)
		kv(tty, p->su[i].use, p->su[i].name);
	if (!p->nsu)
		kv(tty, "none",
		   p->listed ? "no mailbox has a special use" : "LIST failed");
	section("Timings", first);
	print_timings(p, tty);
}

static void print_human(const struct probe *p)
{
	bool tty = isatty(STDOUT_FILENO), first = true;

	section("Connection", &first);
	print_connection(p, tty);
	if (p->have_tls) {
		section("TLS", &first);
		print_tls(p, tty);
	}
	section("Greeting", &first);
	kv(tty, "text", p->greeting);
	kv(tty, "PREAUTH",
	   p->preauth ? "yes (logged in by the greeting)" : "no");
	section("Capabilities", &first);
	if (p->had_starttls)
		kv_words(tty, "before STARTTLS", &p->caps_plain, "none");
	kv_words(tty, p->preauth ? "at greeting" : "before login",
		 &p->caps_before, "none");
	if (p->logged_in && !p->preauth)
		kv_words(tty, "after login", &p->caps_after, "none");
	section("Auth mechanisms", &first);
	print_auth(p, tty);
	if (p->logged_in)
		print_after_login(p, tty, &first);
	section(p->logged_in ? "Extensions postern would use"
			     : "Extensions postern would use (before login)",
		&first);
	for (size_t i = 0; i < NEXT; i++)
		kv(tty, extensions[i],
		   offers(ext_caps(p), extensions[i]) ? "yes" : "no");
	section("Warnings", &first);
	for (size_t i = 0; i < p->warnings.n; i++) {
		fputs("  ", stdout);
		cli_puts(stdout, tty, p->warnings.v[i]);
		putchar('\n');
	}
	if (!p->warnings.n)
		puts("  none");
}

/* ---- JSON output ------------------------------------------------------ */

static void json_strv(struct cli_json *j, const char *key, const struct strv *s,
		      bool present)
{
	cli_json_key(j, key);
	if (!present) {
		cli_json_null(j);
		return;
	}
	cli_json_arr_begin(j);
	for (size_t i = 0; i < s->n; i++)
		cli_json_str(j, s->v[i]);
	cli_json_arr_end(j);
}

static void json_tls(struct cli_json *j, const struct probe *p)
{
	cli_json_key(j, "tls");
	if (!p->have_tls) {
		cli_json_null(j);
		return;
	}
	cli_json_obj_begin(j);
	cli_json_key(j, "version");
	cli_json_str(j, p->tls.version);
	cli_json_key(j, "cipher");
	cli_json_str(j, p->tls.cipher);
	cli_json_key(j, "subject");
	cli_json_str(j, p->tls.subject);
	cli_json_key(j, "issuer");
	cli_json_str(j, p->tls.issuer);
	cli_json_key(j, "not_after");
	cli_json_str(j, p->tls.not_after);
	cli_json_key(j, "days_left");
	if (p->have_days)
		cli_json_double(j, (double)p->days_left, 0);
	else
		cli_json_null(j);
	cli_json_key(j, "verified");
	cli_json_bool(j, p->tls.verified);
	cli_json_key(j, "host_match");
	cli_json_bool(j, p->tls.host_match);
	cli_json_obj_end(j);
}

static void json_ns(struct cli_json *j, const struct probe *p)
{
	static const char *const kinds[] = {"personal", "other", "shared"};
	char d[2] = {0, 0};

	cli_json_key(j, "namespace");
	if (!p->have_ns) {
		cli_json_null(j);
		return;
	}
	cli_json_obj_begin(j);
	for (size_t k = 0; k < 3; k++) {
		cli_json_key(j, kinds[k]);
		cli_json_arr_begin(j);
		for (size_t i = 0; i < p->ns[k].n; i++) {
			d[0] = p->ns[k].v[i].delimiter;
			cli_json_obj_begin(j);
			cli_json_key(j, "prefix");
			cli_json_str(j, p->ns[k].v[i].prefix);
			cli_json_key(j, "delimiter");
			cli_json_str(j, d[0] ? d : NULL);
			cli_json_obj_end(j);
		}
		cli_json_arr_end(j);
	}
	cli_json_obj_end(j);
}

static void json_special(struct cli_json *j, const struct probe *p)
{
	cli_json_key(j, "special_use");
	cli_json_arr_begin(j);
	for (size_t i = 0; i < p->nsu; i++) {
		cli_json_obj_begin(j);
		cli_json_key(j, "name");
		cli_json_str(j, p->su[i].name);
		cli_json_key(j, "use");
		cli_json_str(j, p->su[i].use);
		cli_json_obj_end(j);
	}
	cli_json_arr_end(j);
}

static void json_ms(struct cli_json *j, const char *key, bool have, double v)
{
	cli_json_key(j, key);
	if (have)
		cli_json_double(j, v, 3);
	else
		cli_json_null(j);
}

static void json_timings(struct cli_json *j, const struct probe *p)
{
	cli_json_key(j, "timings");
	if (!p->logged_in) {
		cli_json_null(j);
		return;
	}
	cli_json_obj_begin(j);
	json_ms(j, "list_ms", p->listed, p->list_ms);
	cli_json_key(j, "list_count");
	cli_json_u64(j, p->list_count);
	json_ms(j, "examine_ms", p->examined, p->examine_ms);
	cli_json_key(j, "exists");
	if (p->examined)
		cli_json_u64(j, p->exists);
	else
		cli_json_null(j);
	json_ms(j, "fetch_ms", p->examined && p->fetched_ok && p->exists,
		p->fetch_ms);
	cli_json_key(j, "fetched");
	cli_json_u64(j, p->fetched);
	cli_json_obj_end(j);
}

static void json_connection(struct cli_json *j, const struct probe *p)
{
	cli_json_key(j, "peer");
	cli_json_str(j, p->peer);
	cli_json_key(j, "mode");
	cli_json_str(j, p->mode);
	json_ms(j, "connect_ms", p->connected, p->tcp_ms);
	json_ms(j, "tls_ms", p->have_tls, p->tls_ms);
	json_tls(j, p);
	cli_json_key(j, "greeting");
	cli_json_str(j, p->greeting);
	cli_json_key(j, "preauth");
	cli_json_bool(j, p->preauth);
}

/* null when nothing was learned: false would claim the server lacks it */
static void json_extensions(struct cli_json *j, const struct probe *p)
{
	cli_json_key(j, "extensions");
	if (!p->connected) {
		cli_json_null(j);
		return;
	}
	cli_json_obj_begin(j);
	for (size_t i = 0; i < NEXT; i++) {
		cli_json_key(j, extensions[i]);
		cli_json_bool(j, offers(ext_caps(p), extensions[i]));
	}
	cli_json_obj_end(j);
}

static void print_json(const struct probe *p)
{
	struct cli_json j;

	cli_json_init(&j, stdout);
	cli_json_obj_begin(&j);
	json_connection(&j, p);
	json_strv(&j, "capabilities_before_starttls", &p->caps_plain,
		  p->had_starttls);
	json_strv(&j, "capabilities_before", &p->caps_before, p->connected);
	json_strv(&j, "capabilities", &p->caps_after, p->logged_in);
	json_strv(&j, "auth_mechanisms", &p->mechs, p->connected);
	json_ns(&j, p);
	json_special(&j, p);
	json_timings(&j, p);
	json_extensions(&j, p);
	json_strv(&j, "warnings", &p->warnings, true);
	cli_json_key(&j, "error");
	cli_json_str(&j, p->failed ? p->err.msg : NULL);
	cli_json_obj_end(&j);
	cli_json_newline(&j);
}

/* ---- the command ------------------------------------------------------ */

static void probe_free(struct probe *p)
{
	free(p->peer);
	free(p->greeting);
	free(p->list_err);
	free(p->inbox_err);
	strv_free(&p->caps_plain);
	strv_free(&p->caps_before);
	strv_free(&p->caps_after);
	strv_free(&p->mechs);
	strv_free(&p->warnings);
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < p->ns[k].n; i++)
			free(p->ns[k].v[i].prefix);
		free(p->ns[k].v);
	}
	for (size_t i = 0; i < p->nsu; i++) {
		free(p->su[i].name);
		free(p->su[i].use);
	}
	free(p->su);
}

static int run(struct cli_conn_opts *o, const char *target, bool json,
	       bool no_login)
{
	struct cli_session s;
	struct probe p;
	int rc;

	memset(&p, 0, sizeof(p));
	pn_error_clear(&p.err);
	o->before_login = before_login;
	o->before_login_ctx = &p;
	o->no_login = no_login;
	cli_error_tap(&p.err);
	rc = cli_session_open(CMD, o, target, &s);
	cli_error_tap(NULL);
	if (rc == CLI_USAGE) {
		probe_free(&p);
		return rc;
	}
	p.failed = rc != CLI_OK;
	if (rc == CLI_OK && !no_login && after_login(&p, s.conn) < 0)
		cli_error(CMD, "%s", p.err.msg);
	if (rc == CLI_OK)
		cli_session_close(&s);
	find_warnings(&p);
	if (p.oom) {
		cli_error(CMD, "out of memory");
		probe_free(&p);
		return CLI_FAIL;
	}
	if (json)
		print_json(&p);
	else if (p.connected)
		print_human(&p);
	rc = p.failed ? CLI_FAIL : CLI_OK;
	probe_free(&p);
	return cli_finish_stdout(CMD, rc);
}

int cli_probe(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"no-login", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    CLI_CONN_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_conn_opts o = {0};
	bool json = false, no_login = false;
	const char *target;
	char *path;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jnh", opts, NULL)) != -1) {
		if ((r = cli_conn_opt(CMD, &o, c, optarg)) != 0) {
			if (r != 1)
				return r;
			continue;
		}
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			no_login = true;
			break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if ((r = cli_one_target(CMD, &o, argc, argv, false, &target)) != CLI_OK)
		return r;
	if (cli_target_maildir(target, &path)) {
		cli_error(
		    CMD,
		    "'%s' is a Maildir: probe checks IMAP servers (name an "
		    "account, an imap:// or imaps:// URL, or --tunnel CMD)",
		    target);
		free(path);
		return CLI_USAGE;
	}
	free(path);
	return run(&o, target, json, no_login);
}
