/*
 * End-to-end: the shared-hosting bundle (make shared-hosting) under a
 * throwaway Apache 2.4 (t/shared-hosting.sh), installed by two users
 * following docs/deploy-shared-hosting.md, one under mod_fcgid and one as
 * plain CGI, with nothing configured for checkoutd but the bundle's
 * .htaccess. Through each: the full walk with a card payment at the
 * payment sandbox and an admin refund, a customer's cart with
 * Authorization: Bearer, the private files refused. Each site has a
 * database of its own (hosting_fcgid, hosting_cgi), filled by the
 * guide's blocks as on a fresh install. Not under the
 * sanitizers: the bundle is a release build's (make shared-hosting
 * refuses a sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

enum site { FCGID, CGI, NSITES };

static int sanitized, up_rc = -1;
static char url[NSITES][256], dir[NSITES][512], db[NSITES][64], stack_url[256];
static const char *const names[NSITES] = {"fcgid", "cgi"};

/* Runs a shell command; its first line of output into out ("" when
 * none); its exit status. */
static int
shell_line(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (p == NULL)
		return -1;
	if (fgets(out, (int)n, p) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	return pclose(p);
}

/* Makes the bundle in the build directory of CHECKOUTD_BIN and starts
 * the host (its output in $STACK_DIR/hosting.log). */
static int
hosting_up(void **state)
{
	char cmd[256];
	int i;

	(void)state;
	snprintf(stack_url, sizeof(stack_url), "%s", getenv("CHECKOUTD_URL"));
	sanitized = system("grep -q '^SAN_LDFLAGS = -fsanitize' "
			   "\"$(dirname \"$CHECKOUTD_BIN\")/Makefile\"") == 0;
	if (sanitized)
		return 0;
	up_rc = system(
	    "b=$(dirname \"$CHECKOUTD_BIN\") && top=$(dirname \"$(dirname "
	    "\"$STACK_SH\")\") && v=$(sed -n 's/^VERSION = //p' "
	    "\"$b/Makefile\") "
	    "&& { make -s -C \"$b\" shared-hosting && "
	    "\"$top/t/shared-hosting.sh\" "
	    "up \"$STACK_DIR/hosting\" "
	    "\"$b/checkoutd-shared-hosting-$v.tar.gz\" "
	    "\"$top/docs/deploy-shared-hosting.md\" "
	    "\"$STACK_DIR/checkoutd.conf\"; } >\"$STACK_DIR/hosting.log\" "
	    "2>&1");
	for (i = 0; i < NSITES; i++) {
		snprintf(cmd, sizeof(cmd),
			 ". \"$STACK_DIR/hosting/hosting.env\" && echo $%s_URL",
			 i == FCGID ? "FCGID" : "CGI");
		shell_line(cmd, url[i], sizeof(url[i]));
		snprintf(
		    cmd, sizeof(cmd),
		    ". \"$STACK_DIR/hosting/hosting.env\" && echo $%s_SITE",
		    i == FCGID ? "FCGID" : "CGI");
		shell_line(cmd, dir[i], sizeof(dir[i]));
		snprintf(cmd, sizeof(cmd),
			 ". \"$STACK_DIR/hosting/hosting.env\" && echo $%s_DB",
			 i == FCGID ? "FCGID" : "CGI");
		shell_line(cmd, db[i], sizeof(db[i]));
	}
	return 0;
}

static int
hosting_down(void **state)
{
	(void)state;
	setenv("CHECKOUTD_URL", stack_url, 1);
	if (!sanitized &&
	    system("\"$(dirname \"$STACK_SH\")/shared-hosting.sh\" down "
		   "\"$STACK_DIR/hosting\"") != 0)
		fprintf(stderr,
			"hosting: Apache or its programs did not stop\n");
	return 0;
}

/* Skips under the sanitizers; fails when the host did not come up. */
static void
need_host(void)
{
	static int shown;
	struct buf log = {0};

	if (sanitized)
		skip();
	if (up_rc != 0) {
		/* The end of the log, where it failed, on stderr once:
		 * cmocka cuts a failure's message at about 1 KB. */
		if (!shown) {
			stack_file("hosting.log", &log);
			fprintf(stderr,
				"hosting: $STACK_DIR/hosting.log ends:\n%s\n",
				log.data == NULL ? ""
				: log.len > 6000 ? log.data + log.len - 6000
						 : log.data);
			buf_free(&log);
			shown = 1;
		}
		fail_msg("make shared-hosting or t/shared-hosting.sh up "
			 "failed: the end of hosting.log is on stderr");
	}
	if (url[FCGID][0] == '\0' || url[CGI][0] == '\0' ||
	    db[FCGID][0] == '\0' || db[CGI][0] == '\0')
		fail_msg("no hosting.env");
}

/* A number from a site's own database (root through the stack's
 * MariaDB socket). */
static long
site_sql(enum site s, const char *query)
{
	char cmd[1024], out[64];

	snprintf(cmd, sizeof(cmd),
		 "mariadb --no-defaults -uroot -N "
		 "--socket=\"$STACK_DIR/run/mysql.sock\" '%s' -e \"%s\"",
		 db[s], query);
	assert_int_equal(shell_line(cmd, out, sizeof(out)), 0);
	return atol(out);
}

/* The admin token the guide's block wrote into a site's checkoutd.conf. */
static void
site_token(enum site s, char *out, size_t n)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd),
		 "sed -n '/^\\[admin\\]/,/^\\[/ s/^token = *//p' "
		 "'%s/checkoutd.conf'",
		 dir[s]);
	assert_int_equal(shell_line(cmd, out, n), 0);
	assert_true(strlen(out) >= 32);
}

