/* test_parser.c - the streaming MIME parser: tree shapes, offsets and
 * defects of hand-written messages (valid and broken in one table), the
 * same result for any chunking over the public corpus, limits, and
 * constant memory on a huge body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../mime/mime_p.h"

#define CORPUS "../shared/corpus/mime-public"

/* ---- helpers --------------------------------------------------------------- */

struct sinkrec {
	struct pn_buf log;	/* "begin <sec>" / bytes / "end" */
	uint64_t bytes;
	int leaves;
};

static int rec_begin(void *ctx, struct mime_part *part)
{
	struct sinkrec *r = ctx;
	char sec[64];

	r->leaves++;
	if (mime_part_section(part, sec, sizeof(sec)) < 0)
		return -1;
	return pn_buf_printf(&r->log, "<%s>", sec);
}

static int rec_data(void *ctx, struct mime_part *part, const char *raw,
		    size_t len)
{
	struct sinkrec *r = ctx;

	(void)part;
	r->bytes += len;
	return pn_buf_add(&r->log, raw, len);
}

static int rec_end(void *ctx, struct mime_part *part)
{
	struct sinkrec *r = ctx;

	(void)part;
	return pn_buf_adds(&r->log, "</>");
}

/* One line per part: section, type, offsets; then the defects. */
static char *describe(struct mime_message *msg)
{
	struct pn_buf b;
	struct mime_part *part = mime_message_root(msg);
	size_t i;

	pn_buf_init(&b, 0);
	while (part) {
		char sec[128];

		assert_true(mime_part_section(part, sec, sizeof(sec)) >= 0);
		assert_int_equal(pn_buf_printf(&b, "%s%s%s %s %llu-%llu-%llu%s",
					       b.len ? "; " : "",
					       sec[0] ? "" : "-", sec,
					       mime_part_type(part),
					       (unsigned long long)part->off_start,
					       (unsigned long long)part->off_body,
					       (unsigned long long)part->off_end,
					       mime_part_is_multipart(part) ?
					       " mp" : ""), 0);
		if (part->first_child) {
			part = part->first_child;
			continue;
		}
		while (part && !part->next)
			part = part->parent;
		if (part)
			part = part->next;
	}
	for (i = 0; i < mime_message_defect_count(msg); i++) {
		const struct mime_defect *d = mime_message_defect(msg, i);

		assert_int_equal(pn_buf_printf(&b, " | %s@%llu",
					       mime_defect_name(d->kind),
					       (unsigned long long)d->offset), 0);
	}
	return pn_buf_take(&b, NULL);
}

/* Everything, defect texts included, for the chunking comparisons. */
static char *describe_full(struct mime_message *msg)
{
	struct pn_buf b;
	char *s = describe(msg);
	size_t i;

	pn_buf_init(&b, 0);
	assert_int_equal(pn_buf_adds(&b, s), 0);
	free(s);
	assert_int_equal(pn_buf_printf(&b, " eol=%zu", strlen(msg->eol)), 0);
	for (i = 0; i < mime_message_defect_count(msg); i++)
		assert_int_equal(pn_buf_printf(&b, "\n%s",
				 mime_message_defect(msg, i)->msg), 0);
	return pn_buf_take(&b, NULL);
}

/* Parse data cut into chunks: chunk 0 = whole, 1 = byte at a time, other
 * values seed random sizes. */
static struct mime_message *parse_chunked(const char *data, size_t len,
					  unsigned chunk,
					  const struct mime_limits *lim,
					  struct sinkrec *rec)
{
	struct mime_leaf_sink sink = { rec, rec_begin, rec_data, rec_end };
	struct mime_parser *p = mime_parser_new(lim, rec ? &sink : NULL);
	struct mime_message *msg = NULL;
	struct pn_error err;
	size_t off = 0;
	unsigned seed = chunk;

	assert_non_null(p);
	while (off < len) {
		size_t n = len - off;

		if (chunk == 1)
			n = 1;
		else if (chunk > 1)
			n = 1 + (size_t)(rand_r(&seed) % (seed % 3 ? 7 : 700));
		if (n > len - off)
			n = len - off;
		assert_int_equal(mime_parser_feed(p, data + off, n, &err), 0);
		off += n;
	}
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	assert_non_null(msg);
	return msg;
}

/* ---- the table --------------------------------------------------------- */

struct tcase {
	const char *name;
	const char *input;
	const char *want;
};

