#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "config.h"
#include "idem.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "routes.h"

static char cors_origins[2048];
static long long max_body = 65536;

void
http_init(void)
{
	snprintf(cors_origins, sizeof(cors_origins), "%s",
		 config_str("cors.origins"));
	max_body = config_int("server.max_body");
	idem_init();
}

const char *
req_env(const struct request *req, const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = req->envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

int
req_admin(const struct request *req)
{
	const char *token = config_str("admin.token");
	const char *auth = req_env(req, "HTTP_AUTHORIZATION");
	size_t n = strlen(token);

	if (n == 0 || auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    strlen(auth + 7) != n)
		return 0;
	return ct_compare(auth + 7, token, n) == 0;
}

int
req_local(const struct request *req)
{
	const char *a = req_env(req, "REMOTE_ADDR");

	if (req->via_cgi || a == NULL)
		return 0;
	return strcmp(a, "::1") == 0 || strncmp(a, "127.", 4) == 0 ||
	       strncmp(a, "::ffff:127.", 11) == 0;
}

const char *
req_param(const struct request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->match.nparams; i++)
		if (strcmp(req->match.params[i].name, name) == 0)
			return req->match.params[i].value;
	return NULL;
}

enum err
req_query(struct request *req, struct json_object **out)
{
	const char *q = req->query != NULL ? req->query : "", *why;
	size_t off;
	enum err e;

	if (req->query_json == NULL) {
		e = body_decode_form(q, strlen(q), &req->query_json, &off,
				     &why);
		if (e != ERR_OK)
			return e;
	}
	*out = req->query_json;
	return ERR_OK;
}

void
res_header(struct request *req, const char *name, const char *value)
{
	buf_printf(&req->headers, "%s: %s\r\n", name, value);
}

void
res_answered(struct request *req)
{
	req->answer_attempt =
	    req->db != NULL && req->db->in_tx ? req->db->attempts : 0;
}

void
res_text(struct request *req, int status, const char *text)
{
	res_answered(req);
	req->status = status;
	req->content_type = "text/plain; charset=utf-8";
	buf_reset(&req->out);
	buf_puts(&req->out, text);
}

static void
put_json(struct buf *b, struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	buf_reset(b);
	buf_append(b, s, len);
}

void
res_json(struct request *req, int status, struct json_object *o)
{
	res_answered(req);
	req->status = status;
	req->content_type = "application/json";
	if (o == NULL) {
		res_problem(req, ERR_NOMEM, NULL, NULL);
		return;
	}
	put_json(&req->out, o);
	json_object_put(o);
}

void
res_problem(struct request *req, enum err e, const char *detail,
	    struct json_object *extra)
{
	struct json_object *o = json_object_new_object();
	char type[96];

	snprintf(type, sizeof(type), "urn:checkoutd:problem:%s", err_code(e));
	res_answered(req);
	req->status = err_status(e);
	req->problem = e;
	req->content_type = "application/problem+json";
	if (o == NULL) {
		json_object_put(extra);
		buf_reset(&req->out);
		buf_puts(&req->out, "{\"code\":\"internal_error\"}");
		return;
	}
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "title",
			       json_object_new_string(err_title(e)));
	json_object_object_add(o, "status", json_object_new_int(req->status));
	json_object_object_add(
	    o, "detail",
	    json_object_new_string(detail != NULL ? detail : err_title(e)));
	json_object_object_add(o, "code", json_object_new_string(err_code(e)));
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(o, k, json_object_get(v));
		}
		json_object_put(extra);
	}
	put_json(&req->out, o);
	json_object_put(o);
	if (e == ERR_BUSY || e == ERR_DATABASE_UNAVAILABLE ||
	    e == ERR_DB_RETRY || e == ERR_TX_AGAIN)
		res_header(req, "Retry-After", "1");
}

/* A client's X-Request-Id is kept when it is short and plain. */
static int
request_id_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':'))
			return 0;
	}
	return n >= 1 && n <= 128;
}

