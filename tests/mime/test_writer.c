/* test_writer.c - the writer: byte-exact copies of the public corpus,
 * structure-aware rewriting of one changed leaf, line-ending conversion,
 * boundaries that avoid the content, built messages that parse back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../mime/mime_p.h"

#define CORPUS "../shared/corpus/mime-public"

static char *slurp(const char *path, size_t *len)
{
	struct pn_buf b;
	char chunk[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	pn_buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(pn_buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	return pn_buf_take(&b, len);
}

static struct mime_message *parse(const char *data, size_t len)
{
	struct mime_message *msg = NULL;
	struct pn_error err;

	if (mime_parse_mem(data, len, true, NULL, &msg, &err) < 0)
		fail_msg("parse: %s", err.msg);
	return msg;
}

static char *write_part(struct mime_part *part, const char *eol,
			size_t *len)
{
	struct mime_write_opts o = { .eol = eol };
	struct pn_buf out;
	struct pn_error err;

	pn_buf_init(&out, 0);
	if (mime_write_buf(part, &o, &out, &err) < 0)
		fail_msg("write: %s", err.msg);
	return pn_buf_take(&out, len);
}

struct corpus {
	char **names;
	size_t n;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void corpus_load(struct corpus *c)
{
	DIR *d = opendir(CORPUS);
	struct dirent *e;

	if (!d)
		fail_msg("cannot open %s (tests run from the repository root "
			 "next to ../shared): %s", CORPUS, strerror(errno));
	memset(c, 0, sizeof(*c));
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l < 5 || strcmp(e->d_name + l - 4, ".eml"))
			continue;
		c->names = realloc(c->names, (c->n + 1) * sizeof(char *));
		assert_non_null(c->names);
		assert_true(asprintf(&c->names[c->n++], "%s/%s", CORPUS,
				     e->d_name) > 0);
	}
	closedir(d);
	qsort(c->names, c->n, sizeof(char *), cmp_names);
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
}

/* Parse -> write with nothing changed gives the input back, byte for
 * byte, for every message of the public corpus. */
static void test_corpus_identity(void **state)
{
	struct corpus c;

	(void)state;
	corpus_load(&c);
	assert_true(c.n >= 168);
	for (size_t i = 0; i < c.n; i++) {
		size_t len, olen;
		char *data = slurp(c.names[i], &len), *out;
		struct mime_message *msg = parse(data, len);

		out = write_part(mime_message_root(msg), NULL, &olen);
		if (olen != len || memcmp(out, data, len) != 0)
			fail_msg("%s: output differs", c.names[i]);
		free(out);
		mime_message_free(&msg);
		free(data);
	}
	corpus_free(&c);
}

/* Also through a file source, as mime_parse_file keeps it. */
static void test_corpus_identity_file(void **state)
{
	struct corpus c;

	(void)state;
	corpus_load(&c);
	for (size_t i = 0; i < c.n; i += 7) {
		size_t len, olen;
		char *data = slurp(c.names[i], &len), *out;
		struct mime_message *msg = NULL;
		struct pn_error err;

		if (mime_parse_file(c.names[i], NULL, NULL, &msg, &err) < 0)
			fail_msg("%s: %s", c.names[i], err.msg);
		out = write_part(mime_message_root(msg), NULL, &olen);
		assert_int_equal(olen, len);
		assert_memory_equal(out, data, len);
		free(out);
		mime_message_free(&msg);
		free(data);
	}
	corpus_free(&c);
}

/* The deepest text leaf with a body, NULL if none. */
static int deepest_fn(struct mime_part *part, void *ctx)
{
	struct mime_part **best = ctx;

	if (part->first_child || part->off_end <= part->off_body ||
	    !strcmp(mime_part_maintype(part), "multipart"))
		return 0;
	if (mime_part_depth(part) < 2)
		return 0;
	if (!*best || mime_part_depth(part) > mime_part_depth(*best))
		*best = part;
	return 0;
}

