/*
 * The request layer shared by every endpoint: CGI/FastCGI params -> struct
 * request, routing, body limits and decoding, CORS, request ids, problem+json
 * errors, the access log and metrics. The I/O (FastCGI stream or plain CGI
 * stdin/stdout) stays in the caller, behind struct http_io.
 */
#ifndef CHECKOUTD_HTTP_H
#define CHECKOUTD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "err.h"
#include "pool.h"
#include "router.h"
#include "valid.h"
#include "str.h"

struct db;

/* Where the body comes from: read up to n bytes, 0 at the end, -1 on error. */
struct http_io {
	int (*read)(void *ctx, char *p, int n);
	void *ctx;
};

struct request {
	/* Input. */
	char **envp; /* NAME=value params, NULL-terminated; not owned. */
	enum method method;
	const char *path;
	const char *query;
	char path_buf[2048]; /* REQUEST_URI without its query, when used. */
	struct buf body;
	struct json_object *json; /* Decoded body, owned; {} when empty. */
	struct json_object *query_json; /* Decoded query, owned; lazily. */
	struct route_match match;
	char request_id[129];
	const char *origin; /* Origin header when it is an allowed origin. */
	int body_unread; /* The body was not consumed (connection must close).
			  */
	struct db *db;	 /* This worker's database connection. */
	/* Idempotency (idem.c). */
	int idem_active, idem_stored;
	/* The commit (struct db's commits) the stored answer is part of:
	 * stored only once it is reached (a retried attempt stores again). */
	uint64_t idem_commit;
	/* A same-key retry of a request that never answered (its marker's
	 * writer is gone): its work may be done already. */
	int idem_resumed;
	unsigned char idem_claim[16]; /* This request's tag on its marker. */
	/* The transaction attempt (struct db's attempts) the answer was
	 * rendered in, 0 outside any: the precommit hook stores only an
	 * answer of its own attempt, never one a rolled back attempt left
	 * (res_answered). */
	uint64_t answer_attempt;
	unsigned char idem_scope[32], idem_hmac[32];
	char idem_ctype[128];
	/* Test builds (--enable-test-routes) only: each transaction of the
	 * request fails once after its work, as a deadlock would, and runs
	 * again (http.c, tx_fault); the hook it chains to (idem.c's). */
	int tx_fault;
	uint64_t tx_fault_at;
	enum err (*tx_fault_next)(struct db *db, void *arg);
	void *tx_fault_next_arg;
	void *curl; /* This worker's curl handle (CURL *). */
	/* What the request allocates, released by http_request_reset
	 * (src/pool.h): handlers hand it to the core, never free by hand. */
	struct pool pool;
	/* The request's field errors (verr_answer answers them), released
	 * with the request. */
	struct verr verr;
	int via_cgi; /* Answered as a plain CGI program, not over FastCGI. */
	struct timespec start;

	/* Output. */
	int status;
	enum err problem; /* The error res_problem answered, else ERR_OK. */
	const char *content_type;
	struct buf headers; /* Extra "Name: value\r\n" lines. */
	struct buf out;
};

/* Runs one request from params envp and body io; the response is in req. */
void http_handle(struct request *req, char **envp, const struct http_io *io);
/* Writes the whole CGI response (Status line, headers, body) into out. */
int http_serialize(const struct request *req, struct buf *out);
/* Releases what the last request allocated (its pool among it); keeps
 * buffers for reuse. */
void http_request_reset(struct request *req);
/* Frees everything (at thread exit). */
void http_request_free(struct request *req);

/* A param by its CGI name ("HTTP_X_CART_TOKEN", "CONTENT_TYPE"), or NULL. */
const char *req_env(const struct request *req, const char *name);
/*
 * The query string decoded like a form body (SPEC 2.1) into *out, owned by
 * req. ERR_MALFORMED_BODY when it is malformed (the caller answers 400).
 */
enum err req_query(struct request *req, struct json_object **out);
/* Whether the request carries `Authorization: Bearer <admin.token>`
 * (never when admin.token is empty); compared in constant time. */
int req_admin(const struct request *req);
/* Whether it came from the machine itself (REMOTE_ADDR 127.0.0.0/8 or
 * ::1) through the FastCGI socket, not as CGI. */
int req_local(const struct request *req);
/* A path capture by name ("id"), or NULL. */
const char *req_param(const struct request *req, const char *name);

/* Sets a text/plain response. */
void res_text(struct request *req, int status, const char *text);
/* Sets a JSON response; takes ownership of o. */
void res_json(struct request *req, int status, struct json_object *o);
/* Notes that req's answer was set now (answer_attempt): res_text,
 * res_json and res_problem call it; a handler that sets req->status and
 * req->out itself calls it too. */
void res_answered(struct request *req);
/* Adds a response header. */
void res_header(struct request *req, const char *name, const char *value);
/*
 * Sets a problem+json response for e with detail (may be NULL) and the
 * members of extra (may be NULL, ownership taken) merged in.
 */
void res_problem(struct request *req, enum err e, const char *detail,
		 struct json_object *extra);
/*
 * Answers 422 with the field errors collected in v when there are any
 * (taking them) and returns 1; returns 0 when there are none.
 */
int verr_answer(struct request *req, struct verr *v);

/* Configured CORS origins are read once; call after config_load. */
void http_init(void);

#endif
