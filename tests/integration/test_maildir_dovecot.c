/* Interop of maildir/ with a real Dovecot, both ways, through IMAP as
 * Python's imaplib speaks it (tests/integration/dovecot.py starts the
 * server; a small imaplib script below is the client):
 *
 * - Dovecot writes (APPEND with flags, keywords and dates, STORE, EXPUNGE,
 *   CREATE, SUBSCRIBE); postern, read-only and then read-write, sees the
 *   same UIDVALIDITY, UIDNEXT, UIDs, flags, keywords, dates and bytes,
 *   and Dovecot still sees the same afterwards.
 * - postern writes (create, append, flags and keywords, expunge, copy,
 *   subscribe); Dovecot over IMAP shows the same, and its next APPEND
 *   takes the UID postern said was next.
 * - a uidlist that names one file twice (as Dovecot leaves it after
 *   renumbering a message) gives both the same UIDs.
 *
 * Dovecot runs mail access as the owner of the Maildir (nobody when the
 * tests run as root), so postern's writes happen under that effective
 * uid, as a user's postern would.  A test that cannot run fails, saying
 * why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../maildir/maildir.h"
#include "../../lib/buf.h"
#include "harness.h"

static struct harness H;
static char script_path[64];

/* The IMAP side.  Output lines:
 *	STATUS <uidvalidity> <uidnext>
 *	MSG <uid> <rfc822.size> <internaldate as epoch> <hex body> <flags...>
 *	APPENDUID <uidvalidity> <uid>
 *	LSUB <name> */
static const char imap_script[] =
	"import imaplib, re, sys, time, binascii\n"
	"host, port, user, pw, cmd = sys.argv[1:6]\n"
	"args = sys.argv[6:]\n"
	"M = imaplib.IMAP4(host, int(port))\n"
	"M.login(user, pw)\n"
	"def q(n): return '\"' + n + '\"'\n"
	"def ok(r):\n"
	"    if r[0] != 'OK': sys.exit('IMAP: %r' % (r,))\n"
	"    return r[1]\n"
	"if cmd == 'write':\n"
	"    B = lambda s: s.replace(b'\\n', b'\\r\\n')\n"
	"    T = imaplib.Time2Internaldate\n"
	"    ok(M.append('INBOX', r'(\\Seen $Forwarded foo)', T(1700000000),\n"
	"               B(b'From: a@b\\nSubject: one\\n\\nbody one\\n')))\n"
	"    ok(M.append('INBOX', None, T(1700000050), B(b'Subject: two\\n\\n2\\n')))\n"
	"    ok(M.append('INBOX', r'(\\Flagged \\Answered \\Draft bar)',\n"
	"               T(1700000100), B(b'Subject: three\\n\\nthree\\n')))\n"
	"    ok(M.append('INBOX', None, None, b'Subject: four\\r\\n\\r\\nfour\\r\\n'))\n"
	"    ok(M.select('INBOX'))\n"
	"    ok(M.uid('STORE', '2', '+FLAGS', r'(\\Deleted)'))\n"
	"    ok(M.expunge())\n"
	"    ok(M.uid('STORE', '3', '+FLAGS', '(baz)'))\n"
	"    ok(M.uid('STORE', '3', '-FLAGS', '(bar)'))\n"
	"    ok(M.create(q('T&APY-pfe/Sub')))\n"
	"    ok(M.subscribe(q('T&APY-pfe/Sub')))\n"
	"    ok(M.close())\n"
	"    cmd, args = 'fetch', ['INBOX']\n"
	"if cmd == 'append':\n"
	"    d = ok(M.append(q(args[0]), args[1] or None,\n"
	"                    imaplib.Time2Internaldate(int(args[2])),\n"
	"                    binascii.unhexlify(args[3])))\n"
	"    m = re.search(rb'APPENDUID (\\d+) (\\d+)', d[0])\n"
	"    print('APPENDUID', m.group(1).decode(), m.group(2).decode())\n"
	"if cmd == 'lsub':\n"
	"    for l in ok(M.lsub()):\n"
	"        print('LSUB', l.decode().rsplit(' ', 1)[1].strip('\"'))\n"
	"if cmd == 'fetch':\n"
	"    ok(M.select(q(args[0]), readonly=True))\n"
	"    st = ok(M.status(q(args[0]), '(UIDNEXT UIDVALIDITY)'))[0].decode()\n"
	"    print('STATUS', re.search(r'UIDVALIDITY (\\d+)', st).group(1),\n"
	"          re.search(r'UIDNEXT (\\d+)', st).group(1))\n"
	"    d = ok(M.uid('FETCH', '1:*',\n"
	"                 '(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])'))\n"
	"    for it in d:\n"
	"        if not isinstance(it, tuple): continue\n"
	"        meta = it[0].decode()\n"
	"        fl = re.search(r'FLAGS \\(([^)]*)\\)', meta).group(1).split()\n"
	"        fl = sorted(f for f in fl if f != '\\\\Recent')\n"
	"        t = int(time.mktime(imaplib.Internaldate2tuple(it[0])))\n"
	"        print('MSG', re.search(r'UID (\\d+)', meta).group(1),\n"
	"              re.search(r'RFC822.SIZE (\\d+)', meta).group(1), t,\n"
	"              binascii.hexlify(it[1]).decode() or '-', *fl)\n"
	"M.logout()\n";

