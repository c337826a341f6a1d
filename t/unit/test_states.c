/*
 * The order's machines (states.c) over every (state, event) pair, against
 * matrices written here from SPEC 1; the checkout's and the payment's are
 * walked by test_checkout.c and test_paystate.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "states.h"

#define NO -1

/* order[state][event]: the state reached, or NO when refused. */
static const int order[OS__MAX][OE__MAX] = {
    /*                 place    fulfil        cancel */
    [OS_CART] = {OS_NEW, NO, NO},
    [OS_NEW] = {NO, OS_FULFILLED, OS_CANCELLED},
    [OS_FULFILLED] = {NO, NO, NO},
    [OS_CANCELLED] = {NO, NO, NO},
};

/* opay[state][event]: place, place_free, pay, refund_part, refund,
 * cancel. */
static const int opay[OPS__MAX][OPE__MAX] = {
    [OPS_CART] = {OPS_AWAITING_PAYMENT, OPS_PAID, NO, NO, NO, NO},
    [OPS_AWAITING_PAYMENT] = {NO, NO, OPS_PAID, NO, NO, OPS_CANCELLED},
    [OPS_PAID] = {NO, NO, NO, OPS_PARTIALLY_REFUNDED, OPS_REFUNDED,
		  OPS_REFUNDED},
    [OPS_PARTIALLY_REFUNDED] = {NO, NO, NO, OPS_PARTIALLY_REFUNDED,
				OPS_REFUNDED, OPS_REFUNDED},
    [OPS_REFUNDED] = {NO, NO, NO, NO, OPS_REFUNDED, OPS_REFUNDED},
    [OPS_CANCELLED] = {NO, NO, NO, NO, NO, NO},
};

/* ship[state][event]: place, ship, cancel. */
static const int ship[SS__MAX][SE__MAX] = {
    [SS_CART] = {SS_READY, NO, SS_CANCELLED},
    [SS_READY] = {NO, SS_SHIPPED, SS_CANCELLED},
    [SS_SHIPPED] = {NO, NO, NO},
    [SS_CANCELLED] = {NO, NO, NO},
};

/* agenda[state][event]: done, cancel. */
static const int agenda[AS__MAX][AE__MAX] = {
    [AS_SCHEDULED] = {AS_DONE, AS_CANCELLED},
    [AS_DONE] = {NO, NO},
    [AS_CANCELLED] = {NO, NO},
};

/* One machine's answer for (s, ev): the state reached, or NO. */
static int
order_step(int s, int ev)
{
	enum order_state to = OS__MAX;

	return order_transition((enum order_state)s, (enum order_ev)ev, &to) ==
		       ERR_OK
		   ? (int)to
		   : NO;
}

static int
opay_step(int s, int ev)
{
	enum opay_state to = OPS__MAX;

	return opay_transition((enum opay_state)s, (enum opay_ev)ev, &to) ==
		       ERR_OK
		   ? (int)to
		   : NO;
}

static int
ship_step(int s, int ev)
{
	enum ship_state to = SS__MAX;

	return ship_transition((enum ship_state)s, (enum ship_ev)ev, &to) ==
		       ERR_OK
		   ? (int)to
		   : NO;
}

static int
agenda_step(int s, int ev)
{
	enum agenda_state to = AS__MAX;

	return agenda_transition((enum agenda_state)s, (enum agenda_ev)ev,
				 &to) == ERR_OK
		   ? (int)to
		   : NO;
}

/* Walks every pair of an ns x ne matrix (row-major in m); one pair past
 * each end is refused too. */
static void
walk(const char *name, const int *m, int ns, int ne, int (*step)(int, int))
{
	int s, ev;

	for (s = 0; s < ns; s++)
		for (ev = 0; ev < ne; ev++)
			if (step(s, ev) != m[s * ne + ev])
				fail_msg(
				    "%s: state %d + event %d gives %d, not "
				    "%d",
				    name, s, ev, step(s, ev), m[s * ne + ev]);
	assert_int_equal(step(ns, 0), NO);
	assert_int_equal(step(0, ne), NO);
	assert_int_equal(step(-1, 0), NO);
}

static void
test_order(void **state)
{
	(void)state;
	walk("order", &order[0][0], OS__MAX, OE__MAX, order_step);
}

static void
test_opay(void **state)
{
	(void)state;
	walk("payment_state", &opay[0][0], OPS__MAX, OPE__MAX, opay_step);
}

static void
test_ship(void **state)
{
	(void)state;
	walk("shipment", &ship[0][0], SS__MAX, SE__MAX, ship_step);
}

static void
test_agenda(void **state)
{
	(void)state;
	walk("agenda", &agenda[0][0], AS__MAX, AE__MAX, agenda_step);
}

/* The from-lists the compare-and-set UPDATEs bind are the matrix's. */
static void
test_from(void **state)
{
	enum opay_state of[OPS__MAX];
	enum ship_state sf[SS__MAX];
	int s, ev;
	size_t n, i;

	(void)state;
	for (ev = 0; ev < OPE__MAX; ev++) {
		n = opay_from((enum opay_ev)ev, of, OPS__MAX);
		for (s = 0, i = 0; s < OPS__MAX; s++)
			if (opay[s][ev] != NO) {
				assert_true(i < n);
				assert_int_equal(of[i++], s);
			}
		assert_int_equal(i, n);
	}
	for (ev = 0; ev < SE__MAX; ev++) {
		n = ship_from((enum ship_ev)ev, sf, SS__MAX);
		for (s = 0, i = 0; s < SS__MAX; s++)
			if (ship[s][ev] != NO) {
				assert_true(i < n);
				assert_int_equal(sf[i++], s);
			}
		assert_int_equal(i, n);
	}
}

/* The names are SPEC 1's, as the database stores them. */
static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(order_state_names[OS_FULFILLED], "fulfilled");
	assert_string_equal(opay_state_names[OPS_AWAITING_PAYMENT],
			    "awaiting_payment");
	assert_string_equal(opay_state_names[OPS_PARTIALLY_REFUNDED],
			    "partially_refunded");
	assert_string_equal(ship_state_names[SS_SHIPPED], "shipped");
	assert_string_equal(agenda_state_names[AS_SCHEDULED], "scheduled");
	assert_int_equal(order_state_parse("cancelled"), OS_CANCELLED);
	assert_int_equal(order_state_parse("paid"), OS__MAX);
	assert_int_equal(opay_state_parse("paid"), OPS_PAID);
	assert_int_equal(ship_state_parse(NULL), SS__MAX);
}

static void
test_phase(void **state)
{
	(void)state;
	assert_int_equal(order_phase("cart", "cart"), PHASE_OPEN);
	assert_int_equal(order_phase("new", "awaiting_payment"), PHASE_PLACED);
	assert_int_equal(order_phase("new", "paid"), PHASE_PAID);
	assert_int_equal(order_phase("fulfilled", "paid"), PHASE_PAID);
	assert_int_equal(order_phase("fulfilled", "refunded"), PHASE_PLACED);
	assert_int_equal(order_phase("cancelled", "paid"), PHASE_CANCELLED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order), cmocka_unit_test(test_opay),
	    cmocka_unit_test(test_ship),  cmocka_unit_test(test_agenda),
	    cmocka_unit_test(test_from),  cmocka_unit_test(test_names),
	    cmocka_unit_test(test_phase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
