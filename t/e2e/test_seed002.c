/*
 * Seed 002 end to end (SPEC 3.3, docs/api-seed002.md): /cart/add and
 * /orders/checkout through nginx, the draft's owner rules, and a seat
 * bought by someone else between the two calls.
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

/* The uuid of a seat nobody holds, the k-th one from the end (so that
 * the tests and the documented examples take different seats). */
static void
free_seat(int k, char uuid[40])
{
	struct resp r;
	struct json_object *o, *v;
	int i, n, seen = 0;

	assert_int_equal(e2e_request("GET", "/api/products/concert", NULL, &r),
			 0);
	o = parse(&r);
	resp_free(&r);
	v = json_object_object_get(o, "variants");
	n = (int)json_object_array_length(v);
	for (i = n - 1; i >= 0; i--) {
		struct json_object *s = json_object_array_get_idx(v, i);

		if (num(s, "available") == 1 && seen++ == k) {
			snprintf(uuid, 40, "%s", text(s, "uuid"));
			json_object_put(o);
			return;
		}
	}
	json_object_put(o);
	fail_msg("no free seat left");
}

static void
who(char out[64], const char *prefix)
{
	static int n;

	snprintf(out, 64, "%s-%d-%d-%ld", prefix, (int)getpid(), n++,
		 (long)time(NULL));
}

static long
add(const char *owner_key, const char *owner, const char *seat,
    const char *price, struct json_object **out)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"reservationId\": \"res-%s\", \"seatId\": \"%s\", "
		 "\"price\": %s, \"%s\": \"%s\"}",
		 owner, seat, price, owner_key, owner);
	return post_json("/cart/add", NULL, body, out);
}

static long
checkout(const char *order, const char *owner_key, const char *owner,
	 struct json_object **out)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"orderId\": \"%s\", \"%s\": \"%s\"}",
		 order, owner_key, owner);
	return post_json("/orders/checkout", NULL, body, out);
}

static void
expect_error(long status, struct json_object *o, long want, const char *message)
{
	assert_int_equal(status, want);
	assert_string_equal(text(o, "error"), message);
	json_object_put(o);
}

/* expr sets o; it is evaluated before o is read. */
#define EXPECT_ERROR(expr, want, message)                                      \
	do {                                                                   \
		long st_ = (expr);                                             \
		expect_error(st_, o, want, message);                           \
	} while (0)

static void
test_user_adds_and_checks_out(void **state)
{
	char user[64], s1[40], s2[40], order[40];
	struct json_object *o, *items;

	(void)state;
	who(user, "user");
	free_seat(0, s1);
	free_seat(1, s2);
	assert_int_equal(add("userId", user, s1, "50.00", &o), 200);
	assert_string_equal(text(o, "state"), "draft");
	assert_string_equal(text(o, "userId"), user);
	assert_true(json_object_get_type(json_object_object_get(
			o, "guestToken")) == json_type_null);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	/* The same draft takes the second seat. */
	assert_int_equal(add("userId", user, s2, "50", &o), 200);
	assert_string_equal(text(o, "id"), order);
	items = json_object_object_get(o, "items");
	assert_int_equal(json_object_array_length(items), 2);
	assert_string_equal(text(json_object_array_get_idx(items, 1), "seatId"),
			    s2);
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM order_items i JOIN orders o "
			     "ON o.id = i.order_id WHERE o.uuid = '%s' AND "
			     "i.reservation_id = 'res-%s'",
			     order, user),
			 2);
	EXPECT_ERROR(add("userId", user, s1, "50.00", &o), 400,
		     "Seat already in cart");
	EXPECT_ERROR(add("userId", user, s1, "49.99", &o), 400,
		     "Price does not match");
	assert_int_equal(checkout(order, "userId", user, &o), 200);
	assert_string_equal(text(o, "state"), "pending");
	assert_string_equal(text(o, "id"), order);
	/* Two seats of 50.00, less the store's Christmas promotion
	 * (orders over 100 EUR: -2.50): the core's rules apply. */
	assert_true(json_object_get_double(
			json_object_object_get(o, "totalAmount")) == 97.5);
	assert_true(json_object_get_type(json_object_object_get(o, "paidAt")) ==
		    json_type_null);
	json_object_put(o);
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM orders WHERE uuid = '%s' AND "
		"state = 'new' AND payment_state = "
		"'awaiting_payment' AND number IS NOT NULL",
		order),
	    1);
	EXPECT_ERROR(checkout(order, "userId", user, &o), 400,
		     "Order is not in draft state");
	/* Sold: nobody adds it any more. */
	EXPECT_ERROR(add("userId", user, s1, "50.00", &o), 409,
		     "Seat is no longer available");
}

