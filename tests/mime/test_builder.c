/* test_builder.c - the email6 promotion matrix, add_xxx, attach, clear.
 *
 * Each cell: a method (related, alternative, mixed) applied to a part
 * that is empty, a text part, or a multipart of some subtype.  Expected:
 * success (content moves into a first subpart, other fields stay) or the
 * error "Cannot convert <existing> to <method>".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../mime/mime.h"
#include "../../lib/buf.h"

enum outcome { OK, RAISES };

struct cell {
	const char *method;
	const char *existing;	/* NULL: no content; else a Content-Type */
	enum outcome make, add;
};

static const struct cell cells[] = {
	{ "related", NULL, OK, OK },
	{ "related", "text/plain", OK, OK },
	{ "related", "multipart/none", OK, OK },
	{ "related", "multipart/plain", OK, OK },
	{ "related", "multipart/related", RAISES, OK },
	{ "related", "multipart/alternative", RAISES, RAISES },
	{ "related", "multipart/mixed", RAISES, RAISES },
	{ "alternative", NULL, OK, OK },
	{ "alternative", "text/plain", OK, OK },
	{ "alternative", "multipart/none", OK, OK },
	{ "alternative", "multipart/plain", OK, OK },
	{ "alternative", "multipart/related", OK, OK },
	{ "alternative", "multipart/alternative", RAISES, OK },
	{ "alternative", "multipart/mixed", RAISES, RAISES },
	{ "mixed", NULL, OK, OK },
	{ "mixed", "text/plain", OK, OK },
	{ "mixed", "multipart/none", OK, OK },
	{ "mixed", "multipart/plain", OK, OK },
	{ "mixed", "multipart/related", OK, OK },
	{ "mixed", "multipart/alternative", OK, OK },
	{ "mixed", "multipart/mixed", RAISES, OK },
};

/* To, From, X-Random-Header, [Content-Type], X-Trump, in that order. */
static struct mime_message *cell_message(const struct cell *c)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg);
	struct pn_error err;

	assert_non_null(msg);
	assert_int_equal(mime_part_header_add(root, "To", "foo@bar.com", &err),
			 0);
	assert_int_equal(mime_part_header_add(root, "From", "bar@foo.com",
					      &err), 0);
	assert_int_equal(mime_part_header_add(root, "X-Random-Header",
					      "Corwin", &err), 0);
	if (c->existing)
		assert_int_equal(mime_part_header_add(root, "Content-Type",
						      c->existing, &err), 0);
	assert_int_equal(mime_part_header_add(root, "X-Trump", "Random", &err),
			 0);
	return msg;
}

static int make(const char *method, struct mime_part *p, const char *b,
		struct pn_error *err)
{
	if (!strcmp(method, "related"))
		return mime_make_related(p, b, err);
	if (!strcmp(method, "alternative"))
		return mime_make_alternative(p, b, err);
	return mime_make_mixed(p, b, err);
}

/* The fields that stayed, in order, then the new Content-Type. */
static void check_outer(struct mime_part *root, const struct cell *c)
{
	static const char *const kept[] = { "To", "From", "X-Random-Header",
					    "X-Trump" };
	char type[64];

	snprintf(type, sizeof(type), "multipart/%s", c->method);
	assert_string_equal(mime_part_type(root), type);
	assert_int_equal(mime_part_header_count(root), 5);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(mime_part_header_name(root, i), kept[i]);
	assert_string_equal(mime_part_header_name(root, 4), "Content-Type");
}

/* The moved subpart holds exactly the old Content-* fields. */
static void check_moved(struct mime_part *sub, const struct cell *c)
{
	assert_int_equal(mime_part_header_count(sub), 1);
	assert_string_equal(mime_part_header_name(sub, 0), "Content-Type");
	assert_string_equal(mime_part_header_value(sub, 0), c->existing);
	assert_string_equal(mime_part_type(sub), c->existing);
}

static void expect_convert_error(const struct cell *c, int rc,
				 const struct pn_error *err)
{
	char want[128];

	assert_int_equal(rc, -1);
	snprintf(want, sizeof(want), "Cannot convert %s to %s",
		 c->existing + strlen("multipart/"), c->method);
	assert_string_equal(err->msg, want);
	assert_int_equal(err->code, PN_EINVAL);
}

static void test_make_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell *c = &cells[i];
		struct mime_message *msg = cell_message(c);
		struct mime_part *root = mime_message_root(msg);
		struct pn_error err;
		int rc = make(c->method, root, NULL, &err);

		if (c->make == RAISES) {
			expect_convert_error(c, rc, &err);
			/* Nothing changed. */
			assert_string_equal(mime_part_type(root), c->existing);
			mime_message_free(&msg);
			continue;
		}
		assert_int_equal(rc, 0);
		check_outer(root, c);
		if (!c->existing) {
			assert_int_equal(mime_part_child_count(root), 0);
		} else {
			assert_int_equal(mime_part_child_count(root), 1);
			check_moved(mime_part_first_child(root), c);
		}
		mime_message_free(&msg);
	}
}

