/*
 * POST /api/admin/orders/{id}/mark-paid, /cancel, /refund {amount?},
 * /ship {tracking?} (SPEC 2.10): `Authorization: Bearer <admin.token>`
 * (401 without it); the shipped nginx config also allows /api/admin/ only
 * from the machine itself. The operations are in src/admin.c.
 */
#include "api/api.h"

#include <string.h>

#include "lifecycle.h"
#include "config.h"
#include "str.h"
#include "valid.h"

/* Answers an operation's outcome (snapshot: the pool's). */
static enum err
answer(struct request *req, enum err e, struct json_object *snapshot,
       const char *why)
{
	struct json_object *extra;

	if (e == ERR_OK) {
		res_json(req, 200, json_object_get(snapshot));
		return ERR_OK;
	}
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
		e = lifecycle_mark_paid(req->db, &req->pool, id, &snap, &why);
	else if (op == OP_CANCEL)
		e = lifecycle_cancel(req->db, &req->pool, req->curl, id, &snap,
				     &why);
	else if (op == OP_REFUND)
		e = lifecycle_refund(req->db, &req->pool, req->curl, id, amount,
				     &snap, &why, v);
	else
		e = lifecycle_ship(req->db, &req->pool, id, tracking, &snap,
				   &why);
	return answer(req, e, snap, why);
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
