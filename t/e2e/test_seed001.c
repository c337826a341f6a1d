/*
 * Seed 001 end to end (SPEC 3.2, docs/api-seed001.md): POST
 * /api/checkouts?account= (and POST /checkouts with ?account= and OAuth)
 * through nginx — the checkout object, its totals against the canonical
 * snapshot of the same cart, and the errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define TOKEN2 "Authorization: OAuth demo-oauth-token-account-2"
#define TOKEN3 "Authorization: OAuth demo-oauth-token-account-3"
#define BODY(product, quantity)                                                \
	"{\"checkout\": {\"service\": 30798101, \"payment_token\": null, "     \
	"\"items\": [{\"product\": {\"id\": " product                          \
	"}, \"quantity\": " quantity "}]}}"

static double
dbl(struct json_object *o, const char *key)
{
	return json_object_get_double(json_object_object_get(o, key));
}

static void
test_create(void **state)
{
	struct json_object *o, *it, *line, *snap;
	struct cart c;

	(void)state;
	assert_int_equal(
	    post_json("/api/checkouts?account=2", TOKEN2, BODY("7", "2"), &o),
	    201);
	assert_string_equal(text(o, "object"), "checkout");
	assert_int_equal(num(json_object_object_get(o, "buyer"), "id"), 2);
	assert_string_equal(text(json_object_object_get(o, "buyer"), "name"),
			    "World Conveyancing");
	assert_int_equal(num(json_object_object_get(o, "buyer"), "global_type"),
			 0);
	assert_int_equal(num(json_object_object_get(o, "seller"), "id"), 1);
	assert_int_equal(num(o, "status"), 0);
	assert_true(json_object_get_type(json_object_object_get(
			o, "product_order")) == json_type_null);
	assert_int_equal(num(o, "service"), 30798101);
	assert_string_equal(text(o, "currency"), "EUR");
	assert_non_null(strstr(text(o, "created_date"), "+0000)/"));
	assert_int_equal(strncmp(text(o, "created_date"), "/Date(", 6), 0);
	it = json_object_array_get_idx(json_object_object_get(o, "items"), 0);
	assert_int_equal(num(it, "quantity"), 2);
	assert_true(dbl(it, "amount") == 98.0);
	assert_int_equal(num(json_object_object_get(it, "product"), "id"), 7);
	assert_true(dbl(json_object_object_get(it, "product"), "price") ==
		    49.0);
	assert_int_equal(num(it, "tax_status"), 1);
	line = json_object_array_get_idx(
	    json_object_object_get(it, "tax_lines"), 0);
	assert_int_equal(num(line, "amount"), 20);
	assert_string_equal(text(line, "name"), "VAT");
	assert_int_equal(sql("SELECT seed001_account_id FROM orders WHERE id = "
			     "%lld",
			     (long long)num(o, "id")),
			 2);
	/* The same cart through the canonical API: the same totals. */
	new_cart(&c);
	snap = call(&c, "POST", sub(&c, "/items"), FORM,
		    "variant=sofa-assembly&quantity=2", 201);
	assert_true((int64_t)(dbl(o, "items_total_price") * 100 + 0.5) ==
		    num(snap, "items_total"));
	assert_true((int64_t)(dbl(o, "total_tax") * 100 + 0.5) ==
		    num(snap, "tax_total"));
	assert_true((int64_t)(dbl(o, "total_price") * 100 + 0.5) ==
		    num(snap, "total"));
	assert_true((int64_t)(dbl(it, "tax_amount") * 100 + 0.5) ==
		    num(snap, "tax_total"));
	json_object_put(snap);
	json_object_put(o);
	/* POST /checkouts with ?account= and OAuth is seed 001 too. */
	assert_int_equal(
	    post_json(
		"/checkouts?account=2", TOKEN2,
		"{\"checkout\": {\"payment_token\": \"tok_1\", \"items\": "
		"[{\"product\": {\"id\": 7}, \"quantity\": 1}]}}",
		&o),
	    201);
	assert_string_equal(text(o, "object"), "checkout");
	assert_string_equal(text(o, "payment_token"), "tok_1");
	json_object_put(o);
}

/* POST /api/checkouts?account=2 with Idempotency-Key key (and the test
 * build's X-Test-Answer-Lost when lost). */
static struct resp
keyed_create(const char *key, int lost)
{
	char kh[96];
	struct req_opts o = {
	    .ctype = JSON,
	    .body = BODY("7", "1"),
	    .headers = {TOKEN2, kh, lost ? "X-Test-Answer-Lost: 1" : NULL}};
	struct resp r;

	snprintf(kh, sizeof(kh), "Idempotency-Key: %s", key);
	assert_int_equal(
	    e2e_request("POST", "/api/checkouts?account=2", &o, &r), 0);
	return r;
}

/*
 * A checkout whose COMMIT went through with its answer lost (a test
 * build answers 503 with the work kept), sent again with its key: the
 * 201 stored with the work, not a second checkout.
 */
static void
test_answer_lost_then_retried(void **state)
{
	struct resp a, b, d;
	char key[64];
	int64_t before;

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no lost answer to force\n");
		skip();
	}
	snprintf(key, sizeof(key), "lost-%ld", (long)e2e_now());
	before =
	    sql("SELECT COUNT(*) FROM orders WHERE seed001_account_id = 2");
	a = keyed_create(key, 1);
	assert_int_equal(a.status, 503);
	resp_free(&a);
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM orders WHERE seed001_account_id = 2"),
	    before + 1);
	b = keyed_create(key, 0);
	assert_int_equal(b.status, 201);
	d = keyed_create(key, 0);
	assert_int_equal(d.status, 201);
	assert_int_equal(b.body.len, d.body.len);
	assert_memory_equal(b.body.data, d.body.data, b.body.len);
	resp_free(&b);
	resp_free(&d);
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM orders WHERE seed001_account_id = 2"),
	    before + 1);
}

static void
expect(long status, struct json_object *o, long want, const char *error)
{
	assert_int_equal(status, want);
	assert_string_equal(text(o, "error"), error);
	json_object_put(o);
}

static void
test_errors(void **state)
{
	struct json_object *o;
	long st;

	(void)state;
	st = post_json("/api/checkouts?account=2", TOKEN3, BODY("7", "1"), &o);
	expect(st, o, 401, "invalid_token");
	st = post_json("/api/checkouts?account=2", "Authorization: OAuth nope",
		       BODY("7", "1"), &o);
	expect(st, o, 401, "invalid_token");
	st = post_json("/api/checkouts?account=2", "X-None: 1", BODY("7", "1"),
		       &o);
	expect(st, o, 401, "invalid_token");
	st = post_json("/api/checkouts?account=2", TOKEN2, BODY("999999", "1"),
		       &o);
	expect(st, o, 404, "product_not_found");
	/* A product no provider sells is not sold here. */
	st = post_json("/api/checkouts?account=2", TOKEN2, BODY("2", "1"), &o);
	expect(st, o, 404, "product_not_found");
	st = post_json("/api/checkouts?account=2", TOKEN2, "{\"checkout\": 1}",
		       &o);
	expect(st, o, 400, "invalid_request");
	st = post_json("/api/checkouts?account=2", TOKEN2, "not json", &o);
	expect(st, o, 400, "invalid_request");
	st = post_json("/api/checkouts", TOKEN2, BODY("7", "1"), &o);
	expect(st, o, 400, "invalid_request");
	st = post_json("/api/checkouts?account=2", TOKEN2, BODY("7", "0"), &o);
	expect(st, o, 400, "invalid_request");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_answer_lost_then_retried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