static const struct tcase cases[] = {
	{ "plain LF",
	  "Subject: hi\n\nbody\n",
	  "- text/plain 0-13-18" },
	{ "plain CRLF",
	  "Subject: hi\r\n\r\nbody\r\n",
	  "- text/plain 0-15-21" },
	{ "no headers at all",
	  "\nbody\n",
	  "- text/plain 0-1-6" },
	{ "empty input",
	  "",
	  "- text/plain 0-0-0 | truncated@0" },
	{ "truncated inside headers",
	  "Subject: hi\nFrom: a",
	  "- text/plain 0-19-19 | truncated@19" },
	{ "mbox From line skipped",
	  "From a@b Mon Jan  1 00:00:00 2001\nSubject: x\n\nb\n",
	  "- text/plain 0-46-48" },
	{ "line that is not a header starts the body",
	  "Subject: x\nthis is body\n\nmore\n",
	  "- text/plain 0-11-30 | bad-header-line@11" },
	{ "first line is a fold",
	  " folded\nSubject: x\n\nb\n",
	  "- text/plain 0-20-22 | bad-header-line@0" },
	{ "8-bit header",
	  "Subject: caf\xc3\xa9\n\nb\n",
	  "- text/plain 0-16-18 | 8bit-header@0" },
	{ "simple multipart",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "pre\n--b\n\none\n--b\nContent-Type: text/html\n\n<p>\n--b--\nepi\n",
	  "- multipart/mixed 0-43-99 mp; 1 text/plain 51-52-55; "
	  "2 text/html 60-85-88" },
	{ "CRLF before the delimiter belongs to it",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\n\r\nx\r\n\r\n--b--\r\n",
	  "- multipart/mixed 0-45-64 mp; 1 text/plain 50-52-55" },
	{ "padding after delimiters, delimiter at EOF without EOL",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b \t\n\nx\n--b-- ",
	  "- multipart/mixed 0-43-58 mp; 1 text/plain 49-50-51" },
	{ "boundary followed directly by other bytes is not a delimiter",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\n\nx\n--bb\n--b-x\n--b--x\n--b_\n--b--\n",
	  "- multipart/mixed 0-43-79 mp; 1 text/plain 47-48-72" },
	{ "junk after padding: still a delimiter (RFC 2046 5.1.1 note)",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b This should be ignored\r\nContent-Type: text/plain\r\n\r\n"
	  "first part\r\n\r\n--b--\tnot epilogue\r\n\r\nepi --b--\r\n",
	  "- multipart/mixed 0-45-148 mp; 1 text/plain 73-101-113" },
	{ "junk after a delimiter at end of input",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b  junk",
	  "- multipart/mixed 0-43-59 mp; 1 text/plain 47-48-49; "
	  "2 text/plain 59-59-59 | truncated@59 | close-boundary-missing@43" },
	{ "nested boundaries abc and abc-1 stay apart",
	  "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n"
	  "Content-Type: multipart/alternative; boundary=abc-1\n\n"
	  "--abc-1\n\nin1\n--abc-1\n\nin2\n--abc-1--\n--abc\n\nout\n"
	  "--abc--\n",
	  "- multipart/mixed 0-45-159 mp; 1 multipart/alternative 51-104-139 "
	  "mp; 1.1 text/plain 112-113-116; 1.2 text/plain 125-126-129; "
	  "2 text/plain 146-147-150" },
	{ "nested boundaries abc_alt inside abc stay apart",
	  "Content-Type: multipart/mixed; boundary=abc_alt\n\n--abc_alt\n"
	  "Content-Type: multipart/alternative; boundary=abc\n\n"
	  "--abc\n\nin\n--abc_alt\n\nout\n--abc_alt--\n",
	  "- multipart/mixed 0-49-147 mp; 1 multipart/alternative 59-110-119 "
	  "mp; 1.1 text/plain 116-117-119; 2 text/plain 130-131-134 "
	  "| close-boundary-missing@110" },
	{ "boundary with trailing blanks: declared close delimiter wins",
	  "Content-Type: multipart/mixed; boundary=\"b  \"\n\n"
	  "--b  \n\nx\n--b \n\ny\n--b  --\nepi\n",
	  "- multipart/mixed 0-47-76 mp; 1 text/plain 53-54-55; "
	  "2 text/plain 61-62-63" },
	{ "missing boundary parameter",
	  "Content-Type: multipart/mixed\n\n--b\n\nx\n--b--\n",
	  "- multipart/mixed 0-31-44 | no-boundary@0" },
	{ "start delimiter never found: a multipart with no parts",
	  "Content-Type: multipart/mixed; boundary=b\n\nno parts here\n",
	  "- multipart/mixed 0-43-57 mp | start-boundary-missing@43" },
	{ "close delimiter without a start: preamble, close, epilogue",
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "no parts\r\n\r\n--b--\r\n\r\nEpilogue\r\n",
	  "- multipart/mixed 0-45-76 mp | start-boundary-missing@45" },
	{ "inner start delimiter missing, inner close then outer close",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	  "--o\r\n\r\nFoo\r\n--o\r\n"
	  "Content-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "AAA\r\n\r\n--i--\r\n--o--\r\nOuter epilogue\r\n",
	  "- multipart/mixed 0-45-150 mp; 1 text/plain 50-52-55; "
	  "2 multipart/alternative 62-113-125 mp "
	  "| start-boundary-missing@113" },
	{ "inner start delimiter missing, ended by the outer delimiter",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: multipart/alternative; boundary=i\n\nAAA\n\n"
	  "--o\n\nx\n--o--\n",
	  "- multipart/mixed 0-43-114 mp; 1 multipart/alternative 47-96-100 mp; "
	  "2 text/plain 105-106-107 | start-boundary-missing@96" },
	{ "nested message whose multipart is only a close delimiter",
	  "Content-Type: multipart/mixed; boundary=A\n\n--A\n\nx\n--A\n"
	  "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=B\n\n--B--\n\n--A--\n",
	  "- multipart/mixed 0-43-140 mp; 1 text/plain 47-48-49; "
	  "2 message/rfc822 54-84-133; 2 multipart/mixed 84-127-133 mp "
	  "| start-boundary-missing@127" },
	{ "close delimiter missing",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n",
	  "- multipart/mixed 0-43-50 mp; 1 text/plain 47-48-49 "
	  "| close-boundary-missing@43" },
	{ "outer delimiter ends an inner multipart",
	  "Content-Type: multipart/mixed; boundary=a\n\n"
	  "--a\nContent-Type: multipart/alternative; boundary=b\n\n"
	  "--b\n\nin\n--a\n\nout\n--a--\n",
	  "- multipart/mixed 0-43-119 mp; "
	  "1 multipart/alternative 47-96-103 mp; 1.1 text/plain 100-101-103; "
	  "2 text/plain 108-109-112 | close-boundary-missing@96" },
	{ "doubled delimiter opens no empty part",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\n--b\n\nx\n--b--\n",
	  "- multipart/mixed 0-43-60 mp; 1 text/plain 51-52-53" },
	{ "part ended inside its headers",
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nSubject: x\n--b--\n",
	  "- multipart/mixed 0-43-64 mp; 1 text/plain 47-58-58" },
	{ "multipart with base64 CTE is still split",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: base64\n\n--b\n\nx\n--b--\n",
	  "- multipart/mixed 0-77-90 mp; 1 text/plain 81-82-83 "
	  "| multipart-cte@0" },
	{ "message/rfc822 nests",
	  "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n",
	  "- message/rfc822 0-30-48; 1.1 text/plain 30-43-48" },
	{ "nested multipart message numbers like IMAP",
	  "Content-Type: multipart/mixed; boundary=a\n\n--a\n\nx\n--a\n"
	  "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=c\n\n"
	  "--c\n\ny\n--c--\n--a--\n",
	  "- multipart/mixed 0-43-146 mp; 1 text/plain 47-48-49; "
	  "2 message/rfc822 54-84-139; 2 multipart/mixed 84-127-139 mp; "
	  "2.1 text/plain 131-132-133" },
	{ "base64 message/rfc822 stays a leaf",
	  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "U3ViamVjdDogeAoKYgo=\n",
	  "- message/rfc822 0-64-85" },
	{ "delivery-status is a leaf",
	  "Content-Type: message/delivery-status\n\nReporting-MTA: x\n\n"
	  "Action: failed\n",
	  "- message/delivery-status 0-39-72" },
	{ "digest parts default to message/rfc822",
	  "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: a\n\nA\n--d\nContent-Type: text/plain\n\nB\n--d--\n",
	  "- multipart/digest 0-44-101 mp; 1 message/rfc822 48-49-62; "
	  "1.1 text/plain 49-61-62; 2 text/plain 67-93-94" },
	{ "invalid Content-Type becomes text/plain",
	  "Content-Type: garbage\n\nx\n",
	  "- text/plain 0-23-25 | bad-content-type@0" },
	{ "unknown CTE",
	  "Content-Transfer-Encoding: x-foo\n\nx\n",
	  "- text/plain 0-34-36 | bad-cte@0" },
	{ "field without a name is dropped",
	  ": nothing\nSubject: x\n\nb\n",
	  "- text/plain 0-22-24 | bad-header-line@0" },
	{ "multipart in a multipart without a body",
	  "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	  "Content-Type: multipart/mixed; boundary=b\n--a--\n",
	  "- multipart/mixed 0-43-95 mp; 1 multipart/mixed 47-89-89 mp "
	  "| start-boundary-missing@89" },
	{ "multipart header block ended by the end of input",
	  "Content-Type: multipart/mixed; boundary=a",
	  "- multipart/mixed 0-41-41 mp | truncated@41 "
	  "| start-boundary-missing@41" },
	{ "obsolete blanks before the colon (RFC 5322 4.5.3)",
	  "Subject : hello\nFrom: a@b.c\n\nbody\n",
	  "- text/plain 0-29-34" },
	{ "obsolete field name with tabs, folds of blanks only",
	  "Content-Type \t : text/html\r\n   \r\n\t\r\n ; charset=x\r\n"
	  "\r\n<p>\r\n",
	  "- text/html 0-52-57" },
	{ "blank inside a field name is no field",
	  "Subject: x\nFoo Bar: y\n\nbody\n",
	  "- text/plain 0-11-28 | bad-header-line@11" },
	{ "From with blanks then a colon is a field, not an mbox line",
	  "From : a@b.c\nFrom x Mon Jan  1 00:00:00 2001\n\nb\n",
	  "- text/plain 0-46-48 | bad-header-line@13" },
	{ "mixed line endings",
	  "Content-Type: multipart/mixed; boundary=b\r\n\n--b\r\n\nx\n"
	  "--b--\n",
	  "- multipart/mixed 0-44-58 mp; 1 text/plain 49-50-51" },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct mime_message *msg;
		char *got, *one;
		unsigned ch;

		msg = parse_chunked(c->input, strlen(c->input), 0, NULL, NULL);
		got = describe(msg);
		if (getenv("SHOW"))
			printf("%s\n  %s\n", c->name, got);
		if (strcmp(got, c->want) && !getenv("SHOW"))
			fail_msg("%s:\n got  %s\n want %s", c->name, got,
				 c->want);
		mime_message_free(&msg);
		for (ch = 1; ch < 6; ch++) {
			msg = parse_chunked(c->input, strlen(c->input), ch,
					    NULL, NULL);
			one = describe(msg);
			if (strcmp(got, one))
				fail_msg("%s, chunks %u:\n got  %s\n want %s",
					 c->name, ch, one, got);
			free(one);
			mime_message_free(&msg);
		}
		free(got);
	}
}

