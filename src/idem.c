#include "idem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "secret.h"
#include "str.h"

void
idem_init(void)
{
	secret_init();
}

static int
storable(int status)
{
	return status != 0 && status != 401 && status != 409 && status != 429 &&
	       status < 500;
}

static const char sql_claim[] =
    "SELECT request_hmac, status IS NOT NULL, created_at < "
    "UTC_TIMESTAMP(3) - INTERVAL 60 SECOND, expires_at < UTC_TIMESTAMP(), "
    "owner_server, owner_boot, owner_conn, CAST(FLOOR(UNIX_TIMESTAMP("
    "created_at)) AS SIGNED) FROM idempotency_keys WHERE scope_hash = ? "
    "FOR UPDATE";
static const char sql_insert[] =
    "INSERT IGNORE INTO idempotency_keys (request_hmac, owner_server, "
    "owner_boot, owner_conn, claim, scope_hash, expires_at) VALUES (?, ?, "
    "?, ?, ?, ?, UTC_TIMESTAMP() + INTERVAL 1 DAY)";
static const char sql_restart[] =
    "UPDATE idempotency_keys SET request_hmac = ?, status = NULL, "
    "response_headers = NULL, response_body = NULL, created_at = "
    "UTC_TIMESTAMP(3), expires_at = UTC_TIMESTAMP() + INTERVAL 1 DAY, "
    "owner_server = ?, owner_boot = ?, owner_conn = ?, claim = ? WHERE "
    "scope_hash = ?";
static const char sql_stored[] =
    "SELECT status, response_headers, response_body FROM "
    "idempotency_keys WHERE scope_hash = ?";
static const char sql_store[] =
    "UPDATE idempotency_keys SET status = ?, response_headers = ?, "
    "response_body = ? WHERE scope_hash = ? AND claim = ?";
static const char sql_drop[] =
    "DELETE FROM idempotency_keys WHERE scope_hash = ? AND status IS NULL "
    "AND claim = ?";
/* A marker whose request ended without an answer to keep (5xx): its
 * writer gives it up, as if its connection were gone (RELEASED). */
static const char sql_release[] =
    "UPDATE idempotency_keys SET owner_conn = 0 WHERE scope_hash = ? AND "
    "status IS NULL AND claim = ?";

/* The owner_conn of a released marker: no server gives a connection the
 * id 0. */
#define RELEASED 0

enum claim { CLAIM_RUN, CLAIM_REPLAY, CLAIM_IN_USE, CLAIM_REUSED };

struct row {
	int found, done, abandoned, expired;
	unsigned char hmac[32];
	struct db_identity owner; /* known: the marker names its writer. */
	int64_t made;		  /* when it was written (Unix seconds) */
	int released;		  /* its writer ended without an answer */
};

static enum err
claim_row(void *arg, const struct db_val *c, size_t n)
{
	struct row *r = arg;

	if (n != 8)
		return ERR_INTERNAL;
	r->found = 1;
	if (c[0].type == DB_STR && c[0].len == 32)
		memcpy(r->hmac, c[0].s, 32);
	r->done = c[1].i != 0;
	r->abandoned = c[2].i != 0;
	r->expired = c[3].i != 0;
	if (c[4].type == DB_STR && c[5].type == DB_I64 && c[6].type == DB_I64) {
		snprintf(r->owner.server, sizeof(r->owner.server), "%.*s",
			 (int)c[4].len, c[4].s);
		r->owner.boot = c[5].i;
		r->owner.conn_id = c[6].i;
		r->owner.known = 1;
		r->released = r->owner.conn_id == RELEASED;
	}
	r->made = c[7].type == DB_I64 ? c[7].i : 0;
	return ERR_OK;
}

struct claim_ctx {
	struct request *req;
	enum claim result;
};