static int group_setup(void **state)
{
	int fd;

	(void)state;
	if (harness_start(&H) < 0) {
		fprintf(stderr, "# Dovecot harness: %s\n", H.why);
		return 0;	/* each test then fails saying why */
	}
	strcpy(script_path, "/tmp/pn-imap-XXXXXX");
	fd = mkstemp(script_path);
	if (fd < 0 || write(fd, imap_script, sizeof(imap_script) - 1) !=
			      (ssize_t)(sizeof(imap_script) - 1)) {
		snprintf(H.why, sizeof(H.why), "cannot write the IMAP script");
		H.ok = false;
	}
	if (fd >= 0)
		close(fd);
	/* readable by the mail user too */
	chmod(script_path, 0644);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (script_path[0])
		unlink(script_path);
	harness_stop(&H);
	return 0;
}

static void need_dovecot(void)
{
	if (!H.ok)
		fail_msg("cannot run: %s", H.why[0] ? H.why : "no Dovecot");
}

/* Run the IMAP script; its stdout, malloc'd. */
static char *imap(const char *cmd, const char *arg1, const char *arg2,
		  const char *arg3, const char *arg4)
{
	struct pn_buf out;
	char line[1 << 16], *argv;
	FILE *p;

	pn_buf_init(&out, 0);
	assert_true(asprintf(&argv, "python3 %s %s %u %s '%s' %s '%s' '%s' "
				    "'%s' '%s'", script_path, H.host,
			     H.imap_port, H.user, H.password, cmd,
			     arg1 ? arg1 : "", arg2 ? arg2 : "",
			     arg3 ? arg3 : "", arg4 ? arg4 : "") > 0);
	p = popen(argv, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		assert_int_equal(pn_buf_adds(&out, line), 0);
	if (pclose(p) != 0)
		fail_msg("%s: failed; output: %s", argv, pn_buf_cstr(&out));
	free(argv);
	return pn_buf_take(&out, NULL);
}

/* ---- running as the mail user ------------------------------------------- */

static void as_mail_user(bool on)
{
	struct stat st;

	if (getuid() != 0)
		return;
	if (!on) {
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(setegid(0), 0);
		return;
	}
	assert_int_equal(stat(H.mail_root, &st), 0);
	assert_int_equal(setegid(st.st_gid), 0);
	assert_int_equal(seteuid(st.st_uid), 0);
}

static char *user_root(void)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", H.mail_root, H.user) > 0);
	return p;
}

/* ---- comparing ---------------------------------------------------------- */

