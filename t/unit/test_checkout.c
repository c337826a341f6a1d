/* The transition table over every (state, transition) pair, and the
 * canonical dialect's choice of step from a PUT body (sylius_step_of). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/sylius.h"
#include "checkout.h"

/* expected[state][transition]: the state reached, or -1 when refused. */
static const int expected[CS__MAX][T__MAX] = {
    /*                  address       skip_ship            select_ship
     * skip_pay            select_pay           complete      place_skip
     * revise */
    [CS_CART] = {CS_ADDRESSED, -1, -1, -1, -1, -1, CS_SHIPPING_SKIPPED, -1},
    [CS_ADDRESSED] = {CS_ADDRESSED, CS_SHIPPING_SKIPPED, CS_SHIPPING_SELECTED,
		      -1, -1, -1, -1, -1},
    [CS_SHIPPING_SELECTED] = {CS_ADDRESSED, -1, CS_SHIPPING_SELECTED,
			      CS_PAYMENT_SKIPPED, CS_PAYMENT_SELECTED, -1, -1,
			      CS_ADDRESSED},
    [CS_SHIPPING_SKIPPED] = {CS_ADDRESSED, -1, -1, CS_PAYMENT_SKIPPED,
			     CS_PAYMENT_SELECTED, -1, -1, CS_ADDRESSED},
    [CS_PAYMENT_SELECTED] = {CS_ADDRESSED, -1, CS_SHIPPING_SELECTED, -1,
			     CS_PAYMENT_SELECTED, CS_COMPLETED, -1,
			     CS_ADDRESSED},
    [CS_PAYMENT_SKIPPED] = {CS_ADDRESSED, -1, CS_SHIPPING_SELECTED, -1, -1,
			    CS_COMPLETED, -1, CS_ADDRESSED},
    [CS_COMPLETED] = {-1, -1, -1, -1, -1, -1, -1, -1},
};

static void
test_every_pair(void **state)
{
	int s, t;

	(void)state;
	for (s = 0; s < CS__MAX; s++) {
		for (t = 0; t < T__MAX; t++) {
			enum checkout_state to = CS__MAX;
			int ok = checkout_can((enum checkout_state)s,
					      (enum transition)t, &to);

			if (ok != (expected[s][t] >= 0) ||
			    (ok && (int)to != expected[s][t]))
				fail_msg("%s + %s: %s %s",
					 checkout_state_names[s],
					 transition_names[t],
					 ok ? "allowed to" : "refused",
					 ok ? checkout_state_names[to] : "");
		}
	}
	assert_false(checkout_can(CS__MAX, T_ADDRESS, NULL));
	assert_int_equal(checkout_state_parse("payment_skipped"),
			 CS_PAYMENT_SKIPPED);
	assert_int_equal(checkout_state_parse("addressing"), CS__MAX);
}

static void
test_allowed_steps(void **state)
{
	struct json_object *a;

	(void)state;
	a = checkout_allowed_steps(CS_ADDRESSED);
	assert_string_equal(json_object_to_json_string(a),
			    "[ \"address\", \"select_shipping\" ]");
	json_object_put(a);
	a = checkout_allowed_steps(CS_PAYMENT_SELECTED);
	assert_string_equal(json_object_to_json_string(a),
			    "[ \"address\", \"select_shipping\", "
			    "\"select_payment\", \"complete\" ]");
	json_object_put(a);
	a = checkout_allowed_steps(CS_COMPLETED);
	/* Purchase comes with the payment providers (issue 4). */
	assert_string_equal(json_object_to_json_string(a), "[ ]");
	json_object_put(a);
}

static void
test_step_of(void **state)
{
	static const struct {
		const char *body;
		enum step want;
		const char *field; /* First error's field when invalid. */
	} rows[] = {
	    {"{}", STEP_FINALIZE, NULL},
	    {"{\"notes\": \"x\"}", STEP_FINALIZE, NULL},
	    {"{\"notes\": \"x\", \"expectedTotal\": 5}", STEP_FINALIZE, NULL},
	    {"{\"shippingAddress\": {}, \"email\": \"a@b.c\"}", STEP_ADDRESS,
	     NULL},
	    {"{\"billingAddress\": {}}", STEP_ADDRESS, NULL},
	    {"{\"shipments\": []}", STEP_SHIPPING, NULL},
	    {"{\"payments\": []}", STEP_PAYMENT, NULL},
	    {"{\"paymentToken\": \"pm_1\"}", STEP_PURCHASE, NULL},
	    {"{\"number\": \"4242\", \"securityCode\": \"1\"}", STEP_PURCHASE,
	     NULL},
	    {"{\"shipments\": [], \"payments\": []}", STEP_INVALID, "payments"},
	    {"{\"email\": \"a@b.c\", \"shipments\": []}", STEP_INVALID,
	     "shipments"},
	    {"{\"payments\": [], \"notes\": \"x\"}", STEP_INVALID, "notes"},
	    {"{\"notes\": \"x\", \"payments\": []}", STEP_INVALID, "notes"},
	    {"{\"colour\": \"red\"}", STEP_INVALID, "colour"},
	    {"{\"shipments\": [], \"colour\": 1}", STEP_INVALID, "colour"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *b = json_tokener_parse(rows[i].body);
		struct verr v = {0};
		enum step s = sylius_step_of(b, &v);

		if (s != rows[i].want)
			fail_msg("%s: step %d, want %d", rows[i].body, s,
				 rows[i].want);
		if (rows[i].field != NULL) {
			struct json_object *e =
			    json_object_array_get_idx(v.errors, 0);

			assert_string_equal(
			    json_object_get_string(
				json_object_object_get(e, "field")),
			    rows[i].field);
		} else {
			assert_null(v.errors);
		}
		verr_free(&v);
		json_object_put(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_pair),
	    cmocka_unit_test(test_allowed_steps),
	    cmocka_unit_test(test_step_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
