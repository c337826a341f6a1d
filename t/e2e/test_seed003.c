/*
 * Seed 003 end to end (SPEC 3.4, docs/api-seed003.md): POST
 * /api/v1/orders/checkout imports a completed session of the upstream
 * checkout service (t/fake-checkout-service.py) through place_order, once.
 * The test stack gives the upstream 1 s (seed003.timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define EBOOK	SEED003_EBOOK
#define STICKER "0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a66"
#define ADDR	SEED003_ADDR

/* Whether the fake checkout service still accepts connections. */
static bool
upstream_answers(void)
{
	struct req_opts o = {.base = getenv("SESSION_URL")};
	struct resp r;
	int rc = e2e_request("GET", "/", &o, &r);

	resp_free(&r);
	return rc == 0;
}

/* A session named after the test run, with the given JSON fields. */
static void
session(char id[64], const char *status, const char *items,
	const char *currency, const char *pi)
{
	static int n;
	char path[128], body[2048];

	snprintf(id, 64, "s-%d-%d-%ld", (int)getpid(), n++, (long)time(NULL));
	snprintf(body, sizeof(body),
		 "{\"id\": \"%s\", \"status\": \"%s\", \"currency\": \"%s\", "
		 "\"email\": \"import-%s@example.com\", \"items\": %s, "
		 "\"shippingAddress\": " ADDR ", \"billingAddress\": " ADDR
		 ", \"paymentIntentId\": %s}",
		 id, status, currency, id, items, pi);
	snprintf(path, sizeof(path), "/_sessions/%s", id);
	session_upstream("PUT", path, body);
}

static long
import(const char *id, struct resp *r)
{
	char body[256];
	struct req_opts o = {.ctype = JSON, .body = body};

	snprintf(body, sizeof(body), "{\"checkoutSessionId\": \"%s\"}", id);
	assert_int_equal(e2e_request("POST", "/api/v1/orders/checkout", &o, r),
			 0);
	assert_string_equal(r->content_type, "application/json");
	return r->status;
}

static void
expect_error(const char *id, long status, const char *error)
{
	struct resp r;
	struct json_object *o;

	assert_int_equal(import(id, &r), status);
	o = parse(&r);
	assert_string_equal(text(o, "error"), error);
	json_object_put(o);
	resp_free(&r);
}

static void
test_import_then_again(void **state)
{
	char id[64], path[64], tok[160];
	struct resp r, again;
	struct json_object *o, *it, *ord;
	struct req_opts ro = {.headers = {tok}};
	long order;

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 2, \"price\": "
		"12.5}, {\"productId\": \"" STICKER "\", \"quantity\": 1, "
		"\"price\": 9}]",
		"EUR", "null");
	assert_int_equal(import(id, &r), 201);
	o = parse(&r);
	assert_string_equal(text(o, "status"), "PENDING");
	assert_int_equal(strlen(text(o, "id")), 36);
	/* Σ price × quantity, at the session's prices. */
	assert_true(json_object_get_double(
			json_object_object_get(o, "totalAmount")) == 34.0);
	assert_non_null(strstr(r.body.data, "\"totalAmount\":34.00"));
	it = json_object_array_get_idx(json_object_object_get(o, "items"), 0);
	assert_string_equal(text(it, "productId"), EBOOK);
	assert_int_equal(num(it, "quantity"), 2);
	assert_non_null(strstr(r.body.data, "\"price\":12.50"));
	assert_string_equal(
	    text(json_object_object_get(o, "shippingAddress"), "postalCode"),
	    "10243");
	order = (long)num(o, "order_id");
	/* The order, read with its token: placed, awaiting payment. */
	snprintf(tok, sizeof(tok), "X-Cart-Token: %s", text(o, "token"));
	snprintf(path, sizeof(path), "/api/orders/%ld", order);
	assert_int_equal(e2e_request("GET", path, &ro, &again), 0);
	assert_int_equal(again.status, 200);
	ord = parse(&again);
	assert_string_equal(text(ord, "checkout_state"), "completed");
	assert_string_equal(text(ord, "payment_state"), "awaiting_payment");
	assert_string_equal(text(ord, "uuid"), text(o, "id"));
	assert_int_equal(num(ord, "total"), 3400);
	json_object_put(ord);
	resp_free(&again);
	assert_int_equal(sql("SELECT COUNT(*) FROM order_items WHERE order_id "
			     "= %ld AND immutable = 1",
			     order),
			 2);
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld AND type = 'order.completed'",
			     order),
			 1);
	/* Again: 200, the same body, no second order. */
	assert_int_equal(import(id, &again), 200);
	assert_string_equal(again.body.data, r.body.data);
	resp_free(&again);
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM seed003_imports WHERE session_id = '%s'",
		id),
	    1);
	json_object_put(o);
	resp_free(&r);
}

