/* Money helpers: rounding, basis points, distribution, labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "money.h"

static void
test_div_round(void **state)
{
	static const int64_t rows[][3] = {
	    {5, 2, 3},	 {-5, 2, -3},	{4, 3, 1},     {5, 3, 2},
	    {-4, 3, -1}, {-5, 3, -2},	{0, 7, 0},     {15, 10, 2},
	    {14, 10, 1}, {-15, 10, -2}, {-14, 10, -1}, {1, 1, 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(money_div_round(rows[i][0], rows[i][1]),
				 rows[i][2]);
}

static void
test_bp(void **state)
{
	static const int64_t rows[][3] = {
	    {9500, 1000, 950}, {1999, 2000, 400},     {333, 1500, 50},
	    {-333, 1500, -50}, {100, 1, 0},	      {5000, 1, 1},
	    {1500000, 0, 0},   {10000, 10000, 10000},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(money_bp(rows[i][0], rows[i][1]), rows[i][2]);
}

static void
test_distribute(void **state)
{
	static const struct {
		int64_t amount;
		size_t n;
		int64_t w[4], want[4];
	} rows[] = {
	    {500, 2, {0, 10000}, {0, 500}},
	    {100, 3, {1, 1, 1}, {34, 33, 33}},
	    {-100, 3, {1, 1, 1}, {-34, -33, -33}},
	    {10, 3, {3, 0, 7}, {3, 0, 7}},
	    {1, 2, {1, 1}, {1, 0}},
	    {7, 3, {0, 0, 5}, {0, 0, 7}},
	    {250, 1, {1500000}, {250}},
	    {667, 2, {3333, 3333}, {334, 333}},
	    {2, 4, {0, 5, 0, 5}, {0, 1, 0, 1}},
	    {0, 2, {4, 6}, {0, 0}},
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t out[4], sum = 0;

		money_distribute(rows[i].amount, rows[i].w, rows[i].n, out);
		for (j = 0; j < rows[i].n; j++) {
			if (out[j] != rows[i].want[j])
				fail_msg("row %zu share %zu: %lld, want %lld",
					 i, j, (long long)out[j],
					 (long long)rows[i].want[j]);
			sum += out[j];
		}
		assert_int_equal(sum, rows[i].amount);
	}
}

static void
test_large_amounts_do_not_overflow(void **state)
{
	int64_t w[2] = {(int64_t)1 << 49, (int64_t)1 << 49}, out[2];

	(void)state;
	money_distribute((int64_t)1 << 48, w, 2, out);
	assert_int_equal(out[0], (int64_t)1 << 47);
	assert_int_equal(out[1], (int64_t)1 << 47);
}

static void
test_bp_label(void **state)
{
	static const struct {
		int64_t bp;
		const char *want;
	} rows[] = {{2000, "20"},   {550, "5.5"},    {1, "0.01"},   {0, "0"},
		    {1250, "12.5"}, {1234, "12.34"}, {10000, "100"}};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		money_bp_label(rows[i].bp, out, sizeof(out));
		assert_string_equal(out, rows[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_div_round),
	    cmocka_unit_test(test_bp),
	    cmocka_unit_test(test_distribute),
	    cmocka_unit_test(test_large_amounts_do_not_overflow),
	    cmocka_unit_test(test_bp_label),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