static const struct {
	unsigned flag;
	const char *imap;
} flag_names[] = {
	{ MD_FLAG_REPLIED, "\\Answered" }, { MD_FLAG_TRASHED, "\\Deleted" },
	{ MD_FLAG_DRAFT, "\\Draft" },      { MD_FLAG_FLAGGED, "\\Flagged" },
	{ MD_FLAG_SEEN, "\\Seen" },
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "flag flag ..." as Python's sorted() orders them (bytes). */
static void flags_text(const struct md_message *m, char *out, size_t outsz)
{
	const char *v[64];
	size_t n = 0, len = 0;

	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (m->flags & flag_names[i].flag)
			v[n++] = flag_names[i].imap;
	for (size_t i = 0; i < m->nkeywords && n < 64; i++)
		v[n++] = m->keywords[i];
	qsort(v, n, sizeof(v[0]), str_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
					i ? " " : "", v[i]);
}

/* The file's bytes as IMAP serves them: bare LF becomes CRLF. */
static char *crlf_hex(struct md_folder *f, uint32_t uid)
{
	struct pn_buf hex;
	struct pn_error err;
	unsigned char c, prev = 0;
	int fd;

	if (md_message_open(f, uid, &fd, &err) < 0)
		fail_msg("open UID %u: %s", uid, err.msg);
	pn_buf_init(&hex, 0);
	while (read(fd, &c, 1) == 1) {
		if (c == '\n' && prev != '\r')
			assert_int_equal(pn_buf_adds(&hex, "0d"), 0);
		assert_int_equal(pn_buf_printf(&hex, "%02x", c), 0);
		prev = c;
	}
	close(fd);
	return pn_buf_take(&hex, NULL);
}

static uint64_t vsize_of(const struct md_message *m)
{
	struct md_name n;

	assert_int_equal(md_name_parse(m->filename, &n), 0);
	return n.vsize;
}

static void compare_msg(struct md_folder *f, char *line)
{
	unsigned uid;
	unsigned long long size;
	long long t;
	char hex[70000], want_flags[1024], got_flags[1024], *hexp;
	int used = 0;
	const struct md_message *m;

	assert_int_equal(sscanf(line, "MSG %u %llu %lld %69999s %n", &uid, &size,
				&t, hex, &used), 4);
	snprintf(want_flags, sizeof(want_flags), "%s", line + used);
	want_flags[strcspn(want_flags, "\n")] = '\0';
	m = md_folder_by_uid(f, uid);
	if (!m)
		fail_msg("UID %u: Dovecot has it, postern does not", uid);
	flags_text(m, got_flags, sizeof(got_flags));
	assert_string_equal(got_flags, want_flags);
	assert_int_equal(m->received, t);
	assert_int_equal(vsize_of(m), size);
	hexp = crlf_hex(f, uid);
	assert_string_equal(hexp, hex);
	free(hexp);
}

/* Dovecot's view (the script's fetch output) equals the folder's. */
static void compare(struct md_folder *f, const char *out)
{
	unsigned uv = 0, next = 0;
	size_t nmsg = 0;
	char *copy = strdup(out), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "STATUS ", 7)) {
			assert_int_equal(sscanf(l, "STATUS %u %u", &uv, &next), 2);
		} else if (!strncmp(l, "MSG ", 4)) {
			compare_msg(f, l);
			nmsg++;
		}
	}
	free(copy);
	assert_int_equal(md_folder_uidvalidity(f), uv);
	assert_int_equal(md_folder_uidnext(f), next);
	assert_int_equal(md_folder_count(f), nmsg);
}

/* ---- Dovecot writes, postern reads -------------------------------------- */

static int find_name(void *ctx, const struct md_folder_info *fi)
{
	char *want = ctx;

	if (!strcmp(fi->name, want) && fi->subscribed)
		want[0] = '\0';
	return 0;
}

