#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkout.h"
#include "config.h"
#include "paystate.h"
#include "pricing.h"
#include "rules.h"
#include "states.h"
#include "str.h"

static const char sql_session[] =
    "SELECT customer_id FROM customer_sessions WHERE id = ? AND "
    "expires_at > UTC_TIMESTAMP()";

/* The customer of a valid session, or 0. */
enum err
session_customer(struct db *db, const char *session, int64_t *customer)
{
	struct db_val p = DB_S(session);

	if (strlen(session) == 36)
		return db_int(db, sql_session, &p, 1, customer);
	*customer = 0;
	return ERR_OK;
}

/* The first 8 bytes of the SHA-256 of s, as an integer. */
static int64_t
digest_of(const char *s)
{
	unsigned char h[32];
	uint64_t d = 0;
	size_t i;

	sha256(s, strlen(s), h);
	for (i = 0; i < 8; i++)
		d = d << 8 | h[i];
	return (int64_t)d;
}

/* order_create, with the guest token preset when not NULL. */
static enum err
create(struct db *db, struct pool *pool, const struct creds *c,
       const char *preset, int64_t *id, char *token, struct json_object **snap)
{
	struct json_object *own = NULL;
	unsigned char hash[32];
	char uuid[37];
	int64_t customer = 0;
	struct db_val p[6];
	enum err e;

	token[0] = '\0';
	if (preset != NULL)
		snprintf(token, ORDER_TOKEN_LEN + 1, "%s", preset);
	if (c->session != NULL) {
		e = session_customer(db, c->session, &customer);
		if (e != ERR_OK)
			return e;
		if (customer == 0)
			return ERR_UNAUTHENTICATED;
	}
	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	if (customer == 0) {
		if (preset == NULL &&
		    random_hex(token, ORDER_TOKEN_LEN / 2) != 0)
			return ERR_INTERNAL;
		sha256(token, ORDER_TOKEN_LEN, hash);
		p[1] = DB_B((const char *)hash, 32);
	} else {
		p[1] = DB_N;
	}
	p[2] = DB_ID(customer);
	p[3] = DB_S(config_str("store.currency"));
	p[4] = DB_I(config_int("cart.ttl"));
	p[5] = DB_I(digest_of("[]"));
	return snapshot_insert_order(db, pool, p, id,
				     snap != NULL ? snap : &own);
}

enum err
order_create(struct db *db, struct pool *pool, const struct creds *c,
	     int64_t *id, char *token, struct json_object **snap)
{
	return create(db, pool, c, NULL, id, token, snap);
}

enum err
order_create_with_token(struct db *db, struct pool *pool, const char *token,
			int64_t *id)
{
	struct creds none = {0};
	char copy[ORDER_TOKEN_LEN + 1];

	if (strlen(token) != ORDER_TOKEN_LEN)
		return ERR_INTERNAL;
	return create(db, pool, &none, token, id, copy, NULL);
}

struct variant {
	int64_t id, tracked, available, price;
	int64_t in_cart; /* Units of it the cart has already. */
	char name[256], product[256];
};

static enum err
variant_row(void *arg, const struct db_val *c, size_t n)
{
	struct variant *v = arg;

	if (n != 3 && n != 7)
		return ERR_INTERNAL;
	v->id = c[0].i;
	v->tracked = c[1].i;
	v->available = c[2].i;
	if (n == 7) {
		v->price = c[3].i;
		snprintf(v->name, sizeof(v->name), "%s", c[4].s);
		snprintf(v->product, sizeof(v->product), "%s", c[5].s);
		v->in_cart = c[6].type == DB_I64 ? c[6].i : 0;
	}
	return ERR_OK;
}

/* Plain (non-locking) reads: the binding stock check is at completion.
 * With the quantity the cart already has of the variant (order id, then
 * the variant's id or code). */
/* clang-format off */
#define SQL_VARIANT_COLS						\
    "CAST(v.id AS SIGNED), v.tracked, "					\
    "COALESCE(s.on_hand - s.on_hold, 0), v.price, v.name, p.name, "	\
    "CAST(i.quantity AS SIGNED)"
#define SQL_VARIANT_FROM						\
    " FROM product_variants v "						\
    "LEFT JOIN variant_stock s ON s.variant_id = v.id "			\
    "JOIN products p ON p.id = v.product_id "				\
    "LEFT JOIN order_items i ON i.order_id = ? AND i.variant_id = v.id "\
    "WHERE v.enabled = 1 AND p.enabled = 1 AND "
#define SQL_VARIANT "SELECT " SQL_VARIANT_COLS SQL_VARIANT_FROM
/* clang-format on */

struct owner {
	int found;
	unsigned char hash[32];
	int has_hash;
	int expired;
	struct order_head *h;
	struct variant *v; /* The variant read beside it, or NULL. */
};

static enum err
owner_row(void *arg, const struct db_val *c, size_t n)
{
	struct owner *o = arg;
	struct order_head *h = o->h;

	if (n != 14)
		return ERR_INTERNAL;
	o->found = 1;
	o->has_hash = c[0].type == DB_STR && c[0].len == 32;
	if (o->has_hash)
		memcpy(o->hash, c[0].s, 32);
	h->customer = c[1].type == DB_I64 ? c[1].i : 0;
	/* Only a cart expires. */
	o->expired = c[2].type == DB_I64 && c[2].i != 0 &&
		     order_state_parse(c[3].s) == OS_CART;
	snprintf(h->state, sizeof(h->state), "%s", c[3].s);
	snprintf(h->checkout, sizeof(h->checkout), "%s", c[4].s);
	h->has_email = c[5].type == DB_STR;
	snprintf(h->email, sizeof(h->email), "%s", h->has_email ? c[5].s : "");
	h->total = c[6].i;
	snprintf(h->country, sizeof(h->country), "%s",
		 c[7].type == DB_STR ? c[7].s : "");
	h->ship_addr = c[8].type == DB_I64 ? c[8].i : 0;
	h->bill_addr = c[9].type == DB_I64 ? c[9].i : 0;
	h->lines = c[10].i;
	h->shipping_lines = c[11].type == DB_I64 ? c[11].i : 0;
	h->coupon = c[12].type == DB_I64 ? c[12].i : 0;
	snprintf(h->payment_state, sizeof(h->payment_state), "%s", c[13].s);
	return ERR_OK;
}

