/*
 * Purchase and inbound webhooks end to end (SPEC 2.7, 2.8): through nginx
 * to checkoutd, which calls the Stripe-compatible fake (t/fake-stripe.py)
 * over HTTP. The stack runs with payment.timeout = 5 s, 12 workers and
 * outbound.max_concurrent = 8 (t/run-tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "stripe.h"

#define CARD(n)                                                                \
	"number=" n "&expiryMonth=12&expiryYear=2030&securityCode=123&"        \
	"cardholderName=John+Doe"
#define VISA	 "4242424242424242"
#define DECLINED "4000000000000002"
#define FUNDS	 "4000000000009995"
#define SECURE	 "4000002500003155"

/* A request to the Stripe fake; returns its parsed answer. */
static struct json_object *
fake(const char *method, const char *path, const char *body)
{
	return other_json("STRIPE_URL", method, path, body);
}

static void
fake_rule(const char *op, double delay, int status)
{
	char body[160];

	snprintf(body, sizeof(body),
		 "{\"op\": \"%s\", \"delay\": %.2f, \"status\": %d, "
		 "\"count\": 1}",
		 op, delay, status);
	json_object_put(fake("POST", "/_control", body));
}

/* How many calls of op the fake received since its last reset. */
static int
fake_calls(const char *op)
{
	struct json_object *o = fake("GET", "/_calls", NULL), *calls;
	size_t i;
	int n = 0;

	calls = json_object_object_get(o, "calls");
	for (i = 0; i < json_object_array_length(calls); i++)
		if (strcmp(text(json_object_array_get_idx(calls, i), "op"),
			   op) == 0)
			n++;
	json_object_put(o);
	return n;
}

static int
fake_charges(void)
{
	struct json_object *o = fake("GET", "/_calls", NULL);
	int n = (int)num(o, "charges");

	json_object_put(o);
	return n;
}

static void
fake_reset(void)
{
	json_object_put(fake("POST", "/_reset", "{}"));
}

/* A placed order paid with the stripe method, awaiting payment. */
static void
placed(struct cart *c)
{
	struct json_object *o;

	new_cart(c);
	json_object_put(call(c, "POST", sub(c, "/items"), FORM,
			     "variant=tshirt-m&quantity=1", 201));
	put(c, FORM, ADDRESS_FORM, 200);
	put(c, FORM, "shipments[0][method]=flat_eu", 200);
	put(c, FORM, "payments[0][method]=stripe", 200);
	o = call(c, "PUT", co(c), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	json_object_put(o);
}

static struct json_object *
payments(struct json_object *o)
{
	return json_object_object_get(o, "payments");
}

static const char *
payment_state(struct json_object *o, size_t i)
{
	return text(json_object_array_get_idx(payments(o), i), "state");
}

static int64_t
events(struct cart *c, const char *type)
{
	return sql("SELECT COUNT(*) FROM outbox_events WHERE order_id = %ld "
		   "AND type = '%s'",
		   c->id, type);
}

static void
test_purchase_succeeds(void **state)
{
	struct cart c;
	struct json_object *o, *p;

	(void)state;
	fake_reset();
	placed(&c);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 1);
	p = json_object_array_get_idx(payments(o), 0);
	assert_string_equal(text(p, "state"), "completed");
	assert_string_equal(text(p, "card_brand"), "visa");
	assert_string_equal(text(p, "card_last4"), "4242");
	assert_null(strstr(json_object_to_json_string(o), VISA));
	json_object_put(o);
	assert_int_equal(fake_calls("create"), 1);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(events(&c, "order.completed"), 1);
	assert_int_equal(events(&c, "order.paid"), 1);
	/* Paid: another purchase is refused without a call. */
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 409);
	assert_string_equal(text(o, "code"), "invalid_transition");
	json_object_put(o);
	assert_int_equal(fake_calls("confirm"), 1);
	/* The idempotency keys of SPEC 2.7. */
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND attempts = 1 AND provider_ref LIKE "
			     "'pi_%%'",
			     c.id),
			 1);
}

/* Every transaction retried (src/http.c, tx_fault: test builds). */
#define RETRY "X-Test-Tx-Retry: 1"

