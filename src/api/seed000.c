/*
 * Seed 000, "Servicio de checkouts" (SPEC 3.1, docs/api-seed000.md):
 * POST /checkouts {"session_id", "item": {"uuid"}} books a provider's slot
 * and places an order of that item (booking_place, src/booking.h). Errors
 * are {"message": ...} in Spanish, as the document says.
 */
#include "api/api.h"

#include "body.h"

#include <stdio.h>

#include "booking.h"

/* Its errors, as the document lists them. */
static const struct dialect seed000 = {
    "message",
    {
	[ERR_MALFORMED_BODY] = {400, "Cuerpo inválido"},
	[ERR_UNAUTHENTICATED] = {404, "La sesión no existe"},
	[ERR_UNKNOWN_ITEM] = {404, "Elemento no encontrado"},
	[ERR_TOO_MANY_ATTEMPTS] = {412, "Método bloqueado por seguridad"},
	[ERR_OUT_OF_STOCK] = {412, "Proveedor sin disponibilidad"},
    },
};

static struct json_object *
payment(const struct booking_payment *p)
{
	struct json_object *o;

	if (!p->found)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "amount", json_object_new_int64(p->amount));
	json_object_object_add(o, "currency",
			       json_object_new_string(p->currency));
	json_object_object_add(o, "state", json_object_new_string(p->state));
	json_object_object_add(o, "method",
			       p->has_method ? json_object_new_string(p->method)
					     : NULL);
	return o;
}

static struct json_object *
answer(const struct booking *b)
{
	struct json_object *o = json_object_new_object();
	struct json_object *agenda = json_object_new_object();
	struct json_object *prov = json_object_new_object();
	char iso[24];

	snprintf(iso, sizeof(iso), "%.10sT%.8sZ", b->starts_at,
		 b->starts_at + 11);
	json_object_object_add(prov, "id", json_object_new_int64(b->provider));
	json_object_object_add(prov, "name",
			       json_object_new_string(b->provider_name));
	json_object_object_add(agenda, "id", json_object_new_int64(b->agenda));
	json_object_object_add(agenda, "provider", prov);
	json_object_object_add(agenda, "starts_at",
			       json_object_new_string(iso));
	json_object_object_add(agenda, "state",
			       json_object_new_string("scheduled"));
	json_object_object_add(o, "order", json_object_get(b->snapshot));
	json_object_object_add(o, "agenda", agenda);
	json_object_object_add(o, "payment", payment(&b->payment));
	return o;
}

/* The 201, written inside the booking's transaction (booking.h). */
static void
answer_booked(void *arg, const struct booking *b)
{
	res_json(arg, 201, answer(b));
}

enum err
api_seed000_checkout(struct request *req)
{
	struct booking_req in = {.answer = answer_booked, .answer_arg = req};
	struct booking b = {0};
	struct json_object *body, *item;
	enum err e;

	/* ?account= with an OAuth header: seed 001's checkout. */
	if (seed001_wanted(req))
		return api_seed001_checkout(req);
	body = dialect_body(req);
	if (body == NULL)
		return dialect_fail(req, &seed000, ERR_MALFORMED_BODY);
	in.session = body_string(body, "session_id");
	item = json_object_object_get(body, "item");
	in.item = json_object_is_type(item, json_type_object)
		      ? body_string(item, "uuid")
		      : NULL;
	e = booking_place(req->db, &req->pool, &in, &b);
	return dialect_fail(req, &seed000, e);
}
