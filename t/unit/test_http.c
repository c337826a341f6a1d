/* The request layer without a server: params in, response out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "../memio.h"

static struct request req;
static struct buf wire;

/* Runs one request; env holds NAME=value strings, NULL-terminated. */
static void
run(char **env, const char *body)
{
	struct memio m = {body ? body : "", body ? strlen(body) : 0, 0};
	struct http_io io = {memio_read, &m};

	http_request_reset(&req);
	http_handle(&req, env, &io);
	assert_int_equal(http_serialize(&req, &wire), 0);
}

static int
has_header(const char *line)
{
	return strstr(wire.data, line) != NULL;
}

static int
setup(void **state)
{
	char err[128];

	(void)state;
	unsetenv("CHECKOUTD_CORS_ORIGINS");
	if (config_load(NULL, err, sizeof(err)) != 0)
		return -1;
	http_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	http_request_free(&req);
	buf_free(&wire);
	config_free();
	return 0;
}

static void
test_ping(void **state)
{
	char *env[] = {"REQUEST_METHOD=GET",
		       "DOCUMENT_URI=/api/checkouts/health/ping", NULL};

	(void)state;
	run(env, NULL);
	assert_int_equal(req.status, 200);
	assert_string_equal(req.out.data, "pong");
	assert_true(has_header("Status: 200 OK\r\n"));
	assert_true(has_header("Content-Type: text/plain"));
	assert_true(has_header("Content-Length: 4\r\n"));
	assert_int_equal(strlen(req.request_id), 32);
	assert_true(has_header("\r\n\r\npong"));
}

static void
test_head_and_request_uri(void **state)
{
	char *head[] = {"REQUEST_METHOD=HEAD",
			"REQUEST_URI=/api/checkouts/health/ping?x=1", NULL};

	(void)state;
	run(head, NULL);
	assert_int_equal(req.status, 200);
	assert_true(has_header("Content-Length: 4\r\n"));
	/* No body after the headers. */
	assert_int_equal(strcmp(wire.data + wire.len - 4, "\r\n\r\n"), 0);
}

static void
test_request_id(void **state)
{
	char *keep[] = {"REQUEST_METHOD=GET",
			"PATH_INFO=/checkouts/health/ping",
			"HTTP_X_REQUEST_ID=abc-123.x_y", NULL};
	char *bad[] = {"REQUEST_METHOD=GET", "PATH_INFO=/checkouts/health/ping",
		       "HTTP_X_REQUEST_ID=has space<script>", NULL};

	(void)state;
	run(keep, NULL);
	assert_true(has_header("X-Request-Id: abc-123.x_y\r\n"));
	run(bad, NULL);
	assert_int_equal(strlen(req.request_id), 32);
	assert_null(strstr(wire.data, "script"));
}

static void
test_not_found(void **state)
{
	char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/nope?x=1", NULL};
	char *api[] = {"REQUEST_METHOD=DELETE", "DOCUMENT_URI=/api/nope", NULL};
	struct json_object *o;

	(void)state;
	run(env, NULL);
	assert_int_equal(req.status, 404);
	assert_string_equal(req.content_type, "application/problem+json");
	o = json_tokener_parse(req.out.data);
	assert_string_equal(
	    json_object_get_string(json_object_object_get(o, "code")),
	    "not_found");
	assert_string_equal(
	    json_object_get_string(json_object_object_get(o, "type")),
	    "urn:checkoutd:problem:not_found");
	assert_int_equal(
	    json_object_get_int(json_object_object_get(o, "status")), 404);
	json_object_put(o);
	run(api, NULL);
	assert_int_equal(req.status, 404);
}

static void
test_method_not_allowed(void **state)
{
	char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/health/ready",
		       "CONTENT_LENGTH=0", NULL};

	(void)state;
	run(env, NULL);
	assert_int_equal(req.status, 405);
	assert_true(has_header("Allow: GET, HEAD, OPTIONS\r\n"));
	assert_non_null(strstr(req.out.data, "\"method_not_allowed\""));
}

static void
test_options_without_origins(void **state)
{
	char *env[] = {"REQUEST_METHOD=OPTIONS",
		       "DOCUMENT_URI=/api/health/ready",
		       "HTTP_ORIGIN=https://shop.example", NULL};
	char *unknown[] = {"REQUEST_METHOD=OPTIONS", "DOCUMENT_URI=/api/x",
			   NULL};

	(void)state;
	run(env, NULL);
	assert_int_equal(req.status, 204);
	assert_true(has_header("Allow: GET, HEAD, OPTIONS\r\n"));
	assert_null(strstr(wire.data, "Access-Control"));
	run(unknown, NULL);
	assert_int_equal(req.status, 404);
}

static void
test_options_with_origins(void **state)
{
	char *env[] = {"REQUEST_METHOD=OPTIONS",
		       "DOCUMENT_URI=/api/health/ready",
		       "HTTP_ORIGIN=https://shop.example", NULL};
	char *other[] = {"REQUEST_METHOD=GET",
			 "DOCUMENT_URI=/api/checkouts/health/ping",
			 "HTTP_ORIGIN=https://evil.example", NULL};
	char *get[] = {"REQUEST_METHOD=GET",
		       "DOCUMENT_URI=/api/checkouts/health/ping",
		       "HTTP_ORIGIN=https://shop.example", NULL};

	(void)state;
	assert_int_equal(config_set("cors.origins",
				    "https://a.example, https://shop.example"),
			 0);
	http_init();
	run(env, NULL);
	assert_int_equal(req.status, 204);
	assert_true(has_header(
	    "Access-Control-Allow-Origin: https://shop.example\r\n"));
	assert_true(has_header("Access-Control-Allow-Headers: Content-Type, "
			       "X-Cart-Token, Idempotency-Key, "
			       "Authorization\r\n"));
	assert_true(
	    has_header("Access-Control-Allow-Methods: GET, HEAD, OPTIONS"));
	run(other, NULL);
	assert_int_equal(req.status, 200);
	assert_null(strstr(wire.data, "Access-Control"));
	run(get, NULL);
	assert_true(has_header("Access-Control-Expose-Headers: Retry-After, "
			       "X-Request-Id\r\n"));
	config_set("cors.origins", "");
	http_init();
}