static void test_dovecot_to_postern(void **state)
{
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	char *out, *again, *root, want[] = "T\xc3\xb6pfe.Sub";

	(void)state;
	need_dovecot();
	out = imap("write", NULL, NULL, NULL, NULL);
	root = user_root();
	/* read-only first: must agree without writing a thing */
	assert_int_equal(md_store_open(root, MD_LAYOUT_AUTO, true, &s, &err), 0);
	if (md_folder_open(s, "INBOX", true, &f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(md_folder_count(f), 3);
	compare(f, out);
	assert_int_equal(md_store_list(s, find_name, want, &err), 0);
	assert_string_equal(want, "");	/* listed and subscribed */
	md_folder_free(&f);
	md_store_free(&s);
	/* read-write (may rewrite the uidlist): still the same, both sides */
	as_mail_user(true);
	assert_int_equal(md_store_open(root, MD_LAYOUT_AUTO, false, &s, &err), 0);
	assert_int_equal(md_folder_open(s, "INBOX", false, &f, &err), 0);
	as_mail_user(false);
	compare(f, out);
	again = imap("fetch", "INBOX", NULL, NULL, NULL);
	assert_string_equal(again, out);
	md_folder_free(&f);
	md_store_free(&s);
	free(again);
	free(out);
	free(root);
}

/* ---- postern writes, Dovecot reads -------------------------------------- */

static uint32_t append(struct md_folder *f, const char *text, unsigned flags,
		       const char *const *kw, size_t nkw, time_t received)
{
	struct md_append a = { .data = text, .size = strlen(text),
			       .flags = flags, .keywords = kw,
			       .nkeywords = nkw, .received = received };
	struct pn_error err;
	uint32_t uid = 0;

	if (md_folder_append(f, &a, &uid, &err) < 0)
		fail_msg("append: %s", err.msg);
	return uid;
}

static void postern_writes(const char *root, uint32_t *copy_uid)
{
	const char *kw_b[] = { "$Label1", "work" }, *kw_work[] = { "work" };
	const char *kw_l1[] = { "$Label1" };
	struct md_store *s = NULL;
	struct md_folder *f = NULL, *dst = NULL;
	struct pn_error err;
	uint32_t c_uid, gone[1];

	assert_int_equal(md_store_open(root, MD_LAYOUT_AUTO, false, &s, &err), 0);
	assert_int_equal(md_folder_create(s, "Postern", &err), 0);
	assert_int_equal(md_folder_create(s, "Caf\xc3\xa9", &err), 0);
	assert_int_equal(md_folder_open(s, "Postern", false, &f, &err), 0);
	assert_int_equal(md_folder_open(s, "Caf\xc3\xa9", false, &dst, &err), 0);
	assert_int_equal(append(f, "Subject: a\n\nLF body\n", 0, NULL, 0,
				1600000000), 1);
	assert_int_equal(append(f, "Subject: b\r\n\r\nCRLF body\r\n",
				MD_FLAG_SEEN | MD_FLAG_FLAGGED, kw_b, 2,
				1600000100), 2);
	c_uid = append(f, "Subject: c\n\ngone\n", MD_FLAG_DRAFT, NULL, 0, 0);
	assert_int_equal(c_uid, 3);
	assert_int_equal(md_message_set_flags(f, 1, MD_FLAG_REPLIED, 0, kw_work,
					      1, NULL, 0, &err), 0);
	assert_int_equal(md_message_set_flags(f, 2, 0, MD_FLAG_FLAGGED, NULL, 0,
					      kw_l1, 1, &err), 0);
	gone[0] = c_uid;
	assert_int_equal(md_folder_expunge(f, gone, 1, &err), 0);
	if (md_folder_copy(f, 2, dst, copy_uid, &err) < 0)
		fail_msg("copy: %s", err.msg);
	assert_int_equal(md_subscribe(s, "Postern", true, &err), 0);
	md_folder_free(&dst);
	md_folder_free(&f);
	md_store_free(&s);
}

static void test_postern_to_dovecot(void **state)
{
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	char *root, *out, *lsub, want[64];
	unsigned uv, uid;
	uint32_t copy_uid = 0;

	(void)state;
	need_dovecot();
	root = user_root();
	as_mail_user(true);
	postern_writes(root, &copy_uid);
	as_mail_user(false);
	assert_int_equal(copy_uid, 1);

	assert_int_equal(md_store_open(root, MD_LAYOUT_AUTO, true, &s, &err), 0);
	assert_int_equal(md_folder_open(s, "Postern", true, &f, &err), 0);
	out = imap("fetch", "Postern", NULL, NULL, NULL);
	assert_non_null(strstr(out, "\\Answered work"));
	compare(f, out);
	free(out);
	md_folder_free(&f);

	assert_int_equal(md_folder_open(s, "Caf\xc3\xa9", true, &f, &err), 0);
	out = imap("fetch", "Caf&AOk-", NULL, NULL, NULL);
	assert_non_null(strstr(out, " \\Seen work\n"));
	compare(f, out);
	free(out);
	md_folder_free(&f);

	lsub = imap("lsub", NULL, NULL, NULL, NULL);
	assert_non_null(strstr(lsub, "LSUB Postern\n"));
	free(lsub);

	/* Dovecot's next APPEND takes the UID postern said was next */
	assert_int_equal(md_folder_open(s, "Postern", true, &f, &err), 0);
	assert_int_equal(md_folder_uidnext(f), 4);
	out = imap("append", "Postern", "(\\Seen x-from-dovecot)", "1650000000",
		   "5375626a6563743a20640d0a0d0a640d0a");
	assert_int_equal(sscanf(out, "APPENDUID %u %u", &uv, &uid), 2);
	assert_int_equal(uv, md_folder_uidvalidity(f));
	assert_int_equal(uid, 4);
	free(out);
	assert_int_equal(md_folder_rescan(f, NULL, &err), 0);
	out = imap("fetch", "Postern", NULL, NULL, NULL);
	compare(f, out);
	snprintf(want, sizeof(want), "\\Seen x-from-dovecot");
	assert_non_null(strstr(out, want));
	free(out);
	md_folder_free(&f);
	md_store_free(&s);
	free(root);
}

/* ---- a uidlist naming a file twice ------------------------------------- */

static void put_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *fp;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	free(path);
}

/* Dovecot keeps the old line when it renumbers a file it lost sight of,
 * and then reads the later UID as the message's ("Duplicate file entry
 * ... uid 2 -> 5"): postern must see the same UIDs, or it would rewrite
 * the list with the old one and make Dovecot number the message again. */
static void test_uidlist_naming_a_file_twice(void **state)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	struct md_store *s = NULL;
	struct md_folder *f = NULL;
	struct pn_error err;
	char *root, *dir, *out;

	(void)state;
	need_dovecot();
	root = user_root();
	assert_true(asprintf(&dir, "%s/.Twice", root) > 0);
	as_mail_user(true);
	for (size_t i = 0; i < 4; i++) {
		char *d;

		assert_true(asprintf(&d, "%s%s", dir, subs[i]) > 0);
		assert_int_equal(mkdir(d, 0700), 0);
		free(d);
	}
	put_file(dir, "dovecot-uidlist",
		 "3 V7 N9 G0123456789abcdef0123456789abcdef\n"
		 "2 :1.M1P1.h,S=2,W=3\n"
		 "3 :2.M1P1.h,S=2,W=3\n"
		 "5 :1.M1P1.h,S=2,W=3\n"
		 "6 :3.M1P1.h,S=2,W=3\n"
		 "7 :2.M1P1.h,S=2,W=3\n"
		 "8 :2.M1P1.h,S=2,W=3\n");
	put_file(dir, "cur/1.M1P1.h,S=2,W=3:2,S", "a\n");
	put_file(dir, "cur/2.M1P1.h,S=2,W=3:2,", "b\n");
	put_file(dir, "cur/3.M1P1.h,S=2,W=3:2,F", "c\n");
	as_mail_user(false);
	/* postern first, read-only: the list as it is, before Dovecot
	 * rewrites it */
	assert_int_equal(md_store_open(root, MD_LAYOUT_AUTO, true, &s, &err), 0);
	if (md_folder_open(s, "Twice", true, &f, &err) < 0)
		fail_msg("%s", err.msg);
	out = imap("fetch", "Twice", NULL, NULL, NULL);
	compare(f, out);
	assert_non_null(md_folder_by_uid(f, 5));
	assert_non_null(md_folder_by_uid(f, 8));
	md_folder_free(&f);
	md_store_free(&s);
	free(out);
	free(dir);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_to_postern),
		cmocka_unit_test(test_postern_to_dovecot),
		cmocka_unit_test(test_uidlist_naming_a_file_twice),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
