/* End-to-end: carts, items, coupons and who may reach a cart. */
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

#include "client.h"

#define SESSION "5d1f0e9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f"

static void
test_new_cart(void **state)
{
	struct cart c;
	struct json_object *o;
	size_t i;

	(void)state;
	new_cart(&c);
	assert_int_equal(strlen(c.token), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", c.token[i]));
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	assert_int_equal(num(o, "id"), c.id);
	assert_string_equal(text(o, "state"), "cart");
	assert_string_equal(text(o, "checkout_state"), "cart");
	assert_string_equal(text(o, "currency"), "EUR");
	assert_int_equal(num(o, "total"), 0);
	assert_non_null(text(o, "expires_at"));
	/* The token is shown only when the cart is made. */
	assert_null(json_object_object_get(o, "token"));
	json_object_put(o);
}

static void
test_seed_items_and_totals(void **state)
{
	struct cart c;
	struct json_object *o, *items, *adj;

	(void)state;
	new_cart(&c);
	/* Form and JSON bodies, the same variant merging into one line. */
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=sofa&quantity=1", 201));
	o = call(&c, "POST", sub(&c, "/items"), JSON,
		 "{\"variant\": 3, \"quantity\": 2}", 201);
	items = json_object_object_get(o, "items");
	assert_int_equal(json_object_array_length(items), 1);
	assert_int_equal(num(json_object_array_get_idx(items, 0), "quantity"),
			 3);
	/* Seed 004: 3 x 500000 with the Christmas promotion; EU VAT is
	 * included in the price, recorded as a neutral adjustment. */
	assert_int_equal(num(o, "items_total"), 1499750);
	assert_int_equal(num(o, "promotion_total"), -250);
	assert_int_equal(num(o, "total"), 1499750);
	adj = json_object_object_get(json_object_array_get_idx(items, 0),
				     "adjustments");
	assert_string_equal(text(json_object_array_get_idx(adj, 0), "type"),
			    "order_promotion");
	assert_int_equal(num(json_object_array_get_idx(adj, 0), "amount"),
			 -250);
	assert_string_equal(text(json_object_array_get_idx(adj, 1), "label"),
			    "VAT (20%)");
	assert_true(json_object_get_boolean(json_object_object_get(
	    json_object_array_get_idx(adj, 1), "neutral")));
	assert_int_equal(num(o, "total"),
			 num(o, "items_total") + num(o, "adjustments_total"));
	json_object_put(o);
}

static void
test_item_refusals(void **state)
{
	static const struct {
		const char *body, *field;
	} rows[] = {
	    {"variant=nope&quantity=1", "variant"},
	    {"variant=sofa&quantity=0", "quantity"},
	    {"variant=sofa&quantity=10000", "quantity"},
	    {"variant=sofa&quantity=two", "quantity"},
	    {"quantity=1", "variant"},
	    {"variant=lamp&quantity=2", "quantity"},
	    {"variant=sofa&colour=red", "colour"},
	};
	struct cart c;
	size_t i;

	(void)state;
	new_cart(&c);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *o = call(&c, "POST", sub(&c, "/items"),
					     FORM, rows[i].body, 422);

		assert_string_equal(text(o, "code"), "validation_failed");
		if (strcmp(first_error_field(o), rows[i].field) != 0)
			fail_msg("%s: field %s", rows[i].body,
				 first_error_field(o));
		json_object_put(o);
	}
	/* Nothing was added. */
	{
		struct json_object *o =
		    call(&c, "GET", c.path, NULL, NULL, 200);

		assert_int_equal(json_object_array_length(
				     json_object_object_get(o, "items")),
				 0);
		json_object_put(o);
	}
}

static void
test_change_and_remove_lines(void **state)
{
	struct cart c, other;
	struct json_object *o;
	char path[128];
	int64_t item;

	(void)state;
	new_cart(&c);
	new_cart(&other);
	o = call(&c, "POST", sub(&c, "/items"), FORM, "variant=tshirt-m", 201);
	item = num(
	    json_object_array_get_idx(json_object_object_get(o, "items"), 0),
	    "id");
	json_object_put(o);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=poster&quantity=2", 201));
	snprintf(path, sizeof(path), "%s/items/%lld", c.path, (long long)item);
	o = call(&c, "PATCH", path, JSON, "{\"quantity\": 5}", 200);
	/* 11795 passes the Christmas threshold (10000): -250. */
	assert_int_equal(num(o, "items_total"), 5 * 1999 + 2 * 900 - 250);
	json_object_put(o);
	/* Another cart cannot touch this line. */
	snprintf(path, sizeof(path), "%s/items/%lld", other.path,
		 (long long)item);
	json_object_put(
	    call(&other, "PATCH", path, JSON, "{\"quantity\": 1}", 404));
	snprintf(path, sizeof(path), "%s/items/%lld", c.path, (long long)item);
	json_object_put(call(&c, "PATCH", path, JSON, "{}", 422));
	o = call(&c, "PATCH", path, FORM, "quantity=0", 200);
	assert_int_equal(
	    json_object_array_length(json_object_object_get(o, "items")), 1);
	assert_int_equal(num(o, "items_total"), 1800);
	json_object_put(o);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	item = num(
	    json_object_array_get_idx(json_object_object_get(o, "items"), 0),
	    "id");
	json_object_put(o);
	snprintf(path, sizeof(path), "%s/items/%lld", c.path, (long long)item);
	o = call(&c, "DELETE", path, NULL, NULL, 200);
	assert_int_equal(num(o, "total"), 0);
	json_object_put(o);
	json_object_put(call(&c, "DELETE", path, NULL, NULL, 404));
}

