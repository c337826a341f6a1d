#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "metrics.h"
#include "migrate.h"

enum err
api_ping(struct request *req)
{
	res_text(req, 200, "pong");
	return ERR_OK;
}

enum err
api_ready(struct request *req)
{
	struct json_object *o;
	size_t pending = 0;
	enum err e;

	e = migrate_pending(req->db, &pending);
	if (e != ERR_OK)
		return ERR_DATABASE_UNAVAILABLE;
	if (pending > 0) {
		char detail[96];

		snprintf(detail, sizeof(detail),
			 "%zu migration(s) pending: run checkoutctl migrate",
			 pending);
		o = json_object_new_object();
		json_object_object_add(o, "pending_migrations",
				       json_object_new_int64((int64_t)pending));
		res_problem(req, ERR_DATABASE_UNAVAILABLE, detail, o);
		return ERR_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ready"));
	res_json(req, 200, o);
	return ERR_OK;
}

/* docs/openapi.yaml, made a string at build time (Makefile.am). */
extern const char openapi_yaml[];

enum err
api_openapi(struct request *req)
{
	req->status = 200;
	req->content_type = "application/yaml";
	buf_reset(&req->out);
	buf_append(&req->out, openapi_yaml, strlen(openapi_yaml));
	return ERR_OK;
}

enum err
api_metrics(struct request *req)
{
	/* Local callers through the socket (nginx's rule lets only those
	 * in), else the admin token: wherever nginx's rule is not. */
	if (!req_local(req) && !req_admin(req))
		return ERR_UNAUTHENTICATED;
	req->status = 200;
	req->content_type = "text/plain; version=0.0.4; charset=utf-8";
	buf_reset(&req->out);
	metrics_render(&req->out);
	return ERR_OK;
}
