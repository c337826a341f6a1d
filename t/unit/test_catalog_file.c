/*
 * The catalog file (src/catalog_file.c) without a database: parsing and
 * checking JSON and CSV, each refusal naming its path or line, and the
 * canonical form (the demo store's file is in it already).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog_file.h"

/* Parses text and returns its canonical form (the caller frees it), or
 * NULL with why set. */
static char *
canonical(const char *text, int csv, char *why, size_t whylen)
{
	struct catalog_file *cf = NULL;
	struct buf out = {0};

	if (catalog_file_parse(text, strlen(text), csv, &cf, why, whylen) !=
	    ERR_OK)
		return NULL;
	assert_int_equal(catalog_file_write(cf, &out), ERR_OK);
	catalog_file_free(cf);
	return out.data;
}

static void
test_demo_file_is_canonical(void **state)
{
	FILE *f = fopen(SRCDIR "/conf/demo-store.json", "rb");
	struct buf file = {0};
	char chunk[4096], why[512];
	size_t n;
	char *out;

	(void)state;
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&file, chunk, n);
	fclose(f);
	out = canonical(file.data, 0, why, sizeof(why));
	if (out == NULL)
		fail_msg("conf/demo-store.json: %s", why);
	assert_string_equal(out, file.data);
	free(out);
	buf_free(&file);
}

/* What an absent field becomes, in the fixed order of keys. */
static void
test_defaults_and_key_order(void **state)
{
	char why[512];
	char *out;

	(void)state;
	out = canonical(
	    "{\"paymentMethods\": [{\"gateway\": \"offline\", \"name\": "
	    "\"Cash\", \"code\": \"cash\"}], \"products\": [{\"name\": "
	    "\"Mug\", \"code\": \"mug\", \"variants\": [{\"price\": 800, "
	    "\"name\": \"Mug \\\"blue\\\" / big\", \"code\": \"mug-blue\"}]}],"
	    " \"promotions\": [{\"code\": \"p\", \"name\": \"P\", \"action\": "
	    "\"order_fixed_discount\", \"startsAt\": "
	    "\"2024-02-29T00:00:00Z\"}]}",
	    0, why, sizeof(why));
	if (out == NULL)
		fail_msg("%s", why);
	assert_string_equal(out,
			    "{\n"
			    "  \"version\": 1,\n"
			    "  \"taxCategories\": [],\n"
			    "  \"zones\": [],\n"
			    "  \"taxRates\": [],\n"
			    "  \"products\": [\n"
			    "    {\n"
			    "      \"code\": \"mug\",\n"
			    "      \"name\": \"Mug\",\n"
			    "      \"enabled\": true,\n"
			    "      \"provider\": null,\n"
			    "      \"variants\": [\n"
			    "        {\n"
			    "          \"code\": \"mug-blue\",\n"
			    "          \"name\": \"Mug \\\"blue\\\" / big\",\n"
			    "          \"price\": 800,\n"
			    "          \"taxCategory\": null,\n"
			    "          \"tracked\": true,\n"
			    "          \"needsShipping\": true,\n"
			    "          \"weightG\": 0,\n"
			    "          \"enabled\": true,\n"
			    "          \"position\": 0\n"
			    "        }\n"
			    "      ]\n"
			    "    }\n"
			    "  ],\n"
			    "  \"shippingMethods\": [],\n"
			    "  \"paymentMethods\": [\n"
			    "    {\n"
			    "      \"code\": \"cash\",\n"
			    "      \"name\": \"Cash\",\n"
			    "      \"gateway\": \"offline\",\n"
			    "      \"enabled\": true,\n"
			    "      \"position\": 0\n"
			    "    }\n"
			    "  ],\n"
			    "  \"promotions\": [\n"
			    "    {\n"
			    "      \"code\": \"p\",\n"
			    "      \"name\": \"P\",\n"
			    "      \"priority\": 0,\n"
			    "      \"exclusive\": false,\n"
			    "      \"couponBased\": false,\n"
			    "      \"usageLimit\": null,\n"
			    "      \"startsAt\": \"2024-02-29T00:00:00Z\",\n"
			    "      \"endsAt\": null,\n"
			    "      \"minItemTotal\": null,\n"
			    "      \"minQuantity\": null,\n"
			    "      \"action\": \"order_fixed_discount\",\n"
			    "      \"amount\": 0,\n"
			    "      \"rateBp\": 0,\n"
			    "      \"coupons\": []\n"
			    "    }\n"
			    "  ]\n"
			    "}\n");
	free(out);
}

