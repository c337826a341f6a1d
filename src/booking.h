/*
 * Bookings (seed 000, SPEC 3.1): one item of a provider ordered together
 * with an entry in that provider's agenda, in one transaction that locks
 * the provider row, then the customer row. This module owns the providers
 * and agenda_entries tables and their rules: a customer with two unpaid
 * orders (from any API) is refused, and so is a provider whose scheduled
 * entries fill its capacity; the new entry starts at 09:00 UTC on the
 * first working day after the later of today and the provider's latest
 * scheduled day. An entry settles with its order (booking_settle).
 */
#ifndef CHECKOUTD_BOOKING_H
#define CHECKOUTD_BOOKING_H

#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "db.h"
#include "err.h"
#include "states.h"

/* What a booking asks for; the strings stay the caller's. */
struct booking;

struct booking_req {
	const char *session; /* the customer's session id, or NULL */
	const char *item;    /* the product's uuid, or NULL */
	/* Called inside the transaction once the booking is made (b whole),
	 * so that the answer is written before COMMIT and commits with the
	 * work (an idempotent response is stored so, idem.c); called again
	 * when the transaction runs again. NULL: none. */
	void (*answer)(void *arg, const struct booking *b);
	void *answer_arg;
};

/* The order's newest `new` payment, as the booking left it. */
struct booking_payment {
	int found; /* 0: the order has none (the other fields are empty) */
	int64_t id, amount;
	char currency[16], state[64];
	int has_method;	  /* 0: the payment has no method */
	char method[256]; /* the method's code */
};

/* A booking made. */
struct booking {
	int64_t customer, product, variant;
	int64_t provider;
	char provider_name[256];
	int64_t order;	    /* the order placed */
	int64_t agenda;	    /* the agenda entry, `scheduled` */
	char starts_at[24]; /* the entry's start, "YYYY-MM-DD 09:00:00" UTC */
	/* The placed order's snapshot (the pool's). */
	struct json_object *snapshot;
	struct booking_payment payment;
};

/*
 * Books in->item for the customer of in->session and places its order
 * (through place_order, one unit of the item's one enabled variant).
 * Fills *b whatever the outcome (what it points to is pool's). Gives:
 * ERR_OK, the booking made; ERR_UNAUTHENTICATED, no session or one that is
 * not (or no longer) valid; ERR_UNKNOWN_ITEM, no enabled product of a
 * provider with that uuid and exactly one enabled variant, or one that
 * cannot be sold; ERR_TOO_MANY_ATTEMPTS, the customer has two unpaid
 * orders already (nothing written); ERR_OUT_OF_STOCK, the provider's
 * capacity is full or the variant is out of stock (nothing written);
 * otherwise a database or internal error.
 */
enum err booking_place(struct db *db, struct pool *pool,
		       const struct booking_req *in, struct booking *b);

/*
 * The start of a new agenda entry, "YYYY-MM-DD 09:00:00" in out: 09:00
 * UTC on the first Monday–Friday date strictly after the later of now's
 * day and days_ahead days after it (the provider's latest scheduled day;
 * a negative count is today). out is "" if it cannot be formatted.
 */
void booking_slot(time_t now, int64_t days_ahead, char out[24]);

/*
 * The agenda follows its order: an entry of order id still `scheduled` is
 * `done` once the order is fulfilled, `cancelled` once it is cancelled
 * (both free the provider's slot); order is the order's state as just
 * written (any other: nothing to do). In the caller's transaction; a
 * database error otherwise.
 */
enum err booking_settle(struct db *db, int64_t id, enum order_state order);

#endif
