/*
 * The canonical API (seed 004, SPEC 2): decode, call the core, answer.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "catalog.h"
#include "checkout.h"
#include "order.h"
#include "purchase.h"
#include "steps.h"
#include "str.h"
#include "valid.h"

enum err
api_products_list(struct request *req)
{
	struct json_object *q, *out;
	struct verr v = {0};
	int64_t page, limit;
	enum err e;

	e = req_query(req, &q);
	if (e != ERR_OK)
		return e;
	valid_int(q, "page", "page", 1, 1000000, 1, &page, &v);
	valid_int(q, "limit", "limit", 1, 200, 50, &limit, &v);
	if (verr_answer(req, &v))
		return ERR_OK;
	e = catalog_list(req->db, page, limit, &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, out);
	return ERR_OK;
}

enum err
api_product_get(struct request *req)
{
	struct json_object *out;
	enum err e;

	e = catalog_get(req->db, req_param(req, "id"), &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, out);
	return ERR_OK;
}

/* Carts. Each mutation: authorize with the row locked, change, recompute
 * and read the snapshot, all in one transaction. */

static struct creds
creds_of(struct request *req)
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
	struct verr v;
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
	struct creds creds = creds_of(req);
	enum err e;

	c->req = req;
	c->status = status;
	if (c->change.id == 0)
		return ERR_NOT_FOUND;
	c->change.variant = c->variant;
	e = cart_change(req->db, &c->change, &creds, &c->v, answer_cart, c);
	if (e == ERR_VALIDATION_FAILED && verr_answer(req, &c->v))
		e = ERR_OK;
	verr_free(&c->v);
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
	struct creds creds = creds_of(req);
	struct verr v = {0};

	/* The token grants nothing here: a new cart is the caller's own. */
	creds.token = NULL;
	valid_only_keys(req->json, none, &v);
	if (verr_answer(req, &v))
		return ERR_OK;
	return cart_create(req->db, &creds, c.token, answer_create, &c);
}

/* Answers a read of the order in the path: authorized, then view. */
static enum err
answer_view(struct request *req, enum err (*view)(struct db *db, void *curl,
						  const struct order_head *h,
						  struct json_object **out))
{
	struct creds c = creds_of(req);
	struct order_head h;
	struct json_object *out;
	int64_t id = api_path_id(req, "id");
	enum err e;

	if (id == 0)
		return ERR_NOT_FOUND;
	e = order_authorize(req->db, id, &c, 0, &h);
	if (e == ERR_OK)
		e = view(req->db, req->curl, &h, &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, out);
	return ERR_OK;
}

static enum err
snapshot_view(struct db *db, void *curl, const struct order_head *h,
	      struct json_object **out)
{
	(void)curl;
	return order_snapshot(db, h->id, out);
}

enum err
api_cart_get(struct request *req)
{
	return answer_view(req, snapshot_view);
}

enum err
api_cart_add_item(struct request *req)
{
	static const char *const keys[] = {"variant", "quantity", NULL};
	struct cart_op c = {
	    .change = {.op = CART_ADD, .id = api_path_id(req, "id")}};

	valid_only_keys(req->json, keys, &c.v);
	valid_ref(req->json, "variant", "variant", c.variant, sizeof(c.variant),
		  &c.v);
	valid_int(req->json, "quantity", "quantity", 1, 9999, 1,
		  &c.change.quantity, &c.v);
	if (verr_answer(req, &c.v))
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
	valid_only_keys(req->json, keys, &c.v);
	if (json_object_object_get(req->json, "quantity") == NULL)
		verr_add(&c.v, "quantity", "is required");
	valid_int(req->json, "quantity", "quantity", 0, 9999, 0,
		  &c.change.quantity, &c.v);
	if (verr_answer(req, &c.v))
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
		valid_only_keys(req->json, keys, &c.v);
		valid_str(req->json, "code", "code", 64, &c.change.code, &c.v);
		if (c.change.code == NULL && c.v.errors == NULL)
			verr_add(&c.v, "code", "is required");
		if (verr_answer(req, &c.v))
			return ERR_OK;
	}
	return run_cart_op(req, &c, 200);
}

/* Checkout steps: PUT and GET /api/checkouts/{id}. */

/* An address's keys, by part, and the other spelling a part may come in
 * (read when the first is absent). */
static const char *const addr_keys[ADDR__MAX] = {
    "firstName", "lastName", "company",	 "street", "city",
    "postcode",	 "country",  "province", "phone",
};
static const char *const addr_alt[ADDR__MAX] = {
    [ADDR_COUNTRY] = "countryCode",
    [ADDR_PROVINCE] = "provinceCode",
};