/* Transactions db_tx ran again so far (all workers). */
static long
tx_retries(void)
{
	static const char series[] = "\ncheckoutd_db_tx_retries_total ";
	const char *p;
	struct resp r;
	long n;

	assert_int_equal(e2e_request("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	p = strstr(r.body.data, series);
	assert_non_null(p);
	n = atol(p + strlen(series));
	resp_free(&r);
	return n;
}

/* call() with every transaction of the request failing once as a
 * deadlock would, then run again. */
static struct json_object *
retried(struct cart *c, const char *method, const char *path, const char *ctype,
	const char *body, long want)
{
	return call_with(c, method, path, ctype, body, want, RETRY);
}

/* Each answer is the state that committed: the snapshot a GET reads. */
static void
answer_is_stored(struct cart *c, struct json_object *o)
{
	struct json_object *g = call(c, "GET", c->path, NULL, NULL, 200);

	assert_int_equal(num(o, "total"), num(g, "total"));
	assert_string_equal(text(o, "checkout_state"),
			    text(g, "checkout_state"));
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "items")),
	    json_object_array_length(json_object_object_get(g, "items")));
	json_object_put(g);
}

/*
 * A whole checkout whose every transaction fails once after its work and
 * runs again (a deadlock's retry): cart_create, cart_change (add, set,
 * coupon), step_put (each step), purchase's prepare, start and record.
 * The answers are those of the run that committed, nothing is done
 * twice (events, stock, the provider's calls), and under the sanitizer
 * build nothing the pool rewinds is used after (t/run-tests checks
 * checkoutd's log).
 */
static void
test_transactions_retried(void **state)
{
	struct req_opts create = {.headers = {RETRY}};
	struct json_object *o, *p;
	char path[96], kh[64];
	struct resp r;
	struct cart c;
	long before;
	int64_t held;

	(void)state;
	/* The hook is the test build's (--enable-test-routes): the
	 * package's binaries (t/deb-check.sh) have none. */
	if (!test_build()) {
		print_message("not a test build: no retry hook to force\n");
		skip();
	}
	fake_reset();
	before = tx_retries();
	held = stock("tshirt-m", -1);
	assert_int_equal(e2e_request("POST", "/api/carts", &create, &r), 0);
	assert_int_equal(r.status, 201);
	o = parse(&r);
	resp_free(&r);
	c.id = (long)num(o, "id");
	assert_non_null(text(o, "token"));
	snprintf(c.token, sizeof(c.token), "%s", text(o, "token"));
	snprintf(c.path, sizeof(c.path), "/api/carts/%ld", c.id);
	snprintf(c.token_header, sizeof(c.token_header), "X-Cart-Token: %s",
		 c.token);
	json_object_put(o);
	assert_true(tx_retries() >= before + 1);

	o = retried(&c, "POST", sub(&c, "/items"), FORM,
		    "variant=tshirt-m&quantity=3", 201);
	answer_is_stored(&c, o);
	snprintf(path, sizeof(path), "%s/items/%lld", c.path,
		 (long long)num(json_object_array_get_idx(
				    json_object_object_get(o, "items"), 0),
				"id"));
	json_object_put(o);
	o = retried(&c, "PATCH", path, JSON, "{\"quantity\": 2}", 200);
	assert_int_equal(num(json_object_array_get_idx(
				 json_object_object_get(o, "items"), 0),
			     "quantity"),
			 2);
	answer_is_stored(&c, o);
	json_object_put(o);
	/* A refusal inside the transaction: its errors, once. */
	o = retried(&c, "POST", sub(&c, "/coupon"), FORM, "code=NOPE", 422);
	assert_string_equal(first_error_field(o), "code");
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "errors")), 1);
	json_object_put(o);
	o = retried(&c, "POST", sub(&c, "/coupon"), JSON,
		    "{\"code\": \"WELCOME10\"}", 200);
	answer_is_stored(&c, o);
	json_object_put(o);

	json_object_put(retried(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 200));
	json_object_put(retried(&c, "PUT", co(&c), FORM,
				"shipments[0][method]=flat_eu", 200));
	/* A refusal of a step: its errors once, the state unchanged. */
	o = retried(&c, "PUT", co(&c), FORM, "payments[0][method]=nope", 422);
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "errors")), 1);
	json_object_put(o);
	json_object_put(retried(&c, "PUT", co(&c), FORM,
				"payments[0][method]=stripe", 200));
	o = retried(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	answer_is_stored(&c, o);
	json_object_put(o);
	assert_int_equal(stock("tshirt-m", -1), held + 2);

	o = retried(&c, "PUT", co(&c), FORM, CARD(VISA), 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 1);
	p = json_object_array_get_idx(payments(o), 0);
	assert_string_equal(text(p, "state"), "completed");
	assert_string_equal(text(p, "card_last4"), "4242");
	json_object_put(o);
	assert_int_equal(fake_calls("create"), 1);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(events(&c, "order.completed"), 1);
	assert_int_equal(events(&c, "order.paid"), 1);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND attempts = 1",
			     c.id),
			 1);
	/* create, add, set, coupon, three steps, finalize, purchase's
	 * prepare, start and record: each ran twice. */
	assert_true(tx_retries() >= before + 11);

	/* An idempotent request retried: its stored answer is the one
	 * that committed, replayed as it was sent. */
	new_cart(&c);
	snprintf(kh, sizeof(kh), "Idempotency-Key: retry-%ld", c.id);
	{
		struct req_opts k = {.ctype = FORM,
				     .body = "variant=tshirt-m&quantity=1",
				     .headers = {c.token_header, kh, RETRY}};
		struct resp a, b;

		assert_int_equal(e2e_request("POST", sub(&c, "/items"), &k, &a),
				 0);
		assert_int_equal(a.status, 201);
		k.headers[2] = NULL;
		assert_int_equal(e2e_request("POST", sub(&c, "/items"), &k, &b),
				 0);
		assert_int_equal(b.status, 201);
		assert_int_equal(a.body.len, b.body.len);
		assert_memory_equal(a.body.data, b.body.data, a.body.len);
		resp_free(&a);
		resp_free(&b);
	}
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "items")), 1);
	json_object_put(o);
}

