/*
 * The canonical API (seed 004, SPEC 2), catalog and carts: decode, call
 * the core, answer. The checkout is sylius_checkout.c (src/api/sylius.h).
 */
#include "api/sylius.h"

#include <string.h>

#include "catalog.h"
#include "str.h"
#include "valid.h"

enum err
api_products_list(struct request *req)
{
	struct json_object *q, *out;
	int64_t page, limit;
	enum err e;

	e = req_query(req, &q);
	if (e != ERR_OK)
		return e;
	valid_int(q, "page", "page", 1, 1000000, 1, &page, &req->verr);
	valid_int(q, "limit", "limit", 1, 200, 50, &limit, &req->verr);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	e = catalog_list(req->db, &req->pool, page, limit, &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, json_object_get(out));
	return ERR_OK;
}

enum err
api_product_get(struct request *req)
{
	struct json_object *out;
	enum err e;

	e = catalog_get(req->db, &req->pool, req_param(req, "id"), &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, json_object_get(out));
	return ERR_OK;
}

/* Carts. Each mutation: authorize with the row locked, change, recompute
 * and read the snapshot, all in one transaction. */

struct creds
sylius_creds(struct request *req)
{
	const char *auth = req_env(req, "HTTP_AUTHORIZATION");
	struct creds c = {req_env(req, "HTTP_X_CART_TOKEN"), NULL};

	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
		c.session = auth + 7;
	if (c.token != NULL && *c.token == '\0')
		c.token = NULL;
	return c;
}

/* The order id in the path; 0 when it is not one (answered 404). */
int64_t
api_path_id(struct request *req, const char *name)
{
	const char *s = req_param(req, name);
	int64_t id = 0;

	if (!str_is_id(s) || parse_i64(s, &id) != 0)
		return 0;
	return id;
}

struct cart_op {
	struct request *req;
	int status; /* Of the answer on success. */
	struct cart_change change;
	char variant[72];
};

/* Answered inside the transaction: an idempotent response is stored with
 * the work (idem.c). */
static void
answer_cart(void *arg, struct json_object *snapshot)
{
	struct cart_op *c = arg;

	res_json(c->req, c->status, json_object_get(snapshot));
}

/* Runs a cart operation and answers status with the snapshot. */
static enum err
run_cart_op(struct request *req, struct cart_op *c, int status)
{
	struct creds creds = sylius_creds(req);
	enum err e;

	c->req = req;
	c->status = status;
	if (c->change.id == 0)
		return ERR_NOT_FOUND;
	c->change.line.variant = c->variant;
	e = cart_change(req->db, &req->pool, &c->change, &creds, &req->verr,
			answer_cart, c);
	if (e == ERR_VALIDATION_FAILED) {
		verr_name(&req->verr, sylius_field_name, NULL);
		if (verr_answer(req, &req->verr))
			e = ERR_OK;
	}
	return e;
}

struct create_ctx {
	struct request *req;
	char token[ORDER_TOKEN_LEN + 1];
};

static void
answer_create(void *arg, struct json_object *snapshot)
{
	struct create_ctx *c = arg;

	/* The token is shown here only (and in an idempotent replay). */
	json_object_object_add(snapshot, "token",
			       c->token[0] ? json_object_new_string(c->token)
					   : NULL);
	res_json(c->req, 201, json_object_get(snapshot));
}

enum err
api_cart_create(struct request *req)
{
	static const char *const none[] = {NULL};
	struct create_ctx c = {.req = req};
	struct creds creds = sylius_creds(req);

	/* The token grants nothing here: a new cart is the caller's own. */
	creds.token = NULL;
	valid_only_keys(req->json, none, &req->verr);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	return cart_create(req->db, &req->pool, &creds, c.token, answer_create,
			   &c);
}

enum err
sylius_view(struct request *req, sylius_view_fn *view)
{
	struct creds c = sylius_creds(req);
	struct order_head h;
	struct json_object *out;
	int64_t id = api_path_id(req, "id");
	enum err e;

	if (id == 0)
		return ERR_NOT_FOUND;
	e = order_authorize(req->db, id, &c, 0, &h);
	if (e == ERR_OK)
		e = view(req->db, &req->pool, req->curl, &h, &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, json_object_get(out));
	return ERR_OK;
}

static enum err
snapshot_view(struct db *db, struct pool *pool, void *curl,
	      const struct order_head *h, struct json_object **out)
{
	(void)curl;
	return order_snapshot(db, pool, h->id, out);
}

enum err
api_cart_get(struct request *req)
{
	return sylius_view(req, snapshot_view);
}

enum err
api_cart_add_item(struct request *req)
{
	static const char *const keys[] = {"variant", "quantity", NULL};
	struct cart_op c = {
	    .change = {.op = CART_ADD, .id = api_path_id(req, "id")}};

	valid_only_keys(req->json, keys, &req->verr);
	valid_ref(req->json, "variant", "variant", c.variant, sizeof(c.variant),
		  &req->verr);
	valid_int(req->json, "quantity", "quantity", 1, 9999, 1,
		  &c.change.line.quantity, &req->verr);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	return run_cart_op(req, &c, 201);
}

enum err
api_cart_patch_item(struct request *req)
{
	static const char *const keys[] = {"quantity", NULL};
	struct cart_op c = {
	    .change = {.op = CART_SET, .id = api_path_id(req, "id")}};

	c.change.item_id = api_path_id(req, "itemId");
	if (c.change.item_id == 0)
		return ERR_NOT_FOUND;
	valid_only_keys(req->json, keys, &req->verr);
	if (json_object_object_get(req->json, "quantity") == NULL)
		verr_add(&req->verr, "quantity", "is required");
	valid_int(req->json, "quantity", "quantity", 0, 9999, 0,
		  &c.change.line.quantity, &req->verr);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	return run_cart_op(req, &c, 200);
}

enum err
api_cart_delete_item(struct request *req)
{
	struct cart_op c = {
	    .change = {.op = CART_SET, .id = api_path_id(req, "id")}};

	c.change.item_id = api_path_id(req, "itemId");
	if (c.change.item_id == 0)
		return ERR_NOT_FOUND;
	return run_cart_op(req, &c, 200);
}

enum err
api_cart_coupon(struct request *req)
{
	static const char *const keys[] = {"code", NULL};
	struct cart_op c = {
	    .change = {.op = CART_COUPON, .id = api_path_id(req, "id")}};

	if (req->method == M_POST) {
		valid_only_keys(req->json, keys, &req->verr);
		valid_str(req->json, "code", "code", 64, &c.change.code,
			  &req->verr);
		if (c.change.code == NULL && req->verr.errors == NULL)
			verr_add(&req->verr, "code", "is required");
		if (verr_answer(req, &req->verr))
			return ERR_OK;
	}
	return run_cart_op(req, &c, 200);
}