static void
test_coupons(void **state)
{
	struct cart c;
	struct json_object *o;

	(void)state;
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=poster&quantity=10", 201));
	o = call(&c, "POST", sub(&c, "/coupon"), FORM, "code=NOPE", 422);
	assert_string_equal(first_error_field(o), "code");
	json_object_put(o);
	/* 10 x 900 = 9000: below the Christmas threshold; 10 % off. */
	o = call(&c, "POST", sub(&c, "/coupon"), JSON,
		 "{\"code\": \"WELCOME10\"}", 200);
	assert_int_equal(num(o, "promotion_total"), -900);
	assert_int_equal(num(o, "total"), 8100);
	json_object_put(o);
	o = call(&c, "DELETE", sub(&c, "/coupon"), NULL, NULL, 200);
	assert_int_equal(num(o, "total"), 9000);
	json_object_put(o);
}

static void
test_ownership(void **state)
{
	struct cart a, b;
	struct json_object *o;
	struct resp r;
	struct req_opts none = {0};
	struct req_opts wrong = {.headers = {"X-Cart-Token: 00"}};
	struct req_opts session = {
	    .headers = {"Authorization: Bearer " SESSION}};
	struct req_opts bad_session = {
	    .headers = {"Authorization: Bearer "
			"00000000-0000-4000-8000-000000000000"}};

	(void)state;
	new_cart(&a);
	new_cart(&b);
	/* No credential: 401. Wrong one, another's: 404. */
	assert_int_equal(e2e_request("GET", a.path, &none, &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(resp_json_str(&r, "code"), "unauthenticated");
	resp_free(&r);
	assert_int_equal(e2e_request("GET", a.path, &wrong, &r), 0);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	{
		struct req_opts o2 = {.headers = {b.token_header}};

		assert_int_equal(e2e_request("GET", a.path, &o2, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
		assert_int_equal(
		    e2e_request("GET", "/api/carts/999999", &o2, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
		assert_int_equal(e2e_request("GET", "/api/carts/x", &o2, &r),
				 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
	/* A customer's cart: its session only. */
	assert_int_equal(e2e_request("POST", "/api/carts", &session, &r), 0);
	assert_int_equal(r.status, 201);
	o = parse(&r);
	assert_null(json_object_object_get(o, "token"));
	snprintf(a.path, sizeof(a.path), "/api/carts/%lld",
		 (long long)num(o, "id"));
	json_object_put(o);
	resp_free(&r);
	assert_int_equal(e2e_request("GET", a.path, &session, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* Adding an item checks ownership in the statement that reads the
	 * variant: the session adds, anything else is refused. */
	{
		char items[96];
		struct req_opts add = {
		    .ctype = "application/json",
		    .body = "{\"variant\":\"tshirt-m\",\"quantity\":2}",
		    .headers = {"Authorization: Bearer " SESSION}};

		snprintf(items, sizeof(items), "%s/items", a.path);
		assert_int_equal(e2e_request("POST", items, &add, &r), 0);
		assert_int_equal(r.status, 201);
		o = parse(&r);
		assert_int_equal(num(json_object_array_get_idx(
					 json_object_object_get(o, "items"), 0),
				     "quantity"),
				 2);
		json_object_put(o);
		resp_free(&r);
		add.headers[0] = b.token_header;
		assert_int_equal(e2e_request("POST", items, &add, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
		add.headers[0] = bad_session.headers[0];
		assert_int_equal(e2e_request("POST", items, &add, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
		add.headers[0] = NULL;
		assert_int_equal(e2e_request("POST", items, &add, &r), 0);
		assert_int_equal(r.status, 401);
		resp_free(&r);
	}
	/* The checkout view reads the order's owner in its own statement:
	 * the same answers. */
	{
		char view[64];
		struct req_opts o2 = {.headers = {b.token_header}};
		static const struct {
			const char *header;
			long status;
		} rows[] = {{"Authorization: Bearer " SESSION, 200},
			    {NULL, 401},
			    {"Authorization: Bearer "
			     "00000000-0000-4000-8000-000000000000",
			     404},
			    {"X-Cart-Token: 00", 404}};
		size_t i;

		snprintf(view, sizeof(view), "/api/checkouts/%ld",
			 strtol(a.path + strlen("/api/carts/"), NULL, 10));
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct req_opts ro = {.headers = {rows[i].header}};

			assert_int_equal(e2e_request("GET", view, &ro, &r), 0);
			if (r.status != rows[i].status)
				fail_msg("GET %s with %s: %ld, want %ld", view,
					 rows[i].header ? rows[i].header
							: "nothing",
					 r.status, rows[i].status);
			resp_free(&r);
		}
		assert_int_equal(e2e_request("GET", view, &o2, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
	assert_int_equal(e2e_request("GET", a.path, &none, &r), 0);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	{
		struct req_opts o2 = {.headers = {b.token_header}};

		assert_int_equal(e2e_request("GET", a.path, &o2, &r), 0);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
	assert_int_equal(e2e_request("GET", a.path, &bad_session, &r), 0);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_int_equal(e2e_request("POST", "/api/carts", &bad_session, &r),
			 0);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	/* /api/orders/{id} answers the same snapshot. */
	snprintf(a.path, sizeof(a.path), "/api/orders/%ld", b.id);
	{
		struct req_opts o2 = {.headers = {b.token_header}};

		assert_int_equal(e2e_request("GET", a.path, &o2, &r), 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
}

static void
test_expired_cart_is_404(void **state)
{
	struct cart c;
	char cmd[512];

	(void)state;
	new_cart(&c);
	snprintf(cmd, sizeof(cmd),
		 "mariadb --no-defaults -uroot "
		 "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e "
		 "\"UPDATE orders SET expires_at = UTC_TIMESTAMP() - INTERVAL "
		 "1 SECOND WHERE id = %ld\"",
		 c.id);
	assert_int_equal(system(cmd), 0);
	json_object_put(call(&c, "GET", c.path, NULL, NULL, 404));
	json_object_put(
	    call(&c, "POST", sub(&c, "/items"), FORM, "variant=poster", 404));
}

struct adder {
	struct cart *c;
	pthread_barrier_t *barrier;
	long status;
};

static void *
add_one(void *arg)
{
	struct adder *a = arg;
	struct req_opts o = {.ctype = FORM,
			     .body = "variant=tshirt-l&quantity=3",
			     .headers = {a->c->token_header}};
	char path[96];
	struct resp r;

	snprintf(path, sizeof(path), "%s/items", a->c->path);
	pthread_barrier_wait(a->barrier);
	if (e2e_request("POST", path, &o, &r) == 0)
		a->status = r.status;
	resp_free(&r);
	return NULL;
}

/* Ten add-item calls at once on one cart: the quantities add up. */
static void
test_parallel_adds_add_up(void **state)
{
	pthread_barrier_t barrier;
	struct adder a[10];
	pthread_t t[10];
	struct cart c;
	struct json_object *o, *items;
	int i;

	(void)state;
	new_cart(&c);
	pthread_barrier_init(&barrier, NULL, 10);
	for (i = 0; i < 10; i++) {
		a[i] = (struct adder){&c, &barrier, 0};
		pthread_create(&t[i], NULL, add_one, &a[i]);
	}
	for (i = 0; i < 10; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].status, 201);
	}
	pthread_barrier_destroy(&barrier);
	/* They really ran at the same time (checkoutd's access log). */
	i = e2e_overlaps(" POST /api/carts/", 10);
	print_message("10 add-item calls at once, %d overlapping pairs\n", i);
	assert_true(i >= 1);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	items = json_object_object_get(o, "items");
	assert_int_equal(json_object_array_length(items), 1);
	assert_int_equal(num(json_object_array_get_idx(items, 0), "quantity"),
			 30);
	json_object_put(o);
}

/* checkoutctl session create: a session that reaches its own cart. */
static void
test_session_create(void **state)
{
	char sess[64] = "", auth[128];
	struct req_opts o = {.headers = {auth}};
	struct resp r;
	FILE *p;

	(void)state;
	p = popen("\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		  "\"$STACK_DIR/checkoutd.conf\" session create --customer "
		  "new.buyer@example.com --ttl 600",
		  "r");
	assert_non_null(p);
	assert_non_null(fgets(sess, sizeof(sess), p));
	assert_int_equal(pclose(p), 0);
	sess[strcspn(sess, "\n")] = '\0';
	assert_int_equal(strlen(sess), 36);
	assert_int_equal(sess[14], '4'); /* A version 4 UUID. */
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", sess);
	assert_int_equal(e2e_request("POST", "/api/carts", &o, &r), 0);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	/* Bad input is refused with status 2. */
	assert_int_equal(
	    system("\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" "
		   "--config \"$STACK_DIR/checkoutd.conf\" session "
		   "create --customer nope 2>/dev/null") >>
		8,
	    2);
	/* checkoutctl orders lists the newest orders. */
	p = popen("\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		  "\"$STACK_DIR/checkoutd.conf\" orders",
		  "r");
	assert_non_null(fgets(sess, sizeof(sess), p));
	assert_non_null(strstr(sess, "checkout_state"));
	assert_int_equal(pclose(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_cart),
	    cmocka_unit_test(test_seed_items_and_totals),
	    cmocka_unit_test(test_item_refusals),
	    cmocka_unit_test(test_change_and_remove_lines),
	    cmocka_unit_test(test_coupons),
	    cmocka_unit_test(test_ownership),
	    cmocka_unit_test(test_expired_cart_is_404),
	    cmocka_unit_test(test_parallel_adds_add_up),
	    cmocka_unit_test(test_session_create),
	};
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
