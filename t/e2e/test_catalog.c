/* End-to-end: the catalog of the demo store (docs/demo-store.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static struct json_object *
get_json(const char *path, long want_status)
{
	struct json_object *o;
	struct resp r;

	assert_int_equal(e2e_request("GET", path, NULL, &r), 0);
	if (r.status != want_status)
		fail_msg("%s: status %ld, want %ld: %s", path, r.status,
			 want_status, r.body.data);
	o = json_tokener_parse(r.body.data);
	assert_non_null(o);
	resp_free(&r);
	return o;
}

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member %s in %s", key,
			 json_object_to_json_string(o));
	return v;
}

static int64_t
int_of(struct json_object *o, const char *key)
{
	return json_object_get_int64(member(o, key));
}

static void
test_list_first_page(void **state)
{
	struct json_object *o = get_json("/api/products", 200), *products, *t;
	static const char *codes[] = {
	    "tshirt",  "sofa",		"lamp",	       "poster", "ebook",
	    "sticker", "sofa-assembly", "lamp-repair", "concert"};
	size_t i;

	(void)state;
	assert_int_equal(int_of(o, "page"), 1);
	assert_int_equal(int_of(o, "limit"), 50);
	assert_int_equal(int_of(o, "total"), 9);
	products = member(o, "products");
	assert_int_equal(json_object_array_length(products), 9);
	for (i = 0; i < 9; i++) {
		struct json_object *p = json_object_array_get_idx(products, i);

		assert_int_equal(int_of(p, "id"), (int64_t)i + 1);
		assert_string_equal(json_object_get_string(member(p, "code")),
				    codes[i]);
		assert_int_equal(json_object_get_string_len(member(p, "uuid")),
				 36);
	}
	/* The T-shirt's two variants, in their position order. */
	t = member(json_object_array_get_idx(products, 0), "variants");
	assert_int_equal(json_object_array_length(t), 2);
	assert_string_equal(json_object_get_string(member(
				json_object_array_get_idx(t, 0), "code")),
			    "tshirt-m");
	assert_string_equal(json_object_get_string(member(
				json_object_array_get_idx(t, 1), "code")),
			    "tshirt-l");
	assert_int_equal(int_of(json_object_array_get_idx(t, 0), "price"),
			 1999);
	json_object_put(o);
}

static void
test_paging(void **state)
{
	struct json_object *o = get_json("/api/products?limit=2&page=2", 200);
	struct json_object *products = member(o, "products");

	(void)state;
	assert_int_equal(json_object_array_length(products), 2);
	assert_int_equal(int_of(json_object_array_get_idx(products, 0), "id"),
			 3);
	assert_int_equal(int_of(json_object_array_get_idx(products, 1), "id"),
			 4);
	assert_int_equal(int_of(o, "total"), 9);
	json_object_put(o);
	o = get_json("/api/products?page=9", 200);
	assert_int_equal(json_object_array_length(member(o, "products")), 0);
	assert_int_equal(int_of(o, "total"), 9);
	json_object_put(o);
}

static struct json_object *
first_variant(struct json_object *product)
{
	return json_object_array_get_idx(member(product, "variants"), 0);
}

static void
test_variant_fields(void **state)
{
	struct json_object *lamp = get_json("/api/products/lamp", 200);
	struct json_object *poster = get_json("/api/products/poster", 200);
	struct json_object *ebook = get_json("/api/products/ebook", 200);
	struct json_object *v;

	(void)state;
	v = first_variant(lamp);
	assert_true(json_object_get_boolean(member(v, "tracked")));
	assert_true(int_of(v, "available") <= 1);
	assert_true(json_object_get_boolean(member(v, "needs_shipping")));
	assert_int_equal(int_of(v, "weight_g"), 1500);
	/* Untracked: available is null. */
	v = first_variant(poster);
	assert_false(json_object_get_boolean(member(v, "tracked")));
	assert_true(
	    json_object_is_type(member(v, "available"), json_type_null));
	/* Digital: no shipping. */
	v = first_variant(ebook);
	assert_false(json_object_get_boolean(member(v, "needs_shipping")));
	json_object_put(lamp);
	json_object_put(poster);
	json_object_put(ebook);
}

static void
test_by_id_or_code_is_the_same(void **state)
{
	struct resp a, b;

	(void)state;
	assert_int_equal(e2e_request("GET", "/api/products/2", NULL, &a), 0);
	assert_int_equal(e2e_request("GET", "/api/products/sofa", NULL, &b), 0);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body.data, b.body.data);
	assert_string_equal(a.content_type, "application/json");
	resp_free(&a);
	resp_free(&b);
}

static void
test_unknown_products_are_404(void **state)
{
	static const char *paths[] = {
	    "/api/products/999",
	    "/api/products/nope",
	    "/api/products/x'%20OR%20'1'='1",
	    "/api/products/99999999999999999999999",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct json_object *o = get_json(paths[i], 404);

		assert_string_equal(json_object_get_string(member(o, "code")),
				    "not_found");
		json_object_put(o);
	}
}

static void
test_bad_paging_is_422_naming_the_field(void **state)
{
	static const struct {
		const char *path, *field;
	} rows[] = {
	    {"/api/products?limit=0", "limit"},
	    {"/api/products?limit=201", "limit"},
	    {"/api/products?page=0", "page"},
	    {"/api/products?page=abc", "page"},
	    {"/api/products?page=1.5", "page"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *o = get_json(rows[i].path, 422), *e;

		assert_string_equal(json_object_get_string(member(o, "code")),
				    "validation_failed");
		e = json_object_array_get_idx(member(o, "errors"), 0);
		assert_string_equal(json_object_get_string(member(e, "field")),
				    rows[i].field);
		json_object_put(o);
	}
	json_object_put(get_json("/api/products?limit=200", 200));
}

static void
test_malformed_query_is_400(void **state)
{
	struct json_object *o = get_json("/api/products?page=%zz", 400);

	(void)state;
	assert_string_equal(json_object_get_string(member(o, "code")),
			    "malformed_body");
	json_object_put(o);
}

/* Workers read with autocommit off: a read leaves a read-only transaction
 * open, which holds a metadata lock on the tables it read. A worker ends it
 * before it sleeps, so a migration's ALTER right after a burst of reads
 * does not wait (the mariadb client gives up after lock_wait_timeout, 3 s,
 * and sql() fails on its exit status). */
static void
test_reads_leave_no_lock_behind(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		json_object_put(get_json("/api/products?limit=2", 200));
	sql("SET SESSION lock_wait_timeout = 3; ALTER TABLE products "
	    "COMMENT = 'e2e'");
	sql("SET SESSION lock_wait_timeout = 3; ALTER TABLE products "
	    "COMMENT = ''");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_first_page),
	    cmocka_unit_test(test_paging),
	    cmocka_unit_test(test_variant_fields),
	    cmocka_unit_test(test_by_id_or_code_is_the_same),
	    cmocka_unit_test(test_unknown_products_are_404),
	    cmocka_unit_test(test_bad_paging_is_422_naming_the_field),
	    cmocka_unit_test(test_malformed_query_is_400),
	    cmocka_unit_test(test_reads_leave_no_lock_behind),
	};
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
