/*
 * The back office's reads (backoffice.h). Each page is read with one
 * statement that asks for a row more than the page holds: that row, when
 * it comes, says that there is a next page, and its cursor is the last
 * shown row's id (keyset paging on the primary key, so a page costs the
 * same wherever it is and rows written meanwhile neither repeat nor go
 * missing). The filters are bound parameters of one static statement
 * (`? IS NULL OR ...`), never text added to it.
 */
#include "backoffice.h"

#include <stdio.h>
#include <string.h>

#include "order.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

/* The columns c[0..n) as members keys[0..n) of a new object. */
static struct json_object *
row_object(const char *const *keys, const struct db_val *c, size_t n)
{
	struct json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_object_add(o, keys[i], db_val_json(&c[i]));
	return o;
}

/* A page being read: rows go to list until it holds limit; one more
 * means a next page, whose cursor is the last shown row's id. */
struct page {
	const char *const *keys;
	size_t ncols;
	struct json_object *list;
	int64_t limit, last_id;
	int more;
};

static enum err
page_row(void *arg, const struct db_val *c, size_t n)
{
	struct page *pg = arg;

	if (n != pg->ncols || c[0].type != DB_I64)
		return ERR_INTERNAL;
	if ((int64_t)json_object_array_length(pg->list) == pg->limit) {
		pg->more = 1;
		return ERR_OK;
	}
	pg->last_id = c[0].i;
	json_object_array_add(pg->list, row_object(pg->keys, c, n));
	return ERR_OK;
}

/* The page's cursor member: the last shown id as a string, or null. */
static void
page_cursor(struct json_object *o, const char *key, const struct page *pg)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)pg->last_id);
	json_object_object_add(o, key,
			       pg->more ? json_object_new_string(s) : NULL);
}

/* A new object kept in pool, with an empty array under key in *list. */
static enum err
kept_root(struct pool *pool, const char *key, struct json_object **root,
	  struct json_object **list)
{
	*root = pool_keep(pool, json_object_new_object());
	if (*root == NULL)
		return ERR_NOMEM;
	*list = json_object_new_array();
	json_object_object_add(*root, key, *list);
	return ERR_OK;
}

/* The orders list. */

static const char sql_orders[] =
    "SELECT id, number, state, checkout_state, payment_state, "
    "shipping_state, email, currency, total, item_lines, " TS(
	"created_at") ", " TS("completed_at") " FROM orders "
					      "WHERE state <> ? AND id < ? "
					      "AND (? IS NULL OR state = ?) "
					      "AND (? IS NULL OR payment_state "
					      "= ?) "
					      "AND (? IS NULL OR number LIKE "
					      "CONCAT(?, '%')) "
					      "AND (? IS NULL OR completed_at "
					      ">= CAST(? AS DATE)) "
					      "AND (? IS NULL OR completed_at "
					      "< CAST(? AS DATE) + INTERVAL 1 "
					      "DAY) "
					      "ORDER BY id DESC LIMIT ?";

enum err
backoffice_orders(struct db *db, struct pool *pool, const struct bo_filter *f,
		  struct json_object **out)
{
	static const char *const keys[] = {"id",
					   "number",
					   "state",
					   "checkout_state",
					   "payment_state",
					   "shipping_state",
					   "email",
					   "currency",
					   "total",
					   "item_lines",
					   "created_at",
					   "completed_at"};
	struct page pg = {.keys = keys, .ncols = 12, .limit = f->limit};
	struct db_val state =
	    f->state < OS__MAX ? DB_S(order_state_names[f->state]) : DB_N;
	struct db_val pay =
	    f->payment < OPS__MAX ? DB_S(opay_state_names[f->payment]) : DB_N;
	struct db_val num = f->number != NULL ? DB_S(f->number) : DB_N;
	struct db_val from = f->from != NULL ? DB_S(f->from) : DB_N;
	struct db_val to = f->to != NULL ? DB_S(f->to) : DB_N;
	struct db_val p[13] = {DB_S(order_state_names[OS_CART]),
			       DB_I(f->cursor > 0 ? f->cursor : INT64_MAX),
			       state,
			       state,
			       pay,
			       pay,
			       num,
			       num,
			       from,
			       from,
			       to,
			       to,
			       DB_I(f->limit + 1)};
	enum err e;

	*out = NULL;
	e = kept_root(pool, "orders", out, &pg.list);
	if (e == ERR_OK)
		e = db_query(db, sql_orders, p, 13, page_row, &pg);
	if (e != ERR_OK)
		return e;
	json_object_object_add(*out, "limit", json_object_new_int64(f->limit));
	page_cursor(*out, "next_cursor", &pg);
	return ERR_OK;
}

/* One order. */

static const char sql_state[] = "SELECT state FROM orders WHERE id = ?";

static enum err
state_row(void *arg, const struct db_val *c, size_t n)
{
	enum order_state *s = arg;

	if (n != 1 || c[0].type != DB_STR)
		return ERR_INTERNAL;
	*s = order_state_parse(c[0].s);
	return ERR_OK;
}

/* ERR_OK when order id exists and is placed (not a cart). */
static enum err
placed(struct db *db, int64_t id)
{
	enum order_state s = OS_CART;
	struct db_val p = DB_I(id);
	enum err e = db_query(db, sql_state, &p, 1, state_row, &s);

	if (e == ERR_OK && s == OS_CART)
		e = ERR_NOT_FOUND;
	return e;
}