static void test_eol(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse_chunked("A: b\r\n\nx\n", 9, 0, NULL, NULL);
	assert_string_equal(msg->eol, "\r\n");
	mime_message_free(&msg);
	msg = parse_chunked("A: b\n\r\nx\r\n", 10, 1, NULL, NULL);
	assert_string_equal(msg->eol, "\n");
	mime_message_free(&msg);
}

/* Field values of the obsolete syntax: blanks before the colon leave the
 * name, a fold line of blanks only leaves the value. */
static void test_obsolete_fields(void **state)
{
	static const char in[] =
		"Subject :The obsolete syntax\r\n       \r\n and folding.\r\n"
		"Content-Type \t: text/plain;\r\n \t\r\n charset=latin1\r\n"
		"\r\nbody\r\n";
	struct mime_message *msg;
	unsigned ch;

	(void)state;
	for (ch = 0; ch < 3; ch++) {
		msg = parse_chunked(in, sizeof(in) - 1, ch, NULL, NULL);
		assert_int_equal(mime_part_header_count(msg->root), 2);
		assert_string_equal(mime_part_header_name(msg->root, 0),
				    "Subject");
		assert_string_equal(mime_part_header_get(msg->root, "subject"),
				    "The obsolete syntax and folding.");
		assert_string_equal(mime_part_charset(msg->root), "latin1");
		assert_int_equal(mime_message_defect_count(msg), 0);
		mime_message_free(&msg);
	}
}

