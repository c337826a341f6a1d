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

/* A partial refund with Idempotency-Key key, with header h when not
 * NULL; its status, its body in *body (a copy, freed by the caller). */
static long
keyed_refund(long id, const char *key, const char *h, char **body)
{
	char path[128], auth[256], kh[96];
	struct req_opts o = {.ctype = JSON,
			     .body = "{\"amount\": 500}",
			     .headers = {auth, kh, h}};
	struct resp r;
	long st;

	snprintf(path, sizeof(path), "/api/admin/orders/%ld/refund", id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token());
	snprintf(kh, sizeof(kh), "Idempotency-Key: %s", key);
	assert_int_equal(e2e_request("POST", path, &o, &r), 0);
	st = r.status;
	*body = strdup(r.body.data ? r.body.data : "");
	resp_free(&r);
	return st;
}

/*
 * A refund whose COMMIT went through while its answer was lost (the
 * connection died during it; src/http.c answer_lost in test builds):
 * 503. Its answer was stored with the work (the operation answers inside
 * its transaction), so the same key's retry replays it, byte for byte:
 * one refund at the provider and in the ledger, not a second one under
 * the next refund key.
 */
static void
test_refund_answer_lost_then_retried(void **state)
{
	struct cart c;
	char key[32], *a, *b, *d;

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no lost answer to force\n");
		skip();
	}
	placed(&c, "tshirt-m", 1, "stripe");
	put(&c, FORM, VISA_FORM, 200);
	snprintf(key, sizeof(key), "refund-%ld", c.id);
	assert_int_equal(keyed_refund(c.id, key, "X-Test-Answer-Lost: 1", &a),
			 503);
	assert_int_equal(keyed_refund(c.id, key, NULL, &b), 200);
	assert_int_equal(keyed_refund(c.id, key, NULL, &d), 200);
	assert_string_equal(b, d);
	assert_non_null(strstr(b, "\"partially_refunded\""));
	free(a);
	free(b);
	free(d);
	assert_int_equal(sql("SELECT COUNT(*) FROM refunds r JOIN payments p "
			     "ON p.id = r.payment_id WHERE p.order_id = %ld",
			     c.id),
			 1);
	assert_int_equal(sql("SELECT SUM(r.amount) FROM refunds r JOIN "
			     "payments p ON p.id = r.payment_id WHERE "
			     "p.order_id = %ld",
			     c.id),
			 500);
	assert_int_equal(events(c.id, "order.refunded"), 1);
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

/* The back office's reads. */

/* GET path with token (NULL: none); fails unless the status is want. */
static struct json_object *
admin_get(const char *path, const char *tok, long want)
{
	char auth[256];
	struct req_opts o = {0};
	struct json_object *j;
	struct resp r;

	if (tok != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		o.headers[0] = auth;
	}
	assert_int_equal(e2e_request("GET", path, &o, &r), 0);
	if (r.status != want)
		fail_msg("GET %s: %ld, want %ld: %s", path, r.status, want,
			 r.body.data);
	j = parse(&r);
	resp_free(&r);
	return j;
}

/* The orders of a list answer. */
static struct json_object *
orders_of(struct json_object *page)
{
	struct json_object *l = json_object_object_get(page, "orders");

	assert_true(json_object_is_type(l, json_type_array));
	return l;
}

/* Whether order id is in the list answer page. */
static int
listed(struct json_object *page, long id)
{
	struct json_object *l = orders_of(page);
	size_t i;

	for (i = 0; i < json_object_array_length(l); i++)
		if (num(json_object_array_get_idx(l, i), "id") == id)
			return 1;
	return 0;
}

/* GET /api/admin/orders?query; every order listed has member key equal
 * to want (when key is not NULL). */
