/*
 * Input leniencies end to end: what a hostile client sends that must be
 * refused in every dialect. A JSON member named twice is a 400 as a
 * form's repeated key is (malformed_body; each seed its own 400), at any
 * depth; "quantity": null is a 422 naming quantity; an integer past
 * int64 is a 422, not a saturated value; a country must be an assigned
 * ISO 3166-1 alpha-2 code and an email a plain addr-spec (422 naming the
 * field; seed 003's import of such a session: 400 "Invalid session data").
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
#include <unistd.h>

#include "client.h"

#define EBOOK	"0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a65"
#define ITEM000 "0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a67" /* sofa assembly */
#define TOKEN2	"Authorization: OAuth demo-oauth-token-account-2"

/* Sends body (JSON) to path with c's token; the status and the parsed
 * answer. */
static long
send_json(struct cart *c, const char *method, const char *path,
	  const char *body, struct json_object **out)
{
	struct req_opts o = {
	    .ctype = JSON, .body = body, .headers = {c->token_header}};
	struct resp r;
	long status;

	assert_int_equal(e2e_request(method, path, &o, &r), 0);
	status = r.status;
	*out = parse(&r);
	resp_free(&r);
	return status;
}

static void
expect_problem(long status, struct json_object *o, long want, const char *code)
{
	if (status != want)
		fail_msg("status %ld, want %ld: %s", status, want,
			 json_object_to_json_string(o));
	assert_string_equal(text(o, "code"), code);
}

/* A 422 whose first error names field. */
static void
expect_field(long status, struct json_object *o, const char *field)
{
	expect_problem(status, o, 422, "validation_failed");
	assert_string_equal(first_error_field(o), field);
}

/* {"quantity":1,"quantity":5000} added 5000: the last one won. */
static void
test_duplicate_key_is_400(void **state)
{
	struct cart c;
	struct json_object *o, *form;
	long st;

	(void)state;
	new_cart(&c);
	/* A form's repeated key: the code both must give. */
	form = call(&c, "POST", sub(&c, "/items"), FORM,
		    "variant=ebook&quantity=1&quantity=5000", 400);
	assert_string_equal(text(form, "code"), "malformed_body");
	json_object_put(form);
	st = send_json(&c, "POST", sub(&c, "/items"),
		       "{\"variant\": \"ebook\", \"quantity\": 1, "
		       "\"quantity\": 5000}",
		       &o);
	expect_problem(st, o, 400, "malformed_body");
	assert_non_null(strstr(text(o, "detail"), "repeated"));
	json_object_put(o);
	/* Nothing was added. */
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "items")), 0);
	json_object_put(o);
	/* A name escaped differently is the same name. */
	st = send_json(&c, "POST", sub(&c, "/items"),
		       "{\"variant\": \"ebook\", \"quantity\": 1, "
		       "\"quantit\\u0079\": 5000}",
		       &o);
	expect_problem(st, o, 400, "malformed_body");
	json_object_put(o);
	/* The same name in two objects is fine; twice in one is not, at
	 * any depth. */
	json_object_put(call(&c, "POST", sub(&c, "/items"), JSON,
			     "{\"variant\": \"tshirt-m\", \"quantity\": 1}",
			     201));
	st = send_json(
	    &c, "PUT", co(&c),
	    "{\"shippingAddress\": {\"firstName\": \"A\", \"lastName\": "
	    "\"B\", \"city\": \"Berlin\", \"postcode\": \"10115\", "
	    "\"street\": \"S\", \"country\": \"DE\"}, \"billingAddress\": "
	    "{\"firstName\": \"A\", \"lastName\": \"B\", \"city\": \"Berlin\", "
	    "\"postcode\": \"10115\", \"street\": \"S\", \"country\": \"DE\", "
	    "\"country\": \"US\"}, \"email\": \"a@example.com\"}",
	    &o);
	expect_problem(st, o, 400, "malformed_body");
	json_object_put(o);
	st = send_json(&c, "PUT", co(&c),
		       "{\"shipments\": [{\"method\": \"flat_eu\", "
		       "\"method\": \"flat_eu\"}]}",
		       &o);
	expect_problem(st, o, 400, "malformed_body");
	json_object_put(o);
	put(&c, JSON, ADDRESS_JSON, 200);
}

/* Every seed dialect: a member named twice is its own 400, not the
 * last one winning. */