/* Adding a seat with an Idempotency-Key is scoped to the userId (SPEC,
 * "Idempotency"): the same key again answers the first add, byte for
 * byte, instead of "Seat already in cart". */
static void
test_key_replays_the_add(void **state)
{
	char user[64], seat[40], body[512], other[512];
	struct json_object *o;

	(void)state;
	who(user, "keyed");
	free_seat(0, seat);
	snprintf(body, sizeof(body),
		 "{\"reservationId\": \"res-%s\", \"seatId\": \"%s\", "
		 "\"price\": 50.00, \"userId\": \"%s\"}",
		 user, seat, user);
	snprintf(other, sizeof(other),
		 "{\"reservationId\": \"res-%s\", \"seatId\": \"%s\", "
		 "\"price\": 50, \"userId\": \"%s\"}",
		 user, seat, user);
	assert_key_replays("/cart/add", "add-once", body, other, &o);
	assert_string_equal(text(o, "userId"), user);
	assert_int_equal(sql("SELECT COUNT(*) FROM order_items i JOIN orders o "
			     "ON o.id = i.order_id WHERE o.uuid = '%s'",
			     text(o, "id")),
			 1);
	json_object_put(o);
}

/*
 * An add whose COMMIT went through with its answer lost (a test build
 * answers 503 with the work kept), sent again with its key: the 200
 * stored with the work (written inside the add's transaction), not "Seat
 * already in cart"; then the checkout, the same way.
 */
static void
test_answer_lost_then_retried(void **state)
{
	char user[64], seat[40], body[512];
	struct resp a, b, d;
	struct json_object *o;
	int i;

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no lost answer to force\n");
		skip();
	}
	who(user, "lost");
	free_seat(0, seat);
	snprintf(body, sizeof(body),
		 "{\"reservationId\": \"res-%s\", \"seatId\": \"%s\", "
		 "\"price\": 50.00, \"userId\": \"%s\"}",
		 user, seat, user);
	for (i = 0; i < 2; i++) {
		const char *path = i == 0 ? "/cart/add" : "/orders/checkout";

		a = keyed_with(NULL, "POST", path, "lost", JSON, body,
			       "X-Test-Answer-Lost: 1");
		assert_int_equal(a.status, 503);
		resp_free(&a);
		b = keyed_with(NULL, "POST", path, "lost", JSON, body, NULL);
		assert_int_equal(b.status, 200);
		d = keyed_with(NULL, "POST", path, "lost", JSON, body, NULL);
		assert_int_equal(b.body.len, d.body.len);
		assert_memory_equal(b.body.data, d.body.data, b.body.len);
		o = parse(&b);
		assert_string_equal(text(o, "state"),
				    i == 0 ? "draft" : "pending");
		assert_int_equal(json_object_array_length(
				     json_object_object_get(o, "items")),
				 1);
		/* The checkout's body: the draft the add made. */
		snprintf(body, sizeof(body),
			 "{\"orderId\": \"%s\", \"userId\": \"%s\"}",
			 text(o, "id"), user);
		json_object_put(o);
		resp_free(&b);
		resp_free(&d);
	}
}

/* A request sent from a thread: method POST, its status and body kept. */
struct sender {
	const char *path, *body, *headers[3];
	long status;
	char answer[2048];
};