/* A keyed purchase (the card VISA), with header h when not NULL. */
static void
pay_keyed(struct cart *c, const char *key, const char *h, struct resp *r)
{
	*r = keyed_with(c, "PUT", co(c), key, FORM, CARD(VISA), h);
}

/*
 * A purchase whose last COMMIT went through while its answer was lost
 * (the connection died during the COMMIT: a Galera node killed as it
 * replicated the writeset; src/http.c answer_lost in test builds) answers
 * 503. Its answer was stored with the work (the paid order is rendered
 * inside the transaction that records the payment), so the same key's
 * retry replays it: 200 with the paid order and its one charge, not 409
 * "this order cannot be paid now" (t/e2e/test_cluster.c's load with a
 * node killed saw that). A refusal retried with its key stays a refusal:
 * only a 5xx leaves the key to be resumed.
 */
static void
test_answer_lost_then_retried(void **state)
{
	struct cart c;
	struct resp a, b, d;
	struct json_object *o;
	char key[32];

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no lost answer to force\n");
		skip();
	}
	fake_reset();
	placed(&c);
	snprintf(key, sizeof(key), "lost-%ld", c.id);
	pay_keyed(&c, key, "X-Test-Answer-Lost: 1", &a);
	assert_int_equal(a.status, 503);
	resp_free(&a);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE id = %ld AND "
			     "payment_state = 'paid'",
			     c.id),
			 1);
	pay_keyed(&c, key, NULL, &b);
	assert_int_equal(b.status, 200);
	o = parse(&b);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 1);
	assert_string_equal(payment_state(o, 0), "completed");
	json_object_put(o);
	pay_keyed(&c, key, NULL, &d);
	assert_int_equal(d.status, 200);
	assert_int_equal(b.body.len, d.body.len);
	assert_memory_equal(b.body.data, d.body.data, b.body.len);
	resp_free(&b);
	resp_free(&d);
	assert_int_equal(fake_calls("create"), 1);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(fake_charges(), 1);
	assert_int_equal(events(&c, "order.paid"), 1);

	/* Paid: another key is refused, and so is its retry. */
	snprintf(key, sizeof(key), "again-%ld", c.id);
	pay_keyed(&c, key, NULL, &a);
	assert_int_equal(a.status, 409);
	pay_keyed(&c, key, NULL, &b);
	assert_int_equal(b.status, 409);
	o = parse(&b);
	assert_string_equal(text(o, "code"), "invalid_transition");
	json_object_put(o);
	resp_free(&a);
	resp_free(&b);
	assert_int_equal(fake_calls("confirm"), 1);
}

