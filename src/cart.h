/*
 * Carts and their lines (src/cart.c): a new cart, lines added or changed,
 * a coupon, the checkout sent back to `addressed` when the contents
 * change, and the canonical API's transactions around them. Each change
 * runs the processor chain again (src/recompute.h).
 */
#ifndef CHECKOUTD_CART_H
#define CHECKOUTD_CART_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "input.h"
#include "order.h"
#include "pool.h"
#include "valid.h"

/*
 * Creates a cart: a guest cart with a new token (written to token, which
 * has ORDER_TOKEN_LEN + 1 bytes), or, with a valid session, a cart of that
 * customer (token set to ""). ERR_UNAUTHENTICATED for a session that is
 * not valid. *id gets the new order's id and, when snap is not NULL,
 * *snap its snapshot (SPEC 2.5, kept in pool), from the INSERT's own
 * answer.
 */
enum err order_create(struct db *db, struct pool *pool, const struct creds *c,
		      int64_t *id, char *token, struct json_object **snap);
/*
 * As order_create for a guest cart whose token the caller chose
 * (ORDER_TOKEN_LEN lowercase hex digits, derived from a secret so that the
 * caller can give it again without storing it; seed 003's imports): only
 * its SHA-256 is stored.
 */
enum err order_create_with_token(struct db *db, struct pool *pool,
				 const char *token, int64_t *id);

/*
 * Adds quantity of a variant (id or code) to cart id, merging into its
 * line; 422 (F_LINE_VARIANT or F_LINE_QUANTITY in v) for an unknown or
 * disabled variant or more than the available stock. Recomputes. Each cart
 * operation sets *snap (when snap is not NULL) to the order afterwards,
 * kept in pool (as what it reads is, snap or not).
 */
enum err cart_add_item(struct db *db, struct pool *pool,
		       const struct order_head *h, const char *variant,
		       int64_t quantity, struct verr *v,
		       struct json_object **snap);
/* cart_add_item of line with order_authorize's check (the row locked)
 * in its first statement, which also reads the variant. */
enum err cart_authorize_add_item(struct db *db, struct pool *pool, int64_t id,
				 const struct creds *c,
				 const struct line_in *line, struct verr *v,
				 struct json_object **snap);
/* Sets a line's quantity (0 removes it); ERR_NOT_FOUND for another's
 * line. Recomputes. */
enum err cart_set_quantity(struct db *db, struct pool *pool,
			   const struct order_head *h, int64_t item_id,
			   int64_t quantity, struct verr *v,
			   struct json_object **snap);
/* Applies coupon code, or removes the coupon when code is NULL; 422
 * (F_COUPON in v) for an unknown coupon or one that does not apply. */
enum err cart_set_coupon(struct db *db, struct pool *pool,
			 const struct order_head *h, const char *code,
			 struct verr *v, struct json_object **snap);

/* A change to a cart, run by cart_change. */
struct cart_change {
	enum { CART_ADD, CART_SET, CART_COUPON } op;
	int64_t id;	 /* The cart (order) id. */
	int64_t item_id; /* CART_SET: the line. */
	/* CART_ADD: the variant and quantity; CART_SET: the quantity (0
	 * removes the line). */
	struct line_in line;
	const char *code; /* CART_COUPON: the coupon; NULL removes. */
};

/*
 * Runs change c on the cart for creds in one transaction: authorize with
 * the row locked, change (cart_authorize_add_item, cart_set_quantity or
 * cart_set_coupon), recompute, and on success call answer(arg, snapshot)
 * before COMMIT (db_tx_out: each run starts from nothing; what it reads
 * is kept in pool). The fields refused (ERR_VALIDATION_FAILED) are added
 * to v.
 */
enum err cart_change(struct db *db, struct pool *pool,
		     const struct cart_change *c, const struct creds *creds,
		     struct verr *v, order_answer_fn *answer, void *arg);

/*
 * Creates a cart for creds (order_create) in one transaction and calls
 * answer(arg, snapshot) before COMMIT, token (ORDER_TOKEN_LEN + 1 bytes)
 * holding the new cart's token by then, or "" when the cart is a
 * customer's. The snapshot is kept in pool.
 */
enum err cart_create(struct db *db, struct pool *pool,
		     const struct creds *creds, char *token,
		     order_answer_fn *answer, void *arg);

/*
 * The cart id's checkout goes back to `addressed` (SPEC 1) by the checkout
 * table's T_REVISE, when it is in a state that allows it, and a carrier
 * quote chosen for its old parcel is dropped: items or coupons changed
 * (the cart operations here), or the carrier no longer offers the chosen
 * service (carrier.c). In the caller's transaction.
 */
enum err order_revise(struct db *db, int64_t id);

#endif
