/*
 * End-to-end: the checkout steps of seed 004 through nginx, refusals,
 * skips, total_changed, validation, and completion under concurrency.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void
walk(int json)
{
	struct cart c;
	struct json_object *o, *m, *items, *adj, *first;
	int64_t number;
	size_t i, own;

	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=sofa&quantity=3", 201));
	o = call(&c, "PUT", co(&c), json ? JSON : FORM,
		 json ? ADDRESS_JSON : ADDRESS_FORM, 200);
	assert_string_equal(text(o, "checkout_state"), "addressed");
	json_object_put(o);
	/* GET: the proposed shipment with its methods and prices. */
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_true(json_object_is_type(o, json_type_array));
	first = json_object_array_get_idx(o, 0);
	assert_string_equal(
	    text(json_object_object_get(first, "shipment"), "state"), "cart");
	m = json_object_object_get(first, "methods");
	for (i = 0, own = 0; i < json_object_array_length(m); i++) {
		struct json_object *me = json_object_array_get_idx(m, i);

		/* The carrier's services come on top (test_carrier.c). */
		if (strncmp(text(me, "code"), "carrier:", 8) == 0)
			continue;
		own++;

		if (strcmp(text(me, "code"), "flexible_eu") == 0)
			assert_int_equal(num(me, "price"), 5000);
		if (strcmp(text(me, "code"), "flat_eu") == 0)
			assert_int_equal(num(me, "price"), 500);
		/* US methods are not offered for a German address. */
		assert_string_not_equal(text(me, "code"), "flat_us");
	}
	assert_int_equal(own, 3);
	json_object_put(o);
	put(&c, json ? JSON : FORM,
	    json ? "{\"shipments\": [{\"method\": \"flexible_eu\"}]}"
		 : "shipments[0][method]=3",
	    200);
	/* GET: the payment for the total and the methods by id. */
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_int_equal(num(json_object_object_get(o, "payment"), "amount"),
			 1504750);
	assert_string_equal(text(json_object_object_get(o, "payment"), "state"),
			    "cart");
	assert_string_equal(text(json_object_object_get(
				     json_object_object_get(o, "methods"), "1"),
				 "code"),
			    "offline");
	json_object_put(o);
	put(&c, json ? JSON : FORM,
	    json ? "{\"payments\": [{\"method\": 1}]}"
		 : "payments[0][method]=offline",
	    200);
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "payment_selected");
	json_object_put(o);
	/* Finalize: an empty PUT, no body, no Content-Type. */
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_string_equal(text(o, "state"), "new");
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	assert_string_equal(text(o, "shipping_state"), "ready");
	assert_int_equal(strlen(text(o, "number")), 9);
	number = strtoll(text(o, "number"), NULL, 10);
	assert_true(json_object_is_type(json_object_object_get(o, "expires_at"),
					json_type_null));
	assert_non_null(text(o, "completed_at"));
	assert_string_equal(text(json_object_array_get_idx(
				     json_object_object_get(o, "shipments"), 0),
				 "state"),
			    "ready");
	assert_string_equal(text(json_object_array_get_idx(
				     json_object_object_get(o, "payments"), 0),
				 "state"),
			    "new");
	/* Totals: seed 004's, and where SPEC 1 puts each adjustment. */
	assert_int_equal(num(o, "items_total"), 1499750);
	assert_int_equal(num(o, "adjustments_total"), 5000);
	assert_int_equal(num(o, "total"), 1504750);
	assert_int_equal(num(o, "total"),
			 num(o, "items_total") + num(o, "adjustments_total"));
	adj = json_object_object_get(o, "adjustments");
	assert_string_equal(text(json_object_array_get_idx(adj, 0), "type"),
			    "shipping");
	assert_int_equal(num(json_object_array_get_idx(adj, 0), "amount"),
			 5000);
	items = json_object_object_get(o, "items");
	adj = json_object_object_get(json_object_array_get_idx(items, 0),
				     "adjustments");
	assert_string_equal(text(json_object_array_get_idx(adj, 0), "type"),
			    "order_promotion");
	json_object_put(o);
	/* A second empty PUT: the same order, the same number. */
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_int_equal(strtoll(text(o, "number"), NULL, 10), number);
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE number = "
			     "'%09lld'",
			     (long long)number),
			 1);
	/* One order.completed event. */
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld AND type = 'order.completed'",
			     c.id),
			 1);
}

static void
test_seed_walk_form(void **state)
{
	(void)state;
	walk(0);
}

static void
test_seed_walk_json(void **state)
{
	(void)state;
	walk(1);
}

/* The checkout_state and allowed_steps of a 409 answer. */
/* o (a step's answer, owned) is the order as GET /api/orders/{id} shows
 * it right after. */
