/*
 * Seed 001, Rundl's "Checkouts" (SPEC 3.2, docs/api-seed001.md):
 * POST /api/checkouts?account={account_id}, also POST /checkouts with
 * ?account= and an `Authorization: OAuth …` header. The accounts, tokens,
 * checkouts and their rules are src/account.c's; this file reads the
 * seed's request and writes its checkout object, or its {"error": ...}.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "str.h"

/* Its errors, as the document lists them. */
static const struct dialect seed001 = {
    "error",
    {
	[ERR_VALIDATION_FAILED] = {400, "invalid_request"},
	[ERR_MIXED_SELLERS] = {400, "multiple_sellers"},
	[ERR_OUT_OF_STOCK] = {400, "insufficient_stock"},
	[ERR_UNAUTHENTICATED] = {401, "invalid_token"},
	[ERR_UNKNOWN_ITEM] = {404, "product_not_found"},
    },
};

/* The gid object of an account ({} when there is none). */
static struct json_object *
gid_object(const struct account_ref *a)
{
	struct json_object *g = json_object_new_object();

	if (!a->found)
		return g;
	json_object_object_add(g, "global_type",
			       json_object_new_int64(a->global_type));
	json_object_object_add(g, "id", json_object_new_int64(a->id));
	json_object_object_add(g, "name", json_object_new_string(a->name));
	return g;
}

static struct json_object *
line_object(const struct account_view *v, const struct account_line *l)
{
	struct json_object *it = json_object_new_object();
	struct json_object *p = json_object_new_object();
	struct json_object *taxes = json_object_new_array();
	struct json_object *t;
	size_t i;

	json_object_object_add(it, "amount", dialect_amount(l->amount));
	json_object_object_add(it, "data", NULL);
	json_object_object_add(p, "id", json_object_new_int64(l->product));
	json_object_object_add(p, "object", json_object_new_string("product"));
	json_object_object_add(p, "currency",
			       json_object_new_string(v->currency));
	json_object_object_add(p, "name", json_object_new_string(l->name));
	json_object_object_add(p, "price", dialect_amount(l->price));
	json_object_object_add(it, "product", p);
	json_object_object_add(it, "quantity",
			       json_object_new_int64(l->quantity));
	json_object_object_add(it, "reference", NULL);
	json_object_object_add(it, "tax_amount", dialect_amount(l->tax));
	json_object_object_add(
	    it, "tax_id",
	    l->has_tax_rate ? json_object_new_int64(l->tax_rate) : NULL);
	for (i = 0; i < l->ntaxes; i++) {
		t = json_object_new_object();
		json_object_object_add(
		    t, "amount", json_object_new_int64(l->taxes[i].bp / 100));
		json_object_object_add(
		    t, "name", json_object_new_string(l->taxes[i].name));
		json_object_array_add(taxes, t);
	}
	json_object_object_add(it, "tax_lines", taxes);
	json_object_object_add(it, "tax_status",
			       json_object_new_int64(l->taxable));
	return it;
}

/* The seed's checkout object. */
static struct json_object *
checkout_object(const struct account_view *v)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();
	char date[48];
	size_t i;

	snprintf(date, sizeof(date), "/Date(%lld+0000)/",
		 (long long)v->created_ms);
	json_object_object_add(o, "id", json_object_new_int64(v->id));
	json_object_object_add(o, "object", json_object_new_string("checkout"));
	json_object_object_add(o, "buyer", gid_object(&v->buyer));
	json_object_object_add(o, "seller", gid_object(&v->seller));
	/* The seed's status numbers are enum account_checkout_state's. */
	json_object_object_add(o, "status", json_object_new_int(v->state));
	json_object_object_add(o, "items_total_price",
			       dialect_amount(v->items_total));
	json_object_object_add(o, "total_tax", dialect_amount(v->tax_total));
	json_object_object_add(o, "total_price", dialect_amount(v->total));
	json_object_object_add(o, "currency",
			       json_object_new_string(v->currency));
	json_object_object_add(o, "created_date", json_object_new_string(date));
	json_object_object_add(
	    o, "service",
	    v->has_service ? json_object_new_int64(v->service) : NULL);
	json_object_object_add(
	    o, "payment_token",
	    v->payment_token ? json_object_new_string(v->payment_token) : NULL);
	for (i = 0; i < v->nlines; i++)
		json_object_array_add(items, line_object(v, &v->lines[i]));
	json_object_object_add(o, "items", items);
	json_object_object_add(
	    o, "payment_account_types",
	    json_tokener_parse("[\"credit_card\", \"manual\"]"));
	json_object_object_add(o, "product_order", NULL);
	json_object_object_add(o, "related", NULL);
	json_object_object_add(o, "rundl", NULL);
	return o;
}