static void
test_declined_then_paid(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	fake_reset();
	placed(&c);
	o = call(&c, "PUT", co(&c), FORM, CARD(DECLINED), 402);
	assert_string_equal(text(o, "code"), "card_declined");
	assert_string_equal(text(o, "decline_code"), "card_declined");
	json_object_put(o);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 2);
	assert_string_equal(payment_state(o, 0), "failed");
	assert_string_equal(payment_state(o, 1), "completed");
	json_object_put(o);
	assert_int_equal(fake_charges(), 2);
	assert_int_equal(events(&c, "payment.failed"), 1);
	assert_int_equal(events(&c, "order.paid"), 1);
	/* Insufficient funds, as JSON: its own decline code. */
	placed(&c);
	o = call(&c, "PUT", co(&c), JSON,
		 "{\"number\": \"" FUNDS "\", \"expiryMonth\": 1, "
		 "\"expiryYear\": 2031, \"securityCode\": \"999\"}",
		 402);
	assert_string_equal(text(o, "decline_code"), "insufficient_funds");
	assert_string_equal(text(o, "message"),
			    "Your card has insufficient funds.");
	json_object_put(o);
}

static void
test_card_checks_before_any_call(void **state)
{
	static const struct {
		const char *body, *field;
	} rows[] = {
	    {"number=4242424242424241&expiryMonth=12&expiryYear=2030&"
	     "securityCode=123",
	     "number"},
	    {"number=4242&expiryMonth=12&expiryYear=2030&securityCode=123",
	     "number"},
	    {"number=4242424242424242&expiryMonth=13&expiryYear=2030&"
	     "securityCode=123",
	     "expiryMonth"},
	    {"number=4242424242424242&expiryMonth=1&expiryYear=2020&"
	     "securityCode=123",
	     "expiryYear"},
	    {"number=4242424242424242&expiryMonth=1&expiryYear=2030&"
	     "securityCode=12a",
	     "securityCode"},
	    {"number=4242424242424242&expiryMonth=1&expiryYear=2030",
	     "securityCode"},
	    {"paymentToken=pm_card_visa&number=4242424242424242",
	     "paymentToken"},
	};
	struct cart c;
	struct json_object *o;
	size_t i;

	(void)state;
	fake_reset();
	placed(&c);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		o = call(&c, "PUT", co(&c), FORM, rows[i].body, 422);
		assert_string_equal(first_error_field(o), rows[i].field);
		assert_null(strstr(json_object_to_json_string(o), "4242"));
		json_object_put(o);
	}
	assert_int_equal(fake_calls("create") + fake_calls("confirm"), 0);
	/* A token works as well as a card. */
	o = call(&c, "PUT", co(&c), FORM, "paymentToken=pm_card_visa", 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
}

static void
test_refusals(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	fake_reset();
	/* Before completion. */
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=tshirt-m&quantity=1", 201));
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 409);
	assert_string_equal(text(o, "code"), "invalid_transition");
	json_object_put(o);
	/* Offline: an admin marks it paid. */
	put(&c, FORM, ADDRESS_FORM, 200);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	put(&c, FORM, "payments[0][method]=offline", 200);
	put(&c, NULL, NULL, 200);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 409);
	assert_string_equal(text(o, "code"), "invalid_transition");
	json_object_put(o);
	assert_int_equal(fake_calls("create"), 0);
	/* No credentials; another cart's token. */
	{
		struct resp r;
		struct req_opts ro = {.ctype = FORM, .body = CARD(VISA)};

		assert_int_equal(e2e_request("PUT", co(&c), &ro, &r), 0);
		assert_int_equal(r.status, 401);
		resp_free(&r);
	}
}

static void
test_decline_lockout(void **state)
{
	struct cart c;
	struct json_object *o;
	struct resp r;
	int i;

	(void)state;
	fake_reset();
	placed(&c);
	for (i = 0; i < 5; i++)
		json_object_put(
		    call(&c, "PUT", co(&c), FORM, CARD(DECLINED), 402));
	{
		struct req_opts ro = {.ctype = FORM,
				      .body = CARD(VISA),
				      .headers = {c.token_header}};

		assert_int_equal(e2e_request("PUT", co(&c), &ro, &r), 0);
		assert_int_equal(r.status, 429);
		assert_non_null(resp_header(&r, "Retry-After"));
		assert_true(atoi(resp_header(&r, "Retry-After")) > 800);
		o = parse(&r);
		assert_string_equal(text(o, "code"), "too_many_attempts");
		json_object_put(o);
		resp_free(&r);
	}
	assert_int_equal(fake_charges(), 5);
}

/* Confirm slower than payment.timeout: 504, the payment stays
 * processing; the fake finishes the charge anyway. The next purchase, with
 * another card, finds it succeeded: one charge, no second confirm. */