static struct json_object *
list(const char *query, const char *key, const char *want)
{
	char path[256];
	struct json_object *page, *l;
	size_t i;

	snprintf(path, sizeof(path), "/api/admin/orders?%s", query);
	page = admin_get(path, token(), 200);
	l = orders_of(page);
	for (i = 0; key != NULL && i < json_object_array_length(l); i++)
		assert_string_equal(text(json_object_array_get_idx(l, i), key),
				    want);
	return page;
}

/* The number of placed order c. */
static void
number_of(struct cart *c, char *out, size_t len)
{
	struct json_object *o = call(c, "GET", sub(c, ""), NULL, NULL, 200);

	assert_non_null(text(o, "number"));
	snprintf(out, len, "%s", text(o, "number"));
	json_object_put(o);
}

/* The UTC date days from today, YYYY-MM-DD. */
static void
utc_date(int days, char *out, size_t len)
{
	int64_t d = sql("SELECT DATE_FORMAT(UTC_DATE() + INTERVAL %d DAY, "
			"'%%Y%%m%%d')",
			days);

	snprintf(out, len, "%04d-%02d-%02d", (int)(d / 10000),
		 (int)(d / 100 % 100), (int)(d % 100));
}

static void
test_backoffice_token_required(void **state)
{
	struct cart c;
	char path[64];

	(void)state;
	placed(&c, "tshirt-m", 1, "offline");
	snprintf(path, sizeof(path), "/api/admin/orders/%ld", c.id);
	json_object_put(admin_get("/api/admin/orders", NULL, 401));
	json_object_put(admin_get("/api/admin/orders", "wrong", 401));
	json_object_put(admin_get(path, "wrong", 401));
	snprintf(path, sizeof(path), "/api/admin/orders/%ld/events", c.id);
	json_object_put(admin_get(path, "wrong", 401));
	json_object_put(admin_get(path, NULL, 401));
	/* Unknown orders and carts are 404. */
	json_object_put(admin_get("/api/admin/orders/999999999", token(), 404));
	new_cart(&c);
	snprintf(path, sizeof(path), "/api/admin/orders/%ld", c.id);
	json_object_put(admin_get(path, token(), 404));
	snprintf(path, sizeof(path), "/api/admin/orders/%ld/events", c.id);
	json_object_put(admin_get(path, token(), 404));
}

/* Pages of two from just above the newest of three orders: newest first,
 * each once, a cursor on every page but the last of the list. */
static void
test_backoffice_paging(void **state)
{
	struct cart c[3];
	struct json_object *page, *l;
	char query[64];
	int64_t cursor, prev = INT64_MAX;
	int seen = 0, i, pages = 0;
	size_t k;

	(void)state;
	for (i = 0; i < 3; i++)
		placed(&c[i], "tshirt-m", 1, "offline");
	cursor = c[2].id + 1;
	while (seen < 3) {
		snprintf(query, sizeof(query), "limit=2&cursor=%lld",
			 (long long)cursor);
		page = list(query, NULL, NULL);
		pages++;
		assert_int_equal(num(page, "limit"), 2);
		l = orders_of(page);
		assert_true(json_object_array_length(l) <= 2);
		for (k = 0; k < json_object_array_length(l); k++) {
			int64_t id = num(json_object_array_get_idx(l, k), "id");

			assert_true(id < prev);
			prev = id;
			for (i = 0; i < 3; i++)
				seen += id == c[i].id;
		}
		/* Three orders at least below the cursor: the first page is
		 * full and says where the next begins. */
		if (pages == 1) {
			assert_int_equal(json_object_array_length(l), 2);
			assert_int_equal(
			    num(json_object_array_get_idx(l, 0), "id"),
			    c[2].id);
		}
		if (seen < 3) {
			assert_non_null(text(page, "next_cursor"));
			cursor = strtoll(text(page, "next_cursor"), NULL, 10);
			assert_int_equal(cursor, prev);
		}
		json_object_put(page);
	}
	assert_int_equal(seen, 3);
	/* The last page: no cursor. The first order ever has none below. */
	snprintf(query, sizeof(query), "limit=200&cursor=%lld",
		 (long long)sql("SELECT MIN(id) FROM orders WHERE state <> "
				"'cart'") +
		     1);
	page = list(query, NULL, NULL);
	assert_int_equal(json_object_array_length(orders_of(page)), 1);
	assert_null(json_object_object_get(page, "next_cursor"));
	json_object_put(page);
	/* The default page is 50 orders at most, carts never among them. */
	page = list("", NULL, NULL);
	assert_int_equal(num(page, "limit"), 50);
	l = orders_of(page);
	assert_true(json_object_array_length(l) <= 50);
	for (k = 0; k < json_object_array_length(l); k++)
		assert_string_not_equal(
		    text(json_object_array_get_idx(l, k), "state"), "cart");
	assert_true(listed(page, c[2].id));
	json_object_put(page);
}

