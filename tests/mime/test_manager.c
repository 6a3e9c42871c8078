/* test_manager.c - registries, dispatch order, set options, CTE choice and
 * body encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../mime/mime_p.h"

static int getter(struct mime_part *part, void *arg, void *ctx,
		  struct pn_error *err)
{
	(void)part;
	(void)err;
	*(const char **)arg = ctx;
	return 0;
}

static struct mime_message *typed(const char *type)
{
	struct mime_message *msg = mime_message_new();
	struct pn_error err;

	assert_non_null(msg);
	if (type)
		assert_int_equal(mime_part_header_add(mime_message_root(msg),
						      "Content-Type", type,
						      &err), 0);
	return msg;
}

/* Full type beats maintype beats "". */
static void test_get_order(void **state)
{
	static const char *const keys[] = { "text/plain", "text", "" };
	struct mime_message *msg = typed("text/plain");
	struct pn_error err;

	(void)state;
	for (size_t want = 0; want < 3; want++) {
		struct mime_manager *m = mime_manager_new();
		const char *got = NULL;

		for (size_t k = want; k < 3; k++)
			assert_int_equal(mime_manager_add_get(m, keys[k], getter,
							      (void *)keys[k]),
					 0);
		assert_int_equal(mime_get_content(m, mime_message_root(msg),
						  &got, &err), 0);
		assert_string_equal(got, keys[want]);
		mime_manager_free(&m);
		assert_null(m);
	}
	mime_message_free(&msg);
}

static void test_get_missing(void **state)
{
	struct mime_message *msg = typed("Text/Plain");
	struct mime_manager *m = mime_manager_new();
	struct pn_error err;
	const char *got;

	(void)state;
	assert_int_equal(mime_get_content(m, mime_message_root(msg), &got,
					  &err), -1);
	assert_int_equal(err.code, PN_ENOTFOUND);
	assert_string_equal(err.msg, "no get_content handler for text/plain");
	assert_int_equal(mime_get_content(m, NULL, &got, &err), -1);
	assert_int_equal(mime_get_content(NULL, mime_message_root(msg), &got,
					  &err), -1);
	/* A second add for a key replaces the first. */
	assert_int_equal(mime_manager_add_get(m, "text", getter, "one"), 0);
	assert_int_equal(mime_manager_add_get(m, "text", getter, "two"), 0);
	assert_int_equal(mime_get_content(m, mime_message_root(msg), &got,
					  &err), 0);
	assert_string_equal(got, "two");
	mime_manager_free(&m);
	mime_message_free(&msg);
}

static int setter(struct mime_part *part, const void *content,
		  const struct mime_set_opts *opts, void *ctx,
		  struct pn_error *err)
{
	(void)opts;
	if (mime_part_header_add(part, "X-Set-By", ctx, err) < 0)
		return -1;
	return mime_part_set_body(part, content, strlen(content),
				  MIME_CTE_7BIT, err);
}

static void test_set_order_and_clear(void **state)
{
	struct mime_message *msg = typed("text/html");
	struct mime_part *root = mime_message_root(msg);
	struct mime_manager *m = mime_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_part_header_add(root, "Content-Foo", "bar", &err),
			 0);
	assert_int_equal(mime_part_header_add(root, "To", "test", &err), 0);
	assert_int_equal(mime_set_content(m, root, "thing", "x", NULL, &err),
			 -1);
	assert_int_equal(err.code, PN_ENOTFOUND);
	assert_string_equal(err.msg, "no set_content handler for thing");
	/* Nothing was cleared by the failed lookup. */
	assert_non_null(mime_part_header_get(root, "Content-Foo"));
	assert_int_equal(mime_manager_add_set(m, "", setter, "default"), 0);
	assert_int_equal(mime_manager_add_set(m, "thing", setter, "thing"), 0);
	assert_int_equal(mime_set_content(m, root, "thing", "xyz", NULL, &err),
			 0);
	assert_null(mime_part_header_get(root, "Content-Foo"));
	assert_null(mime_part_header_get(root, "Content-Type"));
	assert_string_equal(mime_part_header_get(root, "To"), "test");
	assert_string_equal(mime_part_header_get(root, "X-Set-By"), "thing");
	assert_string_equal(mime_part_header_get(root, "MIME-Version"), "1.0");
	assert_int_equal(mime_set_content(m, root, "other", "xyz", NULL, &err),
			 0);
	/* X-Set-By is not a Content-* field, so both stay; and only one
	 * MIME-Version. */
	assert_int_equal(mime_part_header_count(root), 4);
	mime_manager_free(&m);
	mime_message_free(&msg);
}

