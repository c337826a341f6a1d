/*
 * A client of the upstream Checkout Service (seed 003, SPEC 3.4,
 * docs/api-seed003.md): GET {seed003.checkout_service_url}/api/v1/
 * checkout/session/{id} over the worker's curl handle (src/outbound.h),
 * its JSON read into a struct checkout_session as the service sent it.
 * What the store makes of a session is src/import.c's business.
 */
#ifndef CHECKOUTD_SESSIONS_H
#define CHECKOUTD_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "pool.h"

/* An address of the session; each member NULL when absent or not a
 * string. */
struct session_address {
	const char *street, *city, *postal_code, *country, *state;
};

struct session_item {
	const char *product; /* productId; NULL when absent or not a string */
	int has_quantity;    /* quantity is a JSON integer */
	int64_t quantity;
	/* price (a JSON number of major units, 0 to 1e10) in minor units,
	 * rounded to the cent; -1 when it is not one. */
	int64_t price;
};

/*
 * A session as the service described it. Every string points into json
 * and lives as long as the session; NULL when absent or not a string.
 */
struct checkout_session {
	struct json_object *json; /* the whole answer (the pool's) */
	const char *status, *currency, *email, *payment_intent;
	int has_items; /* items is an array (of nitems, the pool's) */
	struct session_item *items;
	size_t nitems;
	/* shippingAddress and billingAddress as sent (borrowed from json,
	 * NULL when absent), and read when they are objects (has_*). */
	struct json_object *shipping_json, *billing_json;
	int has_shipping, has_billing;
	struct session_address shipping, billing;
};

/*
 * Fetches session id (any string; URL-escaped here). Makes the call:
 * never inside a transaction, and within outbound_enter/outbound_leave.
 * ERR_OK with *s filled (what it holds kept in pool); ERR_NOT_FOUND when
 * the service answered 404; ERR_PROVIDER_ERROR otherwise (no URL
 * configured, no answer, another status, an answer that is not a JSON
 * object; logged); ERR_NOMEM. *s is left empty on an error.
 */
enum err sessions_fetch(void *curl, struct pool *pool, const char *id,
			struct checkout_session *s);

#endif
