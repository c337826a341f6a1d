/*
 * POST /api/admin/orders/{id}/mark-paid, /cancel, /refund {amount?},
 * /ship {tracking?} (SPEC 2.10), and the back office's reads GET
 * /api/admin/orders, /orders/{id}, /orders/{id}/events: each needs
 * `Authorization: Bearer <admin.token>` (401 without it); the shipped
 * nginx config also allows /api/admin/ only from the machine itself. The
 * operations are in src/lifecycle.c, the reads in src/backoffice.c.
 */
#include "api/api.h"

#include <string.h>

#include "backoffice.h"
#include "lifecycle.h"
#include "config.h"
#include "str.h"
#include "valid.h"

/* The order after an operation, answered inside its transaction (an
 * idempotent answer is stored with the work, idem.c). */
static void
answer_done(void *arg, struct json_object *snapshot)
{
	res_json(arg, 200, json_object_get(snapshot));
}

/* Answers an operation's refusal (ERR_OK: answered by answer_done). */
static enum err
answer(struct request *req, enum err e, const char *why)
{
	struct json_object *extra;

	if (e == ERR_OK)
		return ERR_OK;
	if (e == ERR_VALIDATION_FAILED && verr_answer(req, &req->verr))
		return ERR_OK;
	if (e == ERR_INVALID_TRANSITION) {
		extra = json_object_new_object();
		json_object_object_add(extra, "reason",
				       json_object_new_string(why ? why : ""));
		res_problem(req, e, "this operation is not allowed now", extra);
		return ERR_OK;
	}
	return e;
}

/* The order id of an authorized admin request, or 0 with the answer's
 * error in *e. */
static int64_t
target(struct request *req, enum err *e)
{
	int64_t id;

	*e = ERR_OK;
	if (!req_admin(req)) {
		*e = ERR_UNAUTHENTICATED;
		return 0;
	}
	id = api_path_id(req, "id");
	if (id == 0)
		*e = ERR_NOT_FOUND;
	return id;
}

/* The operations, each a four-line wrapper around operate(). */
enum admin_op { OP_MARK_PAID, OP_CANCEL, OP_REFUND, OP_SHIP };

/* Runs op on the order of an authorized admin request, with the body's
 * fields that op takes (refund: amount; ship: tracking; the others read
 * no body), and answers its outcome. */
static enum err
operate(struct request *req, enum admin_op op)
{
	static const char *const refund_keys[] = {"amount", NULL};
	static const char *const ship_keys[] = {"tracking", NULL};
	struct json_object *snap = NULL;
	struct verr *v = &req->verr;
	const char *why = NULL, *tracking = NULL;
	int64_t amount = 0;
	enum err e;
	int64_t id = target(req, &e);

	if (id == 0)
		return e;
	if (op == OP_REFUND) {
		valid_only_keys(req->json, refund_keys, v);
		valid_int(req->json, "amount", "amount", 1, INT64_MAX, 0,
			  &amount, v);
	} else if (op == OP_SHIP) {
		valid_only_keys(req->json, ship_keys, v);
		valid_str(req->json, "tracking", "tracking", 255, &tracking, v);
	}
	if (v->errors != NULL)
		e = ERR_VALIDATION_FAILED;
	else if (op == OP_MARK_PAID)
		e = lifecycle_mark_paid(req->db, &req->pool, id, &snap, &why,
					answer_done, req);
	else if (op == OP_CANCEL)
		e = lifecycle_cancel(req->db, &req->pool, req->curl, id, &snap,
				     &why, answer_done, req);
	else if (op == OP_REFUND)
		e = lifecycle_refund(req->db, &req->pool, req->curl, id, amount,
				     &snap, &why, v, answer_done, req);
	else
		e = lifecycle_ship(req->db, &req->pool, id, tracking, &snap,
				   &why, answer_done, req);
	return answer(req, e, why);
}

enum err
api_admin_mark_paid(struct request *req)
{
	return operate(req, OP_MARK_PAID);
}

enum err
api_admin_cancel(struct request *req)
{
	return operate(req, OP_CANCEL);
}

enum err
api_admin_refund(struct request *req)
{
	return operate(req, OP_REFUND);
}

enum err
api_admin_ship(struct request *req)
{
	return operate(req, OP_SHIP);
}