static void test_set_refuses_multipart(void **state)
{
	struct mime_message *msg = typed("multipart/foo");
	struct mime_manager *m = mime_raw_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(m, mime_message_root(msg), "text",
					  "test", NULL, &err), -1);
	assert_int_equal(err.code, PN_EINVAL);
	assert_string_equal(err.msg, "set_content not valid on multipart");
	assert_string_equal(mime_part_type(mime_message_root(msg)),
			    "multipart/foo");
	mime_manager_free(&m);
	mime_message_free(&msg);
}

/* MIME-Version goes only on a message's root. */
static void test_mime_version_root_only(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *p = mime_part_new(msg);
	struct mime_manager *m = mime_raw_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(m, p, "text", "x", NULL, &err), 0);
	assert_null(mime_part_header_get(p, "MIME-Version"));
	mime_part_free_tree(p);
	mime_manager_free(&m);
	mime_message_free(&msg);
}

struct opts_case {
	struct mime_set_opts o;
	const char *disp, *filename, *cid;
};

static void test_apply_opts(void **state)
{
	static const char *const params[] = { "foo", "b\xc3\xa1r", "abc",
					      "xyz", NULL };
	static const char *const hdrs[] = { "X-Foo-Header: foo",
					    "X-Bar-Header:bar", NULL };
	const struct opts_case cases[] = {
		{ { .disposition = "inline" }, "inline", NULL, NULL },
		{ { .disposition = "attachment" }, "attachment", NULL, NULL },
		{ { .disposition = "foo" }, "foo", NULL, NULL },
		{ { .filename = "bar.txt" }, "attachment", "bar.txt", NULL },
		{ { .disposition = "inline", .filename = "b\xc3\xa1r.txt" },
		  "inline", "b\xc3\xa1r.txt", NULL },
		{ { .cid = "some_random_stuff" }, NULL, NULL,
		  "some_random_stuff" },
		{ { .cid = "<x@y>" }, NULL, NULL, "x@y" },
	};
	struct mime_manager *m = mime_raw_manager_new();
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_message *msg = mime_message_new();
		struct mime_part *r = mime_message_root(msg);
		const char *d, *f, *c;

		assert_int_equal(mime_set_content(m, r, "text", "foo",
						  &cases[i].o, &err), 0);
		d = mime_part_disposition(r);
		f = mime_part_filename(r);
		c = mime_part_content_id(r);
		assert_true(cases[i].disp ? d && !strcmp(d, cases[i].disp)
					  : !d);
		assert_true(cases[i].filename ? f && !strcmp(f,
						cases[i].filename) : !f);
		assert_true(cases[i].cid ? c && !strcmp(c, cases[i].cid) : !c);
		mime_message_free(&msg);
	}
	{
		struct mime_message *msg = mime_message_new();
		struct mime_part *r = mime_message_root(msg);
		struct mime_set_opts o = { .params = params, .headers = hdrs };

		assert_int_equal(mime_set_content(m, r, "text", "foo", &o,
						  &err), 0);
		assert_string_equal(mime_part_param(r, "foo"), "b\xc3\xa1r");
		assert_string_equal(mime_part_param(r, "abc"), "xyz");
		assert_string_equal(mime_part_param(r, "charset"), "utf-8");
		assert_string_equal(mime_part_header_get(r, "X-Foo-Header"),
				    "foo");
		assert_string_equal(mime_part_header_get(r, "X-Bar-Header"),
				    "bar");
		mime_message_free(&msg);
	}
	mime_manager_free(&m);
}

static void test_duplicate_content_header(void **state)
{
	static const char *const hdrs[] = { "Content-Type: foo/bar", NULL };
	static const char *const bad[] = { "no colon here", NULL };
	static const char *const inj[] = { "X-A: b\r\nBcc: evil@x", NULL };
	struct mime_set_opts o = { .headers = hdrs };
	struct mime_message *msg = mime_message_new();
	struct mime_manager *m = mime_raw_manager_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(m, mime_message_root(msg), "text",
					  "x", &o, &err), -1);
	assert_non_null(strstr(err.msg, "Content-Type"));
	o.headers = bad;
	assert_int_equal(mime_set_content(m, mime_message_root(msg), "text",
					  "x", &o, &err), -1);
	assert_string_equal(err.msg, "Invalid header: no colon here");
	o.headers = inj;
	assert_int_equal(mime_set_content(m, mime_message_root(msg), "text",
					  "x", &o, &err), -1);
	mime_manager_free(&m);
	mime_message_free(&msg);
}

struct cte_case {
	const char *data;
	bool text;
	enum mime_cte want;
};

