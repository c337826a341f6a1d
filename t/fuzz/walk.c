/*
 * Fuzz target: the checkout steps against a real stack's database (the
 * configuration in FUZZ_CONFIG, e.g. var/checkoutd.conf of ./run). Each
 * input runs on a cart of its own, created first: requests as in
 * request.c, separated by a line "=====", where @ID@ and @TOKEN@ stand for
 * the new cart's id and token and @ITEM@ for the id of the first item in
 * the last answer that listed items. What must hold: fuzz_request's list (a 5xx
 * only from a dependency: 502, 503, 504), the cart still readable by its
 * token with consistent totals, and no variant holding more than it has
 * (on_hold <= on_hand). Run by t/fuzz/run.sh walk against the ./run stack;
 * the e2e run replays t/fuzz/corpus/walk on its throwaway stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "fuzz.h"

#define SEPARATOR   "\n=====\n"
#define MAX_REQUEST 8

static struct request req;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *conf = getenv("FUZZ_CONFIG");

	(void)argc;
	(void)argv;
	if (conf == NULL || *conf == '\0') {
		fprintf(stderr, "walk: FUZZ_CONFIG (a stack's checkoutd.conf) "
				"is not set\n");
		exit(2);
	}
	fuzz_init(conf, &req);
	return 0;
}

/* A new cart's id and token from POST /api/carts. */
static int
new_cart(char *id, size_t idlen, char *token, size_t toklen)
{
	static const char create[] = "REQUEST_METHOD=POST\n"
				     "DOCUMENT_URI=/api/carts\n\n";
	struct json_object *o = fuzz_request(&req, create, sizeof(create) - 1,
					     1),
			   *i, *t;
	int ok = req.status == 201 && json_object_object_get_ex(o, "id", &i) &&
		 json_object_object_get_ex(o, "token", &t);

	if (ok) {
		snprintf(id, idlen, "%s", json_object_get_string(i));
		snprintf(token, toklen, "%s", json_object_get_string(t));
	}
	json_object_put(o);
	return ok ? 0 : -1;
}

/* The first item's id in answer o of a 2xx, when it lists items. */
static void
first_item(struct json_object *o, char *item, size_t len)
{
	struct json_object *items;

	if (req.status > 299 ||
	    !json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0)
		return;
	snprintf(item, len, "%s",
		 json_object_get_string(json_object_object_get(
		     json_object_array_get_idx(items, 0), "id")));
}

/* text[0..n) with @ID@, @TOKEN@ and @ITEM@ replaced, in out. */
static void
substitute(const char *text, size_t n, const char *const subst[3][2],
	   struct buf *out)
{
	size_t i = 0, k, len;

	buf_reset(out);
	while (i < n) {
		for (k = 0; k < 3; k++) {
			len = strlen(subst[k][0]);
			if (n - i >= len &&
			    memcmp(text + i, subst[k][0], len) == 0)
				break;
		}
		if (k < 3) {
			buf_puts(out, subst[k][1]);
			i += len;
		} else {
			buf_append(out, text + i, 1);
			i++;
		}
	}
}

static void
check_cart(const char *id, const char *token, struct buf *text)
{
	static const char oversold[] =
	    "SELECT COUNT(*) FROM variant_stock WHERE on_hold > on_hand";
	int64_t n = -1;

	buf_reset(text);
	buf_printf(text,
		   "REQUEST_METHOD=GET\nDOCUMENT_URI=/api/orders/%s\n"
		   "HTTP_X_CART_TOKEN=%s\n\n",
		   id, token);
	json_object_put(fuzz_request(&req, text->data, text->len, 1));
	if (req.status != 200 && req.status < 500) {
		fprintf(stderr, "the cart is gone: %d %s\n", req.status,
			req.out.data);
		abort();
	}
	if (db_query(req.db, oversold, NULL, 0, db_row_int, &n) == ERR_OK &&
	    n != 0) {
		fprintf(stderr, "%lld variants hold more than they have\n",
			(long long)n);
		abort();
	}
	db_idle(req.db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *next;
	char id[32], token[160], item[32] = "0";
	const char *const subst[3][2] = {
	    {"@ID@", id}, {"@TOKEN@", token}, {"@ITEM@", item}};
	struct json_object *answer;
	struct buf text = {0};
	int k;

	/* No input decides this: a failure is the stack's, and replaying
	 * on a stack that is down must not pass. */
	if (new_cart(id, sizeof(id), token, sizeof(token)) != 0) {
		fprintf(stderr, "walk: no cart (POST /api/carts answered %d)\n",
			req.status);
		exit(1);
	}
	for (k = 0; k < MAX_REQUEST && p < end; k++) {
		next = memmem(p, (size_t)(end - p), SEPARATOR,
			      sizeof(SEPARATOR) - 1);
		if (next == NULL)
			next = end;
		substitute(p, (size_t)(next - p), subst, &text);
		answer = fuzz_request(&req, text.data != NULL ? text.data : "",
				      text.len, 1);
		first_item(answer, item, sizeof(item));
		json_object_put(answer);
		p = next == end ? end : next + sizeof(SEPARATOR) - 1;
	}
	check_cart(id, token, &text);
	buf_free(&text);
	return 0;
}
