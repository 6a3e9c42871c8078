/* test_raw_manager.c - the raw-data manager: get for every kind of part,
 * set for text, bytes and messages, and round trips through the writer
 * and the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../mime/mime.h"
#include "../../lib/buf.h"

static struct mime_manager *raw;

static int setup(void **state)
{
	(void)state;
	raw = mime_raw_manager_new();
	return raw ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	mime_manager_free(&raw);
	return 0;
}

static struct mime_message *parse(const char *text, size_t len)
{
	struct mime_message *msg = NULL;
	struct pn_error err;

	if (mime_parse_mem(text, len, true, NULL, &msg, &err) < 0)
		fail_msg("parse: %s", err.msg);
	return msg;
}

static struct mime_message *parse_str(const char *text)
{
	return parse(text, strlen(text));
}

struct get_case {
	const char *msg;
	enum mime_content_kind kind;
	const char *want;	/* NULL: an error */
	size_t want_len;	/* 0: strlen(want) */
};

static void test_get(void **state)
{
	static const struct get_case cases[] = {
		{ "Content-Type: text/plain\n\nBasic text.\n",
		  MIME_CONTENT_TEXT, "Basic text.\n", 0 },
		{ "Content-Type: text/html\n\n<p>Basic text.</p>\n",
		  MIME_CONTENT_TEXT, "<p>Basic text.</p>\n", 0 },
		{ "Content-Type: text/plain; charset=latin1\n\n"
		  "Bas\xec" "c t\xeb" "xt.\n",
		  MIME_CONTENT_TEXT, "Bas\xc3\xac" "c t\xc3\xabxt.\n", 0 },
		{ "Content-Type: text/plain; charset=\"latin-1\"\n"
		  "Content-Transfer-Encoding: quoted-printable\n\n"
		  "Bas=ECc t=EBxt.\n",
		  MIME_CONTENT_TEXT, "Bas\xc3\xac" "c t\xc3\xabxt.\n", 0 },
		{ "Content-Type: text/plain; charset=\"utf8\"\n"
		  "Content-Transfer-Encoding: base64\n\nQmFzw6xjIHTDq3h0Lgo=\n",
		  MIME_CONTENT_TEXT, "Bas\xc3\xac" "c t\xc3\xabxt.\n", 0 },
		{ "Content-Type: image/jpg\nContent-Transfer-Encoding: base64\n\n"
		  "Ym9ndXMgZGF0YQ==\n", MIME_CONTENT_BYTES, "bogus data", 0 },
		{ "Content-Type: audio/foo\nContent-Transfer-Encoding: base64\n\n"
		  "Ym9ndXMgZGF0YQ==\n", MIME_CONTENT_BYTES, "bogus data", 0 },
		{ "Content-Type: video/foo\nContent-Transfer-Encoding: base64\n\n"
		  "Ym9ndXMgZGF0YQ==\n", MIME_CONTENT_BYTES, "bogus data", 0 },
		{ "Content-Type: application/foo\n"
		  "Content-Transfer-Encoding: base64\n\nAAEC/w==\n",
		  MIME_CONTENT_BYTES, "\x00\x01\x02\xff", 4 },
		{ "Content-Type: font/woff\n\nraw\n", MIME_CONTENT_BYTES,
		  "raw\n", 0 },
		{ "Content-Type: message/partial\n\nTo: foo@example.com\n\n"
		  "The real body is elsewhere.\n", MIME_CONTENT_BYTES,
		  "To: foo@example.com\n\nThe real body is elsewhere.\n", 0 },
		{ "Content-Type: multipart/mixed; boundary=\"===\"\n\n--===\n"
		  "--===--\n", MIME_CONTENT_TEXT, NULL, 0 },
	};
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct get_case *c = &cases[i];
		struct mime_message *msg = parse_str(c->msg);
		struct mime_content got;
		size_t n = c->want_len ? c->want_len : c->want ? strlen(c->want)
							       : 0;
		int rc = mime_get_content(raw, mime_message_root(msg), &got,
					  &err);

		if (!c->want) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg,
					    "get_content not valid on multipart");
			mime_message_free(&msg);
			continue;
		}
		if (rc < 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(got.kind, c->kind);
		assert_int_equal(got.len, n);
		assert_memory_equal(got.data, c->want, n);
		mime_content_clear(&got);
		mime_message_free(&msg);
	}
}

static void test_get_bad_utf8(void **state)
{
	static const char m[] = "Content-Type: text/plain; charset=\"utf8\"\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"Bas=c3=acc t=c3=abxt=fd.\n";
	struct mime_message *msg = parse_str(m);
	struct mime_content got;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_get_content(raw, mime_message_root(msg), &got,
					  &err), 0);
	assert_true(got.defect);
	assert_true(strlen(got.data) > 10);
	mime_content_clear(&got);
	mime_message_free(&msg);
}