/* The Origin header when cors.origins lists it (or holds "*"). */
static const char *
allowed_origin(const char *origin)
{
	const char *p = cors_origins;
	size_t olen;

	if (origin == NULL || *origin == '\0' || *p == '\0')
		return NULL;
	olen = strlen(origin);
	while (*p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		if (len == 1 && *p == '*')
			return origin;
		if (len == olen && strncmp(p, origin, len) == 0)
			return origin;
		p += len;
	}
	return NULL;
}

/* PATH_INFO (CGI, Apache), else nginx's DOCUMENT_URI, else REQUEST_URI
 * without its query string. */
static const char *
request_path(struct request *req)
{
	const char *p = req_env(req, "PATH_INFO");
	size_t n;

	if (p != NULL && *p != '\0')
		return p;
	p = req_env(req, "DOCUMENT_URI");
	if (p != NULL && *p != '\0')
		return p;
	p = req_env(req, "REQUEST_URI");
	if (p == NULL)
		return NULL;
	n = strcspn(p, "?#");
	if (n >= sizeof(req->path_buf))
		return NULL; /* Answered 404. */
	memcpy(req->path_buf, p, n);
	req->path_buf[n] = '\0';
	return req->path_buf;
}

/* Reads the body into req->body, or answers 413 without reading it. */
static enum err
read_body(struct request *req, const struct http_io *io)
{
	const char *cl = req_env(req, "CONTENT_LENGTH");
	int64_t len = 0, got = 0;
	char chunk[8192];

	if (cl != NULL && *cl != '\0' && (parse_i64(cl, &len) != 0 || len < 0))
		return ERR_MALFORMED_BODY;
	if (len > max_body) {
		req->body_unread = 1;
		return ERR_PAYLOAD_TOO_LARGE;
	}
	while (got < len) {
		int want = (int)(len - got < (int64_t)sizeof(chunk)
				     ? len - got
				     : (int64_t)sizeof(chunk));
		int n = io->read(io->ctx, chunk, want);

		if (n <= 0)
			break;
		if (buf_append(&req->body, chunk, (size_t)n) != 0)
			return ERR_NOMEM;
		got += n;
	}
	if (got < len) {
		req->body_unread = 1;
		return ERR_MALFORMED_BODY;
	}
	return ERR_OK;
}

static void
cors_headers(struct request *req)
{
	if (req->origin == NULL)
		return;
	res_header(req, "Access-Control-Allow-Origin", req->origin);
	res_header(req, "Access-Control-Expose-Headers",
		   "Retry-After, X-Request-Id");
	res_header(req, "Vary", "Origin");
}

static void
answer_options(struct request *req, unsigned allow)
{
	char methods[128];

	router_allow_header(allow | (1u << M_OPTIONS), methods,
			    sizeof(methods));
	req->status = 204;
	req->content_type = NULL;
	res_header(req, "Allow", methods);
	if (req->origin != NULL) {
		res_header(req, "Access-Control-Allow-Methods", methods);
		res_header(req, "Access-Control-Allow-Headers",
			   "Content-Type, X-Cart-Token, Idempotency-Key, "
			   "Authorization");
		res_header(req, "Access-Control-Max-Age", "600");
	}
}

/* Routes, decodes and runs the handler; returns the error to answer. */
#ifdef ENABLE_TEST_ROUTES
/*
 * Test builds only: with the header X-Test-Tx-Retry (or checkoutd started
 * with CHECKOUTD_TEST_TX_RETRY set), the first attempt of each of the
 * request's transactions fails after its work and any hook before it, just
 * before COMMIT, with ERR_DB_RETRY (what a deadlock gives): it rolls back
 * and db_tx runs it again, as a real deadlock would make it. So the tests
 * reach every retry path, db_tx_out's rewind of the pool among them. A
 * header's value of more than 1 is a pause in milliseconds before that
 * failure (the attempt's transaction still open), in which a test changes
 * what the next attempt meets.
 */