/* One primary-key read: the line counts and the shipping country are kept
 * on the order row (migration 0011; the chain writes the counts). Integer
 * columns are signed: in a union (SQL_OWNER_VARIANT), NULL and an unsigned
 * column make a DECIMAL. */
/* clang-format off */
#define SQL_OWNER_COLS							\
    "o.token_sha256, CAST(o.customer_id AS SIGNED), "			\
    "o.expires_at < UTC_TIMESTAMP(), o.state, "				\
    "o.checkout_state, o.email, o.total, o.ship_country, "		\
    "CAST(o.shipping_address_id AS SIGNED), "				\
    "CAST(o.billing_address_id AS SIGNED), "				\
    "CAST(o.item_lines AS SIGNED), CAST(o.shipping_lines AS SIGNED), "	\
    "CAST(o.coupon_id AS SIGNED), o.payment_state"
/* clang-format on */
#define SQL_OWNER "SELECT " SQL_OWNER_COLS " FROM orders o WHERE o.id = ?"
static const char sql_owner[] = SQL_OWNER;
static const char sql_owner_lock[] = SQL_OWNER " FOR UPDATE";
/* Adding an item: the order row locked (kind 0) and the variant (kind 1)
 * in one statement; only the order's part locks. Parameters: the order
 * id, the order id again, the variant's id or code. */
/* clang-format off */
#define NULL7 "NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define SQL_OWNER_VARIANT						\
    "(SELECT 0, " SQL_OWNER_COLS ", " NULL7				\
    " FROM orders o WHERE o.id = ? FOR UPDATE) UNION ALL "		\
    "(SELECT 1, " NULL7 ", " NULL7 ", " SQL_VARIANT_COLS SQL_VARIANT_FROM
/* clang-format on */
static const char sql_owner_variant_id[] = SQL_OWNER_VARIANT "v.id = ?)";
static const char sql_owner_variant_code[] = SQL_OWNER_VARIANT "v.code = ?)";

/* A row of sql_owner_variant_*. */
static enum err
owner_variant_row(void *arg, const struct db_val *c, size_t n)
{
	struct owner *o = arg;

	if (n != 22 || c[0].type != DB_I64)
		return ERR_INTERNAL;
	return c[0].i == 0 ? owner_row(o, c + 1, 14)
			   : variant_row(o->v, c + 15, 7);
}

enum err
order_head_load(struct db *db, int64_t id, struct order_head *h)
{
	struct db_val p = DB_I(id);
	struct owner o = {.h = h};
	enum err e;

	memset(h, 0, sizeof(*h));
	h->id = id;
	e = db_query(db, sql_owner_lock, &p, 1, owner_row, &o);
	if (e == ERR_OK && !o.found)
		e = ERR_NOT_FOUND;
	return e;
}

/* The ownership check of order_authorize on the order's row o. */
static enum err
owner_check(struct db *db, const struct creds *c, const struct owner *o)
{
	int64_t customer = 0;
	enum err e;

	if (!o->found || o->expired)
		return ERR_NOT_FOUND;
	if (o->h->customer != 0) {
		/* Only the customer's own valid session reaches it. */
		if (c->session == NULL)
			return ERR_NOT_FOUND;
		e = session_customer(db, c->session, &customer);
		if (e != ERR_OK)
			return e;
		return customer == o->h->customer ? ERR_OK : ERR_NOT_FOUND;
	}
	if (c->token != NULL && o->has_hash) {
		unsigned char hash[32];

		sha256(c->token, strlen(c->token), hash);
		if (ct_compare(hash, o->hash, 32) == 0)
			return ERR_OK;
	}
	return ERR_NOT_FOUND;
}

/* Reads the order's row with sql (and more, for row), then checks c. */
static enum err
authorize_read(struct db *db, int64_t id, const struct creds *c,
	       const char *sql, const struct db_val *p, size_t n,
	       enum err (*row)(void *, const struct db_val *, size_t),
	       struct owner *o)
{
	enum err e;

	memset(o->h, 0, sizeof(*o->h));
	o->h->id = id;
	if (c->token == NULL && c->session == NULL)
		return ERR_UNAUTHENTICATED;
	e = db_query(db, sql, p, n, row, o);
	return e != ERR_OK ? e : owner_check(db, c, o);
}

enum err
order_authorize(struct db *db, int64_t id, const struct creds *c, int lock,
		struct order_head *h)
{
	struct db_val p = DB_I(id);
	struct owner o = {.h = h};

	return authorize_read(db, id, c, lock ? sql_owner_lock : sql_owner, &p,
			      1, owner_row, &o);
}

/* Items and coupons change only while the order is a cart. */
static enum err
require_cart(const struct order_head *h)
{
	return order_state_parse(h->state) == OS_CART ? ERR_OK
						      : ERR_INVALID_TRANSITION;
}

/* The cart's checkout back to `addressed` (T_REVISE): a conditional
 * UPDATE on the states the table revises from. */
static const char sql_revise[] =
    "UPDATE orders o LEFT JOIN shipments s ON s.order_id = o.id AND "
    "s.carrier_quote_id IS NOT NULL SET o.checkout_state = ?, "
    "s.carrier_quote_id = NULL, s.method_id = NULL WHERE o.id = ? AND "
    "o.state = ? AND o.checkout_state IN (?, ?, ?, ?)";

