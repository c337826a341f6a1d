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

/* Its errors, as the document lists them, for both paths. A body without
 * the members a path needs is as malformed, to the seed, as one that is
 * not JSON: both are "Invalid request". */
static const struct dialect seed002 = {
    "error",
    {
	[ERR_MALFORMED_BODY] = {400, "Invalid request"},
	[ERR_UNAUTHENTICATED] =
	    {400, "Either UserId or GuestToken must be provided"},
	[ERR_PRICE_MISMATCH] = {400, "Price does not match"},
	[ERR_ALREADY_IN_CART] = {400, "Seat already in cart"},
	[ERR_INVALID_TRANSITION] = {400, "Order is not in draft state"},
	[ERR_NOT_OWNER] = {401, "Unauthorized"},
	[ERR_UNKNOWN_ITEM] = {404, "Seat not found"},
	[ERR_NOT_FOUND] = {404, "Order not found"},
	[ERR_OUT_OF_STOCK] = {409, "Seat is no longer available"},
	[ERR_TOTAL_CHANGED] = {409, "Price has changed"},
    },
};

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

/* The 200 with the order object, written inside the transaction of
 * draft_add or draft_checkout (draft.h). */
static void
answer_order(void *arg, const struct draft_caller *c,
	     const struct draft_view *v)
{
	res_json(arg, 200, order_object(c, v));
}

/* The request's body (*body, the pool's) and its caller: ERR_OK,
 * ERR_MALFORMED_BODY or ERR_UNAUTHENTICATED (it names none). */
static enum err
caller_of(struct request *req, struct json_object **body,
	  struct draft_caller *c)
{
	c->answer = answer_order;
	c->answer_arg = req;
	*body = dialect_body(req);
	if (*body == NULL && req->body.len > 0)
		return ERR_MALFORMED_BODY;
	return draft_caller_init(c, str_of(*body, "userId"),
				 str_of(*body, "guestToken"));
}

/* POST /cart/add. */
enum err
api_seed002_cart_add(struct request *req)
{
	struct json_object *body;
	struct draft_caller c;
	struct draft_seat s;
	enum err e = caller_of(req, &body, &c);

	s.seat = str_of(body, "seatId");
	s.reservation = str_of(body, "reservationId");
	s.price = body_minor_units(json_object_object_get(body, "price"));
	if (e == ERR_OK &&
	    (s.seat == NULL || s.price < 0 ||
	     (s.reservation != NULL && strlen(s.reservation) > 64)))
		e = ERR_MALFORMED_BODY;
	if (e == ERR_OK)
		e = draft_add(req->db, &req->pool, &c, &s);
	return dialect_fail(req, &seed002, e);
}

/* POST /orders/checkout. */
enum err
api_seed002_checkout(struct request *req)
{
	struct json_object *body;
	struct draft_caller c;
	enum err e = caller_of(req, &body, &c);

	if (e == ERR_OK)
		e = draft_checkout(req->db, &req->pool, &c,
				   str_of(body, "orderId"));
	return dialect_fail(req, &seed002, e);
}
