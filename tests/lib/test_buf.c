/* Tests for lib/buf.c: growth, the hard maximum, NUL termination,
 * consume and take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/buf.h"

static void test_zeroed_is_empty(void **state)
{
	struct pn_buf b = { 0 };
	char *p;
	size_t n = 99;

	(void)state;
	assert_string_equal(pn_buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	p = pn_buf_take(&b, &n);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(n, 0);
	free(p);
	pn_buf_free(&b);
	pn_buf_reset(&b);
	pn_buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
}

static void test_add_and_grow(void **state)
{
	struct pn_buf b;

	(void)state;
	pn_buf_init(&b, 0);
	assert_int_equal(pn_buf_adds(&b, "hello"), 0);
	assert_int_equal(pn_buf_addc(&b, ' '), 0);
	assert_int_equal(pn_buf_add(&b, "world!!", 5), 0);
	assert_int_equal(pn_buf_add(&b, NULL, 0), 0);
	assert_string_equal(pn_buf_cstr(&b), "hello world");
	assert_int_equal(b.len, 11);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(pn_buf_addc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 10011);
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap > b.len);
	/* embedded NULs are data */
	pn_buf_reset(&b);
	assert_int_equal(pn_buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	pn_buf_free(&b);
	assert_null(b.data);
}

static void test_max(void **state)
{
	struct pn_buf b;

	(void)state;
	pn_buf_init(&b, 8);
	assert_int_equal(pn_buf_adds(&b, "12345678"), 0);
	errno = 0;
	assert_int_equal(pn_buf_addc(&b, '9'), -1);
	assert_int_equal(errno, EOVERFLOW);
	assert_string_equal(pn_buf_cstr(&b), "12345678");
	assert_int_equal(pn_buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(pn_buf_printf(&b, "%d", 1), -1);
	pn_buf_consume(&b, 4);
	assert_int_equal(pn_buf_printf(&b, "%s", "abcd"), 0);
	assert_string_equal(pn_buf_cstr(&b), "5678abcd");
	pn_buf_free(&b);
}

static void test_printf(void **state)
{
	struct pn_buf b;
	char big[3000];

	(void)state;
	pn_buf_init(&b, 0);
	assert_int_equal(pn_buf_printf(&b, "%s=%d", "n", 42), 0);
	assert_int_equal(pn_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(pn_buf_printf(&b, ";%05.1f", 3.14159), 0);
	assert_string_equal(pn_buf_cstr(&b), "n=42;003.1");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pn_buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 10 + 2 + sizeof(big) - 1);
	assert_int_equal(b.data[b.len - 1], ']');
	pn_buf_free(&b);
}

static void test_consume_and_take(void **state)
{
	struct pn_buf b;
	size_t n;
	char *p;

	(void)state;
	pn_buf_init(&b, 100);
	assert_int_equal(pn_buf_adds(&b, "line1\nline2\n"), 0);
	pn_buf_consume(&b, 6);
	assert_string_equal(pn_buf_cstr(&b), "line2\n");
	pn_buf_consume(&b, 100);
	assert_string_equal(pn_buf_cstr(&b), "");
	assert_int_equal(pn_buf_adds(&b, "kept"), 0);
	p = pn_buf_take(&b, &n);
	assert_string_equal(p, "kept");
	assert_int_equal(n, 4);
	free(p);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* the maximum survives take */
	assert_int_equal(b.max, 100);
	p = pn_buf_take(&b, NULL);
	assert_string_equal(p, "");
	free(p);
	pn_buf_free(&b);
}

/* A secret buffer behaves like any other, and what it drops is zeroed
 * within its block (what realloc would leave behind cannot be observed
 * from a test; grow() copies by hand for that). */
static void test_secret(void **state)
{
	struct pn_buf b;
	size_t cap;

	(void)state;
	pn_buf_init_secret(&b, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pn_buf_adds(&b, "hunter2 "), 0);
	assert_int_equal(b.len, 800);
	assert_memory_equal(b.data + 792, "hunter2 ", 8);
	pn_buf_consume(&b, 8);
	assert_int_equal(b.len, 792);
	for (size_t i = b.len; i < 800; i++)
		assert_int_equal(b.data[i], 0);
	cap = b.cap;
	pn_buf_reset(&b);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(b.data[i], 0);
	pn_buf_free(&b);
	assert_null(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeroed_is_empty),
		cmocka_unit_test(test_add_and_grow),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume_and_take),
		cmocka_unit_test(test_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