enum err
order_revise(struct db *db, int64_t id)
{
	enum checkout_state from[4], to = CS__MAX;
	struct db_val p[7];
	size_t i;

	if (checkout_from(T_REVISE, from, 4) != 4 ||
	    !checkout_can(from[0], T_REVISE, &to))
		return ERR_INTERNAL;
	p[0] = DB_S(checkout_state_names[to]);
	p[1] = DB_I(id);
	p[2] = DB_S(order_state_names[OS_CART]);
	for (i = 0; i < 4; i++)
		p[3 + i] = DB_S(checkout_state_names[from[i]]);
	return db_exec(db, sql_revise, p, 7, NULL);
}

static enum err
after_edit(struct db *db, struct pool *pool, const struct order_head *h,
	   struct recompute *rc, struct json_object **snap)
{
	enum checkout_state cs = checkout_state_parse(h->checkout);
	enum err e = ERR_OK;

	if (checkout_can(cs, T_REVISE, NULL))
		e = order_revise(db, h->id);
	rc->unaddressed = cs == CS_CART;
	if (e == ERR_OK)
		e = order_recompute(db, pool, h->id, rc);
	if (e == ERR_OK && snap != NULL)
		*snap = rc->snapshot;
	return e;
}

static const char sql_variant_id[] = SQL_VARIANT "v.id = ?";
static const char sql_variant_code[] = SQL_VARIANT "v.code = ?";
static const char sql_line_update[] =
    "UPDATE order_items SET quantity = ? WHERE order_id = ? AND "
    "variant_id = ?";
/* The line's total before adjustments, which is what the chain stores
 * when none applies to it (then it need not write the line again). */
static const char sql_line_insert[] =
    "INSERT INTO order_items (uuid, order_id, variant_id, quantity, "
    "unit_price, product_name, variant_name, total) VALUES (?, ?, ?, ?, "
    "?, ?, ?, ?)";

static int
check_stock(const struct variant *v, int64_t quantity, struct verr *ve)
{
	if (quantity > 9999) {
		verr_core(ve, F_LINE_QUANTITY, V_LINE_MAX, 0);
		return -1;
	}
	if (v->tracked && quantity > v->available) {
		verr_core(ve, F_LINE_QUANTITY, V_AVAILABLE,
			  (size_t)(v->available < 0 ? 0 : v->available));
		return -1;
	}
	return 0;
}

/* Adds quantity of variant v (read with the cart's units of it). */
static enum err
add_line(struct db *db, struct pool *pool, const struct order_head *h,
	 const struct variant *v, int64_t quantity, struct verr *ve,
	 struct json_object **snap)
{
	struct recompute rc = {0};
	int64_t id = h->id, have = v->in_cart;
	char uuid[37];
	enum err e;

	if (v->id == 0) {
		verr_core(ve, F_LINE_VARIANT, V_NO_VARIANT, 0);
		return ERR_VALIDATION_FAILED;
	}
	if (check_stock(v, have + quantity, ve) != 0)
		return ERR_VALIDATION_FAILED;
	if (have > 0) {
		struct db_val p[3] = {DB_I(have + quantity), DB_I(id),
				      DB_I(v->id)};

		e = db_exec(db, sql_line_update, p, 3, NULL);
	} else {
		if (uuid_v4(uuid) != 0)
			return ERR_INTERNAL;
		/* 0 where it would overflow: the chain has the last word. */
		int64_t total = quantity > 0 && v->price >= 0 &&
					v->price <= INT64_MAX / quantity
				    ? v->price * quantity
				    : 0;
		struct db_val q[8] = {DB_S(uuid),     DB_I(id),
				      DB_I(v->id),    DB_I(quantity),
				      DB_I(v->price), DB_S(v->product),
				      DB_S(v->name),  DB_I(total)};

		e = db_exec(db, sql_line_insert, q, 8, NULL);
	}
	if (e != ERR_OK)
		return e;
	return after_edit(db, pool, h, &rc, snap);
}

enum err
cart_add_item(struct db *db, struct pool *pool, const struct order_head *h,
	      const char *variant, int64_t quantity, struct verr *ve,
	      struct json_object **snap)
{
	struct variant v = {0};
	struct db_val p[2] = {DB_I(h->id)};
	int by_id = db_ref(variant, &p[1]);
	enum err e;

	e = require_cart(h);
	if (e == ERR_OK)
		e = db_query(db, by_id ? sql_variant_id : sql_variant_code, p,
			     2, variant_row, &v);
	return e != ERR_OK ? e : add_line(db, pool, h, &v, quantity, ve, snap);
}

enum err
cart_authorize_add_item(struct db *db, struct pool *pool, int64_t id,
			const struct creds *c, const struct line_in *line,
			struct verr *ve, struct json_object **snap)
{
	struct order_head h;
	struct variant v = {0};
	struct owner o = {.h = &h, .v = &v};
	struct db_val p[3] = {DB_I(id), DB_I(id)};
	int by_id = db_ref(line->variant, &p[2]);
	enum err e;

	e = authorize_read(
	    db, id, c, by_id ? sql_owner_variant_id : sql_owner_variant_code, p,
	    3, owner_variant_row, &o);
	if (e == ERR_OK)
		e = require_cart(&h);
	return e != ERR_OK
		   ? e
		   : add_line(db, pool, &h, &v, line->quantity, ve, snap);
}

static const char sql_item_variant[] =
    "SELECT v.id, v.tracked, COALESCE(s.on_hand - s.on_hold, 0) FROM "
    "order_items i LEFT JOIN variant_stock s ON s.variant_id = "
    "i.variant_id "
    "JOIN product_variants v ON v.id = i.variant_id WHERE i.id = ? AND "
    "i.order_id = ?";
static const char sql_item_delete[] =
    "DELETE FROM order_items WHERE id = ? AND order_id = ?";
