/*
 * Admin operations end to end (SPEC 2.10, SPEC 1 "unpaid orders"):
 * mark-paid, cancel, refund, ship through nginx with the admin token, and
 * checkoutctl mark-paid / expire. Refunds go to the Stripe fake.
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

#define VISA_FORM                                                              \
	"number=4242424242424242&expiryMonth=12&expiryYear=2030&"              \
	"securityCode=123"

/* POST /api/admin/orders/<id>/<op> with token (NULL: none). */
static struct json_object *
admin(long id, const char *op, const char *token, const char *body, long want)
{
	char path[128], auth[256];
	struct req_opts o = {.ctype = body ? JSON : NULL, .body = body};
	struct json_object *j;
	struct resp r;

	snprintf(path, sizeof(path), "/api/admin/orders/%ld/%s", id, op);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		o.headers[0] = auth;
	}
	assert_int_equal(e2e_request("POST", path, &o, &r), 0);
	if (r.status != want)
		fail_msg("POST %s: %ld, want %ld: %s", path, r.status, want,
			 r.body.data);
	j = parse(&r);
	resp_free(&r);
	return j;
}

static const char *
token(void)
{
	const char *t = getenv("ADMIN_TOKEN");

	assert_non_null(t);
	return t;
}

/* A placed order of quantity × variant, paid with method. */
static void
placed(struct cart *c, const char *variant, int quantity, const char *method)
{
	char body[128];

	new_cart(c);
	snprintf(body, sizeof(body), "variant=%s&quantity=%d", variant,
		 quantity);
	json_object_put(call(c, "POST", sub(c, "/items"), FORM, body, 201));
	put(c, FORM, ADDRESS_FORM, 200);
	put(c, FORM, "shipments[0][method]=flat_eu", 200);
	snprintf(body, sizeof(body), "payments[0][method]=%s", method);
	put(c, FORM, body, 200);
	put(c, NULL, NULL, 200);
}

static int64_t
events(long id, const char *type)
{
	return sql("SELECT COUNT(*) FROM outbox_events WHERE order_id = %ld "
		   "AND type = '%s'",
		   id, type);
}

static void
test_token_required(void **state)
{
	struct cart c;

	(void)state;
	placed(&c, "tshirt-m", 1, "offline");
	json_object_put(admin(c.id, "mark-paid", NULL, NULL, 401));
	json_object_put(admin(c.id, "mark-paid", "wrong", NULL, 401));
	json_object_put(admin(c.id, "cancel", "", NULL, 401));
	/* Unknown orders and carts are 404. */
	json_object_put(admin(999999999, "ship", token(), NULL, 404));
	new_cart(&c);
	json_object_put(admin(c.id, "cancel", token(), NULL, 404));
}

