/*
 * The store's pricing rules — promotions, tax rates and the zones'
 * countries — as each worker last read them. The chain runs on every cart
 * change; reading these rarely-changing tables each time cost a database
 * round trip and a 90-row union per run. Each worker thread keeps its own
 * copy while the rules' version counter (moved by triggers on every change
 * to those tables, migration 0012; the chain reads it with the order) is
 * the one the copy was read at, and for at most checkout.rules_ttl seconds
 * (0: read every time). So every step, completion included, prices on the
 * rules as they are now.
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
 * worker's copy when it was read at version (the counter as the caller
 * read it, in its transaction) and is younger than checkout.rules_ttl,
 * else from the database.
 */
enum err rules_load(struct db *db, int64_t version, const char *ship_country,
		    const char *bill_country, struct price_order *o);

#endif