static void
same_as_order(struct cart *c, struct json_object *o, const char *what)
{
	char path[64];
	struct json_object *g;

	snprintf(path, sizeof(path), "/api/orders/%ld", c->id);
	g = call(c, "GET", path, NULL, NULL, 200);
	if (!json_object_equal(o, g))
		fail_msg("%s answered\n%s\nbut the order is\n%s", what,
			 json_object_to_json_string(o),
			 json_object_to_json_string(g));
	json_object_put(g);
	json_object_put(o);
}

/* Every answer that carries the order is the order as stored: through
 * lines added, changed and removed, a coupon on and off (adjustments
 * rewritten or kept), addresses with and without a billing address of
 * their own, shipping (and a change of it, which moves the cart payment's
 * amount), payment and completion. */
static void
test_answers_are_the_stored_order(void **state)
{
	struct cart c;
	struct json_object *o, *items;
	char path[96];
	long item;

	(void)state;
	new_cart(&c);
	same_as_order(&c,
		      call(&c, "POST", sub(&c, "/items"), FORM,
			   "variant=sofa&quantity=1", 201),
		      "add sofa");
	o = call(&c, "POST", sub(&c, "/items"), FORM,
		 "variant=tshirt-m&quantity=2", 201);
	items = json_object_object_get(o, "items");
	item = (long)num(json_object_array_get_idx(items, 1), "id");
	same_as_order(&c, o, "add t-shirts");
	same_as_order(&c,
		      call(&c, "POST", sub(&c, "/coupon"), JSON,
			   "{\"code\": \"WELCOME10\"}", 200),
		      "coupon");
	snprintf(path, sizeof(path), "%s/items/%ld", c.path, item);
	same_as_order(&c,
		      call(&c, "PATCH", path, JSON, "{\"quantity\": 3}", 200),
		      "quantity");
	same_as_order(&c, call(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 200),
		      "address");
	same_as_order(&c,
		      call(&c, "PUT", co(&c), JSON,
			   "{\"shippingAddress\": {\"firstName\": \"Ann\", "
			   "\"lastName\": \"Lee\", \"city\": \"Paris\", "
			   "\"postcode\": \"75001\", \"street\": \"Rue 1\", "
			   "\"country\": \"FR\"}, \"billingAddress\": "
			   "{\"firstName\": \"Bo\", \"lastName\": \"Lee\", "
			   "\"city\": \"Berlin\", \"postcode\": \"10115\", "
			   "\"street\": \"Weg 2\", \"country\": \"DE\"}}",
			   200),
		      "re-address with billing");
	same_as_order(&c, call(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 200),
		      "re-address");
	same_as_order(&c,
		      call(&c, "DELETE", sub(&c, "/coupon"), NULL, NULL, 200),
		      "coupon off");
	same_as_order(
	    &c,
	    call(&c, "PUT", co(&c), FORM, "shipments[0][method]=flat_eu", 200),
	    "shipping");
	same_as_order(&c, call(&c, "DELETE", path, NULL, NULL, 200),
		      "line removed");
	same_as_order(&c, call(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 200),
		      "address again");
	same_as_order(&c,
		      call(&c, "PUT", co(&c), FORM,
			   "shipments[0][method]=flexible_eu", 200),
		      "shipping again");
	/* From shipping_selected: the cart payment's amount follows. */
	same_as_order(
	    &c,
	    call(&c, "PUT", co(&c), FORM, "shipments[0][method]=flat_eu", 200),
	    "shipping changed");
	same_as_order(
	    &c,
	    call(&c, "PUT", co(&c), FORM, "payments[0][method]=offline", 200),
	    "payment");
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	same_as_order(&c, o, "finalize");
	same_as_order(&c, call(&c, "PUT", co(&c), NULL, NULL, 200),
		      "finalize again");
}

static void
assert_refused(struct json_object *o, const char *state)
{
	assert_string_equal(text(o, "code"), "invalid_transition");
	assert_string_equal(text(o, "checkout_state"), state);
	assert_true(json_object_is_type(
	    json_object_object_get(o, "allowed_steps"), json_type_array));
}

static void
test_refusals(void **state)
{
	struct cart c;
	struct json_object *o;
	char before[8192];

	(void)state;
	new_cart(&c);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=tshirt-m", 201));
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	snprintf(before, sizeof(before), "%s", json_object_to_json_string(o));
	json_object_put(o);
	/* Shipping before addressing. */
	o = call(&c, "PUT", co(&c), FORM, "shipments[0][method]=flat_eu", 409);
	assert_refused(o, "cart");
	json_object_put(o);
	/* Finalize from cart; the row is unchanged. */
	o = call(&c, "PUT", co(&c), NULL, NULL, 409);
	assert_refused(o, "cart");
	json_object_put(o);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_string_equal(json_object_to_json_string(o), before);
	json_object_put(o);
	put(&c, FORM, ADDRESS_FORM, 200);
	/* Finalize and payment from addressed. */
	o = call(&c, "PUT", co(&c), JSON, "{}", 409);
	assert_refused(o, "addressed");
	json_object_put(o);
	put(&c, FORM, "payments[0][method]=offline", 409);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	put(&c, FORM, "payments[0][method]=offline", 200);
	put(&c, NULL, NULL, 200);
	/* Nothing but finalize after completion. */
	o = call(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 409);
	assert_refused(o, "completed");
	json_object_put(o);
	put(&c, FORM, "shipments[0][method]=flat_eu", 409);
	put(&c, FORM, "payments[0][method]=offline", 409);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=tshirt-m", 409));
}