static void test_get_message(void **state)
{
	static const char m[] = "Content-Type: message/rfc822\n\n"
		"To: foo@example.com\nFrom: bar@example.com\n"
		"Subject: example\n\nan example message\n";
	struct mime_message *msg = parse_str(m);
	struct mime_content got, inner;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_get_content(raw, mime_message_root(msg), &got,
					  &err), 0);
	assert_int_equal(got.kind, MIME_CONTENT_MESSAGE);
	assert_non_null(got.message);
	assert_string_equal(mime_part_header_get(got.message, "To"),
			    "foo@example.com");
	assert_int_equal(mime_get_content(raw, got.message, &inner, &err), 0);
	assert_string_equal(inner.data, "an example message\n");
	mime_content_clear(&inner);
	mime_content_clear(&got);
	mime_message_free(&msg);
}

/* Write a built message and parse it back. */
static struct mime_message *reparse(struct mime_message *msg, char **text)
{
	struct pn_buf out;
	struct pn_error err;
	struct mime_message *back;

	pn_buf_init(&out, 0);
	if (mime_write_buf(mime_message_root(msg), NULL, &out, &err) < 0)
		fail_msg("write: %s", err.msg);
	back = parse(out.data, out.len);
	*text = pn_buf_take(&out, NULL);
	return back;
}

struct text_case {
	const char *text, *subtype, *charset, *cte;
	const char *want_cte, *want_charset;
	const char *back;	/* NULL: same as text */
};

