/*
 * End-to-end: the request layer through the real nginx, the real checkoutd
 * and the real MariaDB of a throwaway stack (t/run-tests starts it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void
test_ping_on_both_paths(void **state)
{
	static const char *paths[] = {"/api/checkouts/health/ping",
				      "/checkouts/health/ping"};
	struct resp r;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(e2e_request("GET", paths[i], NULL, &r), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body.data, "pong");
		assert_string_equal(r.content_type,
				    "text/plain; charset=utf-8");
		resp_free(&r);
	}
}

static void
test_ready_follows_the_database(void **state)
{
	long pid = stack_pid("checkoutd");
	struct json_object *o, *db;
	struct resp r;

	(void)state;
	assert_true(pid > 0);
	assert_int_equal(e2e_request("GET", "/api/health/ready", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_json_str(&r, "status"), "ready");
	/* The server in use: the stack's MariaDB socket, no Galera. */
	o = parse(&r);
	db = json_object_object_get(o, "database");
	assert_non_null(strstr(text(db, "host"), "/run/mysql.sock"));
	assert_false(
	    json_object_get_boolean(json_object_object_get(db, "wsrep")));
	assert_null(json_object_object_get(db, "wsrep_ready"));
	json_object_put(o);
	resp_free(&r);

	assert_int_equal(stack("db-stop", NULL), 0);
	assert_int_equal(e2e_request("GET", "/api/health/ready", NULL, &r), 0);
	assert_problem(&r, 503, "database_unavailable");
	assert_non_null(resp_header(&r, "Retry-After"));
	resp_free(&r);

	/* The run command's start step brings MariaDB back; checkoutd is not
	 * restarted, its workers reconnect by themselves. */
	assert_int_equal(stack("up", NULL), 0);
	assert_int_equal(stack_pid("checkoutd"), pid);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(
		    e2e_request("GET", "/api/health/ready", NULL, &r), 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	assert_int_equal(e2e_request("GET", "/metrics", NULL, &r), 0);
	assert_non_null(strstr(r.body.data, "checkoutd_db_reconnects_total "));
	assert_null(strstr(r.body.data, "checkoutd_db_reconnects_total 0\n"));
	resp_free(&r);
}

/* GET /api/openapi.yaml is docs/openapi.yaml, byte for byte, with no
 * credential and whatever the schema. */
