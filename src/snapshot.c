/*
 * The order snapshot (SPEC 2.5): what GET /api/orders/{id}, the cart
 * endpoints and every checkout step answer.
 */
#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "paystate.h"
#include "pricing.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

#define ADDR(a)                                                                \
	a ".first_name, " a ".last_name, " a ".company, " a ".street, " a      \
	  ".city, " a ".postcode, " a ".country_code, " a ".province_code, " a \
	  ".phone"

/*
 * The whole snapshot in one query: the order with its addresses (kind 0),
 * items (1), adjustments (2), shipments (3) and payments (4), as a union
 * of rows with the same columns: kind, sort id, nine integers, 31 strings
 * (the order row uses them all; the others six and six). No ORDER BY:
 * sorting a union needs a temporary table (on disk, for the TEXT columns),
 * which cost more than the queries it replaces; the rows are sorted here.
 * Every integer column is cast to SIGNED: a union of signed and unsigned
 * columns would come back as DECIMAL.
 */
#define I(col) "CAST(" col " AS SIGNED)"
#define NULL3  "NULL, NULL, NULL"
/* S7 to S31 of a part row. */
#define NULL25                                                                 \
	NULL3 ", " NULL3 ", " NULL3 ", " NULL3 ", " NULL3 ", " NULL3           \
	      ", " NULL3 ", " NULL3 ", NULL"
/* The five parts; X: more columns at the end of each row, J: more joins
 * of the order's part. */
/* clang-format off */
/* The order part's columns but its addresses; o: the table's prefix. */
#define ORDER_COLS(o)							\
    "0, 0, " I(o "id") ", " I(o "items_total") ", "			\
	I(o "adjustments_total") ", " I(o "tax_total") ", "		\
	I(o "shipping_total") ", " I(o "promotion_total") ", "		\
	I(o "total") ", " I(o "shipping_address_id") ", "		\
	I(o "billing_address_id") ", "					\
	o "uuid, " o "number, " o "state, " o "checkout_state, "	\
	o "payment_state, " o "shipping_state, " o "email, "		\
	o "currency, " o "notes, "					\
	TS(o "created_at") ", " TS(o "updated_at") ", "			\
	TS(o "expires_at") ", " TS(o "completed_at")
#define PART_ORDER(X, J)						\
    "SELECT " ORDER_COLS("o.") ", " ADDR("sa") ", " ADDR("ba") X " "	\
    "FROM orders o "							\
    "LEFT JOIN addresses sa ON sa.id = o.shipping_address_id "		\
    "LEFT JOIN addresses ba ON ba.id = o.billing_address_id " J		\
    "WHERE o.id = ?"
#define PART_ITEMS(X)							\
    "SELECT 1, " I("i.id") ", " I("i.id") ", " I("i.quantity") ", "	\
	I("i.unit_price") ", " I("i.total") ", " I("i.adjustments_total")\
	", " I("v.id") ", " I("v.tracked") ", NULL, NULL, "		\
	"v.code, i.variant_name, i.product_name, NULL, NULL, NULL, "	\
	NULL25 X " "							\
    "FROM order_items i JOIN product_variants v ON v.id = i.variant_id "\
    "WHERE i.order_id = ?"
#define PART_ADJUSTMENTS						\
    "SELECT 2, " I("id") ", " I("order_item_id") ", " I("amount") ", "	\
	I("neutral") ", " I("locked") ", NULL, NULL, " NULL3 ", "	\
	"type, label, NULL, NULL, NULL, NULL, " NULL25 " "		\
    "FROM adjustments WHERE order_id = ?"
#define PART_SHIPMENTS(X)						\
    "SELECT 3, " I("s.id") ", " I("s.id") ", " I("m.id") ", "		\
	"NULL, NULL, NULL, NULL, " NULL3 ", "				\
	"s.state, s.tracking, "						\
	"IF(q.id IS NULL, m.code, CONCAT('carrier:', q.token)), "	\
	"COALESCE(q.name, m.name), NULL, NULL, " NULL25 X " "		\
    "FROM shipments s "							\
    "LEFT JOIN shipping_methods m ON m.id = s.method_id "		\
    "LEFT JOIN carrier_quotes q ON q.id = s.carrier_quote_id "		\
    "WHERE s.order_id = ?"
