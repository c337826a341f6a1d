/*
 * The canonical API's checkout (SPEC 2.3 to 2.9): PUT and GET
 * /api/checkouts/{id}. A step's body is decoded (sylius_fields.c), run in
 * its transaction (step_put), and its refusals answered; a purchase is
 * answered from purchase(); the carrier is asked outside the transaction.
 */
#include "api/sylius.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "purchase.h"
#include "states.h"
#include "steps.h"
#include "valid.h"

struct put_ctx {
	struct request *req;
	int64_t id;
	struct creds creds;
	struct sylius_step s;
	struct step_out out; /* its trees are req->pool's */
};

/* Answered inside the step's transaction: an idempotent response is
 * stored with the work (idem.c). */
static void
answer_step(void *arg, struct json_object *snapshot)
{
	struct put_ctx *c = arg;

	res_json(c->req, 200, json_object_get(snapshot));
}

/* Runs the step in its transaction (step_put). */
static enum err
run_step(struct request *req, struct put_ctx *c)
{
	return step_put(req->db, &req->pool, c->id, &c->creds, c->s.step,
			&c->s.in, &req->verr, &c->out, answer_step, c);
}

/*
 * The carrier is asked outside the step's transaction (SPEC 2.9): for a
 * shipping step naming a `carrier:<service>` method, the quotes for the
 * current address and items, before the step; for a finalize, a fresh
 * quote when the finalize found the chosen one expired
 * (ERR_QUOTE_EXPIRED), before it runs again. The order is checked to be
 * the caller's first.
 */
static enum err
carrier_before(struct request *req, struct put_ctx *c, int expired)
{
	struct order_head h;
	struct quotes *q;
	enum err e;

	if (!(c->s.step == STEP_SHIPPING &&
	      strncmp(c->s.in.method, "carrier:", 8) == 0) &&
	    !(c->s.step == STEP_FINALIZE && expired))
		return ERR_OK;
	e = order_authorize(req->db, c->id, &c->creds, 0, &h);
	if (e != ERR_OK || order_state_parse(h.state) != OS_CART)
		return e; /* The step answers what the state allows. */
	if (c->s.step == STEP_FINALIZE)
		return carrier_refresh(req->db, req->curl, c->id);
	q = pool_alloc(&req->pool, sizeof(*q));
	if (q == NULL)
		return ERR_NOMEM;
	return carrier_quotes(req->db, req->curl, c->id, 0, q);
}

/* The order a purchase leaves (paid, or waiting for 3-D Secure),
 * answered inside the transaction that recorded or read it (an idempotent
 * response is stored with the work, idem.c). */
static void
answer_order(void *arg, struct json_object *snapshot)
{
	res_json(arg, 200, json_object_get(snapshot));
}

/* Purchase runs its own short transactions around the provider calls. */
static enum err
answer_purchase(struct request *req, int64_t id, const struct creds *creds)
{
	struct purchase_out out = {0};
	struct card_in card;
	char retry[24];
	enum err e;

	sylius_card_decode(req->json, &card);
	e = purchase(req->db, &req->pool, req->curl, id, creds, &card,
		     req->idem_resumed, &req->verr, &out, answer_order, req);
	switch (e) {
	case ERR_OK:
		break; /* Answered by answer_order. */
	case ERR_VALIDATION_FAILED:
		verr_name(&req->verr, sylius_field_name, NULL);
		if (verr_answer(req, &req->verr))
			e = ERR_OK;
		break;
	case ERR_TOO_MANY_ATTEMPTS:
		snprintf(retry, sizeof(retry), "%lld",
			 (long long)out.retry_after);
		res_header(req, "Retry-After", retry);
		res_problem(req, e,
			    "too many declined cards for this order: try "
			    "again later",
			    NULL);
		e = ERR_OK;
		break;
	case ERR_CARD_DECLINED:
	case ERR_INVALID_TRANSITION:
		res_problem(req, e,
			    e == ERR_CARD_DECLINED
				? "the card was declined"
				: "this order cannot be paid now",
			    json_object_get(out.extra));
		e = ERR_OK;
		break;
	default:
		break;
	}
	return e;
}

enum err
api_checkout_put(struct request *req)
{
	struct put_ctx c = {.req = req, .id = api_path_id(req, "id")};
	enum err e;

	if (c.id == 0)
		return ERR_NOT_FOUND;
	c.creds = sylius_creds(req);
	c.s.step = sylius_step_of(req->json, &req->verr);
	if (verr_answer(req, &req->verr))
		return ERR_OK;
	if (c.s.step == STEP_PURCHASE)
		return answer_purchase(req, c.id, &c.creds);
	sylius_step_decode(req->json, &c.s);
	/* What the decoding refused is the request's. */
	if ((pool_keep_at(&req->pool, &c.s.in.decoded.errors) |
	     pool_keep_at(&req->pool, &c.s.in.ship.shape.errors) |
	     pool_keep_at(&req->pool, &c.s.in.bill.shape.errors)) != 0)
		return ERR_NOMEM;
	e = carrier_before(req, &c, 0);
	if (e == ERR_OK)
		e = run_step(req, &c);
	if (e == ERR_QUOTE_EXPIRED) {
		e = carrier_before(req, &c, 1);
		if (e == ERR_OK)
			e = run_step(req, &c);
	}
	if (e == ERR_OK && c.out.total_changed) {
		struct json_object *extra = json_object_new_object();

		json_object_object_add(extra, "order",
				       json_object_get(c.out.snapshot));
		res_problem(req, ERR_TOTAL_CHANGED,
			    "the total changed: review the order and finalize "
			    "again",
			    extra);
	} else if (e == ERR_VALIDATION_FAILED) {
		verr_name(&req->verr, sylius_field_name, &c.s);
		if (verr_answer(req, &req->verr))
			e = ERR_OK;
	} else if (e == ERR_INVALID_TRANSITION || e == ERR_OUT_OF_STOCK) {
		res_problem(req, e,
			    e == ERR_OUT_OF_STOCK
				? "not enough stock for some items"
				: "this step is not allowed now",
			    json_object_get(c.out.extra));
		e = ERR_OK;
	}
	return e;
}

enum err
api_checkout_get(struct request *req)
{
	return sylius_view(req, step_view);
}