#define P1 "{\"products\": [{\"code\": \"a\", \"name\": \"A\", \"variants\": ["
#define V1 "{\"code\": \"a1\", \"name\": \"A1\", \"price\": 100"

/* Each refusal names where it is. */
static const struct {
	const char *in;
	int csv;
	const char *why;
} bad[] = {
    {P1 V1 "}, {\"code\": \"a2\", \"name\": \"A2\", \"price\": \"12\"}]}]}", 0,
     "products[0].variants[1].price: must be an integer"},
    {P1 V1 ", \"prise\": 1}]}]}", 0,
     "products[0].variants[0].prise: is not a field of a variant"},
    {P1 V1 "}]}, {\"code\": \"b\", \"name\": \"B\", \"variants\": [" V1 "}]}]}",
     0, "products[1].variants[0].code: \"a1\" is in the file twice"},
    {P1 V1 ", \"stock\": 1, \"stockAdjust\": 2}]}]}", 0,
     "products[0].variants[0].stockAdjust: stock sets the units"},
    {P1 V1 ", \"price\": -1}]}]}", 0,
     "products[0].variants[0].price: must be from 0 to"},
    {P1 V1 ", \"tracked\": 1}]}]}", 0,
     "products[0].variants[0].tracked: must be true or false"},
    {P1 V1 ", \"uuid\": \"0B7E3A4C-2F1D-4E6B-9A55-1C2D3E4F5A61\"}]}]}", 0,
     "products[0].variants[0].uuid: must be a lowercase UUID"},
    {P1 V1 ", \"taxCategory\": \"\"}]}]}", 0,
     "products[0].variants[0].taxCategory: must be a tax category's code"},
    {"{\"products\": [{\"code\": \"123\", \"name\": \"A\"}]}", 0,
     "products[0].code: must be 1 to 64 letters"},
    {"{\"products\": [{\"code\": \"a\"}]}", 0, "products[0].name: is required"},
    {"{\"products\": [{\"code\": \"a\", \"name\": \"\"}]}", 0,
     "products[0].name: must be 1 to 255 characters"},
    {"{\"products\": [{\"code\": \"a\", \"name\": \"\\u0001\"}]}", 0,
     "products[0].name: must be 1 to 255 characters"},
    {"{\"products\": [[]]}", 0, "products[0]: must be an object"},
    {"{\"products\": {}}", 0, "products: must be a list"},
    {"{\"product\": []}", 0,
     "catalog.product: is not a section of a catalog file"},
    {"{\"version\": 2}", 0, "catalog.version: must be 1"},
    {"[]", 0, "catalog: must be an object of lists"},
    {"{\n  \"products\": [\n    {\"code\": \"a\",,}\n  ]\n}", 0,
     "line 3: JSON: "},
    {"{\"products\": [", 0, "line 1: JSON: the document is not complete"},
    {"{} x", 0, "line 1: JSON: text after the document"},
    {"{\"zones\": [{\"code\": \"EU\", \"name\": \"EU\", \"countries\": "
     "[\"DE\", \"de\"]}]}",
     0, "zones[0].countries[1]: must be a country code"},
    {"{\"zones\": [{\"code\": \"EU\", \"name\": \"EU\", \"countries\": "
     "[\"DE\", \"DE\"]}]}",
     0, "zones[0].countries[1]: \"DE\" is in the list twice"},
    {"{\"taxRates\": [{\"zone\": \"EU\", \"taxCategory\": \"s\", \"name\": "
     "\"VAT\", \"rateBp\": 2000}, {\"zone\": \"EU\", \"taxCategory\": "
     "\"s\", \"name\": \"VAT\", \"rateBp\": 1900}]}",
     0, "taxRates[1]: a second rate for zone and tax category EU/s"},
    {"{\"shippingMethods\": [{\"code\": \"m\", \"name\": \"M\", \"zone\": "
     "\"EU\", \"calculator\": \"free\"}]}",
     0, "shippingMethods[0].calculator: must be one of flat_rate"},
    {"{\"promotions\": [{\"code\": \"p\", \"name\": \"P\", \"action\": "
     "\"order_fixed_discount\", \"endsAt\": \"2023-02-29T00:00:00Z\"}]}",
     0, "promotions[0].endsAt: must be a UTC time"},
    {"{\"promotions\": [{\"code\": \"p\", \"name\": \"P\", \"action\": "
     "\"order_fixed_discount\", \"coupons\": [{\"code\": \"C\"}, "
     "{\"code\": \"C\"}]}]}",
     0, "promotions[0].coupons[1].code: \"C\" is in the file twice"},
    {"{\"products\": [{\"code\": \"a\", \"name\": \"A\", \"provider\": "
     "\"workshop\"}]}",
     0, "products[0].provider: must be a provider's uuid"},
    /* CSV: the line and the column. */
    {"product,productName,code,name,price\n"
     "a,A,a1,A1,100\n"
     "a,A,a2,A2,1x\n",
     1, "line 3: price: must be an integer"},
    {"product,productName,code,name,price\n"
     "a,A,a1,A1,100\n"
     "\n"
     "a,B,a2,A2,100\n",
     1, "line 4: productName differs from line 2's"},
    {"product,productName,code,name,price,tracked\n"
     "a,A,a1,A1,100,yes\n",
     1, "line 2: tracked: must be true or false"},
    {"product,productName,code,name,price,productEnabled\n"
     "a,A,a1,A1,100,maybe\n",
     1, "line 2: productEnabled: must be true or false"},
    {"product,productName,code,name,price\n"
     "a,,a1,A1,100\n",
     1, "line 2: productName: is required"},
    {"product,productName,code,name,price\n"
     "a,A,a1,A1,100\n"
     "b,B,a1,A1,100\n",
     1, "line 3: code: \"a1\" is in the file twice"},
    {"product,productName,code,name,prize\n", 1,
     "line 1: unknown column \"prize\""},
    {"product,productName,code,name\n", 1, "line 1: no column \"price\""},
    {"product,productName,code,name,price,code\n", 1,
     "line 1: column \"code\" twice"},
    {"product,productName,code,name,price\n"
     "a,A,a1,A1\n",
     1, "line 2: 4 cells; the header has 5 columns"},
    {"product,productName,code,name,price\n"
     "a,\"A,a1,A1,100\n",
     1, "line 2: a quote is not closed"},
    {"", 1, "line 1: the header line names the columns"},
};

