/* The request's pool: what is kept is released once, newest first, back
 * to a mark or all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pool.h"

/* The order pool_defer's releases ran in: the values they were given. */
static int released[64];
static size_t nreleased;

static void
note(void *p)
{
	released[nreleased++] = *(int *)p;
}

static void
test_newest_first(void **state)
{
	static int v[] = {1, 2, 3, 4};
	struct pool pool = {0};
	size_t i, mark;

	(void)state;
	nreleased = 0;
	for (i = 0; i < 2; i++)
		assert_ptr_equal(pool_defer(&pool, note, &v[i]), &v[i]);
	mark = pool_mark(&pool);
	assert_int_equal(mark, 2);
	for (i = 2; i < 4; i++)
		pool_defer(&pool, note, &v[i]);
	/* Back to the mark: what came after it, newest first. */
	pool_release_to(&pool, mark);
	assert_int_equal(nreleased, 2);
	assert_int_equal(released[0], 4);
	assert_int_equal(released[1], 3);
	assert_int_equal(pool_mark(&pool), 2);
	/* A mark past the end releases nothing. */
	pool_release_to(&pool, 5);
	assert_int_equal(nreleased, 2);
	pool_release(&pool);
	assert_int_equal(nreleased, 4);
	assert_int_equal(released[2], 2);
	assert_int_equal(released[3], 1);
	/* Released twice: nothing more. */
	pool_release(&pool);
	assert_int_equal(nreleased, 4);
	/* NULL is not kept. */
	assert_null(pool_defer(&pool, note, NULL));
	assert_int_equal(pool_mark(&pool), 0);
	assert_int_equal(pool.failed, 0);
	pool_free(&pool);
	assert_null(pool.items);
}

static void
test_json(void **state)
{
	struct pool pool = {0};
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();

	(void)state;
	assert_ptr_equal(pool_keep(&pool, o), o);
	assert_null(pool_keep(&pool, NULL));
	/* A second reference, the test's: the pool drops only its own. */
	pool_keep(&pool, json_object_get(arr));
	json_object_array_add(arr, json_object_new_int(7));
	pool_release(&pool);
	assert_int_equal(json_object_array_length(arr), 1);
	/* The last reference: put frees it (returns 1). */
	assert_int_equal(json_object_put(arr), 1);
	/* The array is reused across requests. */
	assert_non_null(pool.items);
	pool_keep(&pool, json_object_new_string("again"));
	assert_int_equal(pool_mark(&pool), 1);
	pool_free(&pool);
}

static void
test_memory(void **state)
{
	struct pool pool = {0};
	int64_t *a = NULL, *b;
	char *s;
	size_t i;

	(void)state;
	s = pool_strdup(&pool, "checkout");
	assert_string_equal(s, "checkout");
	assert_null(pool_strdup(&pool, NULL));
	b = pool_alloc(&pool, 4 * sizeof(*b));
	for (i = 0; i < 4; i++)
		assert_int_equal(b[i], 0);
	/* An array grown row by row, as a result set is read. */
	for (i = 0; i < 100; i++) {
		a = pool_grow(&pool, a, (i + 1) * sizeof(*a));
		assert_non_null(a);
		a[i] = (int64_t)i;
	}
	for (i = 0; i < 100; i++)
		assert_int_equal(a[i], i);
	/* One item per block, however often it grew. */
	assert_int_equal(pool_mark(&pool), 3);
	/* Memory the pool does not hold is refused, not freed. */
	assert_null(pool_grow(&pool, &i, 8));
	assert_int_equal(pool.failed, 1);
	pool_release(&pool);
	assert_int_equal(pool.failed, 0);
	/* Many items: the array grows past its first size. */
	for (i = 0; i < 1000; i++)
		assert_non_null(pool_strdup(&pool, "x"));
	assert_int_equal(pool_mark(&pool), 1000);
	pool_free(&pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_newest_first),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