static void
test_backoffice_filters(void **state)
{
	struct cart a, b, d;
	struct json_object *page;
	char query[128], number[16], today[16], other[16];

	(void)state;
	placed(&a, "tshirt-m", 1, "offline");
	placed(&b, "tshirt-m", 1, "offline");
	placed(&d, "tshirt-m", 1, "offline");
	json_object_put(admin(a.id, "cancel", token(), NULL, 200));
	json_object_put(admin(b.id, "mark-paid", token(), NULL, 200));

	page = list("state=cancelled&limit=200", "state", "cancelled");
	assert_true(listed(page, a.id));
	assert_false(listed(page, b.id));
	json_object_put(page);
	page = list("state=new&limit=200", "state", "new");
	assert_true(listed(page, b.id) && listed(page, d.id));
	json_object_put(page);
	page = list("payment_state=paid&limit=200", "payment_state", "paid");
	assert_true(listed(page, b.id));
	assert_false(listed(page, d.id));
	json_object_put(page);
	page = list("payment_state=awaiting_payment&state=new&limit=200",
		    "payment_state", "awaiting_payment");
	assert_true(listed(page, d.id));
	assert_false(listed(page, a.id) || listed(page, b.id));
	json_object_put(page);

	/* The number: the whole one finds that order alone; its first
	 * digits find it among others that begin so. */
	number_of(&d, number, sizeof(number));
	snprintf(query, sizeof(query), "number=%s", number);
	page = list(query, "number", number);
	assert_int_equal(json_object_array_length(orders_of(page)), 1);
	assert_true(listed(page, d.id));
	json_object_put(page);
	number[7] = '\0';
	snprintf(query, sizeof(query), "number=%s&limit=200", number);
	page = list(query, NULL, NULL);
	assert_true(listed(page, d.id));
	json_object_put(page);

	/* Dates of completion, both days included: a is moved 6 days back. */
	sql("UPDATE orders SET completed_at = UTC_TIMESTAMP() - INTERVAL 6 "
	    "DAY WHERE id = %ld",
	    a.id);
	utc_date(0, today, sizeof(today));
	snprintf(query, sizeof(query), "from=%s&to=%s&limit=200", today, today);
	page = list(query, NULL, NULL);
	assert_true(listed(page, d.id));
	assert_false(listed(page, a.id));
	json_object_put(page);
	utc_date(-6, other, sizeof(other));
	snprintf(query, sizeof(query), "from=%s&to=%s&limit=200", other, other);
	page = list(query, NULL, NULL);
	assert_true(listed(page, a.id));
	assert_false(listed(page, d.id));
	json_object_put(page);
	utc_date(-1, other, sizeof(other));
	snprintf(query, sizeof(query), "to=%s&limit=200", other);
	page = list(query, NULL, NULL);
	assert_true(listed(page, a.id));
	assert_false(listed(page, d.id));
	json_object_put(page);
	utc_date(1, other, sizeof(other));
	snprintf(query, sizeof(query), "from=%s", other);
	page = list(query, NULL, NULL);
	assert_int_equal(json_object_array_length(orders_of(page)), 0);
	json_object_put(page);
}

