/*
 * The store's pricing rules — promotions, tax rates and the zones'
 * countries — as each worker last read them. The chain runs on every cart
 * change; reading these rarely-changing tables each time cost two database
 * round trips per run. Each worker thread keeps its own copy for
 * checkout.rules_ttl seconds (0: read every time). Completing an order always
 * reads them fresh (rules_expire), so an order is placed on the current rules;
 * a cart that priced on an older copy meets them there as 409 total_changed.
 */
#ifndef CHECKOUTD_RULES_H
#define CHECKOUTD_RULES_H

#include <stdint.h>

#include "db.h"
#include "pricing.h"

/*
 * Fills o's promotions (coupon fields cleared) and the tax rates of the
 * order's tax zone (SPEC 1): the lowest-id zone holding the shipping
 * country, else the billing country ("" for none), else the zone coded
 * checkout.default_tax_zone; no rates when none is found. From the
 * worker's copy or, when it is older than checkout.rules_ttl or expired,
 * from the database.
 */
enum err rules_load(struct db *db, const char *ship_country,
		    const char *bill_country, struct price_order *o);

/* Makes the worker's next rules_load read the database. */
void rules_expire(void);

#endif