static void
test_digital_and_free_carts_skip_steps(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	new_cart(&c);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=ebook", 201));
	o = call(&c, "PUT", co(&c), JSON,
		 "{\"billingAddress\": {\"firstName\": \"A\", \"lastName\": "
		 "\"B\", \"city\": \"Paris\", \"postcode\": \"75001\", "
		 "\"street\": \"Rue\", \"country\": \"FR\"}, \"email\": "
		 "\"a@b.fr\"}",
		 200);
	assert_string_equal(text(o, "checkout_state"), "shipping_skipped");
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "shipments")),
	    0);
	json_object_put(o);
	put(&c, FORM, "shipments[0][method]=flat_eu", 409);
	put(&c, FORM, "payments[0][method]=stripe", 200);
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "shipping_state"), "ready");
	json_object_put(o);

	/* A free cart: payment is skipped, and the order is paid. */
	new_cart(&c);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=sticker", 201));
	o = call(&c, "PUT", co(&c), FORM,
		 "billingAddress[firstName]=A&billingAddress[lastName]=B&"
		 "billingAddress[city]=Rome&billingAddress[postcode]=00100&"
		 "billingAddress[street]=Via&billingAddress[country]=IT&"
		 "email=a%40b.it",
		 200);
	assert_string_equal(text(o, "checkout_state"), "payment_skipped");
	json_object_put(o);
	put(&c, FORM, "payments[0][method]=offline", 409);
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(num(o, "total"), 0);
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "payments")), 0);
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld AND type = 'order.paid'",
			     c.id),
			 1);
}

static void
test_total_changed(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=poster&quantity=2", 201));
	put(&c, FORM, ADDRESS_FORM, 200);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	put(&c, FORM, "payments[0][method]=offline", 200);
	sql("UPDATE product_variants SET price = 1000 WHERE code = 'poster'");
	o = call(&c, "PUT", co(&c), NULL, NULL, 409);
	assert_string_equal(text(o, "code"), "total_changed");
	assert_int_equal(num(json_object_object_get(o, "order"), "total"),
			 2 * 1000 + 500);
	assert_string_equal(
	    text(json_object_object_get(o, "order"), "checkout_state"),
	    "payment_selected");
	/* The order in the answer is the one stored (repriced lines, the
	 * cart payment's new amount). */
	same_as_order(&c, json_object_get(json_object_object_get(o, "order")),
		      "total_changed");
	json_object_put(o);
	/* The client saw the new total: finalizing with it succeeds. */
	o = call(&c, "PUT", co(&c), JSON, "{\"expectedTotal\": 2500}", 200);
	sql("UPDATE product_variants SET price = 900 WHERE code = 'poster'");
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(num(o, "total"), 2500);
	same_as_order(&c, o, "finalize at the new total");
}

/*
 * A promotion changed after the client looked meets it at completion as
 * 409 total_changed; changed back, the very next finalize (whichever
 * worker takes it, each with its own copy of the rules, kept for 1 s in
 * the test stack) prices on it at once: the rules' version counter tells
 * every worker its copy is stale.
 */
