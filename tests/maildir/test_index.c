/* Tests for maildir/index.c and search.c: header blocks (folding, CRLF,
 * missing fields, no empty line, an empty line across a read boundary, a
 * 1 MB header, never the body), md_folder_index over odd files, and
 * md_folder_search by flags and header. */
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
#include "../../maildir/cache_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- md_header_parse ------------------------------------------------------ */

static const struct {
	const char *name;
	const char *in;
	const char *v[MD_HF_COUNT];	/* date from to subject message-id */
} parse_cases[] = {
	{ "plain", "Date: d\nFrom: f\nTo: t\nSubject: s\nMessage-ID: <m>\n",
	  { "d", "f", "t", "s", "<m>" } },
	{ "CRLF", "Subject: hi\r\nFrom: a <a@x>\r\n",
	  { NULL, "a <a@x>", NULL, "hi", NULL } },
	{ "folded LF", "Subject: a\n b\n\tc\nTo: t\n",
	  { NULL, NULL, "t", "a b\tc", NULL } },
	{ "folded CRLF", "Subject: a\r\n b\r\n  c\r\n",
	  { NULL, NULL, NULL, "a b  c", NULL } },
	{ "fold right after the colon", "Subject:\n   text\n",
	  { NULL, NULL, NULL, "text", NULL } },
	{ "none of ours", "X-Foo: bar\nReceived: from x\n\tby y\n",
	  { NULL, NULL, NULL, NULL, NULL } },
	{ "names case-blind, WSP before colon", "SUBJECT : x\nmessage-id:<a@b>\n",
	  { NULL, NULL, NULL, "x", "<a@b>" } },
	{ "first wins", "Subject: one\nSubject: two\n",
	  { NULL, NULL, NULL, "one", NULL } },
	{ "empty values", "Subject:\nTo:   \n",
	  { NULL, NULL, "", "", NULL } },
	{ "mbox From line", "From ana@x Mon Jan  1 10:00:00 2024\nFrom: real\n",
	  { NULL, "real", NULL, NULL, NULL } },
	{ "trailing WSP", "Subject: x  \t\r\n", { NULL, NULL, NULL, "x", NULL } },
	{ "no final newline", "Date: d\nSubject: x",
	  { "d", NULL, NULL, "x", NULL } },
	{ "stray continuation", " cont\nSubject: s\n",
	  { NULL, NULL, NULL, "s", NULL } },
	{ "look-alike names", "Tox: no\nDate-Received: no\nTo: yes\nDate: d\n",
	  { "d", NULL, "yes", NULL, NULL } },
	{ "line without colon", "garbage\nSubject: s\n",
	  { NULL, NULL, NULL, "s", NULL } },
	{ "bare CR kept", "Subject: a\rb\n", { NULL, NULL, NULL, "a\rb", NULL } },
	{ "empty", "", { NULL, NULL, NULL, NULL, NULL } },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		size_t len = strlen(parse_cases[i].in);
		char *buf = malloc(len + 1);
		struct md_hvalues v;

		assert_non_null(buf);
		memcpy(buf, parse_cases[i].in, len + 1);
		md_header_parse(buf, len, &v);
		for (int k = 0; k < MD_HF_COUNT; k++) {
			const char *want = parse_cases[i].v[k];

			if (!want && !v.v[k])
				continue;
			if (!want || !v.v[k] || strcmp(want, v.v[k]) != 0 ||
			    strlen(want) != v.len[k])
				fail_msg("%s: field %d: want '%s' got '%s'",
					 parse_cases[i].name, k,
					 want ? want : "(null)",
					 v.v[k] ? v.v[k] : "(null)");
		}
		free(buf);
	}
}

