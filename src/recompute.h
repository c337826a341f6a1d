/*
 * The processor chain's run over an order (src/recompute.c): read, price
 * (src/pricing.c with the rules of src/rules.c), store; and placing an
 * order in the same UPDATE (completion).
 */
#ifndef CHECKOUTD_RECOMPUTE_H
#define CHECKOUTD_RECOMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "order.h"
#include "pool.h"
#include "pricing.h"

/* Placing an order (completion) in the chain's own UPDATE: done only when
 * the new total is expected (and the carrier quote has not expired). */
struct placing {
	int64_t expected;
	int free;	   /* Nothing to pay (payment_skipped): paid at once. */
	const char *notes; /* Or NULL: kept. */
};

/* What order_recompute takes and gives. */
struct recompute {
	/* In: the checkout state the order moves to (written in the same
	 * UPDATE), or NULL; lines: filled with the order's lines (sorted by
	 * variant id), or NULL; unaddressed: the order's checkout state is
	 * `cart` (it has no shipments or payments to read). */
	const char *checkout;
	int unaddressed;
	struct order_lines *lines;
	/* In: place the order (or NULL); out: whether it was placed. */
	const struct placing *place;
	int placed;
	/* Out: the order afterwards, as written (the pool's). */
	struct json_object *snapshot;
	/* Out: the promotions applied, the new total, and whether the
	 * shipment's carrier quote has expired. */
	int64_t applied[PRICE_MAX_PROMOTIONS];
	size_t napplied;
	/* Out: how many promotions have an adjustment on the order (what
	 * completion counts a use of, and cancelling gives back), and
	 * whether the order's coupon's promotion is one of them. */
	size_t counted;
	int coupon_counted;
	int64_t total;
	int quote_expired;
};

/*
 * Runs the processor chain over order id (row locked by the caller) and
 * stores prices, adjustments, totals and line counts; moves a cart's
 * expiry. rc may be NULL. What it reads is kept in pool.
 */
enum err order_recompute(struct db *db, struct pool *pool, int64_t id,
			 struct recompute *rc);

/* The digest of an order's adjustments (the first 8 bytes of the SHA-256
 * of their JSON, as an integer): a new cart's is that of "[]". */
int64_t adjustments_digest(const char *json);

#endif
