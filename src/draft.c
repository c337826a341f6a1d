/*
 * Seed 002's drafts (draft.h). A seat goes into the caller's one live
 * draft (a cart whose seed002_owner is the caller's key); the same seat
 * twice and a price other than the catalog's are refused; a draft is
 * placed by place_cart, the walk every other path takes.
 */
#include "draft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "order.h"
#include "paystate.h"
#include "place.h"
#include "states.h"
#include "str.h"

enum err
draft_caller_init(struct draft_caller *c, const char *user, const char *guest)
{
	unsigned char h[32];
	size_t i;

	c->user = user != NULL && *user != '\0' ? user : NULL;
	c->guest = guest != NULL && *guest != '\0' ? guest : NULL;
	c->key[0] = '\0';
	if (c->user != NULL && strlen(c->user) <= 255) {
		snprintf(c->key, sizeof(c->key), "u:%s", c->user);
		return ERR_OK;
	}
	if (c->guest != NULL && strlen(c->guest) <= 255) {
		sha256(c->guest, strlen(c->guest), h);
		memcpy(c->key, "g:", 2);
		for (i = 0; i < 32; i++)
			snprintf(c->key + 2 + 2 * i, 3, "%02x", h[i]);
		return ERR_OK;
	}
	return ERR_UNAUTHENTICATED;
}

/* The draft's order, from its id. */
static const char sql_obj[] =
    "SELECT o.uuid, o.total, o.state, o.payment_state, "
    "DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%sZ'), (SELECT "
    "DATE_FORMAT(MAX(p.updated_at), '%Y-%m-%dT%H:%i:%sZ') FROM payments p "
    "WHERE p.order_id = o.id AND p.state = ?) FROM orders o WHERE o.id = "
    "?";
/* A seat's price is its line's total (draft_item). */
static const char sql_obj_items[] =
    "SELECT i.uuid, v.uuid, i.total FROM order_items i JOIN "
    "product_variants v ON v.id = i.variant_id WHERE i.order_id = ? ORDER "
    "BY i.id";

/* A view being read, and the pool its items go to. */
struct view_read {
	struct draft_view *v;
	struct pool *pool;
};

static enum err
view_row(void *arg, const struct db_val *c, size_t n)
{
	struct draft_view *v = arg;

	static const enum draft_state of[] = {[PHASE_OPEN] = DRAFT_OPEN,
					      [PHASE_PLACED] = DRAFT_PENDING,
					      [PHASE_PAID] = DRAFT_COMPLETED,
					      [PHASE_CANCELLED] =
						  DRAFT_CANCELLED};

	if (n != 6)
		return ERR_INTERNAL;
	v->state = of[order_phase(c[2].s, c[3].s)];
	snprintf(v->id, sizeof(v->id), "%s", c[0].s);
	v->total = c[1].i;
	snprintf(v->created_at, sizeof(v->created_at), "%s", c[4].s);
	snprintf(v->paid_at, sizeof(v->paid_at), "%s",
		 c[5].type == DB_STR ? c[5].s : "");
	return ERR_OK;
}

static enum err
view_item(void *arg, const struct db_val *c, size_t n)
{
	struct view_read *r = arg;
	struct draft_view *v = r->v;
	struct draft_item *items, *it;

	if (n != 3)
		return ERR_INTERNAL;
	items = pool_grow(r->pool, v->items, (v->nitems + 1) * sizeof(*items));
	if (items == NULL)
		return ERR_NOMEM;
	v->items = items;
	it = &items[v->nitems++];
	snprintf(it->id, sizeof(it->id), "%s", c[0].s);
	snprintf(it->seat, sizeof(it->seat), "%s", c[1].s);
	it->price = c[2].i;
	return ERR_OK;
}

/* The view of order id into *v (empty: a db_tx_out output), its items
 * kept in pool. */
