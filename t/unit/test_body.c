/* The body decoder, table-driven over the rules of SPEC 2.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "str.h"

#define JSON	   "application/json"
#define FORM	   "application/x-www-form-urlencoded"
#define ANY_OFFSET ((size_t)-1)

struct row {
	const char *ctype;
	const char *in;
	const char *want; /* Canonical JSON, or NULL for an error. */
	enum err err;	  /* Expected error when want is NULL. */
	size_t offset;	  /* Expected offset, or ANY_OFFSET. */
};

static const struct row rows[] = {
    /* JSON. */
    {JSON, "{\"a\":1}", "{\"a\":1}", 0, 0},
    {JSON, "{\"a\":{\"b\":[1,\"x\"]}}", "{\"a\":{\"b\":[1,\"x\"]}}", 0, 0},
    {JSON, "", "{}", 0, 0},
    {JSON, "  {\"a\":true}\n", "{\"a\":true}", 0, 0},
    {JSON, "{\"a\":", NULL, ERR_MALFORMED_BODY, 5},
    {JSON, "{\"a\":1} x", NULL, ERR_MALFORMED_BODY, 8},
    {JSON, "[1,2]", NULL, ERR_MALFORMED_BODY, 0},
    {JSON, "{'a':1}", NULL, ERR_MALFORMED_BODY, 1},
    {JSON, "{\"a\":NaN}", NULL, ERR_MALFORMED_BODY, 5},
    {JSON, "{\"a\":-Infinity}", NULL, ERR_MALFORMED_BODY, 6},
    {JSON, "{\"a\":1e999}", NULL, ERR_MALFORMED_BODY, 0},
    {JSON, "{\"it's\":\"N\\\"I\"}", "{\"it's\":\"N\\\"I\"}", 0, 0},
    {JSON, "{\"a\":1,}", NULL, ERR_MALFORMED_BODY, ANY_OFFSET},
    {JSON "; charset=utf-8", "{}", "{}", 0, 0},
    {JSON,
     "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{"
     "\"i\":1}}}}}}}}}",
     "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}"
     "}}}}}}}",
     0, 0},
    {JSON,
     "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{"
     "\"i\":{\"j\":1}}}}}}}}}}",
     NULL, ERR_MALFORMED_BODY, ANY_OFFSET},
    {JSON, "{\"a\":\"\xff\"}", NULL, ERR_MALFORMED_BODY, ANY_OFFSET},
    /* JSON: a name twice in one object is refused at the repeat, at any
     * depth, as a form's repeated key is; in two objects it is fine. */
    {JSON, "{\"a\":1,\"a\":5000}", NULL, ERR_MALFORMED_BODY, 7},
    {JSON, "{\"a\":1,\"\\u0061\":2}", NULL, ERR_MALFORMED_BODY, 7},
    {JSON, "{\"a\":{\"b\":1,\"c\":2,\"b\":3}}", NULL, ERR_MALFORMED_BODY, 18},
    {JSON, "{\"a\":[{\"m\":1},{\"m\":1,\"m\":2}]}", NULL, ERR_MALFORMED_BODY,
     21},
    {JSON, "{\"a\":{\"a\":1},\"b\":{\"a\":[\"a\",\"a\"]}}",
     "{\"a\":{\"a\":1},\"b\":{\"a\":[\"a\",\"a\"]}}", 0, 0},
    {JSON, "{\"a:\":1,\"a\":2}", "{\"a:\":1,\"a\":2}", 0, 0},
    {JSON, "{\"x\":{},\"y\":{\"x\":1},\"x\":2}", NULL, ERR_MALFORMED_BODY, 20},
    /* Forms: objects, arrays, indices. */
    {FORM, "a=1&b=2", "{\"a\":\"1\",\"b\":\"2\"}", 0, 0},
    {FORM, "a[b]=1&a[c]=2", "{\"a\":{\"b\":\"1\",\"c\":\"2\"}}", 0, 0},
    {FORM, "a[]=1&a[]=2", "{\"a\":[\"1\",\"2\"]}", 0, 0},
    {FORM, "a[0]=x&a[1]=y", "{\"a\":[\"x\",\"y\"]}", 0, 0},
    {FORM, "a[1]=y&a[0]=x", "{\"a\":[\"x\",\"y\"]}", 0, 0},
    {FORM, "shipments[0][method]=4", "{\"shipments\":[{\"method\":\"4\"}]}", 0,
     0},
    {FORM, "a[0][b]=1&a[0][c]=2&a[1][b]=3",
     "{\"a\":[{\"b\":\"1\",\"c\":\"2\"},{\"b\":\"3\"}]}", 0, 0},
    {FORM, "a[][b]=1&a[][b]=2", "{\"a\":[{\"b\":\"1\"},{\"b\":\"2\"}]}", 0, 0},
    {FORM, "a[b][c][d][e][f][g][h][i]=1",
     "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":"
     "\"1\"}}}}}}}}}",
     0, 0},
    {FORM, "a[01]=x", "{\"a\":{\"01\":\"x\"}}", 0, 0},
    {FORM, "a%5Bb%5D=1", "{\"a\":{\"b\":\"1\"}}", 0, 0},
    /* Forms: values. */
    {FORM, "a=hello+world", "{\"a\":\"hello world\"}", 0, 0},
    {FORM, "a=%41%2b%20", "{\"a\":\"A+ \"}", 0, 0},
    {FORM, "a", "{\"a\":\"\"}", 0, 0},
    {FORM, "a=&b=", "{\"a\":\"\",\"b\":\"\"}", 0, 0},
    {FORM, "a=1&&b=2&", "{\"a\":\"1\",\"b\":\"2\"}", 0, 0},
    {FORM, "a=x%3Dy", "{\"a\":\"x=y\"}", 0, 0},
    {FORM, "", "{}", 0, 0},
    {"APPLICATION/X-WWW-FORM-URLENCODED", "a=1", "{\"a\":\"1\"}", 0, 0},
    /* Forms: refusals. */
    {FORM, "a[0]=x&a[2]=z", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "a[1]=x", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "a[0]=x&a[b]=y", NULL, ERR_MALFORMED_BODY, 7},
    {FORM, "a[]=1&a[0]=2", NULL, ERR_MALFORMED_BODY, 6},
    {FORM, "a=1&a=2", NULL, ERR_MALFORMED_BODY, 4},
    {FORM, "a[0]=1&a[0]=2", NULL, ERR_MALFORMED_BODY, 7},
    {FORM, "a=1&a[b]=2", NULL, ERR_MALFORMED_BODY, 4},
    {FORM, "a[b]=1&a=2", NULL, ERR_MALFORMED_BODY, 7},
    {FORM, "x=1&a=%4", NULL, ERR_MALFORMED_BODY, 6},
    {FORM, "a=%zz", NULL, ERR_MALFORMED_BODY, 2},
    {FORM, "a%G1=1", NULL, ERR_MALFORMED_BODY, 1},
    {FORM, "a[b=1", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "a[b]c=1", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "=1", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "[a]=1", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "a%00=1", NULL, ERR_MALFORMED_BODY, 0},
    {FORM, "a[b][c][d][e][f][g][h][i][j]=1", NULL, ERR_MALFORMED_BODY, 0},
    /* Content types. */
    {"text/plain", "a=1", NULL, ERR_UNSUPPORTED_MEDIA_TYPE, ANY_OFFSET},
    {NULL, "{}", NULL, ERR_UNSUPPORTED_MEDIA_TYPE, ANY_OFFSET},
    {"text/plain", "", "{}", 0, 0},
    {NULL, "", "{}", 0, 0},
};