/* An import with an Idempotency-Key is scoped to its checkoutSessionId
 * (SPEC, "Idempotency"): the same key again answers the first import
 * (201), byte for byte, where a second import without one answers 200. */
static void
test_key_replays_the_import(void **state)
{
	char id[64], body[256], other[256];
	struct json_object *o;

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		"12.5}]",
		"EUR", "null");
	snprintf(body, sizeof(body), "{\"checkoutSessionId\": \"%s\"}", id);
	snprintf(other, sizeof(other), "{\"checkoutSessionId\":\"%s\"}", id);
	assert_key_replays("/api/v1/orders/checkout", "import-once", body,
			   other, &o);
	assert_string_equal(text(o, "status"), "PENDING");
	json_object_put(o);
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM seed003_imports WHERE session_id = '%s'",
		id),
	    1);
}

static void
test_payment_intent(void **state)
{
	char id[64];
	struct resp r;
	struct json_object *o;

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		"15}]",
		"EUR", "\"pi_session_42\"");
	assert_int_equal(import(id, &r), 201);
	o = parse(&r);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments p JOIN "
			     "payment_methods m ON m.id = p.method_id WHERE "
			     "p.order_id = %lld AND p.state = 'processing' AND "
			     "p.provider_ref = 'pi_session_42' AND m.code = "
			     "'stripe'",
			     (long long)num(o, "order_id")),
			 1);
	json_object_put(o);
	resp_free(&r);
}

static void
test_errors(void **state)
{
	char id[64];
	struct resp r;
	struct req_opts o = {.ctype = JSON, .body = "{\"nope\": 1}"};
	long pid;
	struct timespec t0, t1;
	int i;

	(void)state;
	expect_error("no-such-session", 404, "Checkout session not found");
	session(id, "OPEN", "[]", "EUR", "null");
	expect_error(id, 400, "Checkout session is not completed");
	session(id, "EXPIRED", "[]", "EUR", "null");
	expect_error(id, 400, "Checkout session is not completed");
	session(id, "COMPLETED", "[]", "EUR", "null");
	expect_error(id, 400, "Checkout session has no items");
	session(id, "COMPLETED",
		"[{\"productId\": \"0b7e3a4c-0000-4000-8000-000000000000\", "
		"\"quantity\": 1, \"price\": 1}]",
		"EUR", "null");
	expect_error(id, 400, "Invalid session data");
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		"1}]",
		"USD", "null");
	expect_error(id, 400, "Invalid session data");
	assert_int_equal(e2e_request("POST", "/api/v1/orders/checkout", &o, &r),
			 0);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	/* Upstream 5xx, slow past the timeout, down: 500 in time. */
	session_upstream("POST", "/_control",
			 "{\"status\": 503, \"count\": 1}");
	expect_error("demo-session-1x", 500, "Checkout service unavailable");
	session_upstream("POST", "/_control", "{\"delay\": 3, \"count\": 1}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error("demo-session-1y", 500, "Checkout service unavailable");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	pid = stack_pid("fake-checkout-service");
	assert_true(pid > 0);
	kill((pid_t)pid, SIGTERM);
	for (i = 0; i < 100 && upstream_answers(); i++)
		usleep(50 * 1000);
	assert_false(upstream_answers());
	expect_error("demo-session-1z", 500, "Checkout service unavailable");
	assert_int_equal(stack("up", NULL), 0);
}

/* The cart token of an import is not stored in clear (docs/carts.md):
 * seed003_imports keeps the answer without it, and a re-import, also by
 * a restarted checkoutd, still answers the same body, token included. */