static void *
send_post(void *arg)
{
	struct sender *s = arg;
	struct req_opts o = {
	    .ctype = JSON,
	    .body = s->body,
	    .headers = {s->headers[0], s->headers[1], s->headers[2]}};
	struct resp r;

	s->status = 0;
	if (e2e_request("POST", s->path, &o, &r) == 0) {
		s->status = r.status;
		snprintf(s->answer, sizeof(s->answer), "%.*s", (int)r.body.len,
			 r.body.data ? r.body.data : "");
		resp_free(&r);
	}
	return NULL;
}

/* Holds the draft's row locked for a second (another session of the
 * stack's root client). */
static void *
hold_order(void *arg)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
		 "mariadb --no-defaults -uroot -N "
		 "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e \"BEGIN; "
		 "SELECT id FROM orders WHERE uuid = '%s' FOR UPDATE; DO "
		 "SLEEP(1); COMMIT\" >/dev/null",
		 (const char *)arg);
	if (system(cmd) != 0)
		print_message("could not hold the order's row\n");
	return NULL;
}

/*
 * A keyed add (then checkout) whose first run answered 200 and failed at
 * COMMIT (a test build's X-Test-Tx-Retry), and whose second run meets the
 * work of another request that took the draft's row in between (the same
 * seat added, the draft placed): the second run refuses ("Seat already
 * in cart", "Order is not in draft state") and commits. The key must
 * replay that refusal, the answer sent, not the first run's 200.
 */
static void
test_rerun_refused_after_an_answer(void **state)
{
	char user[64], s1[40], s2[40], order[40], body[512], kh[96];
	struct json_object *o;
	struct resp r;
	int i;

	(void)state;
	if (!test_build()) {
		print_message("not a test build: no transaction to rerun\n");
		skip();
	}
	who(user, "rerun");
	free_seat(8, s1);
	free_seat(9, s2);
	assert_int_equal(add("userId", user, s1, "50.00", &o), 200);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	for (i = 0; i < 2; i++) {
		struct sender a = {.headers = {kh, "X-Test-Tx-Retry: 1"}};
		struct sender b = {0};
		pthread_t th, ta, tb;

		snprintf(kh, sizeof(kh), "Idempotency-Key: rerun-%d", i);
		if (i == 0)
			snprintf(body, sizeof(body),
				 "{\"seatId\": \"%s\", \"price\": 50.00, "
				 "\"userId\": \"%s\"}",
				 s2, user);
		else
			snprintf(body, sizeof(body),
				 "{\"orderId\": \"%s\", \"userId\": \"%s\"}",
				 order, user);
		a.path = b.path = i == 0 ? "/cart/add" : "/orders/checkout";
		a.body = b.body = body;
		/* The row held; A waits for it, then B behind A. */
		pthread_create(&th, NULL, hold_order, order);
		usleep(300 * 1000);
		pthread_create(&ta, NULL, send_post, &a);
		usleep(300 * 1000);
		pthread_create(&tb, NULL, send_post, &b);
		pthread_join(th, NULL);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		assert_int_equal(b.status, 200);
		assert_int_equal(a.status, 400);
		assert_non_null(
		    strstr(a.answer, i == 0 ? "Seat already in cart"
					    : "Order is not in draft"));
		r = keyed(NULL, "POST", a.path,
			  kh + strlen("Idempotency-Key: "), JSON, body);
		if (r.status != a.status || strlen(a.answer) != r.body.len ||
		    memcmp(a.answer, r.body.data, r.body.len) != 0)
			fail_msg(
			    "the key replays %ld %s, where the answer sent "
			    "was %ld %s",
			    r.status, r.body.data, a.status, a.answer);
		resp_free(&r);
	}
}

/*
 * The same key twice at once on /cart/add: the first waits for the
 * draft's row (held from another session), the second is refused with
 * 409 idempotency_key_in_use (problem+json: docs/openapi.yaml) while the
 * first runs; the first adds, and the key then replays its answer.
 */
