/*
 * Payments after completion (SPEC 1 "Hard-won rules", 2.7, 2.8, 2.10):
 * the one guarded function that records what a provider said, used alike
 * by the purchase response, the inbound webhook, reconciliation and the
 * admin's mark-paid, so that racing paths make one transition and write
 * one event.
 */
#ifndef CHECKOUTD_PAYMENT_H
#define CHECKOUTD_PAYMENT_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "paystate.h"
#include "pool.h"

enum pay_outcome {
	PAY_COMPLETED, /* The money is ours: order paid, order.paid. */
	PAY_FAILED,    /* Declined or abandoned: a fresh payment is added. */
	PAY_CANCELLED, /* Cancelled at the provider: a fresh payment too. */
	PAY_ACTION     /* Needs the buyer (3-D Secure): next_action kept. */
};

/* A payment and what a provider call needs of it. */
struct pay {
	int64_t id, order_id, amount, attempts;
	enum pay_state state; /* PS__MAX: a name the table does not know */
	char uuid[37], order_uuid[37], currency[4];
	char gateway[16], ref[128]; /* ref: the provider's intent id */
};

/*
 * Records outcome for payment id inside the caller's transaction: locks
 * the order and the payment, then changes the payment only while it is
 * `new` or `processing` (a compare-and-set). decline: the decline code
 * (PAY_FAILED; counts toward payment.max_declines when not NULL);
 * next_action: PAY_ACTION's. *changed (may be NULL) = 1 when this call
 * made the change. A completion for a cancelled order flags it
 * needs_refund instead of paying it. The event's snapshot is kept in pool.
 */
enum err payment_record(struct db *db, struct pool *pool, int64_t id,
			enum pay_outcome outcome, const char *decline,
			struct json_object *next_action, int *changed);

/*
 * Moves order's `new` payment to `processing` under gateway method
 * (a payment_methods code) with the provider's intent ref, inside the
 * caller's transaction: an intent created and confirmed elsewhere (seed
 * 003's imported session). No `new` payment: nothing changes, ERR_OK.
 */
enum err payment_attach_intent(struct db *db, int64_t order,
			       const char *gateway, const char *ref);

/* Reads payment id (0: none found) into *p. */
enum err payment_get(struct db *db, int64_t id, struct pay *p);
/* The id of the payment holding provider intent ref, or 0. */
enum err payment_by_ref(struct db *db, const char *ref, int64_t *id);

/* A provider's event (SPEC 2.8), as the inbound webhook read it. */
struct pay_event {
	const char *id, *type; /* The event's id and type (borrowed). */
	/* The provider's intent the event is about, or NULL for a type
	 * that is only noted. */
	const char *ref;
	enum pay_outcome outcome; /* What it says of ref's payment. */
	const char *decline;	  /* PAY_FAILED's decline code, or NULL. */
};

/* What payment_event found; zeroed before each run of its transaction. */
struct pay_event_out {
	int seen;	     /* The event id was recorded before: no-op. */
	int unknown_payment; /* No payment holds ev->ref yet. */
};

/*
 * Records event ev once, in its own transaction: the event id goes into
 * webhook_events (seen before: out->seen = 1, nothing else done), then,
 * when ev->ref is set, ev->outcome is recorded for the payment holding
 * ref through payment_record, so that a repeated event changes nothing
 * and a racing purchase makes one transition. ERR_BUSY with
 * out->unknown_payment = 1 when no payment holds ref yet (all rolled
 * back, the event id too, so that the provider sends it again).
 */
enum err payment_event(struct db *db, struct pool *pool,
		       const struct pay_event *ev, struct pay_event_out *out);

#endif
