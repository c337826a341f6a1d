/*
 * The processor chain's run over an order (SPEC 1, "Pricing"): the order
 * read with the snapshot's query (src/snapshot.c), the rules of now
 * (src/rules.c), the chain (src/pricing.c), and what it computed stored
 * (prices, adjustments, totals, line counts, the cart payment's amount);
 * placing the order (completion) in the same UPDATE.
 */
#include "recompute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkout.h"
#include "config.h"
#include "paystate.h"
#include "rules.h"
#include "states.h"
#include "str.h"

int64_t
adjustments_digest(const char *s)
{
	unsigned char h[32];
	uint64_t d = 0;
	size_t i;

	sha256(s, strlen(s), h);
	for (i = 0; i < 8; i++)
		d = d << 8 | h[i];
	return (int64_t)d;
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
	int64_t digest, none = adjustments_digest("[]"), shipping_lines = 0;
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
	digest = adjustments_digest(json);
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