static void test_field_lookup(void **state)
{
	(void)state;
	assert_int_equal(md_hfield_lookup("Subject"), MD_HF_SUBJECT);
	assert_int_equal(md_hfield_lookup("MESSAGE-ID"), MD_HF_MESSAGE_ID);
	assert_int_equal(md_hfield_lookup("to"), MD_HF_TO);
	assert_int_equal(md_hfield_lookup("cc"), -1);
	assert_int_equal(md_hfield_lookup(NULL), -1);
}

/* ---- md_header_read -------------------------------------------------------- */

/* A temporary file holding data, open for reading at offset 0. */
static int file_with(const char *data, size_t len)
{
	char path[] = "/tmp/pn-hdr-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read the header of data; returns the subject (copied) and leaves in
 * *pos_out how far into the file the reader went. */
static char *subject_of(const char *data, size_t len, off_t *pos_out)
{
	struct md_hreader r = { 0 };
	struct md_hvalues v;
	int fd = file_with(data, len);
	char *s;

	assert_int_equal(md_header_read(&r, fd, &v), 0);
	if (pos_out)
		*pos_out = lseek(fd, 0, SEEK_CUR);
	close(fd);
	s = v.v[MD_HF_SUBJECT] ? strdup(v.v[MD_HF_SUBJECT]) : NULL;
	md_hreader_free(&r);
	return s;
}

static void test_read_simple(void **state)
{
	static const struct {
		const char *in, *subject;
	} cases[] = {
		{ "Subject: s\nFrom: f", "s" },	/* no empty line: all header */
		{ "Subject: s\n\nSubject: body\n", "s" },
		{ "From: f\n\nSubject: body\n", NULL },	/* never the body */
		{ "From: f\r\n\r\nSubject: body\r\n", NULL },
		{ "\nSubject: body\n", NULL },	/* empty header */
		{ "\r\nSubject: body\n", NULL },
		{ "", NULL },
		{ "Subject: only", "only" },
		{ "Subject: a\r\n b\r\n\r\n", "a b" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = subject_of(cases[i].in, strlen(cases[i].in), NULL);

		if (!cases[i].subject)
			assert_null(s);
		else
			assert_string_equal(s, cases[i].subject);
		free(s);
	}
}

/* The empty line (LF LF, CRLF CRLF) straddling the first read's end must
 * still end the header, and a body field must not leak in. */
static void test_read_boundary(void **state)
{
	(void)state;
	for (int crlf = 0; crlf < 2; crlf++) {
		for (size_t at = 4088; at < 4104; at++) {
			const char *nl = crlf ? "\r\n" : "\n";
			char buf[8192];
			size_t len = 0;
			char *s;

			len += (size_t)snprintf(buf, sizeof(buf),
						"Subject: s%sX-Pad: ", nl);
			while (len < at - strlen(nl))
				buf[len++] = 'p';
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"%s%sSubject: body%s", nl, nl,
						nl);
			s = subject_of(buf, len, NULL);
			assert_string_equal(s, "s");
			free(s);
			len = (size_t)sprintf(buf, "X-Pad: ");
			while (len < at - strlen(nl))
				buf[len++] = 'p';
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"%s%sSubject: body%s", nl, nl,
						nl);
			s = subject_of(buf, len, NULL);
			assert_null(s);
		}
	}
}

/* A 1 MB header block (many fields, then ours) followed by a 4 MB body:
 * the subject is found and the reader stops soon after the header. */
static void test_read_1mb_header(void **state)
{
	size_t cap = 6 << 20, len = 0, hlen;
	char *buf = malloc(cap);
	off_t pos;
	char *s;

	(void)state;
	assert_non_null(buf);
	while (len < (1 << 20))
		len += (size_t)sprintf(buf + len, "X-Long-%zu: %0100d\n", len, 7);
	len += (size_t)sprintf(buf + len, "Subject: after the megabyte\n\n");
	hlen = len;
	while (len < (5u << 20))
		len += (size_t)sprintf(buf + len, "Subject: body line\n");
	s = subject_of(buf, len, &pos);
	assert_string_equal(s, "after the megabyte");
	assert_true((size_t)pos <= hlen + 16384);
	free(s);
	free(buf);
}