static const char sql_item_quantity[] =
    "UPDATE order_items SET quantity = ? WHERE id = ? AND order_id = ?";

enum err
cart_set_quantity(struct db *db, struct pool *pool, const struct order_head *h,
		  int64_t item_id, int64_t quantity, struct verr *ve,
		  struct json_object **snap)
{
	struct recompute rc = {0};
	struct db_val p[3] = {DB_I(item_id), DB_I(h->id)};
	int64_t id = h->id;
	struct variant v = {0};
	enum err e;

	e = require_cart(h);
	if (e != ERR_OK)
		return e;
	e = db_query(db, sql_item_variant, p, 2, variant_row, &v);
	if (e != ERR_OK)
		return e;
	if (v.id == 0)
		return ERR_NOT_FOUND;
	if (quantity == 0) {
		e = db_exec(db, sql_item_delete, p, 2, NULL);
	} else {
		if (check_stock(&v, quantity, ve) != 0)
			return ERR_VALIDATION_FAILED;
		p[0] = DB_I(quantity);
		p[1] = DB_I(item_id);
		p[2] = DB_I(id);
		e = db_exec(db, sql_item_quantity, p, 3, NULL);
	}
	if (e != ERR_OK)
		return e;
	return after_edit(db, pool, h, &rc, snap);
}

static const char sql_coupon[] =
    "SELECT id, promotion_id FROM promotion_coupons WHERE code = ?";
static const char sql_set_coupon[] =
    "UPDATE orders SET coupon_id = ? WHERE id = ?";

static enum err
coupon_row(void *arg, const struct db_val *c, size_t n)
{
	int64_t *out = arg;

	if (n != 2)
		return ERR_INTERNAL;
	out[0] = c[0].i;
	out[1] = c[1].i;
	return ERR_OK;
}

enum err
cart_set_coupon(struct db *db, struct pool *pool, const struct order_head *h,
		const char *code, struct verr *ve, struct json_object **snap)
{
	int64_t id = h->id;
	int64_t coupon[2] = {0, 0};
	struct recompute rc = {0};
	size_t i;
	struct db_val p[2];
	enum err e;

	e = require_cart(h);
	if (e != ERR_OK)
		return e;
	if (code != NULL) {
		p[0] = DB_S(code);
		e = db_query(db, sql_coupon, p, 1, coupon_row, coupon);
		if (e != ERR_OK)
			return e;
		if (coupon[0] == 0) {
			verr_core(ve, F_COUPON, V_NO_COUPON, 0);
			return ERR_VALIDATION_FAILED;
		}
	}
	p[0] = DB_ID(coupon[0]);
	p[1] = DB_I(id);
	e = db_exec(db, sql_set_coupon, p, 2, NULL);
	if (e == ERR_OK)
		e = after_edit(db, pool, h, &rc, snap);
	if (e != ERR_OK || code == NULL)
		return e;
	for (i = 0; i < rc.napplied; i++)
		if (rc.applied[i] == coupon[1])
			return ERR_OK;
	/* The transaction rolls back: the cart keeps its old coupon. */
	verr_core(ve, F_COUPON, V_COUPON_NA, 0);
	return ERR_VALIDATION_FAILED;
}

/*
 * Placing moves every machine of the order at once, by their tables: the
 * order cart -> new (OE_PLACE), its checkout to completed (T_COMPLETE),
 * its payment_state to awaiting_payment or, free, paid (OPE_PLACE,
 * OPE_PLACE_FREE), its cart payment to new (PE_PLACE), its shipping_state
 * and shipments cart -> ready (SE_PLACE).
 */
struct placed {
	enum order_state state;
	enum checkout_state checkout;
	enum opay_state payment;
	enum ship_state shipping, ship_from;
	enum pay_state pay, pay_from;
};

static enum err
placed_states(const char *checkout, const struct placing *pl, struct placed *to)
{
	if (order_transition(OS_CART, OE_PLACE, &to->state) != ERR_OK ||
	    !checkout_can(checkout_state_parse(checkout), T_COMPLETE,
			  &to->checkout) ||
	    opay_transition(OPS_CART, pl->free ? OPE_PLACE_FREE : OPE_PLACE,
			    &to->payment) != ERR_OK ||
	    ship_from(SE_PLACE, &to->ship_from, 1) != 1 ||
	    ship_transition(to->ship_from, SE_PLACE, &to->shipping) != ERR_OK ||
	    pay_from(PE_PLACE, &to->pay_from, 1) != 1 ||
	    pay_transition(to->pay_from, PE_PLACE, &to->pay) != ERR_OK)
		return ERR_INTERNAL;
	return ERR_OK;
}

/* What sql_upd_order_place writes, in the answer's snapshot. */
static void
snapshot_placed(struct json_object *snap, const struct placing *pl,
		const struct placed *to, const char *now)
{
	snapshot_set_str(snap, "state", order_state_names[to->state]);
	snapshot_set_str(snap, "checkout_state",
			 checkout_state_names[to->checkout]);
	snapshot_set_str(snap, "payment_state", opay_state_names[to->payment]);
	snapshot_set_str(snap, "shipping_state",
			 ship_state_names[to->shipping]);
	if (pl->notes != NULL)
		snapshot_set_str(snap, "notes", pl->notes);
	snapshot_set_time(snap, "completed_at", now);
	snapshot_set_time(snap, "expires_at", NULL);
	snapshot_set_states(snap, "payments", pay_state_names[to->pay_from],
			    pay_state_names[to->pay], -1);
	snapshot_set_states(snap, "shipments", ship_state_names[to->ship_from],
			    ship_state_names[to->shipping], -1);
}

/* Recomputation: load, run the chain, store. */

