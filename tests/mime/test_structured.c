/* Tests for mime/structured.c.  Expected params are written "name=value"
 * joined by '|'.  Differences from Python's email (policy.default):
 *   - "filename=foo bar.pdf": Python "foo", here "foo bar.pdf";
 *   - "filename==?utf-8?q?..?=" unquoted: Python None, here decoded;
 *   - sections 0 and 2 without 1: Python stops at the gap, here joined;
 *   - "text/plain garbage": Python keeps the junk in the type, here
 *     "text/plain" and a defect. */
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
	const char *in;
	const char *token;	/* NULL: invalid */
	const char *params;
	unsigned defects;
} cases[] = {
	{ "text/plain", "text/plain", "", 0 },
	{ "TEXT/HTML; CHARSET=\"UTF-8\"", "text/html", "charset=UTF-8", 0 },
	{ "text/plain; charset=us-ascii (Plain text)", "text/plain",
	  "charset=us-ascii", 0 },
	{ "text/plain;charset=utf-8;format=flowed", "text/plain",
	  "charset=utf-8|format=flowed", 0 },
	{ " (c) text / plain (c) ; a = b ", "text/plain", "a=b", 0 },
	{ "attachment", "attachment", "", 0 },
	{ "text", "text", "", 0 },	/* part.c decides a type needs '/' */
	{ "multipart/mixed; boundary=\"=_x;y\"", "multipart/mixed",
	  "boundary==_x;y", 0 },
	{ "a/b; x=\"q\\\"uo\\\\te\"", "a/b", "x=q\"uo\\te", 0 },
	/* invalid or missing token */
	{ "", NULL, "", 1 },
	{ ";;", NULL, "", 1 },
	{ "/plain; a=b", NULL, "a=b", 1 },
	{ "text/; a=b", NULL, "a=b", 1 },
	{ "text/plain garbage; a=b", "text/plain", "a=b", 1 },
	/* junk parameters */
	{ "a/b; =x; y; z=\"unterminated", "a/b", "z=unterminated", 3 },
	{ "a/b;;; c=d;", "a/b", "c=d", 0 },
	{ "attachment; filename=foo bar.pdf", "attachment",
	  "filename=foo bar.pdf", 1 },
	{ "attachment; filename=x (comment)", "attachment", "filename=x", 0 },
	{ "attachment; filename=\"a\" junk; b=c", "attachment",
	  "filename=a|b=c", 1 },
	/* duplicates: first wins, as in Python */
	{ "a/b; n=1; N=2", "a/b", "n=1", 1 },
	{ "attachment; filename=a.txt; filename*=utf-8''b.txt", "attachment",
	  "filename=a.txt", 1 },
	{ "attachment; filename*=utf-8''b.txt; filename=a.txt", "attachment",
	  "filename=b.txt", 1 },
	/* RFC 2231 */
	{ "attachment; filename*=utf-8''%E2%82%AC.txt", "attachment",
	  "filename=\xe2\x82\xac.txt", 0 },
	{ "attachment; filename*=iso-8859-1'en'caf%E9", "attachment",
	  "filename=caf\xc3\xa9", 0 },
	{ "attachment; filename*=''%E2%82%AC", "attachment",
	  "filename=\xe2\x82\xac", 0 },
	{ "attachment; filename*=%E2%82%AC", "attachment",
	  "filename=\xe2\x82\xac", 0 },		/* no charset'lang' */
	{ "attachment; filename*=utf-8''100%", "attachment",
	  "filename=100%", 1 },
	{ "attachment; filename*1=\"b\"; filename*0=\"a\"", "attachment",
	  "filename=ab", 0 },
	{ "attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC; "
	  "filename*2=\".txt\"", "attachment", "filename=\xe2\x82\xac.txt", 0 },
	{ "attachment; filename*0=\"a\"; filename*2=\"c\"", "attachment",
	  "filename=ac", 1 },
	{ "attachment; filename*0=\"a\"; filename*0=\"x\"; filename*1=b",
	  "attachment", "filename=ab", 1 },
	{ "attachment; filename*1=\"b\"", "attachment", "filename=b", 1 },
	{ "attachment; filename*0*=bogus''caf%E9", "attachment",
	  "filename=caf\xc3\xa9", 1 },
	{ "a/b; n*x=1", "a/b", "n*x=1", 0 },	/* not RFC 2231: kept */
	/* RFC 2047 inside values, as real mail has it */
	{ "attachment; filename=\"=?utf-8?q?caf=C3=A9?=.txt\"", "attachment",
	  "filename=caf\xc3\xa9.txt", 0 },
	{ "attachment; filename==?utf-8?q?caf=C3=A9?=.txt", "attachment",
	  "filename=caf\xc3\xa9.txt", 0 },
	{ "attachment; name=\"=?iso-8859-1?b?6Q==?=\"", "attachment",
	  "name=\xc3\xa9", 0 },
	/* raw 8-bit */
	{ "attachment; filename=\"caf\xc3\xa9\"", "attachment",
	  "filename=caf\xc3\xa9", 0 },
	{ "attachment; filename=\"caf\xe9\"", "attachment",
	  "filename=caf\xc3\xa9", 1 },
	/* comments: nested, escaped, unterminated */
	{ "a/b (x (y) \\) z); c=d", "a/b", "c=d", 0 },
	{ "a/b; c=d (never closed", "a/b", "c=d", 1 },
};

