/*
 * The payment state machine (SPEC 1) as one static table: a payment goes
 * cart -> new -> processing -> completed | failed | cancelled | refunded.
 * Every place that writes or compares a payment's state goes through
 * pay_transition and pay_state_names. Pure: no database.
 */
#ifndef CHECKOUTD_PAYSTATE_H
#define CHECKOUTD_PAYSTATE_H

#include <stddef.h>

#include "err.h"

enum pay_state {
	PS_CART,
	PS_NEW,
	PS_PROCESSING,
	PS_COMPLETED,
	PS_FAILED,
	PS_CANCELLED,
	PS_REFUNDED,
	PS__MAX
};

enum pay_ev {
	/* Completion places the order: its cart payment becomes new. */
	PE_PLACE,
	/* An intent is stored (purchase's start, seed 003's imported
	 * session) just before or after the provider's confirm. */
	PE_START,
	/* The provider (or an admin's mark-paid) says the money is ours. */
	PE_SUCCEED,
	/* Declined or abandoned at the provider. */
	PE_FAIL,
	/* Cancelled at the provider. */
	PE_CANCEL,
	/* The admin cancels the order: its payments not yet sent anywhere
	 * are cancelled with it. */
	PE_VOID,
	/* A refund covers the whole completed payment. */
	PE_REFUND,
	PE__MAX
};

extern const char *const pay_state_names[PS__MAX];
extern const char *const pay_ev_names[PE__MAX];

/* Parses a state name; PS__MAX when unknown (or NULL). */
enum pay_state pay_state_parse(const char *s);

/* Whether ev may move a payment in state from; *to (may be NULL) gets the
 * new state. ERR_INVALID_TRANSITION when the table refuses it. */
enum err pay_transition(enum pay_state from, enum pay_ev ev,
			enum pay_state *to);

/* The states ev may move a payment from, in enum order, into from[] (at
 * most max); returns how many there are. For the compare-and-set UPDATEs,
 * whose `state IN (?, ...)` binds these names. */
size_t pay_from(enum pay_ev ev, enum pay_state *from, size_t max);

#endif
