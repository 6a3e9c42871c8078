/* Tests for imap/sasl.c: each mechanism's exchange against the RFC
 * examples (RFC 4616 PLAIN, RFC 2195 CRAM-MD5, RFC 7628 OAUTHBEARER),
 * failure challenges, and challenges one too many. */
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

/* One step: challenge (NULL: the initial response), the expected
 * response (len bytes) or error, and done. */
struct exch {
	const char *challenge;
	const char *response;
	size_t len;
	bool done;
	const char *error;
};

static void run(enum imap_sasl_mech m, const struct imap_sasl_creds *creds,
		const struct exch *steps, size_t n)
{
	struct imap_sasl *s = imap_sasl_new(m, creds);
	struct pn_buf out = { 0 };
	struct pn_error err;
	size_t i;
	bool done;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		const char *c = steps[i].challenge;
		int rc;

		pn_buf_reset(&out);
		rc = imap_sasl_step(s, c, c ? strlen(c) : 0, &out, &done,
				    &err);
		if (steps[i].error) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, steps[i].error);
			assert_int_equal(out.len, 0);
			assert_false(done);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(out.len, steps[i].len);
		assert_memory_equal(pn_buf_cstr(&out), steps[i].response,
				    steps[i].len);
		assert_int_equal(done, steps[i].done);
	}
	imap_sasl_free(&s);
	assert_null(s);
	pn_buf_free(&out);
}

#define R(s) s, sizeof(s) - 1

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(imap_sasl_name(IMAP_SASL_CRAM_MD5), "CRAM-MD5");
	assert_string_equal(imap_sasl_name(IMAP_SASL_OAUTHBEARER),
			    "OAUTHBEARER");
	assert_null(imap_sasl_name((enum imap_sasl_mech)99));
	assert_int_equal(imap_sasl_lookup("plain"), IMAP_SASL_PLAIN);
	assert_int_equal(imap_sasl_lookup("Cram-MD5"), IMAP_SASL_CRAM_MD5);
	assert_int_equal(imap_sasl_lookup("XOAUTH2"), IMAP_SASL_XOAUTH2);
	assert_int_equal(imap_sasl_lookup("EXTERNAL"), IMAP_SASL_EXTERNAL);
	assert_int_equal(imap_sasl_lookup("LOGIN"), IMAP_SASL_LOGIN);
	assert_int_equal(imap_sasl_lookup("SCRAM-SHA-1"), -1);
	assert_int_equal(imap_sasl_lookup(""), -1);
	assert_int_equal(imap_sasl_lookup(NULL), -1);
	assert_true(imap_sasl_has_initial(IMAP_SASL_PLAIN));
	assert_true(imap_sasl_has_initial(IMAP_SASL_XOAUTH2));
	assert_true(imap_sasl_has_initial(IMAP_SASL_OAUTHBEARER));
	assert_true(imap_sasl_has_initial(IMAP_SASL_EXTERNAL));
	assert_false(imap_sasl_has_initial(IMAP_SASL_LOGIN));
	assert_false(imap_sasl_has_initial(IMAP_SASL_CRAM_MD5));
	assert_null(imap_sasl_new((enum imap_sasl_mech)99, NULL));
}

/* RFC 4616 section 4's two examples. */
static void test_plain(void **state)
{
	const struct imap_sasl_creds tim = { .user = "tim",
					     .secret = "tanstaaftanstaaf" };
	const struct imap_sasl_creds kurt = { .authzid = "Ursel",
					      .user = "Kurt",
					      .secret = "xipj3plmq" };
	const struct exch ir[] = {
		{ NULL, R("\0tim\0tanstaaftanstaaf"), true, NULL },
		{ "", NULL, 0, false,
		  "SASL PLAIN: unexpected challenge after the response" },
	};
	const struct exch empty_challenge[] = {
		{ "", R("Ursel\0Kurt\0xipj3plmq"), true, NULL },
	};
	const struct imap_sasl_creds nopass = { .user = "tim" };
	const struct exch missing[] = {
		{ NULL, NULL, 0, false, "SASL PLAIN: no password given" },
	};

	(void)state;
	run(IMAP_SASL_PLAIN, &tim, ir, NELEM(ir));
	run(IMAP_SASL_PLAIN, &kurt, empty_challenge, NELEM(empty_challenge));
	run(IMAP_SASL_PLAIN, &nopass, missing, NELEM(missing));
}

static void test_login(void **state)
{
	const struct imap_sasl_creds c = { .user = "fred",
					   .secret = "s3cr3t" };
	const struct exch ex[] = {
		{ NULL, NULL, 0, false, "SASL LOGIN: no initial response "
					"(wait for the server's prompt)" },
		{ "Username:", R("fred"), false, NULL },
		{ "Password:", R("s3cr3t"), true, NULL },
		{ "Password:", NULL, 0, false,
		  "SASL LOGIN: unexpected third challenge" },
	};
	/* Any prompt text, even empty or odd. */
	const struct exch odd[] = {
		{ "", R("fred"), false, NULL },
		{ "Passwort", R("s3cr3t"), true, NULL },
	};

	(void)state;
	run(IMAP_SASL_LOGIN, &c, ex, NELEM(ex));
	run(IMAP_SASL_LOGIN, &c, odd, NELEM(odd));
}