static void
test_rows(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct json_object *o = NULL;
		const char *why = NULL;
		size_t off = 0;
		enum err e;

		e = body_decode(r->ctype, r->in, strlen(r->in), &o, &off, &why);
		if (r->want != NULL) {
			if (e != ERR_OK)
				fail_msg("row %zu (%s): error %s (%s) at %zu",
					 i, r->in, err_code(e), why, off);
			assert_string_equal(json_object_to_json_string_ext(
						o, JSON_C_TO_STRING_PLAIN),
					    r->want);
			json_object_put(o);
			continue;
		}
		if (e != r->err)
			fail_msg("row %zu (%s): got %s, want %s", i, r->in,
				 err_code(e), err_code(r->err));
		assert_null(o);
		if (e == ERR_MALFORMED_BODY)
			assert_non_null(why);
		if (r->offset != ANY_OFFSET && off != r->offset)
			fail_msg("row %zu (%s): offset %zu, want %zu", i, r->in,
				 off, r->offset);
	}
}

/* Bodies of BODY_MAX_KEYS keys pass; one more is refused. */
static void
test_key_limit(void **state)
{
	struct buf b = {0};
	struct json_object *o = NULL;
	const char *why;
	size_t off;
	int i;

	(void)state;
	for (i = 0; i < BODY_MAX_KEYS; i++)
		buf_printf(&b, "%sk%d=v", i ? "&" : "", i);
	assert_int_equal(body_decode_form(b.data, b.len, &o, &off, &why),
			 ERR_OK);
	assert_int_equal(json_object_object_length(o), BODY_MAX_KEYS);
	json_object_put(o);
	buf_puts(&b, "&one=more");
	assert_int_equal(body_decode_form(b.data, b.len, &o, &off, &why),
			 ERR_MALFORMED_BODY);
	assert_string_equal(why, "too many keys");
	buf_reset(&b);
	buf_puts(&b, "{");
	for (i = 0; i <= BODY_MAX_KEYS; i++)
		buf_printf(&b, "%s\"k%d\":1", i ? "," : "", i);
	buf_puts(&b, "}");
	assert_int_equal(body_decode_json(b.data, b.len, &o, &off, &why),
			 ERR_MALFORMED_BODY);
	buf_free(&b);
}