/* One folded 1 MB subject: unfolded whole. */
static void test_read_1mb_field(void **state)
{
	size_t cap = 2 << 20, len = 0, n = 0;
	char *buf = malloc(cap);
	char *s;

	(void)state;
	assert_non_null(buf);
	len += (size_t)sprintf(buf, "Subject: w");
	while (len < (1 << 20)) {
		len += (size_t)sprintf(buf + len, "\r\n word");
		n++;
	}
	len += (size_t)sprintf(buf + len, "\r\n\r\nbody\r\n");
	s = subject_of(buf, len, NULL);
	assert_int_equal(strlen(s), 1 + n * 5);
	assert_memory_equal(s, "w word word", 11);
	free(s);
	free(buf);
}

/* ---- a folder -------------------------------------------------------------- */

struct env {
	char root[64];
	struct md_store *s;
	struct md_folder *f;
};

static void put(const struct env *e, const char *name, const char *text,
		time_t mtime)
{
	char path[512];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *fp;

	snprintf(path, sizeof(path), "%s/cur/%s", e->root, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void open_folder(struct env *e, bool read_only)
{
	struct pn_error err;

	md_folder_free(&e->f);
	md_store_free(&e->s);
	if (md_store_open(e->root, MD_LAYOUT_AUTO, read_only, &e->s, &err) < 0 ||
	    md_folder_open(e->s, "INBOX", read_only, &e->f, &err) < 0)
		fail_msg("open: %s", err.msg);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char d[160];

	assert_non_null(e);
	strcpy(e->root, "/tmp/pn-index-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	for (int i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "%s/%s", e->root,
			 (const char *[]){ "cur", "new", "tmp" }[i]);
		assert_int_equal(mkdir(d, 0700), 0);
	}
	put(e, "1000.a.h:2,S", "From: Ana\nSubject: Hello World\n\nhi\n",
	    1700000000);
	put(e, "1001.b.h:2,FS",
	    "From: Ben <ben@hello.org>\r\nSubject: other\r\n\r\nbody\r\n",
	    1700000001);
	put(e, "1002.c.h:2,", "Subject: multi\n line hello\nTo: x\n\n"
	    "Subject: not this hello\n", 1700000002);
	put(e, "1003.d.h:2,R", "Date: d\nSubject: no empty line", 1700000003);
	put(e, "1004.e.h:2,", "", 1700000004);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	md_folder_free(&e->f);
	md_store_free(&e->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "-";
}

static int collect(void *ctx, const struct md_index_entry *e)
{
	struct pn_buf *b = ctx;

	assert_int_equal(pn_buf_printf(b, "%u %s|%s|%s|%s|%s\n", e->msg->uid,
				       nz(e->date), nz(e->from), nz(e->to),
				       nz(e->subject), nz(e->message_id)), 0);
	return 0;
}

static const char expect5[] =
	"1 -|Ana|-|Hello World|-\n"
	"2 -|Ben <ben@hello.org>|-|other|-\n"
	"3 -|-|x|multi line hello|-\n"
	"4 d|-|-|no empty line|-\n"
	"5 -|-|-|-|-\n";

static void check_index(struct env *e, const char *expect)
{
	struct pn_buf b;
	struct pn_error err;

	pn_buf_init(&b, 0);
	if (md_folder_index(e->f, collect, &b, &err) < 0)
		fail_msg("index: %s", err.msg);
	assert_string_equal(pn_buf_cstr(&b), expect);
	pn_buf_free(&b);
}

/* Cold, warm, and read-only (no cache written) all give the same. */
static void test_index_files(void **state)
{
	struct env *e = *state;
	char path[128];

	open_folder(e, true);
	check_index(e, expect5);
	snprintf(path, sizeof(path), "%s/" MD_CACHE_NAME, e->root);
	assert_int_equal(access(path, F_OK), -1);
	open_folder(e, false);
	check_index(e, expect5);
	assert_int_equal(access(path, F_OK), 0);
	check_index(e, expect5);
	open_folder(e, true);
	check_index(e, expect5);
}

static int stop_at_two(void *ctx, const struct md_index_entry *e)
{
	int *n = ctx;

	(void)e;
	return ++*n == 2;
}

/* A callback that stops early: md_folder_index returns 0 at once and
 * writes no partial cache. */
static void test_index_stop(void **state)
{
	struct env *e = *state;
	struct pn_error err;
	char path[128];
	int n = 0;

	open_folder(e, false);
	assert_int_equal(md_folder_index(e->f, stop_at_two, &n, &err), 0);
	assert_int_equal(n, 2);
	snprintf(path, sizeof(path), "%s/" MD_CACHE_NAME, e->root);
	assert_int_equal(access(path, F_OK), -1);
}

/* ---- search ---------------------------------------------------------------- */

static void check_search(struct env *e, unsigned set, unsigned clear,
			 const char *field, const char *needle,
			 const char *expect)
{
	struct pn_error err;
	struct pn_buf b;
	uint32_t *uids;
	size_t n;

	if (md_folder_search(e->f, set, clear, field, needle, &uids, &n,
			     &err) < 0)
		fail_msg("search: %s", err.msg);
	pn_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pn_buf_printf(&b, "%s%u", i ? " " : "",
					       uids[i]), 0);
	assert_string_equal(pn_buf_cstr(&b), expect);
	pn_buf_free(&b);
	free(uids);
}

static void search_cases(struct env *e)
{
	check_search(e, MD_FLAG_SEEN, 0, NULL, NULL, "1 2");
	check_search(e, 0, MD_FLAG_SEEN, NULL, NULL, "3 4 5");
	check_search(e, MD_FLAG_FLAGGED | MD_FLAG_SEEN, 0, NULL, NULL, "2");
	check_search(e, MD_FLAG_FLAGGED, MD_FLAG_SEEN, NULL, NULL, "");
	check_search(e, 0, 0, NULL, NULL, "1 2 3 4 5");
	check_search(e, 0, 0, "subject", "hello", "1 3");
	check_search(e, 0, 0, "Subject", "LINE HELLO", "3");
	check_search(e, 0, 0, NULL, "HELLO", "1 2 3");
	check_search(e, MD_FLAG_SEEN, 0, "from", "hello", "2");
	check_search(e, 0, MD_FLAG_SEEN, "from", "hello", "");
	check_search(e, 0, 0, "date", "d", "4");
	check_search(e, 0, 0, "subject", "", "1 2 3 4");
	check_search(e, 0, 0, "to", "x", "3");
	check_search(e, MD_FLAG_REPLIED, 0, "subject", "empty", "4");
	check_search(e, 0, 0, "subject", "not this", "");	/* body */
}

static void test_search(void **state)
{
	struct env *e = *state;

	open_folder(e, false);
	search_cases(e);	/* cold, writes the cache */
	search_cases(e);	/* warm */
	open_folder(e, true);
	search_cases(e);
}

static void test_search_bad_field(void **state)
{
	struct env *e = *state;
	struct pn_error err;
	uint32_t *uids = (uint32_t *)1;
	size_t n = 9;

	open_folder(e, true);
	assert_int_equal(md_folder_search(e->f, 0, 0, "cc", "x", &uids, &n,
					  &err), -1);
	assert_int_equal(err.code, PN_EUNSUPPORTED);
	assert_string_equal(err.msg, "search: header field 'cc' is not indexed "
			    "(date, from, to, subject, message-id)");
	assert_null(uids);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_read_simple),
		cmocka_unit_test(test_read_boundary),
		cmocka_unit_test(test_read_1mb_header),
		cmocka_unit_test(test_read_1mb_field),
		cmocka_unit_test_setup_teardown(test_index_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_index_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_bad_field, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