static void
test_confirm_timeout_then_reconciled(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	fake_reset();
	placed(&c);
	fake_rule("confirm", 6, 0);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 504);
	assert_string_equal(text(o, "code"), "provider_timeout");
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND state = 'processing'",
			     c.id),
			 1);
	sleep(2); /* The fake's answer is lost, its work done. */
	o = call(&c, "PUT", co(&c), FORM, "paymentToken=pm_card_visa", 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 1);
	json_object_put(o);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(fake_calls("retrieve"), 1);
	assert_int_equal(fake_charges(), 1);
}

/* Confirm slower than payment.timeout (504), and the next purchase at
 * once, while that confirm still runs at the provider: the intent waits
 * for a payment method with no decline on it, so it is cancelled before
 * a fresh payment is charged; the late confirm then finds it cancelled.
 * One charge (two, when such an intent was taken for failed). */
static void
test_confirm_timeout_then_retry_at_once(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	fake_reset();
	placed(&c);
	/* The confirm charges only after 7 s (payment.timeout is 5 s). */
	json_object_put(fake("POST", "/_control",
			     "{\"op\": \"confirm\", \"delay\": 7, \"late\": "
			     "true, \"count\": 1}"));
	json_object_put(call(&c, "PUT", co(&c), FORM, CARD(VISA), 504));
	o = call(&c, "PUT", co(&c), FORM, "paymentToken=pm_card_visa", 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	sleep(3); /* The first confirm ends at the provider. */
	assert_int_equal(fake_calls("cancel"), 1);
	assert_int_equal(fake_charges(), 1);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND state = 'completed'",
			     c.id),
			 1);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND state = 'cancelled'",
			     c.id),
			 1);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
}

/* A keyed purchase whose confirm timed out (504: its key released, not
 * dropped), its payment settled since by checkoutctl reconcile: the same
 * key's retry is that purchase resumed, 200 with the paid order and its
 * one charge (a new request would be refused: the order is paid). */
static void
test_timeout_settled_then_same_key(void **state)
{
	struct cart c;
	struct resp r;
	struct json_object *o;
	char key[32], cmd[512];

	(void)state;
	fake_reset();
	placed(&c);
	fake_rule("confirm", 6, 0);
	snprintf(key, sizeof(key), "slow-%ld", c.id);
	pay_keyed(&c, key, NULL, &r);
	assert_int_equal(r.status, 504);
	resp_free(&r);
	sleep(2); /* The fake's answer is lost, its work done. */
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" reconcile");
	assert_int_equal(system(cmd), 0);
	pay_keyed(&c, key, NULL, &r);
	assert_int_equal(r.status, 200);
	o = parse(&r);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(json_object_array_length(payments(o)), 1);
	json_object_put(o);
	resp_free(&r);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(fake_charges(), 1);
}