/*
 * The chain reads the order with the snapshot (snapshot.c,
 * sql_snapshot_chain): its addresses' countries, coupon, lines, first
 * shipment's method and cart payments. The tax zone (SPEC 1: the shipping
 * address's zone, else the billing address's, else
 * checkout.default_tax_zone), promotions and rates come from rules.c.
 * The step's answer is that snapshot with what the chain wrote: no
 * second read.
 */
static const char sql_del_adj[] = "DELETE FROM adjustments WHERE order_id = ?";
/* Every adjustment of the order in one statement, from a JSON array. */
static const char sql_ins_adj[] =
    "INSERT INTO adjustments (order_id, order_item_id, type, label, "
    "amount, neutral, origin_id) SELECT ?, NULLIF(j.i, 0), j.t, j.l, j.a, "
    "j.n, NULLIF(j.o, 0) FROM JSON_TABLE(?, '$[*]' COLUMNS(i BIGINT PATH "
    "'$.i', t VARCHAR(24) PATH '$.t', l VARCHAR(255) PATH '$.l', a BIGINT "
    "PATH '$.a', n TINYINT PATH '$.n', o BIGINT PATH '$.o')) j";
static const char sql_upd_item[] =
    "UPDATE order_items SET unit_price = ?, adjustments_total = ?, "
    "total = ? WHERE id = ?";
static const char sql_upd_order[] =
    "UPDATE orders SET items_total = ?, adjustments_total = ?, "
    "tax_total = ?, shipping_total = ?, promotion_total = ?, total = ?, "
    "item_lines = ?, shipping_lines = ?, adj_digest = ?, "
    "checkout_state = ?, updated_at = CAST(? AS DATETIME), expires_at = "
    "IF(state = ?, CAST(? AS DATETIME), expires_at) WHERE id = ?";
/* The same, placing the order (SPEC 1, "Completing"): its payment `new`
 * and its shipment `ready` at once. */
static const char sql_upd_order_place[] =
    "UPDATE orders o LEFT JOIN payments p ON p.order_id = o.id AND "
    "p.state = ? LEFT JOIN shipments s ON s.order_id = o.id AND "
    "s.state = ? SET o.items_total = ?, o.adjustments_total = ?, "
    "o.tax_total = ?, o.shipping_total = ?, o.promotion_total = ?, "
    "o.total = ?, o.item_lines = ?, o.shipping_lines = ?, o.adj_digest = "
    "?, o.checkout_state = ?, o.updated_at = CAST(? AS DATETIME), "
    "o.completed_at = CAST(? AS DATETIME), o.expires_at = NULL, o.state = "
    "?, o.payment_state = ?, o.shipping_state = ?, o.notes = COALESCE(?, "
    "o.notes), p.state = ?, p.updated_at = UTC_TIMESTAMP(), s.state = ? "
    "WHERE o.id = ?";

struct rc {
	struct price_order *o;
	int64_t coupon, shipment; /* The first shipment's id, or 0. */
	int64_t coupon_promotion, coupon_limit, coupon_used;
	int64_t cart_payments, cart_amount; /* Payments in state `cart`. */
	/* The adjustments' digest as stored; has_digest 0: not known. */
	int64_t digest;
	int has_digest;
	int64_t rules_version; /* rules_version's counter, as read. */
	int quote_expired;     /* The shipment's carrier quote. */
	char checkout[24], state[16], currency[4];
	char ship_country[3], bill_country[3];
	/* The server's time, and a cart's expiry from now (DATETIME). */
	char now[24], expires[24];
	/* Each item's stored unit price, adjustments total and total: lines
	 * whose values do not change are not written again. */
	int64_t stored[PRICE_MAX_ITEMS][3];
};

/* The chain's columns: nine integers, then seven strings. */
#define RC_S 9

static int64_t
int_or(const struct db_val *c, int64_t none)
{
	return c->type == DB_I64 ? c->i : none;
}

static void
str_to(char *out, size_t size, const struct db_val *c)
{
	snprintf(out, size, "%s", c->type == DB_STR ? c->s : "");
}

static void
rc_order_row(struct rc *r, const struct db_val *c)
{
	r->coupon = int_or(&c[0], 0);
	r->coupon_promotion = int_or(&c[1], 0);
	r->coupon_limit = int_or(&c[2], 0);
	r->coupon_used = int_or(&c[3], 0);
	r->has_digest = c[4].type == DB_I64;
	r->digest = int_or(&c[4], 0);
	r->rules_version = int_or(&c[5], 0);
	str_to(r->ship_country, sizeof(r->ship_country), &c[RC_S]);
	str_to(r->bill_country, sizeof(r->bill_country), &c[RC_S + 1]);
	str_to(r->checkout, sizeof(r->checkout), &c[RC_S + 2]);
	str_to(r->state, sizeof(r->state), &c[RC_S + 3]);
	str_to(r->currency, sizeof(r->currency), &c[RC_S + 4]);
	str_to(r->now, sizeof(r->now), &c[RC_S + 5]);
	str_to(r->expires, sizeof(r->expires), &c[RC_S + 6]);
}

static enum err
rc_item_row(struct rc *r, const struct db_val *c)
{
	struct price_order *o = r->o;
	struct price_item *it;

	if (o->nitems >= PRICE_MAX_ITEMS)
		return ERR_INTERNAL;
	r->stored[o->nitems][0] = c[2].i;
	r->stored[o->nitems][1] = c[7].i;
	r->stored[o->nitems][2] = c[8].i;
	it = &o->items[o->nitems++];
	memset(it, 0, sizeof(*it));
	it->id = c[0].i;
	it->quantity = c[1].i;
	it->immutable = c[3].i != 0;
	/* Items placed at a given price keep it; others follow the catalog. */
	it->unit_price = it->immutable ? c[2].i : c[4].i;
	it->tax_category = int_or(&c[5], 0);
	it->needs_shipping = c[6].i != 0;
	return ERR_OK;
}

