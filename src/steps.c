#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "checkout.h"
#include "order.h"
#include "order_number.h"
#include "paystate.h"
#include "pricing.h"
#include "recompute.h"
#include "states.h"
#include "stock.h"
#include "str.h"
#include "usage.h"

static const char sql_set_state[] =
    "UPDATE orders SET checkout_state = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

static enum err
set_state(struct db *db, int64_t id, enum checkout_state s)
{
	struct db_val p[2] = {DB_S(checkout_state_names[s]), DB_I(id)};

	return db_exec(db, sql_set_state, p, 2, NULL);
}

/* 409 invalid_transition with the state and what may be done in it. */
static enum err
refuse(struct pool *pool, struct step_out *out, const char *state)
{
	enum checkout_state s = checkout_state_parse(state);

	out->extra = pool_keep(pool, json_object_new_object());
	if (out->extra == NULL)
		return ERR_NOMEM;
	json_object_object_add(out->extra, "checkout_state",
			       json_object_new_string(state));
	json_object_object_add(out->extra, "allowed_steps",
			       checkout_allowed_steps(s));
	return ERR_INVALID_TRANSITION;
}

enum err
step_refuse(struct pool *pool, const struct order_head *o, struct step_out *out)
{
	return refuse(pool, out, o->checkout);
}

/* Whether the order is a cart whose checkout state allows t. */
static int
may(const struct order_head *o, enum transition t)
{
	return order_state_parse(o->state) == OS_CART &&
	       checkout_can(checkout_state_parse(o->checkout), t, NULL);
}

/* Moves o's checkout state by t, refusing when the table says no. Only o
 * changes: the chain that follows (auto_skip) writes the state. */
static enum err
advance(struct pool *pool, struct order_head *o, enum transition t,
	struct step_out *out)
{
	enum checkout_state to;

	if (order_state_parse(o->state) != OS_CART ||
	    !checkout_can(checkout_state_parse(o->checkout), t, &to))
		return refuse(pool, out, o->checkout);
	snprintf(o->checkout, sizeof(o->checkout), "%s",
		 checkout_state_names[to]);
	return ERR_OK;
}

/* Applies t from the order's state and writes it. */
static enum err
apply(struct db *db, struct pool *pool, int64_t id, struct order_head *o,
      enum transition t, struct step_out *out)
{
	enum err e = advance(pool, o, t, out);

	return e == ERR_OK
		   ? set_state(db, id, checkout_state_parse(o->checkout))
		   : e;
}

/*
 * After address and select_shipping (whose new state is in o, not yet
 * written): skip shipping when nothing needs it and payment when the total
 * is 0 (SPEC 1). Skips change no price, so the chain runs once, and writes
 * the state with the totals.
 */
static enum err
auto_skip(struct db *db, struct pool *pool, int64_t id, struct order_head *o,
	  int64_t shipping, struct step_out *out)
{
	struct recompute rc = {.checkout = o->checkout};
	enum checkout_state to;
	enum err e = ERR_OK;

	if (shipping == 0 && checkout_can(checkout_state_parse(o->checkout),
					  T_SKIP_SHIPPING, &to))
		e = advance(pool, o, T_SKIP_SHIPPING, out);
	if (e == ERR_OK)
		e = order_recompute(db, pool, id, &rc);
	if (e == ERR_OK)
		o->total = rc.total;
	/* Skipping payment writes the state again: the answer reads it. */
	out->snapshot = rc.snapshot;
	if (e == ERR_OK && o->total == 0 &&
	    checkout_can(checkout_state_parse(o->checkout), T_SKIP_PAYMENT,
			 &to)) {
		out->snapshot = NULL; /* read again for the answer */
		e = apply(db, pool, id, o, T_SKIP_PAYMENT, out);
	}
	return e;
}

/* The opening of a step: 409 unless the order is a cart whose state
 * allows t. */
static enum err
begin(struct pool *pool, const struct order_head *o, enum transition t,
      struct step_out *out)
{
	out->snapshot = NULL; /* read again for the answer */
	return may(o, t) ? ERR_OK : refuse(pool, out, o->checkout);
}

/* Addressing. */