static void
test_timeout_then_checkoutctl_reconcile(void **state)
{
	struct cart c;
	char cmd[1024];
	struct json_object *o;

	(void)state;
	fake_reset();
	placed(&c);
	fake_rule("confirm", 6, 0);
	json_object_put(call(&c, "PUT", co(&c), FORM, CARD(VISA), 504));
	sleep(2);
	/* Another host's reconcile holds the payment's lease: this one
	 * leaves it alone (no question to the provider). */
	sql("UPDATE payments SET reconcile_until = UTC_TIMESTAMP() + "
	    "INTERVAL 1 HOUR WHERE order_id = %ld",
	    c.id);
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" reconcile");
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fake_calls("retrieve"), 0);
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND state = 'processing'",
			     c.id),
			 1);
	/* The lease ran out: two reconciles at once, one asks. */
	sql("UPDATE payments SET reconcile_until = UTC_TIMESTAMP() - "
	    "INTERVAL 1 SECOND WHERE order_id = %ld",
	    c.id);
	snprintf(cmd, sizeof(cmd),
		 "ctl=\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\"; "
		 "conf=\"$STACK_DIR/checkoutd.conf\"; "
		 "\"$ctl\" --config \"$conf\" reconcile & "
		 "\"$ctl\" --config \"$conf\" reconcile; r=$?; "
		 "wait $! && exit $r");
	assert_int_equal(system(cmd), 0);
	o = call(&c, "GET", sub(&c, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_string_equal(payment_state(o, 0), "completed");
	json_object_put(o);
	assert_int_equal(fake_calls("confirm"), 1);
	assert_int_equal(fake_calls("retrieve"), 1);
	assert_int_equal(events(&c, "order.paid"), 1);
}

/* The create call times out: the payment stays new without an intent;
 * the next purchase repeats the create with the same key, which the fake
 * replays: one intent. */
static void
test_create_timeout(void **state)
{
	struct cart c;
	struct json_object *o, *intents;

	(void)state;
	fake_reset();
	placed(&c);
	fake_rule("create", 6, 0);
	json_object_put(call(&c, "PUT", co(&c), FORM, CARD(VISA), 504));
	assert_int_equal(sql("SELECT COUNT(*) FROM payments WHERE order_id = "
			     "%ld AND state = 'new' AND provider_ref IS NULL",
			     c.id),
			 1);
	sleep(2);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	o = fake("GET", "/_intents", NULL);
	intents = json_object_object_get(o, "intents");
	assert_int_equal(json_object_array_length(intents), 1);
	json_object_put(o);
	assert_int_equal(fake_calls("create"), 2);
}

/* 3-D Secure: 200 with next_action; a purchase with another card cancels
 * the first intent at the provider, then pays. */
static void
test_three_d_secure_then_new_card(void **state)
{
	struct cart c;
	struct json_object *o, *p, *next, *intents;

	(void)state;
	fake_reset();
	placed(&c);
	o = call(&c, "PUT", co(&c), FORM, CARD(SECURE), 200);
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	p = json_object_array_get_idx(payments(o), 0);
	assert_string_equal(text(p, "state"), "processing");
	next = json_object_object_get(p, "next_action");
	assert_string_equal(text(next, "type"), "redirect_to_url");
	json_object_put(o);
	o = call(&c, "PUT", co(&c), FORM, CARD(VISA), 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_string_equal(payment_state(o, 0), "cancelled");
	assert_string_equal(payment_state(o, 1), "completed");
	json_object_put(o);
	o = fake("GET", "/_intents", NULL);
	intents = json_object_object_get(o, "intents");
	assert_int_equal(json_object_array_length(intents), 2);
	assert_string_equal(
	    text(json_object_array_get_idx(intents, 0), "status"), "canceled");
	assert_string_equal(
	    text(json_object_array_get_idx(intents, 1), "status"), "succeeded");
	json_object_put(o);
}

struct slow_buyer {
	struct cart c;
	long status;
};

static void *
slow_purchase(void *arg)
{
	struct slow_buyer *b = arg;
	struct req_opts o = {
	    .ctype = FORM, .body = CARD(VISA), .headers = {b->c.token_header}};
	struct resp r;

	if (e2e_request("PUT", co(&b->c), &o, &r) == 0)
		b->status = r.status;
	resp_free(&r);
	return NULL;
}

/* While outbound.max_concurrent (8) purchases wait on a slow provider,
 * the ping still answers at once and a further purchase gets 503 busy. */
static void
test_busy_while_provider_slow(void **state)
{
	struct slow_buyer b[8];
	pthread_t t[8];
	struct cart extra;
	struct timespec t0, t1;
	struct resp r;
	struct json_object *o;
	char path[64];
	int i;

	(void)state;
	fake_reset();
	for (i = 0; i < 8; i++) {
		placed(&b[i].c);
		b[i].status = 0;
	}
	placed(&extra);
	/* Each confirm waits at the fake until released. */
	for (i = 0; i < 8; i++)
		json_object_put(fake("POST", "/_control",
				     "{\"op\": \"confirm\", \"hold\": true, "
				     "\"count\": 1}"));
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, slow_purchase, &b[i]);
	/* Until all 8 wait on the fake's confirm. */
	for (i = 0; i < 200 && fake_calls("confirm") < 8; i++)
		usleep(20 * 1000);
	if (fake_calls("confirm") != 8) {
		json_object_put(fake("POST", "/_release", "{}"));
		for (i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < 8; i++)
			print_message("purchase %d: %ld\n", i, b[i].status);
		fail_msg("%d confirms at the fake, not 8",
			 fake_calls("confirm"));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
			(t1.tv_nsec - t0.tv_nsec) / 1000000 <
		    100);
	o = call(&extra, "PUT", co(&extra), FORM, CARD(VISA), 503);
	assert_string_equal(text(o, "code"), "busy");
	json_object_put(o);
	json_object_put(fake("POST", "/_release", "{}"));
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(b[i].status, 200);
	}
	/* The slots are free again. */
	snprintf(path, sizeof(path), "%s", co(&extra));
	json_object_put(call(&extra, "PUT", path, FORM, CARD(VISA), 200));
}

