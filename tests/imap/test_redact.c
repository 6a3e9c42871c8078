/* Tests for imap/redact.c: what a trace shows of each client line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../imap/imap.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	bool sensitive;
	const char *out;
} cases[] = {
	/* LOGIN: the password goes, whatever its form */
	{ "a1 LOGIN fred s3cr3t", false, "a1 LOGIN fred <redacted>" },
	{ "a1 login fred s3cr3t", false, "a1 login fred <redacted>" },
	{ "a1 LoGiN fred s3cr3t", false, "a1 LoGiN fred <redacted>" },
	{ "a1 LOGIN \"fred\" \"s3 cr3t\"", false,
	  "a1 LOGIN \"fred\" <redacted>" },
	{ "a1 LOGIN \"fr\\\"ed x\" \"pw\"", false,
	  "a1 LOGIN \"fr\\\"ed x\" <redacted>" },
	{ "a1 LOGIN \"a\\\\\" pw", false, "a1 LOGIN \"a\\\\\" <redacted>" },
	{ "a1 LOGIN fred {6}", false, "a1 LOGIN fred <redacted>" },
	{ "a1 LOGIN fred {6+}", false, "a1 LOGIN fred <redacted>" },
	{ "a1 LOGIN fred \"unterminated", false, "a1 LOGIN fred <redacted>" },
	{ "a1 LOGIN fred ", false, "a1 LOGIN fred <redacted>" },
	/* the user name as a literal: its bytes (and the password) come on
	 * the next, sensitive line */
	{ "a1 LOGIN {4}", false, "a1 LOGIN {4}" },
	{ "a1 LOGIN fred", false, "a1 LOGIN fred" },
	/* not parseable: everything after LOGIN goes */
	{ "a1 LOGIN \"fred pw", false, "a1 LOGIN <redacted>" },
	{ "a1 LOGIN \"fred\"pw", false, "a1 LOGIN <redacted>" },
	{ "a1 LOGIN {4}pw", false, "a1 LOGIN <redacted>" },
	{ "a1 LOGIN  pw", false, "a1 LOGIN <redacted>" },
	/* typed without a tag (the REPL) */
	{ "LOGIN fred pw", false, "LOGIN fred <redacted>" },
	{ "login LOGIN fred pw", false, "login LOGIN fred <redacted>" },
	/* AUTHENTICATE: the initial response goes (SASL-IR) */
	{ "a2 AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm", false,
	  "a2 AUTHENTICATE PLAIN <redacted>" },
	{ "a2 authenticate xoauth2 dXNlcj1mb28BYXV0aD1CZWFyZXIgeAEB", false,
	  "a2 authenticate xoauth2 <redacted>" },
	{ "a2 AUTHENTICATE EXTERNAL =", false,
	  "a2 AUTHENTICATE EXTERNAL <redacted>" },
	{ "a2 AUTHENTICATE CRAM-MD5", false, "a2 AUTHENTICATE CRAM-MD5" },
	{ "AUTHENTICATE PLAIN AHRpbQB0", false, "AUTHENTICATE PLAIN <redacted>" },
	/* continuation lines the connection marks */
	{ "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", true,
	  "<redacted>" },
	{ "", true, "<redacted>" },
	{ "s3cr3t", true, "<redacted>" },
	/* everything else passes untouched */
	{ "", false, "" },
	{ "DONE", false, "DONE" },
	{ "a3 SELECT INBOX", false, "a3 SELECT INBOX" },
	{ "a4 UID FETCH 1:* (FLAGS)", false, "a4 UID FETCH 1:* (FLAGS)" },
	{ "a4 UID LOGIN fred pw", false, "a4 UID LOGIN fred pw" },
	{ "a5 LOGINX fred pw", false, "a5 LOGINX fred pw" },
	{ "a5 XLOGIN fred pw", false, "a5 XLOGIN fred pw" },
	{ "a6 APPEND INBOX {310}", false, "a6 APPEND INBOX {310}" },
	{ "a7 LOGIN", false, "a7 LOGIN" },
	{ "a7 AUTHENTICATE", false, "a7 AUTHENTICATE" },
	{ "login NOOP", false, "login NOOP" },
};

static void test_table(void **state)
{
	struct pn_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		pn_buf_reset(&b);
		assert_int_equal(imap_redact_line(cases[i].in,
						  strlen(cases[i].in),
						  cases[i].sensitive, &b), 0);
		assert_string_equal(pn_buf_cstr(&b), cases[i].out);
	}
	pn_buf_free(&b);
}

/* The length rules, output is appended, and bytes pass as they are. */
static void test_length_and_append(void **state)
{
	struct pn_buf b = { 0 };

	(void)state;
	assert_int_equal(pn_buf_adds(&b, "> "), 0);
	assert_int_equal(imap_redact_line("a1 LOGIN u pw\r\njunk", 13, false,
					  &b), 0);
	assert_string_equal(pn_buf_cstr(&b), "> a1 LOGIN u <redacted>");
	pn_buf_reset(&b);
	assert_int_equal(imap_redact_line("a1 NOOP\0x", 9, false, &b), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "a1 NOOP\0x", 9);
	pn_buf_free(&b);
}

/* A full buffer is an error, not a truncated line with the secret. */
static void test_full_buffer(void **state)
{
	struct pn_buf b;

	(void)state;
	pn_buf_init(&b, 8);
	assert_int_equal(imap_redact_line("a1 LOGIN user password", 22, false,
					  &b), -1);
	pn_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_length_and_append),
		cmocka_unit_test(test_full_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