static void params_str(const struct mime_param *p, char *out, size_t n)
{
	out[0] = '\0';
	for (; p; p = p->next) {
		size_t l = strlen(out);

		snprintf(out + l, n - l, "%s%s=%s", l ? "|" : "", p->name,
			 p->value);
	}
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_param *params;
		unsigned defects = 99;
		char *token, got[512];
		bool ok;

		assert_int_equal(mime_parse_structured(cases[i].in, &token,
						       &params, &defects), 0);
		params_str(params, got, sizeof(got));
		ok = (token && cases[i].token) ?
			strcmp(token, cases[i].token) == 0 :
			token == cases[i].token;
		if (!ok || strcmp(got, cases[i].params) != 0 ||
		    defects != cases[i].defects)
			fail_msg("case %zu \"%s\": token %s params \"%s\" "
				 "defects %u", i, cases[i].in,
				 token ? token : "NULL", got, defects);
		free(token);
		mime_params_free(&params);
	}
}

static void test_param_get(void **state)
{
	struct mime_param *params;
	char *token;

	(void)state;
	assert_int_equal(mime_parse_structured("text/plain; Charset=UTF-8",
					       &token, &params, NULL), 0);
	assert_string_equal(mime_param_get(params, "CHARSET"), "UTF-8");
	assert_null(mime_param_get(params, "name"));
	assert_null(mime_param_get(NULL, "name"));
	free(token);
	mime_params_free(&params);
	assert_null(params);
	mime_params_free(&params);
}

/* Many parameters (past the section cap) and random junk: no crash. */
static void test_hostile(void **state)
{
	struct pn_buf in = { 0 };
	struct mime_param *params;
	unsigned defects = 0, seed = 7;
	char *token;

	(void)state;
	assert_int_equal(pn_buf_adds(&in, "a/b"), 0);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(pn_buf_printf(&in, "; f*%d*=%%41", 3000 - i),
				 0);
	assert_int_equal(mime_parse_structured(in.data, &token, &params,
					       &defects), 0);
	assert_non_null(params);
	assert_true(defects > 0);
	free(token);
	mime_params_free(&params);
	for (int round = 0; round < 300; round++) {
		pn_buf_reset(&in);
		for (int i = 0; i < 200; i++) {
			seed = seed * 1103515245 + 12345;
			assert_int_equal(pn_buf_addc(&in,
				"a/b;=\"\\()* '%9=?q\xe9"[(seed >> 16) % 18]), 0);
		}
		assert_int_equal(mime_parse_structured(in.data, &token,
						       &params, NULL), 0);
		free(token);
		mime_params_free(&params);
	}
	pn_buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_param_get),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