/* Sends a signed webhook with more headers (NULL-terminated list, or
 * NULL); returns the status. */
static long
webhook_with(const char *body, const char *secret, long long t,
	     const char *const *more)
{
	char hex[65], sig[160];
	struct req_opts o = {.ctype = JSON, .body = body, .headers = {sig}};
	struct resp r;
	long status;
	int i;

	for (i = 0; more != NULL && more[i] != NULL && i < 6; i++)
		o.headers[i + 1] = more[i];
	signature_v1(secret, t, body, strlen(body), hex);
	snprintf(sig, sizeof(sig), "Stripe-Signature: t=%lld,v1=%s", t, hex);
	assert_int_equal(e2e_request("POST", "/api/webhooks/stripe", &o, &r),
			 0);
	status = r.status;
	resp_free(&r);
	return status;
}

/* Sends a signed webhook; returns the status. */
static long
webhook(const char *body, const char *secret, long long t)
{
	return webhook_with(body, secret, t, NULL);
}

/* An order whose payment waits for 3-D Secure; its intent id in pi. */
static void
waiting_for_buyer(struct cart *c, char *pi, size_t len)
{
	struct json_object *o;
	char q[256];
	FILE *p;

	placed(c);
	json_object_put(call(c, "PUT", co(c), FORM, CARD(SECURE), 200));
	snprintf(q, sizeof(q),
		 "mariadb --no-defaults -uroot -N "
		 "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e "
		 "\"SELECT provider_ref FROM payments WHERE order_id = %ld\"",
		 c->id);
	p = popen(q, "r");
	assert_non_null(p);
	assert_non_null(fgets(pi, (int)len, p));
	pclose(p);
	pi[strcspn(pi, "\n")] = '\0';
	o = call(c, "GET", sub(c, ""), NULL, NULL, 200);
	assert_string_equal(payment_state(o, 0), "processing");
	json_object_put(o);
}

