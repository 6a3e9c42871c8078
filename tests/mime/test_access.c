/* test_access.c - get_body preference cases and iter_attachments.
 *
 * The cases follow the email6 get_body matrix: for each message, the
 * walk index of the first related, html and plain body (-1: none), the
 * attachments iter_attachments yields and the parts iter_parts yields.
 * Every ordered choice of preferences is checked against those three.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../mime/mime.h"

struct access_case {
	const char *name;
	int related, html, plain;
	int attachments[4];	/* walk indices, -1 ends */
	int parts[4];		/* walk indices, -1 ends */
	const char *text;
};

static const struct access_case cases[] = {
	{ "empty", -1, -1, 0, { -1 }, { -1 }, "" },
	{ "non_mime_plain", -1, -1, 0, { -1 }, { -1 },
	  "To: a@example.org\n\njust text\n" },
	{ "mime_non_text", -1, -1, -1, { -1 }, { -1 },
	  "To: a@example.org\nMIME-Version: 1.0\nContent-Type: image/png\n\n"
	  "not really a png\n" },
	{ "alternative_plain_html", -1, 2, 1, { -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=\"xx\"\n\n"
	  "preamble text\n\n--xx\nContent-Type: text/plain\n\nhello\n\n"
	  "--xx\nContent-Type: text/html\n\n<b>hello</b>\n--xx--\n" },
	{ "mixed_plain_html", -1, 2, 1, { -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\n\nhello\n\n"
	  "--xx\nContent-Type: text/html\n\n<b>hello</b>\n\n--xx--\n" },
	{ "mixed_plain_html_attached", -1, -1, 1, { 2, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\n\nhello\n\n"
	  "--xx\nContent-Type: text/html\nContent-Disposition: attachment\n\n"
	  "<b>hello</b>\n\n--xx--\n" },
	{ "mixed_plain_attached_html", -1, 2, -1, { 1, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\nContent-Disposition: AtTacHment\n\n"
	  "hello\n\n--xx\nContent-Type: text/html\n\n<b>hello</b>\n\n--xx--\n" },
	{ "mixed_inline_both", -1, 2, 1, { -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\nContent-Disposition: InLine\n\n"
	  "hello\n\n--xx\nContent-Type: text/html\nContent-Disposition: inline"
	  "\n\n<b>hello</b>\n\n--xx--\n" },
	{ "related", 0, 1, -1, { 2, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/related; boundary=\"xx\"; type=text/html\n\n"
	  "--xx\nContent-Type: text/html\n\n<img src=\"cid:pic\">\n\n"
	  "--xx\nContent-Type: image/png\nContent-ID: <pic>\n\nbytes\n\n"
	  "--xx--\n" },
	{ "related_start", 0, 2, -1, { 1, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/related; boundary=\"xx\"; type=text/html;\n"
	  " start=\"<root@x>\"\n\n"
	  "--xx\nContent-Type: text/html\nContent-ID: <inc@x>\n\nincluded\n\n"
	  "--xx\nContent-Type: text/html\nContent-ID: <root@x>\n\n"
	  "<p>root</p>\n\n--xx--\n" },
	{ "related_start_unknown", 0, 1, -1, { 2, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/related; boundary=\"xx\"; start=\"<no@x>\"\n\n"
	  "--xx\nContent-Type: text/html\nContent-ID: <a@x>\n\nfirst\n\n"
	  "--xx\nContent-Type: text/html\nContent-ID: <b@x>\n\nsecond\n\n"
	  "--xx--\n" },
	{ "mixed_alternative_plain_related", 3, 4, 2, { 6, 7, -1 },
	  { 1, 6, 7, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"AA\"\n\n"
	  "--AA\nContent-Type: multipart/alternative; boundary=\"BB\"\n\n"
	  "--BB\nContent-Type: text/plain\n\nplain body\n\n"
	  "--BB\nContent-Type: multipart/related; boundary=\"CC\"\n\n"
	  "--CC\nContent-Type: text/html\n\n<p>html body</p>\n\n"
	  "--CC\nContent-Type: image/png\nContent-ID: <i@x>\n\npng\n\n"
	  "--CC--\n\n--BB--\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: attachment\n\n"
	  "png one\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: ATTACHMENT\n\n"
	  "png two\n\n--AA--\n" },
	{ "mixed_related_alternative", 1, 4, 3, { 6, 7, -1 }, { 1, 6, 7, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"AA\"\n\n"
	  "--AA\nContent-Type: multipart/related; boundary=\"BB\"\n\n"
	  "--BB\nContent-Type: multipart/alternative; boundary=\"CC\"\n\n"
	  "--CC\nContent-Type: text/plain\n\nplain body\n\n"
	  "--CC\nContent-Type: text/html\n\n<p>html body</p>\n\n--CC--\n\n"
	  "--BB\nContent-Type: image/png\nContent-ID: <i@x>\n\npng\n\n"
	  "--BB--\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: attachment\n\n"
	  "png one\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: attachment\n\n"
	  "png two\n\n--AA--\n" },
	/* The root of a related is its first part: an image there hides
	 * the alternative after it. */
	{ "mixed_related_wrong_order", 1, -1, -1, { 6, 7, -1 },
	  { 1, 6, 7, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"AA\"\n\n"
	  "--AA\nContent-Type: multipart/related; boundary=\"BB\"\n\n"
	  "--BB\nContent-Type: image/png\nContent-ID: <i@x>\n\npng\n\n"
	  "--BB\nContent-Type: multipart/alternative; boundary=\"CC\"\n\n"
	  "--CC\nContent-Type: text/plain\n\nplain body\n\n"
	  "--CC\nContent-Type: text/html\n\n<p>html body</p>\n\n--CC--\n\n"
	  "--BB--\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: attachment\n\n"
	  "png one\n\n"
	  "--AA\nContent-Type: image/png\nContent-Disposition: attachment\n\n"
	  "png two\n\n--AA--\n" },
	{ "message_rfc822", -1, -1, -1, { -1 }, { -1 },
	  "To: a@example.org\nMIME-Version: 1.0\nContent-Type: message/rfc822\n"
	  "\nTo: b@example.org\nFrom: c@example.org\n\ninner body\n" },
	{ "mixed_text_rfc822", -1, -1, 1, { 2, -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\n\nIt bounced.\n\n"
	  "--xx\nContent-Type: message/rfc822\n\nTo: b@example.org\n"
	  "From: c@example.org\n\ninner body\n\n--xx--\n" },
	/* Alternative has no attachments at all. */
	{ "alternative_with_image", -1, -1, 1, { -1 }, { 1, 2, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\n\nhello\n\n"
	  "--xx\nContent-Type: image/png\n\npng\n\n--xx--\n" },
	/* Only the first of each body type is a body; a second plain is an
	 * attachment. */
	{ "mixed_two_plains", -1, -1, 1, { 2, 3, -1 }, { 1, 2, 3, -1 },
	  "To: a@example.org\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"xx\"\n\n"
	  "--xx\nContent-Type: text/plain\n\none\n\n"
	  "--xx\nContent-Type: text/plain\n\ntwo\n\n"
	  "--xx\nContent-Type: application/pdf\n\npdf\n\n--xx--\n" },
};

#define MAXP 16

struct collect {
	struct mime_part *v[MAXP];
	size_t n;
};

static int collect_fn(struct mime_part *part, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < MAXP)
		c->v[c->n++] = part;
	return 0;
}

static struct mime_message *parse(const char *text)
{
	struct mime_message *msg = NULL;
	struct pn_error err;

	if (mime_parse_mem(text, strlen(text), false, NULL, &msg, &err) < 0)
		fail_msg("parse: %s", err.msg);
	return msg;
}

static struct mime_part *expected_for(const struct access_case *c,
				      struct collect *all, const char *pref)
{
	int i = !strcmp(pref, "related") ? c->related
	      : !strcmp(pref, "html") ? c->html : c->plain;

	return i < 0 ? NULL : all->v[i];
}

/* Every ordered selection of the three preferences (15 lists). */
static void check_prefs(const struct access_case *c, struct mime_part *root,
			struct collect *all)
{
	static const char *const names[] = { "related", "html", "plain" };
	const char *prefs[3];

	for (int a = 0; a < 3; a++) {
		for (int b = -1; b < 3; b++) {
			for (int d = -1; d < 3; d++) {
				size_t n = 1;
				struct mime_part *want = NULL;

				if ((b < 0 && d >= 0) || b == a || d == a ||
				    (d >= 0 && d == b))
					continue;
				prefs[0] = names[a];
				if (b >= 0)
					prefs[n++] = names[b];
				if (d >= 0)
					prefs[n++] = names[d];
				for (size_t k = 0; k < n && !want; k++)
					want = expected_for(c, all, prefs[k]);
				if (mime_get_body(root, prefs, n) != want)
					fail_msg("%s: prefs %s,%s,%s", c->name,
						 prefs[0], n > 1 ? prefs[1] : "",
						 n > 2 ? prefs[2] : "");
			}
		}
	}
}

static void check_list(const char *what, const struct access_case *c,
		       struct collect *all, const int *want,
		       const struct collect *got)
{
	size_t n = 0;

	while (n < 4 && want[n] >= 0)
		n++;
	if (got->n != n)
		fail_msg("%s %s: %zu parts, want %zu", c->name, what, got->n,
			 n);
	for (size_t i = 0; i < n; i++) {
		if (got->v[i] != all->v[want[i]])
			fail_msg("%s %s: item %zu differs", c->name, what, i);
	}
}

static void test_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct access_case *c = &cases[i];
		struct mime_message *msg = parse(c->text);
		struct mime_part *root = mime_message_root(msg);
		struct collect all = { 0 }, att = { 0 }, parts = { 0 };
		struct mime_part *def;

		assert_int_equal(mime_walk(root, collect_fn, &all), 0);
		check_prefs(c, root, &all);
		/* NULL prefs: related, html, plain. */
		def = c->related >= 0 ? all.v[c->related]
		    : c->html >= 0    ? all.v[c->html]
		    : c->plain >= 0   ? all.v[c->plain] : NULL;
		assert_ptr_equal(mime_get_body(root, NULL, 0), def);
		assert_int_equal(mime_iter_attachments(root, collect_fn, &att),
				 0);
		check_list("iter_attachments", c, &all, c->attachments, &att);
		assert_int_equal(mime_iter_parts(root, collect_fn, &parts), 0);
		check_list("iter_parts", c, &all, c->parts, &parts);
		mime_message_free(&msg);
	}
}

static int stop_fn(struct mime_part *part, void *ctx)
{
	(void)part;
	++*(int *)ctx;
	return 7;
}

static void test_iter_stops(void **state)
{
	struct mime_message *msg = parse(cases[11].text);
	int calls = 0;

	(void)state;
	assert_int_equal(mime_iter_attachments(mime_message_root(msg), stop_fn,
					       &calls), 7);
	assert_int_equal(calls, 1);
	mime_message_free(&msg);
}

static void test_get_body_empty_prefs(void **state)
{
	struct mime_message *msg = parse(cases[3].text);

	(void)state;
	assert_null(mime_get_body(mime_message_root(msg),
				  (const char *const[]){ "related" }, 1));
	assert_null(mime_get_body(mime_message_root(msg),
				  (const char *const[]){ "bogus" }, 1));
	assert_null(mime_get_body(NULL, NULL, 0));
	mime_message_free(&msg);
}

/* A built related without start: the first subpart is the root. */
static void test_built_related(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg), *html, *img;
	struct mime_set_opts o = { .subtype = "html" };
	struct mime_set_opts io = { .maintype = "image", .subtype = "png",
				    .cid = "pic@x" };
	struct mime_bytes b = { "PNG", 3 };
	struct pn_error err;
	struct mime_manager *raw = mime_raw_manager_new();
	struct collect att = { 0 };

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", "<p>hi</p>", &o,
					  &err), 0);
	assert_int_equal(mime_add_related(root, raw, "bytes", &b, &io, &img,
					  &err), 0);
	html = mime_part_first_child(root);
	assert_ptr_equal(mime_get_body(root, (const char *const[]){ "html" },
				       1), html);
	assert_ptr_equal(mime_get_body(root, NULL, 0), root);
	assert_int_equal(mime_iter_attachments(root, collect_fn, &att), 0);
	assert_int_equal(att.n, 1);
	assert_ptr_equal(att.v[0], img);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_iter_stops),
		cmocka_unit_test(test_get_body_empty_prefs),
		cmocka_unit_test(test_built_related),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