/* Padding after a delimiter: at most MAX_PADDING blanks, then the line end
 * or anything; a longer run makes no delimiter. */
static void test_delimiter_padding(void **state)
{
	static const char *const tails[] = { "\n", "x\n", "--\n" };
	size_t pad, t;

	(void)state;
	for (pad = 511; pad <= 513; pad++) {
		for (t = 0; t < 3; t++) {
			struct pn_buf b;
			struct mime_message *msg, *one;
			char *d0, *d1;
			size_t base;

			pn_buf_init(&b, 0);
			assert_int_equal(pn_buf_adds(&b, "Content-Type: multipart/"
					 "mixed; boundary=b\n\n--b\n\nx\n--b"),
					 0);
			base = b.len;
			while (b.len < base + pad)
				assert_int_equal(pn_buf_addc(&b, pad % 2 ?
							     ' ' : '\t'), 0);
			assert_int_equal(pn_buf_adds(&b, tails[t]), 0);
			assert_int_equal(pn_buf_adds(&b, "\ny\n--b--\n"), 0);
			msg = parse_chunked(b.data, b.len, 0, NULL, NULL);
			one = parse_chunked(b.data, b.len, 1, NULL, NULL);
			d0 = describe(msg);
			d1 = describe(one);
			assert_string_equal(d0, d1);
			/* "--" after padding is junk, not a close */
			assert_int_equal(mime_part_child_count(msg->root),
					 pad > 512 ? 1 : 2);
			free(d0);
			free(d1);
			mime_message_free(&msg);
			mime_message_free(&one);
			pn_buf_free(&b);
		}
	}
}

/* A multipart without a start delimiter: no parts, not a leaf for the
 * sink, numbered as a multipart, written back byte for byte. */
