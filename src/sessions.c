#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "body.h"
#include "config.h"
#include "log.h"
#include "outbound.h"
#include "str.h"

static int
read_address(struct json_object *o, struct session_address *a)
{
	if (!json_object_is_type(o, json_type_object))
		return 0;
	a->street = body_string(o, "street");
	a->city = body_string(o, "city");
	a->postal_code = body_string(o, "postalCode");
	a->country = body_string(o, "country");
	a->state = body_string(o, "state");
	return 1;
}

static enum err
read_session(struct pool *pool, struct checkout_session *s)
{
	struct json_object *items = json_object_object_get(s->json, "items");
	size_t i;

	s->status = body_string(s->json, "status");
	s->currency = body_string(s->json, "currency");
	s->email = body_string(s->json, "email");
	s->payment_intent = body_string(s->json, "paymentIntentId");
	s->shipping_json = json_object_object_get(s->json, "shippingAddress");
	s->billing_json = json_object_object_get(s->json, "billingAddress");
	s->has_shipping = read_address(s->shipping_json, &s->shipping);
	s->has_billing = read_address(s->billing_json, &s->billing);
	s->has_items = json_object_is_type(items, json_type_array);
	if (!s->has_items)
		return ERR_OK;
	s->nitems = json_object_array_length(items);
	if (s->nitems == 0)
		return ERR_OK;
	s->items = pool_alloc(pool, s->nitems * sizeof(*s->items));
	if (s->items == NULL)
		return ERR_NOMEM;
	for (i = 0; i < s->nitems; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *q = json_object_object_get(it, "quantity");
		struct session_item *m = &s->items[i];

		m->product = body_string(it, "productId");
		m->has_quantity = json_object_is_type(q, json_type_int);
		m->quantity = m->has_quantity ? json_object_get_int64(q) : 0;
		m->price =
		    body_minor_units(json_object_object_get(it, "price"));
	}
	return ERR_OK;
}

enum err
sessions_fetch(void *curl, struct pool *pool, const char *id,
	       struct checkout_session *s)
{
	const char *base = config_str("seed003.checkout_service_url");
	struct outbound_resp r = {0};
	struct buf url = {0};
	char *esc;
	enum err e;

	memset(s, 0, sizeof(*s));
	if (*base == '\0') {
		log_error(
		    "seed003: no checkout service URL "
		    "(seed003.checkout_service_url, CHECKOUT_SERVICE_URL)");
		return ERR_PROVIDER_ERROR;
	}
	esc = curl_easy_escape(NULL, id, 0);
	if (esc == NULL)
		return ERR_PROVIDER_ERROR;
	buf_printf(&url, "%s/api/v1/checkout/session/%s", base, esc);
	curl_free(esc);
	e = url.failed ? ERR_NOMEM
		       : outbound_send(curl, "GET", url.data, NULL, NULL,
				       config_int("seed003.timeout"), &r);
	buf_free(&url);
	if (e == ERR_OK && r.status == 404) {
		e = ERR_NOT_FOUND;
	} else if (e == ERR_OK && r.status == 200) {
		s->json = pool_keep(pool, json_tokener_parse(r.body.data));
		if (!json_object_is_type(s->json, json_type_object)) {
			log_warn("seed003: the session is not JSON");
			e = ERR_PROVIDER_ERROR;
		}
	} else if (e == ERR_OK) {
		log_warn("seed003: checkout service answered %ld", r.status);
		e = ERR_PROVIDER_ERROR;
	} else {
		e = ERR_PROVIDER_ERROR;
	}
	buf_free(&r.body);
	if (e == ERR_OK)
		e = read_session(pool, s);
	if (e != ERR_OK)
		memset(s, 0, sizeof(*s));
	return e;
}
