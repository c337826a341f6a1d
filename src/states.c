#include "states.h"

#include <string.h>

#define S(x) (1u << (x))
#define MACHINE(t, ns, ne)                                                     \
	{                                                                      \
		(t), sizeof(t) / sizeof((t)[0]), (ns), (ne)                    \
	}

enum err
machine_move(const struct machine *m, int from, int ev, int *to)
{
	size_t i;

	if (from < 0 || from >= m->nstates || ev < 0 || ev >= m->nev)
		return ERR_INVALID_TRANSITION;
	for (i = 0; i < m->n; i++)
		if (m->moves[i].ev == ev && (m->moves[i].from & S(from))) {
			if (to != NULL)
				*to = m->moves[i].to;
			return ERR_OK;
		}
	return ERR_INVALID_TRANSITION;
}

size_t
machine_from(const struct machine *m, int ev, int *from, size_t max)
{
	size_t n = 0;
	int s;

	for (s = 0; s < m->nstates; s++)
		if (machine_move(m, s, ev, NULL) == ERR_OK) {
			if (n < max)
				from[n] = s;
			n++;
		}
	return n;
}

int
machine_parse(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return n;
}

/* The order. */

const char *const order_state_names[OS__MAX] = {"cart", "new", "fulfilled",
						"cancelled"};

static const struct move order_moves[] = {
    {OE_PLACE, S(OS_CART), OS_NEW},
    {OE_FULFIL, S(OS_NEW), OS_FULFILLED},
    {OE_CANCEL, S(OS_NEW), OS_CANCELLED},
};
static const struct machine order_machine =
    MACHINE(order_moves, OS__MAX, OE__MAX);

enum order_state
order_state_parse(const char *s)
{
	return (enum order_state)machine_parse(order_state_names, OS__MAX, s);
}

enum err
order_transition(enum order_state from, enum order_ev ev, enum order_state *to)
{
	int t = 0;
	enum err e = machine_move(&order_machine, (int)from, (int)ev, &t);

	if (e == ERR_OK && to != NULL)
		*to = (enum order_state)t;
	return e;
}

/* The order's payment_state. */

const char *const opay_state_names[OPS__MAX] = {
    "cart",	"awaiting_payment", "paid", "partially_refunded",
    "refunded", "cancelled"};

static const struct move opay_moves[] = {
    {OPE_PLACE, S(OPS_CART), OPS_AWAITING_PAYMENT},
    {OPE_PLACE_FREE, S(OPS_CART), OPS_PAID},
    {OPE_PAY, S(OPS_AWAITING_PAYMENT), OPS_PAID},
    {OPE_REFUND_PART, S(OPS_PAID) | S(OPS_PARTIALLY_REFUNDED),
     OPS_PARTIALLY_REFUNDED},
    /* From refunded too: a refund the provider made in a race with
     * another is still recorded. */
    {OPE_REFUND, S(OPS_PAID) | S(OPS_PARTIALLY_REFUNDED) | S(OPS_REFUNDED),
     OPS_REFUNDED},
    {OPE_CANCEL, S(OPS_AWAITING_PAYMENT), OPS_CANCELLED},
    {OPE_CANCEL, S(OPS_PAID) | S(OPS_PARTIALLY_REFUNDED) | S(OPS_REFUNDED),
     OPS_REFUNDED},
};
static const struct machine opay_machine =
    MACHINE(opay_moves, OPS__MAX, OPE__MAX);

enum opay_state
opay_state_parse(const char *s)
{
	return (enum opay_state)machine_parse(opay_state_names, OPS__MAX, s);
}

enum err
opay_transition(enum opay_state from, enum opay_ev ev, enum opay_state *to)
{
	int t = 0;
	enum err e = machine_move(&opay_machine, (int)from, (int)ev, &t);

	if (e == ERR_OK && to != NULL)
		*to = (enum opay_state)t;
	return e;
}

size_t
opay_from(enum opay_ev ev, enum opay_state *from, size_t max)
{
	int s[OPS__MAX];
	size_t n = machine_from(&opay_machine, (int)ev, s, OPS__MAX), i;

	for (i = 0; i < n && i < max; i++)
		from[i] = (enum opay_state)s[i];
	return n;
}

/* Shipments and the order's shipping_state. */

const char *const ship_state_names[SS__MAX] = {"cart", "ready", "shipped",
					       "cancelled"};

static const struct move ship_moves[] = {
    {SE_PLACE, S(SS_CART), SS_READY},
    {SE_SHIP, S(SS_READY), SS_SHIPPED},
    {SE_CANCEL, S(SS_CART) | S(SS_READY), SS_CANCELLED},
};
static const struct machine ship_machine =
    MACHINE(ship_moves, SS__MAX, SE__MAX);

enum ship_state
ship_state_parse(const char *s)
{
	return (enum ship_state)machine_parse(ship_state_names, SS__MAX, s);
}

enum err
ship_transition(enum ship_state from, enum ship_ev ev, enum ship_state *to)
{
	int t = 0;
	enum err e = machine_move(&ship_machine, (int)from, (int)ev, &t);

	if (e == ERR_OK && to != NULL)
		*to = (enum ship_state)t;
	return e;
}

size_t
ship_from(enum ship_ev ev, enum ship_state *from, size_t max)
{
	int s[SS__MAX];
	size_t n = machine_from(&ship_machine, (int)ev, s, SS__MAX), i;

	for (i = 0; i < n && i < max; i++)
		from[i] = (enum ship_state)s[i];
	return n;
}

/* Seed 000's agenda. */

const char *const agenda_state_names[AS__MAX] = {"scheduled", "done",
						 "cancelled"};

static const struct move agenda_moves[] = {
    {AE_DONE, S(AS_SCHEDULED), AS_DONE},
    {AE_CANCEL, S(AS_SCHEDULED), AS_CANCELLED},
};
static const struct machine agenda_machine =
    MACHINE(agenda_moves, AS__MAX, AE__MAX);

enum err
agenda_transition(enum agenda_state from, enum agenda_ev ev,
		  enum agenda_state *to)
{
	int t = 0;
	enum err e = machine_move(&agenda_machine, (int)from, (int)ev, &t);

	if (e == ERR_OK && to != NULL)
		*to = (enum agenda_state)t;
	return e;
}

enum order_phase
order_phase(const char *state, const char *payment_state)
{
	if (order_state_parse(state) == OS_CANCELLED)
		return PHASE_CANCELLED;
	if (opay_state_parse(payment_state) == OPS_PAID)
		return PHASE_PAID;
	if (order_state_parse(state) != OS_CART)
		return PHASE_PLACED;
	return PHASE_OPEN;
}