/* Everything outside the changed leaf's body is unchanged. */
static void check_deep_change(const char *name, const char *data,
			      size_t len)
{
	static const char repl[] = "REPLACED\n";
	struct mime_message *msg = parse(data, len);
	struct mime_part *leaf = NULL;
	struct pn_error err;
	size_t olen, before, after;
	char *out;

	assert_int_equal(mime_walk(mime_message_root(msg), deepest_fn, &leaf),
			 0);
	if (!leaf) {
		mime_message_free(&msg);
		return;
	}
	before = leaf->off_body;
	after = len - leaf->off_end;
	/* The body changes; its fields stay as parsed. */
	if (mime_part_set_body(leaf, repl, sizeof(repl) - 1, MIME_CTE_8BIT,
			       &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	out = write_part(mime_message_root(msg), NULL, &olen);
	if (olen < before + after ||
	    memcmp(out, data, before) != 0 ||
	    memcmp(out + olen - after, data + len - after, after) != 0)
		fail_msg("%s: bytes outside the changed leaf differ", name);
	free(out);
	mime_message_free(&msg);
}

static void test_deep_leaf_change(void **state)
{
	struct corpus c;
	size_t tested = 0;

	(void)state;
	corpus_load(&c);
	for (size_t i = 0; i < c.n; i++) {
		size_t len;
		char *data = slurp(c.names[i], &len);

		check_deep_change(c.names[i], data, len);
		tested++;
		free(data);
	}
	assert_true(tested > 0);
	corpus_free(&c);
}

/* One leaf deep in a nested multipart changes; the writer copies the
 * rest and the result has exactly the new body where the old one was. */
static void test_deep_change_exact(void **state)
{
	static const char in[] =
		"From: a@b\r\nContent-Type: multipart/mixed; boundary=AA\r\n\r\n"
		"preamble\r\n--AA\r\nContent-Type: multipart/alternative; "
		"boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\n"
		"old text\r\n--BB\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n"
		"--BB--\r\n\r\n--AA\r\nContent-Type: image/png\r\n\r\npng\r\n"
		"--AA--\r\nepilogue\r\n";
	static const char want[] =
		"From: a@b\r\nContent-Type: multipart/mixed; boundary=AA\r\n\r\n"
		"preamble\r\n--AA\r\nContent-Type: multipart/alternative; "
		"boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\n"
		"new text\r\nline two\r\n--BB\r\nContent-Type: text/html\r\n\r\n"
		"<p>x</p>\r\n--BB--\r\n\r\n--AA\r\nContent-Type: image/png\r\n\r\n"
		"png\r\n--AA--\r\nepilogue\r\n";
	struct mime_message *msg = parse(in, sizeof(in) - 1);
	struct mime_part *leaf = mime_part_by_section(mime_message_root(msg),
						      "1.1");
	struct pn_error err;
	size_t olen;
	char *out;

	(void)state;
	assert_non_null(leaf);
	/* No trailing newline: the delimiter's CRLF ends the line. */
	assert_int_equal(mime_part_set_body(leaf, "new text\nline two", 17,
					    MIME_CTE_7BIT, &err), 0);
	out = write_part(mime_message_root(msg), NULL, &olen);
	assert_int_equal(olen, sizeof(want) - 1);
	assert_memory_equal(out, want, olen);
	free(out);
	mime_message_free(&msg);
}

/* A field added to a parsed part is formatted; parsed ones stay raw. */
static void test_header_change(void **state)
{
	static const char in[] = "Subject: =?utf-8?q?caf=C3=A9?=\n"
				 "X-Odd:   spaced  \n\nbody\n";
	static const char want[] = "Subject: =?utf-8?q?caf=C3=A9?=\n"
				   "X-Odd:   spaced  \nX-New: yes\n\nbody\n";
	struct mime_message *msg = parse(in, sizeof(in) - 1);
	struct pn_error err;
	size_t olen;
	char *out;

	(void)state;
	assert_int_equal(mime_part_header_add(mime_message_root(msg), "X-New",
					      "yes", &err), 0);
	out = write_part(mime_message_root(msg), NULL, &olen);
	assert_int_equal(olen, sizeof(want) - 1);
	assert_memory_equal(out, want, olen);
	free(out);
	mime_message_free(&msg);
}

static int touch_fn(struct mime_part *part, void *ctx)
{
	(void)ctx;
	if (mime_part_is_multipart(part) && part->first_child)
		mime_part_touch(part, false);
	return 0;
}

struct flat {
	char *types[MIME_DEFAULT_MAX_PARTS / 100];
	struct pn_buf data[MIME_DEFAULT_MAX_PARTS / 100];
	size_t n;
};

static int buf_fn(void *ctx, const char *data, size_t len)
{
	return pn_buf_add(ctx, data, len);
}

static int flat_fn(struct mime_part *part, void *ctx)
{
	struct flat *f = ctx;
	struct pn_error err;

	if (f->n == sizeof(f->types) / sizeof(f->types[0]))
		return 1;
	f->types[f->n] = strdup(mime_part_type(part));
	pn_buf_init(&f->data[f->n], 0);
	/* A multipart the parser could not split has no content to
	 * compare: its body is preamble to whoever reads it next. */
	if (!part->first_child &&
	    strcmp(mime_part_maintype(part), "multipart") != 0 &&
	    mime_part_decode(part, buf_fn, &f->data[f->n], NULL, &err) < 0)
		fail_msg("decode: %s", err.msg);
	f->n++;
	return 0;
}

static void flat_free(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->types[i]);
		pn_buf_free(&f->data[i]);
	}
}

