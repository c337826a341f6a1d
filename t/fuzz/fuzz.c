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

/* total = items_total + adjustments_total wherever the three are. */
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
	{
		int found = 1;
		int64_t t = member(o, "total", &found),
			it = member(o, "items_total", &found),
			at = member(o, "adjustments_total", &found);

		if (found && t != it + at) {
			fprintf(stderr, "total %lld != %lld + %lld\n",
				(long long)t, (long long)it, (long long)at);
			abort();
		}
	}
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
