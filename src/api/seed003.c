/*
 * Seed 003, "Order Service - Checkout Integration" (SPEC 3.4,
 * docs/api-seed003.md): POST /api/v1/orders/checkout {checkoutSessionId}
 * imports the upstream Checkout Service's session as an order
 * (src/import.h): this file decodes the id, writes the kept answer and
 * answers the import's refusals from its one table (dialect_fail).
 * Errors are {"error": ...}.
 */
#include "api/api.h"

#include "body.h"

#include <string.h>

#include "import.h"

/* The kept answer: the order as placed, the session's addresses as the
 * service sent them; answer() adds the token. */
static enum err
render(const struct imported *m, struct buf *body, void *arg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();
	size_t i;

	(void)arg;
	json_object_object_add(o, "id", json_object_new_string(m->uuid));
	json_object_object_add(o, "status", json_object_new_string("PENDING"));
	json_object_object_add(o, "totalAmount", dialect_amount(m->total));
	json_object_object_add(o, "createdAt",
			       json_object_new_string(m->created_at));
	for (i = 0; i < m->nlines; i++) {
		struct json_object *it = json_object_new_object();

		json_object_object_add(it, "id",
				       json_object_new_string(m->lines[i].id));
		json_object_object_add(
		    it, "productId",
		    json_object_new_string(m->lines[i].product));
		json_object_object_add(it, "price",
				       dialect_amount(m->lines[i].price));
		json_object_object_add(
		    it, "quantity",
		    json_object_new_int64(m->lines[i].quantity));
		json_object_array_add(items, it);
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "shippingAddress",
			       json_object_get(m->session->shipping_json));
	json_object_object_add(o, "billingAddress",
			       json_object_get(m->session->billing_json));
	json_object_object_add(o, "order_id", json_object_new_int64(m->order));
	buf_puts(body,
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return ERR_OK;
}

/* Answers status with body (the kept answer, an object without its
 * token) and "token" as its last member: token, or null when "". */
static enum err
answer(struct request *req, int status, const struct buf *body,
       const char *token)
{
	if (body->len < 2 || body->data[body->len - 1] != '}')
		return ERR_INTERNAL;
	res_answered(req);
	req->status = status;
	req->content_type = "application/json";
	buf_reset(&req->out);
	buf_append(&req->out, body->data, body->len - 1);
	if (token[0] != '\0')
		buf_printf(&req->out, ",\"token\":\"%s\"}", token);
	else
		buf_puts(&req->out, ",\"token\":null}");
	return req->out.failed ? ERR_NOMEM : ERR_OK;
}

/* Its errors, as the document lists them. */
static const struct dialect seed003 = {
    "error",
    {
	[ERR_MALFORMED_BODY] = {400, "checkoutSessionId is required"},
	[ERR_NOT_FOUND] = {404, "Checkout session not found"},
	[ERR_PROVIDER_ERROR] = {500, "Checkout service unavailable"},
	[ERR_INVALID_TRANSITION] = {400, "Checkout session is not completed"},
	[ERR_NO_ITEMS] = {400, "Checkout session has no items"},
	[ERR_VALIDATION_FAILED] = {400, "Invalid session data"},
    },
};

enum err
api_seed003_import(struct request *req)
{
	struct json_object *body = dialect_body(req);
	const char *session = body_string(body, "checkoutSessionId");
	struct import_result res = {0};
	enum err e = ERR_OK;
	size_t i;

	for (i = 0; session != NULL && session[i] != '\0'; i++)
		if ((unsigned char)session[i] < 0x20)
			break;
	if (session == NULL || session[0] == '\0' || i > 255 ||
	    session[i] != '\0')
		e = ERR_MALFORMED_BODY;
	if (e == ERR_OK)
		e = import_session(req->db, &req->pool, req->curl, session,
				   render, NULL, &res);
	if (e == ERR_OK)
		e = answer(req, res.outcome == IMPORT_CREATED ? 201 : 200,
			   &res.body, res.token);
	return dialect_fail(req, &seed003, e);
}
