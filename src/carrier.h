/*
 * Carrier rates (SPEC 2.9): quotes from a Shippo-compatible API for an
 * order's shipping address and parcel (the shippable units' weight_g),
 * fetched outside any transaction and stored per (order, address hash,
 * items hash) for carrier.quote_ttl seconds. Each rate is offered as a
 * method `carrier:<service level token>`; the chain charges the stored
 * quote the shipment points at.
 */
#ifndef CHECKOUTD_CARRIER_H
#define CHECKOUTD_CARRIER_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"

#define CARRIER_MAX_QUOTES 16

struct quote {
	int64_t id, amount, days; /* days: -1 when not given */
	char token[64], name[256];
};

struct quotes {
	struct quote q[CARRIER_MAX_QUOTES];
	size_t n;
};

/*
 * The order's quotes for its current address and items: the stored ones
 * while fresh, else fetched from carrier.url and stored. fresh: fetch even
 * when stored ones are valid. ERR_PROVIDER_TIMEOUT / ERR_PROVIDER_ERROR
 * when the carrier failed (logged and counted); ERR_OK with n = 0 when
 * there is nothing to ship or no address.
 */
enum err carrier_quotes(struct db *db, void *curl, int64_t order, int fresh,
			struct quotes *out);

/* Whether order id's shipment points at a carrier quote. */
enum err carrier_selected(struct db *db, int64_t order, int *selected);

/*
 * Before completion: when the shipment's quote has expired or no longer
 * matches the address and items, fetches fresh ones and points the
 * shipment at the same service's new quote (the chain then prices it: a
 * different price is 409 total_changed). A service no longer offered
 * sends the order back to `addressed`. Runs its own short transaction.
 */
enum err carrier_refresh(struct db *db, void *curl, int64_t order);

/* Appends the quotes as method entries of GET /api/checkouts/{id}. */
void carrier_entries(const struct quotes *q, struct json_object *list);

/* "12.30" in a currency with 2 decimals → 1230; -1 when not a price. */
int64_t carrier_parse_amount(const char *s);

#endif