static void
test_openapi_document_served(void **state)
{
	char want[262144];
	size_t n;
	struct resp r;
	FILE *f = fopen(SRCDIR "/docs/openapi.yaml", "r");

	(void)state;
	assert_non_null(f);
	n = fread(want, 1, sizeof(want), f);
	fclose(f);
	assert_true(n < sizeof(want));
	assert_int_equal(e2e_request("GET", "/api/openapi.yaml", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/yaml");
	assert_int_equal(r.body.len, n);
	assert_memory_equal(r.body.data, want, n);
	resp_free(&r);
}

static void
test_ready_with_a_pending_migration(void **state)
{
	struct resp r;

	(void)state;
	/* Forget the newest migration, as if the binary were newer than the
	 * schema; the SQL goes through the stack's own root client. */
	assert_int_equal(
	    system("mariadb --no-defaults -uroot "
		   "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e "
		   "\"CREATE TABLE sm_save AS SELECT * FROM "
		   "schema_migrations; DELETE FROM schema_migrations "
		   "ORDER BY version DESC LIMIT 1\""),
	    0);
	assert_int_equal(e2e_request("GET", "/api/health/ready", NULL, &r), 0);
	assert_problem(&r, 503, "database_unavailable");
	assert_non_null(strstr(r.body.data, "\"pending_migrations\":1"));
	resp_free(&r);
	assert_int_equal(
	    system("mariadb --no-defaults -uroot "
		   "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e "
		   "\"DELETE FROM schema_migrations; INSERT INTO "
		   "schema_migrations SELECT * FROM sm_save; DROP TABLE "
		   "sm_save\""),
	    0);
	assert_int_equal(e2e_request("GET", "/api/health/ready", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void
test_unknown_paths_are_problem_404(void **state)
{
	static const char *paths[] = {"/api/nope", "/nope", "/assets/nope.js",
				      "/api/checkouts/health/ping/",
				      "/api/health/ready/x"};
	struct resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(e2e_request("GET", paths[i], NULL, &r), 0);
		assert_problem(&r, 404, "not_found");
		resp_free(&r);
	}
	assert_int_equal(e2e_request("POST", "/api/nope", NULL, &r), 0);
	assert_problem(&r, 404, "not_found");
	resp_free(&r);
}

static void
test_wrong_method_is_405_with_allow(void **state)
{
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("DELETE", "/api/health/ready", NULL, &r),
			 0);
	assert_problem(&r, 405, "method_not_allowed");
	assert_string_equal(resp_header(&r, "Allow"), "GET, HEAD, OPTIONS");
	resp_free(&r);
	assert_int_equal(e2e_request("POST", "/api/_test/items/5", NULL, &r),
			 0);
	assert_problem(&r, 405, "method_not_allowed");
	assert_string_equal(resp_header(&r, "Allow"),
			    "GET, HEAD, PUT, OPTIONS");
	resp_free(&r);
}

static void
test_options_without_configured_origins(void **state)
{
	struct req_opts o = {.headers = {"Origin: https://shop.example"}};
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("OPTIONS", "/api/health/ready", &o, &r),
			 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(resp_header(&r, "Allow"), "GET, HEAD, OPTIONS");
	assert_null(strstr(r.headers.data, "Access-Control-"));
	resp_free(&r);
	assert_int_equal(e2e_request("OPTIONS", "/api/nope", &o, &r), 0);
	assert_problem(&r, 404, "not_found");
	resp_free(&r);
}

static void
test_options_with_configured_origins(void **state)
{
	struct req_opts shop = {.headers = {"Origin: https://shop.example"}};
	struct req_opts evil = {.headers = {"Origin: https://evil.example"}};
	struct resp r;

	(void)state;
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	assert_int_equal(stack("up",
			       "CHECKOUTD_CORS_ORIGINS='https://a.example, "
			       "https://shop.example'"),
			 0);
	assert_int_equal(
	    e2e_request("OPTIONS", "/api/_test/items/3", &shop, &r), 0);
	assert_int_equal(r.status, 204);
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"),
			    "https://shop.example");
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Methods"),
			    "GET, HEAD, PUT, OPTIONS");
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Headers"),
			    "Content-Type, X-Cart-Token, Idempotency-Key, "
			    "Authorization");
	resp_free(&r);
	/* Every response to an allowed origin carries the CORS headers. */
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", &shop, &r), 0);
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"),
			    "https://shop.example");
	assert_string_equal(resp_header(&r, "Access-Control-Expose-Headers"),
			    "Retry-After, X-Request-Id");
	resp_free(&r);
	assert_int_equal(e2e_request("GET", "/api/nope", &shop, &r), 0);
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin"),
			    "https://shop.example");
	resp_free(&r);
	/* Another origin gets none. */
	assert_int_equal(e2e_request("OPTIONS", "/api/health/ready", &evil, &r),
			 0);
	assert_int_equal(r.status, 204);
	assert_null(strstr(r.headers.data, "Access-Control-"));
	resp_free(&r);
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	/* Overrides stay for later starts (t/stack.sh): clear this one. */
	assert_int_equal(stack("up", "CHECKOUTD_CORS_ORIGINS="), 0);
}

static void
test_body_over_the_limit_is_413(void **state)
{
	size_t n = 70000, big = 1100000;
	char *body = malloc(big);
	struct req_opts o = {.ctype = "application/json", .body = body};
	struct resp r;

	(void)state;
	memset(body, ' ', big);
	body[0] = '{';
	body[n - 1] = '}';
	o.body_len = n;
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r), 0);
	assert_problem(&r, 413, "payload_too_large");
	assert_non_null(strstr(r.body.data, "65536"));
	resp_free(&r);
	/* Far over: nginx stops it, with the same problem shape. */
	o.body_len = big;
	body[n - 1] = ' ';
	body[big - 1] = '}';
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r), 0);
	assert_problem(&r, 413, "payload_too_large");
	resp_free(&r);
	/* Just under the limit passes. */
	memset(body, ' ', big);
	body[0] = '{';
	body[65535] = '}';
	o.body_len = 65536;
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	free(body);
}

static void
test_unsupported_type_is_415(void **state)
{
	struct req_opts o = {.ctype = "text/plain", .body = "a=1"};
	struct req_opts none = {.body = "{}"};
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r), 0);
	assert_problem(&r, 415, "unsupported_media_type");
	resp_free(&r);
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &none, &r), 0);
	assert_problem(&r, 415, "unsupported_media_type");
	resp_free(&r);
}

