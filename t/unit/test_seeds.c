/* The seed dialects' pure parts: seed 000's agenda slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "booking.h"

static void
test_slots(void **state)
{
	static const struct {
		time_t now;
		int64_t ahead;
		const char *want;
	} rows[] = {
	    /* Mon 2026-11-23 12:00 → Tue */
	    {1795435200, 0, "2026-11-24 09:00:00"},
	    /* Latest scheduled on Wed 11-25 → Thu */
	    {1795435200, 2, "2026-11-26 09:00:00"},
	    /* Fri 11-27 → Mon 11-30 */
	    {1795435200, 4, "2026-11-30 09:00:00"},
	    /* Sat 11-28 00:30 → Mon */
	    {1795825800, 0, "2026-11-30 09:00:00"},
	    /* Sun 11-29 23:59 → Mon */
	    {1795996740, 0, "2026-11-30 09:00:00"},
	    /* A latest date in the past counts as today. */
	    {1795435200, -3, "2026-11-24 09:00:00"},
	};
	char out[24];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		booking_slot(rows[i].now, rows[i].ahead, out);
		assert_string_equal(out, rows[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
