/* The router: patterns, captures, 404 and 405, and the real table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router.h"
#include "routes.h"

static enum err
h1(struct request *r)
{
	(void)r;
	return ERR_OK;
}

static enum err
h2(struct request *r)
{
	(void)r;
	return ERR_NOT_FOUND;
}

static const struct route table[] = {
    {M_GET, "/api/checkouts/{id}", h1, 0},
    {M_PUT, "/api/checkouts/{id}", h2, 0},
    {M_POST, "/api/carts", h1, 0},
    {M_PATCH, "/api/carts/{id}/items/{itemId}", h2, 0},
    {M_DELETE, "/api/carts/{id}/items/{itemId}", h1, 0},
    {M_GET, "/api/checkouts/health/ping", h2, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

struct row {
	enum method method;
	const char *path;
	enum route_result want;
	int route;		  /* Index into table when found. */
	const char *params[2][2]; /* name, value */
	unsigned allow;
};

static const struct row rows[] = {
    {M_GET, "/api/checkouts/42", ROUTE_FOUND, 0, {{"id", "42"}}, 0},
    {M_PUT, "/api/checkouts/abc-1", ROUTE_FOUND, 1, {{"id", "abc-1"}}, 0},
    {M_POST, "/api/carts", ROUTE_FOUND, 2, {{0}}, 0},
    {M_PATCH,
     "/api/carts/7/items/9",
     ROUTE_FOUND,
     3,
     {{"id", "7"}, {"itemId", "9"}},
     0},
    /* A literal path wins over nothing; first matching row per method. */
    {M_GET, "/api/checkouts/health/ping", ROUTE_FOUND, 5, {{0}}, 0},
    {M_DELETE,
     "/api/checkouts/42",
     ROUTE_METHOD_NOT_ALLOWED,
     -1,
     {{0}},
     (1u << M_GET) | (1u << M_HEAD) | (1u << M_PUT) | (1u << M_OPTIONS)},
    /* HEAD is served by the GET route. */
    {M_HEAD, "/api/checkouts/7", ROUTE_FOUND, 0, {{"id", "7"}}, 0},
    {M_GET,
     "/api/carts",
     ROUTE_METHOD_NOT_ALLOWED,
     -1,
     {{0}},
     (1u << M_POST) | (1u << M_OPTIONS)},
    {M_OTHER,
     "/api/carts",
     ROUTE_METHOD_NOT_ALLOWED,
     -1,
     {{0}},
     (1u << M_POST) | (1u << M_OPTIONS)},
    {M_GET, "/api/checkouts/", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_GET, "/api/checkouts", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_GET, "/api/checkouts/42/", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_GET, "/api/checkouts/42/x", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_POST, "/api/carts/", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_GET, "/nope", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_GET, "", ROUTE_NOT_FOUND, -1, {{0}}, 0},
    {M_PATCH, "/api/carts//items/9", ROUTE_NOT_FOUND, -1, {{0}}, 0},
};

static void
test_rows(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct route_match m;
		enum route_result rr;

		rr = router_match(table, N, r->method, r->path, &m);
		if (rr != r->want)
			fail_msg("row %zu %s: result %d, want %d", i, r->path,
				 rr, r->want);
		if (rr == ROUTE_FOUND) {
			assert_ptr_equal(m.route, &table[r->route]);
			for (j = 0; j < 2 && r->params[j][0] != NULL; j++) {
				assert_string_equal(m.params[j].name,
						    r->params[j][0]);
				assert_string_equal(m.params[j].value,
						    r->params[j][1]);
			}
			assert_int_equal(m.nparams, j);
		}
		if (rr == ROUTE_METHOD_NOT_ALLOWED)
			assert_int_equal(m.allow, r->allow);
	}
}

static void
test_long_capture(void **state)
{
	char path[600] = "/api/checkouts/";
	struct route_match m;

	(void)state;
	memset(path + strlen(path), '9', 400);
	assert_int_equal(router_match(table, N, M_GET, path, &m),
			 ROUTE_NOT_FOUND);
}

static void
test_allow_header(void **state)
{
	char out[128];

	(void)state;
	router_allow_header((1u << M_GET) | (1u << M_PUT) | (1u << M_OPTIONS),
			    out, sizeof(out));
	assert_string_equal(out, "GET, PUT, OPTIONS");
	assert_int_equal(method_parse("PATCH"), M_PATCH);
	assert_int_equal(method_parse("get"), M_OTHER);
	assert_int_equal(method_parse(NULL), M_OTHER);
}

/* The service's table: no two rows share method and pattern, the ping
 * answers on both paths, and OPTIONS is never listed (it is implicit). */
static void
test_service_table(void **state)
{
	struct route_match m;
	size_t i, j;

	(void)state;
	for (i = 0; i < nroutes; i++) {
		assert_true(routes[i].method != M_OPTIONS);
		assert_true(routes[i].pattern[0] == '/');
		for (j = i + 1; j < nroutes; j++)
			assert_false(
			    routes[i].method == routes[j].method &&
			    strcmp(routes[i].pattern, routes[j].pattern) == 0);
	}
	assert_int_equal(router_match(routes, nroutes, M_GET,
				      "/api/checkouts/health/ping", &m),
			 ROUTE_FOUND);
	assert_int_equal(
	    router_match(routes, nroutes, M_GET, "/checkouts/health/ping", &m),
	    ROUTE_FOUND);
	assert_int_equal(
	    router_match(routes, nroutes, M_POST, "/api/health/ready", &m),
	    ROUTE_METHOD_NOT_ALLOWED);
}

/* Random paths: a match always captures non-empty segments without '/'. */
static void
test_random_paths(void **state)
{
	static const char chars[] = "/apicrtsk0123{}-";
	uint64_t x = 88172645463325252u;
	char path[64];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct route_match m;
		size_t n, j, k;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = x % (sizeof(path) - 1);
		for (j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			path[j] = chars[x % (sizeof(chars) - 1)];
		}
		path[n] = '\0';
		if (router_match(table, N, M_GET, path, &m) != ROUTE_FOUND)
			continue;
		for (k = 0; k < m.nparams; k++) {
			assert_true(m.params[k].value[0] != '\0');
			assert_null(strchr(m.params[k].value, '/'));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_long_capture),
	    cmocka_unit_test(test_allow_header),
	    cmocka_unit_test(test_service_table),
	    cmocka_unit_test(test_random_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
