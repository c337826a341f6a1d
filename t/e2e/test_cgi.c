/*
 * End-to-end: checkoutd as a plain CGI program, the shared-hosting mode.
 * Every request of a full walk (cart, address, a live carrier quote as the
 * shipping method, card payment at the payment sandbox, an admin refund)
 * is answered by a checkoutd process started for it by a CGI web server
 * (t/cgi-gateway.py), with the stack's configuration but an empty
 * security.secret; each write is sent twice with one Idempotency-Key and
 * the second answer must be the first, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static long gateway = -1;
static char gateway_url[64], stack_url[256];

/* Runs a shell command; its first line of output into out. */
static void
shell_line(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	assert_non_null(fgets(out, (int)n, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* Starts the CGI web server on a configuration like the stack's with no
 * security.secret; every request of the tests goes to it. */
static int
gateway_up(void **state)
{
	char port[16], pid[32];
	int i;

	(void)state;
	assert_int_equal(
	    system(
		"sed 's/^secret = .*/secret =/' \"$STACK_DIR/checkoutd.conf\" "
		">\"$STACK_DIR/cgi.conf\" && grep -qx 'secret =' "
		"\"$STACK_DIR/cgi.conf\""),
	    0);
	shell_line("python3 \"$(dirname \"$STACK_SH\")/free-port.py\"", port,
		   sizeof(port));
	snprintf(gateway_url, sizeof(gateway_url), "http://127.0.0.1:%s", port);
	setenv("CGI_PORT", port, 1);
	shell_line("setsid python3 \"$(dirname \"$STACK_SH\")/cgi-gateway.py\" "
		   "--port \"$CGI_PORT\" --program \"$CHECKOUTD_BIN\" --config "
		   "\"$STACK_DIR/cgi.conf\" --log \"$STACK_DIR/log/cgi.log\" "
		   "</dev/null >/dev/null 2>&1 & echo $!",
		   pid, sizeof(pid));
	gateway = atol(pid);
	for (i = 0; i < 100; i++) {
		struct req_opts o = {.base = gateway_url};
		struct resp r;

		if (e2e_request("GET", "/_cgi/count", &o, &r) == 0 &&
		    r.status == 200) {
			resp_free(&r);
			break;
		}
		resp_free(&r);
		usleep(100000);
	}
	snprintf(stack_url, sizeof(stack_url), "%s", getenv("CHECKOUTD_URL"));
	setenv("CHECKOUTD_URL", gateway_url, 1);
	return 0;
}

static int
gateway_down(void **state)
{
	(void)state;
	setenv("CHECKOUTD_URL", stack_url, 1);
	if (gateway > 0)
		kill((pid_t)gateway, SIGTERM);
	return 0;
}

/* How many checkoutd processes the CGI server started so far. */
static long
cgi_runs(void)
{
	struct req_opts o = {.base = gateway_url};
	struct resp r;
	long n;

	assert_int_equal(e2e_request("GET", "/_cgi/count", &o, &r), 0);
	n = atol(r.body.data);
	resp_free(&r);
	return n;
}

/* Sends a write twice with one key: the status is want both times and
 * the answers are identical; the first, parsed. */
static struct json_object *
twice(struct cart *c, const char *method, const char *path, const char *key,
      const char *ctype, const char *body, long want)
{
	struct resp a = keyed(c, method, path, key, ctype, body);
	struct resp b = keyed(c, method, path, key, ctype, body);
	struct json_object *o;

	if (a.status != want)
		fail_msg("%s %s: %ld, want %ld: %s", method, path, a.status,
			 want, a.body.data);
	assert_int_equal(b.status, want);
	assert_int_equal(a.body.len, b.body.len);
	assert_memory_equal(a.body.data, b.body.data, a.body.len);
	o = parse(&a);
	resp_free(&a);
	resp_free(&b);
	return o;
}

static void
test_cgi_full_walk_with_card_quote_and_refund(void **state)
{
	struct json_object *o;
	struct cart c;
	struct buf log = {0};
	char auth[256], kh[64], path[128];
	struct req_opts ro = {.ctype = JSON, .body = "{\"amount\": 500}"};
	struct resp r1, r2;
	long before = cgi_runs();

	(void)state;
	new_cart(&c);
	json_object_put(twice(&c, "POST", sub(&c, "/items"), "cgi-1", FORM,
			      "variant=tshirt-m&quantity=3", 201));
	json_object_put(
	    twice(&c, "PUT", co(&c), "cgi-2", FORM, ADDRESS_FORM, 200));
	/* The carrier's live quotes, asked by the CGI process. */
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_non_null(shipping_entry(o, "carrier:ups_standard"));
	json_object_put(o);
	json_object_put(twice(&c, "PUT", co(&c), "cgi-3", FORM,
			      "shipments[0][method]=carrier:ups_standard",
			      200));
	json_object_put(twice(&c, "PUT", co(&c), "cgi-4", FORM,
			      "payments[0][method]=stripe", 200));
	o = twice(&c, "PUT", co(&c), "cgi-5", NULL, NULL, 200);
	assert_int_equal(strlen(text(o, "number")), 9);
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	json_object_put(o);
	o = twice(&c, "PUT", co(&c), "cgi-6", FORM,
		  "number=4242424242424242&expiryMonth=12&expiryYear=2030&"
		  "securityCode=123",
		  200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	/* An admin refund of 5.00, twice with one key: one refund. */
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		 getenv("ADMIN_TOKEN"));
	snprintf(kh, sizeof(kh), "Idempotency-Key: cgi-7");
	ro.headers[0] = auth;
	ro.headers[1] = kh;
	snprintf(path, sizeof(path), "/api/admin/orders/%ld/refund", c.id);
	assert_int_equal(e2e_request("POST", path, &ro, &r1), 0);
	assert_int_equal(e2e_request("POST", path, &ro, &r2), 0);
	if (r1.status != 200)
		fail_msg("refund: %ld %s", r1.status, r1.body.data);
	assert_int_equal(r2.status, 200);
	assert_int_equal(r1.body.len, r2.body.len);
	assert_memory_equal(r1.body.data, r2.body.data, r1.body.len);
	o = parse(&r1);
	assert_string_equal(text(o, "payment_state"), "partially_refunded");
	json_object_put(o);
	resp_free(&r1);
	resp_free(&r2);
	/* Every answer came from a CGI process: the cart, 14 writes (7
	 * keys, each twice) and the GET. */
	assert_true(cgi_runs() - before >= 16);
	/* The FastCGI service sees the same order, refunded once. */
	setenv("CHECKOUTD_URL", stack_url, 1);
	o = call(&c, "GET", c.path, NULL, NULL, 200);
	setenv("CHECKOUTD_URL", gateway_url, 1);
	assert_string_equal(text(o, "payment_state"), "partially_refunded");
	json_object_put(o);
	assert_int_equal(sql("SELECT COUNT(*) FROM refunds r JOIN payments p "
			     "ON p.id = r.payment_id WHERE p.order_id = %ld",
			     c.id),
			 1);
	/* The processes said which secret they used. */
	assert_int_equal(stack_file("log/cgi.log", &log), 0);
	assert_non_null(strstr(log.data, "security.secret is empty: using one "
					 "derived"));
	buf_free(&log);
}

/* Seed 003's import asks its upstream checkout service from a CGI
 * process too; importing the same session again answers the same. */
static void
test_cgi_seed003_import(void **state)
{
	char id[64], path[128], body[1024];
	struct req_opts up = {.base = getenv("SESSION_URL"), .ctype = JSON};
	struct req_opts o = {.ctype = JSON};
	struct resp r, a, b;
	struct json_object *j;

	(void)state;
	snprintf(id, sizeof(id), "cgi-%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(body, sizeof(body),
		 "{\"id\": \"%s\", \"status\": \"COMPLETED\", \"currency\": "
		 "\"EUR\", \"email\": \"cgi@example.com\", \"items\": "
		 "[{\"productId\": \"0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a65\", "
		 "\"quantity\": 1, \"price\": 12.5}], \"shippingAddress\": "
		 "{\"street\": \"Karl-Marx-Allee 1\", \"city\": \"Berlin\", "
		 "\"country\": \"DE\", \"postalCode\": \"10243\"}, "
		 "\"billingAddress\": {\"street\": \"Karl-Marx-Allee 1\", "
		 "\"city\": \"Berlin\", \"country\": \"DE\", "
		 "\"postalCode\": \"10243\"}, \"paymentIntentId\": null}",
		 id);
	snprintf(path, sizeof(path), "/_sessions/%s", id);
	up.body = body;
	assert_int_equal(e2e_request("PUT", path, &up, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	snprintf(body, sizeof(body), "{\"checkoutSessionId\": \"%s\"}", id);
	o.body = body;
	assert_int_equal(e2e_request("POST", "/api/v1/orders/checkout", &o, &a),
			 0);
	if (a.status != 201)
		fail_msg("import: %ld %s", a.status, a.body.data);
	j = parse(&a);
	assert_string_equal(text(j, "status"), "PENDING");
	json_object_put(j);
	assert_int_equal(e2e_request("POST", "/api/v1/orders/checkout", &o, &b),
			 0);
	assert_true(b.status == 200 || b.status == 201);
	snprintf(path, sizeof(path), "%s", resp_json_str(&a, "id"));
	assert_string_equal(path, resp_json_str(&b, "id"));
	resp_free(&a);
	resp_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgi_full_walk_with_card_quote_and_refund),
	    cmocka_unit_test(test_cgi_seed003_import),
	};

	return cmocka_run_group_tests(tests, gateway_up, gateway_down);
}
