/*
 * Test-only endpoints, compiled with --enable-test-routes and absent from a
 * normal build.
 */
#ifdef ENABLE_TEST_ROUTES
#include "api/api.h"

#include <string.h>
#include <time.h>

#include "body.h"

enum err
api_test_sleep(struct request *req)
{
	const char *why = NULL;
	struct json_object *q = NULL, *ms;
	struct timespec ts;
	size_t off;
	int64_t v = 0;
	enum err e;

	e = body_decode_form(req->query != NULL ? req->query : "",
			     req->query != NULL ? strlen(req->query) : 0, &q,
			     &off, &why);
	if (e != ERR_OK)
		return e;
	q = pool_keep(&req->pool, q);
	ms = json_object_object_get(q, "ms");
	if (ms != NULL && parse_i64(json_object_get_string(ms), &v) != 0)
		v = -1;
	if (v < 0 || v > 60000) {
		res_problem(req, ERR_VALIDATION_FAILED, "ms must be 0..60000",
			    NULL);
		return ERR_OK;
	}
	ts.tv_sec = v / 1000;
	ts.tv_nsec = (v % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0)
		;
	res_text(req, 200, "slept");
	return ERR_OK;
}

enum err
api_test_echo(struct request *req)
{
	struct json_object *o = json_object_new_object();
	const char *id = req_param(req, "id");

	json_object_object_add(o, "body", json_object_get(req->json));
	if (id != NULL)
		json_object_object_add(o, "id", json_object_new_string(id));
	res_json(req, 200, o);
	return ERR_OK;
}
#endif
