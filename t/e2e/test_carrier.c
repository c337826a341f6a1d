/*
 * Carrier rates end to end (SPEC 2.9) against t/fake-shippo.py: quotes
 * offered as carrier:<service> methods, the quoted price charged, a
 * carrier that times out (carrier.timeout = 1 s in the test stack) hiding
 * only its own entries, and expired quotes refreshed before completion.
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
#include <time.h>

#include "client.h"

static void
shippo(const char *path, const char *body)
{
	struct req_opts o = {
	    .base = getenv("SHIPPO_URL"), .ctype = JSON, .body = body};
	struct resp r;

	assert_non_null(o.base);
	assert_int_equal(e2e_request("POST", path, &o, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

/* An addressed cart of 3 T-shirts M (600 g). */
static void
addressed(struct cart *c)
{
	shippo("/_reset", "{}");
	new_cart(c);
	json_object_put(call(c, "POST", sub(c, "/items"), FORM,
			     "variant=tshirt-m&quantity=3", 201));
	put(c, FORM, ADDRESS_FORM, 200);
}

static void
test_quotes_offered_and_charged(void **state)
{
	struct cart c;
	struct json_object *o, *e, *s;

	(void)state;
	addressed(&c);
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	/* 600 g: one started kg. UPS 4.90 + 0.20, DHL 9.90 + 0.50. */
	e = shipping_entry(o, "carrier:ups_standard");
	assert_non_null(e);
	assert_int_equal(num(e, "price"), 510);
	assert_string_equal(text(e, "name"), "UPS Standard");
	assert_string_equal(text(e, "calculator"), "carrier");
	assert_true(json_object_get_type(json_object_object_get(e, "id")) ==
		    json_type_null);
	assert_int_equal(num(e, "estimated_days"), 3);
	assert_non_null(shipping_entry(o, "carrier:dhl_express"));
	assert_int_equal(num(shipping_entry(o, "carrier:dhl_express"), "price"),
			 1040);
	assert_non_null(shipping_entry(o, "flat_eu"));
	json_object_put(o);
	/* The quoted price is what is charged, and it stays so. */
	shippo("/_control", "{\"surcharge\": 700}");
	o = call(&c, "PUT", co(&c), JSON,
		 "{\"shipments\": [{\"method\": \"carrier:ups_standard\"}]}",
		 200);
	assert_int_equal(num(o, "shipping_total"), 510);
	s = json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(o, "shipments"),
				      0),
	    "method");
	assert_string_equal(text(s, "code"), "carrier:ups_standard");
	assert_string_equal(text(s, "name"), "UPS Standard");
	json_object_put(o);
	put(&c, FORM, "payments[0][method]=offline", 200);
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(num(o, "shipping_total"), 510);
	assert_int_equal(num(o, "total"), 3 * 1999 + 510);
	json_object_put(o);
	/* An unknown service is no method; odd shapes are 422, not more. */
	addressed(&c);
	o = call(&c, "PUT", co(&c), JSON,
		 "{\"shipments\": [{\"method\": \"carrier:nope\"}]}", 422);
	assert_string_equal(first_error_field(o), "shipments[0].method");
	json_object_put(o);
	json_object_put(call(&c, "PUT", co(&c), JSON,
			     "{\"shipments\": \"carrier:ups_standard\"}", 422));
	json_object_put(call(&c, "PUT", co(&c), JSON,
			     "{\"shipments\": [\"carrier:ups_standard\"]}",
			     422));
	json_object_put(call(&c, "PUT", co(&c), JSON,
			     "{\"shipments\": [{\"method\": [1]}]}", 422));
	json_object_put(
	    call(&c, "PUT", co(&c), JSON, "{\"shipments\": []}", 422));
}

static void
test_carrier_timeout_hides_only_its_entries(void **state)
{
	struct cart c;
	struct json_object *o;
	struct timespec t0, t1;
	double took;

	(void)state;
	addressed(&c);
	shippo("/_control", "{\"delay\": 3, \"count\": 1}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took < 2.0);
	assert_null(shipping_entry(o, "carrier:ups_standard"));
	assert_non_null(shipping_entry(o, "flat_eu"));
	assert_non_null(shipping_entry(o, "flexible_eu"));
	json_object_put(o);
	/* Answering 500: the same. */
	shippo("/_control", "{\"status\": 500, \"count\": 1}");
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_null(shipping_entry(o, "carrier:dhl_express"));
	assert_non_null(shipping_entry(o, "flat_eu"));
	json_object_put(o);
	/* Back: offered again. */
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_non_null(shipping_entry(o, "carrier:dhl_express"));
	json_object_put(o);
}

/* A quote expired before completion is fetched again: a new price is
 * 409 total_changed; a carrier that cannot be reached is 502/504 and the
 * order stays where it was. */
static void
test_expired_quote_at_completion(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	addressed(&c);
	json_object_put(call(&c, "GET", co(&c), NULL, NULL, 200));
	put(&c, FORM, "shipments[0][method]=carrier:dhl_express", 200);
	put(&c, FORM, "payments[0][method]=offline", 200);
	sql("UPDATE carrier_quotes SET expires_at = UTC_TIMESTAMP() - "
	    "INTERVAL 1 SECOND WHERE order_id = %ld",
	    c.id);
	shippo("/_control", "{\"status\": 500, \"count\": 1}");
	o = call(&c, "PUT", co(&c), NULL, NULL, 502);
	assert_string_equal(text(o, "code"), "provider_error");
	json_object_put(o);
	o = call(&c, "GET", sub(&c, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "payment_selected");
	json_object_put(o);
	shippo("/_control", "{\"surcharge\": 100}");
	o = call(&c, "PUT", co(&c), NULL, NULL, 409);
	assert_string_equal(text(o, "code"), "total_changed");
	assert_int_equal(
	    num(json_object_object_get(o, "order"), "shipping_total"), 1140);
	json_object_put(o);
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(num(o, "shipping_total"), 1140);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quotes_offered_and_charged),
	    cmocka_unit_test(test_carrier_timeout_hides_only_its_entries),
	    cmocka_unit_test(test_expired_quote_at_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