/* What a site's programs link: neither libfcgi nor json-c. */
static void
test_bundle_links_neither_libfcgi_nor_jsonc(void **state)
{
	char cmd[2048], out[256];

	(void)state;
	need_host();
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$STACK_SH\")/../shared-hosting/check-libs.sh\" "
		 "'%s/checkoutd' '%s/checkoutctl' >/dev/null && "
		 "ldd '%s/checkoutd' | grep -cE 'libfcgi|libjson-c'",
		 dir[FCGID], dir[FCGID], dir[FCGID]);
	shell_line(cmd, out, sizeof(out));
	assert_string_equal(out, "0");
}

/* The full walk through one site: a guest cart, the address, the
 * carrier's live quote as the shipping method, a card payment at the
 * sandbox, an admin refund of 5.00 with the site's token. */
static void
walk(enum site s)
{
	struct json_object *o;
	struct cart c;
	char token[128], auth[200], path[128], q[256];
	struct req_opts ro = {.ctype = JSON, .body = "{\"amount\": 500}"};
	struct resp r;

	need_host();
	site_token(s, token, sizeof(token));
	setenv("CHECKOUTD_URL", url[s], 1);
	new_cart(&c);
	json_object_put(call(&c, "POST", sub(&c, "/items"), FORM,
			     "variant=tshirt-m&quantity=2", 201));
	json_object_put(call(&c, "PUT", co(&c), FORM, ADDRESS_FORM, 200));
	o = call(&c, "GET", co(&c), NULL, NULL, 200);
	assert_non_null(shipping_entry(o, "carrier:ups_standard"));
	json_object_put(o);
	json_object_put(call(&c, "PUT", co(&c), FORM,
			     "shipments[0][method]=carrier:ups_standard", 200));
	json_object_put(
	    call(&c, "PUT", co(&c), FORM, "payments[0][method]=stripe", 200));
	o = call(&c, "PUT", co(&c), NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "awaiting_payment");
	json_object_put(o);
	o = call(&c, "PUT", co(&c), FORM,
		 "number=4242424242424242&expiryMonth=12&expiryYear=2030&"
		 "securityCode=123",
		 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	ro.headers[0] = auth;
	snprintf(path, sizeof(path), "/api/admin/orders/%ld/refund", c.id);
	assert_int_equal(e2e_request("POST", path, &ro, &r), 0);
	if (r.status != 200)
		fail_msg("%s refund: %ld %s", names[s], r.status, r.body.data);
	o = parse(&r);
	assert_string_equal(text(o, "payment_state"), "partially_refunded");
	json_object_put(o);
	resp_free(&r);
	/* Without the token, through the same site: 401. */
	ro.headers[0] = NULL;
	assert_int_equal(e2e_request("POST", path, &ro, &r), 0);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	setenv("CHECKOUTD_URL", stack_url, 1);
	/* In the site's own database. */
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM refunds r JOIN payments p ON p.id = "
		 "r.payment_id WHERE p.order_id = %ld",
		 c.id);
	assert_int_equal(site_sql(s, q), 1);
}

static void
test_fcgid_full_walk_card_and_refund(void **state)
{
	(void)state;
	walk(FCGID);
}

static void
test_cgi_full_walk_card_and_refund(void **state)
{
	(void)state;
	walk(CGI);
}

/* A customer's cart, its session made with the site's checkoutctl:
 * Authorization reaches checkoutd (no cart token in the answer), the
 * session alone reaches the cart. */