static enum err
view_load(struct db *db, struct pool *pool, int64_t id, struct draft_view *v)
{
	struct db_val p[2] = {DB_S(pay_state_names[PS_COMPLETED]), DB_I(id)};
	struct view_read r = {v, pool};
	enum err e;

	e = db_query(db, sql_obj, p, 2, view_row, v);
	p[0] = p[1];
	if (e == ERR_OK)
		e = db_query(db, sql_obj_items, p, 1, view_item, &r);
	return e;
}

/* Adding a seat. */

struct add {
	const struct draft_caller *c;
	const struct draft_seat *s;
	int64_t variant, catalog;
	struct pool *pool;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct add_out {
		enum err refusal; /* with the work committed or rolled back */
		struct draft_view view;
		struct verr v; /* errors kept in pool */
	} out;
};

static const char sql_seat[] =
    "SELECT v.id, v.price FROM product_variants v JOIN products p ON p.id = "
    "v.product_id WHERE v.uuid = ? AND v.tracked = 1 AND v.enabled = 1 AND "
    "p.enabled = 1";
static const char sql_draft[] =
    "SELECT id FROM orders WHERE seed002_owner = ? AND state = ? AND "
    "expires_at > UTC_TIMESTAMP() ORDER BY id DESC LIMIT 1";
static const char sql_own[] =
    "UPDATE orders SET seed002_owner = ?, email = ? WHERE id = ?";
static const char sql_in_cart[] =
    "SELECT COUNT(*) FROM order_items WHERE order_id = ? AND variant_id = ?";
static const char sql_reservation[] =
    "UPDATE order_items SET reservation_id = ? WHERE order_id = ? AND "
    "variant_id = ?";

