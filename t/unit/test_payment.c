/* Card checks, webhook signatures and carrier prices: the pure parts of
 * the providers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/sylius.h"
#include "carrier.h"
#include "purchase.h"
#include "stripe.h"

static void
test_luhn_and_brand(void **state)
{
	static const struct {
		const char *number;
		int luhn;
		const char *brand;
	} rows[] = {
	    {"4242424242424242", 1, "visa"},
	    {"4242424242424241", 0, "visa"},
	    {"4000000000000002", 1, "visa"},
	    {"5555555555554444", 1, "mastercard"},
	    {"2223003122003222", 1, "mastercard"},
	    {"378282246310005", 1, "amex"},
	    {"6011111111111117", 1, "discover"},
	    {"3056930009020004", 1, "unknown"},
	    {"0000000000000000", 1, "unknown"},
	    {"", 0, "unknown"},
	    {"12a4", 0, "unknown"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(card_luhn(rows[i].number), rows[i].luhn);
		assert_string_equal(card_brand(rows[i].number), rows[i].brand);
	}
}

/* 2026-11-23 12:00 UTC */
#define NOW ((time_t)1795435200)

static void
test_card_check(void **state)
{
	static const struct {
		const char *json;
		const char *field; /* NULL: valid */
		const char *brand, *last4;
	} rows[] = {
	    {"{\"number\": \"4242 4242 4242 4242\", \"expiryMonth\": 12, "
	     "\"expiryYear\": 2030, \"securityCode\": \"123\"}",
	     NULL, "visa", "4242"},
	    {"{\"number\": \"4242-4242-4242-4242\", \"expiryMonth\": \"11\", "
	     "\"expiryYear\": \"26\", \"securityCode\": 1234}",
	     NULL, "visa", "4242"},
	    {"{\"number\": \"4242424242424242\", \"expiryMonth\": 10, "
	     "\"expiryYear\": 2026, \"securityCode\": \"123\"}",
	     "expiryYear", NULL, NULL},
	    {"{\"number\": \"4242424242424242\", \"expiryMonth\": 0, "
	     "\"expiryYear\": 2030, \"securityCode\": \"123\"}",
	     "expiryMonth", NULL, NULL},
	    {"{\"number\": \"4242424242424243\", \"expiryMonth\": 1, "
	     "\"expiryYear\": 2030, \"securityCode\": \"123\"}",
	     "number", NULL, NULL},
	    {"{\"number\": \"42424242424242424242\", \"expiryMonth\": 1, "
	     "\"expiryYear\": 2030, \"securityCode\": \"123\"}",
	     "number", NULL, NULL},
	    {"{\"number\": \"4242424242424242\", \"expiryMonth\": 1, "
	     "\"expiryYear\": 2030, \"securityCode\": \"12\"}",
	     "securityCode", NULL, NULL},
	    {"{\"number\": \"4242424242424242\", \"securityCode\": \"123\"}",
	     "expiryMonth", NULL, NULL},
	    {"{\"paymentToken\": \"pm_card_visa\"}", NULL, "", ""},
	    {"{\"paymentToken\": \"\"}", "paymentToken", NULL, NULL},
	    {"{\"paymentToken\": \"pm_card_visa\", \"number\": "
	     "\"4242424242424242\"}",
	     "paymentToken", NULL, NULL},
	    {"{\"number\": 4242424242424242, \"expiryMonth\": 12, "
	     "\"expiryYear\": 2030, \"securityCode\": 123}",
	     NULL, "visa", "4242"},
	    {"{\"number\": \"4242424242424242\", \"expiryMonth\": null, "
	     "\"expiryYear\": 2030, \"securityCode\": \"123\"}",
	     "expiryMonth", NULL, NULL},
	    {"{\"number\": \"4242424242424242\", \"expiryMonth\": 1, "
	     "\"expiryYear\": \"20x\", \"securityCode\": \"123\"}",
	     "expiryYear", NULL, NULL},
	    {"{\"paymentToken\": \"pm_card_visa\", \"type\": 5}", "type", NULL,
	     NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *body = json_tokener_parse(rows[i].json);
		struct verr v = {0};
		struct card_in in;
		struct card c;
		char brand[16], last4[5];

		assert_non_null(body);
		sylius_card_decode(body, &in);
		card_check(&in, NOW, &c, brand, last4, &v);
		verr_name(&v, sylius_field_name, NULL);
		if (rows[i].field == NULL) {
			assert_null(v.errors);
			assert_string_equal(brand, rows[i].brand);
			assert_string_equal(last4, rows[i].last4);
		} else {
			assert_non_null(v.errors);
			assert_string_equal(
			    json_object_get_string(json_object_object_get(
				json_object_array_get_idx(v.errors, 0),
				"field")),
			    rows[i].field);
		}
		verr_free(&v);
		json_object_put(body);
	}
}

static void
test_signatures(void **state)
{
	const char *body = "{\"id\":\"evt_1\"}";
	char hex[65], header[256];
	long long t = 1795435200;

	(void)state;
	signature_v1("whsec_a", t, body, strlen(body), hex);
	assert_int_equal(strlen(hex), 64);
	snprintf(header, sizeof(header), "t=%lld,v1=%s", t, hex);
	assert_true(
	    signature_ok(header, body, strlen(body), "whsec_a", "", t, 300));
	/* The previous secret during a rotation; extra schemes ignored. */
	snprintf(header, sizeof(header), "t=%lld,v0=abc,v1=%064d,v1=%s", t, 0,
		 hex);
	assert_true(signature_ok(header, body, strlen(body), "whsec_new",
				 "whsec_a", t + 10, 300));
	/* Another secret, another body, too old, no timestamp, junk. */
	snprintf(header, sizeof(header), "t=%lld,v1=%s", t, hex);
	assert_false(
	    signature_ok(header, body, strlen(body), "whsec_b", "", t, 300));
	assert_false(signature_ok(header, "{}", 2, "whsec_a", "", t, 300));
	assert_false(signature_ok(header, body, strlen(body), "whsec_a", "",
				  t + 301, 300));
	snprintf(header, sizeof(header), "v1=%s", hex);
	assert_false(
	    signature_ok(header, body, strlen(body), "whsec_a", "", t, 300));
	assert_false(
	    signature_ok("", body, strlen(body), "whsec_a", "", t, 300));
	assert_false(
	    signature_ok(NULL, body, strlen(body), "whsec_a", "", t, 300));
	assert_false(signature_ok("t=abc,v1=zz", body, strlen(body), "whsec_a",
				  "", t, 300));
}

static void
test_carrier_amounts(void **state)
{
	static const struct {
		const char *s;
		int64_t want;
	} rows[] = {
	    {"7.90", 790},     {"12", 1200}, {"0.5", 50},  {"0.05", 5},
	    {"100.00", 10000}, {"", -1},     {".50", -1},  {"1.234", -1},
	    {"-1.00", -1},     {"1,50", -1}, {"1.5x", -1}, {NULL, -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(carrier_parse_amount(rows[i].s), rows[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_luhn_and_brand),
	    cmocka_unit_test(test_card_check),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_carrier_amounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
