/*
 * The order snapshot (SPEC 2.5): what GET /api/orders/{id}, the cart
 * endpoints and every checkout step answer.
 */
#include "order.h"

#include <stdio.h>
#include <string.h>

#include "pricing.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

#define ADDR(a)                                                                \
	a ".first_name, " a ".last_name, " a ".company, " a ".street, " a      \
	  ".city, " a ".postcode, " a ".country_code, " a ".province_code, " a \
	  ".phone"

static const char sql_order[] =
    "SELECT o.id, o.uuid, o.number, o.state, o.checkout_state, "
    "o.payment_state, o.shipping_state, o.email, o.currency, "
    "o.items_total, "
    "o.adjustments_total, o.tax_total, o.shipping_total, "
    "o.promotion_total, "
    "o.total, o.notes, " TS("o.created_at") ", " TS("o.updated_at") ", " TS(
	"o.expires_at") ", " TS("o.completed_at") ", "
						  "o.shipping_address_id, "
						  "o.billing_address_id,"
						  " " ADDR("sa") ", " ADDR(
						      "ba") " FROM orders "
							    "o LEFT JOIN "
							    "addresses sa "
							    "ON sa.id = "
							    "o.shipping_"
							    "address_id "
							    "LEFT JOIN "
							    "addresses ba "
							    "ON ba.id = "
							    "o.billing_"
							    "address_id "
							    "WHERE o.id = "
							    "?";
static const char sql_items[] =
    "SELECT i.id, i.quantity, i.unit_price, i.total, i.adjustments_total, "
    "v.id, v.code, i.variant_name, i.product_name FROM order_items i "
    "JOIN product_variants v ON v.id = i.variant_id WHERE i.order_id = ? "
    "ORDER BY i.id";
static const char sql_adjustments[] =
    "SELECT order_item_id, type, label, amount, neutral, locked FROM "
    "adjustments WHERE order_id = ? ORDER BY id";

static const char sql_shipments[] =
    "SELECT s.id, s.state, s.tracking, m.id, m.code, m.name FROM "
    "shipments s LEFT JOIN shipping_methods m ON m.id = s.method_id "
    "WHERE s.order_id = ? ORDER BY s.id";
static const char sql_payments[] =
    "SELECT p.id, p.amount, p.state, m.id, m.code, m.name, p.card_brand, "
    "p.card_last4, p.next_action FROM payments p LEFT JOIN "
    "payment_methods m ON m.id = p.method_id WHERE p.order_id = ? ORDER "
    "BY p.id";

/* A column as JSON: integer, string, or null. */
static struct json_object *
val(const struct db_val *c)
{
	switch (c->type) {
	case DB_I64:
		return json_object_new_int64(c->i);
	case DB_STR:
		return json_object_new_string_len(c->s, (int)c->len);
	default:
		return NULL;
	}
}

static void
put(struct json_object *o, const char *key, const struct db_val *c)
{
	json_object_object_add(o, key, val(c));
}

struct snap {
	struct json_object *o;
	struct json_object *ship, *bill;
};

/* An address from nine columns. */
static struct json_object *
address(const struct db_val *c)
{
	static const char *const keys[] = {
	    "first_name", "last_name",	  "company",	   "street", "city",
	    "postcode",	  "country_code", "province_code", "phone"};
	struct json_object *a = json_object_new_object();
	size_t i;

	for (i = 0; i < 9; i++)
		json_object_object_add(a, keys[i], val(&c[i]));
	return a;
}

static enum err
order_row(void *arg, const struct db_val *c, size_t n)
{
	static const char *const keys[] = {"id",
					   "uuid",
					   "number",
					   "state",
					   "checkout_state",
					   "payment_state",
					   "shipping_state",
					   "email",
					   "currency",
					   "items_total",
					   "adjustments_total",
					   "tax_total",
					   "shipping_total",
					   "promotion_total",
					   "total",
					   "notes",
					   "created_at",
					   "updated_at",
					   "expires_at",
					   "completed_at"};
	struct snap *s = arg;
	size_t i;

	if (n != 40)
		return ERR_INTERNAL;
	s->o = json_object_new_object();
	for (i = 0; i < 20; i++)
		put(s->o, keys[i], &c[i]);
	s->ship = c[20].type == DB_I64 ? address(&c[22]) : NULL;
	s->bill = c[21].type == DB_I64 ? address(&c[31]) : NULL;
	return ERR_OK;
}

