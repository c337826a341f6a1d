/*
 * Carts and orders: ownership, items, coupons, recomputation through the
 * processor chain (pricing.c) and the snapshot of SPEC 2.5. Every mutation
 * runs inside db_tx with the order row locked; the callers in src/api/ only
 * decode and answer.
 */
#ifndef CHECKOUTD_ORDER_H
#define CHECKOUTD_ORDER_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "input.h"
#include "pricing.h"
#include "valid.h"

/* What a request presents: the cart token and/or a customer session. */
struct creds {
	const char *token;   /* X-Cart-Token, or NULL. */
	const char *session; /* Authorization: Bearer <session>, or NULL. */
};

/* The bytes of a new cart token: 64 hex digits (256 bits). */
#define ORDER_TOKEN_LEN 64

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

/* What the steps and cart operations need of an order, read with its
 * ownership check. */
struct order_head {
	int64_t id;
	char state[24], checkout[24], payment_state[24], email[256];
	char country[3]; /* The shipping address's country, or "". */
	int has_email;
	int64_t customer, total, ship_addr, bill_addr, coupon;
	int64_t lines,
	    shipping_lines; /* Lines, and those that need shipping. */
};

/*
 * Checks that c may reach order id (SPEC 1, "Ownership"): 401 without any
 * credential, 404 for a wrong one, another's cart, an unknown id or an
 * expired cart. lock: take the row lock (inside a transaction). On success
 * *h holds the order's head.
 */
enum err order_authorize(struct db *db, int64_t id, const struct creds *c,
			 int lock, struct order_head *h);
/* The head of order id, its row locked, without any ownership check (for
 * the core's own operations, e.g. place_order). */
enum err order_head_load(struct db *db, int64_t id, struct order_head *h);

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

/*
 * Called inside a transaction once its work succeeded, with the order
 * afterwards (borrowed: take a reference to keep it), so that what the
 * caller answers is written before COMMIT and commits with the work (an
 * idempotent response is stored so, idem.c). A transaction that runs
 * again calls it again.
 */
typedef void order_answer_fn(void *arg, struct json_object *snapshot);

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

/* The snapshot of order id (SPEC 2.5) into *out, kept in pool. */
enum err order_snapshot(struct db *db, struct pool *pool, int64_t id,
			struct json_object **out);

/* An order line as completion holds its stock. */
struct order_line {
	int64_t item, variant, quantity, tracked;
	char code[72]; /* The variant's. */
};

struct order_lines {
	struct order_line l[PRICE_MAX_ITEMS];
	size_t n;
};

/* order_snapshot, and the order's lines (sorted by variant id) in *lines
 * from the same query. */
enum err order_snapshot_lines(struct db *db, struct pool *pool, int64_t id,
			      struct json_object **out,
			      struct order_lines *lines);

/* The INSERT of a new cart (order.c's parameters p[0..6)), *id and *out
 * set from the row it returns. */
enum err snapshot_insert_order(struct db *db, struct pool *pool,
			       struct db_val *p, int64_t *id,
			       struct json_object **out);
/*
 * The core's own: the snapshot read with the processor chain's columns
 * (order_recompute), and the changes a step makes to it afterwards, so
 * that its answer needs no second read. Each row's SNAPSHOT_CHAIN_COLS
 * chain columns (snapshot.c says which) go to extra with the row's kind
 * (0 order, 1 item, 3 shipment, 4 payment; the adjustments are not read:
 * the chain computes them). ttl: a cart's lifetime in seconds. lines_only:
 * the order was never addressed, so it has no shipments and no payments
 * and those parts of the query are left out.
 */
#define SNAPSHOT_CHAIN_COLS 16
typedef enum err (*snapshot_extra_fn)(void *arg, int64_t kind,
				      const struct db_val *c, size_t n);
enum err snapshot_chain_read(struct db *db, struct pool *pool, int64_t id,
			     int64_t ttl, int lines_only,
			     snapshot_extra_fn extra, void *arg,
			     struct json_object **out,
			     struct order_lines *lines);
/* Totals, lines and adjustments as the chain computed them in o. */
void snapshot_set_prices(struct json_object *snap, const struct price_order *o);
/* key: a string; a time as MariaDB writes a DATETIME, or NULL. */
void snapshot_set_str(struct json_object *snap, const char *key, const char *s);
void snapshot_set_time(struct json_object *snap, const char *key,
		       const char *dt);
/* The entries of list_key ("payments", "shipments") in state from: to
 * state (amount too, when >= 0), or dropped when state is NULL. */
void snapshot_set_states(struct json_object *snap, const char *list_key,
			 const char *from, const char *state, int64_t amount);
/* A new payment in state `cart`. */
void snapshot_add_payment(struct json_object *snap, int64_t id, int64_t amount);

/* Writes an outbox event of type for order id carrying snapshot snap
 * (SPEC 2.10), in the caller's transaction. */
enum err order_event(struct db *db, int64_t id, const char *type,
		     struct json_object *snap);

/* The customer of a valid (unexpired) session, or 0 in *customer. */
enum err session_customer(struct db *db, const char *session,
			  int64_t *customer);

#endif