static void
test_refusals_name_the_place(void **state)
{
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct catalog_file *cf = NULL;
		enum err e =
		    catalog_file_parse(bad[i].in, strlen(bad[i].in), bad[i].csv,
				       &cf, why, sizeof(why));

		if (e != ERR_VALIDATION_FAILED)
			fail_msg("case %zu: accepted (%d)", i, (int)e);
		assert_null(cf);
		if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s...\"", i, why,
				 bad[i].why);
	}
}

/* CSV: a byte order mark, CRLF, quotes, a product over several lines, the
 * columns in any order; the same rows as the JSON file would give. */
static void
test_csv_reads_as_json_does(void **state)
{
	char why[512];
	char *from_csv, *from_json;

	(void)state;
	from_csv = canonical(
	    "\xef\xbb\xbfproduct,productName,code,name,price,stock,"
	    "taxCategory,tracked,productProvider\r\n"
	    "shirt,\"Shirt, \"\"classic\"\"\",shirt-s,Shirt S,1999,10,"
	    "standard,true,7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\r\n"
	    "shirt,\"Shirt, \"\"classic\"\"\",shirt-m,Shirt M,2099,,,"
	    "0,7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\r\n"
	    "mug,Mug,mug,Mug,800,,,,\r\n",
	    1, why, sizeof(why));
	if (from_csv == NULL)
		fail_msg("%s", why);
	from_json = canonical(
	    "{\"products\": [{\"code\": \"shirt\", \"name\": \"Shirt, "
	    "\\\"classic\\\"\", \"provider\": "
	    "\"7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"variants\": "
	    "[{\"code\": \"shirt-s\", \"name\": \"Shirt S\", \"price\": 1999, "
	    "\"stock\": 10, \"taxCategory\": \"standard\", \"tracked\": true},"
	    " {\"code\": \"shirt-m\", \"name\": \"Shirt M\", \"price\": 2099,"
	    " \"tracked\": false}]}, {\"code\": \"mug\", \"name\": \"Mug\", "
	    "\"variants\": [{\"code\": \"mug\", \"name\": \"Mug\", \"price\": "
	    "800}]}]}",
	    0, why, sizeof(why));
	if (from_json == NULL)
		fail_msg("%s", why);
	assert_string_equal(from_csv, from_json);
	free(from_csv);
	free(from_json);
	from_csv = canonical("product,productName,code,name,price,stockAdjust\n"
			     "shirt,Shirt,shirt-s,Shirt S,1999,-2\n"
			     "shirt,Shirt,shirt-m,Shirt M,2099,5\n",
			     1, why, sizeof(why));
	if (from_csv == NULL)
		fail_msg("%s", why);
	from_json = canonical(
	    "{\"products\": [{\"code\": \"shirt\", \"name\": \"Shirt\", "
	    "\"variants\": [{\"code\": \"shirt-s\", \"name\": \"Shirt S\", "
	    "\"price\": 1999, \"stockAdjust\": -2}, {\"code\": \"shirt-m\", "
	    "\"name\": \"Shirt M\", \"price\": 2099, \"stockAdjust\": 5}]}]}",
	    0, why, sizeof(why));
	if (from_json == NULL)
		fail_msg("%s", why);
	assert_string_equal(from_csv, from_json);
	free(from_csv);
	free(from_json);
}

