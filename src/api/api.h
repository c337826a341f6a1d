/*
 * Endpoint handlers. Each decodes its request, calls the core and writes
 * the answer; none holds a business rule.
 */
#ifndef CHECKOUTD_API_H
#define CHECKOUTD_API_H

#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "http.h"

/* GET /api/checkouts/health/ping, GET /checkouts/health/ping: "pong". */
enum err api_ping(struct request *req);
/* GET /api/health/ready: 200 when the database answers and the schema is
 * current, else 503. */
enum err api_ready(struct request *req);
/* GET /metrics: Prometheus text format. */
enum err api_metrics(struct request *req);
/* GET /api/openapi.yaml: docs/openapi.yaml as built in. */
enum err api_openapi(struct request *req);

/* GET /api/products?page=&limit=: the catalog, a page at a time. */
enum err api_products_list(struct request *req);
/* GET /api/products/{id or code}: one product. */
enum err api_product_get(struct request *req);

/* POST /api/carts: a new cart (guest, or the session's customer). */
enum err api_cart_create(struct request *req);
/* GET /api/carts/{id}, GET /api/orders/{id}: the snapshot. */
enum err api_cart_get(struct request *req);
/* POST /api/carts/{id}/items {variant, quantity}. */
enum err api_cart_add_item(struct request *req);
/* PATCH /api/carts/{id}/items/{itemId} {quantity}; 0 removes. */
enum err api_cart_patch_item(struct request *req);
/* DELETE /api/carts/{id}/items/{itemId}. */
enum err api_cart_delete_item(struct request *req);
/* POST /api/carts/{id}/coupon {code}, DELETE /api/carts/{id}/coupon. */
enum err api_cart_coupon(struct request *req);

/* PUT /api/checkouts/{id}: one step (SPEC 2.3). */
enum err api_checkout_put(struct request *req);
/* GET /api/checkouts/{id}: what the next step needs (SPEC 2.4). */
enum err api_checkout_get(struct request *req);

#ifdef ENABLE_TEST_ROUTES
/* GET /api/_test/sleep?ms=N: sleeps, then 200 (shutdown tests). */
enum err api_test_sleep(struct request *req);
/* Echoes the decoded body and captures as JSON (decoder tests). */
enum err api_test_echo(struct request *req);
#endif

/* src/api/webhooks.c */
enum err api_webhook_stripe(struct request *req);

/* The positive integer path parameter name, or 0 (then answer 404). */
int64_t api_path_id(struct request *req, const char *name);

/* src/api/admin.c: POST /api/admin/orders/{id}/... (SPEC 2.10). */
enum err api_admin_mark_paid(struct request *req);
enum err api_admin_cancel(struct request *req);
enum err api_admin_refund(struct request *req);
enum err api_admin_ship(struct request *req);
/* GET /api/admin/orders?state=&payment_state=&number=&from=&to=&cursor=
 * &limit=, /api/admin/orders/{id}?limit=, /api/admin/orders/{id}/events
 * ?cursor=&limit=: the back office's reads (docs/admin.md). */
enum err api_admin_orders(struct request *req);
enum err api_admin_order(struct request *req);
enum err api_admin_order_events(struct request *req);

/* src/api/seed000.c: POST /checkouts (SPEC 3.1); its body is read raw,
 * so that a malformed one gets the seed's own error. */
enum err api_seed000_checkout(struct request *req);

/* src/api/seed003.c: POST /api/v1/orders/checkout (SPEC 3.4). */
enum err api_seed003_import(struct request *req);

/* src/api/seed002.c: POST /cart/add and POST /orders/checkout (SPEC 3.3). */
enum err api_seed002_cart_add(struct request *req);
enum err api_seed002_checkout(struct request *req);

/* src/api/seed001.c: POST /api/checkouts?account= (SPEC 3.2), and
 * POST /checkouts when seed001_wanted (?account= and an OAuth header). */
enum err api_seed001_checkout(struct request *req);
int seed001_wanted(struct request *req);

/* src/api/dialect.c: what the seed dialects share. */
/* How a seed dialect answers one enum err: status and text. */
struct dialect_answer {
	int status; /* 0: the dialect has no answer of its own */
	const char *text;
};
/* A seed dialect's errors: its key and its one table. */
struct dialect {
	const char *key; /* "message", "error" */
	struct dialect_answer answers[ERR__MAX];
};
/* Answers e the way of d ({"<key>": text} with e's status in d) and gives
 * ERR_OK; gives e itself, answering nothing, when e is ERR_OK or d has no
 * row for it (the edge answers that as problem+json). */
enum err dialect_fail(struct request *req, const struct dialect *d, enum err e);
/* Minor units as a JSON number of major units with 2 decimals. */
struct json_object *dialect_amount(int64_t minor);
/* The request's raw body decoded by the canonical API's JSON decoder
 * (body_decode_json: strict JSON, no name repeated in an object), whatever
 * its Content-Type; NULL when it is empty or not such an object. Kept in
 * the request's pool. */
struct json_object *dialect_body(struct request *req);

#endif