static void
test_mark_paid(void **state)
{
	struct cart c, s;
	struct json_object *o;

	(void)state;
	placed(&c, "tshirt-m", 1, "offline");
	o = admin(c.id, "mark-paid", token(), NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_string_equal(text(json_object_array_get_idx(
				     json_object_object_get(o, "payments"), 0),
				 "state"),
			    "completed");
	json_object_put(o);
	assert_int_equal(events(c.id, "order.paid"), 1);
	o = admin(c.id, "mark-paid", token(), NULL, 409);
	assert_string_equal(text(o, "code"), "invalid_transition");
	json_object_put(o);
	/* A card payment is not marked paid by hand. */
	placed(&s, "tshirt-m", 1, "stripe");
	json_object_put(admin(s.id, "mark-paid", token(), NULL, 409));
}

/* Cancelling gives back the stock hold and the promotion's use. */
static void
test_cancel(void **state)
{
	struct cart c;
	struct json_object *o;
	int64_t hold, used;

	(void)state;
	hold = sql("SELECT on_hold FROM variant_stock s JOIN product_variants "
		   "v ON v.id = s.variant_id WHERE v.code = 'sofa'");
	used = sql("SELECT used FROM promotions WHERE code = 'christmas'");
	placed(&c, "sofa", 2, "offline");
	assert_int_equal(sql("SELECT on_hold FROM variant_stock s JOIN "
			     "product_variants v ON v.id = s.variant_id WHERE "
			     "v.code = 'sofa'"),
			 hold + 2);
	assert_int_equal(
	    sql("SELECT used FROM promotions WHERE code = 'christmas'"),
	    used + 1);
	o = admin(c.id, "cancel", token(), NULL, 200);
	assert_string_equal(text(o, "state"), "cancelled");
	assert_string_equal(text(o, "payment_state"), "cancelled");
	assert_string_equal(text(o, "shipping_state"), "cancelled");
	json_object_put(o);
	assert_int_equal(sql("SELECT on_hold FROM variant_stock s JOIN "
			     "product_variants v ON v.id = s.variant_id WHERE "
			     "v.code = 'sofa'"),
			 hold);
	assert_int_equal(
	    sql("SELECT used FROM promotions WHERE code = 'christmas'"), used);
	assert_int_equal(events(c.id, "order.cancelled"), 1);
	json_object_put(admin(c.id, "cancel", token(), NULL, 409));
	json_object_put(admin(c.id, "ship", token(), NULL, 409));
}

static void
test_refunds(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	placed(&c, "tshirt-m", 1, "stripe");
	/* Not paid yet. */
	json_object_put(admin(c.id, "refund", token(), NULL, 409));
	put(&c, FORM, VISA_FORM, 200);
	o = admin(c.id, "refund", token(), "{\"amount\": 1000}", 200);
	assert_string_equal(text(o, "payment_state"), "partially_refunded");
	json_object_put(o);
	o = admin(c.id, "refund", token(), "{\"amount\": 999999}", 422);
	assert_string_equal(first_error_field(o), "amount");
	json_object_put(o);
	json_object_put(admin(c.id, "refund", token(), "{\"nope\": 1}", 422));
	o = admin(c.id, "refund", token(), NULL, 200);
	assert_string_equal(text(o, "payment_state"), "refunded");
	assert_string_equal(text(json_object_array_get_idx(
				     json_object_object_get(o, "payments"), 0),
				 "state"),
			    "refunded");
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM refunds r JOIN payments p "
			     "ON p.id = r.payment_id WHERE p.order_id = %ld "
			     "AND r.provider_ref LIKE 're_%%'",
			     c.id),
			 2);
	assert_int_equal(sql("SELECT SUM(r.amount) FROM refunds r JOIN "
			     "payments p ON p.id = r.payment_id WHERE "
			     "p.order_id = %ld",
			     c.id),
			 sql("SELECT total FROM orders WHERE id = %ld", c.id));
	assert_int_equal(events(c.id, "order.refunded"), 2);
	json_object_put(admin(c.id, "refund", token(), NULL, 409));
}

static void
test_ship_and_fulfil(void **state)
{
	struct cart c, u;
	struct json_object *o;
	int64_t hand, hold;

	(void)state;
	hand = sql("SELECT on_hand FROM variant_stock s JOIN product_variants "
		   "v ON v.id = s.variant_id WHERE v.code = 'tshirt-l'");
	hold = sql("SELECT on_hold FROM variant_stock s JOIN product_variants "
		   "v ON v.id = s.variant_id WHERE v.code = 'tshirt-l'");
	placed(&c, "tshirt-l", 3, "stripe");
	put(&c, FORM, VISA_FORM, 200);
	o = admin(c.id, "ship", token(), "{\"tracking\": \"TRK-1\"}", 200);
	assert_string_equal(text(o, "shipping_state"), "shipped");
	assert_string_equal(text(o, "state"), "fulfilled");
	assert_string_equal(text(json_object_array_get_idx(
				     json_object_object_get(o, "shipments"), 0),
				 "tracking"),
			    "TRK-1");
	json_object_put(o);
	/* The units left the shelf: the hold is gone with them. */
	assert_int_equal(sql("SELECT on_hand FROM variant_stock s JOIN "
			     "product_variants v ON v.id = s.variant_id WHERE "
			     "v.code = 'tshirt-l'"),
			 hand - 3);
	assert_int_equal(sql("SELECT on_hold FROM variant_stock s JOIN "
			     "product_variants v ON v.id = s.variant_id WHERE "
			     "v.code = 'tshirt-l'"),
			 hold);
	assert_int_equal(events(c.id, "order.shipped"), 1);
	json_object_put(admin(c.id, "ship", token(), NULL, 409));
	json_object_put(admin(c.id, "cancel", token(), NULL, 409));
	/* Shipped first, paid later: fulfilled then. */
	placed(&u, "tshirt-l", 1, "offline");
	o = admin(u.id, "ship", token(), NULL, 200);
	assert_string_equal(text(o, "state"), "new");
	json_object_put(o);
	o = admin(u.id, "mark-paid", token(), NULL, 200);
	assert_string_equal(text(o, "state"), "fulfilled");
	json_object_put(o);
}

