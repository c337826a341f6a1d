/*
 * Seed 001, Rundl's "Checkouts" (SPEC 3.2, docs/api-seed001.md):
 * POST /api/checkouts?account={account_id}, also POST /checkouts with
 * ?account= and an `Authorization: OAuth …` header. The token is compared
 * by its SHA-256 and must belong to the account, the buyer; the seller is
 * the account of the products' provider (one per checkout). The checkout
 * is a cart of the core, answered as the seed's checkout object; the seed
 * documents no later step, so it stays a cart. Errors are {"error": ...}.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "str.h"

#define E_REQUEST "invalid_request"
#define E_TOKEN	  "invalid_token"
#define E_PRODUCT "product_not_found"
#define E_SELLERS "multiple_sellers"
#define E_STOCK	  "insufficient_stock"
#define MAX_ITEMS 32

struct c001 {
	int64_t account, seller;
	int64_t service;
	int has_service;
	const char *payment_token;
	struct {
		int64_t product, variant, quantity;
	} items[MAX_ITEMS];
	size_t n;
	/* out */
	int64_t order;
	const char *refusal;
	int status;
	struct verr v;
	struct json_object *answer;
};

static const char sql_token[] =
    "SELECT account_id FROM oauth_tokens WHERE token_sha256 = ? AND "
    "expires_at > UTC_TIMESTAMP()";
static const char sql_product[] =
    "SELECT MIN(v.id), COUNT(v.id), CAST(COALESCE(MIN(pr.account_id), 0) "
    "AS SIGNED) FROM "
    "products p JOIN product_variants v ON v.product_id = p.id AND "
    "v.enabled = 1 LEFT JOIN providers pr ON pr.id = p.provider_id WHERE "
    "p.id = ? AND p.enabled = 1";
static const char sql_own[] =
    "UPDATE orders SET seed001_account_id = ?, seed001_service = ?, "
    "seed001_payment_token = ? WHERE id = ?";

static enum err
three_ints(void *arg, const struct db_val *c, size_t n)
{
	int64_t *out = arg;
	size_t i;

	if (n != 3)
		return ERR_INTERNAL;
	for (i = 0; i < 3; i++)
		out[i] = c[i].type == DB_I64 ? c[i].i : 0;
	return ERR_OK;
}

/* The gid object of an account. */
static const char sql_gid[] =
    "SELECT id, name, CAST(COALESCE(global_type, '0') AS SIGNED) FROM "
    "accounts WHERE id = ?";

static enum err
gid_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *g = arg;

	if (n != 3)
		return ERR_INTERNAL;
	json_object_object_add(
	    g, "global_type",
	    json_object_new_int64(c[2].type == DB_I64 ? c[2].i : 0));
	json_object_object_add(g, "id", json_object_new_int64(c[0].i));
	json_object_object_add(g, "name", json_object_new_string(c[1].s));
	return ERR_OK;
}

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

struct view {
	struct json_object *o, *items;
	char currency[4];
};

static enum err
head_row(void *arg, const struct db_val *c, size_t n)
{
	struct view *w = arg;
	char date[48];
	int status = 0;

	if (n != 9)
		return ERR_INTERNAL;
	snprintf(w->currency, sizeof(w->currency), "%s", c[3].s);
	snprintf(date, sizeof(date), "/Date(%lld+0000)/", (long long)c[4].i);
	if (strcmp(c[5].s, "cancelled") == 0)
		status = 3;
	else if (strcmp(c[6].s, "paid") == 0)
		status = 2;
	else if (strcmp(c[5].s, "cart") != 0)
		status = 1;
	json_object_object_add(w->o, "status", json_object_new_int(status));
	json_object_object_add(w->o, "items_total_price",
			       dialect_amount(c[0].i));
	json_object_object_add(w->o, "total_tax", dialect_amount(c[1].i));
	json_object_object_add(w->o, "total_price", dialect_amount(c[2].i));
	json_object_object_add(w->o, "currency",
			       json_object_new_string(c[3].s));
	json_object_object_add(w->o, "created_date",
			       json_object_new_string(date));
	json_object_object_add(
	    w->o, "service",
	    c[7].type == DB_I64 ? json_object_new_int64(c[7].i) : NULL);
	json_object_object_add(
	    w->o, "payment_token",
	    c[8].type == DB_STR ? json_object_new_string(c[8].s) : NULL);
	return ERR_OK;
}