struct put_ctx {
	struct request *req;
	int64_t id;
	struct creds creds;
	enum step step;
	struct step_in in;
	unsigned alt[2]; /* by address, a bit per part read from addr_alt */
	struct verr v;
	struct step_out out;
	struct json_object *snapshot;
};

/* Whether k is one of an address's keys. */
static int
addr_key(const char *k)
{
	size_t i;

	for (i = 0; i < ADDR__MAX; i++)
		if (strcmp(k, addr_keys[i]) == 0 ||
		    (addr_alt[i] != NULL && strcmp(k, addr_alt[i]) == 0))
			return 1;
	return 0;
}

static void
decode_address(struct json_object *a, const char *name, struct address *out,
	       unsigned *alt)
{
	char field[96];
	size_t i;

	if (a == NULL)
		return;
	out->has = ADDRESS_UNREADABLE;
	if (!json_object_is_type(a, json_type_object)) {
		verr_add(&out->shape, name, "must be an object");
		return;
	}
	out->has = ADDRESS_GIVEN;
	json_object_object_foreach(a, k, val)
	{
		(void)val;
		snprintf(field, sizeof(field), "%s.%s", name, k);
		if (!addr_key(k))
			verr_add(&out->shape, field, "unknown field");
	}
	for (i = 0; i < ADDR__MAX; i++) {
		const char *key = addr_keys[i];

		if (json_object_object_get(a, key) == NULL &&
		    addr_alt[i] != NULL &&
		    json_object_object_get(a, addr_alt[i]) != NULL) {
			key = addr_alt[i];
			*alt |= 1u << i;
		}
		out->part[i] = valid_text_of(a, key);
	}
}

/* A selection step's list: one entry naming a method (id or code). */
static void
decode_method(struct json_object *body, const char *list, struct step_in *in)
{
	struct json_object *a = json_object_object_get(body, list), *m;
	char field[64];

	snprintf(field, sizeof(field), "%s[0].method", list);
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != 1) {
		verr_add(&in->decoded, list,
			 "must be a list of one entry per proposed item");
		return;
	}
	m = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(m, json_type_object))
		verr_add(&in->decoded, field, "is required");
	else
		valid_ref(m, "method", field, in->method, sizeof(in->method),
			  &in->decoded);
}

/* The body of step c->step as the core's input. */
static void
decode_step(struct json_object *body, struct put_ctx *c)
{
	struct step_in *in = &c->in;

	in->expected = -1;
	if (c->step == STEP_ADDRESS) {
		decode_address(json_object_object_get(body, "shippingAddress"),
			       "shippingAddress", &in->ship, &c->alt[0]);
		decode_address(json_object_object_get(body, "billingAddress"),
			       "billingAddress", &in->bill, &c->alt[1]);
		in->email = valid_text_of(body, "email");
	} else if (c->step == STEP_SHIPPING || c->step == STEP_PAYMENT) {
		decode_method(
		    body, c->step == STEP_SHIPPING ? "shipments" : "payments",
		    in);
	} else if (c->step == STEP_FINALIZE) {
		valid_str(body, "notes", "notes", 1000, &in->notes,
			  &in->decoded);
		valid_int(body, "expectedTotal", "expectedTotal", 0, INT64_MAX,
			  -1, &in->expected, &in->decoded);
	}
}

/* The canonical names of the core's fields (verr_name); a part read from
 * its other spelling is named so, but for its country code's check. */
static const char *
field_name(void *arg, enum field f, enum vcode code, char *buf, size_t len)
{
	static const char *const names[F__MAX] = {
	    [F_ITEMS] = "items",
	    [F_EMAIL] = "email",
	    [F_SHIP_METHOD] = "shipments[0].method",
	    [F_PAY_METHOD] = "payments[0].method",
	    [F_SHIP_ADDRESS] = "shippingAddress",
	    [F_BILL_ADDRESS] = "billingAddress",
	};
	const struct put_ctx *c = arg;
	int bill = f > F_BILL_ADDRESS;
	enum field base = bill ? F_BILL_ADDRESS : F_SHIP_ADDRESS;
	size_t part = (size_t)(f - base - 1);

	if (f <= F_SHIP_ADDRESS || f == F_BILL_ADDRESS)
		return names[f];
	snprintf(buf, len, "%s.%s", names[base],
		 (c->alt[bill] >> part & 1) && code != V_COUNTRY
		     ? addr_alt[part]
		     : addr_keys[part]);
	return buf;
}

/* Answered inside the step's transaction (idem.c), as answer_cart. */
static void
answer_step(void *arg, struct json_object *snapshot)
{
	struct put_ctx *c = arg;

	res_json(c->req, 200, json_object_get(snapshot));
}