static enum err
claim_tx(struct db *db, void *arg)
{
	struct claim_ctx *c = arg;
	struct request *r = c->req;
	struct db_val scope = DB_B((const char *)r->idem_scope, 32), p[6];
	const struct db_identity *me;
	struct row row = {0};
	uint64_t inserted = 0;
	int gone = 0;
	enum err e;

	r->idem_resumed = 0;
	if (getrandom(r->idem_claim, sizeof(r->idem_claim), 0) !=
	    (ssize_t)sizeof(r->idem_claim))
		return ERR_INTERNAL;
	e = db_query(db, sql_claim, &scope, 1, claim_row, &row);
	if (e != ERR_OK)
		return e;
	/* A marker whose writer's connection is gone: that request will
	 * never answer (its transaction, if any, rolled back with it). A
	 * released one: its request ended without an answer to keep
	 * (left_work); what it committed stays. */
	gone = row.released && !row.expired;
	if (row.found && !row.done && !row.abandoned && row.owner.known &&
	    !gone) {
		e = db_gone(db, &row.owner, row.made, &gone);
		if (e != ERR_OK)
			return e;
	}
	e = db_identity(db, &me);
	if (e != ERR_OK)
		return e;
	/* This request as the marker's writer: the INSERT's and the
	 * restart's parameters alike. */
	p[0] = DB_B((const char *)r->idem_hmac, 32);
	p[1] = DB_S(me->server);
	p[2] = DB_I(me->boot);
	p[3] = DB_I(me->conn_id);
	p[4] = DB_B((const char *)r->idem_claim, 16);
	p[5] = scope;
	if (!row.found) {
		e = db_exec(db, sql_insert, p, 6, &inserted);
		/* Another request inserted it a moment ago. */
		c->result = inserted == 1 ? CLAIM_RUN : CLAIM_IN_USE;
		return e;
	}
	if (row.expired || (!row.done && (row.abandoned || gone))) {
		/* The same request again, whose first try never answered. */
		r->idem_resumed = !row.done && (gone || !row.expired) &&
				  ct_compare(row.hmac, r->idem_hmac, 32) == 0;
		c->result = CLAIM_RUN;
		return db_exec(db, sql_restart, p, 6, NULL);
	}
	if (!row.done)
		c->result = CLAIM_IN_USE; /* Whatever it was, it still runs. */
	else if (ct_compare(row.hmac, r->idem_hmac, 32) != 0)
		c->result = CLAIM_REUSED;
	else
		c->result = CLAIM_REPLAY;
	return ERR_OK;
}

static enum err
replay_row(void *arg, const struct db_val *c, size_t n)
{
	struct request *r = arg;
	const char *h, *eol;

	if (n != 3 || c[0].type != DB_I64)
		return ERR_INTERNAL;
	r->status = (int)c[0].i;
	buf_reset(&r->out);
	if (c[2].type == DB_STR)
		buf_append(&r->out, c[2].s, c[2].len);
	buf_reset(&r->headers);
	r->content_type = NULL;
	/* The first line is the Content-Type; the rest are headers. */
	h = c[1].type == DB_STR ? c[1].s : "";
	eol = strstr(h, "\r\n");
	if (eol != NULL) {
		snprintf(r->idem_ctype, sizeof(r->idem_ctype), "%.*s",
			 (int)(eol - h), h);
		if (r->idem_ctype[0] != '\0')
			r->content_type = r->idem_ctype;
		buf_puts(&r->headers, eol + 2);
	}
	return ERR_OK;
}

/* Whether the answer is stored for good: written, and, when written as
 * the precommit hook, its transaction committed. An attempt that failed
 * after the hook (a deadlock or a Galera certification conflict at a later
 * statement or at COMMIT) rolled the answer back with the work, and
 * db_tx's retry must write it again. */
static int
stored(const struct request *r, const struct db *db)
{
	return r->idem_stored && db->commits >= r->idem_commit;
}

/* Writes the response as it stands (inside the work's transaction when
 * called as the precommit hook). */