/* The most characters of each part, and which are required. */
static const struct {
	size_t max;
	int required;
} addr_rules[ADDR__MAX] = {
    [ADDR_FIRST_NAME] = {255, 1}, [ADDR_LAST_NAME] = {255, 1},
    [ADDR_COMPANY] = {255, 0},	  [ADDR_STREET] = {255, 1},
    [ADDR_CITY] = {255, 1},	  [ADDR_POSTCODE] = {32, 1},
    [ADDR_COUNTRY] = {2, 1},	  [ADDR_PROVINCE] = {32, 0},
    [ADDR_PHONE] = {32, 0},
};

/* Checks a (field base and its parts) into v; the shape's errors first. */
static void
check_address(const struct address *a, enum field base, struct verr *v)
{
	const struct text *country = &a->part[ADDR_COUNTRY];
	int country_ok = 0;
	char code[3];
	size_t i;

	verr_append(v, &a->shape);
	if (a->has != ADDRESS_GIVEN)
		return;
	for (i = 0; i < ADDR__MAX; i++) {
		int ok = valid_text(&a->part[i], base + 1 + i,
				    addr_rules[i].max, v) == 0;

		if (ok && !a->part[i].given && addr_rules[i].required)
			verr_core(v, base + 1 + i, V_REQUIRED, 0);
		if (i == ADDR_COUNTRY)
			country_ok = ok && country->given;
	}
	/* An assigned ISO 3166-1 alpha-2 code (the text is 1 or 2 bytes). */
	if (!country_ok)
		return;
	snprintf(code, sizeof(code), "%.*s", (int)country->len, country->s);
	if (!valid_country(code))
		verr_core(v, base + 1 + ADDR_COUNTRY, V_COUNTRY, 0);
}

/* The shipping and billing addresses in one statement (or the billing
 * one alone), their ids in that order. */
#define SQL_INS_ADDR                                                           \
	"INSERT INTO addresses (first_name, last_name, company, street, "      \
	"city, postcode, country_code, province_code, phone) VALUES (?, ?, "   \
	"?, ?, ?, ?, ?, ?, ?)"
static const char sql_ins_addr[] = SQL_INS_ADDR " RETURNING id";
static const char sql_ins_addrs[] =
    SQL_INS_ADDR ", (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char sql_set_addr[] =
    "UPDATE orders SET shipping_address_id = ?, billing_address_id = ?, "
    "ship_country = ?, bill_country = ?, email = COALESCE(?, email) WHERE "
    "id = ?";
static const char sql_del_addr[] = "DELETE FROM addresses WHERE id = ?";
static const char sql_customer_email[] =
    "UPDATE orders o JOIN customers c ON c.id = o.customer_id SET "
    "o.email = c.email WHERE o.id = ? AND o.email IS NULL";

struct addr_ids {
	int64_t id[2];
	size_t n;
};

static enum err
addr_id_row(void *arg, const struct db_val *c, size_t n)
{
	struct addr_ids *a = arg;

	if (n != 1 || c[0].type != DB_I64 || a->n == 2)
		return ERR_INTERNAL;
	a->id[a->n++] = c[0].i;
	return ERR_OK;
}

/* Inserts ship (when not NULL) and bill; *sid and *bid get their ids. */
static enum err
insert_addresses(struct db *db, const struct address *ship,
		 const struct address *bill, int64_t *sid, int64_t *bid)
{
	const struct address *a[2] = {ship != NULL ? ship : bill, bill};
	size_t i, k, n = ship != NULL ? 2 : 1;
	struct addr_ids ids = {{0, 0}, 0};
	struct db_val p[18];
	enum err e;

	for (k = 0; k < n; k++)
		for (i = 0; i < ADDR__MAX; i++)
			p[k * ADDR__MAX + i] =
			    a[k]->part[i].s != NULL
				? DB_B(a[k]->part[i].s, a[k]->part[i].len)
				: DB_N;
	e = db_query(db, n == 2 ? sql_ins_addrs : sql_ins_addr, p,
		     n * ADDR__MAX, addr_id_row, &ids);
	if (e == ERR_OK && ids.n != n)
		e = ERR_INTERNAL;
	*sid = n == 2 ? ids.id[0] : 0;
	*bid = ids.id[n - 1];
	return e;
}

static const char sql_shipments[] =
    "SELECT id, method_id FROM shipments WHERE order_id = ? ORDER BY id "
    "LIMIT 1";
static const char sql_ins_shipment[] =
    "INSERT INTO shipments (uuid, order_id) VALUES (?, ?)";
static const char sql_del_shipments[] =
    "DELETE FROM shipments WHERE order_id = ?";