/* Runs the step in its transaction (step_put). */
static enum err
run_step(struct request *req, struct put_ctx *c)
{
	return step_put(req->db, c->id, &c->creds, c->step, &c->in, &c->v,
			&c->out, &c->snapshot, answer_step, c);
}

/*
 * The carrier is asked outside the step's transaction (SPEC 2.9): for a
 * shipping step naming a `carrier:<service>` method, the quotes for the
 * current address and items, before the step; for a finalize, a fresh
 * quote when the finalize found the chosen one expired
 * (ERR_QUOTE_EXPIRED), before it runs again. The order is checked to be
 * the caller's first.
 */
static enum err
carrier_before(struct request *req, struct put_ctx *c, int expired)
{
	struct order_head h;
	struct quotes *q;
	enum err e;

	if (!(c->step == STEP_SHIPPING &&
	      strncmp(c->in.method, "carrier:", 8) == 0) &&
	    !(c->step == STEP_FINALIZE && expired))
		return ERR_OK;
	e = order_authorize(req->db, c->id, &c->creds, 0, &h);
	if (e != ERR_OK || strcmp(h.state, "cart") != 0)
		return e; /* The step answers what the state allows. */
	if (c->step == STEP_FINALIZE)
		return carrier_refresh(req->db, req->curl, c->id);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return ERR_NOMEM;
	e = carrier_quotes(req->db, req->curl, c->id, 0, q);
	free(q);
	return e;
}

/* Purchase runs its own short transactions around the provider calls. */
static enum err
answer_purchase(struct request *req, int64_t id, const struct creds *creds)
{
	struct purchase_out out = {0};
	struct verr v = {0};
	char retry[24];
	enum err e;

	e = purchase(req->db, req->curl, id, creds, req->json,
		     req->idem_resumed, &v, &out);
	switch (e) {
	case ERR_OK:
		res_json(req, 200, out.snapshot);
		out.snapshot = NULL;
		break;
	case ERR_VALIDATION_FAILED:
		if (verr_answer(req, &v))
			e = ERR_OK;
		break;
	case ERR_TOO_MANY_ATTEMPTS:
		snprintf(retry, sizeof(retry), "%lld",
			 (long long)out.retry_after);
		res_header(req, "Retry-After", retry);
		res_problem(req, e,
			    "too many declined cards for this order: try "
			    "again later",
			    NULL);
		e = ERR_OK;
		break;
	case ERR_CARD_DECLINED:
	case ERR_INVALID_TRANSITION:
		res_problem(req, e,
			    e == ERR_CARD_DECLINED
				? "the card was declined"
				: "this order cannot be paid now",
			    out.extra);
		out.extra = NULL;
		e = ERR_OK;
		break;
	default:
		break;
	}
	json_object_put(out.snapshot);
	json_object_put(out.extra);
	verr_free(&v);
	return e;
}

enum err
api_checkout_put(struct request *req)
{
	struct put_ctx c = {.req = req, .id = api_path_id(req, "id")};
	enum err e;

	if (c.id == 0)
		return ERR_NOT_FOUND;
	c.creds = creds_of(req);
	c.step = checkout_step_of(req->json, &c.v);
	if (verr_answer(req, &c.v))
		return ERR_OK;
	if (c.step == STEP_PURCHASE)
		return answer_purchase(req, c.id, &c.creds);
	decode_step(req->json, &c);
	e = carrier_before(req, &c, 0);
	if (e == ERR_OK)
		e = run_step(req, &c);
	if (e == ERR_QUOTE_EXPIRED) {
		e = carrier_before(req, &c, 1);
		if (e == ERR_OK)
			e = run_step(req, &c);
	}
	if (e == ERR_OK && c.out.total_changed) {
		struct json_object *extra = json_object_new_object();

		json_object_object_add(extra, "order", c.snapshot);
		c.snapshot = NULL;
		res_problem(req, ERR_TOTAL_CHANGED,
			    "the total changed: review the order and finalize "
			    "again",
			    extra);
	} else if (e == ERR_VALIDATION_FAILED) {
		verr_name(&c.v, field_name, &c);
		if (verr_answer(req, &c.v))
			e = ERR_OK;
	} else if (e == ERR_INVALID_TRANSITION || e == ERR_OUT_OF_STOCK) {
		res_problem(req, e,
			    e == ERR_OUT_OF_STOCK
				? "not enough stock for some items"
				: "this step is not allowed now",
			    c.out.extra);
		c.out.extra = NULL;
		e = ERR_OK;
	}
	json_object_put(c.snapshot);
	json_object_put(c.out.extra);
	json_object_put(c.out.snapshot);
	verr_free(&c.v);
	step_in_free(&c.in);
	return e;
}

enum err
api_checkout_get(struct request *req)
{
	return answer_view(req, step_view);
}