static void
test_promotion_changed_before_finalize(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=sofa&quantity=1", 201));
	put(&c, FORM, ADDRESS_FORM, 200);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	o = call(&c, "PUT", co(&c), FORM, "payments[0][method]=offline", 200);
	/* 500000 + 500 shipping - 250 Christmas. */
	assert_int_equal(num(o, "total"), 500250);
	json_object_put(o);
	sql("UPDATE promotions SET action_amount = 1000 WHERE code = "
	    "'christmas'");
	o = call(&c, "PUT", co(&c), NULL, NULL, 409);
	sql("UPDATE promotions SET action_amount = 250 WHERE code = "
	    "'christmas'");
	assert_string_equal(text(o, "code"), "total_changed");
	assert_int_equal(num(json_object_object_get(o, "order"), "total"),
			 499500);
	json_object_put(o);
	o = call(&c, "PUT", co(&c), JSON, "{\"expectedTotal\": 500250}", 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(num(o, "total"), 500250);
	json_object_put(o);
}

/*
 * The rules' version counter (migration 0012's triggers), which tells the
 * workers their copy of the rules is stale: moved by a change to a
 * promotion, a tax rate, a zone or a zone's countries, and by a use of a
 * promotion with a usage limit; not by a use of one without a limit (every
 * completion with a promotion adds one) nor by an UPDATE that changes
 * nothing.
 */
static void
test_rules_version(void **state)
{
	static const struct {
		const char *sql;
		int moves;
	} rows[] = {
	    {"UPDATE promotions SET used = used + 1 WHERE code = 'christmas'",
	     0},
	    {"UPDATE promotions SET priority = priority WHERE code = "
	     "'christmas'",
	     0},
	    {"UPDATE promotions SET priority = priority + 1 WHERE code = "
	     "'christmas'",
	     1},
	    {"UPDATE promotions SET priority = priority - 1 WHERE code = "
	     "'christmas'",
	     1},
	    {"UPDATE promotions SET usage_limit = 1000000 WHERE code = "
	     "'christmas'",
	     1},
	    {"UPDATE promotions SET used = used + 1 WHERE code = 'christmas'",
	     1},
	    {"UPDATE promotions SET usage_limit = NULL WHERE code = "
	     "'christmas'",
	     1},
	    {"UPDATE tax_rates SET bp = bp + 1 WHERE id = 1", 1},
	    {"UPDATE tax_rates SET bp = bp - 1 WHERE id = 1", 1},
	    {"INSERT INTO zone_countries (zone_id, country_code) SELECT id, "
	     "'ZZ' FROM zones WHERE code = 'US'",
	     1},
	    {"DELETE FROM zone_countries WHERE country_code = 'ZZ'", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t before =
		    sql("SELECT version FROM rules_version WHERE id = 1");

		sql("%s", rows[i].sql);
		if (sql("SELECT version FROM rules_version WHERE id = 1") !=
		    before + rows[i].moves)
			fail_msg("%s: the version should %s", rows[i].sql,
				 rows[i].moves ? "move" : "stay");
	}
}

/* Whether one of the errors names field. */
static int
names_field(struct json_object *o, const char *field)
{
	struct json_object *errors = json_object_object_get(o, "errors");
	size_t i;

	for (i = 0; i < json_object_array_length(errors); i++)
		if (strcmp(text(json_object_array_get_idx(errors, i), "field"),
			   field) == 0)
			return 1;
	return 0;
}

static void
test_validation(void **state)
{
	static const struct {
		const char *body, *field;
	} rows[] = {
	    {"shippingAddress[firstName]=J", "shippingAddress.lastName"},
	    {"shippingAddress[firstName]=J&shippingAddress[lastName]=D&"
	     "shippingAddress[city]=C&shippingAddress[postcode]=1&"
	     "shippingAddress[street]=S&shippingAddress[country]=Germany",
	     "shippingAddress.country"},
	    {"email=nope", "email"},
	    {"billingAddress[firstName]=J", "billingAddress.lastName"},
	    {"shippingAddress[colour]=red", "shippingAddress.colour"},
	    {"shipments[0][method]=1&email=a%40b.c", "email"},
	    {"colour=red", "colour"},
	    {"shippingAddress[firstName]=%01", "shippingAddress.firstName"},
	    {"shippingAddress[firstName]=%ff", "shippingAddress.firstName"},
	};
	char longname[400];
	struct cart c;
	struct json_object *o;
	size_t i;

	(void)state;
	new_cart(&c);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=tshirt-l", 201));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		o = call(&c, "PUT", co(&c), FORM, rows[i].body, 422);
		if (!names_field(o, rows[i].field))
			fail_msg("%s: %s does not name %s", rows[i].body,
				 json_object_to_json_string(o), rows[i].field);
		json_object_put(o);
	}
	/* Over the limit: 256 characters. */
	snprintf(longname, sizeof(longname),
		 "{\"shippingAddress\": {\"firstName\": \"%0256d\"}}", 0);
	o = call(&c, "PUT", co(&c), JSON, longname, 422);
	assert_string_equal(first_error_field(o), "shippingAddress.firstName");
	json_object_put(o);
	/* SQL metacharacters within the limits come back byte for byte. */
	o = call(&c, "PUT", co(&c), JSON,
		 "{\"shippingAddress\": {\"firstName\": \"Robert'); DROP "
		 "TABLE orders;--\", \"lastName\": \"O\\\"Brien \\\\ %_\", "
		 "\"city\": \"Zürich\", \"postcode\": \"1'1\", \"street\": "
		 "\"`x`\", \"country\": \"AT\"}}",
		 200);
	assert_string_equal(
	    text(json_object_object_get(o, "shipping_address"), "first_name"),
	    "Robert'); DROP TABLE orders;--");
	assert_string_equal(
	    text(json_object_object_get(o, "shipping_address"), "last_name"),
	    "O\"Brien \\ %_");
	assert_string_equal(
	    text(json_object_object_get(o, "billing_address"), "city"),
	    "Zürich");
	json_object_put(o);
	/* A method outside the address's zone. */
	o = call(&c, "PUT", co(&c), FORM, "shipments[0][method]=flat_us", 422);
	assert_string_equal(first_error_field(o), "shipments[0].method");
	json_object_put(o);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	o = call(&c, "PUT", co(&c), FORM, "payments[0][method]=bitcoin", 422);
	assert_string_equal(first_error_field(o), "payments[0].method");
	json_object_put(o);
	/* A guest needs an email by completion. */
	put(&c, FORM, "payments[0][method]=offline", 200);
	o = call(&c, "PUT", co(&c), NULL, NULL, 422);
	assert_string_equal(first_error_field(o), "email");
	json_object_put(o);
}

/* Idempotency. */

static void
test_idempotent_finalize(void **state)
{
	struct cart a, b;
	struct resp r1, r2, r3, r4;
	char path[64];

	(void)state;
	ready_to_finalize(&a, "tshirt-m");
	snprintf(path, sizeof(path), "%s", co(&a));
	r1 = keyed(&a, "PUT", path, "finalize-1", JSON, "{}");
	r2 = keyed(&a, "PUT", path, "finalize-1", JSON, "{}");
	assert_int_equal(r1.status, 200);
	assert_int_equal(r2.status, 200);
	/* The stored response, byte for byte. */
	assert_int_equal(r1.body.len, r2.body.len);
	assert_memory_equal(r1.body.data, r2.body.data, r1.body.len);
	assert_string_equal(r1.content_type, r2.content_type);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE number = '%s'",
			     resp_json_str(&r1, "number")),
			 1);
	/* Same key, another body: 422. */
	r3 = keyed(&a, "PUT", path, "finalize-1", JSON, "{\"notes\": \"x\"}");
	assert_int_equal(r3.status, 422);
	assert_string_equal(resp_json_str(&r3, "code"),
			    "idempotency_key_reused");
	/* Another cart, the same key: its own answer. */
	ready_to_finalize(&b, "tshirt-m");
	snprintf(path, sizeof(path), "%s", co(&b));
	r4 = keyed(&b, "PUT", path, "finalize-1", JSON, "{}");
	assert_int_equal(r4.status, 200);
	assert_int_equal(atol(resp_json_str(&r4, "id")), b.id);
	{
		char first[16];

		/* resp_json_str answers in one static buffer: copy. */
		snprintf(first, sizeof(first), "%s",
			 resp_json_str(&r1, "number"));
		assert_string_not_equal(resp_json_str(&r4, "number"), first);
	}
	resp_free(&r1);
	resp_free(&r2);
	resp_free(&r3);
	resp_free(&r4);
}