static void test_make_with_boundary(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell *c = &cells[i];
		struct mime_message *msg = cell_message(c);
		struct mime_part *root = mime_message_root(msg);
		struct pn_error err;
		int rc = make(c->method, root, "abc", &err);

		if (c->make == RAISES) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_true(mime_part_is_multipart(root));
			assert_string_equal(mime_part_param(root, "boundary"),
					    "abc");
		}
		mime_message_free(&msg);
	}
}

/* A set handler that makes a text/plain part holding the content. */
static int test_setter(struct mime_part *part, const void *content,
		       const struct mime_set_opts *opts, void *ctx,
		       struct pn_error *err)
{
	struct mime_manager *raw = ctx;

	(void)opts;
	return mime_set_content(raw, part, "text", content, NULL, err);
}

static int add(const char *method, struct mime_part *p,
	       struct mime_manager *mgr, struct mime_part **new_out,
	       struct pn_error *err)
{
	if (!strcmp(method, "related"))
		return mime_add_related(p, mgr, "test", "test", NULL, new_out,
					err);
	if (!strcmp(method, "alternative"))
		return mime_add_alternative(p, mgr, "test", "test", NULL,
					    new_out, err);
	return mime_add_attachment(p, mgr, "test", "test", NULL, new_out, err);
}

static void check_added(const struct cell *c, struct mime_part *root,
			struct mime_part *added)
{
	const char *disp = mime_part_header_get(added, "Content-Disposition");
	bool same = c->existing && !strcmp(c->existing + 10, c->method) &&
		    !strncmp(c->existing, "multipart/", 10);

	if (same || !c->existing) {
		assert_int_equal(mime_part_child_count(root), 1);
		assert_ptr_equal(mime_part_first_child(root), added);
	} else {
		assert_int_equal(mime_part_child_count(root), 2);
		check_moved(mime_part_first_child(root), c);
		assert_ptr_equal(mime_part_next(mime_part_first_child(root)),
				 added);
	}
	assert_string_equal(mime_part_type(added), "text/plain");
	if (!strcmp(c->method, "mixed"))
		assert_string_equal(disp, "attachment");
	else if (!strcmp(c->method, "related"))
		assert_string_equal(disp, "inline");
	else
		assert_null(disp);
	/* Only a message's root gets MIME-Version. */
	assert_null(mime_part_header_get(added, "MIME-Version"));
}

static void test_add_matrix(void **state)
{
	struct mime_manager *raw = mime_raw_manager_new();
	struct mime_manager *mgr = mime_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_manager_add_set(mgr, "test", test_setter, raw),
			 0);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct cell *c = &cells[i];
		struct mime_message *msg = cell_message(c);
		struct mime_part *root = mime_message_root(msg), *added = NULL;
		int rc = add(c->method, root, mgr, &added, &err);

		if (c->add == RAISES) {
			expect_convert_error(c, rc, &err);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(mime_part_subtype(root), c->method);
			check_added(c, root, added);
		}
		mime_message_free(&msg);
	}
	mime_manager_free(&mgr);
	mime_manager_free(&raw);
}

static int raising_setter(struct mime_part *part, const void *content,
			  const struct mime_set_opts *opts, void *ctx,
			  struct pn_error *err)
{
	(void)part;
	(void)content;
	(void)opts;
	(void)ctx;
	return pn_error_set(err, PN_EINVAL, "test");
}

/* The handler's error comes back, and the failed subpart is not added. */
static void test_add_handler_error(void **state)
{
	struct mime_manager *mgr = mime_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_manager_add_set(mgr, "", raising_setter, NULL),
			 0);
	for (int i = 0; i < 3; i++) {
		static const char *const m[] = { "related", "alternative",
						 "mixed" };
		struct mime_message *msg = mime_message_new();
		struct mime_part *root = mime_message_root(msg);

		assert_int_equal(add(m[i], root, mgr, NULL, &err), -1);
		assert_string_equal(err.msg, "test");
		assert_int_equal(mime_part_child_count(root), 0);
		mime_message_free(&msg);
	}
	mime_manager_free(&mgr);
}

/* add_xxx with the default (raw) manager and options. */
static void test_add_with_opts(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg), *p;
	struct mime_set_opts o = { .disposition = "inline",
				   .filename = "notes.txt" };
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(NULL, root, "text", "x", NULL, &err),
			 -1);
	assert_int_equal(mime_add_attachment(root, NULL, "text", "hello", &o,
					     &p, &err), 0);
	assert_string_equal(mime_part_disposition(p), "inline");
	assert_string_equal(mime_part_filename(p), "notes.txt");
	assert_string_equal(mime_part_type(root), "multipart/mixed");
	mime_message_free(&msg);
}