static void test_choose_cte(void **state)
{
	char long_ascii[200], long_8bit[400], many[2000];
	const struct cte_case cases[] = {
		{ "Simple message.\n", true, MIME_CTE_7BIT },
		{ "", true, MIME_CTE_7BIT },
		{ long_ascii, true, MIME_CTE_QP },
		{ "et l\xc3\xa0 il est mont\xc3\xa9 sur moi\n", true,
		  MIME_CTE_QP },
		{ long_8bit, true, MIME_CTE_BASE64 },
		{ "\xc3\xa1\xc3\xa0\xc3\xa4\xc3\xa9\xc3\xa8.\n", true,
		  MIME_CTE_BASE64 },
		{ "bare\rCR\n", true, MIME_CTE_BASE64 },
		{ "plain ascii bytes", false, MIME_CTE_BASE64 },
		/* Judged on the first ten lines only, as email6 does. */
		{ many, true, MIME_CTE_QP },
	};

	(void)state;
	memset(long_8bit, 'z', sizeof(long_8bit));
	memset(many, 'z', sizeof(many));
	memset(long_ascii, 'a', sizeof(long_ascii) - 2);
	long_ascii[sizeof(long_ascii) - 2] = '\n';
	long_ascii[sizeof(long_ascii) - 1] = '\0';
	for (size_t i = 0; i + 2 < sizeof(long_8bit) - 2; i += 2)
		memcpy(long_8bit + i, "\xc3\xa1", 2);
	long_8bit[sizeof(long_8bit) - 2] = '\n';
	long_8bit[sizeof(long_8bit) - 1] = '\0';
	memset(many, '\n', 10);
	memset(many + 10, 'z', 100);
	for (size_t i = 110; i + 2 < sizeof(many); i += 2)
		memcpy(many + i, "\xc3\xa1", 2);
	many[sizeof(many) - 1] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mime_choose_cte(cases[i].data, strlen(cases[i].data),
				    cases[i].text) != cases[i].want)
			fail_msg("case %zu: got %s", i,
				 mime_cte_name(mime_choose_cte(cases[i].data,
				       strlen(cases[i].data), cases[i].text)));
	}
}

struct body_case {
	const char *type;
	const char *in;
	size_t len;
	enum mime_cte cte;
	const char *want;	/* NULL: must fail */
};

static void test_set_body(void **state)
{
	const struct body_case cases[] = {
		{ "image/jpeg", "bogus content", 13, MIME_CTE_BASE64,
		  "Ym9ndXMgY29udGVudA==\n" },
		{ "text/plain", "a\r\nb\n", 5, MIME_CTE_7BIT, "a\nb\n" },
		{ "text/plain", "\xc3\xa1\n", 3, MIME_CTE_7BIT, NULL },
		{ "text/plain", "\xc3\xa1\n", 3, MIME_CTE_8BIT, "\xc3\xa1\n" },
		{ "video/mpeg", "a\r\nb", 4, MIME_CTE_BINARY, "a\r\nb" },
		{ "text/plain", "caf\xc3\xa9 = ok\n", 11, MIME_CTE_QP,
		  "caf=C3=A9 =3D ok\n" },
		{ "audio/aif", "b\xff\tc\n", 5, MIME_CTE_QP, "b=FF\tc=0A" },
		{ "text/plain", "x", 1, MIME_CTE_UUENCODE, NULL },
	};
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_message *msg = typed(cases[i].type);
		struct mime_part *r = mime_message_root(msg);
		int rc = mime_part_set_body(r, cases[i].in, cases[i].len,
					    cases[i].cte, &err);

		if (!cases[i].want) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			if (strcmp(pn_buf_cstr(&r->body), cases[i].want))
				fail_msg("case %zu: got \"%s\"", i,
					 pn_buf_cstr(&r->body));
			assert_true(r->content_dirty);
		}
		mime_message_free(&msg);
	}
}

/* Cleanups run when the manager is freed, last added first. */
static char cleanup_log[8];

static void note_cleanup(void *ctx)
{
	size_t n = strlen(cleanup_log);

	cleanup_log[n] = *(const char *)ctx;
	cleanup_log[n + 1] = '\0';
}

static void test_cleanup_order(void **state)
{
	struct mime_manager *m = mime_manager_new();

	(void)state;
	cleanup_log[0] = '\0';
	assert_int_equal(mime_manager_add_cleanup(m, note_cleanup, "a"), 0);
	assert_int_equal(mime_manager_add_cleanup(m, note_cleanup, "b"), 0);
	assert_string_equal(cleanup_log, "");
	mime_manager_free(&m);
	assert_null(m);
	assert_string_equal(cleanup_log, "ba");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_order),
		cmocka_unit_test(test_get_missing),
		cmocka_unit_test(test_set_order_and_clear),
		cmocka_unit_test(test_set_refuses_multipart),
		cmocka_unit_test(test_mime_version_root_only),
		cmocka_unit_test(test_apply_opts),
		cmocka_unit_test(test_duplicate_content_header),
		cmocka_unit_test(test_choose_cte),
		cmocka_unit_test(test_set_body),
		cmocka_unit_test(test_cleanup_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