#define PART_PAYMENTS(X)						\
    "SELECT 4, " I("p.id") ", " I("p.id") ", " I("p.amount") ", "	\
	I("m.id") ", NULL, NULL, NULL, " NULL3 ", "			\
	"p.state, m.code, m.name, p.card_brand, p.card_last4, "		\
	"p.next_action, " NULL25 X " "					\
    "FROM payments p LEFT JOIN payment_methods m ON m.id = p.method_id "\
    "WHERE p.order_id = ?"

/* A new cart, answered with its snapshot's order row (it has no
 * addresses and no other rows). It stores the digest of no adjustments:
 * its first run of the chain has none to delete. */
static const char sql_insert_order[] =
    "INSERT INTO orders (uuid, token_sha256, customer_id, currency, "
    "expires_at, adj_digest) VALUES (?, ?, ?, ?, UTC_TIMESTAMP() + "
    "INTERVAL ? SECOND, ?) RETURNING " ORDER_COLS("") ", "
    NULL3 ", " NULL3 ", " NULL3 ", " NULL3 ", " NULL3 ", " NULL3;

static const char sql_snapshot[] =
    PART_ORDER("", "") " UNION ALL " PART_ITEMS("") " UNION ALL "
    PART_ADJUSTMENTS " UNION ALL " PART_SHIPMENTS("") " UNION ALL "
    PART_PAYMENTS("");

/*
 * What the processor chain reads besides (recompute.c's rc_row): 16 columns
 * more on each row, nine integers then seven strings. The adjustments
 * are not read: the chain computes them anew.
 * Order (kind 0): coupon, its promotion, usage limit and uses, the
 * adjustments' digest, the pricing rules' version (rules.c); shipping
 * and billing countries (the tax zone is found from them, rules.c),
 * checkout state, state, currency, the server's time now and a cart's
 * expiry from now (parameter 1, seconds).
 * Item (1): id, quantity, unit price, immutable, the variant's price, tax
 * category, needs shipping, adjustments total, total.
 * Shipment (3): its method's id, amount (a carrier's: the quote's), first,
 * additional, limit, tax category, whether the quote has expired, the
 * shipment's id; the method's (or quote's) name and calculator.
 * Payment (4): amount, whether it is the cart payment.
 */
#define NULL7 NULL3 ", " NULL3 ", NULL"
#define CHAIN_ORDER							\
    ", CAST(o.coupon_id AS SIGNED), CAST(c.promotion_id AS SIGNED), "	\
	"CAST(COALESCE(c.usage_limit, 0) AS SIGNED), "			\
	"CAST(COALESCE(c.used, 0) AS SIGNED), "				\
	"CAST(o.adj_digest AS SIGNED), (SELECT CAST(version AS SIGNED) "\
	"FROM rules_version WHERE id = 1), NULL, NULL, NULL, "		\
	"o.ship_country, o.bill_country, o.checkout_state, o.state, "	\
	"o.currency, CAST(UTC_TIMESTAMP() AS CHAR), "			\
	"CAST(UTC_TIMESTAMP() + INTERVAL ? SECOND AS CHAR)"
#define CHAIN_ORDER_JOIN						\
    "LEFT JOIN promotion_coupons c ON c.id = o.coupon_id "
#define CHAIN_ITEM							\
    ", CAST(i.id AS SIGNED), CAST(i.quantity AS SIGNED), "		\
	"CAST(i.unit_price AS SIGNED), CAST(i.immutable AS SIGNED), "	\
	"CAST(v.price AS SIGNED), CAST(v.tax_category_id AS SIGNED), "	\
	"CAST(v.needs_shipping AS SIGNED), "				\
	"CAST(i.adjustments_total AS SIGNED), CAST(i.total AS SIGNED), "\
	NULL7
#define CHAIN_SHIPMENT							\
    ", CAST(m.id AS SIGNED), "						\
	"CAST(IF(m.calculator = 'carrier', COALESCE(q.amount, 0), m.amount) "\
	    "AS SIGNED), "						\
	"CAST(m.first_item_cost AS SIGNED), "				\
	"CAST(m.additional_item_cost AS SIGNED), "			\
	"CAST(m.additional_item_limit AS SIGNED), "			\
	"CAST(m.tax_category_id AS SIGNED), "				\
	"CAST(q.expires_at <= UTC_TIMESTAMP() AS SIGNED), "		\
	"CAST(s.id AS SIGNED), NULL, "					\
	"COALESCE(q.name, m.name), m.calculator, NULL, NULL, NULL, NULL, NULL"
