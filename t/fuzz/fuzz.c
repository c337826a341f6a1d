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
must_equal(const char *what, int64_t got, int64_t want)
{
	if (got == want)
		return;
	fprintf(stderr, "%s: %lld, expected %lld\n", what, (long long)got,
		(long long)want);
	abort();
}

/* What a list of adjustments adds up to. */
struct sums {
	int64_t charged; /* The non-neutral ones. */
	int64_t tax, promotion;
};

static void
add_adjustments(struct json_object *list, struct sums *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *a = json_object_array_get_idx(list, i);
		const char *type =
		    json_object_get_string(json_object_object_get(a, "type"));
		int64_t amount =
		    json_object_get_int64(json_object_object_get(a, "amount"));

		if (!json_object_get_boolean(
			json_object_object_get(a, "neutral")))
			s->charged += amount;
		if (type == NULL)
			continue;
		if (strcmp(type, "tax") == 0)
			s->tax += amount;
		else if (strcmp(type, "order_promotion") == 0 ||
			 strcmp(type, "shipping_promotion") == 0)
			s->promotion += amount;
	}
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
	struct sums order = {0}, all = {0};
	int found = 1;
	int64_t t = member(o, "total", &found),
		it = member(o, "items_total", &found),
		at = member(o, "adjustments_total", &found), sum = 0, v;
	size_t i;

	if (!found)
		return;
	must_equal("total", t, at_least_0(it + at));
	if (!json_object_is_type(items, json_type_array) ||
	    !json_object_is_type(adj, json_type_array))
		return;
	add_adjustments(adj, &order);
	all = order;
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *item = json_object_array_get_idx(items, i);
		struct sums s = {0};
		int64_t q = member(item, "quantity", &found),
			price = member(item, "unit_price", &found),
			total = member(item, "total", &found),
			iat = member(item, "adjustments_total", &found);

		if (!found)
			return;
		add_adjustments(json_object_object_get(item, "adjustments"),
				&s);
		must_equal("an item's adjustments_total", iat, s.charged);
		must_equal("an item's total", total,
			   at_least_0(q * price + s.charged));
		sum += total;
		all.tax += s.tax;
		all.promotion += s.promotion;
	}
	must_equal("items_total", it, sum);
	must_equal("adjustments_total", at, order.charged);
	v = member(o, "tax_total", &found);
	if (found)
		must_equal("tax_total", v, all.tax);
	v = member(o, "promotion_total", &found);
	if (found)
		must_equal("promotion_total", v, all.promotion);
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

/* Checks req's answer; its JSON body parsed (the caller's), else NULL. */
static struct json_object *
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
	if (req->content_type == NULL ||
	    strstr(req->content_type, "json") == NULL || req->out.len == 0)
		return NULL;
	o = json_tokener_parse(body);
	if (o == NULL) {
		fprintf(stderr, "not JSON: %s\n", body);
		abort();
	}
	check_totals(o);
	return o;
}

struct json_object *
fuzz_request(struct request *req, const char *text, size_t size,
	     int dependency_5xx)
{
	char *env[MAX_PARAMS + 1], *store = malloc(size + 1);
	struct memio m;
	struct http_io io = {memio_read, &m};
	struct json_object *answer;
	size_t body;

	if (store == NULL)
		abort();
	body = split(text, size, env, store);
	m = (struct memio){text + body, size - body, 0};
	http_request_reset(req);
	http_handle(req, env, &io);
	if (http_serialize(req, &wire) != 0)
		abort();
	answer = check_answer(req, dependency_5xx);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%d %.*s\n", req->status,
			(int)(req->out.len < 160 ? req->out.len : 160),
			req->out.data != NULL ? req->out.data : "");
	log_flush();
	free(store);
	return answer;
}