static const char sql_set_method[] =
    "UPDATE shipments SET method_id = ?, carrier_quote_id = NULL WHERE "
    "order_id = ?";
/* A carrier quote was for the old address: never kept. */
static const char sql_method_eligible[] =
    "SELECT m.id FROM shipping_methods m JOIN zone_countries z ON "
    "z.zone_id = m.zone_id WHERE m.id = ? AND m.enabled = 1 AND "
    "m.calculator <> 'carrier' AND z.country_code = ?";

/* One shipment for an order with something to ship; its method is kept
 * only when still eligible for the new address (SPEC 1). */
static enum err
propose_shipment(struct db *db, int64_t id, const char *country,
		 int64_t shipping, int first)
{
	struct db_val p[2] = {DB_I(id)};
	int64_t s[2] = {0, 0}, ok = 0;
	char uuid[37];
	enum err e;

	if (shipping == 0)
		return first ? ERR_OK
			     : db_exec(db, sql_del_shipments, p, 1, NULL);
	/* Shipments are made here only: an order never addressed has none. */
	e = first ? ERR_OK
		  : db_query(db, sql_shipments, p, 1, db_row_two_ints, s);
	if (e != ERR_OK)
		return e;
	if (s[0] == 0) {
		if (uuid_v4(uuid) != 0)
			return ERR_INTERNAL;
		p[0] = DB_S(uuid);
		p[1] = DB_I(id);
		return db_exec(db, sql_ins_shipment, p, 2, NULL);
	}
	if (s[1] == 0)
		return ERR_OK;
	p[0] = DB_I(s[1]);
	p[1] = DB_S(country);
	e = db_query(db, sql_method_eligible, p, 2, db_row_int, &ok);
	if (e != ERR_OK || ok != 0)
		return e;
	p[0] = DB_N;
	p[1] = DB_I(id);
	return db_exec(db, sql_set_method, p, 2, NULL);
}

/* A checked country's code as a string ("" when none). */
static void
country_of(const struct address *a, char out[3])
{
	const struct text *c = &a->part[ADDR_COUNTRY];

	snprintf(out, 3, "%.*s", c->s != NULL ? (int)c->len : 0,
		 c->s != NULL ? c->s : "");
}

/* Opens a step: refused (409) unless the state allows t; then what the
 * dialect refused decoding in (422). */
static enum err
begin_with(struct pool *pool, const struct order_head *o, enum transition t,
	   const struct step_in *in, struct verr *v, struct step_out *out)
{
	enum err e = begin(pool, o, t, out);

	if (e == ERR_OK)
		verr_append(v, &in->decoded);
	return e;
}

enum err
step_address(struct db *db, struct pool *pool, struct order_head *o,
	     const struct step_in *in, struct verr *v, struct step_out *out)
{
	const struct address *ship =
	    in->ship.has != ADDRESS_ABSENT ? &in->ship : NULL;
	const struct address *bill =
	    in->bill.has != ADDRESS_ABSENT ? &in->bill : NULL;
	int64_t id = o->id, shipping = o->shipping_lines, sid = 0, bid = 0;
	char ship_country[3], bill_country[3];
	struct db_val p[6];
	enum err e;

	e = begin_with(pool, o, T_ADDRESS, in, v, out);
	if (e != ERR_OK)
		return e;
	if (ship != NULL)
		check_address(ship, F_SHIP_ADDRESS, v);
	if (bill != NULL)
		check_address(bill, F_BILL_ADDRESS, v);
	if (ship == NULL && shipping > 0)
		verr_core(v, F_SHIP_ADDRESS, V_NEEDS_SHIPPING, 0);
	if (ship == NULL && bill == NULL && shipping == 0)
		verr_core(v, F_BILL_ADDRESS, V_REQUIRED, 0);
	if (valid_text(&in->email, F_EMAIL, 254, v) == 0 && in->email.given &&
	    !valid_email(in->email.s))
		verr_core(v, F_EMAIL, V_EMAIL, 0);
	if (o->lines == 0)
		verr_core(v, F_ITEMS, V_CART_EMPTY, 0);
	if (v->errors != NULL)
		return ERR_VALIDATION_FAILED;
	e = insert_addresses(db, ship, bill != NULL ? bill : ship, &sid, &bid);
	country_of(ship != NULL ? ship : bill, ship_country);
	country_of(bill != NULL ? bill : ship, bill_country);
	p[0] = DB_ID(sid);
	p[1] = DB_I(bid);
	p[2] = ship != NULL ? DB_S(ship_country) : DB_N;
	p[3] = DB_S(bill_country);
	p[4] = in->email.given ? DB_B(in->email.s, in->email.len) : DB_N;
	p[5] = DB_I(id);
	if (e == ERR_OK)
		e = db_exec(db, sql_set_addr, p, 6, NULL);
	/* The old addresses are nobody's now. */
	if (e == ERR_OK && o->ship_addr != 0) {
		p[0] = DB_I(o->ship_addr);
		e = db_exec(db, sql_del_addr, p, 1, NULL);
	}
	if (e == ERR_OK && o->bill_addr != 0) {
		p[0] = DB_I(o->bill_addr);
		e = db_exec(db, sql_del_addr, p, 1, NULL);
	}
	if (e == ERR_OK && o->customer != 0) {
		p[0] = DB_I(id);
		e = db_exec(db, sql_customer_email, p, 1, NULL);
	}
	if (e == ERR_OK)
		e = advance(pool, o, T_ADDRESS, out);
	if (e == ERR_OK)
		e = propose_shipment(db, id, ship != NULL ? ship_country : "",
				     shipping, o->bill_addr == 0);
	if (e == ERR_OK)
		e = auto_skip(db, pool, id, o, shipping, out);
	return e;
}

