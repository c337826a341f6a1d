/*
 * Seed 001's accounts and checkouts (account.h). A token is found by its
 * SHA-256; a product is sold by its provider's account, and a checkout's
 * items must share theirs; the checkout is a cart made by order_create
 * and filled by cart_add_item, the walk every other cart takes.
 */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart.h"
#include "catalog.h"
#include "order.h"
#include "states.h"
#include "str.h"

static const char sql_token[] =
    "SELECT account_id FROM oauth_tokens WHERE token_sha256 = ? AND "
    "expires_at > UTC_TIMESTAMP()";

enum err
account_token_check(struct db *db, int64_t account, const char *token)
{
	unsigned char h[32];
	int64_t owner = 0;
	struct db_val p;
	enum err e;

	if (*token == '\0')
		return ERR_UNAUTHENTICATED;
	sha256(token, strlen(token), h);
	p = DB_B((const char *)h, 32);
	e = db_query(db, sql_token, &p, 1, db_row_int, &owner);
	if (e != ERR_OK)
		return e;
	if (owner == 0 || owner != account)
		return ERR_UNAUTHENTICATED;
	return ERR_OK;
}

enum err
account_checkout_add(struct db *db, struct account_checkout *c, int64_t product,
		     int64_t quantity)
{
	struct sole_variant sole;
	enum err e;

	if (c->n >= ACCOUNT_MAX_ITEMS)
		return ERR_PAYLOAD_TOO_LARGE;
	/* One enabled variant, sold by a provider's account. */
	e = catalog_sole_variant(db, NULL, product, &sole);
	if (e == ERR_NOT_FOUND || (e == ERR_OK && sole.seller == 0))
		return ERR_UNKNOWN_ITEM;
	if (e != ERR_OK)
		return e;
	if (c->seller != 0 && c->seller != sole.seller)
		return ERR_MIXED_SELLERS;
	c->seller = sole.seller;
	c->items[c->n].product = product;
	c->items[c->n].variant = sole.variant;
	c->items[c->n].quantity = quantity;
	c->n++;
	return ERR_OK;
}

/* The view of a checkout. */

static const char sql_account[] =
    "SELECT id, name, CAST(COALESCE(global_type, '0') AS SIGNED) FROM "
    "accounts WHERE id = ?";
static const char sql_head[] =
    "SELECT o.items_total, o.tax_total, o.total, o.currency, "
    "CAST(UNIX_TIMESTAMP(o.created_at) AS SIGNED) * 1000, o.state, "
    "o.payment_state, o.seed001_service, o.seed001_payment_token FROM "
    "orders o WHERE o.id = ?";
static const char sql_lines[] =
    "SELECT i.id, p.id, p.name, v.price, i.quantity, i.total, "
    "CAST(v.tax_category_id IS NOT NULL AS SIGNED) FROM order_items i JOIN "
    "product_variants v ON v.id = i.variant_id JOIN products p ON p.id = "
    "v.product_id WHERE i.order_id = ? ORDER BY i.id";
static const char sql_taxes[] =
    "SELECT a.order_item_id, r.id, CAST(r.bp AS SIGNED), r.name, a.amount "
    "FROM adjustments a JOIN tax_rates r ON r.id = a.origin_id WHERE "
    "a.order_id = ? AND a.type = 'tax' AND a.order_item_id IS NOT NULL "
    "ORDER BY a.id";

/* A view being read: its strings and arrays go to pool. */
struct view_read {
	struct pool *pool;
	struct account_view *v;
	struct account_ref *a; /* the account account_row reads */
};

static enum err
account_row(void *arg, const struct db_val *c, size_t n)
{
	struct view_read *r = arg;
	struct account_ref *a = r->a;

	if (n != 3)
		return ERR_INTERNAL;
	a->name = pool_strdup(r->pool, c[1].s);
	if (a->name == NULL)
		return ERR_NOMEM;
	a->found = 1;
	a->id = c[0].i;
	a->global_type = c[2].type == DB_I64 ? c[2].i : 0;
	return ERR_OK;
}

static enum err
head_row(void *arg, const struct db_val *c, size_t n)
{
	struct view_read *r = arg;
	struct account_view *v = r->v;

	static const enum account_checkout_state of[] = {
	    [PHASE_OPEN] = ACCOUNT_CHECKOUT_OPEN,
	    [PHASE_PLACED] = ACCOUNT_CHECKOUT_PLACED,
	    [PHASE_PAID] = ACCOUNT_CHECKOUT_PAID,
	    [PHASE_CANCELLED] = ACCOUNT_CHECKOUT_CANCELLED};

	if (n != 9)
		return ERR_INTERNAL;
	v->state = of[order_phase(c[5].s, c[6].s)];
	v->items_total = c[0].i;
	v->tax_total = c[1].i;
	v->total = c[2].i;
	snprintf(v->currency, sizeof(v->currency), "%s", c[3].s);
	v->created_ms = c[4].i;
	v->has_service = c[7].type == DB_I64;
	v->service = v->has_service ? c[7].i : 0;
	v->payment_token = NULL;
	if (c[8].type == DB_STR) {
		v->payment_token = pool_strdup(r->pool, c[8].s);
		if (v->payment_token == NULL)
			return ERR_NOMEM;
	}
	return ERR_OK;
}

