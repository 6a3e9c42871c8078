/* Tests for mime/header.c: raw fields from the parser, accessors, and
 * the mutators (injection refused, derived fields kept up to date). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mime/mime_p.h"

static const struct {
	const char *raw;
	const char *name;	/* NULL: refused */
	const char *value;
	bool eightbit;
} raw_cases[] = {
	{ "Subject: hi\r\n", "Subject", "hi", false },
	{ "Subject: hi\n", "Subject", "hi", false },
	{ "Subject:hi", "Subject", "hi", false },
	{ "Subject:   \t hi  \r\n", "Subject", "hi  ", false },
	{ "Subject: a\r\n b\r\n\tc\r\n", "Subject", "a b\tc", false },
	{ "Subject: a\n b\n", "Subject", "a b", false },
	{ "Subject:\r\n folded first\r\n", "Subject", "folded first", false },
	{ "Subject : obsolete\r\n", "Subject", "obsolete", false },
	{ "Subject: caf\xc3\xa9\r\n", "Subject", "caf\xc3\xa9", true },
	{ "X-Empty:\r\n", "X-Empty", "", false },
	{ "X-Lone-CR: a\rb\r\n", "X-Lone-CR", "a\rb", false },
	{ "no colon here\r\n", NULL, NULL, false },
	{ ": no name\r\n", NULL, NULL, false },
	{ "Bad Name: x\r\n", NULL, NULL, false },
	{ "B\xc3\xa4" "d: x\r\n", NULL, NULL, true },
};

static void test_append_raw(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		struct mime_message *msg = mime_message_new();
		struct mime_part *part = mime_message_root(msg);
		size_t len = strlen(raw_cases[i].raw);
		struct pn_error err;
		bool eight = !raw_cases[i].eightbit;
		int r = mime_header_append_raw(part, raw_cases[i].raw, len,
					       &eight, &err);

		assert_int_equal(eight, raw_cases[i].eightbit);
		if (!raw_cases[i].name) {
			assert_int_equal(r, -1);
			assert_int_equal(err.code, PN_EPARSE);
			assert_int_equal(mime_part_header_count(part), 0);
		} else {
			struct mime_header *h;

			assert_int_equal(r, 0);
			h = mime_header_find(part, raw_cases[i].name);
			assert_non_null(h);
			assert_string_equal(h->name, raw_cases[i].name);
			if (strcmp(h->value, raw_cases[i].value) != 0)
				fail_msg("case %zu: value \"%s\"", i, h->value);
			assert_int_equal(h->raw_len, len);
			assert_memory_equal(h->raw, raw_cases[i].raw, len);
		}
		mime_message_free(&msg);
	}
}

static struct mime_part *parsed(struct mime_message **msg)
{
	static const char *const fields[] = {
		"From: =?utf-8?q?J=C3=B6hn?= <j@x>\r\n",
		"Subject: =?utf-8?q?caf=C3=A9?= au\r\n lait\r\n",
		"Received: one\r\n",
		"received: two\r\n",
		"Content-Type: text/plain; charset=UTF-8\r\n",
	};
	struct mime_part *part;

	*msg = mime_message_new();
	part = mime_message_root(*msg);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_int_equal(mime_header_append_raw(part, fields[i],
							strlen(fields[i]), NULL,
							NULL), 0);
	return part;
}

static void test_accessors(void **state)
{
	struct mime_message *msg;
	struct mime_part *part = parsed(&msg);
	char *d;

	(void)state;
	assert_int_equal(mime_part_header_count(part), 5);
	assert_string_equal(mime_part_header_name(part, 3), "received");
	assert_string_equal(mime_part_header_value(part, 3), "two");
	assert_null(mime_part_header_name(part, 5));
	assert_null(mime_part_header_value(part, 99));
	assert_string_equal(mime_part_header_get(part, "RECEIVED"), "one");
	assert_null(mime_part_header_get(part, "Date"));
	d = mime_part_header_decoded(part, "subject");
	assert_string_equal(d, "caf\xc3\xa9 au lait");
	free(d);
	d = mime_part_header_decoded(part, "From");
	assert_string_equal(d, "J\xc3\xb6hn <j@x>");
	free(d);
	assert_null(mime_part_header_decoded(part, "Date"));
	mime_message_free(&msg);
}