static void test_iter_attachments_unchanged(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg);
	struct mime_manager *raw = mime_raw_manager_new();
	struct pn_error err;
	size_t n = 0;

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", "main part", NULL,
					  &err), 0);
	assert_int_equal(mime_add_related(root, raw, "text", "more", NULL, NULL,
					  &err), 0);
	assert_int_equal(mime_add_related(root, raw, "text", "yet more", NULL,
					  NULL, &err), 0);
	assert_int_equal(mime_part_child_count(root), 3);
	for (struct mime_part *c = mime_part_first_child(root); c;
	     c = mime_part_next(c))
		n++;
	assert_int_equal(n, 3);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

static void test_attach(void **state)
{
	struct mime_message *a = mime_message_new(), *b = mime_message_new();
	struct mime_part *ra = mime_message_root(a), *rb = mime_message_root(b);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_part_attach(ra, rb, &err), -1);
	assert_string_equal(err.msg, "Attach is not valid on a message with a "
			    "non-multipart payload");
	assert_int_equal(mime_make_mixed(ra, NULL, &err), 0);
	assert_int_equal(mime_part_attach(ra, ra, &err), -1);
	assert_int_equal(mime_part_attach(ra, rb, &err), 0);
	assert_null(mime_message_root(b));
	assert_ptr_equal(mime_part_parent(rb), ra);
	assert_int_equal(mime_part_attach(ra, rb, &err), -1);
	mime_message_free(&b);
	/* A part cannot take its own ancestor. */
	assert_int_equal(mime_part_header_add(rb, "Content-Type",
					      "multipart/mixed", &err), 0);
	assert_int_equal(mime_part_attach(rb, ra, &err), -1);
	mime_message_free(&a);
}

static void test_bad_boundary(void **state)
{
	static const char *const bad[] = {
		"", "a\r\nBcc: x", "ends in space ", "quote\"d",
		"01234567890123456789012345678901234567890123456789"
		"012345678901234567890",
	};
	struct mime_message *msg = mime_message_new();
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mime_make_mixed(mime_message_root(msg), bad[i],
						 &err), -1);
		assert_string_equal(err.msg, "invalid boundary");
		/* Refused before anything changed. */
		assert_string_equal(mime_part_type(mime_message_root(msg)),
				    "text/plain");
	}
	assert_int_equal(mime_make_mixed(mime_message_root(msg),
					 "'()+_,-./:=? x", &err), 0);
	mime_message_free(&msg);
}

static void test_clear(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *root = mime_message_root(msg);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_part_header_add(root, "To", "a@b", &err), 0);
	assert_int_equal(mime_add_attachment(root, NULL, "text", "x", NULL,
					     NULL, &err), 0);
	assert_int_equal(mime_part_header_add(root, "Content-Foo", "bar",
					      &err), 0);
	mime_clear_content(root);
	assert_int_equal(mime_part_header_count(root), 1);
	assert_string_equal(mime_part_header_name(root, 0), "To");
	assert_int_equal(mime_part_child_count(root), 0);
	assert_string_equal(mime_part_type(root), "text/plain");
	assert_int_equal(mime_add_attachment(root, NULL, "text", "x", NULL,
					     NULL, &err), 0);
	mime_clear(root);
	assert_int_equal(mime_part_header_count(root), 0);
	assert_int_equal(mime_part_child_count(root), 0);
	mime_message_free(&msg);
}

/* A non-MIME body without Content-* fields is kept (as text/plain in the
 * new subpart) instead of being dropped. */
static void test_make_keeps_plain_body(void **state)
{
	static const char text[] = "To: a@b\nSubject: s\n\nold body\n";
	struct mime_message *msg = NULL;
	struct mime_part *root, *sub;
	struct mime_content c;
	struct pn_error err;
	struct mime_manager *raw = mime_raw_manager_new();

	(void)state;
	assert_int_equal(mime_parse_mem(text, sizeof(text) - 1, false, NULL,
					&msg, &err), 0);
	root = mime_message_root(msg);
	assert_int_equal(mime_make_mixed(root, NULL, &err), 0);
	assert_int_equal(mime_part_child_count(root), 1);
	sub = mime_part_first_child(root);
	assert_int_equal(mime_part_header_count(sub), 0);
	assert_int_equal(mime_get_content(raw, sub, &c, &err), 0);
	assert_string_equal(c.data, "old body\n");
	mime_content_clear(&c);
	mime_manager_free(&raw);
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_matrix),
		cmocka_unit_test(test_make_with_boundary),
		cmocka_unit_test(test_add_matrix),
		cmocka_unit_test(test_add_handler_error),
		cmocka_unit_test(test_add_with_opts),
		cmocka_unit_test(test_iter_attachments_unchanged),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_bad_boundary),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_make_keeps_plain_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