static enum err
store(struct db *db, void *arg)
{
	struct request *r = arg;
	struct buf h = {0};
	struct db_val p[5];
	uint64_t matched = 0;
	enum err e;

	if (stored(r, db))
		return ERR_OK;
	/* A write of an attempt that rolled back, if any, is gone. */
	r->idem_stored = 0;
	/* As the precommit hook: only an answer this attempt rendered. One
	 * an earlier attempt left (rolled back after its answer, by a
	 * deadlock or a certification conflict at COMMIT) is not this
	 * attempt's outcome, which may be a refusal rendered after the
	 * transaction (a finalize that met a changed price: 409
	 * total_changed, its new totals committed); idem_end stores that. */
	if (!storable(r->status) ||
	    (db->in_tx && r->answer_attempt != db->attempts))
		return ERR_OK;
	buf_printf(&h, "%s\r\n", r->content_type ? r->content_type : "");
	if (r->headers.len > 0)
		buf_append(&h, r->headers.data, r->headers.len);
	p[0] = DB_I(r->status);
	p[1] = DB_B(h.data, h.len);
	p[2] = DB_B(r->out.data ? r->out.data : "", r->out.len);
	p[3] = DB_B((const char *)r->idem_scope, 32);
	p[4] = DB_B((const char *)r->idem_claim, 16);
	e = h.failed ? ERR_NOMEM : db_exec(db, sql_store, p, 5, &matched);
	/* Taken over meanwhile (this request's connection was replaced and
	 * a retry found the old one gone): the key is another request's now;
	 * the work this answer belongs to rolls back with it. */
	if (e == ERR_OK && matched == 0)
		e = ERR_IDEMPOTENCY_KEY_IN_USE;
	buf_free(&h);
	if (e == ERR_OK) {
		r->idem_stored = 1;
		r->idem_commit = db->in_tx ? db->commits + 1 : 0;
	}
	return e;
}

/* The raw body as a JSON object (a reference to put), or NULL. */
static struct json_object *
raw_json(struct request *req)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (req->body.len == 0 || req->body.len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, req->body.data, (int)req->body.len);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/*
 * Appends to in the credential a key is scoped to (SPEC, "Idempotency"):
 * the cart token or the Authorization header (an admin's, seed 001's
 * OAuth token), else, on the seeds' routes, their credential in the body
 * (seed 000's session_id, seed 002's userId or guestToken, seed 003's
 * checkoutSessionId), after its name. 0 when the request has none, and
 * for a webhook (its signature is no credential).
 */
static int
credential(struct request *req, struct buf *in)
{
	static const char *const header[] = {"HTTP_X_CART_TOKEN",
					     "HTTP_AUTHORIZATION"};
	static const char *const member[] = {"session_id", "userId",
					     "guestToken", "checkoutSessionId"};
	unsigned flags = req->match.route != NULL ? req->match.route->flags : 0;
	struct json_object *body, *v;
	const char *c;
	size_t i;
	int found = 0;

	if (flags & ROUTE_WEBHOOK)
		return 0;
	for (i = 0; i < sizeof(header) / sizeof(header[0]); i++) {
		c = req_env(req, header[i]);
		if (c != NULL && *c != '\0') {
			buf_append(in, c, strlen(c) + 1);
			return 1;
		}
	}
	/* The seeds' routes take their body raw (req->json empty); the
	 * canonical API's members are no credential. */
	if (!(flags & ROUTE_RAW_BODY))
		return 0;
	body = raw_json(req);
	for (i = 0; i < sizeof(member) / sizeof(member[0]) && !found; i++) {
		if (json_object_object_get_ex(body, member[i], &v) &&
		    json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > 0) {
			buf_append(in, member[i], strlen(member[i]) + 1);
			buf_append(in, json_object_get_string(v),
				   (size_t)json_object_get_string_len(v) + 1);
			found = 1;
		}
	}
	json_object_put(body);
	return found;
}

static int
key_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n < 1 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * Whether a request that ends without a stored answer may have left work
 * done or under way: a 5xx (part of it committed, or all of it with the
 * answer lost: the connection died during a COMMIT that went through),
 * or a payment still at the provider (409 payment_in_progress). Its
 * marker stays, released, and the same key's retry runs as that
 * request's resumption (idem_resumed): a purchase whose payment was
 * settled since answers with the paid order instead of refusing to pay
 * it again. Any other refusal did no work: its marker goes.
 */
static int
left_work(const struct request *req)
{
	return req->status >= 500 || req->problem == ERR_PAYMENT_IN_PROGRESS;
}