static void test_mutators(void **state)
{
	struct mime_message *msg;
	struct mime_part *part = parsed(&msg);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_part_header_add(part, "X-New", "v\xc3\xa9", &err),
			 0);
	assert_int_equal(mime_part_header_count(part), 6);
	assert_string_equal(mime_part_header_name(part, 5), "X-New");
	assert_null(mime_header_find(part, "X-New")->raw);
	assert_true(part->headers_dirty);
	/* set replaces every Received where the first was */
	assert_int_equal(mime_part_header_set(part, "Received", "three", &err),
			 0);
	assert_int_equal(mime_part_header_count(part), 5);
	assert_string_equal(mime_part_header_name(part, 2), "Received");
	assert_string_equal(mime_part_header_value(part, 2), "three");
	assert_string_equal(mime_part_header_name(part, 3), "Content-Type");
	/* set of a new name appends */
	assert_int_equal(mime_part_header_set(part, "Date", "now", &err), 0);
	assert_string_equal(mime_part_header_name(part, 5), "Date");
	/* derived fields follow */
	assert_int_equal(mime_part_header_set(part, "Content-Type",
					      "text/html", &err), 0);
	assert_string_equal(mime_part_type(part), "text/html");
	assert_int_equal(mime_part_header_remove(part, "content-type"), 1);
	assert_string_equal(mime_part_type(part), "text/plain");
	assert_int_equal(mime_part_header_remove(part, "nothing"), 0);
	/* removing the last field keeps the tail right for the next add */
	assert_int_equal(mime_part_header_remove(part, "Date"), 1);
	assert_int_equal(mime_part_header_add(part, "Z", "z", &err), 0);
	assert_string_equal(mime_part_header_name(part,
		mime_part_header_count(part) - 1), "Z");
	mime_message_free(&msg);
}

static const struct {
	const char *name;
	const char *value;
	const char *msg;
} bad_cases[] = {
	{ "Subject", "a\r\nBcc: x", "header injection: CR or LF in Subject value" },
	{ "Subject", "a\nb", "header injection: CR or LF in Subject value" },
	{ "To", "a\rb", "header injection: CR or LF in To value" },
	{ "X\r\nBcc", "x", "header injection: CR or LF in header name" },
	{ "Bad Name", "x", "invalid header name \"Bad Name\"" },
	{ "Bad:Name", "x", "invalid header name \"Bad:Name\"" },
	{ "", "x", "empty header name" },
	{ "Subject", "caf\xe9", "Subject value is not valid UTF-8" },
};

static void test_injection(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *part = mime_message_root(msg);

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct pn_error err;

		assert_int_equal(mime_part_header_add(part, bad_cases[i].name,
						      bad_cases[i].value, &err),
				 -1);
		assert_int_equal(err.code, PN_EINVAL);
		assert_string_equal(err.msg, bad_cases[i].msg);
		assert_int_equal(mime_part_header_set(part, bad_cases[i].name,
						      bad_cases[i].value, &err),
				 -1);
		assert_string_equal(err.msg, bad_cases[i].msg);
	}
	assert_int_equal(mime_part_header_count(part), 0);
	mime_message_free(&msg);
}

static void test_set_param(void **state)
{
	struct mime_message *msg;
	struct mime_part *part = parsed(&msg);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_part_set_param(part, "Content-Type", "charset",
					     "us-ascii", &err), 0);
	assert_string_equal(mime_part_header_get(part, "Content-Type"),
			    "text/plain; charset=us-ascii");
	assert_int_equal(mime_part_set_param(part, "Content-Type", "name",
					     "\xe2\x82\xac 1.txt", &err), 0);
	assert_string_equal(mime_part_header_get(part, "Content-Type"),
			    "text/plain; charset=us-ascii; "
			    "name*=utf-8''%E2%82%AC%201.txt");
	assert_string_equal(mime_part_param(part, "name"), "\xe2\x82\xac 1.txt");
	assert_string_equal(mime_part_filename(part), "\xe2\x82\xac 1.txt");
	/* no Content-Disposition to set a parameter in */
	assert_int_equal(mime_part_set_param(part, "Content-Disposition",
					     "filename", "x", &err), -1);
	assert_int_equal(err.code, PN_ENOTFOUND);
	assert_int_equal(mime_part_header_add(part, "Content-Disposition",
					      "attachment", &err), 0);
	assert_int_equal(mime_part_set_param(part, "Content-Disposition",
					     "filename", "a \"b\".pdf", &err), 0);
	assert_string_equal(mime_part_header_get(part, "Content-Disposition"),
			    "attachment; filename=\"a \\\"b\\\".pdf\"");
	assert_string_equal(mime_part_filename(part), "a \"b\".pdf");
	assert_int_equal(mime_part_set_param(part, "Content-Type", "bad name",
					     "x", &err), -1);
	assert_int_equal(err.code, PN_EINVAL);
	assert_int_equal(mime_part_set_param(part, "Content-Type", "name",
					     "x\r\ny", &err), -1);
	assert_string_equal(err.msg,
			    "header injection: CR or LF in Content-Type value");
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_raw),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_mutators),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_set_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