static int
ctl(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" %s",
		 args);
	return system(cmd);
}

/* Ages placed order c past order.unpaid_ttl, runs checkoutctl expire and
 * checks that it was cancelled. */
static void
expire_aged(struct cart *c)
{
	struct json_object *o;

	sql("UPDATE orders SET completed_at = UTC_TIMESTAMP() - INTERVAL 6 "
	    "DAY WHERE id = %ld",
	    c->id);
	assert_int_equal(ctl("expire"), 0);
	o = call(c, "GET", sub(c, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "state"), "cancelled");
	json_object_put(o);
}

static void
test_checkoutctl_mark_paid_and_expire(void **state)
{
	struct cart a, b;
	struct json_object *o;
	char args[64];

	(void)state;
	placed(&a, "tshirt-m", 1, "offline");
	snprintf(args, sizeof(args), "mark-paid %ld", a.id);
	assert_int_equal(ctl(args), 0);
	assert_int_not_equal(ctl(args), 0); /* paid already */
	o = call(&a, "GET", sub(&a, ""), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	/* An unpaid order past order.unpaid_ttl is cancelled. */
	placed(&b, "sofa", 1, "offline");
	expire_aged(&b);
	assert_int_equal(events(b.id, "order.cancelled"), 1);
}

static int64_t
single_used(void)
{
	return sql("SELECT used FROM promotion_coupons WHERE code = 'SINGLE'");
}

/* A cart of one poster with the coupon SINGLE, placed. */
static void
placed_with_single(struct cart *c)
{
	ready_to_finalize_with(c, "poster", 1, "SINGLE");
	put(c, NULL, NULL, 200);
}

/*
 * A coupon limited to one use: a placed order takes the use (another cart
 * is then refused the coupon), cancelling gives it back, and so does
 * expiry (checkoutctl expire, which cancels); a use already gone is not
 * given back again: the count never goes below 0.
 */
static void
test_limited_coupon_given_back(void **state)
{
	struct cart a, b, d;
	struct json_object *o;

	(void)state;
	sql("INSERT INTO promotions (code, name, coupon_based, action, "
	    "action_amount) VALUES ('single', 'Single-use coupon', 1, "
	    "'order_fixed_discount', 100)");
	sql("INSERT INTO promotion_coupons (promotion_id, code, usage_limit) "
	    "SELECT id, 'SINGLE', 1 FROM promotions WHERE code = 'single'");
	placed_with_single(&a);
	assert_int_equal(single_used(), 1);
	new_cart(&b);
	json_object_put(
	    call(&b, "POST", sub(&b, "/items"), FORM, "variant=poster", 201));
	o = call(&b, "POST", sub(&b, "/coupon"), FORM, "code=SINGLE", 422);
	assert_string_equal(first_error_field(o), "code");
	json_object_put(o);

	json_object_put(admin(a.id, "cancel", token(), NULL, 200));
	assert_int_equal(single_used(), 0);
	json_object_put(admin(a.id, "cancel", token(), NULL, 409));
	assert_int_equal(single_used(), 0);

	placed_with_single(&b);
	assert_int_equal(single_used(), 1);
	expire_aged(&b);
	assert_int_equal(single_used(), 0);

	placed_with_single(&d);
	sql("UPDATE promotion_coupons SET used = 0 WHERE code = 'SINGLE'");
	json_object_put(admin(d.id, "cancel", token(), NULL, 200));
	assert_int_equal(single_used(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_required),
	    cmocka_unit_test(test_mark_paid),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_refunds),
	    cmocka_unit_test(test_ship_and_fulfil),
	    cmocka_unit_test(test_checkoutctl_mark_paid_and_expire),
	    cmocka_unit_test(test_limited_coupon_given_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