static const char sql_events[] =
    "SELECT id, uuid, type, " TS("created_at") ", attempts, " TS(
	"delivered_at") " FROM outbox_events WHERE order_id = ? AND id > ? "
			"ORDER BY id LIMIT ?";

/* A page of order id's events into list; pg gets the cursor. */
static enum err
events_page(struct db *db, int64_t id, int64_t cursor, struct page *pg)
{
	static const char *const keys[] = {
	    "id", "uuid", "type", "created_at", "attempts", "delivered_at"};
	struct db_val p[3] = {DB_I(id), DB_I(cursor), DB_I(pg->limit + 1)};

	pg->keys = keys;
	pg->ncols = 6;
	return db_query(db, sql_events, p, 3, page_row, pg);
}

enum err
backoffice_events(struct db *db, struct pool *pool, int64_t id, int64_t cursor,
		  int64_t limit, struct json_object **out)
{
	struct page pg = {.limit = limit};
	enum err e = placed(db, id);

	*out = NULL;
	if (e == ERR_OK)
		e = kept_root(pool, "events", out, &pg.list);
	if (e == ERR_OK)
		e = events_page(db, id, cursor, &pg);
	if (e != ERR_OK)
		return e;
	json_object_object_add(*out, "limit", json_object_new_int64(limit));
	page_cursor(*out, "next_cursor", &pg);
	return ERR_OK;
}

/* An order's payments (a handful: one per purchase attempt at most), each
 * with its refunds. */
static const char sql_payments[] =
    "SELECT p.id, p.uuid, p.state, p.amount, p.currency, m.code, "
    "m.gateway, p.provider_ref, p.card_brand, p.card_last4, "
    "p.decline_code, " TS("p.created_at") ", " TS(
	"p.updated_at") " "
			"FROM payments p LEFT JOIN payment_methods m ON m.id = "
			"p.method_id "
			"WHERE p.order_id = ? ORDER BY p.id";
static const char sql_refunds[] =
    "SELECT r.payment_id, r.id, r.amount, r.provider_ref, " TS(
	"r.created_at") " FROM refunds r JOIN payments p ON p.id = "
			"r.payment_id WHERE p.order_id = ? ORDER BY r.id";

static enum err
payment_row(void *arg, const struct db_val *c, size_t n)
{
	static const char *const keys[] = {
	    "id",	  "uuid",	"state",	"amount",
	    "currency",	  "method",	"gateway",	"provider_ref",
	    "card_brand", "card_last4", "decline_code", "created_at",
	    "updated_at"};
	struct json_object *p;

	if (n != 13 || c[0].type != DB_I64)
		return ERR_INTERNAL;
	p = row_object(keys, c, n);
	json_object_object_add(p, "refunded", json_object_new_int64(0));
	json_object_object_add(p, "refunds", json_object_new_array());
	json_object_array_add(arg, p);
	return ERR_OK;
}

/* A refund: added to its payment's refunds and refunded sum. */
static enum err
refund_row(void *arg, const struct db_val *c, size_t n)
{
	static const char *const keys[] = {"id", "amount", "provider_ref",
					   "created_at"};
	struct json_object *list = arg, *p, *sum;
	size_t i;

	if (n != 5 || c[0].type != DB_I64 || c[2].type != DB_I64)
		return ERR_INTERNAL;
	for (i = 0; i < json_object_array_length(list); i++) {
		p = json_object_array_get_idx(list, i);
		if (json_object_get_int64(json_object_object_get(p, "id")) !=
		    c[0].i)
			continue;
		json_object_array_add(json_object_object_get(p, "refunds"),
				      row_object(keys, c + 1, 4));
		sum = json_object_object_get(p, "refunded");
		json_object_set_int64(sum, json_object_get_int64(sum) + c[2].i);
		return ERR_OK;
	}
	return ERR_INTERNAL;
}

enum err
backoffice_order(struct db *db, struct pool *pool, int64_t id, int64_t limit,
		 struct json_object **out)
{
	struct json_object *snap = NULL, *payments = NULL;
	struct page pg = {.limit = limit};
	struct db_val p = DB_I(id);
	enum err e = placed(db, id);

	*out = NULL;
	if (e == ERR_OK)
		e = order_snapshot(db, pool, id, &snap);
	if (e == ERR_OK)
		e = kept_root(pool, "payments", out, &payments);
	if (e != ERR_OK)
		return e;
	json_object_object_add(*out, "order", json_object_get(snap));
	e = db_query(db, sql_payments, &p, 1, payment_row, payments);
	if (e == ERR_OK)
		e = db_query(db, sql_refunds, &p, 1, refund_row, payments);
	if (e != ERR_OK)
		return e;
	pg.list = json_object_new_array();
	json_object_object_add(*out, "events", pg.list);
	e = events_page(db, id, 0, &pg);
	if (e == ERR_OK)
		page_cursor(*out, "events_next_cursor", &pg);
	return e;
}

int
backoffice_date_valid(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	int y, m, d, i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	/* 29 February only in a leap year. */
	return !(m == 2 && d == 29 &&
		 !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}