/* The method of the order's first shipment (by id) is the one charged. */
static void
rc_shipment_row(struct rc *r, const struct db_val *c)
{
	struct shipping_method *m = &r->o->method;

	if (r->shipment != 0 && r->shipment < c[7].i)
		return;
	r->shipment = c[7].i;
	r->o->has_shipment = c[0].type == DB_I64;
	r->quote_expired = c[6].type == DB_I64 && c[6].i != 0;
	memset(m, 0, sizeof(*m));
	if (!r->o->has_shipment)
		return;
	m->id = c[0].i;
	str_to(m->name, sizeof(m->name), &c[RC_S]);
	m->calc = calculator_parse(c[RC_S + 1].s);
	m->amount = int_or(&c[1], 0);
	m->carrier_price = m->amount; /* The stored quote (carrier). */
	m->first_item_cost = int_or(&c[2], 0);
	m->additional_item_cost = int_or(&c[3], 0);
	m->additional_item_limit = int_or(&c[4], 0);
	m->tax_category = int_or(&c[5], 0);
}

/* The chain's columns of a snapshot row (snapshot.c's
 * sql_snapshot_chain). */
static enum err
rc_row(void *arg, int64_t kind, const struct db_val *c, size_t n)
{
	struct rc *r = arg;

	if (n != SNAPSHOT_CHAIN_COLS)
		return ERR_INTERNAL;
	switch (kind) {
	case 0:
		rc_order_row(r, c);
		return ERR_OK;
	case 1:
		return rc_item_row(r, c);
	case 3:
		rc_shipment_row(r, c);
		return ERR_OK;
	case 4:
		if (c[1].i == 0)
			return ERR_OK;
		if (r->cart_payments == 0 || c[0].i < r->cart_amount)
			r->cart_amount = c[0].i;
		r->cart_payments++;
		return ERR_OK;
	default:
		return ERR_INTERNAL;
	}
}

/* The lines in id order (the snapshot's rows come unsorted), with their
 * stored prices. */
static void
rc_sort_items(struct rc *r)
{
	struct price_order *o = r->o;
	size_t i, j;

	for (i = 1; i < o->nitems; i++)
		for (j = i; j > 0 && o->items[j - 1].id > o->items[j].id; j--) {
			struct price_item t = o->items[j];
			int64_t st[3];

			o->items[j] = o->items[j - 1];
			o->items[j - 1] = t;
			memcpy(st, r->stored[j], sizeof(st));
			memcpy(r->stored[j], r->stored[j - 1], sizeof(st));
			memcpy(r->stored[j - 1], st, sizeof(st));
		}
}

/* The order's coupon belongs to one promotion: mark it there. */
static void
apply_coupon(struct rc *r)
{
	size_t i;

	for (i = 0; r->coupon != 0 && i < r->o->npromotions; i++) {
		struct promotion *p = &r->o->promotions[i];

		if (p->id != r->coupon_promotion)
			continue;
		p->coupon_applied = 1;
		p->coupon_usage_limit = r->coupon_limit;
		p->coupon_used = r->coupon_used;
	}
}

/* Adds promotion adjustment a's promotion to ids[0..*n) when new. */
static void
count_promotion(const struct adjustment *a, int64_t *ids, size_t *n)
{
	size_t i;

	if (a->type != ADJ_ORDER_PROMOTION && a->type != ADJ_SHIPPING_PROMOTION)
		return;
	for (i = 0; i < *n; i++)
		if (ids[i] == a->origin_id)
			return;
	if (*n < PRICE_MAX_PROMOTIONS)
		ids[(*n)++] = a->origin_id;
}

/*
 * The promotions with an adjustment on the order, as stored (completion
 * counts a use of each, by the same rows cancelling gives it back by),
 * into rc: their number, and whether the coupon's promotion is one.
 */
static void
count_promotions(const struct rc *r, struct recompute *rc)
{
	const struct price_order *o = r->o;
	int64_t ids[PRICE_MAX_PROMOTIONS];
	size_t i, j, n = 0;

	for (i = 0; i < o->nitems; i++)
		for (j = 0; j < o->items[i].nadj; j++)
			count_promotion(&o->items[i].adj[j], ids, &n);
	for (i = 0; i < o->nadj; i++)
		count_promotion(&o->adj[i], ids, &n);
	rc->counted = n;
	rc->coupon_counted = 0;
	for (i = 0; r->coupon != 0 && i < n; i++)
		if (ids[i] == r->coupon_promotion)
			rc->coupon_counted = 1;
}

/* Adds adjustment a (of item item_id, 0 for the order) to the array. */
static void
adj_json(struct json_object *arr, int64_t item_id, const struct adjustment *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "i", json_object_new_int64(item_id));
	json_object_object_add(o, "t",
			       json_object_new_string(adj_type_names[a->type]));
	json_object_object_add(o, "l", json_object_new_string(a->label));
	json_object_object_add(o, "a", json_object_new_int64(a->amount));
	json_object_object_add(o, "n", json_object_new_int(a->neutral));
	json_object_object_add(o, "o", json_object_new_int64(a->origin_id));
	json_object_array_add(arr, o);
}

/*
 * Writes what the chain computed: the adjustments (all of them in one
 * INSERT, and not at all when their digest is the stored one), the lines
 * whose prices changed, and the order row with its totals, line counts,
 * digest and checkout state.
 */