/* A refused filter: 422 naming it; a query that is not a form: 400. */
static void
bad_filter(const char *query, const char *field)
{
	char path[256];
	struct json_object *o;

	snprintf(path, sizeof(path), "/api/admin/orders?%s", query);
	o = admin_get(path, token(), 422);
	assert_string_equal(text(o, "code"), "validation_failed");
	assert_string_equal(first_error_field(o), field);
	json_object_put(o);
}

static void
test_backoffice_bad_filters(void **state)
{
	struct json_object *o;
	struct cart c;
	char path[96];

	(void)state;
	bad_filter("state=bogus", "state");
	bad_filter("state=cart", "state");
	bad_filter("payment_state=cart", "payment_state");
	bad_filter("payment_state=shipped", "payment_state");
	bad_filter("number=12a", "number");
	bad_filter("number=1234567890", "number");
	bad_filter("from=2026-02-30", "from");
	bad_filter("to=06.12.2026", "to");
	bad_filter("from=2026-1-01", "from");
	bad_filter("limit=0", "limit");
	bad_filter("limit=201", "limit");
	bad_filter("cursor=x", "cursor");
	bad_filter("status=paid", "status");
	bad_filter("state[]=new", "state");
	o = admin_get("/api/admin/orders?state=new&state=paid", token(), 400);
	assert_string_equal(text(o, "code"), "malformed_body");
	json_object_put(o);
	o = admin_get("/api/admin/orders?state%ZZ", token(), 400);
	assert_string_equal(text(o, "code"), "malformed_body");
	json_object_put(o);
	placed(&c, "tshirt-m", 1, "offline");
	snprintf(path, sizeof(path), "/api/admin/orders/%ld/events?limit=0",
		 c.id);
	o = admin_get(path, token(), 422);
	assert_string_equal(first_error_field(o), "limit");
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/admin/orders/%ld?cursor=1", c.id);
	o = admin_get(path, token(), 422);
	assert_string_equal(first_error_field(o), "cursor");
	json_object_put(o);
}

/* One order: its snapshot with its lines, its payment with the refund,
 * and its events in order, a page at a time. */
static void
test_backoffice_order_detail(void **state)
{
	struct json_object *o, *p, *r, *ev, *items;
	struct cart c;
	char path[96];
	int64_t total, first;

	(void)state;
	placed(&c, "tshirt-m", 2, "stripe");
	put(&c, FORM, VISA_FORM, 200);
	json_object_put(
	    admin(c.id, "refund", token(), "{\"amount\": 700}", 200));
	snprintf(path, sizeof(path), "/api/admin/orders/%ld", c.id);
	o = admin_get(path, token(), 200);
	p = json_object_object_get(o, "order");
	assert_int_equal(num(p, "id"), c.id);
	assert_string_equal(text(p, "payment_state"), "partially_refunded");
	total = num(p, "total");
	items = json_object_object_get(p, "items");
	assert_int_equal(json_object_array_length(items), 1);
	assert_int_equal(num(json_object_array_get_idx(items, 0), "quantity"),
			 2);
	p = json_object_object_get(o, "payments");
	assert_int_equal(json_object_array_length(p), 1);
	p = json_object_array_get_idx(p, 0);
	assert_string_equal(text(p, "state"), "completed");
	assert_string_equal(text(p, "gateway"), "stripe");
	assert_int_equal(num(p, "amount"), total);
	assert_int_equal(num(p, "refunded"), 700);
	assert_string_equal(text(p, "card_last4"), "4242");
	assert_non_null(text(p, "provider_ref"));
	r = json_object_object_get(p, "refunds");
	assert_int_equal(json_object_array_length(r), 1);
	assert_int_equal(num(json_object_array_get_idx(r, 0), "amount"), 700);
	assert_true(
	    strncmp(text(json_object_array_get_idx(r, 0), "provider_ref"),
		    "re_", 3) == 0);
	ev = json_object_object_get(o, "events");
	assert_int_equal(json_object_array_length(ev),
			 sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld",
			     c.id));
	assert_string_equal(text(json_object_array_get_idx(ev, 0), "type"),
			    "order.completed");
	assert_string_equal(text(json_object_array_get_idx(
				     ev, json_object_array_length(ev) - 1),
				 "type"),
			    "order.refunded");
	assert_null(json_object_object_get(o, "events_next_cursor"));
	json_object_put(o);

	/* The events a page of one at a time, the same ones in order. */
	snprintf(path, sizeof(path), "/api/admin/orders/%ld?limit=1", c.id);
	o = admin_get(path, token(), 200);
	ev = json_object_object_get(o, "events");
	assert_int_equal(json_object_array_length(ev), 1);
	first = num(json_object_array_get_idx(ev, 0), "id");
	assert_int_equal(strtoll(text(o, "events_next_cursor"), NULL, 10),
			 first);
	json_object_put(o);
	snprintf(path, sizeof(path),
		 "/api/admin/orders/%ld/events?limit=1&cursor=%lld", c.id,
		 (long long)first);
	o = admin_get(path, token(), 200);
	ev = json_object_object_get(o, "events");
	assert_int_equal(json_object_array_length(ev), 1);
	assert_true(num(json_object_array_get_idx(ev, 0), "id") > first);
	assert_string_equal(text(json_object_array_get_idx(ev, 0), "type"),
			    "order.paid");
	json_object_put(o);
}