static void
test_duplicate_key_in_every_dialect(void **state)
{
	char body[512], path[128], id[64], session[64], cmd[512];
	struct json_object *o;
	struct req_opts up = {.base = getenv("SESSION_URL"), .ctype = JSON};
	struct resp r;
	FILE *p;
	long st;

	(void)state;
	/* Seed 003: the first id would be unknown, the second imports. */
	snprintf(id, sizeof(id), "dup-%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(body, sizeof(body),
		 "{\"id\": \"%s\", \"status\": \"COMPLETED\", \"currency\": "
		 "\"EUR\", \"email\": \"dup@example.com\", \"items\": "
		 "[{\"productId\": \"" EBOOK "\", \"quantity\": 1, \"price\": "
		 "3}], \"shippingAddress\": null, \"billingAddress\": "
		 "{\"street\": \"S 1\", \"city\": \"Berlin\", \"state\": null, "
		 "\"country\": \"DE\", \"postalCode\": \"10115\"}, "
		 "\"paymentIntentId\": null}",
		 id);
	up.body = body;
	snprintf(path, sizeof(path), "/_sessions/%s", id);
	assert_int_equal(e2e_request("PUT", path, &up, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	snprintf(body, sizeof(body),
		 "{\"checkoutSessionId\": \"nope\", \"checkoutSessionId\": "
		 "\"%s\"}",
		 id);
	st = post_json("/api/v1/orders/checkout", NULL, body, &o);
	assert_int_equal(st, 400);
	assert_string_equal(text(o, "error"), "checkoutSessionId is required");
	json_object_put(o);
	/* Seed 002: a price that does not match, then the one that does. */
	snprintf(body, sizeof(body),
		 "{\"seatId\": \"6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e669\", "
		 "\"price\": 1, \"price\": 50, \"userId\": \"dup-%d\"}",
		 (int)getpid());
	st = post_json("/cart/add", NULL, body, &o);
	assert_int_equal(st, 400);
	assert_string_equal(text(o, "error"), "Invalid request");
	json_object_put(o);
	/* Seed 001: a second envelope. */
	st = post_json("/api/checkouts?account=2", TOKEN2,
		       "{\"checkout\": {\"items\": []}, \"checkout\": "
		       "{\"items\": [{\"product\": {\"id\": 7}, \"quantity\": "
		       "1}]}}",
		       &o);
	assert_int_equal(st, 400);
	assert_string_equal(text(o, "error"), "invalid_request");
	json_object_put(o);
	/* Seed 000: an unknown session, then a valid one. */
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" session create --customer "
		 "input-%d-%ld@example.com",
		 (int)getpid(), (long)time(NULL));
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(session, sizeof(session), p));
	assert_int_equal(pclose(p), 0);
	session[strcspn(session, "\n")] = '\0';
	snprintf(body, sizeof(body),
		 "{\"session_id\": \"nope\", \"session_id\": \"%s\", "
		 "\"item\": {\"uuid\": \"" ITEM000 "\"}}",
		 session);
	st = post_json("/checkouts", NULL, body, &o);
	assert_int_equal(st, 400);
	assert_string_equal(text(o, "message"), "Cuerpo inválido");
	json_object_put(o);
}

/* "quantity": null meant the default, 1. */
static void
test_null_quantity_is_422(void **state)
{
	char path[64];
	struct cart c;
	struct json_object *o;
	long st;

	(void)state;
	new_cart(&c);
	st = send_json(&c, "POST", sub(&c, "/items"),
		       "{\"variant\": \"ebook\", \"quantity\": null}", &o);
	expect_field(st, o, "quantity");
	json_object_put(o);
	o = call(&c, "POST", sub(&c, "/items"), JSON,
		 "{\"variant\": \"ebook\"}", 201);
	snprintf(path, sizeof(path), "/items/%lld",
		 (long long)num(json_object_array_get_idx(
				    json_object_object_get(o, "items"), 0),
				"id"));
	json_object_put(o);
	st = send_json(&c, "PATCH", sub(&c, path), "{\"quantity\": null}", &o);
	expect_field(st, o, "quantity");
	json_object_put(o);
}