static void test_no_start_multipart(void **state)
{
	static const char in[] =
		"Content-Type: multipart/mixed; boundary=A\n\n--A\n\nx\n--A\n"
		"Content-Type: message/rfc822\n\n"
		"Content-Type: multipart/mixed; boundary=B\n\npre\n--B--\nepi\n"
		"--A--\n";
	struct sinkrec r = { 0 };
	struct mime_message *msg;
	struct mime_part *nested;
	struct pn_buf out;
	struct pn_error err;
	char sec[16];

	(void)state;
	msg = parse_chunked(in, sizeof(in) - 1, 1, NULL, &r);
	assert_string_equal(pn_buf_cstr(&r.log), "<1>x</>");
	nested = mime_part_by_section(msg->root, "2")->first_child;
	assert_true(mime_part_is_multipart(nested));
	assert_int_equal(mime_part_child_count(nested), 0);
	assert_string_equal(nested->boundary, "B");
	assert_int_equal(mime_part_section(nested, sec, sizeof(sec)), 1);
	assert_string_equal(sec, "2");
	assert_null(mime_part_by_section(msg->root, "2.1"));
	assert_int_equal(mime_message_attach_mem(msg, in, sizeof(in) - 1,
						 false, &err), 0);
	pn_buf_init(&out, 0);
	assert_int_equal(mime_write_buf(msg->root, NULL, &out, &err), 0);
	assert_int_equal(out.len, sizeof(in) - 1);
	assert_memory_equal(out.data, in, out.len);
	pn_buf_free(&out);
	pn_buf_free(&r.log);
	mime_message_free(&msg);
}

/* ---- the sink ----------------------------------------------------------- */

static void test_sink(void **state)
{
	static const char in[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"pre\r\n--b\r\n\r\nline1\r\n\r\n--b\r\n"
		"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n"
		"inner\r\n--b--\r\nepi\r\n";
	const char *want = "<1>line1\r\n</><2.1>inner</>";
	unsigned ch;

	(void)state;
	for (ch = 0; ch < 8; ch++) {
		struct sinkrec r = { 0 };
		struct mime_message *msg;

		msg = parse_chunked(in, sizeof(in) - 1, ch, NULL, &r);
		assert_string_equal(pn_buf_cstr(&r.log), want);
		pn_buf_free(&r.log);
		mime_message_free(&msg);
	}
}

static int abort_begin(void *ctx, struct mime_part *part)
{
	(void)ctx;
	(void)part;
	return 1;
}

static void test_sink_abort(void **state)
{
	struct mime_leaf_sink sink = { NULL, abort_begin, NULL, NULL };
	struct mime_parser *p = mime_parser_new(NULL, &sink);
	struct mime_message *msg = NULL;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_parser_feed(p, "A: b\n\nbody\n", 11, &err), -1);
	assert_string_equal(err.msg, "MIME parser: aborted by the leaf sink");
	assert_int_equal(mime_parser_finish(p, &msg, &err), -1);
	assert_null(msg);
	mime_parser_free(&p);
	assert_null(p);

	/* finish hands the message over once */
	p = mime_parser_new(NULL, NULL);
	assert_int_equal(mime_parser_feed(p, "A: b\n\nx", 8, &err), 0);
	assert_int_equal(mime_parser_feed(p, NULL, 0, &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	assert_non_null(msg);
	mime_message_free(&msg);
	assert_int_equal(mime_parser_finish(p, &msg, &err), -1);
	assert_null(msg);
	assert_int_equal(mime_parser_feed(p, "x", 1, &err), -1);
	assert_string_equal(err.msg, "MIME parser: fed after finish");
	mime_parser_free(&p);
}

static int count_bytes(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(uint64_t *)ctx += len;
	return 0;
}

/* ---- the corpus ----------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct pn_buf b;
	char tmp[65536];
	size_t n;

	assert_non_null(f);
	pn_buf_init(&b, 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(pn_buf_add(&b, tmp, n), 0);
	fclose(f);
	return pn_buf_take(&b, len);
}

static int corpus_files(char ***out)
{
	DIR *d = opendir(CORPUS);
	struct dirent *e;
	char **v = NULL;
	int n = 0;

	if (!d) {
		print_error("corpus %s missing (run from the repo root with "
			    "../shared next to it)\n", CORPUS);
		fail();
	}
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".eml"))
			continue;
		v = realloc(v, sizeof(*v) * (size_t)(n + 1));
		assert_non_null(v);
		assert_true(asprintf(&v[n], "%s/%s", CORPUS, e->d_name) > 0);
		n++;
	}
	closedir(d);
	assert_true(n > 100);
	*out = v;
	return n;
}

static void free_files(char **v, int n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

static void test_corpus_chunking(void **state)
{
	char **files;
	int n = corpus_files(&files), i;

	(void)state;
	for (i = 0; i < n; i++) {
		size_t len;
		char *data = slurp(files[i], &len);
		struct sinkrec r0 = { 0 };
		struct mime_message *m0 = parse_chunked(data, len, 0, NULL, &r0);
		char *want = describe_full(m0);
		unsigned ch;

		for (ch = 1; ch < 5; ch++) {
			struct sinkrec r = { 0 };
			struct mime_message *m;
			char *got;

			m = parse_chunked(data, len, ch * 7919u - 7918u, NULL, &r);
			got = describe_full(m);
			if (strcmp(got, want))
				fail_msg("%s chunking %u:\n%s\n---\n%s",
					 files[i], ch, got, want);
			assert_int_equal(r.log.len, r0.log.len);
			assert_memory_equal(r.log.data, r0.log.data, r.log.len);
			free(got);
			pn_buf_free(&r.log);
			mime_message_free(&m);
		}
		free(want);
		pn_buf_free(&r0.log);
		mime_message_free(&m0);
		free(data);
	}
	free_files(files, n);
}

/* Corpus files for the start delimiter, delimiter line and obsolete
 * header rules, with their exact shape (mime4j's expectations for its
 * own files: ending-boundaries.xml, missing-inner-start-boundary.xml,
 * multipartnopart, obsolete.xml). */
static const struct tcase corpus_cases[] = {
	{ "031-cpython-msg_42.eml", NULL,
	  "- multipart/mixed 0-115-313 mp; 1 text/plain 158-159-165; "
	  "2 message/rfc822 172-202-304; 2 multipart/mixed 202-296-304 mp "
	  "| start-boundary-missing@296" },
	{ "093-mime4j-ending-boundaries.eml", NULL,
	  "- multipart/mixed 0-54-756 mp; 1 text/plain 118-146-158" },
	{ "100-mime4j-missing-inner-start-boundary.eml", NULL,
	  "- multipart/mixed 0-60-278 mp; 1 text/plain 96-124-129; "
	  "2 multipart/alternative 149-215-240 mp "
	  "| start-boundary-missing@215" },
	{ "104-mime4j-multipartnopart.eml", NULL,
	  "- multipart/mixed 0-202-317 mp | start-boundary-missing@202" },
	/* the field name with a raw 8-bit byte starts the body, as in
	 * Python (mime4j drops that line and goes on) */
	{ "105-mime4j-obsolete.eml", NULL,
	  "- text/plain 0-135-208 | bad-header-line@135" },
};

static void test_corpus_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]); i++) {
		char path[256], *data, *got;
		struct mime_message *msg;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", CORPUS,
			 corpus_cases[i].name);
		data = slurp(path, &len);
		msg = parse_chunked(data, len, 0, NULL, NULL);
		got = describe(msg);
		if (getenv("SHOW"))
			printf("%s\n  %s\n", corpus_cases[i].name, got);
		else if (strcmp(got, corpus_cases[i].want))
			fail_msg("%s:\n got  %s\n want %s",
				 corpus_cases[i].name, got,
				 corpus_cases[i].want);
		free(got);
		mime_message_free(&msg);
		free(data);
	}
}