static enum err
item_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *item = json_object_new_object(), *v;

	if (n != 9)
		return ERR_INTERNAL;
	put(item, "id", &c[0]);
	put(item, "quantity", &c[1]);
	put(item, "unit_price", &c[2]);
	put(item, "total", &c[3]);
	json_object_object_add(item, "adjustments", json_object_new_array());
	put(item, "adjustments_total", &c[4]);
	v = json_object_new_object();
	put(v, "id", &c[5]);
	put(v, "code", &c[6]);
	put(v, "name", &c[7]);
	put(v, "product_name", &c[8]);
	json_object_object_add(item, "variant", v);
	json_object_array_add(arg, item);
	return ERR_OK;
}

struct adj_ctx {
	struct json_object *items, *order_adj;
};

static enum err
adjustment_row(void *arg, const struct db_val *c, size_t n)
{
	struct adj_ctx *a = arg;
	struct json_object *adj = json_object_new_object(),
			   *list = a->order_adj;
	size_t i, len;

	if (n != 6)
		return ERR_INTERNAL;
	put(adj, "type", &c[1]);
	put(adj, "label", &c[2]);
	put(adj, "description", &c[2]);
	put(adj, "amount", &c[3]);
	json_object_object_add(adj, "neutral",
			       json_object_new_boolean(c[4].i != 0));
	json_object_object_add(adj, "locked",
			       json_object_new_boolean(c[5].i != 0));
	if (c[0].type == DB_I64) {
		len = json_object_array_length(a->items);
		for (i = 0; i < len; i++) {
			struct json_object *it =
			    json_object_array_get_idx(a->items, i);

			if (json_object_get_int64(
				json_object_object_get(it, "id")) == c[0].i)
				list =
				    json_object_object_get(it, "adjustments");
		}
	}
	json_object_array_add(list, adj);
	return ERR_OK;
}

/* {"id", "code", "name"} of a method, or null. */
static struct json_object *
method(const struct db_val *c)
{
	struct json_object *m;

	if (c[0].type != DB_I64)
		return NULL;
	m = json_object_new_object();
	put(m, "id", &c[0]);
	put(m, "code", &c[1]);
	put(m, "name", &c[2]);
	return m;
}

static enum err
shipment_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *s = json_object_new_object();

	if (n != 6)
		return ERR_INTERNAL;
	put(s, "id", &c[0]);
	put(s, "state", &c[1]);
	json_object_object_add(s, "method", method(&c[3]));
	put(s, "tracking", &c[2]);
	json_object_array_add(arg, s);
	return ERR_OK;
}

static enum err
payment_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *p = json_object_new_object(), *next = NULL;

	if (n != 9)
		return ERR_INTERNAL;
	put(p, "id", &c[0]);
	put(p, "amount", &c[1]);
	put(p, "state", &c[2]);
	json_object_object_add(p, "method", method(&c[3]));
	put(p, "card_brand", &c[6]);
	put(p, "card_last4", &c[7]);
	if (c[8].type == DB_STR)
		next = json_tokener_parse(c[8].s);
	json_object_object_add(p, "next_action", next);
	json_object_array_add(arg, p);
	return ERR_OK;
}

enum err
order_snapshot(struct db *db, int64_t id, struct json_object **out)
{
	struct json_object *items, *adj, *shipments, *payments;
	struct db_val p = DB_I(id);
	struct snap s = {0};
	struct adj_ctx ac;
	enum err e;

	*out = NULL;
	e = db_query(db, sql_order, &p, 1, order_row, &s);
	if (e != ERR_OK) {
		json_object_put(s.o);
		json_object_put(s.ship);
		json_object_put(s.bill);
		return e;
	}
	if (s.o == NULL)
		return ERR_NOT_FOUND;
	items = json_object_new_array();
	adj = json_object_new_array();
	shipments = json_object_new_array();
	payments = json_object_new_array();
	/* Keys in the order of SPEC 2.5. */
	e = db_query(db, sql_items, &p, 1, item_row, items);
	ac.items = items;
	ac.order_adj = adj;
	if (e == ERR_OK)
		e = db_query(db, sql_adjustments, &p, 1, adjustment_row, &ac);
	if (e == ERR_OK)
		e = db_query(db, sql_shipments, &p, 1, shipment_row, shipments);
	if (e == ERR_OK)
		e = db_query(db, sql_payments, &p, 1, payment_row, payments);
	json_object_object_add(s.o, "items", items);
	json_object_object_add(s.o, "adjustments", adj);
	json_object_object_add(s.o, "shipments", shipments);
	json_object_object_add(s.o, "payments", payments);
	json_object_object_add(s.o, "shipping_address", s.ship);
	json_object_object_add(s.o, "billing_address", s.bill);
	if (e != ERR_OK) {
		json_object_put(s.o);
		return e;
	}
	*out = s.o;
	return ERR_OK;
}
