/* Tests for lib/arena.c: zeroed aligned memory, large requests,
 * accounting and release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/arena.h"

static void test_alloc_zeroed_aligned(void **state)
{
	struct pn_arena *a = pn_arena_new();

	(void)state;
	assert_non_null(a);
	for (size_t n = 0; n < 300; n++) {
		unsigned char *p = pn_arena_alloc(a, n);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, n);	/* ASan: the whole size is ours */
	}
	assert_int_equal(pn_arena_used(a), 299 * 300 / 2);
	pn_arena_free(&a);
	assert_null(a);
	pn_arena_free(&a);	/* freeing NULL is fine */
}

static void test_large_and_many(void **state)
{
	struct pn_arena *a = pn_arena_new();
	char *big, *small[1000];

	(void)state;
	big = pn_arena_alloc(a, 1 << 20);
	assert_non_null(big);
	memset(big, 1, 1 << 20);
	for (int i = 0; i < 1000; i++) {
		small[i] = pn_arena_alloc(a, 40);
		assert_non_null(small[i]);
		memset(small[i], i & 0xff, 40);
	}
	/* earlier allocations are untouched by later ones */
	for (int i = 0; i < 1000; i++)
		assert_int_equal((unsigned char)small[i][39], i & 0xff);
	assert_int_equal(big[(1 << 20) - 1], 1);
	assert_null(pn_arena_alloc(a, SIZE_MAX));
	assert_null(pn_arena_alloc(a, SIZE_MAX - 8));
	pn_arena_free(&a);
}

static void test_strdup(void **state)
{
	struct pn_arena *a = pn_arena_new();
	char *s;

	(void)state;
	s = pn_arena_strdup(a, "hello");
	assert_string_equal(s, "hello");
	s = pn_arena_strndup(a, "abcdef", 3);
	assert_string_equal(s, "abc");
	s = pn_arena_strndup(a, "", 0);
	assert_string_equal(s, "");
	assert_null(pn_arena_strndup(a, "x", SIZE_MAX));
	pn_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_aligned),
		cmocka_unit_test(test_large_and_many),
		cmocka_unit_test(test_strdup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