/* Shipping and payment selection: a method by id or code. */

static const char sql_ship_method_id[] =
    "SELECT m.id FROM shipping_methods m JOIN zone_countries z ON "
    "z.zone_id = m.zone_id WHERE m.id = ? AND m.enabled = 1 AND "
    "z.country_code = ?";
static const char sql_ship_method_code[] =
    "SELECT m.id FROM shipping_methods m JOIN zone_countries z ON "
    "z.zone_id = m.zone_id WHERE m.code = ? AND m.enabled = 1 AND "
    "z.country_code = ?";

/* A carrier service: the carrier method of the address's zone and the
 * order's fresh quote for the service. */
static const char sql_carrier_choice[] =
    "SELECT m.id, q.id FROM shipping_methods m JOIN zone_countries z ON "
    "z.zone_id = m.zone_id JOIN carrier_quotes q ON q.order_id = ? AND "
    "q.token = ? AND q.expires_at > UTC_TIMESTAMP() WHERE "
    "m.calculator = 'carrier' AND m.enabled = 1 AND z.country_code = ? "
    "ORDER BY m.position, m.id, q.id DESC LIMIT 1";
static const char sql_choose_method[] =
    "UPDATE shipments SET method_id = ?, carrier_quote_id = ? WHERE "
    "order_id = ?";
/* A method of the address's zone (by id or code), chosen in the same
 * statement that finds it: no row matched, no such method, or no
 * shipment. */
#define SQL_SET_SHIP_METHOD(key)                                               \
	"UPDATE shipments s JOIN shipping_methods m ON m." key " = ? AND "     \
	"m.enabled = 1 JOIN zone_countries z ON z.zone_id = m.zone_id AND "    \
	"z.country_code = ? SET s.method_id = m.id, s.carrier_quote_id = "     \
	"NULL WHERE s.order_id = ?"
static const char sql_set_ship_method_id[] = SQL_SET_SHIP_METHOD("id");
static const char sql_set_ship_method_code[] = SQL_SET_SHIP_METHOD("code");