static void
test_metrics_count(void **state)
{
	char *ping[] = {"REQUEST_METHOD=GET",
			"DOCUMENT_URI=/api/checkouts/health/ping", NULL};
	char *met[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/metrics",
		       "REMOTE_ADDR=127.0.0.1", NULL};
	char *far[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/metrics",
		       "REMOTE_ADDR=203.0.113.9", NULL};

	(void)state;
	/* Only a local caller, or one with the admin token. */
	run(far, NULL);
	assert_int_equal(req.status, 401);
	run(ping, NULL);
	run(met, NULL);
	assert_int_equal(req.status, 200);
	assert_non_null(strstr(req.out.data,
			       "checkoutd_requests_total{route=\"GET "
			       "/api/checkouts/health/ping\",status=\"200\"}"));
	assert_non_null(
	    strstr(req.out.data, "checkoutd_request_duration_seconds_bucket"));
	assert_non_null(strstr(req.out.data, "checkoutd_db_reconnects_total"));
}

/* The seed dialects' own errors from their tables (dialect_fail), for the
 * refusals that need no database. */
static void
test_seed_errors(void **state)
{
	static const struct {
		const char *uri, *query, *auth, *body;
		int status;
		const char *answer;
	} rows[] = {
	    {"/checkouts", "", NULL, "{", 400,
	     "{\"message\":\"Cuerpo inválido\"}"},
	    {"/cart/add", "", NULL, "{}", 400,
	     "{\"error\":\"Either UserId or GuestToken must be provided\"}"},
	    {"/cart/add", "", NULL, "{\"userId\":\"u\"}", 400,
	     "{\"error\":\"Invalid request\"}"},
	    {"/orders/checkout", "", NULL, "[", 400,
	     "{\"error\":\"Invalid request\"}"},
	    {"/api/checkouts", "", NULL, "{}", 400,
	     "{\"error\":\"invalid_request\"}"},
	    {"/api/checkouts", "account=x7", "OAuth t", "{}", 400,
	     "{\"error\":\"invalid_request\"}"},
	    {"/api/checkouts", "account=7", NULL, "{}", 401,
	     "{\"error\":\"invalid_token\"}"},
	    {"/api/checkouts", "account=7", "Bearer t", "{}", 401,
	     "{\"error\":\"invalid_token\"}"},
	    {"/checkouts", "account=7", "OAuth ", "{}", 401,
	     "{\"error\":\"invalid_token\"}"},
	};
	char uri[64], query[64], auth[64], length[48];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *env[] = {
		    "REQUEST_METHOD=POST",	     uri,  query, length,
		    "CONTENT_TYPE=application/json", auth, NULL};

		snprintf(uri, sizeof(uri), "DOCUMENT_URI=%s", rows[i].uri);
		snprintf(query, sizeof(query), "QUERY_STRING=%s",
			 rows[i].query);
		snprintf(length, sizeof(length), "CONTENT_LENGTH=%zu",
			 strlen(rows[i].body));
		snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=%s",
			 rows[i].auth ? rows[i].auth : "");
		if (rows[i].auth == NULL)
			env[5] = NULL;
		run(env, rows[i].body);
		assert_int_equal(req.status, rows[i].status);
		assert_string_equal(req.out.data, rows[i].answer);
	}
}

#ifdef ENABLE_TEST_ROUTES
static void
test_bodies(void **state)
{
	char *form[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/_test/echo",
			"CONTENT_TYPE=application/x-www-form-urlencoded",
			"CONTENT_LENGTH=18", NULL};
	char *json[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/_test/echo",
			"CONTENT_TYPE=application/json", "CONTENT_LENGTH=7",
			NULL};
	char *bad[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/_test/echo",
		       "CONTENT_TYPE=application/json", "CONTENT_LENGTH=5",
		       NULL};
	char *text[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/_test/echo",
			"CONTENT_TYPE=text/plain", "CONTENT_LENGTH=1", NULL};
	char *big[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/_test/echo",
		       "CONTENT_TYPE=application/json", "CONTENT_LENGTH=65537",
		       NULL};

	(void)state;
	run(form, "a[b]=1&c[]=x&c[]=y");
	assert_int_equal(req.status, 200);
	assert_string_equal(
	    req.out.data,
	    "{\"body\":{\"a\":{\"b\":\"1\"},\"c\":[\"x\",\"y\"]}}");
	run(json, "{\"a\":1}");
	assert_string_equal(req.out.data, "{\"body\":{\"a\":1}}");
	run(bad, "{\"a\":");
	assert_int_equal(req.status, 400);
	assert_non_null(strstr(req.out.data, "byte offset 5"));
	run(text, "x");
	assert_int_equal(req.status, 415);
	run(big, "");
	assert_int_equal(req.status, 413);
	assert_true(req.body_unread);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ping),
	    cmocka_unit_test(test_head_and_request_uri),
	    cmocka_unit_test(test_request_id),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_options_without_origins),
	    cmocka_unit_test(test_options_with_origins),
	    cmocka_unit_test(test_metrics_count),
	    cmocka_unit_test(test_seed_errors),
#ifdef ENABLE_TEST_ROUTES
	    cmocka_unit_test(test_bodies),
#endif
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
