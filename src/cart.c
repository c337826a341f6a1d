/*
 * Carts and their lines: a new cart, a line added (the variant read, its
 * stock checked), a quantity changed, a coupon applied, and the cart's
 * checkout sent back to `addressed` when its contents change; each change
 * runs the chain again (src/recompute.c). cart_change and cart_create are
 * the canonical API's transactions around them.
 */
#include "cart.h"

#include <stdio.h>
#include <string.h>

#include "checkout.h"
#include "config.h"
#include "customer.h"
#include "recompute.h"
#include "states.h"
#include "str.h"

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
	p[5] = DB_I(adjustments_digest("[]"));
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

/* Adding an item: the order row locked (kind 0) and the variant (kind 1)
 * in one statement; only the order's part locks. Parameters: the order
 * id, the order id again, the variant's id or code. */
/* clang-format off */
#define NULL7 "NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define SQL_OWNER_VARIANT						\
    "(SELECT 0, " SQL_ORDER_READ_COLS ", " NULL7			\
    " FROM orders o WHERE o.id = ? FOR UPDATE) UNION ALL "		\
    "(SELECT 1, " NULL7 ", " NULL7 ", " SQL_VARIANT_COLS SQL_VARIANT_FROM
/* clang-format on */
static const char sql_owner_variant_id[] = SQL_OWNER_VARIANT "v.id = ?)";
static const char sql_owner_variant_code[] = SQL_OWNER_VARIANT "v.code = ?)";

/* The order's row and the variant, read by one statement. */
struct owner_variant {
	struct order_read o;
	struct variant *v;
};

/* A row of sql_owner_variant_*. */
static enum err
owner_variant_row(void *arg, const struct db_val *c, size_t n)
{
	struct owner_variant *ov = arg;

	if (n != 1 + ORDER_READ_COLS + 7 || c[0].type != DB_I64)
		return ERR_INTERNAL;
	return c[0].i == 0 ? order_read_row(&ov->o, c + 1, ORDER_READ_COLS)
			   : variant_row(ov->v, c + 1 + ORDER_READ_COLS, 7);
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
	struct owner_variant ov = {.o = {.h = &h}, .v = &v};
	struct db_val p[3] = {DB_I(id), DB_I(id)};
	int by_id = db_ref(line->variant, &p[2]);
	enum err e;

	e = order_authorize_read(
	    db, id, c, by_id ? sql_owner_variant_id : sql_owner_variant_code, p,
	    3, owner_variant_row, &ov, &ov.o);
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