static void
test_same_key_at_once(void **state)
{
	char user[64], s1[40], s2[40], order[40], body[512];
	struct sender a = {.path = "/cart/add",
			   .headers = {"Idempotency-Key: at-once"}};
	struct json_object *o;
	struct resp b, d;
	pthread_t th, ta;

	(void)state;
	who(user, "at-once");
	free_seat(10, s1);
	free_seat(11, s2);
	assert_int_equal(add("userId", user, s1, "50.00", &o), 200);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	snprintf(body, sizeof(body),
		 "{\"seatId\": \"%s\", \"price\": 50.00, \"userId\": \"%s\"}",
		 s2, user);
	a.body = body;
	pthread_create(&th, NULL, hold_order, order);
	usleep(300 * 1000);
	pthread_create(&ta, NULL, send_post, &a);
	usleep(300 * 1000);
	b = keyed(NULL, "POST", "/cart/add", "at-once", JSON, body);
	assert_problem(&b, 409, "idempotency_key_in_use");
	resp_free(&b);
	pthread_join(th, NULL);
	pthread_join(ta, NULL);
	assert_int_equal(a.status, 200);
	d = keyed(NULL, "POST", "/cart/add", "at-once", JSON, body);
	assert_int_equal(d.status, 200);
	assert_int_equal(d.body.len, strlen(a.answer));
	assert_memory_equal(d.body.data, a.answer, d.body.len);
	resp_free(&d);
}

static void
test_owners(void **state)
{
	char name[64], seat[40], order[40], other[40];
	struct json_object *o;

	(void)state;
	who(name, "same-name");
	free_seat(2, seat);
	EXPECT_ERROR(
	    post_json("/cart/add", NULL,
		      "{\"seatId\": \"6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e610\", "
		      "\"price\": 50}",
		      &o),
	    400, "Either UserId or GuestToken must be provided");
	EXPECT_ERROR(
	    post_json("/orders/checkout", NULL,
		      "{\"orderId\": \"6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e610\"}",
		      &o),
	    400, "Either UserId or GuestToken must be provided");
	/* A user id and a guest token with the same text: two drafts. */
	assert_int_equal(add("userId", name, seat, "50.00", &o), 200);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	assert_int_equal(add("guestToken", name, seat, "50.00", &o), 200);
	snprintf(other, sizeof(other), "%s", text(o, "id"));
	assert_string_not_equal(order, other);
	assert_string_equal(text(o, "guestToken"), name);
	json_object_put(o);
	EXPECT_ERROR(checkout(order, "guestToken", name, &o), 401,
		     "Unauthorized");
	EXPECT_ERROR(checkout(other, "userId", name, &o), 401, "Unauthorized");
	EXPECT_ERROR(checkout(order, "userId", "someone-else", &o), 401,
		     "Unauthorized");
	EXPECT_ERROR(checkout("00000000-0000-4000-8000-000000000000", "userId",
			      name, &o),
		     404, "Order not found");
}

/* Two drafts hold the same seat; the first checkout takes it. */
static void
test_seat_bought_in_between(void **state)
{
	char a[64], b[64], seat[40], oa[40], ob[40];
	struct json_object *o;

	(void)state;
	who(a, "first");
	who(b, "second");
	free_seat(3, seat);
	assert_int_equal(add("userId", a, seat, "50.00", &o), 200);
	snprintf(oa, sizeof(oa), "%s", text(o, "id"));
	json_object_put(o);
	assert_int_equal(add("guestToken", b, seat, "50.00", &o), 200);
	snprintf(ob, sizeof(ob), "%s", text(o, "id"));
	json_object_put(o);
	assert_int_equal(checkout(oa, "userId", a, &o), 200);
	json_object_put(o);
	EXPECT_ERROR(checkout(ob, "guestToken", b, &o), 409,
		     "Seat is no longer available");
	/* The loser's draft is still a draft. */
	assert_int_equal(
	    sql("SELECT COUNT(*) FROM orders WHERE uuid = '%s' AND state = "
		"'cart' AND checkout_state = 'cart'",
		ob),
	    1);
	assert_int_equal(sql("SELECT on_hand - on_hold FROM variant_stock s "
			     "JOIN product_variants v ON v.id = s.variant_id "
			     "WHERE v.uuid = '%s'",
			     seat),
			 0);
}