static enum err
line_row(void *arg, const struct db_val *c, size_t n)
{
	struct view *w = arg;
	struct json_object *it = json_object_new_object();
	struct json_object *p = json_object_new_object();

	if (n != 7) {
		json_object_put(it);
		json_object_put(p);
		return ERR_INTERNAL;
	}
	json_object_object_add(it, "amount", dialect_amount(c[5].i));
	json_object_object_add(it, "data", NULL);
	json_object_object_add(p, "id", json_object_new_int64(c[1].i));
	json_object_object_add(p, "object", json_object_new_string("product"));
	json_object_object_add(p, "currency",
			       json_object_new_string(w->currency));
	json_object_object_add(p, "name", json_object_new_string(c[2].s));
	json_object_object_add(p, "price", dialect_amount(c[3].i));
	json_object_object_add(it, "product", p);
	json_object_object_add(it, "quantity", json_object_new_int64(c[4].i));
	json_object_object_add(it, "reference", NULL);
	json_object_object_add(it, "tax_amount", dialect_amount(0));
	json_object_object_add(it, "tax_id", NULL);
	json_object_object_add(it, "tax_lines", json_object_new_array());
	json_object_object_add(it, "tax_status", json_object_new_int64(c[6].i));
	/* The line's id, to find it for its taxes; removed before answering. */
	json_object_object_add(it, "_line", json_object_new_int64(c[0].i));
	json_object_array_add(w->items, it);
	return ERR_OK;
}

static enum err
tax_row(void *arg, const struct db_val *c, size_t n)
{
	struct view *w = arg;
	size_t i;

	if (n != 5)
		return ERR_INTERNAL;
	for (i = 0; i < json_object_array_length(w->items); i++) {
		struct json_object *it = json_object_array_get_idx(w->items, i);
		struct json_object *line = json_object_new_object();
		double before;

		if (json_object_get_int64(
			json_object_object_get(it, "_line")) != c[0].i) {
			json_object_put(line);
			continue;
		}
		json_object_object_add(line, "amount",
				       json_object_new_int64(c[2].i / 100));
		json_object_object_add(line, "name",
				       json_object_new_string(c[3].s));
		json_object_array_add(json_object_object_get(it, "tax_lines"),
				      line);
		json_object_object_add(it, "tax_id",
				       json_object_new_int64(c[1].i));
		before = json_object_get_double(
		    json_object_object_get(it, "tax_amount"));
		json_object_object_add(
		    it, "tax_amount",
		    dialect_amount((int64_t)(before * 100 + 0.5) + c[4].i));
	}
	return ERR_OK;
}

/* The seed's checkout object of order id. */
static enum err
checkout_object(struct db *db, int64_t id, int64_t buyer, int64_t seller,
		struct json_object **out)
{
	struct view w = {.o = json_object_new_object(),
			 .items = json_object_new_array()};
	struct json_object *b = json_object_new_object();
	struct json_object *s = json_object_new_object();
	struct json_object *types = json_object_new_array();
	struct db_val p = DB_I(buyer);
	enum err e;
	size_t i;

	json_object_object_add(w.o, "id", json_object_new_int64(id));
	json_object_object_add(w.o, "object",
			       json_object_new_string("checkout"));
	e = db_query(db, sql_gid, &p, 1, gid_row, b);
	p = DB_I(seller);
	if (e == ERR_OK)
		e = db_query(db, sql_gid, &p, 1, gid_row, s);
	json_object_object_add(w.o, "buyer", b);
	json_object_object_add(w.o, "seller", s);
	p = DB_I(id);
	if (e == ERR_OK)
		e = db_query(db, sql_head, &p, 1, head_row, &w);
	if (e == ERR_OK)
		e = db_query(db, sql_lines, &p, 1, line_row, &w);
	if (e == ERR_OK)
		e = db_query(db, sql_taxes, &p, 1, tax_row, &w);
	for (i = 0; i < json_object_array_length(w.items); i++)
		json_object_object_del(json_object_array_get_idx(w.items, i),
				       "_line");
	json_object_object_add(w.o, "items", w.items);
	json_object_array_add(types, json_object_new_string("credit_card"));
	json_object_array_add(types, json_object_new_string("manual"));
	json_object_object_add(w.o, "payment_account_types", types);
	json_object_object_add(w.o, "product_order", NULL);
	json_object_object_add(w.o, "related", NULL);
	json_object_object_add(w.o, "rundl", NULL);
	if (e != ERR_OK) {
		json_object_put(w.o);
		return e;
	}
	*out = w.o;
	return ERR_OK;
}

static enum err
create_tx(struct db *db, void *arg)
{
	struct c001 *c = arg;
	struct creds none = {0};
	struct order_head h;
	char token[ORDER_TOKEN_LEN + 1], ref[24];
	struct db_val p[4];
	enum err e;
	size_t i;

	json_object_put(c->answer);
	c->answer = NULL;
	c->refusal = NULL;
	verr_free(&c->v);
	e = order_create(db, &none, &c->order, token, NULL);
	p[0] = DB_I(c->account);
	p[1] = c->has_service ? DB_I(c->service) : DB_N;
	p[2] = c->payment_token ? DB_S(c->payment_token) : DB_N;
	p[3] = DB_I(c->order);
	if (e == ERR_OK)
		e = db_exec(db, sql_own, p, 4, NULL);
	for (i = 0; e == ERR_OK && i < c->n; i++) {
		snprintf(ref, sizeof(ref), "%lld",
			 (long long)c->items[i].variant);
		e = order_head_load(db, c->order, &h);
		if (e == ERR_OK)
			e = cart_add_item(db, &h, ref, c->items[i].quantity,
					  &c->v, NULL);
	}
	if (e == ERR_VALIDATION_FAILED) {
		c->refusal = E_STOCK;
		c->status = 400;
		return e; /* rolls back */
	}
	if (e == ERR_OK)
		e = checkout_object(db, c->order, c->account, c->seller,
				    &c->answer);
	return e;
}