/* Every multipart of every corpus message rebuilt with new delimiter
 * lines: the result parses to the same types and decoded leaves. */
static void test_corpus_rebuild(void **state)
{
	struct corpus c;

	(void)state;
	corpus_load(&c);
	for (size_t i = 0; i < c.n; i++) {
		size_t len, olen;
		char *data = slurp(c.names[i], &len), *out;
		struct mime_message *msg = parse(data, len), *back;
		struct flat a = { .n = 0 }, b = { .n = 0 };

		assert_int_equal(mime_walk(mime_message_root(msg), flat_fn, &a),
				 0);
		assert_int_equal(mime_walk(mime_message_root(msg), touch_fn,
					   NULL), 0);
		out = write_part(mime_message_root(msg), NULL, &olen);
		back = parse(out, olen);
		assert_int_equal(mime_walk(mime_message_root(back), flat_fn,
					   &b), 0);
		if (a.n != b.n)
			fail_msg("%s: %zu parts, then %zu", c.names[i], a.n,
				 b.n);
		for (size_t k = 0; k < a.n; k++) {
			if (strcmp(a.types[k], b.types[k]) ||
			    a.data[k].len != b.data[k].len ||
			    memcmp(pn_buf_cstr(&a.data[k]),
				   pn_buf_cstr(&b.data[k]), a.data[k].len))
				fail_msg("%s: part %zu (%s) differs",
					 c.names[i], k, a.types[k]);
		}
		flat_free(&a);
		flat_free(&b);
		mime_message_free(&back);
		free(out);
		mime_message_free(&msg);
		free(data);
	}
	corpus_free(&c);
}

static bool has_bare_lf(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return true;
	}
	return false;
}

static bool has_cr(const char *s, size_t n)
{
	return memchr(s, '\r', n) != NULL;
}

/* CRLF <-> LF over the corpus: every line ending is converted, and the
 * converted message parses to the same tree and decoded content. */
static void test_eol_conversion_corpus(void **state)
{
	struct corpus c;

	(void)state;
	corpus_load(&c);
	for (size_t i = 0; i < c.n; i++) {
		size_t len, nlen, clen, back_len;
		char *data = slurp(c.names[i], &len), *lf, *crlf, *back;
		struct mime_message *msg = parse(data, len), *m2;

		lf = write_part(mime_message_root(msg), "\n", &nlen);
		crlf = write_part(mime_message_root(msg), "\r\n", &clen);
		if (!has_cr(data, len) && has_cr(lf, nlen))
			fail_msg("%s: CR left in LF output", c.names[i]);
		if (!memchr(data, '\r', len) && has_bare_lf(crlf, clen)) {
			/* Only binary bodies may keep a bare LF. */
			bool binary = strstr(data, "binary") != NULL;

			if (!binary)
				fail_msg("%s: bare LF in CRLF output",
					 c.names[i]);
		}
		/* Converting back to LF from the CRLF form gives the LF form. */
		m2 = parse(crlf, clen);
		back = write_part(mime_message_root(m2), "\n", &back_len);
		if (back_len != nlen || memcmp(back, lf, nlen))
			fail_msg("%s: LF -> CRLF -> LF differs", c.names[i]);
		assert_int_equal(mime_message_root(m2)->msg->nparts,
				 mime_message_root(msg)->msg->nparts);
		free(back);
		mime_message_free(&m2);
		free(lf);
		free(crlf);
		mime_message_free(&msg);
		free(data);
	}
	corpus_free(&c);
}