static enum err
tx_fault(struct db *db, void *arg)
{
	struct request *req = arg;
	const char *h = req_env(req, "HTTP_X_TEST_TX_RETRY");
	enum err e = req->tx_fault_next != NULL
			 ? req->tx_fault_next(db, req->tx_fault_next_arg)
			 : ERR_OK;

	/* The commit this attempt would make: failed once, it passes. */
	if (e == ERR_OK && req->tx_fault_at != db->commits + 1) {
		long ms = h != NULL ? strtol(h, NULL, 10) : 0;

		if (ms > 1 && ms <= 10000) {
			struct timespec ts = {ms / 1000,
					      (ms % 1000) * 1000000L};

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		req->tx_fault_at = db->commits + 1;
		return ERR_DB_RETRY;
	}
	return e;
}

static void
tx_fault_begin(struct request *req)
{
	const char *h = req_env(req, "HTTP_X_TEST_TX_RETRY");
	const char *env = getenv("CHECKOUTD_TEST_TX_RETRY");

	req->tx_fault = req->db != NULL && (h != NULL || (env != NULL && *env));
	if (!req->tx_fault)
		return;
	req->tx_fault_at = 0;
	req->tx_fault_next = req->db->precommit;
	req->tx_fault_next_arg = req->db->precommit_arg;
	req->db->precommit = tx_fault;
	req->db->precommit_arg = req;
}

/*
 * Test builds only: with the header X-Test-Answer-Lost, a request whose
 * handler succeeded answers 503 database_unavailable instead, its work
 * kept: what a client sees when the connection dies during the last
 * COMMIT and the COMMIT went through (a Galera node killed as it
 * replicated the writeset). Handlers that store their answer in the
 * transaction have it stored; the others' key is released (idem_end).
 */
static enum err
answer_lost(struct request *req, enum err e)
{
	if (e != ERR_OK || req->status >= 300 ||
	    req_env(req, "HTTP_X_TEST_ANSWER_LOST") == NULL)
		return e;
	buf_reset(&req->headers);
	return ERR_DATABASE_UNAVAILABLE;
}
#endif

static enum err
dispatch(struct request *req, const struct http_io *io, const char **detail,
	 char *detail_buf, size_t detail_len)
{
	enum route_result rr;
	const char *why = NULL;
	size_t offset = 0;
	enum err e;

	if (req->path == NULL || req->path[0] != '/')
		return ERR_NOT_FOUND;
	rr = router_match(routes, nroutes, req->method, req->path, &req->match);
	if (rr == ROUTE_NOT_FOUND)
		return ERR_NOT_FOUND;
	if (req->method == M_OPTIONS) {
		/* The route table never lists OPTIONS itself. */
		answer_options(req, req->match.allow);
		return ERR_OK;
	}
	if (rr == ROUTE_METHOD_NOT_ALLOWED) {
		char allow[128];

		router_allow_header(req->match.allow, allow, sizeof(allow));
		res_header(req, "Allow", allow);
		return ERR_METHOD_NOT_ALLOWED;
	}
	/* (No database at all: the request layer's unit tests.) */
	if (!(req->match.route->flags & ROUTE_ANY_SCHEMA) && req->db != NULL &&
	    (e = migrate_gate(req->db)) != ERR_OK) {
		if (e == ERR_MIGRATIONS_PENDING)
			*detail = "the database lacks migrations: run "
				  "checkoutctl migrate";
		return e;
	}
	e = read_body(req, io);
	if (e == ERR_PAYLOAD_TOO_LARGE) {
		snprintf(detail_buf, detail_len,
			 "the body exceeds the limit of %lld bytes", max_body);
		*detail = detail_buf;
	}
	if (e != ERR_OK)
		return e;
	if (req->match.route->flags & ROUTE_RAW_BODY) {
		/* The seeds' dialects and the webhooks read their own body;
		 * a key is scoped by the credential in it (idem.c). */
		req->json = json_object_new_object();
		e = req->json != NULL ? ERR_OK : ERR_NOMEM;
	} else {
		e = body_decode(req_env(req, "CONTENT_TYPE"), req->body.data,
				req->body.len, &req->json, &offset, &why);
	}
	if (e == ERR_MALFORMED_BODY) {
		snprintf(detail_buf, detail_len, "%s at byte offset %zu", why,
			 offset);
		*detail = detail_buf;
	} else if (e == ERR_UNSUPPORTED_MEDIA_TYPE) {
		*detail = "send application/json or "
			  "application/x-www-form-urlencoded";
	}
	if (e != ERR_OK)
		return e;
	if (idem_begin(req))
		return ERR_OK; /* Answered: a replay, or a refusal. */
#ifdef ENABLE_TEST_ROUTES
	tx_fault_begin(req);
	return answer_lost(req, req->match.route->handler(req));
#else
	return req->match.route->handler(req);
#endif
}

void
http_handle(struct request *req, char **envp, const struct http_io *io)
{
	char detail_buf[160];
	const char *detail = NULL, *rid, *method;
	struct timespec end;
	enum err e;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &req->start);
	req->envp = envp;
	method = req_env(req, "REQUEST_METHOD");
	req->method = method_parse(method);
	req->path = request_path(req);
	req->query = req_env(req, "QUERY_STRING");
	req->origin = allowed_origin(req_env(req, "HTTP_ORIGIN"));
	rid = req_env(req, "HTTP_X_REQUEST_ID");
	if (request_id_ok(rid))
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	else if (random_hex(req->request_id, 16) != 0)
		snprintf(req->request_id, sizeof(req->request_id), "none");
	req->status = 0;
	req->problem = ERR_OK;

	e = dispatch(req, io, &detail, detail_buf, sizeof(detail_buf));
	if (e != ERR_OK) {
		buf_reset(&req->out);
		res_problem(req, e, detail, NULL);
	}
	if (req->status == 0)
		res_problem(req, ERR_INTERNAL, "no response", NULL);
	if (req->out.failed || req->headers.failed || req->pool.failed) {
		buf_reset(&req->out);
		buf_reset(&req->headers);
		res_problem(req, ERR_NOMEM, NULL, NULL);
	}
	if (req->db != NULL)
		idem_end(req);
	res_header(req, "X-Request-Id", req->request_id);
	cors_headers(req);

	clock_gettime(CLOCK_MONOTONIC, &end);
	us = (int64_t)(end.tv_sec - req->start.tv_sec) * 1000000 +
	     (end.tv_nsec - req->start.tv_nsec) / 1000;
	metrics_request(
	    req->match.route != NULL ? (int)(req->match.route - routes) : -1,
	    req->status, us);
	log_access(req->request_id, method != NULL ? method : "-",
		   req->path != NULL ? req->path : "-", req->status, us);
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return status < 500 ? "Client Error" : "Server Error";
	}
}