static enum err
store_prices(struct db *db, int64_t id, const struct rc *r,
	     const struct placing *pl, const struct placed *to)
{
	const struct price_order *o = r->o;
	struct json_object *adj = json_object_new_array();
	struct db_val p[14];
	const char *json;
	int64_t digest, none = digest_of("[]"), shipping_lines = 0;
	enum err e = ERR_OK;
	size_t i, j;

	if (adj == NULL)
		return ERR_NOMEM;
	for (i = 0; i < o->nitems; i++) {
		for (j = 0; j < o->items[i].nadj; j++)
			adj_json(adj, o->items[i].id, &o->items[i].adj[j]);
		shipping_lines += o->items[i].needs_shipping;
	}
	for (i = 0; i < o->nadj; i++)
		adj_json(adj, 0, &o->adj[i]);
	json = json_object_to_json_string_ext(adj, JSON_C_TO_STRING_PLAIN);
	digest = digest_of(json);
	p[0] = DB_I(id);
	if (!r->has_digest || (r->digest != digest && r->digest != none))
		e = db_exec(db, sql_del_adj, p, 1, NULL);
	if (e == ERR_OK && json_object_array_length(adj) > 0 &&
	    (!r->has_digest || r->digest != digest)) {
		p[1] = DB_S(json);
		e = db_exec(db, sql_ins_adj, p, 2, NULL);
	}
	json_object_put(adj);
	for (i = 0; e == ERR_OK && i < o->nitems; i++) {
		const struct price_item *it = &o->items[i];

		if (r->stored[i][0] == it->unit_price &&
		    r->stored[i][1] == it->adjustments_total &&
		    r->stored[i][2] == it->total)
			continue;
		p[0] = DB_I(it->unit_price);
		p[1] = DB_I(it->adjustments_total);
		p[2] = DB_I(it->total);
		p[3] = DB_I(it->id);
		e = db_exec(db, sql_upd_item, p, 4, NULL);
	}
	if (e != ERR_OK)
		return e;
	p[0] = DB_I(o->items_total);
	p[1] = DB_I(o->adjustments_total);
	p[2] = DB_I(o->tax_total);
	p[3] = DB_I(o->shipping_total);
	p[4] = DB_I(o->promotion_total);
	p[5] = DB_I(o->total);
	p[6] = DB_I((int64_t)o->nitems);
	p[7] = DB_I(shipping_lines);
	p[8] = DB_I(digest);
	if (pl != NULL) {
		/* The from-states are the joins' conditions. */
		struct db_val q[21];

		q[0] = DB_S(pay_state_names[to->pay_from]);
		q[1] = DB_S(ship_state_names[to->ship_from]);
		memcpy(&q[2], p, 9 * sizeof(p[0]));
		q[11] = DB_S(checkout_state_names[to->checkout]);
		q[12] = DB_S(r->now);
		q[13] = DB_S(r->now);
		q[14] = DB_S(order_state_names[to->state]);
		q[15] = DB_S(opay_state_names[to->payment]);
		q[16] = DB_S(ship_state_names[to->shipping]);
		q[17] = pl->notes != NULL ? DB_S(pl->notes) : DB_N;
		q[18] = DB_S(pay_state_names[to->pay]);
		q[19] = DB_S(ship_state_names[to->shipping]);
		q[20] = DB_I(id);
		return db_exec(db, sql_upd_order_place, q, 21, NULL);
	}
	p[9] = DB_S(r->checkout);
	p[10] = DB_S(r->now);
	p[11] = DB_S(order_state_names[OS_CART]);
	p[12] = DB_S(r->expires);
	p[13] = DB_I(id);
	return db_exec(db, sql_upd_order, p, 14, NULL);
}

static const char sql_pay_drop[] =
    "DELETE FROM payments WHERE order_id = ? AND state = ?";

static const char sql_pay_amount[] =
    "UPDATE payments SET amount = ?, currency = ? WHERE order_id = ? AND "
    "state = ?";
static const char sql_pay_insert[] =
    "INSERT INTO payments (uuid, order_id, amount, currency) VALUES (?, "
    "?, ?, ?)";

/*
 * A cart past shipping has one payment in state `cart` for its total (the
 * one GET /api/checkouts shows and payment selection names); before that,
 * or at a total of 0, it has none (Sylius's OrderPaymentProcessor).
 */
static enum err
sync_payment(struct db *db, int64_t id, const struct rc *r,
	     struct json_object *snap)
{
	struct db_val p[4] = {DB_I(id), DB_S(pay_state_names[PS_CART])};
	int64_t total = r->o->total, pay = 0;
	char uuid[37];
	enum err e;

	enum checkout_state cs = checkout_state_parse(r->checkout);

	if (order_state_parse(r->state) != OS_CART)
		return ERR_OK;
	if (total == 0 || cs == CS_CART || cs == CS_ADDRESSED) {
		if (r->cart_payments == 0)
			return ERR_OK;
		snapshot_set_states(snap, "payments", pay_state_names[PS_CART],
				    NULL, -1);
		return db_exec(db, sql_pay_drop, p, 2, NULL);
	}
	if (r->cart_payments == 1 && r->cart_amount == total)
		return ERR_OK;
	p[0] = DB_I(total);
	p[1] = DB_S(r->currency);
	p[2] = DB_I(id);
	p[3] = DB_S(pay_state_names[PS_CART]);
	/* The order row is locked: the count read with it still holds. */
	if (r->cart_payments > 0) {
		snapshot_set_states(snap, "payments", pay_state_names[PS_CART],
				    pay_state_names[PS_CART], total);
		return db_exec(db, sql_pay_amount, p, 4, NULL);
	}
	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(id);
	p[2] = DB_I(total);
	p[3] = DB_S(r->currency);
	e = db_insert(db, sql_pay_insert, p, 4, &pay);
	if (e == ERR_OK)
		snapshot_add_payment(snap, pay, total);
	return e;
}

enum err
order_recompute(struct db *db, struct pool *pool, int64_t id,
		struct recompute *rc)
{
	struct rc *r = calloc(1, sizeof(*r));
	struct json_object *snap = NULL;
	struct placed to = {0};
	enum err e;