static void test_eol_binary_untouched(void **state)
{
	static const char in[] =
		"Content-Type: multipart/mixed; boundary=X\n\n--X\n"
		"Content-Type: application/octet-stream\n"
		"Content-Transfer-Encoding: binary\n\na\nb\r\nc\n--X\n"
		"Content-Type: text/plain\n\nx\ny\n--X--\n";
	static const char want[] =
		"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n"
		"Content-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: binary\r\n\r\na\nb\r\nc\r\n--X\r\n"
		"Content-Type: text/plain\r\n\r\nx\r\ny\r\n--X--\r\n";
	struct mime_message *msg = parse(in, sizeof(in) - 1);
	size_t olen;
	char *out;

	(void)state;
	out = write_part(mime_message_root(msg), "\r\n", &olen);
	assert_int_equal(olen, sizeof(want) - 1);
	assert_memory_equal(out, want, olen);
	free(out);
	mime_message_free(&msg);
}

static struct mime_message *built(struct mime_manager *raw, const char *text,
				  const char *html)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg);
	struct mime_set_opts ho = { .subtype = "html" };
	struct mime_set_opts ao = { .maintype = "application",
				    .subtype = "pdf", .filename = "a.pdf" };
	struct mime_bytes pdf = { "%PDF-1.4 fake\n\x00\x01", 16 };
	struct pn_error err;

	assert_int_equal(mime_part_header_add(root, "From", "a@example.org",
					      &err), 0);
	assert_int_equal(mime_part_header_add(root, "Subject", "built", &err),
			 0);
	assert_int_equal(mime_set_content(raw, root, "text", text, NULL, &err),
			 0);
	assert_int_equal(mime_add_alternative(root, raw, "text", html, &ho,
					      NULL, &err), 0);
	assert_int_equal(mime_add_attachment(root, raw, "bytes", &pdf, &ao,
					     NULL, &err), 0);
	return msg;
}

static void check_built(struct mime_manager *raw, struct mime_message *back,
			const char *text, const char *html)
{
	struct mime_part *r = mime_message_root(back), *alt, *p;
	struct mime_content c;
	struct pn_error err;

	assert_string_equal(mime_part_type(r), "multipart/mixed");
	assert_int_equal(mime_part_child_count(r), 2);
	alt = mime_part_first_child(r);
	assert_string_equal(mime_part_type(alt), "multipart/alternative");
	p = mime_get_body(r, (const char *const[]){ "plain" }, 1);
	assert_int_equal(mime_get_content(raw, p, &c, &err), 0);
	assert_string_equal(c.data, text);
	mime_content_clear(&c);
	p = mime_get_body(r, (const char *const[]){ "html" }, 1);
	assert_int_equal(mime_get_content(raw, p, &c, &err), 0);
	assert_string_equal(c.data, html);
	mime_content_clear(&c);
	p = mime_part_next(alt);
	assert_string_equal(mime_part_filename(p), "a.pdf");
	assert_int_equal(mime_get_content(raw, p, &c, &err), 0);
	assert_int_equal(c.len, 16);
	assert_memory_equal(c.data, "%PDF-1.4 fake\n\x00\x01", 16);
	mime_content_clear(&c);
	assert_string_equal(mime_part_header_get(r, "Subject"), "built");
	assert_string_equal(mime_part_header_get(r, "MIME-Version"), "1.0");
}

static void test_built_round_trip(void **state)
{
	static const char *const eols[] = { NULL, "\r\n", "\n" };
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg = built(raw, "hello\n", "<p>hello</p>\n");

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t len, len2;
		char *out = write_part(mime_message_root(msg), eols[i], &len);
		struct mime_message *back = parse(out, len);
		char *again;

		if (!eols[i] || eols[i][0] == '\r')
			assert_false(has_bare_lf(out, len));
		else
			assert_false(has_cr(out, len));
		check_built(raw, back, "hello\n", "<p>hello</p>\n");
		/* Writing again gives the same bytes: the boundaries stuck. */
		again = write_part(mime_message_root(msg), eols[i], &len2);
		assert_int_equal(len, len2);
		assert_memory_equal(out, again, len);
		free(again);
		mime_message_free(&back);
		free(out);
	}
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