int
http_serialize(const struct request *req, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "Status: %d %s\r\n", req->status,
		   status_reason(req->status));
	if (req->content_type != NULL)
		buf_printf(out, "Content-Type: %s\r\n", req->content_type);
	if (req->status != 204)
		buf_printf(out, "Content-Length: %zu\r\n", req->out.len);
	if (req->headers.len > 0)
		buf_append(out, req->headers.data, req->headers.len);
	buf_puts(out, "\r\n");
	if (req->status != 204 && req->out.len > 0 && req->method != M_HEAD)
		buf_append(out, req->out.data, req->out.len);
	return out->failed ? -1 : 0;
}

void
http_request_reset(struct request *req)
{
	json_object_put(req->json);
	req->json = NULL;
	json_object_put(req->query_json);
	req->query_json = NULL;
	pool_release(&req->pool);
	verr_free(&req->verr);
	buf_reset(&req->body);
	buf_reset(&req->headers);
	buf_reset(&req->out);
	req->envp = NULL;
	req->path = req->query = req->origin = NULL;
	req->content_type = NULL;
	req->status = 0;
	req->body_unread = 0;
	memset(&req->match, 0, sizeof(req->match));
}

void
http_request_free(struct request *req)
{
	http_request_reset(req);
	pool_free(&req->pool);
	buf_free(&req->body);
	buf_free(&req->headers);
	buf_free(&req->out);
}

int
verr_answer(struct request *req, struct verr *v)
{
	struct json_object *extra;

	if (v->errors == NULL)
		return 0;
	extra = json_object_new_object();
	json_object_object_add(extra, "errors", v->errors);
	v->errors = NULL;
	res_problem(req, ERR_VALIDATION_FAILED, "some fields are invalid",
		    extra);
	return 1;
}
