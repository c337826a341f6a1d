/*
 * POST /api/webhooks/stripe (SPEC 2.8): the provider's events. The
 * signature is checked over the raw bytes before anything is parsed; the
 * event is read and handed to payment_event (src/payment.c), which
 * records it once, with the payment's outcome, in one transaction.
 */
#include "api/api.h"

#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "payment.h"
#include "stripe.h"

static const char *
str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = json_object_object_get(o, a);

	if (b != NULL)
		v = json_object_object_get(v, b);
	return json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

enum err
api_webhook_stripe(struct request *req)
{
	struct json_object *ev, *obj, *last;
	struct pay_event h = {0};
	struct pay_event_out out = {0};
	enum err e;

	if (!signature_ok(req_env(req, "HTTP_STRIPE_SIGNATURE"),
			  req->body.data ? req->body.data : "", req->body.len,
			  config_str("webhook.stripe_secret"),
			  config_str("webhook.stripe_secret_previous"),
			  (long long)time(NULL),
			  config_int("webhook.tolerance"))) {
		metrics_inc(MET_WEBHOOKS_REJECTED);
		res_problem(req, ERR_MALFORMED_BODY,
			    "the Stripe-Signature header does not verify",
			    NULL);
		return ERR_OK;
	}
	ev = req->body.len > 0
		 ? pool_keep(&req->pool, json_tokener_parse(req->body.data))
		 : NULL;
	h.id = str_at(ev, "id", NULL);
	h.type = str_at(ev, "type", NULL);
	obj = json_object_object_get(json_object_object_get(ev, "data"),
				     "object");
	if (h.id == NULL || h.type == NULL || strlen(h.id) > 255 ||
	    strlen(h.type) > 64) {
		res_problem(req, ERR_MALFORMED_BODY,
			    "an event needs a string id and type", NULL);
		return ERR_OK;
	}
	if (strcmp(h.type, "payment_intent.succeeded") == 0) {
		h.ref = str_at(obj, "id", NULL);
		h.outcome = PAY_COMPLETED;
	} else if (strcmp(h.type, "payment_intent.payment_failed") == 0) {
		h.ref = str_at(obj, "id", NULL);
		h.outcome = PAY_FAILED;
		last = json_object_object_get(obj, "last_payment_error");
		h.decline = str_at(last, "decline_code", NULL);
		if (h.decline == NULL)
			h.decline = str_at(last, "code", NULL);
	}
	e = payment_event(req->db, &req->pool, &h, &out);
	if (e == ERR_BUSY && out.unknown_payment) {
		log_warn("webhook %s: no payment holds intent %s yet", h.id,
			 h.ref);
		res_header(req, "Retry-After", "10");
		res_problem(req, ERR_BUSY,
			    "the payment of this event is not known yet; send "
			    "it again later",
			    NULL);
		e = ERR_OK;
	} else if (e == ERR_OK) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "received",
				       json_object_new_boolean(1));
		json_object_object_add(r, "duplicate",
				       json_object_new_boolean(out.seen));
		res_json(req, 200, r);
	}
	return e;
}