static void
test_token_stored_as_hash_only(void **state)
{
	char id[64], tok[160], path[64];
	struct resp r, again;
	struct json_object *o;
	struct req_opts ro = {.headers = {tok}};

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		"11}]",
		"EUR", "null");
	assert_int_equal(import(id, &r), 201);
	o = parse(&r);
	assert_int_equal(strlen(text(o, "token")), 64);
	assert_int_equal(sql("SELECT COUNT(*) FROM seed003_imports WHERE "
			     "session_id = '%s' AND order_id = %lld",
			     id, (long long)num(o, "order_id")),
			 1);
	assert_int_equal(sql("SELECT COUNT(*) FROM seed003_imports WHERE "
			     "INSTR(body, '%s') > 0",
			     text(o, "token")),
			 0);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE token_sha256 "
			     "= UNHEX(SHA2('%s', 256))",
			     text(o, "token")),
			 1);
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	assert_int_equal(stack("up", NULL), 0);
	assert_int_equal(import(id, &again), 200);
	assert_string_equal(again.body.data, r.body.data);
	resp_free(&again);
	snprintf(tok, sizeof(tok), "X-Cart-Token: %s", text(o, "token"));
	snprintf(path, sizeof(path), "/api/orders/%lld",
		 (long long)num(o, "order_id"));
	assert_int_equal(e2e_request("GET", path, &ro, &again), 0);
	assert_int_equal(again.status, 200);
	resp_free(&again);
	/* An order whose token is not the derived one (imported before
	 * migration 0013, or under another security.secret): the same body,
	 * token null, never a wrong token. */
	sql("UPDATE orders SET token_sha256 = UNHEX(SHA2('other', 256)) WHERE "
	    "id = %lld",
	    (long long)num(o, "order_id"));
	assert_int_equal(import(id, &again), 200);
	assert_non_null(strstr(again.body.data, ",\"token\":null}"));
	assert_int_equal(
	    strncmp(again.body.data, r.body.data,
		    strlen(again.body.data) - strlen(",\"token\":null}")),
	    0);
	resp_free(&again);
	json_object_put(o);
	resp_free(&r);
}

/* CHECKOUT_SERVICE_URL in the environment wins over the file's
 * seed003.checkout_service_url (SPEC 4): pointed at a closed port, the
 * import cannot reach the file's upstream, which sees no call. */
static void
test_environment_url_wins(void **state)
{
	char id[64];
	struct json_object *c;
	int64_t before;

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		"10}]",
		"EUR", "null");
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	assert_int_equal(stack("up", "CHECKOUT_SERVICE_URL=http://127.0.0.1:9"),
			 0);
	c = other_json("SESSION_URL", "GET", "/_calls", NULL);
	before = num(c, "calls");
	json_object_put(c);
	expect_error(id, 500, "Checkout service unavailable");
	c = other_json("SESSION_URL", "GET", "/_calls", NULL);
	assert_int_equal(num(c, "calls"), before);
	json_object_put(c);
	/* Back to the file's upstream: the same session imports. */
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	assert_int_equal(stack("up", NULL), 0);
	expect_error("no-such-session", 404, "Checkout session not found");
}

struct racer {
	const char *id;
	long status;
	struct buf body;
	pthread_barrier_t *b;
};

static void *
race(void *arg)
{
	struct racer *x = arg;
	struct resp r;

	pthread_barrier_wait(x->b);
	x->status = import(x->id, &r);
	buf_append(&x->body, r.body.data, r.body.len);
	buf_append(&x->body, "", 1);
	resp_free(&r);
	return NULL;
}

static void
test_five_at_once(void **state)
{
	struct racer x[5];
	pthread_t t[5];
	pthread_barrier_t b;
	char id[64];
	int i, created = 0, again = 0, same = 0;

	(void)state;
	session(id, "COMPLETED",
		"[{\"productId\": \"" EBOOK "\", \"quantity\": 3, \"price\": "
		"14}]",
		"EUR", "null");
	/* The upstream takes a moment: the five are in flight together. */
	session_upstream("POST", "/_control", "{\"delay\": 0.3, \"count\": 5}");
	pthread_barrier_init(&b, NULL, 5);
	for (i = 0; i < 5; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].id = id;
		x[i].b = &b;
		pthread_create(&t[i], NULL, race, &x[i]);
	}
	for (i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&b);
	for (i = 0; i < 5; i++) {
		created += x[i].status == 201;
		again += x[i].status == 200;
		same += strcmp(x[i].body.data, x[0].body.data) == 0;
	}
	for (i = 0; i < 5; i++)
		buf_free(&x[i].body);
	assert_int_equal(same, 5);
	assert_int_equal(created, 1);
	assert_int_equal(again, 4);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE email = "
			     "'import-%s@example.com'",
			     id),
			 1);
	assert_true(e2e_overlaps(" POST /api/v1/orders/checkout", 5) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_import_then_again),
	    cmocka_unit_test(test_payment_intent),
	    cmocka_unit_test(test_key_replays_the_import),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_five_at_once),
	    cmocka_unit_test(test_token_stored_as_hash_only),
	    cmocka_unit_test(test_environment_url_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