/* Children inside parents and in order; a body starts after a blank line
 * unless the part says there was none; leaves' sink bytes are exactly
 * their [off_body, off_end). */
static void check_offsets(struct mime_part *part, const char *data, size_t len)
{
	struct mime_part *c;
	uint64_t prev = part->off_body;

	assert_true(part->off_start <= part->off_body);
	assert_true(part->off_body <= part->off_end);
	assert_true(part->off_end <= len);
	if (!part->no_blank_line && part->off_body > part->off_start)
		assert_int_equal(data[part->off_body - 1], '\n');
	if (!part->no_blank_line && part->off_body - part->off_start >= 2) {
		const char *b = data + part->off_body;

		assert_true(b[-2] == '\n' ||
			    (b[-2] == '\r' && part->off_body -
			     part->off_start >= 3 && b[-3] == '\n') ||
			    part->off_body - part->off_start == 2);
	}
	for (c = part->first_child; c; c = c->next) {
		assert_true(c->off_start >= prev);
		assert_true(c->off_end <= part->off_end);
		prev = c->off_end;
		check_offsets(c, data, len);
	}
}

static void test_corpus_offsets(void **state)
{
	char **files;
	int n = corpus_files(&files), i;

	(void)state;
	for (i = 0; i < n; i++) {
		struct mime_message *msg;
		struct pn_error err;
		size_t len;
		char *data = slurp(files[i], &len);

		assert_int_equal(mime_parse_mem(data, len, false, NULL, &msg,
						&err), 0);
		assert_int_equal(msg->root->off_end, len);
		check_offsets(msg->root, data, len);
		mime_message_free(&msg);
		free(data);
	}
	free_files(files, n);
}

static void test_parse_file_and_fd(void **state)
{
	char **files;
	int n = corpus_files(&files), i;

	(void)state;
	for (i = 0; i < n; i += 17) {
		struct mime_message *a, *b;
		struct pn_error err;
		char *da, *db;
		FILE *f;

		assert_int_equal(mime_parse_file(files[i], NULL, NULL, &a,
						 &err), 0);
		f = fopen(files[i], "rb");
		assert_non_null(f);
		assert_int_equal(mime_parse_fd(fileno(f), NULL, NULL, &b,
					       &err), 0);
		fclose(f);
		da = describe_full(a);
		db = describe_full(b);
		assert_string_equal(da, db);
		free(da);
		free(db);
		mime_message_free(&a);
		mime_message_free(&b);
	}
	free_files(files, n);
}