/* Drops or releases (sql) the marker, while it is this request's claim
 * and holds no answer. */
static void
give_up(struct request *req, const char *sql)
{
	struct db_val p[2];

	p[0] = DB_B((const char *)req->idem_scope, 32);
	p[1] = DB_B((const char *)req->idem_claim, 16);
	if (db_exec(req->db, sql, p, 2, NULL) != ERR_OK)
		log_warn("could not give up an idempotency marker");
}

int
idem_begin(struct request *req)
{
	const char *key = req_env(req, "HTTP_IDEMPOTENCY_KEY");
	const char *method = req_env(req, "REQUEST_METHOD");
	struct claim_ctx c = {req, CLAIM_RUN};
	struct buf in = {0};
	enum err e;

	req->idem_active = req->idem_stored = req->idem_resumed = 0;
	if (key == NULL || (req->method != M_POST && req->method != M_PUT &&
			    req->method != M_PATCH && req->method != M_DELETE))
		return 0;
	/* The scope: credential, method, path and key, each ended by NUL. */
	if (!credential(req, &in)) {
		buf_free(&in);
		return 0; /* A request without credential ignores the key. */
	}
	if (!key_ok(key)) {
		struct json_object *x = json_object_new_object(), *errs, *er;

		errs = json_object_new_array();
		er = json_object_new_object();
		json_object_object_add(
		    er, "field", json_object_new_string("Idempotency-Key"));
		json_object_object_add(
		    er, "message",
		    json_object_new_string("1 to 255 printable ASCII "
					   "characters"));
		json_object_array_add(errs, er);
		json_object_object_add(x, "errors", errs);
		res_problem(req, ERR_VALIDATION_FAILED, "bad Idempotency-Key",
			    x);
		buf_free(&in);
		return 1;
	}
	buf_append(&in, method, strlen(method) + 1);
	buf_append(&in, req->path, strlen(req->path) + 1);
	buf_append(&in, key, strlen(key) + 1);
	sha256(in.data, in.len, req->idem_scope);
	/* The request: method, path and the raw body, under the secret. */
	buf_reset(&in);
	buf_append(&in, method, strlen(method) + 1);
	buf_append(&in, req->path, strlen(req->path) + 1);
	buf_append(&in, req->body.data ? req->body.data : "", req->body.len);
	secret_hmac(in.data, in.len, req->idem_hmac);
	buf_free(&in);
	e = db_tx(req->db, claim_tx, &c);
	if (e != ERR_OK) {
		/* The claim's COMMIT may have gone through unanswered (its
		 * connection lost during it): a marker left so would be
		 * "still running" on another node for 60 s. */
		if (req->db->commit_unknown)
			give_up(req, sql_release);
		res_problem(req, e, NULL, NULL);
		return 1;
	}
	switch (c.result) {
	case CLAIM_RUN:
		req->idem_active = 1;
		req->db->precommit = store;
		req->db->precommit_arg = req;
		return 0;
	case CLAIM_REPLAY: {
		struct db_val p = DB_B((const char *)req->idem_scope, 32);

		e = db_query(req->db, sql_stored, &p, 1, replay_row, req);
		if (e != ERR_OK)
			res_problem(req, e, NULL, NULL);
		return 1;
	}
	case CLAIM_IN_USE:
		res_problem(req, ERR_IDEMPOTENCY_KEY_IN_USE,
			    "a request with this key is still running", NULL);
		return 1;
	default:
		res_problem(req, ERR_IDEMPOTENCY_KEY_REUSED,
			    "this key was used with another request", NULL);
		return 1;
	}
}

void
idem_end(struct request *req)
{
	req->db->precommit = NULL;
	req->db->precommit_arg = NULL;
	if (!req->idem_active || stored(req, req->db))
		return;
	req->idem_active = 0;
	if (storable(req->status)) {
		/* The work rolled back (a 4xx): nothing to keep atomic. */
		if (store(req->db, req) == ERR_OK)
			return;
	}
	give_up(req, left_work(req) ? sql_release : sql_drop);
}