/* A quoted cell may hold a newline: the lines after it count on. */
static void
test_csv_lines_count_through_quotes(void **state)
{
	char why[512];

	(void)state;
	assert_null(canonical("product,productName,code,name,price\n"
			      "a,\"A\nof two lines\",a1,A1,100\n"
			      "a,\"A\nof two lines\",a2,A2,x\n",
			      1, why, sizeof(why)));
	assert_string_equal(why, "line 4: price: must be an integer");
	assert_null(canonical("product,productName,code,name,price\n"
			      "a,A,a1,\"A\n1\",100\n",
			      1, why, sizeof(why)));
	assert_string_equal(why, "line 2: name: must be 1 to 255 characters "
				 "of UTF-8 text");
}

/* Parses text (JSON) and writes its products as CSV (the caller frees
 * it); *left_out: the products without variants. */
static char *
as_csv(const char *text, size_t *left_out)
{
	struct catalog_file *cf = NULL;
	struct buf out = {0};
	char why[512];

	if (catalog_file_parse(text, strlen(text), 0, &cf, why, sizeof(why)) !=
	    ERR_OK)
		fail_msg("%s", why);
	assert_int_equal(catalog_file_write_csv(cf, &out, left_out), ERR_OK);
	catalog_file_free(cf);
	return out.data;
}

/* CSV out: the full header, a line per variant with its product's
 * columns, quotes where a cell needs them, null as an empty cell, a
 * product without variants left out and counted; read back, the same
 * rows as the JSON it came from. */
