#include "checkout.h"

#include <string.h>

#include "states.h"

const char *const checkout_state_names[CS__MAX] = {"cart",
						   "addressed",
						   "shipping_selected",
						   "shipping_skipped",
						   "payment_selected",
						   "payment_skipped",
						   "completed"};

const char *const transition_names[T__MAX] = {
    "address",	      "skip_shipping", "select_shipping",     "skip_payment",
    "select_payment", "complete",      "place_skip_shipping", "revise"};

#define S(x) (1u << (x))

/* Sylius's sylius_order_checkout graph (reference/sylius-semantics.md 1),
 * and place_order's shortcut. Anything else is refused. */
static const struct move table[] = {
    {T_ADDRESS,
     S(CS_CART) | S(CS_ADDRESSED) | S(CS_SHIPPING_SELECTED) |
	 S(CS_SHIPPING_SKIPPED) | S(CS_PAYMENT_SELECTED) |
	 S(CS_PAYMENT_SKIPPED),
     CS_ADDRESSED},
    {T_SKIP_SHIPPING, S(CS_ADDRESSED), CS_SHIPPING_SKIPPED},
    {T_SELECT_SHIPPING,
     S(CS_ADDRESSED) | S(CS_SHIPPING_SELECTED) | S(CS_PAYMENT_SELECTED) |
	 S(CS_PAYMENT_SKIPPED),
     CS_SHIPPING_SELECTED},
    {T_SKIP_PAYMENT, S(CS_SHIPPING_SELECTED) | S(CS_SHIPPING_SKIPPED),
     CS_PAYMENT_SKIPPED},
    {T_SELECT_PAYMENT,
     S(CS_PAYMENT_SELECTED) | S(CS_SHIPPING_SKIPPED) | S(CS_SHIPPING_SELECTED),
     CS_PAYMENT_SELECTED},
    {T_COMPLETE, S(CS_PAYMENT_SELECTED) | S(CS_PAYMENT_SKIPPED), CS_COMPLETED},
    {T_PLACE_SKIP_SHIPPING, S(CS_CART), CS_SHIPPING_SKIPPED},
    {T_REVISE,
     S(CS_SHIPPING_SELECTED) | S(CS_SHIPPING_SKIPPED) | S(CS_PAYMENT_SELECTED) |
	 S(CS_PAYMENT_SKIPPED),
     CS_ADDRESSED},
};
static const struct machine checkout_machine = {
    table, sizeof(table) / sizeof(table[0]), CS__MAX, T__MAX};

enum checkout_state
checkout_state_parse(const char *s)
{
	return (enum checkout_state)machine_parse(checkout_state_names, CS__MAX,
						  s);
}

int
checkout_can(enum checkout_state from, enum transition t,
	     enum checkout_state *to)
{
	int n = 0;

	if (machine_move(&checkout_machine, (int)from, (int)t, &n) != ERR_OK)
		return 0;
	if (to != NULL)
		*to = (enum checkout_state)n;
	return 1;
}

size_t
checkout_from(enum transition t, enum checkout_state *from, size_t max)
{
	int s[CS__MAX];
	size_t n = machine_from(&checkout_machine, (int)t, s, CS__MAX), i;

	for (i = 0; i < n && i < max; i++)
		from[i] = (enum checkout_state)s[i];
	return n;
}

struct json_object *
checkout_allowed_steps(enum checkout_state s)
{
	/* What a client can ask for: skips are the core's, never theirs. */
	static const struct {
		enum transition t;
		const char *name;
	} steps[] = {{T_ADDRESS, "address"},
		     {T_SELECT_SHIPPING, "select_shipping"},
		     {T_SELECT_PAYMENT, "select_payment"},
		     {T_COMPLETE, "complete"}};
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (checkout_can(s, steps[i].t, NULL))
			json_object_array_add(
			    a, json_object_new_string(steps[i].name));
	return a;
}