#define CHAIN_PAYMENT							\
    ", CAST(p.amount AS SIGNED), CAST(p.state = ? AS SIGNED), "	\
	NULL7 ", " NULL7

static const char sql_snapshot_chain[] =
    PART_ORDER(CHAIN_ORDER, CHAIN_ORDER_JOIN) " UNION ALL "
    PART_ITEMS(CHAIN_ITEM) " UNION ALL " PART_SHIPMENTS(CHAIN_SHIPMENT)
    " UNION ALL " PART_PAYMENTS(CHAIN_PAYMENT);
/* A cart never addressed has no shipments and no payments: the order and
 * its lines only. */
static const char sql_snapshot_chain_lines[] =
    PART_ORDER(CHAIN_ORDER, CHAIN_ORDER_JOIN) " UNION ALL "
    PART_ITEMS(CHAIN_ITEM);
/* clang-format on */

static void
put(struct json_object *o, const char *key, const struct db_val *c)
{
	json_object_object_add(o, key, db_val_json(c));
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
		json_object_object_add(a, keys[i], db_val_json(&c[i]));
	return a;
}

/* Columns of a sql_snapshot row. */
enum {
	P_KIND,
	P_SORT,
	P_I1,
	P_I2,
	P_I3,
	P_I4,
	P_I5,
	P_I6,
	P_S1 = P_I1 + 9,
	P_S2,
	P_S3,
	P_S4,
	P_S5,
	P_S6,
	P_NCOLS = P_S1 + 31
};

#define SNAP_MAX_PARTS 256

/* A row turned into JSON, kept until all rows are in and sorted. */
struct part {
	int64_t kind, sort, item; /* item: an adjustment's item id, or 0 */
	struct json_object *o;
};

struct parts {
	struct snap s;		   /* The order row, when found. */
	struct order_lines *lines; /* When wanted. */
	/* The chain's columns of each row (sql_snapshot_chain), or NULL. */
	snapshot_extra_fn extra;
	void *arg;
	struct json_object *items, *adjustments, *shipments, *payments;
	struct part rows[SNAP_MAX_PARTS];
	size_t n;
};

/* The order row: its fields in the order of SPEC 2.5, and addresses. */
static void
order_row(struct snap *s, const struct db_val *c)
{
	static const struct {
		const char *key;
		int col;
	} fields[] = {{"id", P_I1},
		      {"uuid", P_S1},
		      {"number", P_S1 + 1},
		      {"state", P_S1 + 2},
		      {"checkout_state", P_S1 + 3},
		      {"payment_state", P_S1 + 4},
		      {"shipping_state", P_S1 + 5},
		      {"email", P_S1 + 6},
		      {"currency", P_S1 + 7},
		      {"items_total", P_I1 + 1},
		      {"adjustments_total", P_I1 + 2},
		      {"tax_total", P_I1 + 3},
		      {"shipping_total", P_I1 + 4},
		      {"promotion_total", P_I1 + 5},
		      {"total", P_I1 + 6},
		      {"notes", P_S1 + 8},
		      {"created_at", P_S1 + 9},
		      {"updated_at", P_S1 + 10},
		      {"expires_at", P_S1 + 11},
		      {"completed_at", P_S1 + 12}};
	size_t i;

	s->o = json_object_new_object();
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put(s->o, fields[i].key, &c[fields[i].col]);
	s->ship = c[P_I1 + 7].type == DB_I64 ? address(&c[P_S1 + 13]) : NULL;
	s->bill = c[P_I1 + 8].type == DB_I64 ? address(&c[P_S1 + 22]) : NULL;
}

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

/* An adjustment as the snapshot shows it. */
static struct json_object *
adjustment(const char *type, const char *label, int64_t amount, int neutral,
	   int locked)
{
	struct json_object *adj = json_object_new_object();

	json_object_object_add(adj, "type", json_object_new_string(type));
	json_object_object_add(adj, "label", json_object_new_string(label));
	json_object_object_add(adj, "description",
			       json_object_new_string(label));
	json_object_object_add(adj, "amount", json_object_new_int64(amount));
	json_object_object_add(adj, "neutral",
			       json_object_new_boolean(neutral));
	json_object_object_add(adj, "locked", json_object_new_boolean(locked));
	return adj;
}