	if (r == NULL)
		return ERR_NOMEM;
	r->o = calloc(1, sizeof(*r->o));
	if (r->o == NULL) {
		free(r);
		return ERR_NOMEM;
	}
	r->o->now = (int64_t)time(NULL);
	e = snapshot_chain_read(db, pool, id, config_int("cart.ttl"),
				rc != NULL && rc->unaddressed, rc_row, r, &snap,
				rc != NULL ? rc->lines : NULL);
	if (e == ERR_OK && r->now[0] == '\0')
		e = ERR_INTERNAL; /* no order row */
	if (e == ERR_OK)
		rc_sort_items(r);
	if (e == ERR_OK && rc != NULL && rc->checkout != NULL)
		snprintf(r->checkout, sizeof(r->checkout), "%s", rc->checkout);
	if (e == ERR_OK)
		e = rules_load(db, r->rules_version, r->ship_country,
			       r->bill_country, r->o);
	if (e == ERR_OK)
		apply_coupon(r);
	if (e == ERR_OK)
		e = pricing_compute(r->o);
	/* The cart payment first: placing turns it `new`. */
	if (e == ERR_OK)
		e = sync_payment(db, id, r, snap);
	if (e == ERR_OK && rc != NULL && rc->place != NULL)
		rc->placed =
		    !r->quote_expired && r->o->total == rc->place->expected;
	if (e == ERR_OK && rc != NULL && rc->placed)
		e = placed_states(r->checkout, rc->place, &to);
	if (e == ERR_OK)
		e = store_prices(db, id, r,
				 rc != NULL && rc->placed ? rc->place : NULL,
				 &to);
	/* The answer's snapshot: as read, with what was just written. */
	if (e == ERR_OK) {
		snapshot_set_prices(snap, r->o);
		snapshot_set_str(snap, "checkout_state", r->checkout);
		snapshot_set_time(snap, "updated_at", r->now);
		if (order_state_parse(r->state) == OS_CART)
			snapshot_set_time(snap, "expires_at", r->expires);
	}
	if (e == ERR_OK && rc != NULL && rc->placed)
		snapshot_placed(snap, rc->place, &to, r->now);
	if (e == ERR_OK && rc != NULL) {
		rc->snapshot = snap;
		memcpy(rc->applied, r->o->applied,
		       r->o->napplied * sizeof(r->o->applied[0]));
		rc->napplied = r->o->napplied;
		count_promotions(r, rc);
		rc->total = r->o->total;
		rc->quote_expired = r->quote_expired;
	}
	free(r->o);
	free(r);
	return e;
}

static const char sql_event[] =
    "INSERT INTO outbox_events (uuid, order_id, type, payload) VALUES "
    "(?, ?, ?, ?)";

enum err
order_event(struct db *db, int64_t id, const char *type,
	    struct json_object *snap)
{
	char uuid[37];
	struct db_val p[4];

	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(id);
	p[2] = DB_S(type);
	p[3] =
	    DB_S(json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN));
	return db_exec(db, sql_event, p, 4, NULL);
}

struct change_ctx {
	const struct cart_change *c;
	const struct creds *creds;
	struct pool *pool;
	order_answer_fn *answer;
	void *arg;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct change_out {
		struct verr v; /* errors kept in pool */
		struct json_object *snapshot;
	} out;
};

static enum err
change_run(struct db *db, struct change_ctx *c)
{
	struct json_object **snap = &c->out.snapshot;
	struct verr *v = &c->out.v;
	struct order_head h;
	enum err e;

	/* Adding reads the variant in the ownership check's statement. */
	e = c->c->op == CART_ADD
		? ERR_OK
		: order_authorize(db, c->c->id, c->creds, 1, &h);
	if (e != ERR_OK)
		return e;
	switch (c->c->op) {
	case CART_ADD:
		e = cart_authorize_add_item(db, c->pool, c->c->id, c->creds,
					    &c->c->line, v, snap);
		break;
	case CART_SET:
		e = cart_set_quantity(db, c->pool, &h, c->c->item_id,
				      c->c->line.quantity, v, snap);
		break;
	case CART_COUPON:
		e = cart_set_coupon(db, c->pool, &h, c->c->code, v, snap);
		break;
	}
	if (e == ERR_OK)
		c->answer(c->arg, *snap);
	return e;
}

static enum err
change_tx(struct db *db, void *arg)
{
	struct change_ctx *c = arg;
	enum err e = change_run(db, c);

	if (pool_keep_at(c->pool, &c->out.v.errors) != 0)
		return ERR_NOMEM;
	return e;
}

enum err
cart_change(struct db *db, struct pool *pool, const struct cart_change *c,
	    const struct creds *creds, struct verr *v, order_answer_fn *answer,
	    void *arg)
{
	struct change_ctx x = {
	    .c = c, .creds = creds, .pool = pool, .answer = answer, .arg = arg};
	enum err e = db_tx_out(db, pool, &x.out, sizeof(x.out), change_tx, &x);

	/* v gets a reference of its own (verr_answer hands it on). */
	verr_append(v, &x.out.v);
	return e;
}

struct create_ctx {
	const struct creds *creds;
	char *token;
	struct pool *pool;
	order_answer_fn *answer;
	void *arg;
	struct json_object *snapshot; /* zeroed before each run */
};

static enum err
create_tx(struct db *db, void *arg)
{
	struct create_ctx *c = arg;
	int64_t id = 0;
	enum err e;

	e = order_create(db, c->pool, c->creds, &id, c->token, &c->snapshot);
	if (e != ERR_OK)
		return e;
	c->answer(c->arg, c->snapshot);
	return ERR_OK;
}

enum err
cart_create(struct db *db, struct pool *pool, const struct creds *creds,
	    char *token, order_answer_fn *answer, void *arg)
{
	struct create_ctx c = {.creds = creds,
			       .token = token,
			       .pool = pool,
			       .answer = answer,
			       .arg = arg};

	return db_tx_out(db, pool, &c.snapshot, sizeof(c.snapshot), create_tx,
			 &c);
}