enum err
step_shipping(struct db *db, struct pool *pool, struct order_head *o,
	      const struct step_in *in, struct verr *v, struct step_out *out)
{
	int64_t id = o->id, method = 0, quote = 0;
	const char *ref = in->method;
	struct db_val p[2];
	enum err e;

	e = begin_with(pool, o, T_SELECT_SHIPPING, in, v, out);
	if (e != ERR_OK)
		return e;
	if (v->errors != NULL)
		return ERR_VALIDATION_FAILED;
	if (strncmp(ref, "carrier:", 8) == 0) {
		struct db_val q[3] = {DB_I(id), DB_S(ref + 8),
				      DB_S(o->country)};
		int64_t r[2] = {0, 0};

		/* The quote fetched just before (outside the transaction). */
		e = db_query(db, sql_carrier_choice, q, 3, db_row_two_ints, r);
		method = r[0];
		quote = r[1];
	} else {
		struct db_val u[2] = {DB_S(o->country), DB_I(id)};
		uint64_t matched = 0;

		e = db_exec_ref(db, ref, sql_set_ship_method_id,
				sql_set_ship_method_code, u, 2, &matched);
		method = matched > 0;
		/* Nothing matched: an unknown method, or an order without a
		 * shipment (which the method does not change). */
		p[0] = DB_S(o->country);
		if (e == ERR_OK && matched == 0)
			e = db_query_ref(db, ref, sql_ship_method_id,
					 sql_ship_method_code, p, 1, db_row_int,
					 &method);
	}
	if (e != ERR_OK)
		return e;
	if (method == 0) {
		verr_core(v, F_SHIP_METHOD, V_NO_METHOD_HERE, 0);
		return ERR_VALIDATION_FAILED;
	}
	if (quote != 0) {
		struct db_val q[3] = {DB_I(method), DB_I(quote), DB_I(id)};

		e = db_exec(db, sql_choose_method, q, 3, NULL);
	}
	if (e == ERR_OK)
		e = advance(pool, o, T_SELECT_SHIPPING, out);
	if (e == ERR_OK)
		e = auto_skip(db, pool, id, o, o->shipping_lines, out);
	return e;
}

/* The new checkout state and the cart payment's method (an enabled one,
 * by id or code) at once: no row matched, no such method. */
#define SQL_SET_PAY_METHOD(key)                                                \
	"UPDATE orders o JOIN payment_methods m ON m." key " = ? AND "         \
	"m.enabled = 1 LEFT JOIN payments p ON p.order_id = o.id AND "         \
	"p.state = ? SET o.checkout_state = ?, o.updated_at = "                \
	"UTC_TIMESTAMP(), p.method_id = m.id WHERE o.id = ?"
static const char sql_pay_method_id[] = SQL_SET_PAY_METHOD("id");
static const char sql_pay_method_code[] = SQL_SET_PAY_METHOD("code");

enum err
step_payment(struct db *db, struct pool *pool, struct order_head *o,
	     const struct step_in *in, struct verr *v, struct step_out *out)
{
	const char *ref = in->method;
	struct db_val p[3];
	uint64_t matched = 0;
	enum err e;

	e = begin_with(pool, o, T_SELECT_PAYMENT, in, v, out);
	if (e != ERR_OK)
		return e;
	if (v->errors != NULL)
		return ERR_VALIDATION_FAILED;
	e = advance(pool, o, T_SELECT_PAYMENT, out);
	p[0] = DB_S(pay_state_names[PS_CART]);
	p[1] = DB_S(o->checkout);
	p[2] = DB_I(o->id);
	if (e == ERR_OK)
		e = db_exec_ref(db, ref, sql_pay_method_id, sql_pay_method_code,
				p, 3, &matched);
	if (e == ERR_OK && matched == 0) {
		/* The transaction rolls back: nothing was written. */
		verr_core(v, F_PAY_METHOD, V_NO_METHOD, 0);
		return ERR_VALIDATION_FAILED;
	}
	return e;
}

/* Completion. */

/* Holds the order's stock (stock.c); the lines that cannot be held go to
 * out->extra (409 out_of_stock). */
static enum err
hold_stock(struct db *db, struct pool *pool, const struct order_lines *ls,
	   struct step_out *out)
{
	struct json_object *short_items = NULL;
	enum err e = stock_hold(db, pool, ls, &short_items);

	if (e != ERR_OUT_OF_STOCK)
		return e;
	out->extra = pool_keep(pool, json_object_new_object());
	if (out->extra == NULL)
		return ERR_NOMEM;
	json_object_object_add(out->extra, "items",
			       json_object_get(short_items));
	return e;
}