/* A finalize of cart c with Idempotency-Key "stale" whose transaction's
 * first attempt is held 1.5 s and then fails (a test build's
 * X-Test-Tx-Retry: 1500), as a certification conflict at COMMIT would. */
struct held_finalize {
	struct cart *c;
	struct resp r;
};

static void *
held_finalize(void *arg)
{
	struct held_finalize *h = arg;

	h->r = keyed_with(h->c, "PUT", co(h->c), "stale", JSON, "{}",
			  "X-Test-Tx-Retry: 1500");
	return NULL;
}

/*
 * A finalize whose first attempt rendered the completed order and then
 * rolled back, and whose second met a changed price: 409 total_changed,
 * the new totals committed. The idempotency hook stored the first
 * attempt's 200 with the second's commit (a stale answer: the same key
 * then replayed "completed" for an order that was not). Only an answer of
 * the attempt that commits is stored now: the key's retry finalizes at
 * the new total, and its answer is the order as stored.
 */
static void
test_rolled_back_answer_not_stored(void **state)
{
	struct held_finalize h = {0};
	struct cart c;
	struct resp r;
	struct json_object *o;
	pthread_t t;

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no attempt to hold\n");
		skip();
	}
	ready_to_finalize_with(&c, "poster", 2, NULL);
	h.c = &c;
	pthread_create(&t, NULL, held_finalize, &h);
	usleep(500 * 1000);
	sql("UPDATE product_variants SET price = 1000 WHERE code = 'poster'");
	pthread_join(t, NULL);
	assert_int_equal(h.r.status, 409);
	assert_string_equal(resp_json_str(&h.r, "code"), "total_changed");
	resp_free(&h.r);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE id = %ld AND "
			     "checkout_state = 'payment_selected'",
			     c.id),
			 1);
	r = keyed(&c, "PUT", co(&c), "stale", JSON, "{}");
	sql("UPDATE product_variants SET price = 900 WHERE code = 'poster'");
	if (r.status != 200)
		fail_msg("the key's retry: %ld %s", r.status, r.body.data);
	o = parse(&r);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(num(o, "total"), 2 * 1000 + 500);
	same_as_order(&c, o, "the key's retry after a stale attempt");
	resp_free(&r);
}