/* Reads the envelope into c, adding its items as they are read (a product
 * is looked up before the next item is read): ERR_VALIDATION_FAILED, not
 * the seed's envelope; else what account_checkout_add gave (a database
 * that failed the lookup stays ERR_DATABASE_UNAVAILABLE: a 503). */
static enum err
read_body(struct request *req, struct json_object *body,
	  struct account_checkout *c)
{
	struct json_object *co = json_object_object_get(body, "checkout");
	struct json_object *items = json_object_object_get(co, "items");
	struct json_object *svc = json_object_object_get(co, "service");
	struct json_object *tok = json_object_object_get(co, "payment_token");
	enum err e = ERR_OK;
	size_t i;

	if (!json_object_is_type(co, json_type_object) ||
	    !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0 ||
	    json_object_array_length(items) > ACCOUNT_MAX_ITEMS ||
	    (svc != NULL && !json_object_is_type(svc, json_type_int)) ||
	    (tok != NULL && !json_object_is_type(tok, json_type_string)) ||
	    (tok != NULL && json_object_get_string_len(tok) > 255))
		return ERR_VALIDATION_FAILED;
	c->has_service = svc != NULL;
	c->service = svc != NULL ? json_object_get_int64(svc) : 0;
	c->payment_token = tok != NULL ? json_object_get_string(tok) : NULL;
	for (i = 0; e == ERR_OK && i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *pid = json_object_object_get(
		    json_object_object_get(it, "product"), "id");
		struct json_object *q = json_object_object_get(it, "quantity");

		if (!json_object_is_type(pid, json_type_int) ||
		    !json_object_is_type(q, json_type_int) ||
		    json_object_get_int64(q) < 1 ||
		    json_object_get_int64(q) > 9999)
			return ERR_VALIDATION_FAILED;
		e = account_checkout_add(req->db, c, json_object_get_int64(pid),
					 json_object_get_int64(q));
	}
	return e;
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

/* The 201, written inside the checkout's transaction (account.h). */
static void
answer_created(void *arg, const struct account_view *v)
{
	res_json(arg, 201, checkout_object(v));
}

enum err
api_seed001_checkout(struct request *req)
{
	const char *auth = req_env(req, "HTTP_AUTHORIZATION");
	struct json_object *query = NULL;
	struct json_object *body = dialect_body(req);
	struct account_checkout c = {.answer = answer_created,
				     .answer_arg = req};
	const char *acc;
	enum err e = req_query(req, &query);

	acc = json_object_get_string(json_object_object_get(query, "account"));
	if (e != ERR_OK || acc == NULL || !str_is_id(acc) ||
	    parse_i64(acc, &c.buyer) != 0)
		e = ERR_VALIDATION_FAILED;
	else if (auth == NULL || strncmp(auth, "OAuth ", 6) != 0)
		e = ERR_UNAUTHENTICATED;
	else
		e = account_token_check(req->db, c.buyer, auth + 6);
	if (e == ERR_OK)
		e = read_body(req, body, &c);
	if (e == ERR_OK)
		e = account_checkout_create(req->db, &req->pool, &c);
	return dialect_fail(req, &seed001, e);
}
