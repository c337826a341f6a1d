/* The payment transition table over every (state, event) pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "paystate.h"

/* expected[state][event]: the state reached, or -1 when refused. */
static const int expected[PS__MAX][PE__MAX] = {
    /*               place   start          succeed       fail
     * cancel         void           refund */
    [PS_CART] = {PS_NEW, -1, -1, -1, -1, PS_CANCELLED, -1},
    [PS_NEW] = {-1, PS_PROCESSING, PS_COMPLETED, PS_FAILED, PS_CANCELLED,
		PS_CANCELLED, -1},
    [PS_PROCESSING] = {-1, -1, PS_COMPLETED, PS_FAILED, PS_CANCELLED, -1, -1},
    [PS_COMPLETED] = {-1, -1, -1, -1, -1, -1, PS_REFUNDED},
    [PS_FAILED] = {-1, -1, -1, -1, -1, -1, -1},
    [PS_CANCELLED] = {-1, -1, -1, -1, -1, -1, -1},
    [PS_REFUNDED] = {-1, -1, -1, -1, -1, -1, -1},
};

static void
test_every_pair(void **state)
{
	int s, ev;

	(void)state;
	for (s = 0; s < PS__MAX; s++) {
		for (ev = 0; ev < PE__MAX; ev++) {
			enum pay_state to = PS__MAX;
			enum err e = pay_transition((enum pay_state)s,
						    (enum pay_ev)ev, &to);
			int ok = e == ERR_OK;

			if ((!ok && e != ERR_INVALID_TRANSITION) ||
			    ok != (expected[s][ev] >= 0) ||
			    (ok && (int)to != expected[s][ev]))
				fail_msg("%s + %s: %s %s", pay_state_names[s],
					 pay_ev_names[ev],
					 ok ? "allowed to" : "refused",
					 ok ? pay_state_names[to] : "");
		}
	}
	assert_int_equal(pay_transition(PS__MAX, PE_PLACE, NULL),
			 ERR_INVALID_TRANSITION);
	assert_int_equal(pay_transition(PS_CART, PE__MAX, NULL),
			 ERR_INVALID_TRANSITION);
}

static void
test_from(void **state)
{
	int ev, s;

	(void)state;
	/* pay_from lists exactly the states the matrix allows, in order. */
	for (ev = 0; ev < PE__MAX; ev++) {
		enum pay_state from[PS__MAX];
		size_t n = pay_from((enum pay_ev)ev, from, PS__MAX), i = 0;

		for (s = 0; s < PS__MAX; s++)
			if (expected[s][ev] >= 0) {
				assert_true(i < n);
				assert_int_equal(from[i++], s);
			}
		assert_int_equal(i, n);
	}
	assert_int_equal(pay_from(PE__MAX, NULL, 0), 0);
}

static void
test_names(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < PS__MAX; s++)
		assert_int_equal(pay_state_parse(pay_state_names[s]), s);
	assert_string_equal(pay_state_names[PS_PROCESSING], "processing");
	assert_string_equal(pay_state_names[PS_REFUNDED], "refunded");
	assert_int_equal(pay_state_parse("partially_refunded"), PS__MAX);
	assert_int_equal(pay_state_parse(NULL), PS__MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_pair),
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