static void
test_idempotent_add_item(void **state)
{
	struct cart c;
	struct resp r1, r2;
	struct json_object *o;

	(void)state;
	new_cart(&c);
	r1 = keyed(&c, "POST", sub(&c, "/items"), "add-1", FORM,
		   "variant=tshirt-l&quantity=2");
	r2 = keyed(&c, "POST", sub(&c, "/items"), "add-1", FORM,
		   "variant=tshirt-l&quantity=2");
	assert_int_equal(r1.status, 201);
	assert_int_equal(r2.status, 201);
	assert_string_equal(r1.body.data, r2.body.data);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_int_equal(num(json_object_array_get_idx(
				 json_object_object_get(o, "items"), 0),
			     "quantity"),
			 2);
	json_object_put(o);
	resp_free(&r1);
	resp_free(&r2);
	/* A refusal (422) is stored too; a bad key is refused. */
	r1 =
	    keyed(&c, "POST", sub(&c, "/items"), "add-2", FORM, "variant=nope");
	r2 =
	    keyed(&c, "POST", sub(&c, "/items"), "add-2", FORM, "variant=nope");
	assert_int_equal(r1.status, 422);
	assert_string_equal(r1.body.data, r2.body.data);
	resp_free(&r1);
	resp_free(&r2);
	{
		char longkey[300];

		memset(longkey, 'k', 256);
		longkey[256] = '\0';
		r1 = keyed(&c, "POST", sub(&c, "/items"), longkey, FORM,
			   "variant=sofa");
	}
	assert_int_equal(r1.status, 422);
	resp_free(&r1);
}

/* A marker without a response is "in use" for 60 s, then taken over. */
static void
test_idempotency_key_in_use(void **state)
{
	unsigned char scope[32];
	char hex[65], in[512];
	struct cart c;
	struct resp r;
	size_t n = 0, i;
	const char *parts[4];

	(void)state;
	new_cart(&c);
	parts[0] = c.token;
	parts[1] = "POST";
	parts[2] = sub(&c, "/items");
	parts[3] = "busy-1";
	for (i = 0; i < 4; i++) {
		memcpy(in + n, parts[i], strlen(parts[i]) + 1);
		n += strlen(parts[i]) + 1;
	}
	sha256(in, n, scope);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", scope[i]);
	sql("INSERT INTO idempotency_keys (scope_hash, request_hmac, "
	    "expires_at) VALUES (UNHEX('%s'), UNHEX('%s'), UTC_TIMESTAMP() + "
	    "INTERVAL 1 DAY)",
	    hex, hex);
	r = keyed(&c, "POST", sub(&c, "/items"), "busy-1", FORM,
		  "variant=poster");
	assert_int_equal(r.status, 409);
	assert_string_equal(resp_json_str(&r, "code"),
			    "idempotency_key_in_use");
	resp_free(&r);
	sql("UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP(3) - "
	    "INTERVAL 61 SECOND WHERE scope_hash = UNHEX('%s')",
	    hex);
	r = keyed(&c, "POST", sub(&c, "/items"), "busy-1", FORM,
		  "variant=poster");
	assert_int_equal(r.status, 201);
	resp_free(&r);
}

/*
 * A line short of stock at completion: 409 out_of_stock naming it (its
 * line, variant, quantity asked and what is left), nothing held for the
 * other lines, no number taken; with the stock back, the same finalize
 * completes and holds every tracked line.
 */

/* The number the next order gets on this one server (order_numbers'
 * AUTO_INCREMENT runs without gaps here unless a placing transaction that
 * took one rolled back). */
static int64_t
next_number(void)
{
	return sql("SELECT COALESCE(MAX(number), 0) + 1 FROM order_numbers");
}

