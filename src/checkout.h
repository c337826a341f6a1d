/*
 * The checkout state machine as one static table (Sylius's, plus the path
 * place_order takes), and its steps. Pure: no database. Which step a
 * request asks for is the dialect's to say (sylius_step_of).
 */
#ifndef CHECKOUTD_CHECKOUT_H
#define CHECKOUTD_CHECKOUT_H

#include <stddef.h>

#include <json-c/json.h>

enum checkout_state {
	CS_CART,
	CS_ADDRESSED,
	CS_SHIPPING_SELECTED,
	CS_SHIPPING_SKIPPED,
	CS_PAYMENT_SELECTED,
	CS_PAYMENT_SKIPPED,
	CS_COMPLETED,
	CS__MAX
};

enum transition {
	T_ADDRESS,
	T_SKIP_SHIPPING,
	T_SELECT_SHIPPING,
	T_SKIP_PAYMENT,
	T_SELECT_PAYMENT,
	T_COMPLETE,
	/* place_order only: an order without an address and without
	 * anything to ship goes from cart straight to shipping_skipped. */
	T_PLACE_SKIP_SHIPPING,
	/* The core's: items, coupons or the carrier's offer changed after
	 * shipping was chosen or skipped, so the order goes back to
	 * `addressed` and its shipping and payment steps are redone. */
	T_REVISE,
	T__MAX
};

extern const char *const checkout_state_names[CS__MAX];
extern const char *const transition_names[T__MAX];

/* Parses a state name; CS__MAX when unknown. */
enum checkout_state checkout_state_parse(const char *s);
/* Whether t may be applied in state from; *to gets the new state. */
int checkout_can(enum checkout_state from, enum transition t,
		 enum checkout_state *to);
/* The states t may be applied in, in enum order, into from[] (at most
 * max); returns how many there are (for `checkout_state IN (?, ...)`). */
size_t checkout_from(enum transition t, enum checkout_state *from, size_t max);
/* The steps a client may take in state s, as a JSON array of names
 * ("address", "select_shipping", ...), for 409 invalid_transition. */
struct json_object *checkout_allowed_steps(enum checkout_state s);

enum step {
	STEP_FINALIZE,
	STEP_ADDRESS,
	STEP_SHIPPING,
	STEP_PAYMENT,
	STEP_PURCHASE,
	STEP_INVALID
};

#endif