/* The reads. Their query parameters are checked here, each refusal a 422
 * naming the parameter; a query string that is not one is a 400. */

/* Reads the query into *q, and limit and cursor (cursor_key: its name)
 * into *limit and *cursor; unknown keys are refused. */
static enum err
read_query(struct request *req, const char *const *keys, int64_t def_limit,
	   struct json_object **q, int64_t *limit, int64_t *cursor)
{
	enum err e = req_query(req, q);

	if (e != ERR_OK)
		return e;
	valid_only_keys(*q, keys, &req->verr);
	valid_int(*q, "limit", "limit", 1, BACKOFFICE_LIMIT_MAX, def_limit,
		  limit, &req->verr);
	if (cursor != NULL)
		valid_int(*q, "cursor", "cursor", 1, INT64_MAX, 0, cursor,
			  &req->verr);
	return ERR_OK;
}

/* Reads query key as one of names[0..n) other than skip into *out (n
 * when absent). */
static void
state_filter(struct request *req, struct json_object *q, const char *key,
	     const char *const *names, int n, int skip, int *out)
{
	const char *s = NULL;

	*out = n;
	if (valid_str(q, key, key, 32, &s, &req->verr) != 0 || s == NULL)
		return;
	*out = machine_parse(names, n, s);
	if (*out == n || *out == skip) {
		*out = n;
		verr_add(&req->verr, key, "is not a state of a placed order");
	}
}

/* Reads the date query key (YYYY-MM-DD) into *out (NULL when absent). */
static void
date_filter(struct request *req, struct json_object *q, const char *key,
	    const char **out)
{
	if (valid_str(q, key, key, 10, out, &req->verr) == 0 && *out != NULL &&
	    !backoffice_date_valid(*out))
		verr_add(&req->verr, key, "must be a date written YYYY-MM-DD");
}

enum err
api_admin_orders(struct request *req)
{
	static const char *const keys[] = {
	    "state", "payment_state", "number", "from",
	    "to",    "cursor",	      "limit",	NULL};
	struct bo_filter f = {0};
	struct json_object *q, *out;
	int state, payment;
	size_t i;
	enum err e;

	if (!req_admin(req))
		return ERR_UNAUTHENTICATED;
	e = read_query(req, keys, 50, &q, &f.limit, &f.cursor);
	if (e != ERR_OK)
		return e;
	state_filter(req, q, "state", order_state_names, OS__MAX, OS_CART,
		     &state);
	state_filter(req, q, "payment_state", opay_state_names, OPS__MAX,
		     OPS_CART, &payment);
	f.state = (enum order_state)state;
	f.payment = (enum opay_state)payment;
	if (valid_str(q, "number", "number", 9, &f.number, &req->verr) == 0 &&
	    f.number != NULL)
		for (i = 0; f.number[i] != '\0'; i++)
			if (f.number[i] < '0' || f.number[i] > '9') {
				verr_add(&req->verr, "number",
					 "must be digits of an order number");
				break;
			}
	date_filter(req, q, "from", &f.from);
	date_filter(req, q, "to", &f.to);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	e = backoffice_orders(req->db, &req->pool, &f, &out);
	if (e == ERR_OK)
		res_json(req, 200, json_object_get(out));
	return e;
}

enum err
api_admin_order(struct request *req)
{
	static const char *const keys[] = {"limit", NULL};
	struct json_object *q, *out;
	int64_t limit;
	enum err e;
	int64_t id = target(req, &e);

	if (id == 0)
		return e;
	e = read_query(req, keys, 50, &q, &limit, NULL);
	if (e != ERR_OK)
		return e;
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	e = backoffice_order(req->db, &req->pool, id, limit, &out);
	if (e == ERR_OK)
		res_json(req, 200, json_object_get(out));
	return e;
}

enum err
api_admin_order_events(struct request *req)
{
	static const char *const keys[] = {"cursor", "limit", NULL};
	struct json_object *q, *out;
	int64_t limit, cursor;
	enum err e;
	int64_t id = target(req, &e);

	if (id == 0)
		return e;
	e = read_query(req, keys, 50, &q, &limit, &cursor);
	if (e != ERR_OK)
		return e;
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	e = backoffice_events(req->db, &req->pool, id, cursor, limit, &out);
	if (e == ERR_OK)
		res_json(req, 200, json_object_get(out));
	return e;
}