/* A pipe is spooled: in memory while small, then in a temporary file. */
static void test_parse_fd_pipe(void **state)
{
	static const size_t sizes[] = { 1000, 12u << 20 };
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct pn_buf b;
		struct mime_message *a, *m;
		struct pn_error err;
		struct counter { uint64_t n; } cnt = { 0 };
		int fds[2];
		pid_t pid;
		char *da, *dm;
		int status;

		pn_buf_init(&b, 0);
		assert_int_equal(pn_buf_adds(&b, "Content-Type: multipart/mixed;"
					     " boundary=q\n\n--q\n\n"), 0);
		while (b.len < sizes[k])
			assert_int_equal(pn_buf_adds(&b, "0123456789abcdef"
						     "0123456789abcdef\n"), 0);
		assert_int_equal(pn_buf_adds(&b, "--q\nContent-Type: text/x\n\n"
					     "last\n--q--\n"), 0);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			size_t off = 0;

			close(fds[0]);
			while (off < b.len) {
				ssize_t n = write(fds[1], b.data + off,
						  b.len - off);

				if (n <= 0)
					_exit(1);
				off += (size_t)n;
			}
			_exit(0);
		}
		close(fds[1]);
		assert_int_equal(mime_parse_fd(fds[0], NULL, NULL, &m, &err), 0);
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(mime_parse_mem(b.data, b.len, false, NULL, &a,
						&err), 0);
		da = describe_full(a);
		dm = describe_full(m);
		assert_string_equal(da, dm);
		assert_int_equal(mime_part_decode(mime_part_by_section(m->root,
						  "2"), count_bytes, &cnt, NULL,
						  &err), 0);
		assert_int_equal(cnt.n, 4);
		assert_true((m->src->fd >= 0) == (k == 1));
		free(da);
		free(dm);
		mime_message_free(&a);
		mime_message_free(&m);
		pn_buf_free(&b);
	}
}

static void test_parse_file_missing(void **state)
{
	struct mime_message *msg;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_parse_file("/nonexistent/x.eml", NULL, NULL,
					 &msg, &err), -1);
	assert_null(msg);
	assert_int_equal(err.code, PN_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/x.eml"));
}

/* ---- limits ----------------------------------------------------------------- */

static const struct mime_defect *find_defect(struct mime_message *msg,
					     enum mime_defect_kind kind)
{
	size_t i;

	for (i = 0; i < mime_message_defect_count(msg); i++)
		if (mime_message_defect(msg, i)->kind == kind)
			return mime_message_defect(msg, i);
	return NULL;
}

static void test_deep_nesting(void **state)
{
	struct pn_buf b;
	struct mime_message *msg;
	const struct mime_defect *d;
	struct mime_part *part;
	unsigned i, depth = 0;

	(void)state;
	pn_buf_init(&b, 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(pn_buf_printf(&b, "Content-Type: multipart/"
					       "mixed; boundary=\"b%u\"\n\n--b%u\n",
					       i, i), 0);
	assert_int_equal(pn_buf_adds(&b, "\nleaf\n"), 0);
	msg = parse_chunked(b.data, b.len, 0, NULL, NULL);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "nesting deeper than 64 levels (max_depth)");
	for (part = msg->root; part->first_child; part = part->first_child)
		depth++;
	assert_int_equal(depth, 64);
	assert_false(mime_part_is_multipart(part));
	assert_string_equal(mime_part_type(part), "multipart/mixed");
	/* end of input in an open multipart: the last EOL is not the part's */
	assert_int_equal(part->off_end, b.len - 1);
	mime_message_free(&msg);

	/* message/rfc822 nesting too, with a caller's limit */
	pn_buf_reset(&b);
	for (i = 0; i < 10000; i++)
		assert_int_equal(pn_buf_adds(&b, "Content-Type: message/rfc822"
					     "\n\n"), 0);
	msg = parse_chunked(b.data, b.len, 0,
			    &(struct mime_limits){ .max_depth = 10 }, NULL);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "nesting deeper than 10 levels (max_depth)");
	assert_int_equal(mime_part_depth(mime_part_by_section(msg->root,
		"1.1.1.1.1.1.1.1.1.1.1")), 10);
	assert_null(mime_part_by_section(msg->root,
		"1.1.1.1.1.1.1.1.1.1.1.1"));
	mime_message_free(&msg);
	pn_buf_free(&b);
}

static void test_many_parts(void **state)
{
	struct pn_buf b;
	struct mime_message *msg;
	const struct mime_defect *d;
	struct mime_part *last;
	unsigned i;

	(void)state;
	pn_buf_init(&b, 0);
	assert_int_equal(pn_buf_adds(&b, "Content-Type: multipart/mixed; "
				     "boundary=b\n\n"), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(pn_buf_printf(&b, "--b\n\npart %u\n", i), 0);
	assert_int_equal(pn_buf_adds(&b, "--b--\n"), 0);
	msg = parse_chunked(b.data, b.len, 0, NULL, NULL);
	assert_int_equal(msg->nparts, 10000);
	assert_int_equal(mime_part_child_count(msg->root), 9999);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "more than 10000 parts (max_parts)");
	/* the rest is the body of the last part */
	last = msg->root->last_child;
	assert_int_equal(last->off_end, b.len - 1);
	assert_null(find_defect(msg, MIME_DEFECT_CLOSE_BOUNDARY_MISSING));
	mime_message_free(&msg);
	pn_buf_free(&b);
}