enum err
step_complete(struct db *db, struct pool *pool, struct order_head *o,
	      const struct step_in *in, struct verr *v, struct step_out *out)
{
	int64_t id = o->id, expected;
	struct recompute rc = {0};
	struct placing pl = {0};
	struct order_lines *ls;
	char number[ORDER_NUMBER_LEN];
	int paid;
	enum err e;

	out->snapshot = NULL; /* read again for the answer */
	/* A second finalize is harmless: the snapshot, unchanged. */
	if (checkout_state_parse(o->checkout) == CS_COMPLETED)
		return ERR_OK;
	if (!may(o, T_COMPLETE))
		return refuse(pool, out, o->checkout);
	verr_append(v, &in->decoded);
	expected = in->expected >= 0 ? in->expected : o->total;
	if (o->customer == 0 && !o->has_email)
		verr_core(v, F_EMAIL, V_GUEST_EMAIL, 0);
	if (o->lines == 0)
		verr_core(v, F_ITEMS, V_CART_EMPTY, 0);
	if (v->errors != NULL)
		return ERR_VALIDATION_FAILED;
	/* Re-run the chain: prices may have moved since the client looked
	 * (the rules as of now: rules.c). It reads the lines whose stock is
	 * held and gives the answer's snapshot, placed (only the number is
	 * still to come). */
	ls = pool_alloc(pool, sizeof(*ls));
	if (ls == NULL)
		return ERR_NOMEM;
	rc.lines = ls;
	/* The chain's UPDATE places the order when the total is expected. */
	paid = checkout_state_parse(o->checkout) == CS_PAYMENT_SKIPPED;
	pl.expected = expected;
	pl.free = paid;
	pl.notes = in->notes;
	rc.place = &pl;
	e = order_recompute(db, pool, id, &rc);
	out->snapshot = rc.snapshot;
	/* The carrier is asked outside the transaction (SPEC 2.9). */
	if (e == ERR_OK && rc.quote_expired)
		e = ERR_QUOTE_EXPIRED;
	o->total = rc.total;
	if (e != ERR_OK || o->total != expected) {
		/* The new totals are committed; the next finalize compares
		 * against them. */
		out->total_changed = e == ERR_OK;
		return e;
	}
	if (!rc.placed)
		return ERR_INTERNAL;
	/*
	 * Everything that does not touch a row shared between orders comes
	 * first. The shared rows — the promotions' and the coupon's use
	 * counters and the variants' stock — are locked last, so they are
	 * held for a few statements and the COMMIT, not for the whole
	 * placement. The number is a row of its own (order_number.c).
	 */
	e = usage_count(db, id, o->coupon, rc.counted, rc.coupon_counted);
	if (e == ERR_OK)
		e = hold_stock(db, pool, ls, out);
	if (e != ERR_OK)
		return e;
	e = order_number_assign(db, id, number);
	if (e != ERR_OK)
		return e;
	json_object_object_add(out->snapshot, "number",
			       json_object_new_string(number));
	/* The events carry the snapshot the answer shows. */
	e = order_event(db, id, "order.completed", out->snapshot);
	/* A free order has nothing to pay: paid at once (SPEC 1). */
	if (e == ERR_OK && paid)
		e = order_event(db, id, "order.paid", out->snapshot);
	return e;
}

/* GET /api/checkouts/{id}. */

/* The shipments (kind 1) with the order's units that need shipping, then
 * the enabled methods of the address's zone (kind 2), in order: each part
 * has its ORDER BY and a LIMIT, without which a union's part is not kept
 * in order. */
static const char sql_view_shipping[] =
    "(SELECT 1, CAST(s.id AS SIGNED), s.state, NULL, NULL, (SELECT "
    "CAST(COALESCE(SUM(i.quantity), 0) AS SIGNED) FROM order_items i JOIN "
    "product_variants v ON v.id = i.variant_id WHERE i.order_id = "
    "s.order_id AND v.needs_shipping = 1), NULL, NULL, NULL FROM shipments "
    "s WHERE s.order_id = ? ORDER BY s.id LIMIT 1000) UNION ALL (SELECT 2, "
    "CAST(m.id AS SIGNED), m.code, m.name, m.calculator, CAST(m.amount AS "
    "SIGNED), CAST(m.first_item_cost AS SIGNED), CAST(m.additional_item_cost "
    "AS SIGNED), CAST(m.additional_item_limit AS SIGNED) FROM "
    "shipping_methods m JOIN zone_countries z ON z.zone_id = m.zone_id "
    "WHERE z.country_code = ? AND m.enabled = 1 ORDER BY m.position, m.id "
    "LIMIT 1000)";
/* The cart payment (kind 1) and the enabled methods (kind 2), in order:
 * each part has its ORDER BY and a LIMIT, without which a union's part
 * is not kept in order. */