static enum err
add_tx(struct db *db, void *arg)
{
	struct add *a = arg;
	struct order_head h;
	int64_t id = 0, twice = 0;
	char token[ORDER_TOKEN_LEN + 1], ref[24], email[300];
	struct creds none = {0};
	struct db_val p[3];
	enum err e;

	p[0] = DB_S(a->c->key);
	p[1] = DB_S(order_state_names[OS_CART]);
	e = db_query(db, sql_draft, p, 2, db_row_int, &id);
	if (e == ERR_OK && id == 0) {
		/* The seed knows no email: an address nobody receives at,
		 * which completion asks of every guest order. */
		snprintf(email, sizeof(email), "%s@seed002.invalid",
			 a->c->user != NULL ? "user" : "guest");
		e = order_create(db, a->pool, &none, &id, token, NULL);
		p[0] = DB_S(a->c->key);
		p[1] = DB_S(email);
		p[2] = DB_I(id);
		if (e == ERR_OK)
			e = db_exec(db, sql_own, p, 3, NULL);
	}
	if (e == ERR_OK)
		e = order_head_load(db, id, &h);
	p[0] = DB_I(id);
	p[1] = DB_I(a->variant);
	if (e == ERR_OK)
		e = db_query(db, sql_in_cart, p, 2, db_row_int, &twice);
	if (e != ERR_OK)
		return e;
	if (twice > 0) {
		a->out.refusal = ERR_ALREADY_IN_CART;
		return ERR_OK;
	}
	snprintf(ref, sizeof(ref), "%lld", (long long)a->variant);
	e = cart_add_item(db, a->pool, &h, ref, 1, &a->out.v, NULL);
	if (pool_keep_at(a->pool, &a->out.v.errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_VALIDATION_FAILED) {
		/* The only check a seat fails here is its stock. */
		a->out.refusal = ERR_OUT_OF_STOCK;
		return e; /* rolls back */
	}
	p[0] = a->s->reservation ? DB_S(a->s->reservation) : DB_N;
	p[1] = DB_I(id);
	p[2] = DB_I(a->variant);
	if (e == ERR_OK)
		e = db_exec(db, sql_reservation, p, 3, NULL);
	if (e == ERR_OK)
		e = view_load(db, a->pool, id, &a->out.view);
	if (e == ERR_OK && a->c->answer != NULL)
		a->c->answer(a->c->answer_arg, a->c, &a->out.view);
	return e;
}

static enum err
seat_row(void *arg, const struct db_val *c, size_t n)
{
	struct add *a = arg;

	if (n != 2)
		return ERR_INTERNAL;
	a->variant = c[0].i;
	a->catalog = c[1].i;
	return ERR_OK;
}

enum err
draft_add(struct db *db, struct pool *pool, const struct draft_caller *c,
	  const struct draft_seat *s)
{
	struct add a = {.c = c, .s = s, .pool = pool};
	struct db_val p = DB_S(s->seat);
	enum err e = ERR_OK;

	if (strlen(s->seat) == 36)
		e = db_query(db, sql_seat, &p, 1, seat_row, &a);
	if (e != ERR_OK)
		return e;
	if (a.variant == 0)
		return ERR_UNKNOWN_ITEM;
	if (s->price != a.catalog)
		return ERR_PRICE_MISMATCH;
	e = db_tx_out(db, pool, &a.out, sizeof(a.out), add_tx, &a);
	if (a.out.refusal != ERR_OK &&
	    (e == ERR_OK || e == ERR_VALIDATION_FAILED))
		e = a.out.refusal;
	return e;
}

/* Placing a draft. */

struct co {
	const struct draft_caller *c;
	const char *order;
	struct pool *pool;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct co_out {
		enum err refusal; /* with the work committed or rolled back */
		struct draft_view view;
		struct verr v;	      /* errors kept in pool */
		struct step_out step; /* its trees kept in pool */
	} out;
};

static const char sql_order[] =
    "SELECT id, COALESCE(seed002_owner, ''), state FROM orders WHERE uuid "
    "= ? FOR UPDATE";

struct found {
	int64_t id;
	char owner[DRAFT_KEY_LEN], state[24];
};

static enum err
found_row(void *arg, const struct db_val *c, size_t n)
{
	struct found *f = arg;

	if (n != 3)
		return ERR_INTERNAL;
	f->id = c[0].i;
	snprintf(f->owner, sizeof(f->owner), "%s", c[1].s);
	snprintf(f->state, sizeof(f->state), "%s", c[2].s);
	return ERR_OK;
}

static enum err
checkout_tx(struct db *db, void *arg)
{
	struct co *c = arg;
	struct db_val p = DB_S(c->order);
	struct found f = {0};
	struct place_req r = {.guard_total = 1};
	enum err e;

	e = db_query(db, sql_order, &p, 1, found_row, &f);
	if (e != ERR_OK)
		return e;
	if (f.id == 0 || f.owner[0] == '\0')
		c->out.refusal = ERR_NOT_FOUND;
	else if (strcmp(f.owner, c->c->key) != 0)
		c->out.refusal = ERR_NOT_OWNER;
	else if (order_state_parse(f.state) != OS_CART)
		c->out.refusal = ERR_INVALID_TRANSITION;
	if (c->out.refusal != ERR_OK)
		return ERR_OK;
	e = place_cart(db, c->pool, f.id, &r, &c->out.v, &c->out.step);
	if (pool_keep_at(c->pool, &c->out.v.errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_OUT_OF_STOCK) {
		c->out.refusal = ERR_OUT_OF_STOCK;
		return e; /* rolls back: the draft stays a draft */
	}
	if (e == ERR_OK && c->out.step.total_changed) {
		/* The new price is committed with the draft. */
		c->out.refusal = ERR_TOTAL_CHANGED;
		return ERR_OK;
	}
	if (e == ERR_OK)
		e = view_load(db, c->pool, f.id, &c->out.view);
	if (e == ERR_OK && c->c->answer != NULL)
		c->c->answer(c->c->answer_arg, c->c, &c->out.view);
	return e;
}

enum err
draft_checkout(struct db *db, struct pool *pool, const struct draft_caller *c,
	       const char *order)
{
	struct co co = {.c = c, .order = order, .pool = pool};
	enum err e;

	if (order == NULL || strlen(order) != 36)
		return ERR_NOT_FOUND;
	e = db_tx_out(db, pool, &co.out, sizeof(co.out), checkout_tx, &co);
	if (co.out.refusal != ERR_OK && (e == ERR_OK || e == ERR_OUT_OF_STOCK))
		e = co.out.refusal;
	return e;
}