static void
test_webhooks(void **state)
{
	const char *secret = getenv("WEBHOOK_SECRET");
	char pi[128], ev[512];
	struct cart c;
	struct json_object *o;
	long long now = (long long)time(NULL);

	(void)state;
	assert_non_null(secret);
	fake_reset();
	waiting_for_buyer(&c, pi, sizeof(pi));
	snprintf(ev, sizeof(ev),
		 "{\"id\": \"evt_%ld_1\", \"object\": \"event\", \"type\": "
		 "\"payment_intent.succeeded\", \"data\": {\"object\": "
		 "{\"id\": \"%s\", \"status\": \"succeeded\"}}}",
		 c.id, pi);
	/* Bad signature, wrong secret, stale timestamp: 400, no change. */
	assert_int_equal(webhook(ev, "whsec_wrong", now), 400);
	assert_int_equal(webhook(ev, secret, now - 3600), 400);
	{
		struct req_opts ro = {.ctype = JSON, .body = ev};
		struct resp r;

		assert_int_equal(
		    e2e_request("POST", "/api/webhooks/stripe", &ro, &r), 0);
		assert_int_equal(r.status, 400);
		resp_free(&r);
	}
	o = call(&c, "GET", sub(&c, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	json_object_put(o);
	/* Valid, twice: one change, one event. */
	assert_int_equal(webhook(ev, secret, now), 200);
	assert_int_equal(webhook(ev, secret, now), 200);
	o = call(&c, "GET", sub(&c, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_string_equal(payment_state(o, 0), "completed");
	json_object_put(o);
	assert_int_equal(events(&c, "order.paid"), 1);
	/* Unknown types are ignored; unknown intents are retried later. */
	assert_int_equal(webhook("{\"id\": \"evt_x_other\", \"type\": "
				 "\"charge.refunded\", \"data\": {}}",
				 secret, now),
			 200);
	snprintf(ev, sizeof(ev),
		 "{\"id\": \"evt_%ld_2\", \"type\": "
		 "\"payment_intent.succeeded\", \"data\": {\"object\": "
		 "{\"id\": \"pi_unknown_%ld\"}}}",
		 c.id, c.id);
	assert_int_equal(webhook(ev, secret, now), 503);
}

/*
 * A webhook ignores Idempotency-Key (SPEC, "Idempotency": no credential),
 * also with an Authorization header (basic auth in the endpoint's URL, a
 * proxy's) or a member a seed takes for its credential: two events with
 * one key are both handled, neither refused as the key's reuse.
 */
static void
test_webhook_ignores_a_key(void **state)
{
	const char *secret = getenv("WEBHOOK_SECRET");
	const char *auth[] = {"Idempotency-Key: wh-key",
			      "Authorization: Basic "
			      "dXNlcjpwYXNz",
			      NULL};
	const char *key[] = {"Idempotency-Key: wh-key", NULL};
	long long now = (long long)time(NULL);
	char ev[256];
	int i;

	(void)state;
	assert_non_null(secret);
	for (i = 0; i < 4; i++) {
		snprintf(ev, sizeof(ev),
			 "{\"id\": \"evt_key_%lld_%d\", %s\"type\": "
			 "\"charge.refunded\", \"data\": {}}",
			 now, i, i < 2 ? "" : "\"session_id\": \"s\", ");
		assert_int_equal(
		    webhook_with(ev, secret, now, i < 2 ? auth : key), 200);
	}
}

struct racer {
	struct cart *c;
	const char *ev;
	long status;
};

static void *
race_webhook(void *arg)
{
	struct racer *r = arg;

	r->status =
	    webhook(r->ev, getenv("WEBHOOK_SECRET"), (long long)time(NULL));
	return NULL;
}

static void *
race_purchase(void *arg)
{
	struct racer *r = arg;
	struct req_opts o = {.ctype = FORM,
			     .body = "paymentToken=pm_card_visa",
			     .headers = {r->c->token_header}};
	struct resp resp;

	if (e2e_request("PUT", co(r->c), &o, &resp) == 0)
		r->status = resp.status;
	resp_free(&resp);
	return NULL;
}

/* The buyer passes 3-D Secure at the bank (the fake settles the intent);
 * its webhook and a purchase race on the payment: one `paid`, one
 * order.paid, whatever the order. */
static void
test_webhook_and_purchase_race(void **state)
{
	struct racer a, b;
	pthread_t ta, tb;
	char pi[128], ev[512], path[200];
	struct cart c;
	struct json_object *o;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		fake_reset();
		waiting_for_buyer(&c, pi, sizeof(pi));
		/* The bank page settles the intent; the test sends the
		 * webhook itself, racing a purchase. */
		snprintf(path, sizeof(path),
			 "/_3ds/%s?result=succeeded&webhook=0", pi);
		json_object_put(fake("GET", path, NULL));
		snprintf(ev, sizeof(ev),
			 "{\"id\": \"evt_race_%ld\", \"type\": "
			 "\"payment_intent.succeeded\", \"data\": "
			 "{\"object\": {\"id\": \"%s\"}}}",
			 c.id, pi);
		a = (struct racer){.c = &c, .ev = ev};
		b = a;
		pthread_create(&ta, NULL, race_webhook, &a);
		pthread_create(&tb, NULL, race_purchase, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		assert_int_equal(a.status, 200);
		assert_true(b.status == 200 || b.status == 409);
		o = call(&c, "GET", sub(&c, ""), NULL, NULL, 200);
		assert_string_equal(text(o, "payment_state"), "paid");
		assert_int_equal(json_object_array_length(payments(o)), 1);
		json_object_put(o);
		assert_int_equal(events(&c, "order.paid"), 1);
		assert_int_equal(fake_calls("confirm"), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_purchase_succeeds),
	    cmocka_unit_test(test_declined_then_paid),
	    cmocka_unit_test(test_card_checks_before_any_call),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_decline_lockout),
	    cmocka_unit_test(test_confirm_timeout_then_reconciled),
	    cmocka_unit_test(test_confirm_timeout_then_retry_at_once),
	    cmocka_unit_test(test_timeout_then_checkoutctl_reconcile),
	    cmocka_unit_test(test_timeout_settled_then_same_key),
	    cmocka_unit_test(test_create_timeout),
	    cmocka_unit_test(test_three_d_secure_then_new_card),
	    cmocka_unit_test(test_busy_while_provider_slow),
	    cmocka_unit_test(test_webhooks),
	    cmocka_unit_test(test_webhook_ignores_a_key),
	    cmocka_unit_test(test_transactions_retried),
	    cmocka_unit_test(test_answer_lost_then_retried),
	    cmocka_unit_test(test_webhook_and_purchase_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