static const char sql_view_payment[] =
    "(SELECT 1, CAST(id AS SIGNED), CAST(amount AS SIGNED), state, NULL "
    "FROM payments WHERE order_id = ? AND state = ? ORDER BY id DESC "
    "LIMIT 1) UNION ALL (SELECT 2, CAST(id AS SIGNED), NULL, code, name "
    "FROM payment_methods WHERE enabled = 1 ORDER BY position, id LIMIT "
    "1000)";

struct view {
	struct json_object *shipments, *methods;
	int64_t units; /* That need shipping. */
	int carrier;   /* A carrier method is eligible: its quotes are added. */
};

static void
view_method(struct view *vw, const struct db_val *c)
{
	struct shipping_method m = {0};
	struct json_object *o, *conf;

	m.calc = calculator_parse(c[4].s);
	if (m.calc == CALC_CARRIER) {
		vw->carrier = 1;
		return;
	}
	m.amount = c[5].i;
	m.first_item_cost = c[6].i;
	m.additional_item_cost = c[7].i;
	m.additional_item_limit = c[8].i;
	conf = json_object_new_object();
	if (m.calc == CALC_FLEXIBLE_RATE) {
		json_object_object_add(conf, "first_item_cost",
				       json_object_new_int64(c[6].i));
		json_object_object_add(conf, "additional_item_cost",
				       json_object_new_int64(c[7].i));
		json_object_object_add(conf, "additional_item_limit",
				       json_object_new_int64(c[8].i));
	} else {
		json_object_object_add(conf, "amount",
				       json_object_new_int64(c[5].i));
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(c[1].i));
	json_object_object_add(o, "code", json_object_new_string(c[2].s));
	json_object_object_add(o, "name", json_object_new_string(c[3].s));
	json_object_object_add(o, "calculator", json_object_new_string(c[4].s));
	json_object_object_add(o, "configuration", conf);
	json_object_object_add(
	    o, "price", json_object_new_int64(shipping_charge(&m, vw->units)));
	json_object_array_add(vw->methods, o);
}

static enum err
view_shipping_row(void *arg, const struct db_val *c, size_t n)
{
	struct view *vw = arg;
	struct json_object *s, *e;

	if (n != 9)
		return ERR_INTERNAL;
	if (c[0].i == 2) {
		view_method(vw, c);
		return ERR_OK;
	}
	vw->units = c[5].i;
	s = json_object_new_object();
	json_object_object_add(s, "id", json_object_new_int64(c[1].i));
	json_object_object_add(s, "state", json_object_new_string(c[2].s));
	e = json_object_new_object();
	json_object_object_add(e, "shipment", s);
	json_object_array_add(vw->shipments, e);
	return ERR_OK;
}

/* The payment view: r's "payment", and its "methods" keyed by id. */
static enum err
view_payment_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *r = arg, *o = json_object_new_object();
	char key[24];

	if (n != 5)
		return ERR_INTERNAL;
	json_object_object_add(o, "id", json_object_new_int64(c[1].i));
	if (c[0].i == 1) {
		json_object_object_add(o, "amount",
				       json_object_new_int64(c[2].i));
		json_object_object_add(o, "state",
				       json_object_new_string(c[3].s));
		json_object_object_add(r, "payment", o);
		return ERR_OK;
	}
	json_object_object_add(o, "code", json_object_new_string(c[3].s));
	json_object_object_add(o, "name", json_object_new_string(c[4].s));
	snprintf(key, sizeof(key), "%lld", (long long)c[1].i);
	json_object_object_add(json_object_object_get(r, "methods"), key, o);
	return ERR_OK;
}

