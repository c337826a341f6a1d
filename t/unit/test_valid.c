/* The field validators (src/valid.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "valid.h"

static const struct {
	const char *in;
	int ok;
} emails[] = {
    {"john@example.com", 1},
    {"a@b.c", 1},
    {"o'brien+tag@mail.example.co.uk", 1},
    {"x!#$%&'*/=?^_`{|}~-y@a-b.c1.de", 1},
    {"first.last@xn--bcher-kva.example", 1},
    {"user@seed002.invalid", 1},
    {"<script>@x.de", 0},
    {"a<b@x.de", 0},
    {"a b@x.de", 0},
    {"\"a b\"@x.de", 0},
    {"a(b)@x.de", 0},
    {"a,b@x.de", 0},
    {"a;b@x.de", 0},
    {"a\\b@x.de", 0},
    {"a..b@x.de", 0},
    {".a@x.de", 0},
    {"a.@x.de", 0},
    {"@x.de", 0},
    {"a@", 0},
    {"a", 0},
    {"a@x", 0},
    {"a@@x.de", 0},
    {"a@b@x.de", 0},
    {"a@.x.de", 0},
    {"a@x..de", 0},
    {"a@x.de.", 0},
    {"a@-x.de", 0},
    {"a@x-.de", 0},
    {"a@x_y.de", 0},
    {"a@x.de>", 0},
    {"a@[1.2.3.4]", 0},
    {"a@1.2.3.4", 0},
    {"a@x.d\xc3\xa9", 0},
    {"\xc3\xa9@x.de", 0},
    {"", 0},
};

static void
test_email(void **state)
{
	char big[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(emails) / sizeof(emails[0]); i++)
		if (valid_email(emails[i].in) != emails[i].ok)
			fail_msg("%s: want %d", emails[i].in, emails[i].ok);
	/* 64 bytes of local part at most, 63 per label, 254 in all. */
	memset(big, 'a', 64);
	snprintf(big + 64, sizeof(big) - 64, "@x.de");
	assert_true(valid_email(big));
	memset(big, 'a', 65);
	snprintf(big + 65, sizeof(big) - 65, "@x.de");
	assert_false(valid_email(big));
	memcpy(big, "a@", 2);
	memset(big + 2, 'b', 63);
	snprintf(big + 65, sizeof(big) - 65, ".de");
	assert_true(valid_email(big));
	memset(big + 2, 'b', 64);
	snprintf(big + 66, sizeof(big) - 66, ".de");
	assert_false(valid_email(big));
	memcpy(big, "a@", 2);
	for (i = 2; i < 250; i += 4)
		memcpy(big + i, "bbb.", 4);
	snprintf(big + 250, sizeof(big) - 250, "de");
	assert_int_equal(strlen(big), 252);
	assert_true(valid_email(big));
	snprintf(big + 250, sizeof(big) - 250, "dede");
	assert_true(valid_email(big)); /* 254 */
	snprintf(big + 250, sizeof(big) - 250, "dedede");
	assert_false(valid_email(big));
}

static void
test_country(void **state)
{
	static const char *const ok[] = {"DE", "AD", "ZW", "GB", "US",
					 "AX", "JP", "SS", "MC", NULL};
	static const char *const bad[] = {"XX", "AA", "ZZ",  "QM", "EU", "UK",
					  "de", "D",  "DEU", "",   "XK", NULL};
	size_t i;

	(void)state;
	for (i = 0; ok[i] != NULL; i++)
		if (!valid_country(ok[i]))
			fail_msg("%s should be a country", ok[i]);
	for (i = 0; bad[i] != NULL; i++)
		if (valid_country(bad[i]))
			fail_msg("%s should not be a country", bad[i]);
}

static const struct {
	const char *body;
	int ok;
	int64_t want;
} ints[] = {
    {"{}", 0, 7},
    {"{\"q\":3}", 0, 3},
    {"{\"q\":\"3\"}", 0, 3},
    {"{\"q\":null}", -1, 7},
    {"{\"q\":1.5}", -1, 7},
    {"{\"q\":\"+3\"}", -1, 7},
    {"{\"q\":9223372036854775807}", 0, INT64_MAX},
    {"{\"q\":9223372036854775808}", -1, 7},
    {"{\"q\":18446744073709551615}", -1, 7},
    {"{\"q\":99999999999999999999}", -1, 7},
    {"{\"q\":\"99999999999999999999\"}", -1, 7},
    {"{\"q\":-99999999999999999999}", -1, 7},
    {"{\"q\":-1}", -1, 7},
};

static void
test_int(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct json_object *o = json_tokener_parse(ints[i].body);
		struct verr v = {0};
		int64_t x = -5;
		int rc = valid_int(o, "q", "q", 0, INT64_MAX, 7, &x, &v);

		if (rc != ints[i].ok)
			fail_msg("%s: %d, want %d", ints[i].body, rc,
				 ints[i].ok);
		if (rc == 0)
			assert_int_equal(x, ints[i].want);
		else
			assert_string_equal(
			    json_object_get_string(json_object_object_get(
				json_object_array_get_idx(v.errors, 0),
				"field")),
			    "q");
		verr_free(&v);
		json_object_put(o);
	}
}

/* The core's text check, by case: the code it reports (V__MAX: none). */
static const struct {
	struct text t;
	size_t max;
	enum vcode want;
} texts[] = {
    {{NULL, 0, 0}, 5, V__MAX},
    {{NULL, 0, 1}, 5, V_NOT_TEXT},
    {{"abc", 3, 1}, 5, V__MAX},
    {{"", 0, 1}, 5, V_LENGTH},
    {{"abcdef", 6, 1}, 5, V_LENGTH},
    {{"abcdef", 2, 1}, 5, V__MAX}, /* only len bytes are the text */
    {{"\xc3\xa9\xc3\xa9", 4, 1}, 2, V__MAX},
    {{"a\tb", 3, 1}, 5, V_CONTROL},
    {{"a\0b", 3, 1}, 5, V_CONTROL},
    {{"a\x7f", 2, 1}, 5, V_CONTROL},
    {{"\xff", 1, 1}, 5, V_UTF8},
    {{"\xed\xa0\x80", 3, 1}, 5, V_UTF8},
};

static void
test_text(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct verr v = {0};
		int rc = valid_text(&texts[i].t, F_EMAIL, texts[i].max, &v);
		struct json_object *e;
		char want[64];

		if ((rc == 0) != (texts[i].want == V__MAX))
			fail_msg("case %zu: %d", i, rc);
		if (rc != 0) {
			e = json_object_array_get_idx(v.errors, 0);
			vcode_message(texts[i].want, texts[i].max, want,
				      sizeof(want));
			assert_string_equal(
			    json_object_get_string(
				json_object_object_get(e, "message")),
			    want);
			assert_int_equal(json_object_get_int(
					     json_object_object_get(e, "code")),
					 texts[i].want);
		}
		verr_free(&v);
	}
}

static const char *
names(void *arg, enum field f, enum vcode code, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "f%d.c%d", (int)f, (int)code);
	return buf;
}

/* Core errors keep their place among a dialect's own; once named they
 * read as those do: {"field", "message"}, nothing else. */
static void
test_name(void **state)
{
	struct verr v = {0}, w = {0};
	struct json_object *e;

	(void)state;
	verr_add(&w, "shape", "unknown field");
	verr_core(&v, F_ITEMS, V_CART_EMPTY, 0);
	verr_append(&v, &w);
	verr_core(&v, F_BILL_ADDRESS + 1 + ADDR_POSTCODE, V_LENGTH, 32);
	verr_name(&v, names, NULL);
	assert_string_equal(
	    json_object_to_json_string_ext(v.errors, JSON_C_TO_STRING_PLAIN),
	    "[{\"field\":\"f0.c8\",\"message\":\"the cart is "
	    "empty\"},{\"field\":\"shape\",\"message\":"
	    "\"unknown field\"},{\"field\":\"f20.c2\","
	    "\"message\":\"must be 1 to 32 characters\"}]");
	e = json_object_array_get_idx(v.errors, 1);
	assert_ptr_equal(e, json_object_array_get_idx(w.errors, 0));
	verr_free(&v);
	verr_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_email), cmocka_unit_test(test_country),
	    cmocka_unit_test(test_int),	  cmocka_unit_test(test_text),
	    cmocka_unit_test(test_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