/* A NUL inside a value survives decoding (validators refuse it). */
static void
test_nul_in_value(void **state)
{
	struct json_object *o = NULL;
	const char *why;
	size_t off;

	(void)state;
	assert_int_equal(body_decode_form("a=x%00y", 7, &o, &off, &why),
			 ERR_OK);
	assert_int_equal(
	    json_object_get_string_len(json_object_object_get(o, "a")), 3);
	json_object_put(o);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Random inputs built from the characters that matter to the decoders:
 * whatever comes in, the answer is a JSON object or a 400 whose offset lies
 * inside the body, and (under valgrind or ASan) nothing is misused.
 */
static void
test_random_inputs_keep_the_contract(void **state)
{
	static const char form_chars[] = "ab0123[]&=%+9fAZ_.\x01";
	static const char json_chars[] = "{}[]:,\"\\ab01-.eE tnufl'\x80\xff";
	char in[96];
	int i;

	(void)state;
	for (i = 0; i < 6000; i++) {
		const char *chars = i % 2 ? form_chars : json_chars;
		size_t nchars =
		    i % 2 ? sizeof(form_chars) - 1 : sizeof(json_chars) - 1;
		size_t n = next_rand() % sizeof(in), j;
		struct json_object *o = NULL;
		const char *why = NULL;
		size_t off = 0;
		enum err e;

		for (j = 0; j < n; j++)
			in[j] = chars[next_rand() % nchars];
		e = i % 2 ? body_decode_form(in, n, &o, &off, &why)
			  : body_decode_json(in, n, &o, &off, &why);
		if (e == ERR_OK) {
			assert_true(json_object_is_type(o, json_type_object));
			json_object_put(o);
		} else {
			assert_int_equal(e, ERR_MALFORMED_BODY);
			assert_null(o);
			assert_non_null(why);
			assert_true(off <= n);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_key_limit),
	    cmocka_unit_test(test_nul_in_value),
	    cmocka_unit_test(test_random_inputs_keep_the_contract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