enum err
step_view(struct db *db, struct pool *pool, void *curl,
	  const struct order_head *o, struct json_object **out)
{
	struct db_val p[2] = {DB_I(o->id), DB_S(pay_state_names[PS_CART])};
	enum checkout_state cs = checkout_state_parse(o->checkout);
	enum err e;

	*out = NULL;
	if (cs == CS_ADDRESSED) {
		struct view vw = {pool_keep(pool, json_object_new_array()),
				  pool_keep(pool, json_object_new_array()), 0,
				  0};
		struct db_val p2[2] = {DB_I(o->id), DB_S(o->country)};
		size_t i, n;

		if (vw.shipments == NULL || vw.methods == NULL)
			return ERR_NOMEM;
		e = db_query(db, sql_view_shipping, p2, 2, view_shipping_row,
			     &vw);
		n = json_object_array_length(vw.shipments);
		/* Not in a transaction: the carrier may be asked. A carrier
		 * that fails hides only its own entries. */
		if (e == ERR_OK && n > 0 && vw.carrier) {
			struct quotes *q = pool_alloc(pool, sizeof(*q));

			if (q != NULL &&
			    carrier_quotes(db, curl, o->id, 0, q) == ERR_OK)
				carrier_entries(q, vw.methods);
		}
		/* Every shipment is offered the same methods. */
		for (i = 0; e == ERR_OK && i < n; i++)
			json_object_object_add(
			    json_object_array_get_idx(vw.shipments, i),
			    "methods", json_object_get(vw.methods));
		if (e == ERR_OK)
			*out = vw.shipments;
		return e;
	}
	if (cs == CS_SHIPPING_SELECTED || cs == CS_SHIPPING_SKIPPED) {
		struct json_object *r =
		    pool_keep(pool, json_object_new_object());

		if (r == NULL)
			return ERR_NOMEM;
		json_object_object_add(r, "payment", NULL);
		json_object_object_add(r, "methods", json_object_new_object());
		e = db_query(db, sql_view_payment, p, 2, view_payment_row, r);
		if (e == ERR_OK)
			*out = r;
		return e;
	}
	return order_snapshot(db, pool, o->id, out);
}

enum err
step_place_skip(struct db *db, struct pool *pool, struct order_head *o,
		struct step_out *out)
{
	struct db_val p = DB_I(o->id);
	enum err e = ERR_OK;

	out->snapshot = NULL; /* read again for the answer */
	/* No address step: a customer's order takes the customer's email. */
	if (o->customer != 0)
		e = db_exec(db, sql_customer_email, &p, 1, NULL);
	/* From `cart` the shortcut; from `addressed` (a draft whose items
	 * changed after an earlier attempt) the usual skip. */
	if (e == ERR_OK)
		e = advance(pool, o,
			    checkout_state_parse(o->checkout) == CS_ADDRESSED
				? T_SKIP_SHIPPING
				: T_PLACE_SKIP_SHIPPING,
			    out);
	return e == ERR_OK ? auto_skip(db, pool, o->id, o, 0, out) : e;
}

struct put_ctx {
	int64_t id;
	const struct creds *creds;
	enum step step;
	const struct step_in *in;
	struct pool *pool;
	order_answer_fn *answer;
	void *arg;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct put_out {
		struct verr v;	     /* errors kept in pool */
		struct step_out out; /* its trees kept in pool */
	} out;
};

static enum err
put_tx(struct db *db, void *arg)
{
	struct put_ctx *c = arg;
	struct step_out *out = &c->out.out;
	struct verr *v = &c->out.v;
	struct order_head h;
	enum err e;

	e = order_authorize(db, c->id, c->creds, 1, &h);
	if (e != ERR_OK)
		return e;
	switch (c->step) {
	case STEP_ADDRESS:
		e = step_address(db, c->pool, &h, c->in, v, out);
		break;
	case STEP_SHIPPING:
		e = step_shipping(db, c->pool, &h, c->in, v, out);
		break;
	case STEP_PAYMENT:
		e = step_payment(db, c->pool, &h, c->in, v, out);
		break;
	case STEP_FINALIZE:
		e = step_complete(db, c->pool, &h, c->in, v, out);
		break;
	default: /* Purchase is answered before any transaction. */
		e = step_refuse(c->pool, &h, out);
		break;
	}
	if (pool_keep_at(c->pool, &v->errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_OK && out->snapshot == NULL) {
		e = order_snapshot(db, c->pool, c->id, &out->snapshot);
	}
	if (e == ERR_OK && !out->total_changed)
		c->answer(c->arg, out->snapshot);
	return e;
}

enum err
step_put(struct db *db, struct pool *pool, int64_t id,
	 const struct creds *creds, enum step s, const struct step_in *in,
	 struct verr *v, struct step_out *out, order_answer_fn *answer,
	 void *arg)
{
	struct put_ctx c = {.id = id,
			    .creds = creds,
			    .step = s,
			    .in = in,
			    .pool = pool,
			    .answer = answer,
			    .arg = arg};
	enum err e = db_tx_out(db, pool, &c.out, sizeof(c.out), put_tx, &c);

	*out = c.out.out;
	/* v gets a reference of its own (verr_answer hands it on). */
	if (c.out.v.errors != NULL)
		verr_append(v, &c.out.v);
	return e;
}