static void
test_finalize_out_of_stock(void **state)
{
	struct cart c;
	struct json_object *o, *items, *it;
	int64_t lamp, tshirt, seq, line;

	(void)state;
	stock("lamp", 2);
	new_cart(&c);
	o = call(&c, "POST", sub(&c, "/items"), FORM, "variant=lamp&quantity=2",
		 201);
	line = num(
	    json_object_array_get_idx(json_object_object_get(o, "items"), 0),
	    "id");
	json_object_put(o);
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=tshirt-m", 201));
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=poster", 201));
	put(&c, FORM, ADDRESS_FORM, 200);
	put(&c, FORM, "shipments[0][method]=flat_eu", 200);
	put(&c, FORM, "payments[0][method]=offline", 200);
	lamp = stock("lamp", 1);
	tshirt = stock("tshirt-m", -1);
	seq = next_number();

	o = call(&c, "PUT", co(&c), NULL, NULL, 409);
	assert_string_equal(text(o, "code"), "out_of_stock");
	items = json_object_object_get(o, "items");
	assert_int_equal(json_object_array_length(items), 1);
	it = json_object_array_get_idx(items, 0);
	assert_int_equal(num(it, "id"), line);
	assert_string_equal(text(it, "variant_code"), "lamp");
	assert_int_equal(num(it, "requested"), 2);
	assert_int_equal(num(it, "available"), 1);
	json_object_put(o);
	assert_int_equal(stock("lamp", -1), lamp);
	assert_int_equal(stock("tshirt-m", -1), tshirt);
	assert_int_equal(next_number(), seq);
	assert_int_equal(sql("SELECT COUNT(*) FROM orders WHERE id = %ld AND "
			     "number IS NULL AND checkout_state = "
			     "'payment_selected'",
			     c.id),
			 1);

	stock("lamp", 2);
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "checkout_state"), "completed");
	assert_int_equal(strlen(text(o, "number")), 9);
	json_object_put(o);
	assert_int_equal(stock("lamp", -1), lamp + 2);
	assert_int_equal(stock("tshirt-m", -1), tshirt + 1);
	assert_int_equal(next_number(), seq + 1);
}

/* Completion under concurrency. */

/* n buyers of one lamp each, with `stock` lamps left; all finalize at
 * once. Returns how many completed. */
static int
race(int n, int left)
{
	pthread_barrier_t barrier;
	struct buyer *b = calloc((size_t)n, sizeof(*b));
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int i, done = 0;

	stock("lamp", left);
	for (i = 0; i < n; i++)
		ready_to_finalize(&b[i].c, "lamp");
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		b[i].barrier = &barrier;
		pthread_create(&t[i], NULL, buyer_finalize, &b[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (b[i].status == 200)
			done++;
		else if (b[i].status != 409 ||
			 strcmp(b[i].code, "out_of_stock") != 0)
			fail_msg("buyer %d: %ld %s", i, b[i].status, b[i].code);
	}
	pthread_barrier_destroy(&barrier);
	/* They really ran at the same time. */
	i = e2e_overlaps(" PUT /api/checkouts/", n);
	print_message("%d finalizes at once, %d overlapping pairs in the "
		      "access log, %d completed\n",
		      n, i, done);
	if (i < 1)
		fail_msg("the %d finalize requests did not overlap in time", n);
	free(b);
	free(t);
	/* Never oversold, anywhere. */
	assert_int_equal(sql("SELECT COUNT(*) FROM variant_stock WHERE "
			     "on_hand - on_hold < 0"),
			 0);
	return done;
}

static void
test_twenty_buyers_one_lamp(void **state)
{
	int run;

	(void)state;
	for (run = 0; run < 5; run++) {
		int64_t hold = stock("lamp", -1);

		assert_int_equal(race(20, 1), 1);
		assert_int_equal(stock("lamp", -1), hold + 1);
	}
}

static void
test_three_buyers_two_lamps(void **state)
{
	int run;

	(void)state;
	for (run = 0; run < 5; run++)
		assert_int_equal(race(3, 2), 2);
}

/* Usage limits under concurrency. */

/* Whether adjustment list a has one labelled label. */
static int
labelled(struct json_object *a, const char *label)
{
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		const char *l = text(json_object_array_get_idx(a, i), "label");

		if (l != NULL && strcmp(l, label) == 0)
			return 1;
	}
	return 0;
}

/* Whether snapshot o has an adjustment labelled label, on the order or
 * on an item. */
static int
has_adjustment(struct json_object *o, const char *label)
{
	struct json_object *items = json_object_object_get(o, "items");
	size_t i;

	if (labelled(json_object_object_get(o, "adjustments"), label))
		return 1;
	for (i = 0; i < json_object_array_length(items); i++)
		if (labelled(
			json_object_object_get(
			    json_object_array_get_idx(items, i), "adjustments"),
			label))
			return 1;
	return 0;
}

/*
 * n buyers, each with quantity posters and coupon (or none) and the
 * promotion named label in their totals, finalize at once where that
 * promotion (or its coupon) may be used once more: exactly one order is
 * placed with it; every other finalize is 409 total_changed with the
 * order priced without it, still to be placed, and the next finalize
 * places it at that price. No order number is spent on a refusal.
 */