static void
test_malformed_json_is_400_with_offset(void **state)
{
	struct req_opts o = {.ctype = "application/json",
			     .body = "{\"secret-ish\": tru}"};
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r), 0);
	assert_problem(&r, 400, "malformed_body");
	assert_non_null(strstr(resp_json_str(&r, "detail"), "byte offset 18"));
	/* The detail never quotes the body. */
	assert_null(strstr(r.body.data, "secret-ish"));
	resp_free(&r);
}

static void
test_malformed_form_is_400_with_offset(void **state)
{
	static const struct {
		const char *body, *offset;
	} rows[] = {
	    {"a=1&b=%zz", "byte offset 6"},
	    {"a[0]=1&a[2]=2", "byte offset 0"},
	    {"a=1&a=2", "byte offset 4"},
	    {"a[b=1", "byte offset 0"},
	};
	struct resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct req_opts o = {.ctype =
					 "application/x-www-form-urlencoded",
				     .body = rows[i].body};

		assert_int_equal(e2e_request("POST", "/api/_test/echo", &o, &r),
				 0);
		assert_problem(&r, 400, "malformed_body");
		assert_non_null(
		    strstr(resp_json_str(&r, "detail"), rows[i].offset));
		resp_free(&r);
	}
}

static void
test_form_and_json_decode_to_the_same_tree(void **state)
{
	struct req_opts form = {
	    .ctype = "application/x-www-form-urlencoded",
	    .body = "shippingAddress[firstName]=Ann+Lee&shipments[0]"
		    "[method]=4&tags[]=a&tags[]=b"};
	struct req_opts json = {
	    .ctype = "application/json; charset=utf-8",
	    .body = "{\"shippingAddress\":{\"firstName\":\"Ann Lee\"},"
		    "\"shipments\":[{\"method\":\"4\"}],"
		    "\"tags\":[\"a\",\"b\"]}"};
	struct resp a, b;

	(void)state;
	assert_int_equal(e2e_request("PUT", "/api/_test/items/9", &form, &a),
			 0);
	assert_int_equal(e2e_request("PUT", "/api/_test/items/9", &json, &b),
			 0);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body.data, b.body.data);
	assert_non_null(strstr(a.body.data, "\"id\":\"9\""));
	resp_free(&a);
	resp_free(&b);
}

static void
test_empty_put_needs_no_content_type(void **state)
{
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("PUT", "/api/_test/items/12", NULL, &r),
			 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"body\":{},\"id\":\"12\"}");
	resp_free(&r);
}

static void
test_request_id_is_echoed_or_made(void **state)
{
	struct req_opts o = {.headers = {"X-Request-Id: trace-42.abc"}};
	struct buf log = {0};
	struct resp r;
	char made[129];
	int i;

	(void)state;
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", &o, &r), 0);
	assert_string_equal(resp_header(&r, "X-Request-Id"), "trace-42.abc");
	resp_free(&r);
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r), 0);
	snprintf(made, sizeof(made), "%s", resp_header(&r, "X-Request-Id"));
	assert_int_equal(strlen(made), 32);
	resp_free(&r);
	/* Both appear on the access-log lines of checkoutd. A worker
	 * writes its lines once it has nothing to do, a moment after the
	 * answer has gone: the log is read again for up to 2 s. */
	for (i = 0; i < 20; i++) {
		buf_free(&log);
		assert_int_equal(stack_file("log/checkoutd.log", &log), 0);
		if (strstr(log.data, made) != NULL)
			break;
		usleep(100000);
	}
	assert_non_null(strstr(log.data, "access trace-42.abc GET "
					 "/api/checkouts/health/ping 200"));
	assert_non_null(strstr(log.data, made));
	buf_free(&log);
}

/* The value of one metrics line (0 when absent). */
static long
metric(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	return p != NULL ? atol(p + strlen(series)) : 0;
}

