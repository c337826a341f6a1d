/*
 * An order's head and who may reach it (src/order.c), the snapshot of SPEC
 * 2.5 (src/snapshot.c) and an order's events. Carts and their lines are
 * src/cart.h's, the processor chain's run src/recompute.h's. Every
 * mutation runs inside db_tx with the order row locked; the callers in
 * src/api/ only decode and answer.
 */
#ifndef CHECKOUTD_ORDER_H
#define CHECKOUTD_ORDER_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "pricing.h"

/* What a request presents: the cart token and/or a customer session. */
struct creds {
	const char *token;   /* X-Cart-Token, or NULL. */
	const char *session; /* Authorization: Bearer <session>, or NULL. */
};

/* The bytes of a new cart token: 64 hex digits (256 bits). */
#define ORDER_TOKEN_LEN 64

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
 * The order's row as the ownership check reads it: SQL_ORDER_READ_COLS
 * (ORDER_READ_COLS columns) of `orders o`, for a statement of another
 * module that reads more beside it (src/cart.c reads the variant to add
 * in the same statement). Integer columns are signed: in a union, NULL
 * and an unsigned column make a DECIMAL.
 */
/* clang-format off */
#define SQL_ORDER_READ_COLS						\
    "o.token_sha256, CAST(o.customer_id AS SIGNED), "			\
    "o.expires_at < UTC_TIMESTAMP(), o.state, "				\
    "o.checkout_state, o.email, o.total, o.ship_country, "		\
    "CAST(o.shipping_address_id AS SIGNED), "				\
    "CAST(o.billing_address_id AS SIGNED), "				\
    "CAST(o.item_lines AS SIGNED), CAST(o.shipping_lines AS SIGNED), "	\
    "CAST(o.coupon_id AS SIGNED), o.payment_state"
/* clang-format on */
#define ORDER_READ_COLS 14
struct order_read {
	int found;
	unsigned char hash[32];
	int has_hash;
	int expired;
	struct order_head *h; /* The head read (its id set by the reader). */
};
/* One row of SQL_ORDER_READ_COLS (n of them) into o. */
enum err order_read_row(struct order_read *o, const struct db_val *c, size_t n);
/*
 * order_authorize with sql (parameters p[0..n)), whose rows row(arg, ...)
 * reads, passing the order's columns to order_read_row(o, ...); then c is
 * checked against o as order_authorize does.
 */
enum err order_authorize_read(struct db *db, int64_t id, const struct creds *c,
			      const char *sql, const struct db_val *p, size_t n,
			      enum err (*row)(void *, const struct db_val *,
					      size_t),
			      void *arg, struct order_read *o);

/*
 * Called inside a transaction once its work succeeded, with the order
 * afterwards (borrowed: take a reference to keep it), so that what the
 * caller answers is written before COMMIT and commits with the work (an
 * idempotent response is stored so, idem.c). A transaction that runs
 * again calls it again.
 */
typedef void order_answer_fn(void *arg, struct json_object *snapshot);

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

/* The INSERT of a new cart (cart.c's parameters p[0..6)), *id and *out
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

#endif
