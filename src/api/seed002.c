/*
 * Seed 002, the ticketing "Ordering" service (SPEC 3.3,
 * docs/api-seed002.md): POST /cart/add puts a seat (a tracked variant of
 * one unit) into the caller's single draft order; POST /orders/checkout
 * places the draft. The caller is a userId or a guestToken. The drafts
 * and their rules are src/draft.c's; this file reads the seed's bodies
 * and writes its answers. Errors are {"error": ...}.
 */
#include "api/api.h"

#include "body.h"

#include <string.h>

#include "draft.h"

#define E_WHO	     "Either UserId or GuestToken must be provided"
#define E_NOT_DRAFT  "Order is not in draft state"
#define E_UNAUTH     "Unauthorized"
#define E_NO_ORDER   "Order not found"
#define E_TAKEN	     "Seat is no longer available"
#define E_TWICE	     "Seat already in cart"
#define E_PRICE	     "Price does not match"
#define E_NO_SEAT    "Seat not found"
#define E_CHANGED    "Price has changed"
#define E_BAD_FIELDS "Invalid request"

/* A non-empty string member: an empty userId is no userId. */
static const char *
str_of(struct json_object *o, const char *key)
{
	const char *v = body_string(o, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

static const char *const states[DRAFT__MAX] = {
    [DRAFT_OPEN] = "draft",
    [DRAFT_PENDING] = "pending",
    [DRAFT_COMPLETED] = "completed",
    [DRAFT_CANCELLED] = "cancelled",
};

/* The order object of the seed. */
static struct json_object *
order_object(const struct draft_caller *c, const struct draft_view *v)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();
	struct json_object *it;
	size_t i;

	json_object_object_add(
	    o, "userId", c->user ? json_object_new_string(c->user) : NULL);
	json_object_object_add(o, "guestToken",
			       c->user == NULL && c->guest
				   ? json_object_new_string(c->guest)
				   : NULL);
	json_object_object_add(o, "id", json_object_new_string(v->id));
	json_object_object_add(o, "totalAmount", dialect_amount(v->total));
	json_object_object_add(o, "state",
			       json_object_new_string(states[v->state]));
	json_object_object_add(o, "createdAt",
			       json_object_new_string(v->created_at));
	json_object_object_add(
	    o, "paidAt",
	    v->paid_at[0] != '\0' ? json_object_new_string(v->paid_at) : NULL);
	for (i = 0; i < v->nitems; i++) {
		it = json_object_new_object();
		json_object_object_add(it, "id",
				       json_object_new_string(v->items[i].id));
		json_object_object_add(
		    it, "seatId", json_object_new_string(v->items[i].seat));
		json_object_object_add(it, "price",
				       dialect_amount(v->items[i].price));
		json_object_array_add(items, it);
	}
	json_object_object_add(o, "items", items);
	return o;
}

/* The body's caller, or -1 when it names none. */
static int
caller_of(struct json_object *body, struct draft_caller *c)
{
	return draft_caller_init(c, str_of(body, "userId"),
				 str_of(body, "guestToken")) == ERR_OK
		   ? 0
		   : -1;
}

/* POST /cart/add. */
enum err
api_seed002_cart_add(struct request *req)
{
	struct json_object *body = dialect_body(req);
	struct draft_caller c;
	struct draft_seat s;
	struct draft_view v = {0};
	enum err e;

	if (body == NULL && req->body.len > 0)
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	if (caller_of(body, &c) != 0) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_WHO);
	}
	s.seat = str_of(body, "seatId");
	s.reservation = str_of(body, "reservationId");
	s.price = body_minor_units(json_object_object_get(body, "price"));
	if (s.seat == NULL || s.price < 0 ||
	    (s.reservation != NULL && strlen(s.reservation) > 64)) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	}
	e = draft_add(req->db, &c, &s, &v);
	if (e == ERR_OK)
		res_json(req, 200, order_object(&c, &v));
	else if (e == ERR_NOT_FOUND)
		e = dialect_error(req, "error", 404, E_NO_SEAT);
	else if (e == ERR_TOTAL_CHANGED)
		e = dialect_error(req, "error", 400, E_PRICE);
	else if (e == ERR_VALIDATION_FAILED)
		e = dialect_error(req, "error", 400, E_TWICE);
	else if (e == ERR_OUT_OF_STOCK)
		e = dialect_error(req, "error", 409, E_TAKEN);
	draft_view_free(&v);
	json_object_put(body);
	return e;
}

/* POST /orders/checkout. */
enum err
api_seed002_checkout(struct request *req)
{
	struct json_object *body = dialect_body(req);
	struct draft_caller c;
	struct draft_view v = {0};
	enum err e;

	if (body == NULL && req->body.len > 0)
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	if (caller_of(body, &c) != 0) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_WHO);
	}
	e = draft_checkout(req->db, &c, str_of(body, "orderId"), &v);
	if (e == ERR_OK)
		res_json(req, 200, order_object(&c, &v));
	else if (e == ERR_NOT_FOUND)
		e = dialect_error(req, "error", 404, E_NO_ORDER);
	else if (e == ERR_UNAUTHENTICATED)
		e = dialect_error(req, "error", 401, E_UNAUTH);
	else if (e == ERR_INVALID_TRANSITION)
		e = dialect_error(req, "error", 400, E_NOT_DRAFT);
	else if (e == ERR_OUT_OF_STOCK)
		e = dialect_error(req, "error", 409, E_TAKEN);
	else if (e == ERR_TOTAL_CHANGED)
		e = dialect_error(req, "error", 409, E_CHANGED);
	draft_view_free(&v);
	json_object_put(body);
	return e;
}