static void
test_metrics_count_the_requests_just_made(void **state)
{
	static const char ping[] = "checkoutd_requests_total{route=\"GET "
				   "/api/checkouts/health/ping\","
				   "status=\"200\"} ";
	static const char miss[] = "checkoutd_requests_total{route=\"unmatched"
				   "\",status=\"404\"} ";
	struct resp r;
	long before_ping, before_miss;
	int i;

	(void)state;
	assert_int_equal(e2e_request("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	before_ping = metric(r.body.data, ping);
	before_miss = metric(r.body.data, miss);
	resp_free(&r);
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r),
		    0);
		resp_free(&r);
	}
	assert_int_equal(e2e_request("GET", "/no/such/thing", NULL, &r), 0);
	resp_free(&r);
	assert_int_equal(e2e_request("GET", "/metrics", NULL, &r), 0);
	assert_true(strncmp(r.content_type, "text/plain", 10) == 0);
	assert_int_equal(metric(r.body.data, ping), before_ping + 3);
	assert_int_equal(metric(r.body.data, miss), before_miss + 1);
	assert_non_null(strstr(r.body.data, "checkoutd_request_duration_"
					    "seconds_bucket{route=\"GET "
					    "/api/checkouts/health/ping\","
					    "le=\"+Inf\"}"));
	resp_free(&r);
}

static void
test_metrics_and_admin_only_from_localhost(void **state)
{
	struct req_opts other = {.interface = "127.0.0.2"};
	struct resp r;

	(void)state;
	assert_int_equal(e2e_request("GET", "/metrics", &other, &r), 0);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(
	    e2e_request("GET", "/api/admin/orders/1/x", &other, &r), 0);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", &other, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* 64 requests at once over 16 connections: every one answered. */
static void
test_concurrent_requests_all_answered(void **state)
{
	const char *base = getenv("CHECKOUTD_URL");
	CURLM *m = curl_multi_init();
	CURL *h[64];
	char url[256];
	int running = 0, i, ok = 0;
	CURLMsg *msg;

	(void)state;
	snprintf(url, sizeof(url), "%s/api/_test/sleep?ms=20", base);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
	for (i = 0; i < 64; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
		curl_multi_add_handle(m, h[i]);
	}
	do {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	while ((msg = curl_multi_info_read(m, &running)) != NULL) {
		long status = 0;

		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
				  &status);
		ok += msg->data.result == CURLE_OK && status == 200;
	}
	for (i = 0; i < 64; i++) {
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
	}
	curl_multi_cleanup(m);
	assert_int_equal(ok, 64);
}

/* The database password and the server secret appear in no log and in
 * no output of `checkoutctl config`. */
static void
test_secrets_are_never_logged(void **state)
{
	(void)state;
	assert_int_equal(
	    system("cd \"$STACK_DIR\" && "
		   "pw=$(sed -n 's/^password = //p' checkoutd.conf) && "
		   "sec=$(sed -n 's/^secret = //p' checkoutd.conf) && "
		   "[ ${#pw} -ge 16 ] && [ ${#sec} -ge 32 ] && "
		   "! grep -rqF -e \"$pw\" -e \"$sec\" log && "
		   "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		   "checkoutd.conf config >config.out && "
		   "grep -q 'password = (secret)' config.out && "
		   "! grep -qF -e \"$pw\" -e \"$sec\" config.out"),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ping_on_both_paths),
	    cmocka_unit_test(test_ready_follows_the_database),
	    cmocka_unit_test(test_ready_with_a_pending_migration),
	    cmocka_unit_test(test_openapi_document_served),
	    cmocka_unit_test(test_unknown_paths_are_problem_404),
	    cmocka_unit_test(test_wrong_method_is_405_with_allow),
	    cmocka_unit_test(test_options_without_configured_origins),
	    cmocka_unit_test(test_options_with_configured_origins),
	    cmocka_unit_test(test_body_over_the_limit_is_413),
	    cmocka_unit_test(test_unsupported_type_is_415),
	    cmocka_unit_test(test_malformed_json_is_400_with_offset),
	    cmocka_unit_test(test_malformed_form_is_400_with_offset),
	    cmocka_unit_test(test_form_and_json_decode_to_the_same_tree),
	    cmocka_unit_test(test_empty_put_needs_no_content_type),
	    cmocka_unit_test(test_request_id_is_echoed_or_made),
	    cmocka_unit_test(test_metrics_count_the_requests_just_made),
	    cmocka_unit_test(test_metrics_and_admin_only_from_localhost),
	    cmocka_unit_test(test_concurrent_requests_all_answered),
	    cmocka_unit_test(test_secrets_are_never_logged),
	};
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