static void
customer_cart(enum site s)
{
	char cmd[700], sess[64], auth[128], path[64];
	struct req_opts o = {.headers = {auth}};
	struct req_opts add = {.ctype = FORM,
			       .body = "variant=tshirt-l&quantity=1",
			       .headers = {auth}};
	struct req_opts none = {0};
	struct json_object *j;
	struct resp r;

	need_host();
	snprintf(cmd, sizeof(cmd),
		 "'%s/checkoutctl' session create --customer "
		 "%s.$$@example.com",
		 dir[s], names[s]);
	assert_int_equal(shell_line(cmd, sess, sizeof(sess)), 0);
	assert_int_equal(strlen(sess), 36);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", sess);
	setenv("CHECKOUTD_URL", url[s], 1);
	assert_int_equal(e2e_request("POST", "/api/carts", &o, &r), 0);
	if (r.status != 201)
		fail_msg("%s: %ld %s", names[s], r.status, r.body.data);
	j = parse(&r);
	/* A guest cart would carry its token: Authorization was lost. */
	assert_null(json_object_object_get(j, "token"));
	snprintf(path, sizeof(path), "/api/carts/%lld/items",
		 (long long)num(j, "id"));
	json_object_put(j);
	resp_free(&r);
	assert_int_equal(e2e_request("POST", path, &add, &r), 0);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	path[strlen(path) - strlen("/items")] = '\0';
	assert_int_equal(e2e_request("GET", path, &o, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(e2e_request("GET", path, &none, &r), 0);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	setenv("CHECKOUTD_URL", stack_url, 1);
}

static void
test_fcgid_customer_cart_with_bearer(void **state)
{
	(void)state;
	customer_cart(FCGID);
}

static void
test_cgi_customer_cart_with_bearer(void **state)
{
	(void)state;
	customer_cart(CGI);
}

/* The configuration, the tool, the .htaccess files and the guide are
 * refused (403); a path that names none goes to checkoutd (404
 * problem+json), never a file of the directory. */
static void
test_private_files_are_not_served(void **state)
{
	static const char *const files[] = {
	    "/checkoutd.conf", "/checkoutctl", "/.htaccess",
	    "/htaccess-cgi",   "/README.md",   "/checkoutd.conf~"};
	struct req_opts o = {0};
	struct resp r;
	size_t i;
	int s;

	(void)state;
	need_host();
	for (s = 0; s < NSITES; s++) {
		o.base = url[s];
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			assert_int_equal(e2e_request("GET", files[i], &o, &r),
					 0);
			if (r.status != 403 && r.status != 404)
				fail_msg("%s%s: %ld", url[s], files[i],
					 r.status);
			assert_null(strstr(r.body.data, "password ="));
			resp_free(&r);
		}
		assert_int_equal(e2e_request("GET", "/nothing/here", &o, &r),
				 0);
		assert_int_equal(r.status, 404);
		assert_non_null(strstr(r.content_type, PROBLEM));
		resp_free(&r);
	}
}

/* mod_fcgid ran the fcgid site's checkoutd as a server, started a few
 * times for all its requests, reading the checkoutd.conf beside it; the
 * CGI site's never started as one. */
static void
test_fcgid_keeps_processes_cgi_does_not(void **state)
{
	char cmd[1200], out[64];
	long starts;

	(void)state;
	need_host();
	snprintf(cmd, sizeof(cmd),
		 "grep -c 'configuration %s/checkoutd.conf, listening on an "
		 "inherited socket' \"$STACK_DIR/hosting/apache/logs/"
		 "error.log\"",
		 dir[FCGID]);
	shell_line(cmd, out, sizeof(out));
	starts = atol(out);
	assert_true(starts >= 1);
	snprintf(cmd, sizeof(cmd),
		 "grep -c ' /~fcgid/checkout/' "
		 "\"$STACK_DIR/hosting/apache/logs/access.log\"");
	shell_line(cmd, out, sizeof(out));
	if (atol(out) < 4 * starts)
		fail_msg("%ld starts for %s requests", starts, out);
	snprintf(cmd, sizeof(cmd),
		 "grep -c 'configuration %s/checkoutd.conf' "
		 "\"$STACK_DIR/hosting/apache/logs/error.log\"",
		 dir[CGI]);
	shell_line(cmd, out, sizeof(out));
	assert_string_equal(out, "0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bundle_links_neither_libfcgi_nor_jsonc),
	    cmocka_unit_test(test_fcgid_full_walk_card_and_refund),
	    cmocka_unit_test(test_cgi_full_walk_card_and_refund),
	    cmocka_unit_test(test_fcgid_customer_cart_with_bearer),
	    cmocka_unit_test(test_cgi_customer_cart_with_bearer),
	    cmocka_unit_test(test_private_files_are_not_served),
	    cmocka_unit_test(test_fcgid_keeps_processes_cgi_does_not),
	};

	return cmocka_run_group_tests(tests, hosting_up, hosting_down);
}
