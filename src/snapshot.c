/*
 * The order snapshot (SPEC 2.5): what GET /api/orders/{id}, the cart
 * endpoints and every checkout step answer.
 */
#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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
/*
 * Everything else in one query: items (kind 1), adjustments (2), shipments
 * (3) and payments (4), as a union of rows with the same columns: kind,
 * sort id, six integers, six strings. No ORDER BY: sorting a union needs a
 * temporary table (on disk, for the TEXT column), which cost more than the
 * four queries it replaces; the rows are sorted here instead.
 */
/* Every integer column is cast to SIGNED: a union of signed and unsigned
 * columns would come back as DECIMAL. */
static const char sql_parts[] =
    "SELECT 1, CAST(i.id AS SIGNED), CAST(i.id AS SIGNED), "
    "CAST(i.quantity AS SIGNED), CAST(i.unit_price AS SIGNED), "
    "CAST(i.total AS SIGNED), CAST(i.adjustments_total AS SIGNED), "
    "CAST(v.id AS SIGNED), v.code, i.variant_name, i.product_name, "
    "CAST(NULL AS CHAR), CAST(NULL AS CHAR), CAST(NULL AS CHAR) "
    "FROM order_items i JOIN product_variants v ON v.id = i.variant_id "
    "WHERE i.order_id = ? "
    "UNION ALL SELECT 2, CAST(id AS SIGNED), CAST(order_item_id AS SIGNED), "
    "CAST(amount AS SIGNED), CAST(neutral AS SIGNED), "
    "CAST(locked AS SIGNED), NULL, NULL, type, label, NULL, NULL, NULL, "
    "NULL FROM adjustments WHERE order_id = ? "
    "UNION ALL SELECT 3, CAST(s.id AS SIGNED), CAST(s.id AS SIGNED), "
    "CAST(m.id AS SIGNED), NULL, NULL, NULL, NULL, s.state, s.tracking, "
    "IF(q.id IS NULL, m.code, CONCAT('carrier:', q.token)), COALESCE(q.name, "
    "m.name), NULL, NULL FROM shipments s LEFT JOIN shipping_methods m ON "
    "m.id = s.method_id LEFT JOIN carrier_quotes q ON q.id = "
    "s.carrier_quote_id WHERE s.order_id = ? "
    "UNION ALL SELECT 4, CAST(p.id AS SIGNED), CAST(p.id AS SIGNED), "
    "CAST(p.amount AS SIGNED), CAST(m.id AS SIGNED), NULL, NULL, NULL, "
    "p.state, m.code, m.name, p.card_brand, p.card_last4, p.next_action "
    "FROM payments p LEFT JOIN payment_methods m ON m.id = p.method_id "
    "WHERE p.order_id = ?";

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

/* Columns of a sql_parts row. */
enum {
	P_KIND,
	P_SORT,
	P_I1,
	P_I2,
	P_I3,
	P_I4,
	P_I5,
	P_I6,
	P_S1,
	P_S2,
	P_S3,
	P_S4,
	P_S5,
	P_S6,
	P_NCOLS
};

#define SNAP_MAX_PARTS 256

/* A row turned into JSON, kept until all rows are in and sorted. */
struct part {
	int64_t kind, sort, item; /* item: an adjustment's item id, or 0 */
	struct json_object *o;
};

struct parts {
	struct json_object *items, *adjustments, *shipments, *payments;
	struct part rows[SNAP_MAX_PARTS];
	size_t n;
};

static struct json_object *
item_row(const struct db_val *c)
{
	struct json_object *item = json_object_new_object(), *v;

	put(item, "id", &c[P_I1]);
	put(item, "quantity", &c[P_I2]);
	put(item, "unit_price", &c[P_I3]);
	put(item, "total", &c[P_I4]);
	json_object_object_add(item, "adjustments", json_object_new_array());
	put(item, "adjustments_total", &c[P_I5]);
	v = json_object_new_object();
	put(v, "id", &c[P_I6]);
	put(v, "code", &c[P_S1]);
	put(v, "name", &c[P_S2]);
	put(v, "product_name", &c[P_S3]);
	json_object_object_add(item, "variant", v);
	return item;
}

static struct json_object *
adjustment_row(const struct db_val *c)
{
	struct json_object *adj = json_object_new_object();

	put(adj, "type", &c[P_S1]);
	put(adj, "label", &c[P_S2]);
	put(adj, "description", &c[P_S2]);
	put(adj, "amount", &c[P_I2]);
	json_object_object_add(adj, "neutral",
			       json_object_new_boolean(c[P_I3].i != 0));
	json_object_object_add(adj, "locked",
			       json_object_new_boolean(c[P_I4].i != 0));
	return adj;
}

/* {"id", "code", "name"} of a method, or null. */
static struct json_object *
method(const struct db_val *id, const struct db_val *code_name)
{
	struct json_object *m;

	if (id->type != DB_I64)
		return NULL;
	m = json_object_new_object();
	put(m, "id", id);
	put(m, "code", &code_name[0]);
	put(m, "name", &code_name[1]);
	return m;
}

