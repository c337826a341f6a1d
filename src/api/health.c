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

/* The server in use: its host and, on Galera, its wsrep state. */
static struct json_object *
node_json(const struct db_node *n)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "host", json_object_new_string(n->host));
	json_object_object_add(o, "wsrep", json_object_new_boolean(n->wsrep));
	if (n->wsrep) {
		json_object_object_add(o, "wsrep_ready",
				       json_object_new_boolean(n->ready));
		json_object_object_add(o, "wsrep_local_state_comment",
				       json_object_new_string(n->state));
	}
	return o;
}

enum err
api_ready(struct request *req)
{
	struct json_object *o;
	struct db_node node;
	size_t pending = 0;
	enum err e;

	e = migrate_ready(req->db, &pending, &node);
	if (e != ERR_OK)
		return ERR_DATABASE_UNAVAILABLE;
	if (!node.ready) {
		/* A Galera node that left the primary component since the
		 * connection was made: its next statement moves on. */
		o = json_object_new_object();
		json_object_object_add(o, "database", node_json(&node));
		res_problem(req, ERR_DATABASE_UNAVAILABLE,
			    "the database node is not in the primary "
			    "component",
			    o);
		return ERR_OK;
	}
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
	json_object_object_add(o, "database", node_json(&node));
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