static void test_huge_header(void **state)
{
	struct pn_buf b;
	struct mime_message *msg;
	const struct mime_defect *d;
	size_t i;

	(void)state;
	pn_buf_init(&b, 0);
	assert_int_equal(pn_buf_adds(&b, "Subject: ok\nX-Big: "), 0);
	for (i = 0; i < 300000; i++)
		assert_int_equal(pn_buf_addc(&b, 'a' + (char)(i % 26)), 0);
	assert_int_equal(pn_buf_adds(&b, "\n folded\nTo: a@b\n\nbody\n"), 0);
	msg = parse_chunked(b.data, b.len, 0, NULL, NULL);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "header field longer than 262144 bytes "
			    "(max_header_line), dropped");
	assert_int_equal(d->offset, 12);
	assert_int_equal(mime_part_header_count(msg->root), 2);
	assert_string_equal(mime_part_header_get(msg->root, "To"), "a@b");
	assert_null(mime_part_header_get(msg->root, "X-Big"));
	assert_int_equal(msg->root->off_body, b.len - 5);
	mime_message_free(&msg);

	/* many fields, and a big block */
	pn_buf_reset(&b);
	for (i = 0; i < 6000; i++)
		assert_int_equal(pn_buf_printf(&b, "X-%zu: v\n", i), 0);
	assert_int_equal(pn_buf_adds(&b, "\nbody\n"), 0);
	msg = parse_chunked(b.data, b.len, 0, NULL, NULL);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "more than 5000 header fields "
			    "(max_headers), rest dropped");
	assert_int_equal(mime_part_header_count(msg->root), 5000);
	mime_message_free(&msg);

	msg = parse_chunked(b.data, b.len, 0,
			    &(struct mime_limits){ .max_header_block = 1000 },
			    NULL);
	d = find_defect(msg, MIME_DEFECT_LIMIT);
	assert_non_null(d);
	assert_string_equal(d->msg, "header block larger than 1000 bytes "
			    "(max_header_block), rest dropped");
	assert_true(mime_part_header_count(msg->root) < 200);
	assert_int_equal(msg->root->off_body, b.len - 5);
	mime_message_free(&msg);
	pn_buf_free(&b);
}

/* ---- constant memory ------------------------------------------------------ */

struct counter {
	uint64_t bytes;
	int leaves;
};

static int cnt_begin(void *ctx, struct mime_part *part)
{
	(void)part;
	((struct counter *)ctx)->leaves++;
	return 0;
}

static int cnt_data(void *ctx, struct mime_part *part, const char *raw,
		    size_t len)
{
	(void)part;
	(void)raw;
	((struct counter *)ctx)->bytes += len;
	return 0;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_huge_body_constant_memory(void **state)
{
	static const char head[] =
		"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
		"--zz\r\nContent-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n";
	static const char tail[] = "\r\n--zz--\r\n";
	struct counter cnt = { 0 };
	struct mime_leaf_sink sink = { &cnt, cnt_begin, cnt_data, NULL };
	struct mime_parser *p = mime_parser_new(NULL, &sink);
	struct mime_message *msg;
	struct pn_error err;
	char *chunk = malloc(1 << 20);
	const uint64_t total = 200ull << 20;
	uint64_t fed = 0;
	long before;
	size_t i;

	(void)state;
	assert_non_null(chunk);
	for (i = 0; i < (1 << 20); i++)
		chunk[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' :
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789+/"[i % 64];
	before = maxrss_kb();
	assert_int_equal(mime_parser_feed(p, head, sizeof(head) - 1, &err), 0);
	while (fed < total) {
		/* odd sizes, so lines and CRLFs cross chunk edges */
		size_t n = (1 << 20) - (size_t)(fed % 977);

		assert_int_equal(mime_parser_feed(p, chunk, n, &err), 0);
		fed += n;
	}
	assert_int_equal(mime_parser_feed(p, tail, sizeof(tail) - 1, &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	assert_true(maxrss_kb() - before < 32 * 1024);
	assert_int_equal(cnt.leaves, 1);
	assert_int_equal(cnt.bytes, fed);
	assert_int_equal(mime_part_raw_size(msg->root->first_child), fed);
	assert_int_equal(mime_message_defect_count(msg), 0);
	mime_message_free(&msg);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_eol),
		cmocka_unit_test(test_obsolete_fields),
		cmocka_unit_test(test_delimiter_padding),
		cmocka_unit_test(test_no_start_multipart),
		cmocka_unit_test(test_sink),
		cmocka_unit_test(test_sink_abort),
		cmocka_unit_test(test_corpus_cases),
		cmocka_unit_test(test_corpus_chunking),
		cmocka_unit_test(test_corpus_offsets),
		cmocka_unit_test(test_parse_file_and_fd),
		cmocka_unit_test(test_parse_fd_pipe),
		cmocka_unit_test(test_parse_file_missing),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_many_parts),
		cmocka_unit_test(test_huge_header),
		cmocka_unit_test(test_huge_body_constant_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