static struct json_object *
shipment_row(const struct db_val *c)
{
	struct json_object *s = json_object_new_object();

	put(s, "id", &c[P_I1]);
	put(s, "state", &c[P_S1]);
	json_object_object_add(s, "method", method(&c[P_I2], &c[P_S3]));
	put(s, "tracking", &c[P_S2]);
	return s;
}

static struct json_object *
payment_row(const struct db_val *c)
{
	struct json_object *p = json_object_new_object(), *next = NULL;

	put(p, "id", &c[P_I1]);
	put(p, "amount", &c[P_I2]);
	put(p, "state", &c[P_S1]);
	json_object_object_add(p, "method", method(&c[P_I3], &c[P_S2]));
	put(p, "card_brand", &c[P_S4]);
	put(p, "card_last4", &c[P_S5]);
	if (c[P_S6].type == DB_STR)
		next = json_tokener_parse(c[P_S6].s);
	json_object_object_add(p, "next_action", next);
	return p;
}

static enum err
part_row(void *arg, const struct db_val *c, size_t n)
{
	static struct json_object *(*const kinds[])(const struct db_val *) = {
	    item_row, adjustment_row, shipment_row, payment_row};
	struct parts *a = arg;
	struct part *r;

	if (n != P_NCOLS || c[P_KIND].type != DB_I64 || c[P_KIND].i < 1 ||
	    c[P_KIND].i > 4)
		return ERR_INTERNAL;
	if (a->n == SNAP_MAX_PARTS) {
		log_error("order has more than %d lines, adjustments, "
			  "shipments and payments",
			  SNAP_MAX_PARTS);
		return ERR_INTERNAL;
	}
	r = &a->rows[a->n++];
	r->kind = c[P_KIND].i;
	r->sort = c[P_SORT].i;
	r->item = c[P_KIND].i == 2 && c[P_I1].type == DB_I64 ? c[P_I1].i : 0;
	r->o = kinds[r->kind - 1](c);
	return ERR_OK;
}

static int
part_cmp(const void *x, const void *y)
{
	const struct part *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->sort < b->sort ? -1 : a->sort > b->sort;
}

/* The rows, sorted, into the four arrays; adjustments of an item into the
 * item's list (items come first in the sort). */
static void
parts_place(struct parts *a)
{
	size_t i, j;

	qsort(a->rows, a->n, sizeof(a->rows[0]), part_cmp);
	for (i = 0; i < a->n; i++) {
		struct part *r = &a->rows[i];
		struct json_object *list = NULL;

		switch (r->kind) {
		case 1:
			list = a->items;
			break;
		case 2:
			list = a->adjustments;
			for (j = 0; r->item != 0 && j < i; j++)
				if (a->rows[j].kind == 1 &&
				    a->rows[j].sort == r->item)
					list = json_object_object_get(
					    a->rows[j].o, "adjustments");
			break;
		case 3:
			list = a->shipments;
			break;
		default:
			list = a->payments;
		}
		json_object_array_add(list, r->o); /* the list owns it */
	}
}

enum err
order_snapshot(struct db *db, int64_t id, struct json_object **out)
{
	struct db_val p[4] = {DB_I(id), DB_I(id), DB_I(id), DB_I(id)};
	struct snap s = {0};
	struct parts *parts;
	enum err e;
	size_t i;

	*out = NULL;
	e = db_query(db, sql_order, p, 1, order_row, &s);
	if (e != ERR_OK) {
		json_object_put(s.o);
		json_object_put(s.ship);
		json_object_put(s.bill);
		return e;
	}
	if (s.o == NULL)
		return ERR_NOT_FOUND;
	parts = calloc(1, sizeof(*parts));
	if (parts == NULL) {
		json_object_put(s.o);
		json_object_put(s.ship);
		json_object_put(s.bill);
		return ERR_NOMEM;
	}
	parts->items = json_object_new_array();
	parts->adjustments = json_object_new_array();
	parts->shipments = json_object_new_array();
	parts->payments = json_object_new_array();
	e = db_query(db, sql_parts, p, 4, part_row, parts);
	if (e == ERR_OK) {
		parts_place(parts);
	} else {
		for (i = 0; i < parts->n; i++)
			json_object_put(parts->rows[i].o);
	}
	/* Keys in the order of SPEC 2.5. */
	json_object_object_add(s.o, "items", parts->items);
	json_object_object_add(s.o, "adjustments", parts->adjustments);
	json_object_object_add(s.o, "shipments", parts->shipments);
	json_object_object_add(s.o, "payments", parts->payments);
	free(parts);
	json_object_object_add(s.o, "shipping_address", s.ship);
	json_object_object_add(s.o, "billing_address", s.bill);
	if (e != ERR_OK) {
		json_object_put(s.o);
		return e;
	}
	*out = s.o;
	return ERR_OK;
}