static int count_fn(struct mime_part *part, void *ctx)
{
	(void)part;
	++*(size_t *)ctx;
	return 0;
}

/* Content holding what would be a delimiter line: a boundary given by
 * the caller that occurs in the content is replaced; ours never
 * collide. */
static void test_boundary_collision(void **state)
{
	static const char text[] = "before\n--abc\nmiddle\n--abc--\nafter\n";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg = mime_message_new(), *back;
	struct mime_part *root = mime_message_root(msg);
	struct mime_content c;
	struct pn_error err;
	size_t len, n = 0;
	char *out;
	const char *b;

	(void)state;
	assert_int_equal(mime_make_mixed(root, "abc", &err), 0);
	assert_int_equal(mime_add_attachment(root, raw, "text", text, NULL,
					     NULL, &err), 0);
	assert_int_equal(mime_add_attachment(root, raw, "text", "second\n",
					     NULL, NULL, &err), 0);
	out = write_part(root, NULL, &len);
	b = mime_part_param(root, "boundary");
	assert_string_not_equal(b, "abc");
	assert_int_equal(strncmp(b, "=_postern_", 10), 0);
	assert_null(memmem(text, sizeof(text) - 1, b, strlen(b)));
	back = parse(out, len);
	assert_int_equal(mime_walk(mime_message_root(back), count_fn, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(mime_get_content(raw, mime_part_first_child(
				mime_message_root(back)), &c, &err), 0);
	assert_string_equal(c.data, text);
	mime_content_clear(&c);
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* A boundary of ours that the content happens to contain: the text is a
 * 7bit body holding "=_postern_" lines; the chosen boundary is not in it
 * and the message parses back to the same parts. */
static void test_boundary_prefix_in_content(void **state)
{
	static const char text[] = "--=_postern_\n--=_postern_AAAA\n"
				   "=_postern_=_postern_\n";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg = mime_message_new(), *back;
	struct mime_part *root = mime_message_root(msg);
	struct mime_content c;
	struct pn_error err;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", text, NULL, &err),
			 0);
	assert_int_equal(mime_add_attachment(root, raw, "text", text, NULL,
					     NULL, &err), 0);
	out = write_part(root, "\n", &len);
	back = parse(out, len);
	assert_int_equal(mime_part_child_count(mime_message_root(back)), 2);
	for (struct mime_part *p = mime_part_first_child(
		     mime_message_root(back)); p; p = mime_part_next(p)) {
		assert_int_equal(mime_get_content(raw, p, &c, &err), 0);
		assert_string_equal(c.data, text);
		mime_content_clear(&c);
	}
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* Adding an attachment to a parsed message keeps the parsed parts'
 * bytes, the preamble and the epilogue. */
static void test_add_to_parsed(void **state)
{
	static const char in[] =
		"From: a@b\nContent-Type: multipart/mixed; boundary=\"q\"\n\n"
		"the preamble\n\n--q\nContent-Type: text/plain\n\nkeep me\n"
		"--q--\nthe epilogue\n";
	static const char want[] =
		"From: a@b\nContent-Type: multipart/mixed; boundary=\"q\"\n\n"
		"the preamble\n\n--q\nContent-Type: text/plain\n\nkeep me\n"
		"--q\n";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg = parse(in, sizeof(in) - 1), *back;
	struct mime_part *root = mime_message_root(msg);
	struct pn_error err;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(mime_add_attachment(root, raw, "text", "new\n", NULL,
					     NULL, &err), 0);
	out = write_part(root, NULL, &len);
	assert_int_equal(strncmp(out, want, sizeof(want) - 1), 0);
	assert_non_null(strstr(out, "\n--q--\nthe epilogue\n"));
	back = parse(out, len);
	assert_int_equal(mime_part_child_count(mime_message_root(back)), 2);
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* Promoting a parsed text message moves its body into a subpart that is
 * still copied from the source. */
static void test_promote_parsed(void **state)
{
	static const char in[] = "From: a@b\nContent-Type: text/plain; "
				 "charset=latin1\n\nbody line\xe9\n";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg = parse(in, sizeof(in) - 1), *back;
	struct mime_part *root = mime_message_root(msg);
	struct mime_content c;
	struct pn_error err;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(mime_add_attachment(root, raw, "text", "att\n", NULL,
					     NULL, &err), 0);
	out = write_part(root, NULL, &len);
	back = parse(out, len);
	assert_int_equal(mime_part_child_count(mime_message_root(back)), 2);
	assert_int_equal(mime_get_content(raw, mime_part_first_child(
				mime_message_root(back)), &c, &err), 0);
	assert_string_equal(c.data, "body line\xc3\xa9\n");
	mime_content_clear(&c);
	assert_string_equal(mime_part_header_get(mime_message_root(back),
						 "From"), "a@b");
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* Promoting a parsed multipart/alternative to mixed: the alternative
 * (preamble, delimiters, parts) is copied as it was, under new fields. */
static void test_promote_parsed_multipart(void **state)
{
	static const char body[] =
		"pre\r\n--alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
		"--alt\r\nContent-Type: text/html\r\n\r\n<p>h</p>\r\n"
		"--alt--\r\nepi\r\n";
	static const char head[] =
		"From: a@b\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=alt\r\n\r\n";
	static const char outer[] = "From: a@b\r\nMIME-Version: 1.0\r\n"
				    "Content-Type: multipart/mixed;";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *msg, *back;
	struct mime_part *root, *alt;
	struct pn_error err;
	char in[512], *out;
	size_t len;

	(void)state;
	snprintf(in, sizeof(in), "%s%s", head, body);
	msg = parse(in, strlen(in));
	root = mime_message_root(msg);
	assert_int_equal(mime_add_attachment(root, raw, "text", "att", NULL,
					     NULL, &err), 0);
	out = write_part(root, NULL, &len);
	assert_int_equal(strncmp(out, outer, sizeof(outer) - 1), 0);
	assert_non_null(strstr(out, "Content-Type: multipart/alternative; "
				    "boundary=alt\r\n\r\n"));
	assert_non_null(strstr(out, body));
	back = parse(out, len);
	alt = mime_part_first_child(mime_message_root(back));
	assert_string_equal(mime_part_type(alt), "multipart/alternative");
	assert_int_equal(mime_part_child_count(alt), 2);
	assert_false(has_bare_lf(out, len));
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* CRLF in, LF out: every line ending, fields, delimiters and bodies. */
static void test_eol_crlf_to_lf(void **state)
{
	static const char in[] =
		"Subject: s\r\n folded\r\nContent-Type: multipart/mixed; "
		"boundary=Z\r\n\r\n--Z\r\nContent-Transfer-Encoding: "
		"quoted-printable\r\n\r\nsoft=\r\nbreak\r\n--Z\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nYWJj\r\n--Z--\r\n";
	static const char want[] =
		"Subject: s\n folded\nContent-Type: multipart/mixed; "
		"boundary=Z\n\n--Z\nContent-Transfer-Encoding: "
		"quoted-printable\n\nsoft=\nbreak\n--Z\n"
		"Content-Transfer-Encoding: base64\n\nYWJj\n--Z--\n";
	struct mime_message *msg = parse(in, sizeof(in) - 1);
	size_t len;
	char *out = write_part(mime_message_root(msg), "\n", &len);

	(void)state;
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(out, want, len);
	free(out);
	out = write_part(mime_message_root(msg), "\r\n", &len);
	assert_int_equal(len, sizeof(in) - 1);
	assert_memory_equal(out, in, len);
	free(out);
	mime_message_free(&msg);
}

/* A message moved into a message/rfc822 part is written from its own
 * source. */
static void test_forward_parsed(void **state)
{
	static const char in[] = "From: x@y\nSubject: inner\n\ninner body\n";
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_message *inner = parse(in, sizeof(in) - 1);
	struct mime_message *msg = mime_message_new(), *back;
	struct mime_part *root = mime_message_root(msg), *p;
	struct pn_error err;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", "see below", NULL,
					  &err), 0);
	assert_int_equal(mime_add_attachment(root, raw, "message", inner, NULL,
					     NULL, &err), 0);
	mime_message_free(&inner);
	out = write_part(root, NULL, &len);
	assert_non_null(strstr(out, "From: x@y\nSubject: inner\n\ninner body\n"));
	back = parse(out, len);
	p = mime_part_by_section(mime_message_root(back), "2");
	assert_true(mime_part_is_message(p));
	assert_string_equal(mime_part_header_get(mime_part_first_child(p),
						 "Subject"), "inner");
	mime_message_free(&back);
	free(out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* A failure names the part. */
static void test_error_names_part(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg), *p;
	struct mime_manager *raw = mime_raw_manager_new();
	struct pn_buf out;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", "x", NULL, &err),
			 0);
	assert_int_equal(mime_add_attachment(root, raw, "text", "y", NULL, &p,
					     &err), 0);
	p->body_path = strdup("/nonexistent/postern-test-file");
	p->body_path_cte = MIME_CTE_BASE64;
	pn_buf_init(&out, 0);
	assert_int_equal(mime_write_buf(root, NULL, &out, &err), -1);
	assert_non_null(strstr(err.msg, "part 2: open /nonexistent/"));
	pn_buf_free(&out);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

/* A parsed message whose source was never attached cannot be copied. */
static void test_no_source(void **state)
{
	static const char in[] = "Subject: x\n\nbody\n";
	struct mime_parser *p = mime_parser_new(NULL, NULL);
	struct mime_message *msg = NULL;
	struct pn_buf out;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_parser_feed(p, in, sizeof(in) - 1, &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	pn_buf_init(&out, 0);
	assert_int_equal(mime_write_buf(mime_message_root(msg), NULL, &out,
					&err), -1);
	assert_string_equal(err.msg, "message: message has no source to copy "
			    "from (mime_message_attach_*)");
	assert_int_equal(mime_message_attach_mem(msg, in, sizeof(in) - 1,
						 false, &err), 0);
	assert_int_equal(mime_write_buf(mime_message_root(msg), NULL, &out,
					&err), 0);
	assert_string_equal(pn_buf_cstr(&out), in);
	pn_buf_free(&out);
	mime_message_free(&msg);
}

static int refusing_sink(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 1;
}

static void test_bad_args(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_write_opts o = { .eol = "\r" };
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_write(mime_message_root(msg), &o, refusing_sink,
				    NULL, &err), -1);
	assert_string_equal(err.msg, "line ending must be CRLF or LF");
	assert_int_equal(mime_write(mime_message_root(msg), NULL,
				    refusing_sink, NULL, &err), -1);
	assert_int_equal(mime_write(NULL, NULL, refusing_sink, NULL, &err),
			 -1);
	assert_int_equal(mime_write_fd(mime_message_root(msg), NULL, -1, &err),
			 -1);
	mime_message_free(&msg);
}

/* An empty built multipart still has one (empty) body part, as email6
 * writes it. */
static void test_empty_multipart(void **state)
{
	struct mime_message *msg = mime_message_new(), *back;
	struct pn_error err;
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(mime_make_mixed(mime_message_root(msg), "b1", &err),
			 0);
	out = write_part(mime_message_root(msg), "\n", &len);
	assert_string_equal(out, "Content-Type: multipart/mixed; boundary=b1\n"
				 "\n--b1\n\n--b1--\n");
	back = parse(out, len);
	assert_true(mime_part_is_multipart(mime_message_root(back)));
	mime_message_free(&back);
	free(out);
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_identity),
		cmocka_unit_test(test_corpus_identity_file),
		cmocka_unit_test(test_deep_leaf_change),
		cmocka_unit_test(test_deep_change_exact),
		cmocka_unit_test(test_header_change),
		cmocka_unit_test(test_corpus_rebuild),
		cmocka_unit_test(test_eol_conversion_corpus),
		cmocka_unit_test(test_eol_binary_untouched),
		cmocka_unit_test(test_built_round_trip),
		cmocka_unit_test(test_boundary_collision),
		cmocka_unit_test(test_boundary_prefix_in_content),
		cmocka_unit_test(test_add_to_parsed),
		cmocka_unit_test(test_promote_parsed),
		cmocka_unit_test(test_promote_parsed_multipart),
		cmocka_unit_test(test_eol_crlf_to_lf),
		cmocka_unit_test(test_forward_parsed),
		cmocka_unit_test(test_error_names_part),
		cmocka_unit_test(test_no_source),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_empty_multipart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