/* RFC 2195 section 2's example. */
static void test_cram_md5(void **state)
{
	const struct imap_sasl_creds c = { .user = "tim",
					   .secret = "tanstaaftanstaaf" };
	const struct exch ex[] = {
		{ NULL, NULL, 0, false, "SASL CRAM-MD5: no initial response" },
		{ "<1896.697170952@postoffice.reston.mci.net>",
		  R("tim b913a602c7eda7a495b4e6e7334d3890"), true, NULL },
		{ "<1896.697170952@postoffice.reston.mci.net>", NULL, 0, false,
		  "SASL CRAM-MD5: unexpected second challenge" },
	};
	const struct exch empty[] = {
		{ "", NULL, 0, false, "SASL CRAM-MD5: empty challenge" },
	};

	(void)state;
	run(IMAP_SASL_CRAM_MD5, &c, ex, NELEM(ex));
	run(IMAP_SASL_CRAM_MD5, &c, empty, NELEM(empty));
}

static void test_xoauth2(void **state)
{
	const struct imap_sasl_creds c = { .user = "someuser@example.com",
					   .secret = "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg" };
	const struct exch ok[] = {
		{ NULL, R("user=someuser@example.com\x01"
			  "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg"
			  "\x01\x01"), false, NULL },
	};
	/* Google: the error JSON is answered with an empty response. */
	const struct exch failed[] = {
		{ "", R("user=someuser@example.com\x01"
			"auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg"
			"\x01\x01"), false, NULL },
		{ "{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":"
		  "\"https://mail.google.com/\"}", R(""), true, NULL },
		{ "", NULL, 0, false,
		  "SASL XOAUTH2: unexpected challenge after the error" },
	};
	const struct imap_sasl_creds evil = { .user = "a\x01" "auth=x",
					      .secret = "t" };
	const struct exch refused[] = {
		{ NULL, NULL, 0, false,
		  "SASL XOAUTH2: the user name contains a ^A byte" },
	};

	(void)state;
	run(IMAP_SASL_XOAUTH2, &c, ok, NELEM(ok));
	run(IMAP_SASL_XOAUTH2, &c, failed, NELEM(failed));
	run(IMAP_SASL_XOAUTH2, &evil, refused, NELEM(refused));
}

/* RFC 7628 section 4.1's example, then 4.3's failure. */
static void test_oauthbearer(void **state)
{
	const struct imap_sasl_creds c = {
		.user = "user@example.com",
		.secret = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
		.host = "server.example.com",
		.port = 143,
	};
	const struct exch ex[] = {
		{ NULL, R("n,a=user@example.com,\x01host=server.example.com"
			  "\x01port=143\x01"
			  "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
			  "\x01\x01"), false, NULL },
		{ "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
		  "\"openid-configuration\":\"https://example.com/.well-known/"
		  "openid-configuration\"}", R("\x01"), true, NULL },
		{ "", NULL, 0, false,
		  "SASL OAUTHBEARER: unexpected challenge after the error" },
	};
	/* No host/port known; an authzid with gs2 specials escaped. */
	const struct imap_sasl_creds c2 = { .authzid = "a,b=c", .user = "u",
					    .secret = "tok" };
	const struct exch ex2[] = {
		{ "", R("n,a=a=2Cb=3Dc,\x01" "auth=Bearer tok\x01\x01"),
		  false, NULL },
	};
	const struct imap_sasl_creds c3 = { .secret = "tok" };
	const struct exch ex3[] = {
		{ NULL, R("n,,\x01" "auth=Bearer tok\x01\x01"), false, NULL },
	};

	(void)state;
	run(IMAP_SASL_OAUTHBEARER, &c, ex, NELEM(ex));
	run(IMAP_SASL_OAUTHBEARER, &c2, ex2, NELEM(ex2));
	run(IMAP_SASL_OAUTHBEARER, &c3, ex3, NELEM(ex3));
}

static void test_external(void **state)
{
	const struct imap_sasl_creds none = { 0 };
	const struct imap_sasl_creds as = { .authzid = "admin" };
	const struct exch ex[] = {
		{ NULL, R(""), true, NULL },
		{ "", NULL, 0, false,
		  "SASL EXTERNAL: unexpected challenge after the response" },
	};
	const struct exch ex2[] = {
		{ "", R("admin"), true, NULL },
	};

	(void)state;
	run(IMAP_SASL_EXTERNAL, &none, ex, NELEM(ex));
	run(IMAP_SASL_EXTERNAL, NULL, ex, NELEM(ex));
	run(IMAP_SASL_EXTERNAL, &as, ex2, NELEM(ex2));
}

/* The caller's creds are copied: changing them afterwards changes
 * nothing; a failing step leaves the output as it was. */
static void test_copies_and_errors(void **state)
{
	char user[] = "tim", pass[] = "pw";
	struct imap_sasl_creds c = { .user = user, .secret = pass };
	struct imap_sasl *s = imap_sasl_new(IMAP_SASL_LOGIN, &c);
	struct pn_buf out = { 0 };
	struct pn_error err;
	bool done = true;

	(void)state;
	assert_non_null(s);
	user[0] = 'X';
	pass[0] = 'X';
	assert_int_equal(pn_buf_adds(&out, "keep"), 0);
	assert_int_equal(imap_sasl_step(s, NULL, 0, &out, &done, &err), -1);
	assert_false(done);
	assert_string_equal(pn_buf_cstr(&out), "keep");
	assert_int_equal(imap_sasl_step(s, "U", 1, &out, &done, &err), 0);
	assert_int_equal(imap_sasl_step(s, "P", 1, &out, NULL, &err), 0);
	assert_string_equal(pn_buf_cstr(&out), "keeptimpw");
	imap_sasl_free(&s);
	imap_sasl_free(&s);
	assert_int_equal(imap_sasl_step(NULL, "", 0, &out, &done, &err), -1);
	pn_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_cram_md5),
		cmocka_unit_test(test_xoauth2),
		cmocka_unit_test(test_oauthbearer),
		cmocka_unit_test(test_external),
		cmocka_unit_test(test_copies_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
