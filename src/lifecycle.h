/*
 * The lifecycle of a placed order (SPEC 1 "unpaid orders", 2.10): paid,
 * shipped (fulfilled when both), cancelled, refunded, and the expiry
 * sweep of `checkoutctl expire`; called by the admin API (src/api/admin.c)
 * and checkoutctl. Every move of the order's states goes through the
 * tables of states.c (and paystate.c for its payments). Provider calls
 * (cancelling an intent, refunding) happen between short transactions, never
 * inside one.
 */
#ifndef CHECKOUTD_LIFECYCLE_H
#define CHECKOUTD_LIFECYCLE_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "order.h"
#include "valid.h"

/* Each: ERR_OK with *snapshot the order afterwards (pool's; NULL on
 * an error), also given to answer(arg, snapshot) (when not NULL) inside
 * the transaction that made it, so that an idempotent answer is stored
 * with the work; 404 for an unknown order; 409 invalid_transition when
 * its state does not allow the operation (*why says which rule). */

/* An offline payment received: the open payment completed, order paid. */
enum err lifecycle_mark_paid(struct db *db, struct pool *pool, int64_t id,
			     struct json_object **snapshot, const char **why,
			     order_answer_fn *answer, void *arg);
/* Shipped: shipments shipped (with tracking, may be NULL), the stock
 * taken from on_hand and the hold; paid and shipped is fulfilled. */
enum err lifecycle_ship(struct db *db, struct pool *pool, int64_t id,
			const char *tracking, struct json_object **snapshot,
			const char **why, order_answer_fn *answer, void *arg);
/*
 * Cancelled: an open intent is cancelled at the provider first, a paid
 * order refunded in full; then the stock hold released, promotion and
 * coupon usage given back, order.cancelled written. A payment still
 * `processing` is never cancelled: 409 payment_in_progress.
 */
enum err lifecycle_cancel(struct db *db, struct pool *pool, void *curl,
			  int64_t id, struct json_object **snapshot,
			  const char **why, order_answer_fn *answer, void *arg);
/* Refunds amount (minor units; 0: what is left) of the completed
 * payment; 422 `amount` when more than is left. */
enum err lifecycle_refund(struct db *db, struct pool *pool, void *curl,
			  int64_t id, int64_t amount,
			  struct json_object **snapshot, const char **why,
			  struct verr *v, order_answer_fn *answer, void *arg);

/*
 * A payment of order id (payment, for the log) completed, in the caller's
 * transaction with the order's row locked: the order is paid (fulfilled
 * if shipped too), its agenda entry settled, order.paid written; a
 * cancelled order is marked needs_refund instead. The event's snapshot is
 * kept in pool.
 */
enum err lifecycle_paid(struct db *db, struct pool *pool, int64_t id,
			int64_t payment);

/* checkoutctl expire: the counts of what it did. */
struct expired {
	long carts, orders, skipped, keys, events;
};
enum err lifecycle_expire(struct db *db, void *curl, struct expired *out);

#endif