static void
limited_race(int n, int quantity, const char *coupon, const char *label)
{
	pthread_barrier_t barrier;
	struct buyer *b = calloc((size_t)n, sizeof(*b));
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct json_object *o, *order;
	int64_t seq;
	int i, discounted = 0, changed = 0;

	for (i = 0; i < n; i++) {
		ready_to_finalize_with(&b[i].c, "poster", quantity, coupon);
		o = call(&b[i].c, "GET", sub(&b[i].c, ""), NULL, NULL, 200);
		if (!has_adjustment(o, label))
			fail_msg("buyer %d: %s not in the cart's total", i,
				 label);
		json_object_put(o);
		b[i].keep = 1;
	}
	seq = next_number();
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		b[i].barrier = &barrier;
		pthread_create(&t[i], NULL, buyer_finalize, &b[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	i = e2e_overlaps(" PUT /api/checkouts/", n);
	print_message("%d finalizes at once, %d overlapping pairs in the "
		      "access log\n",
		      n, i);
	if (i < 1)
		fail_msg("the %d finalize requests did not overlap in time", n);
	for (i = 0; i < n; i++) {
		if (b[i].status == 200) {
			assert_string_equal(text(b[i].answer, "checkout_state"),
					    "completed");
			discounted += has_adjustment(b[i].answer, label);
			continue;
		}
		if (b[i].status != 409 ||
		    strcmp(b[i].code, "total_changed") != 0)
			fail_msg("buyer %d: %ld %s", i, b[i].status, b[i].code);
		changed++;
		order = json_object_object_get(b[i].answer, "order");
		assert_false(has_adjustment(order, label));
		assert_string_equal(text(order, "checkout_state"),
				    "payment_selected");
		/* The client saw the new total: the next finalize places
		 * the order at it. */
		o = call(&b[i].c, "PUT", co(&b[i].c), NULL, NULL, 200);
		assert_string_equal(text(o, "checkout_state"), "completed");
		assert_false(has_adjustment(o, label));
		assert_int_equal(num(o, "total"), num(order, "total"));
		json_object_put(o);
	}
	print_message("%d of %d placed with %s, %d told total_changed\n",
		      discounted, n, label, changed);
	if (discounted != 1)
		fail_msg("%d of %d orders placed with %s, limited to one use",
			 discounted, n, label);
	assert_int_equal(changed, n - 1);
	/* Every order placed, each with one number, none spent otherwise. */
	assert_int_equal(next_number(), seq + n);
	for (i = 0; i < n; i++)
		json_object_put(b[i].answer);
	free(b);
	free(t);
}

/* A coupon limited to one use, ten buyers holding it finalizing at once
 * (its promotion has no limit of its own). */
static void
test_one_use_coupon_ten_buyers(void **state)
{
	(void)state;
	sql("INSERT INTO promotions (code, name, priority, coupon_based, "
	    "action, action_amount) VALUES ('once_coupon', 'One-use coupon', "
	    "1, 1, 'order_fixed_discount', 100)");
	sql("INSERT INTO promotion_coupons (promotion_id, code, usage_limit) "
	    "SELECT id, 'ONCE', 1 FROM promotions WHERE code = "
	    "'once_coupon'");
	limited_race(10, 1, "ONCE", "One-use coupon");
	assert_int_equal(
	    sql("SELECT used FROM promotion_coupons WHERE code = 'ONCE'"), 1);
	assert_int_equal(
	    sql("SELECT used FROM promotions WHERE code = 'once_coupon'"), 1);
}

/* A promotion limited to one use (no coupon; only carts of 40 units or
 * more qualify, so that no other test meets it), ten buyers at once. */
static void
test_one_use_promotion_ten_buyers(void **state)
{
	(void)state;
	sql("INSERT INTO promotions (code, name, priority, usage_limit, "
	    "rule_min_quantity, action, action_amount) VALUES ('once_promo', "
	    "'One-use promotion', 1, 1, 40, 'order_fixed_discount', 300)");
	limited_race(10, 40, NULL, "One-use promotion");
	assert_int_equal(
	    sql("SELECT used FROM promotions WHERE code = 'once_promo'"), 1);
	sql("UPDATE promotions SET ends_at = UTC_TIMESTAMP() WHERE code = "
	    "'once_promo'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_walk_form),
	    cmocka_unit_test(test_seed_walk_json),
	    cmocka_unit_test(test_answers_are_the_stored_order),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_digital_and_free_carts_skip_steps),
	    cmocka_unit_test(test_total_changed),
	    cmocka_unit_test(test_promotion_changed_before_finalize),
	    cmocka_unit_test(test_rules_version),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_idempotent_finalize),
	    cmocka_unit_test(test_rolled_back_answer_not_stored),
	    cmocka_unit_test(test_idempotent_add_item),
	    cmocka_unit_test(test_idempotency_key_in_use),
	    cmocka_unit_test(test_finalize_out_of_stock),
	    cmocka_unit_test(test_twenty_buyers_one_lamp),
	    cmocka_unit_test(test_three_buyers_two_lamps),
	    cmocka_unit_test(test_one_use_coupon_ten_buyers),
	    cmocka_unit_test(test_one_use_promotion_ten_buyers),
	};
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
