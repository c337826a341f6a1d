/* What the request-level fuzz targets share (fuzz.h). */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "../memio.h"

#define MAX_PARAMS 32

static struct db db;
static struct buf wire;

void
fuzz_init(const char *config_path, struct request *req)
{
	char err[128];
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0)
		log_set_fd(fd);
	if (config_load(config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
	http_init();
	if (db_library_init() != 0 || curl_global_init(CURL_GLOBAL_ALL) != 0)
		abort();
	req->db = &db;
	req->curl = curl_easy_init();
}

/* Splits text into params (NUL-terminated in store) and the body; returns
 * the body's offset. */
static size_t
split(const char *text, size_t size, char **env, char *store)
{
	size_t i, n = 0, start = 0;

	memcpy(store, text, size);
	store[size] = '\0';
	for (i = 0; i < size; i++) {
		if (store[i] != '\n')
			continue;
		if (i == start) { /* The empty line: the body follows. */
			env[n] = NULL;
			return i + 1;
		}
		store[i] = '\0';
		if (n < MAX_PARAMS)
			env[n++] = store + start;
		start = i + 1;
	}
	/* No empty line: all params, no body. */
	if (start < size && n < MAX_PARAMS)
		env[n++] = store + start;
	env[n] = NULL;
	return size;
}

static int64_t
member(struct json_object *o, const char *key, int *found)
{
	struct json_object *v = json_object_object_get(o, key);

	if (!json_object_is_type(v, json_type_int)) {
		*found = 0;
		return 0;
	}
	return json_object_get_int64(v);
}

static void
totals_fail(const char *what, int64_t got, int64_t want)
{
	fprintf(stderr, "%s: %lld, expected %lld\n", what, (long long)got,
		(long long)want);
	abort();
}

/* The sum of the amounts of adjustments list: the non-neutral ones (type
 * NULL), or those of the given type (neutral or not). */
static int64_t
adjustments_sum(struct json_object *list, const char *type)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *a = json_object_array_get_idx(list, i);
		const char *t =
		    json_object_get_string(json_object_object_get(a, "type"));

		if (type == NULL ? !json_object_get_boolean(
				       json_object_object_get(a, "neutral"))
				 : t != NULL && strcmp(t, type) == 0)
			sum += json_object_get_int64(
			    json_object_object_get(a, "amount"));
	}
	return sum;
}

static int64_t
at_least_0(int64_t v)
{
	return v < 0 ? 0 : v;
}

/*
 * The totals of SPEC 1 in a snapshot (an object with items_total,
 * adjustments_total and total): total = items_total + adjustments_total,
 * never below 0; with its items and adjustments listed, each item's total
 * is quantity x unit_price plus its non-neutral adjustments (never below
 * 0), items_total their sum, adjustments_total the sum of the order's
 * non-neutral adjustments, tax_total and promotion_total the sums of the
 * adjustments of those types on both levels.
 */
static void
check_snapshot(struct json_object *o)
{
	struct json_object *items = json_object_object_get(o, "items"),
			   *adj = json_object_object_get(o, "adjustments");
	int found = 1;
	int64_t t = member(o, "total", &found),
		it = member(o, "items_total", &found),
		at = member(o, "adjustments_total", &found), sum = 0, tax,
		promo;
	size_t i;

	if (!found)
		return;
	if (t != at_least_0(it + at))
		totals_fail("total", t, at_least_0(it + at));
	if (!json_object_is_type(items, json_type_array) ||
	    !json_object_is_type(adj, json_type_array))
		return;
	tax = adjustments_sum(adj, "tax");
	promo = adjustments_sum(adj, "shipping_promotion") +
		adjustments_sum(adj, "order_promotion");
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *item = json_object_array_get_idx(items, i),
				   *ia = json_object_object_get(item,
								"adjustments");
		int64_t q = member(item, "quantity", &found),
			price = member(item, "unit_price", &found),
			total = member(item, "total", &found),
			iat = adjustments_sum(ia, NULL);

		if (!found)
			return;
		if (member(item, "adjustments_total", &found) != iat)
			totals_fail("an item's adjustments_total",
				    member(item, "adjustments_total", &found),
				    iat);
		if (total != at_least_0(q * price + iat))
			totals_fail("an item's total", total,
				    at_least_0(q * price + iat));
		sum += total;
		tax += adjustments_sum(ia, "tax");
		promo += adjustments_sum(ia, "order_promotion");
	}
	if (it != sum)
		totals_fail("items_total", it, sum);
	if (at != adjustments_sum(adj, NULL))
		totals_fail("adjustments_total", at,
			    adjustments_sum(adj, NULL));
	if (member(o, "tax_total", &found) != tax && found)
		totals_fail("tax_total", member(o, "tax_total", &found), tax);
	if (member(o, "promotion_total", &found) != promo && found)
		totals_fail("promotion_total",
			    member(o, "promotion_total", &found), promo);
}

/* check_snapshot on every object in o, o included. */
static void
check_totals(struct json_object *o)
{
	size_t i;

	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			check_totals(json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	check_snapshot(o);
	json_object_object_foreach(o, key, v)
	{
		(void)key;
		check_totals(v);
	}
}

static void
check_answer(const struct request *req, int dependency_5xx)
{
	struct json_object *o;
	const char *body = req->out.data != NULL ? req->out.data : "";

	if (req->status < 200 || req->status > 599 || req->status == 500 ||
	    (req->status > 500 && !dependency_5xx &&
	     !(req->status == 503 &&
	       strstr(body, "database_unavailable") != NULL))) {
		fprintf(stderr, "status %d: %.*s\n", req->status,
			(int)req->out.len, body);
		abort();
	}
	if (req->content_type != NULL &&
	    strstr(req->content_type, "json") != NULL && req->out.len > 0) {
		o = json_tokener_parse(body);
		if (o == NULL) {
			fprintf(stderr, "not JSON: %s\n", body);
			abort();
		}
		check_totals(o);
		json_object_put(o);
	}
}

void
fuzz_request(struct request *req, const char *text, size_t size,
	     int dependency_5xx)
{
	char *env[MAX_PARAMS + 1], *store = malloc(size + 1);
	struct memio m;
	struct http_io io = {memio_read, &m};
	size_t body;

	if (store == NULL)
		return;
	body = split(text, size, env, store);
	m = (struct memio){text + body, size - body, 0};
	http_request_reset(req);
	http_handle(req, env, &io);
	if (http_serialize(req, &wire) != 0)
		abort();
	check_answer(req, dependency_5xx);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%d %.*s\n", req->status,
			(int)(req->out.len < 160 ? req->out.len : 160),
			req->out.data != NULL ? req->out.data : "");
	log_flush();
	free(store);
}
