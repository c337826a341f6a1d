/*
 * The order's state machines (SPEC 1) and seed 000's agenda, each an enum
 * of states with its name table and one static transition table checked
 * by one function, as the checkout's (checkout.c) and the payment's
 * (paystate.c), which share the table walk below (struct machine):
 *   - the order:          cart -> new -> fulfilled | cancelled
 *   - its payment_state:  cart -> awaiting_payment -> paid |
 *                         partially_refunded | refunded | cancelled
 *   - a shipment, and the order's shipping_state:
 *                         cart -> ready -> shipped | cancelled
 *   - an agenda entry:    scheduled -> done | cancelled
 * Code that writes or compares one of these states takes its name from
 * the tables here (bound as an SQL parameter), never from a literal.
 * Pure: no database.
 */
#ifndef CHECKOUTD_STATES_H
#define CHECKOUTD_STATES_H

#include <stddef.h>

#include "err.h"

/* One row of a machine: event ev moves a state of the from mask (bit s
 * for state s) to `to`. An event may have several rows with disjoint
 * masks (a cancel refunds what was paid and voids what was not). */
struct move {
	int ev;
	unsigned from;
	int to;
};

struct machine {
	const struct move *moves;
	size_t n;
	int nstates, nev;
};

/* Whether ev may move a state from; *to (may be NULL) gets the new state.
 * ERR_INVALID_TRANSITION when the table refuses it (or from, ev are out
 * of range). */
enum err machine_move(const struct machine *m, int from, int ev, int *to);
/* The states ev may move from, in enum order, into from[] (at most max);
 * returns how many there are (for `state IN (?, ...)`). */
size_t machine_from(const struct machine *m, int ev, int *from, size_t max);
/* The state named s among names[0..n), or n when unknown (or NULL). */
int machine_parse(const char *const *names, int n, const char *s);

/* The order (orders.state). */
enum order_state { OS_CART, OS_NEW, OS_FULFILLED, OS_CANCELLED, OS__MAX };
enum order_ev {
	OE_PLACE,  /* Completion places the cart. */
	OE_FULFIL, /* Paid and shipped, whichever came last. */
	OE_CANCEL, /* The admin (or the expiry) cancels a placed order. */
	OE__MAX
};
extern const char *const order_state_names[OS__MAX];
enum order_state order_state_parse(const char *s);
enum err order_transition(enum order_state from, enum order_ev ev,
			  enum order_state *to);

/* The order's payment summary (orders.payment_state). */
enum opay_state {
	OPS_CART,
	OPS_AWAITING_PAYMENT,
	OPS_PAID,
	OPS_PARTIALLY_REFUNDED,
	OPS_REFUNDED,
	OPS_CANCELLED,
	OPS__MAX
};
enum opay_ev {
	OPE_PLACE,	 /* Placed with something to pay. */
	OPE_PLACE_FREE,	 /* Placed at a total of 0: paid at once. */
	OPE_PAY,	 /* Its payment completed. */
	OPE_REFUND_PART, /* A refund of part of what was paid. */
	OPE_REFUND,	 /* Refunds now cover all of it. */
	OPE_CANCEL,	 /* The order is cancelled: unpaid, the payment is
			  * cancelled; paid, it was refunded first. */
	OPE__MAX
};
extern const char *const opay_state_names[OPS__MAX];
enum opay_state opay_state_parse(const char *s);
enum err opay_transition(enum opay_state from, enum opay_ev ev,
			 enum opay_state *to);
/* opay_transition's from-states of ev (machine_from). */
size_t opay_from(enum opay_ev ev, enum opay_state *from, size_t max);

/* A shipment (shipments.state), and the order's summary of its shipments
 * (orders.shipping_state), which moves with them. */
enum ship_state { SS_CART, SS_READY, SS_SHIPPED, SS_CANCELLED, SS__MAX };
enum ship_ev {
	SE_PLACE,  /* The order is placed: ready to ship. */
	SE_SHIP,   /* Handed to the carrier. */
	SE_CANCEL, /* The order is cancelled before it shipped. */
	SE__MAX
};
extern const char *const ship_state_names[SS__MAX];
enum ship_state ship_state_parse(const char *s);
enum err ship_transition(enum ship_state from, enum ship_ev ev,
			 enum ship_state *to);
size_t ship_from(enum ship_ev ev, enum ship_state *from, size_t max);

/* Seed 000's agenda entry (agenda_entries.state): it follows its order. */
enum agenda_state { AS_SCHEDULED, AS_DONE, AS_CANCELLED, AS__MAX };
enum agenda_ev {
	AE_DONE,   /* The order is fulfilled. */
	AE_CANCEL, /* The order is cancelled. */
	AE__MAX
};
extern const char *const agenda_state_names[AS__MAX];
enum err agenda_transition(enum agenda_state from, enum agenda_ev ev,
			   enum agenda_state *to);

/*
 * What a seed shows of an order (seeds 001, 002): a cart is open, a
 * cancelled order cancelled, a paid one paid, any other placed one
 * placed; from the order's state and payment_state names as stored.
 */
enum order_phase { PHASE_OPEN, PHASE_PLACED, PHASE_PAID, PHASE_CANCELLED };
enum order_phase order_phase(const char *state, const char *payment_state);

#endif