/* Reads the envelope into c; an error text, or NULL. */
static const char *
read_body(struct request *req, struct json_object *body, struct c001 *c,
	  int *status)
{
	struct json_object *co = json_object_object_get(body, "checkout");
	struct json_object *items = json_object_object_get(co, "items");
	struct json_object *svc = json_object_object_get(co, "service");
	struct json_object *tok = json_object_object_get(co, "payment_token");
	size_t i;

	*status = 400;
	if (!json_object_is_type(co, json_type_object) ||
	    !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0 ||
	    json_object_array_length(items) > MAX_ITEMS ||
	    (svc != NULL && !json_object_is_type(svc, json_type_int)) ||
	    (tok != NULL && !json_object_is_type(tok, json_type_string)) ||
	    (tok != NULL && json_object_get_string_len(tok) > 255))
		return E_REQUEST;
	c->has_service = svc != NULL;
	c->service = svc != NULL ? json_object_get_int64(svc) : 0;
	c->payment_token = tok != NULL ? json_object_get_string(tok) : NULL;
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *pid = json_object_object_get(
		    json_object_object_get(it, "product"), "id");
		struct json_object *q = json_object_object_get(it, "quantity");
		int64_t r[3] = {0, 0, 0};
		struct db_val p;

		if (!json_object_is_type(pid, json_type_int) ||
		    !json_object_is_type(q, json_type_int) ||
		    json_object_get_int64(q) < 1 ||
		    json_object_get_int64(q) > 9999)
			return E_REQUEST;
		p = DB_I(json_object_get_int64(pid));
		if (db_query(req->db, sql_product, &p, 1, three_ints, r) !=
		    ERR_OK) {
			*status = 500;
			return NULL;
		}
		/* One enabled variant, sold by a provider's account. */
		if (r[0] == 0 || r[1] != 1 || r[2] == 0) {
			*status = 404;
			return E_PRODUCT;
		}
		if (c->seller != 0 && c->seller != r[2])
			return E_SELLERS;
		c->seller = r[2];
		c->items[c->n].product = json_object_get_int64(pid);
		c->items[c->n].variant = r[0];
		c->items[c->n].quantity = json_object_get_int64(q);
		c->n++;
	}
	return NULL;
}

int
seed001_wanted(struct request *req)
{
	const char *auth = req_env(req, "HTTP_AUTHORIZATION");
	const char *q = req->query;

	return auth != NULL && strncmp(auth, "OAuth ", 6) == 0 && q != NULL &&
	       (strncmp(q, "account=", 8) == 0 ||
		strstr(q, "&account=") != NULL);
}

enum err
api_seed001_checkout(struct request *req)
{
	const char *auth = req_env(req, "HTTP_AUTHORIZATION");
	struct json_object *query = NULL, *body = NULL;
	struct c001 c = {0};
	int64_t owner = 0;
	const char *acc, *why;
	unsigned char h[32];
	struct db_val p;
	int status = 400;
	enum err e;

	if (req_query(req, &query) != ERR_OK)
		return dialect_error(req, "error", 400, E_REQUEST);
	acc = json_object_get_string(json_object_object_get(query, "account"));
	if (acc == NULL || !str_is_id(acc) || parse_i64(acc, &c.account) != 0)
		return dialect_error(req, "error", 400, E_REQUEST);
	if (auth == NULL || strncmp(auth, "OAuth ", 6) != 0 || auth[6] == '\0')
		return dialect_error(req, "error", 401, E_TOKEN);
	sha256(auth + 6, strlen(auth + 6), h);
	p = DB_B((const char *)h, 32);
	e = db_query(req->db, sql_token, &p, 1, db_row_int, &owner);
	if (e != ERR_OK)
		return e;
	if (owner == 0 || owner != c.account)
		return dialect_error(req, "error", 401, E_TOKEN);
	body = dialect_body(req);
	why = read_body(req, body, &c, &status);
	if (why != NULL || status == 500) {
		json_object_put(body);
		return why != NULL ? dialect_error(req, "error", status, why)
				   : ERR_INTERNAL;
	}
	e = db_tx(req->db, create_tx, &c);
	if (c.refusal != NULL && (e == ERR_OK || e == ERR_VALIDATION_FAILED))
		e = dialect_error(req, "error", c.status, c.refusal);
	else if (e == ERR_OK)
		res_json(req, 201, json_object_get(c.answer));
	json_object_put(c.answer);
	verr_free(&c.v);
	json_object_put(body);
	return e;
}