static void
test_csv_export_reads_back(void **state)
{
	static const char json[] =
	    "{\"products\": [{\"code\": \"shirt\", \"uuid\": "
	    "\"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"name\": \"Shirt, "
	    "\\\"classic\\\"\", \"provider\": "
	    "\"7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"variants\": "
	    "[{\"code\": \"shirt-s\", \"uuid\": "
	    "\"1e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"name\": \"Shirt S\", "
	    "\"price\": 1999, \"stock\": 10, \"taxCategory\": \"standard\"},"
	    " {\"code\": \"shirt-m\", \"name\": \"Shirt M\", \"price\": 2099,"
	    " \"tracked\": false, \"weightG\": 250, \"position\": -1}]}, "
	    "{\"code\": \"soon\", \"name\": \"Coming soon\", \"enabled\": "
	    "false}, {\"code\": \"mug\", \"name\": \"Mug\", \"variants\": "
	    "[{\"code\": \"mug\", \"name\": \"Mug\", \"price\": 800, "
	    "\"stockAdjust\": -2}]}]}";
	static const char want[] =
	    "product,productUuid,productName,productEnabled,productProvider,"
	    "code,uuid,name,price,taxCategory,tracked,stock,stockAdjust,"
	    "needsShipping,weightG,enabled,position\n"
	    "shirt,0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51,\"Shirt, "
	    "\"\"classic\"\"\",true,7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51,"
	    "shirt-s,1e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51,Shirt S,1999,"
	    "standard,true,10,,true,0,true,0\n"
	    "shirt,0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51,\"Shirt, "
	    "\"\"classic\"\"\",true,7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51,"
	    "shirt-m,,Shirt M,2099,,false,,,true,250,true,-1\n"
	    "mug,,Mug,true,,mug,,Mug,800,,true,,-2,true,0,true,0\n";
	char why[512];
	char *csv, *from_csv, *from_json;
	size_t left_out = 99;

	(void)state;
	csv = as_csv(json, &left_out);
	assert_string_equal(csv, want);
	assert_int_equal(left_out, 1);
	from_csv = canonical(csv, 1, why, sizeof(why));
	if (from_csv == NULL)
		fail_msg("%s", why);
	free(csv);
	/* The JSON without the product that has no line. */
	from_json = canonical(
	    "{\"products\": [{\"code\": \"shirt\", \"uuid\": "
	    "\"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"name\": \"Shirt, "
	    "\\\"classic\\\"\", \"provider\": "
	    "\"7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"variants\": "
	    "[{\"code\": \"shirt-s\", \"uuid\": "
	    "\"1e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51\", \"name\": \"Shirt S\", "
	    "\"price\": 1999, \"stock\": 10, \"taxCategory\": \"standard\"},"
	    " {\"code\": \"shirt-m\", \"name\": \"Shirt M\", \"price\": 2099,"
	    " \"tracked\": false, \"weightG\": 250, \"position\": -1}]}, "
	    "{\"code\": \"mug\", \"name\": \"Mug\", \"variants\": "
	    "[{\"code\": \"mug\", \"name\": \"Mug\", \"price\": 800, "
	    "\"stockAdjust\": -2}]}]}",
	    0, why, sizeof(why));
	if (from_json == NULL)
		fail_msg("%s", why);
	assert_string_equal(from_csv, from_json);
	free(from_csv);
	free(from_json);
}

/* The demo store's products through CSV and back: the same products
 * section as the file's, and the same CSV again. */
static void
test_demo_products_round_trip_through_csv(void **state)
{
	FILE *f = fopen(SRCDIR "/conf/demo-store.json", "rb");
	struct buf file = {0};
	struct json_object *doc, *only;
	struct catalog_file *cf = NULL;
	struct buf again = {0};
	char chunk[4096], why[512];
	char *csv, *from_csv, *from_json;
	size_t n, left_out = 99;

	(void)state;
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&file, chunk, n);
	fclose(f);
	csv = as_csv(file.data, &left_out);
	assert_int_equal(left_out, 0);
	from_csv = canonical(csv, 1, why, sizeof(why));
	if (from_csv == NULL)
		fail_msg("%s", why);
	doc = json_tokener_parse(file.data);
	assert_non_null(doc);
	only = json_object_new_object();
	json_object_object_add(
	    only, "products",
	    json_object_get(json_object_object_get(doc, "products")));
	from_json =
	    canonical(json_object_to_json_string(only), 0, why, sizeof(why));
	if (from_json == NULL)
		fail_msg("%s", why);
	assert_string_equal(from_csv, from_json);
	assert_int_equal(
	    catalog_file_parse(csv, strlen(csv), 1, &cf, why, sizeof(why)),
	    ERR_OK);
	assert_int_equal(catalog_file_write_csv(cf, &again, &left_out), ERR_OK);
	assert_string_equal(again.data, csv);
	catalog_file_free(cf);
	buf_free(&again);
	json_object_put(only);
	json_object_put(doc);
	free(csv);
	free(from_csv);
	free(from_json);
	buf_free(&file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_file_is_canonical),
	    cmocka_unit_test(test_defaults_and_key_order),
	    cmocka_unit_test(test_refusals_name_the_place),
	    cmocka_unit_test(test_csv_reads_as_json_does),
	    cmocka_unit_test(test_csv_lines_count_through_quotes),
	    cmocka_unit_test(test_csv_export_reads_back),
	    cmocka_unit_test(test_demo_products_round_trip_through_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