/* The catalog price moves between /cart/add and checkout: 409 "Price has
 * changed", the draft keeps the new price; another seat added after that
 * (the core takes the draft back a step), and the checkout places both. */
static void
test_price_changed(void **state)
{
	char user[64], s1[40], s2[40], order[40];
	struct json_object *o;

	(void)state;
	who(user, "price");
	free_seat(4, s1);
	free_seat(5, s2);
	assert_int_equal(add("userId", user, s1, "50.00", &o), 200);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	sql("UPDATE product_variants SET price = 5500 WHERE uuid = '%s'", s1);
	EXPECT_ERROR(checkout(order, "userId", user, &o), 409,
		     "Price has changed");
	assert_int_equal(
	    sql("SELECT total FROM orders WHERE uuid = '%s' AND state = 'cart'",
		order),
	    5500);
	assert_int_equal(add("userId", user, s2, "50.00", &o), 200);
	assert_string_equal(text(o, "id"), order);
	json_object_put(o);
	assert_int_equal(checkout(order, "userId", user, &o), 200);
	assert_string_equal(text(o, "state"), "pending");
	/* 55.00 + 50.00 - 2.50 Christmas. */
	assert_true(json_object_get_double(
			json_object_object_get(o, "totalAmount")) == 102.5);
	json_object_put(o);
}

/* A JSON amount in minor units, from its text (never through a double's
 * arithmetic on the total). */
static int64_t
cents(struct json_object *v)
{
	const char *s = json_object_to_json_string(v);
	long long major = 0, minor = 0;
	char frac[3] = "00";
	const char *dot = strchr(s, '.');

	major = strtoll(s, NULL, 10);
	if (dot != NULL) {
		frac[0] = dot[1] ? dot[1] : '0';
		frac[1] = dot[1] && dot[2] ? dot[2] : '0';
	}
	minor = strtoll(frac, NULL, 10);
	return (int64_t)(major * 100 + minor);
}

/* totalAmount is "the total amount for all items in order" (the seed):
 * the sum of items[].price, also when a promotion applies (two seats of
 * 50.00 and the Christmas promotion: 48.75 each, 97.50), in the draft
 * and once placed (docs/api-seed002.md). */
static void
test_total_is_the_sum_of_prices(void **state)
{
	char user[64], s1[40], s2[40], order[40];
	struct json_object *o, *items;
	int64_t sum;
	size_t i;
	int pass;

	(void)state;
	who(user, "sum");
	free_seat(6, s1);
	free_seat(7, s2);
	assert_int_equal(add("userId", user, s1, "50.00", &o), 200);
	snprintf(order, sizeof(order), "%s", text(o, "id"));
	json_object_put(o);
	assert_int_equal(add("userId", user, s2, "50.00", &o), 200);
	for (pass = 0; pass < 2; pass++) {
		items = json_object_object_get(o, "items");
		assert_int_equal(json_object_array_length(items), 2);
		for (i = 0, sum = 0; i < 2; i++) {
			struct json_object *it =
			    json_object_array_get_idx(items, i);

			sum += cents(json_object_object_get(it, "price"));
			assert_int_equal(
			    cents(json_object_object_get(it, "price")), 4875);
		}
		assert_int_equal(
		    cents(json_object_object_get(o, "totalAmount")), 9750);
		assert_int_equal(sum, 9750);
		json_object_put(o);
		if (pass == 0)
			assert_int_equal(checkout(order, "userId", user, &o),
					 200);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_adds_and_checks_out),
	    cmocka_unit_test(test_owners),
	    cmocka_unit_test(test_key_replays_the_add),
	    cmocka_unit_test(test_answer_lost_then_retried),
	    cmocka_unit_test(test_rerun_refused_after_an_answer),
	    cmocka_unit_test(test_same_key_at_once),
	    cmocka_unit_test(test_seat_bought_in_between),
	    cmocka_unit_test(test_price_changed),
	    cmocka_unit_test(test_total_is_the_sum_of_prices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