/* expectedTotal past int64 was read as INT64_MAX: 409 total_changed. */
static void
test_expected_total_past_int64_is_422(void **state)
{
	struct cart c;
	struct json_object *o;
	long st;

	(void)state;
	ready_to_finalize(&c, "tshirt-m");
	st = send_json(&c, "PUT", co(&c),
		       "{\"expectedTotal\": 99999999999999999999}", &o);
	expect_field(st, o, "expectedTotal");
	json_object_put(o);
	st = send_json(&c, "PUT", co(&c),
		       "{\"expectedTotal\": 9223372036854775808}", &o);
	expect_field(st, o, "expectedTotal");
	json_object_put(o);
	/* Still unplaced: the right total places it. */
	st = send_json(&c, "PUT", co(&c), "{\"expectedTotal\": 2499}", &o);
	assert_int_equal(st, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	json_object_put(o);
}

static void
address_with(struct cart *c, const char *country, const char *email,
	     const char *field)
{
	char body[512];
	struct json_object *o;
	long st;

	snprintf(body, sizeof(body),
		 "{\"shippingAddress\": {\"firstName\": \"A\", \"lastName\": "
		 "\"B\", \"city\": \"C\", \"postcode\": \"1\", \"street\": "
		 "\"S\", \"country\": \"%s\"}, \"email\": \"%s\"}",
		 country, email);
	st = send_json(c, "PUT", co(c), body, &o);
	if (field == NULL) {
		if (st != 200)
			fail_msg("%s %s: %ld %s", country, email, st,
				 json_object_to_json_string(o));
	} else {
		expect_field(st, o, field);
	}
	json_object_put(o);
}

/* XX is no country; <script>@x.de is no address. */
static void
test_country_and_email(void **state)
{
	static const char *const bad_countries[] = {"XX", "AA", "ZZ", "QM",
						    "EU", "UK", NULL};
	static const char *const bad_emails[] = {
	    "<script>@x.de", "a b@x.de", "a@x",	      "a..b@x.de",   ".a@x.de",
	    "a.@x.de",	     "a@-x.de",	 "a@x-.de",   "a@x..de",     "a@x.de.",
	    "a\\\"b@x.de",   "a@x_y.de", "a(b)@x.de", "a@[1.2.3.4]", NULL};
	static const char *const good_emails[] = {
	    "john@example.com", "o'brien+tag@mail.example.co.uk",
	    "x!#$%&'*/=?^_`{|}~-y@a-b.c1.de", NULL};
	struct cart c;
	size_t i;

	(void)state;
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), JSON,
			     "{\"variant\": \"ebook\"}", 201));
	for (i = 0; bad_countries[i] != NULL; i++)
		address_with(&c, bad_countries[i], "a@example.com",
			     "shippingAddress.country");
	for (i = 0; bad_emails[i] != NULL; i++)
		address_with(&c, "DE", bad_emails[i], "email");
	for (i = 0; good_emails[i] != NULL; i++)
		address_with(&c, "DE", good_emails[i], NULL);
	/* Assigned codes outside the store's zones are still countries. */
	address_with(&c, "JP", "a@example.com", NULL);
	address_with(&c, "AX", "a@example.com", NULL);
}

/* Seed 003 places its orders through the same addressing step: a session
 * with country XX or such an email is refused. */
static void
test_seed003_session_checked_alike(void **state)
{
	static const char *const cases[][2] = {
	    {"XX", "buyer@example.com"},
	    {"DE", "<script>@x.de"},
	};
	char body[768], path[128], id[64];
	struct req_opts up = {.base = getenv("SESSION_URL"), .ctype = JSON};
	struct json_object *o;
	struct resp r;
	size_t i;
	long st;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(id, sizeof(id), "in-%d-%zu-%ld", (int)getpid(), i,
			 (long)time(NULL));
		snprintf(body, sizeof(body),
			 "{\"id\": \"%s\", \"status\": \"COMPLETED\", "
			 "\"currency\": \"EUR\", \"email\": \"%s\", \"items\": "
			 "[{\"productId\": \"" EBOOK "\", \"quantity\": 1, "
			 "\"price\": 3}], \"shippingAddress\": null, "
			 "\"billingAddress\": {\"street\": \"S 1\", \"city\": "
			 "\"C\", \"country\": \"%s\", \"postalCode\": \"1\"}, "
			 "\"paymentIntentId\": null}",
			 id, cases[i][1], cases[i][0]);
		up.body = body;
		snprintf(path, sizeof(path), "/_sessions/%s", id);
		assert_int_equal(e2e_request("PUT", path, &up, &r), 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
		snprintf(body, sizeof(body), "{\"checkoutSessionId\": \"%s\"}",
			 id);
		st = post_json("/api/v1/orders/checkout", NULL, body, &o);
		if (st != 400)
			fail_msg("%s: %ld %s", id, st,
				 json_object_to_json_string(o));
		assert_string_equal(text(o, "error"), "Invalid session data");
		json_object_put(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duplicate_key_is_400),
	    cmocka_unit_test(test_duplicate_key_in_every_dialect),
	    cmocka_unit_test(test_null_quantity_is_422),
	    cmocka_unit_test(test_expected_total_past_int64_is_422),
	    cmocka_unit_test(test_country_and_email),
	    cmocka_unit_test(test_seed003_session_checked_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
