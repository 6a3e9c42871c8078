/* Tests for lib/error.c: messages, positions, prefixes, NULL errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/error.h"

static void test_clear(void **state)
{
	struct pn_error err;

	(void)state;
	memset(&err, 0x55, sizeof(err));
	pn_error_clear(&err);
	assert_int_equal(err.code, PN_OK);
	assert_string_equal(err.msg, "");
	assert_int_equal(err.offset, -1);
	assert_int_equal(err.line, 0);
	pn_error_clear(NULL);
}

static void test_set_and_at(void **state)
{
	struct pn_error err;

	(void)state;
	assert_int_equal(pn_error_set(&err, PN_EPARSE, "BODYSTRUCTURE: "
				      "unbalanced '%c'", ')'), -1);
	assert_int_equal(err.code, PN_EPARSE);
	assert_int_equal(err.offset, -1);
	assert_int_equal(pn_error_at(&err, 212, 0), -1);
	assert_string_equal(err.msg,
			    "BODYSTRUCTURE: unbalanced ')' at byte 212");
	assert_int_equal(err.offset, 212);
	pn_error_set(&err, PN_ELIMIT, "header too long");
	pn_error_at(&err, 5000, 17);
	assert_string_equal(err.msg, "header too long at byte 5000 (line 17)");
	assert_int_equal(err.line, 17);
	/* NULL is allowed everywhere and still returns -1 */
	assert_int_equal(pn_error_set(NULL, PN_EINVAL, "x"), -1);
	assert_int_equal(pn_error_errno(NULL, EIO, "x"), -1);
	assert_int_equal(pn_error_at(NULL, 1, 1), -1);
	pn_error_prefix(NULL, "p");
}

static void test_errno(void **state)
{
	struct pn_error err;

	(void)state;
	pn_error_errno(&err, ENOENT, "open %s", "x.eml");
	assert_int_equal(err.code, PN_EIO);
	assert_string_equal(err.msg, "open x.eml: No such file or directory");
	pn_error_errno(&err, ENOMEM, "alloc");
	assert_int_equal(err.code, PN_ENOMEM);
}

static void test_prefix_and_truncation(void **state)
{
	struct pn_error err;
	char big[2000];

	(void)state;
	pn_error_set(&err, PN_EPARSE, "bad header");
	pn_error_prefix(&err, "%s", "msg.eml");
	assert_string_equal(err.msg, "msg.eml: bad header");
	/* overlong messages are cut, never overflow */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pn_error_set(&err, PN_EPARSE, "%s", big);
	assert_int_equal(strlen(err.msg), PN_ERROR_MSG_MAX - 1);
	pn_error_at(&err, 1, 1);
	assert_int_equal(strlen(err.msg), PN_ERROR_MSG_MAX - 1);
	pn_error_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.msg), PN_ERROR_MSG_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_set_and_at),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_prefix_and_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