static enum err
line_row(void *arg, const struct db_val *c, size_t n)
{
	struct view_read *r = arg;
	struct account_view *v = r->v;
	struct account_line *lines, *l;

	if (n != 7)
		return ERR_INTERNAL;
	lines = pool_grow(r->pool, v->lines, (v->nlines + 1) * sizeof(*lines));
	if (lines == NULL)
		return ERR_NOMEM;
	v->lines = lines;
	l = &lines[v->nlines++];
	memset(l, 0, sizeof(*l));
	l->item = c[0].i;
	l->product = c[1].i;
	l->price = c[3].i;
	l->quantity = c[4].i;
	l->amount = c[5].i;
	l->taxable = c[6].i != 0;
	l->name = pool_strdup(r->pool, c[2].s);
	return l->name != NULL ? ERR_OK : ERR_NOMEM;
}

static enum err
tax_row(void *arg, const struct db_val *c, size_t n)
{
	struct view_read *r = arg;
	struct account_view *v = r->v;
	struct account_tax *taxes, *t;
	size_t i;

	if (n != 5)
		return ERR_INTERNAL;
	for (i = 0; i < v->nlines; i++) {
		struct account_line *l = &v->lines[i];

		if (l->item != c[0].i)
			continue;
		taxes = pool_grow(r->pool, l->taxes,
				  (l->ntaxes + 1) * sizeof(*taxes));
		if (taxes == NULL)
			return ERR_NOMEM;
		l->taxes = taxes;
		t = &taxes[l->ntaxes++];
		t->rate = c[1].i;
		t->bp = c[2].i;
		t->amount = c[4].i;
		t->name = pool_strdup(r->pool, c[3].s);
		if (t->name == NULL)
			return ERR_NOMEM;
		l->has_tax_rate = 1;
		l->tax_rate = c[1].i;
		l->tax += c[4].i;
	}
	return ERR_OK;
}

/* The view of order id, bought by buyer from seller, into *v (empty: a
 * db_tx_out output), what it points to kept in pool. */
static enum err
view_load(struct db *db, struct pool *pool, int64_t id, int64_t buyer,
	  int64_t seller, struct account_view *v)
{
	struct view_read r = {pool, v, &v->buyer};
	struct db_val p = DB_I(buyer);
	enum err e;

	v->id = id;
	e = db_query(db, sql_account, &p, 1, account_row, &r);
	p = DB_I(seller);
	r.a = &v->seller;
	if (e == ERR_OK)
		e = db_query(db, sql_account, &p, 1, account_row, &r);
	p = DB_I(id);
	if (e == ERR_OK)
		e = db_query(db, sql_head, &p, 1, head_row, &r);
	if (e == ERR_OK)
		e = db_query(db, sql_lines, &p, 1, line_row, &r);
	if (e == ERR_OK)
		e = db_query(db, sql_taxes, &p, 1, tax_row, &r);
	return e;
}

/* Opening a checkout. */

struct create {
	const struct account_checkout *c;
	struct pool *pool;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct create_out {
		enum err refusal; /* with the work rolled back */
		struct account_view view;
		struct verr v; /* errors kept in pool */
	} out;
};

static const char sql_own[] =
    "UPDATE orders SET seed001_account_id = ?, seed001_service = ?, "
    "seed001_payment_token = ? WHERE id = ?";

static enum err
create_tx(struct db *db, void *arg)
{
	struct create *a = arg;
	const struct account_checkout *c = a->c;
	struct creds none = {0};
	struct order_head h;
	char token[ORDER_TOKEN_LEN + 1], ref[24];
	struct db_val p[4];
	int64_t order = 0;
	enum err e;
	size_t i;

	e = order_create(db, a->pool, &none, &order, token, NULL);
	p[0] = DB_I(c->buyer);
	p[1] = c->has_service ? DB_I(c->service) : DB_N;
	p[2] = c->payment_token ? DB_S(c->payment_token) : DB_N;
	p[3] = DB_I(order);
	if (e == ERR_OK)
		e = db_exec(db, sql_own, p, 4, NULL);
	for (i = 0; e == ERR_OK && i < c->n; i++) {
		snprintf(ref, sizeof(ref), "%lld",
			 (long long)c->items[i].variant);
		e = order_head_load(db, order, &h);
		if (e == ERR_OK)
			e = cart_add_item(db, a->pool, &h, ref,
					  c->items[i].quantity, &a->out.v,
					  NULL);
	}
	if (pool_keep_at(a->pool, &a->out.v.errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_VALIDATION_FAILED) {
		/* The only check an item fails here is its stock. */
		a->out.refusal = ERR_OUT_OF_STOCK;
		return e; /* rolls back */
	}
	if (e == ERR_OK)
		e = view_load(db, a->pool, order, c->buyer, c->seller,
			      &a->out.view);
	if (e == ERR_OK && c->answer != NULL)
		c->answer(c->answer_arg, &a->out.view);
	return e;
}

enum err
account_checkout_create(struct db *db, struct pool *pool,
			const struct account_checkout *c)
{
	struct create a = {.c = c, .pool = pool};
	enum err e;

	e = db_tx_out(db, pool, &a.out, sizeof(a.out), create_tx, &a);
	if (a.out.refusal != ERR_OK &&
	    (e == ERR_OK || e == ERR_VALIDATION_FAILED))
		e = a.out.refusal;
	return e;
}
