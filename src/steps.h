/*
 * The checkout steps of PUT /api/checkouts/{id} (SPEC 2.3) and what
 * GET /api/checkouts/{id} shows (SPEC 2.4). Each step runs inside db_tx with
 * the order row locked, and takes the head order_authorize(..., 1, o) read
 * (kept current: a step that moves the state updates o).
 */
#ifndef CHECKOUTD_STEPS_H
#define CHECKOUTD_STEPS_H

#include <stdint.h>

#include <json-c/json.h>

#include "checkout.h"
#include "db.h"
#include "input.h"
#include "order.h"
#include "valid.h"

/* What a step leaves for the answer besides its error. */
struct step_out {
	/* ERR_INVALID_TRANSITION: the state; ERR_OUT_OF_STOCK: the items. */
	struct json_object *extra;
	/* Completion found another total: answer 409 total_changed with
	 * the new snapshot, although the transaction commits. */
	int total_changed;
	/* The snapshot, when the step read it already (the pool's). */
	struct json_object *snapshot;
};

/*
 * The steps take in (src/input.h) and add the fields they refuse to v as
 * (field, code), after in->decoded; ERR_VALIDATION_FAILED then. What they
 * leave in out (its trees) is kept in pool.
 */
/* Addressing: in->ship, in->bill, in->email. */
enum err step_address(struct db *db, struct pool *pool, struct order_head *o,
		      const struct step_in *in, struct verr *v,
		      struct step_out *out);
/* Shipping: in->method (id, code or carrier:<service>). */
enum err step_shipping(struct db *db, struct pool *pool, struct order_head *o,
		       const struct step_in *in, struct verr *v,
		       struct step_out *out);
/* Payment selection: in->method (id or code). */
enum err step_payment(struct db *db, struct pool *pool, struct order_head *o,
		      const struct step_in *in, struct verr *v,
		      struct step_out *out);
/* Finalize: completes (SPEC 1, "Completing"); harmless when completed.
 * in->notes, in->expected. */
enum err step_complete(struct db *db, struct pool *pool, struct order_head *o,
		       const struct step_in *in, struct verr *v,
		       struct step_out *out);
/* The answer of GET /api/checkouts/{id} for the order's state; outside
 * any transaction (in `addressed`, a carrier may be asked, with curl).
 * *out is the pool's. */
enum err step_view(struct db *db, struct pool *pool, void *curl,
		   const struct order_head *o, struct json_object **out);
/* A refusal of a step that the state does not allow: 409 with the state
 * and the steps allowed (for callers outside the steps, e.g. purchase). */
enum err step_refuse(struct pool *pool, const struct order_head *o,
		     struct step_out *out);

/* place_order's shortcut: an order with nothing to ship and no address
 * goes from `cart` to `shipping_skipped` (and `payment_skipped` at 0). */
enum err step_place_skip(struct db *db, struct pool *pool, struct order_head *o,
			 struct step_out *out);

/*
 * Runs checkout step s (not STEP_PURCHASE, which is refused like a step
 * the state does not allow) of order id for creds with in, in one
 * transaction with the order row locked (db_tx_out: each run starts from
 * nothing). On ERR_OK out->snapshot is the order afterwards and, unless
 * out->total_changed, answer(arg, out->snapshot) was called before
 * COMMIT. out->extra is what a refusal shows; out's trees are kept in
 * pool. The fields refused (ERR_VALIDATION_FAILED) are added to v.
 */
enum err step_put(struct db *db, struct pool *pool, int64_t id,
		  const struct creds *creds, enum step s,
		  const struct step_in *in, struct verr *v,
		  struct step_out *out, order_answer_fn *answer, void *arg);

#endif