static struct json_object *
adjustment_row(const struct db_val *c)
{
	return adjustment(c[P_S1].s, c[P_S2].s, c[P_I2].i, c[P_I3].i != 0,
			  c[P_I4].i != 0);
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
	enum err e;

	if (n != P_NCOLS + (a->extra != NULL ? SNAPSHOT_CHAIN_COLS : 0) ||
	    c[P_KIND].type != DB_I64 || c[P_KIND].i < 0 || c[P_KIND].i > 4 ||
	    (c[P_KIND].i == 0 && a->s.o != NULL))
		return ERR_INTERNAL;
	if (a->extra != NULL && (e = a->extra(a->arg, c[P_KIND].i, c + P_NCOLS,
					      n - P_NCOLS)) != ERR_OK)
		return e;
	if (c[P_KIND].i == 0) {
		order_row(&a->s, c);
		return ERR_OK;
	}
	if (c[P_KIND].i == 1 && a->lines != NULL) {
		struct order_line *l;

		if (a->lines->n == PRICE_MAX_ITEMS)
			return ERR_INTERNAL;
		l = &a->lines->l[a->lines->n++];
		l->item = c[P_I1].i;
		l->quantity = c[P_I1 + 1].i;
		l->variant = c[P_I1 + 5].i;
		l->tracked = c[P_I1 + 6].i;
		snprintf(l->code, sizeof(l->code), "%s", c[P_S1].s);
	}
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

static int
line_cmp(const void *x, const void *y)
{
	const struct order_line *a = x, *b = y;

	return a->variant < b->variant ? -1 : a->variant > b->variant;
}

/* The snapshot through sql (sql_snapshot or sql_snapshot_chain, whose
 * parameters p[0..np) come before the ids). */
static enum err
snapshot_read(struct db *db, struct pool *pool, int64_t id, const char *sql,
	      struct db_val *p, size_t np, size_t nids, snapshot_extra_fn extra,
	      void *arg, struct json_object **out, struct order_lines *lines)
{
	struct parts *parts;
	struct snap s;
	enum err e;
	size_t i;

	*out = NULL;
	parts = calloc(1, sizeof(*parts));
	if (parts == NULL)
		return ERR_NOMEM;
	parts->items = json_object_new_array();
	parts->adjustments = json_object_new_array();
	parts->shipments = json_object_new_array();
	parts->payments = json_object_new_array();
	parts->lines = lines;
	parts->extra = extra;
	parts->arg = arg;
	if (lines != NULL)
		lines->n = 0;
	for (i = 0; i < nids; i++)
		p[np + i] = DB_I(id);
	e = db_query(db, sql, p, np + nids, part_row, parts);
	if (e == ERR_OK && lines != NULL)
		qsort(lines->l, lines->n, sizeof(lines->l[0]), line_cmp);
	if (e == ERR_OK && parts->s.o == NULL)
		e = ERR_NOT_FOUND;
	if (e == ERR_OK)
		parts_place(parts);
	else
		for (i = 0; i < parts->n; i++)
			json_object_put(parts->rows[i].o);
	s = parts->s;
	if (e == ERR_OK) {
		/* Keys in the order of SPEC 2.5. */
		json_object_object_add(s.o, "items", parts->items);
		json_object_object_add(s.o, "adjustments", parts->adjustments);
		json_object_object_add(s.o, "shipments", parts->shipments);
		json_object_object_add(s.o, "payments", parts->payments);
		json_object_object_add(s.o, "shipping_address", s.ship);
		json_object_object_add(s.o, "billing_address", s.bill);
		*out = pool_keep(pool, s.o);
		if (*out == NULL)
			e = ERR_NOMEM;
	} else {
		json_object_put(parts->items);
		json_object_put(parts->adjustments);
		json_object_put(parts->shipments);
		json_object_put(parts->payments);
		json_object_put(s.o);
		json_object_put(s.ship);
		json_object_put(s.bill);
	}
	free(parts);
	return e;
}

enum err
order_snapshot_lines(struct db *db, struct pool *pool, int64_t id,
		     struct json_object **out, struct order_lines *lines)
{
	struct db_val p[5];

	return snapshot_read(db, pool, id, sql_snapshot, p, 0, 5, NULL, NULL,
			     out, lines);
}

enum err
order_snapshot(struct db *db, struct pool *pool, int64_t id,
	       struct json_object **out)
{
	return order_snapshot_lines(db, pool, id, out, NULL);
}

enum err
snapshot_insert_order(struct db *db, struct pool *pool, struct db_val *p,
		      int64_t *id, struct json_object **out)
{
	enum err e = snapshot_read(db, pool, 0, sql_insert_order, p, 6, 0, NULL,
				   NULL, out, NULL);

	if (e == ERR_OK)
		*id = json_object_get_int64(json_object_object_get(*out, "id"));
	return e;
}

enum err
snapshot_chain_read(struct db *db, struct pool *pool, int64_t id, int64_t ttl,
		    int lines_only, snapshot_extra_fn extra, void *arg,
		    struct json_object **out, struct order_lines *lines)
{
	/* The payments' part compares the cart payment's state (a bound
	 * name) before its id. */
	struct db_val p[6] = {DB_I(ttl),
			      DB_I(id),
			      DB_I(id),
			      DB_I(id),
			      DB_S(pay_state_names[PS_CART]),
			      DB_I(id)};

	return snapshot_read(db, pool, id,
			     lines_only ? sql_snapshot_chain_lines
					: sql_snapshot_chain,
			     p, lines_only ? 3 : 6, 0, extra, arg, out, lines);
}

/* A DATETIME as MariaDB writes it ("2026-11-23 07:29:31") in the
 * snapshot's form ("2026-11-23T07:29:31Z"). */
static struct json_object *
timestamp(const char *dt)
{
	char s[32];

	if (strlen(dt) < 19)
		return json_object_new_string(dt);
	snprintf(s, sizeof(s), "%.10sT%.8sZ", dt, dt + 11);
	return json_object_new_string(s);
}

void
snapshot_set_time(struct json_object *snap, const char *key, const char *dt)
{
	json_object_object_add(snap, key, dt != NULL ? timestamp(dt) : NULL);
}

void
snapshot_set_str(struct json_object *snap, const char *key, const char *s)
{
	json_object_object_add(snap, key, json_object_new_string(s));
}

static void
adjustments_of(struct json_object *list, const struct adjustment *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(
		    list, adjustment(adj_type_names[a[i].type], a[i].label,
				     a[i].amount, a[i].neutral, 0));
}

static void
set_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void
snapshot_set_prices(struct json_object *snap, const struct price_order *o)
{
	struct json_object *items = json_object_object_get(snap, "items");
	struct json_object *adj = json_object_new_array();
	size_t i, j;

	set_int(snap, "items_total", o->items_total);
	set_int(snap, "adjustments_total", o->adjustments_total);
	set_int(snap, "tax_total", o->tax_total);
	set_int(snap, "shipping_total", o->shipping_total);
	set_int(snap, "promotion_total", o->promotion_total);
	set_int(snap, "total", o->total);
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		int64_t id =
		    json_object_get_int64(json_object_object_get(it, "id"));
		struct json_object *list;

		for (j = 0; j < o->nitems && o->items[j].id != id; j++)
			;
		if (j == o->nitems)
			continue;
		set_int(it, "unit_price", o->items[j].unit_price);
		set_int(it, "total", o->items[j].total);
		list = json_object_new_array();
		adjustments_of(list, o->items[j].adj, o->items[j].nadj);
		json_object_object_add(it, "adjustments", list);
		set_int(it, "adjustments_total", o->items[j].adjustments_total);
	}
	adjustments_of(adj, o->adj, o->nadj);
	json_object_object_add(snap, "adjustments", adj);
}

void
snapshot_set_states(struct json_object *snap, const char *list_key,
		    const char *from, const char *state, int64_t amount)
{
	struct json_object *list = json_object_object_get(snap, list_key);
	size_t i = json_object_array_length(list);

	while (i-- > 0) {
		struct json_object *p = json_object_array_get_idx(list, i);

		if (strcmp(json_object_get_string(
			       json_object_object_get(p, "state")),
			   from) != 0)
			continue;
		if (state == NULL) {
			json_object_array_del_idx(list, i, 1);
			continue;
		}
		snapshot_set_str(p, "state", state);
		if (amount >= 0)
			set_int(p, "amount", amount);
	}
}

void
snapshot_add_payment(struct json_object *snap, int64_t id, int64_t amount)
{
	struct json_object *p = json_object_new_object();

	set_int(p, "id", id);
	set_int(p, "amount", amount);
	snapshot_set_str(p, "state", pay_state_names[PS_CART]);
	json_object_object_add(p, "method", NULL);
	json_object_object_add(p, "card_brand", NULL);
	json_object_object_add(p, "card_last4", NULL);
	json_object_object_add(p, "next_action", NULL);
	json_object_array_add(json_object_object_get(snap, "payments"), p);
}