/* The back office's pages: served at /admin/ by nginx with their types
 * and policy, to local callers only, like /api/admin/. */
static void
test_backoffice_pages(void **state)
{
	static const struct {
		const char *path, *type, *needle;
	} pages[] = {
	    {"/admin/", "text/html",
	     "<script type=\"module\" src=\"admin.js\">"},
	    {"/admin/admin.js", "text/javascript", "/api/admin/orders"},
	    {"/admin/admin.css", "text/css", ".filters"},
	};
	/* Through .base: not recorded for t/openapi-check.mjs, these pages
	 * are not the API. */
	struct req_opts local = {.base = getenv("CHECKOUTD_URL")};
	struct req_opts other = {.interface = "127.0.0.2", .base = local.base};
	struct resp r;
	const char *v;
	size_t i;

	(void)state;
	assert_non_null(local.base);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		assert_int_equal(e2e_request("GET", pages[i].path, &local, &r),
				 0);
		assert_int_equal(r.status, 200);
		assert_true(strncmp(r.content_type, pages[i].type,
				    strlen(pages[i].type)) == 0);
		assert_non_null(strstr(r.body.data, pages[i].needle));
		v = resp_header(&r, "Content-Security-Policy");
		assert_non_null(v);
		assert_non_null(strstr(v, "default-src 'self'"));
		resp_free(&r);
		assert_int_equal(e2e_request("GET", pages[i].path, &other, &r),
				 0);
		assert_int_equal(r.status, 403);
		resp_free(&r);
	}
	assert_int_equal(e2e_request("GET", "/admin", &local, &r), 0);
	assert_int_equal(r.status, 301);
	assert_non_null(strstr(resp_header(&r, "Location"), "/admin/"));
	resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_required),
	    cmocka_unit_test(test_mark_paid),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_refund_answer_lost_then_retried),
	    cmocka_unit_test(test_refunds),
	    cmocka_unit_test(test_ship_and_fulfil),
	    cmocka_unit_test(test_checkoutctl_mark_paid_and_expire),
	    cmocka_unit_test(test_limited_coupon_given_back),
	    cmocka_unit_test(test_backoffice_token_required),
	    cmocka_unit_test(test_backoffice_paging),
	    cmocka_unit_test(test_backoffice_filters),
	    cmocka_unit_test(test_backoffice_bad_filters),
	    cmocka_unit_test(test_backoffice_order_detail),
	    cmocka_unit_test(test_backoffice_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