static void test_set_text_round_trip(void **state)
{
	static const struct text_case cases[] = {
		{ "Simple message.\n", NULL, NULL, NULL, "7bit", "utf-8", NULL },
		{ "<p>Simple message.</p>\n", "html", NULL, NULL, "7bit",
		  "utf-8", NULL },
		{ "Simple message.\n", NULL, "latin-1", NULL, "7bit",
		  "iso-8859-1", NULL },
		{ "no newline at end", NULL, NULL, NULL, "7bit", "utf-8",
		  "no newline at end\n" },
		{ "crlf\r\nlines\r\n", NULL, NULL, NULL, "7bit", "utf-8",
		  "crlf\nlines\n" },
		{ "et l\xc3\xa0 il est mont\xc3\xa9 sur moi.\n", NULL, NULL,
		  NULL, "quoted-printable", "utf-8", NULL },
		{ "j'ai un probl\xc3\xa8me de python. il est sorti de son "
		  "vivarium.  et l\xc3\xa0 il est mont\xc3\xa9 sur moi et il "
		  "commence \xc3\xa0 m'\xc3\xa9to.\n", NULL, NULL, NULL,
		  "quoted-printable", "utf-8", NULL },
		{ "\xc3\xa1\xc3\xa0\xc3\xa4\xc3\xa9\xc3\xa8\xc4\x99\xc3\xb6"
		  "\xc5\x91.\n", NULL, NULL, NULL, "base64", "utf-8", NULL },
		{ "Bas\xc3\xac" "c t\xc3\xabxt.\n", NULL, "latin-1", NULL,
		  "quoted-printable", "iso-8859-1", NULL },
		{ "\xc3\xa1 forced\n", NULL, NULL, "8bit", "8bit", "utf-8",
		  NULL },
		{ "forced b64\n", NULL, NULL, "base64", "base64", "utf-8",
		  NULL },
		{ "From the start\n.\n", NULL, NULL, "quoted-printable",
		  "quoted-printable", "utf-8", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct text_case *c = &cases[i];
		struct mime_set_opts o = { .subtype = c->subtype,
					   .charset = c->charset,
					   .cte = c->cte };
		struct mime_message *msg = mime_message_new(), *back;
		struct mime_content got;
		struct pn_error err;
		char *text;

		if (mime_set_content(raw, mime_message_root(msg), "text",
				     c->text, &o, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		back = reparse(msg, &text);
		assert_string_equal(mime_cte_name(mime_part_cte(
				    mime_message_root(back))), c->want_cte);
		assert_string_equal(mime_part_charset(mime_message_root(back)),
				    c->want_charset);
		assert_string_equal(mime_part_header_get(mime_message_root(back),
							 "MIME-Version"), "1.0");
		assert_int_equal(mime_get_content(raw, mime_message_root(back),
						  &got, &err), 0);
		if (strcmp(got.data, c->back ? c->back : c->text))
			fail_msg("case %zu: got \"%s\" from\n%s", i, got.data,
				 text);
		assert_false(got.defect);
		mime_content_clear(&got);
		free(text);
		mime_message_free(&back);
		mime_message_free(&msg);
	}
}

/* A built part gives its content back before it is ever written. */
static void test_get_built(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *r = mime_message_root(msg);
	struct mime_set_opts o = { .maintype = "image", .subtype = "gif" };
	struct mime_bytes b = { "GIF89a\0\1", 8 };
	struct mime_content got;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(raw, r, "text", "a\r\nb", NULL,
					  &err), 0);
	assert_int_equal(mime_get_content(raw, r, &got, &err), 0);
	assert_string_equal(got.data, "a\nb\n");
	mime_content_clear(&got);
	assert_int_equal(mime_set_content(raw, r, "bytes", &b, &o, &err), 0);
	assert_int_equal(mime_get_content(raw, r, &got, &err), 0);
	assert_int_equal(got.len, 8);
	assert_memory_equal(got.data, "GIF89a\0\1", 8);
	mime_content_clear(&got);
	mime_message_free(&msg);
}

static void test_set_text_errors(void **state)
{
	static const struct {
		const char *text, *charset, *cte, *msg;
	} cases[] = {
		{ "\xc3\xa1\n", NULL, "7bit",
		  "non-ASCII data cannot be sent as 7bit" },
		{ "\xc3\xa1\n", "ascii", NULL, "text cannot be encoded as "
		  "us-ascii" },
		{ "\xc3\xa1\n", "ascii", "7bit", "text cannot be encoded as "
		  "us-ascii" },
		{ "x\n", NULL, "x-bogus", "Unknown content transfer encoding "
		  "x-bogus" },
		{ "x\n", NULL, "binary", "Unknown content transfer encoding "
		  "binary" },
		{ "\xff\n", NULL, NULL, "text is not valid UTF-8" },
		{ "x\n", "no-such-charset-here", NULL, "unknown charset "
		  "no-such-charset-here" },
	};
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_set_opts o = { .charset = cases[i].charset,
					   .cte = cases[i].cte };
		struct mime_message *msg = mime_message_new();

		assert_int_equal(mime_set_content(raw, mime_message_root(msg),
						  "text", cases[i].text, &o,
						  &err), -1);
		assert_string_equal(err.msg, cases[i].msg);
		mime_message_free(&msg);
	}
}

struct bytes_case {
	const char *maintype, *subtype, *cte;
	const char *data;
	size_t len;
	const char *want_body;	/* the encoded body as written */
};

static void test_set_bytes_round_trip(void **state)
{
	static const char zz[] = "b\xff" "gus\tcon\nt\rent zzzzzzzzzzzzzzzzzzz"
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		"zzzzzzzzzzzzzzzzzzzz";
	static const struct bytes_case cases[] = {
		{ "image", "jpeg", NULL, "bogus content", 13,
		  "Ym9ndXMgY29udGVudA==\r\n" },
		{ "audio", "aif", "quoted-printable", zz, sizeof(zz) - 1,
		  NULL },
		{ "video", "mpeg", "binary", zz, sizeof(zz) - 1, NULL },
		{ "application", "octet-stream", "7bit", "just ascii", 10,
		  "just ascii" },
		{ "application", "x-empty", NULL, "", 0, "" },
	};
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bytes_case *c = &cases[i];
		struct mime_set_opts o = { .maintype = c->maintype,
					   .subtype = c->subtype,
					   .cte = c->cte };
		struct mime_bytes b = { c->data, c->len };
		struct mime_message *msg = mime_message_new(), *back;
		struct mime_content got;
		char *text;

		if (mime_set_content(raw, mime_message_root(msg), "bytes", &b,
				     &o, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		back = reparse(msg, &text);
		if (c->want_body && !strstr(text, c->want_body))
			fail_msg("case %zu: body not in\n%s", i, text);
		assert_int_equal(mime_get_content(raw, mime_message_root(back),
						  &got, &err), 0);
		assert_int_equal(got.kind, MIME_CONTENT_BYTES);
		assert_int_equal(got.len, c->len);
		assert_memory_equal(got.data, c->data, c->len);
		mime_content_clear(&got);
		free(text);
		mime_message_free(&back);
		mime_message_free(&msg);
	}
}

static void test_set_bytes_errors(void **state)
{
	struct mime_bytes b = { "\xff", 1 };
	struct mime_set_opts o = { .subtype = "x" };
	struct mime_message *msg = mime_message_new();
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(raw, mime_message_root(msg), "bytes",
					  &b, &o, &err), -1);
	assert_string_equal(err.msg, "set_content of bytes needs a maintype");
	o.maintype = "image";
	o.cte = "7bit";
	assert_int_equal(mime_set_content(raw, mime_message_root(msg), "bytes",
					  &b, &o, &err), -1);
	o.maintype = "ima ge";
	o.cte = NULL;
	assert_int_equal(mime_set_content(raw, mime_message_root(msg), "bytes",
					  &b, &o, &err), -1);
	mime_message_free(&msg);
}

static struct mime_message *inner_message(void)
{
	struct mime_message *m = mime_message_new();
	struct mime_part *r = mime_message_root(m);
	struct pn_error err;

	assert_int_equal(mime_part_header_add(r, "To", "python@vivarium.org",
					      &err), 0);
	assert_int_equal(mime_part_header_add(r, "Subject",
					      "get back in your box", &err), 0);
	assert_int_equal(mime_set_content(raw, r, "text",
					  "Or face the comfy chair.", NULL,
					  &err), 0);
	return m;
}

static void test_set_message(void **state)
{
	struct mime_message *msg = mime_message_new(), *inner = inner_message();
	struct mime_message *back;
	struct mime_part *root = mime_message_root(msg);
	struct mime_content got, body;
	struct pn_error err;
	char *text;

	(void)state;
	assert_int_equal(mime_part_header_add(root, "Subject", "Forwarded",
					      &err), 0);
	assert_int_equal(mime_set_content(raw, root, "message", inner, NULL,
					  &err), 0);
	assert_null(mime_message_root(inner));
	mime_message_free(&inner);
	assert_string_equal(mime_part_type(root), "message/rfc822");
	assert_string_equal(mime_part_header_get(root,
				"Content-Transfer-Encoding"), "8bit");
	back = reparse(msg, &text);
	assert_int_equal(mime_get_content(raw, mime_message_root(back), &got,
					  &err), 0);
	assert_int_equal(got.kind, MIME_CONTENT_MESSAGE);
	assert_string_equal(mime_part_header_get(got.message, "Subject"),
			    "get back in your box");
	assert_int_equal(mime_get_content(raw, got.message, &body, &err), 0);
	assert_string_equal(body.data, "Or face the comfy chair.\n");
	mime_content_clear(&body);
	mime_content_clear(&got);
	free(text);
	mime_message_free(&back);
	mime_message_free(&msg);
}

static void test_set_message_errors(void **state)
{
	static const struct {
		const char *subtype, *cte, *msg;
	} cases[] = {
		{ "rfc822", "quoted-printable",
		  "message/rfc822 parts do not support cte=quoted-printable" },
		{ "rfc822", "base64",
		  "message/rfc822 parts do not support cte=base64" },
		{ "external-body", "quoted-printable", "message/external-body "
		  "parts do not support cte=quoted-printable" },
		{ "external-body", "base64", "message/external-body parts do "
		  "not support cte=base64" },
		{ "external-body", "8bit", "message/external-body parts do "
		  "not support cte=8bit" },
		{ "external-body", "binary", "message/external-body parts do "
		  "not support cte=binary" },
		{ "partial", NULL, "message/partial is not supported for "
		  "Message objects" },
	};
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_set_opts o = { .subtype = cases[i].subtype,
					   .cte = cases[i].cte };
		struct mime_message *msg = mime_message_new();
		struct mime_message *inner = inner_message();

		assert_int_equal(mime_set_content(raw, mime_message_root(msg),
						  "message", inner, &o, &err),
				 -1);
		assert_string_equal(err.msg, cases[i].msg);
		/* A refused message stays with its owner. */
		assert_non_null(mime_message_root(inner));
		mime_message_free(&inner);
		mime_message_free(&msg);
	}
	{
		struct mime_message *msg = mime_message_new();

		assert_int_equal(mime_set_content(raw, mime_message_root(msg),
						  "message", msg, NULL, &err),
				 -1);
		mime_message_free(&msg);
	}
}

/* external-body is 7bit; other subtypes default to 7bit too. */
static void test_set_message_subtypes(void **state)
{
	static const char *const subs[][2] = { { "external-body", "7bit" },
					       { "news", "7bit" },
					       { "rfc822", "8bit" } };
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct mime_set_opts o = { .subtype = subs[i][0] };
		struct mime_message *msg = mime_message_new();
		struct mime_message *inner = inner_message();
		struct mime_part *r = mime_message_root(msg);

		assert_int_equal(mime_set_content(raw, r, "message", inner, &o,
						  &err), 0);
		assert_string_equal(mime_part_header_get(r,
					"Content-Transfer-Encoding"),
				    subs[i][1]);
		mime_message_free(&inner);
		mime_message_free(&msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_get_bad_utf8),
		cmocka_unit_test(test_get_message),
		cmocka_unit_test(test_set_text_round_trip),
		cmocka_unit_test(test_get_built),
		cmocka_unit_test(test_set_text_errors),
		cmocka_unit_test(test_set_bytes_round_trip),
		cmocka_unit_test(test_set_bytes_errors),
		cmocka_unit_test(test_set_message),
		cmocka_unit_test(test_set_message_errors),
		cmocka_unit_test(test_set_message_subtypes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
