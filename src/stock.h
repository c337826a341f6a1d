/*
 * Stock (SPEC 1, "Completing"): a placed order's units are held on its
 * variants (on_hold) by a conditional UPDATE that never lets the held
 * units pass what is on hand, released when the order is cancelled, and
 * taken off the shelf (on_hand and on_hold) when it ships. Only tracked
 * variants count. Each runs in the caller's transaction.
 */
#ifndef CHECKOUTD_STOCK_H
#define CHECKOUTD_STOCK_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "order.h"

/*
 * Holds the units of every tracked line of ls (in variant order, so that
 * completions lock the stock rows in one order): one conditional UPDATE
 * each. ERR_OUT_OF_STOCK when some cannot be held, with *short_items
 * (kept in pool) an array of {id, variant_code, requested, available};
 * the caller's transaction then rolls back. A database error otherwise.
 */
enum err stock_hold(struct db *db, struct pool *pool,
		    const struct order_lines *ls,
		    struct json_object **short_items);
/* Gives order id's held units back (the order is cancelled). */
enum err stock_release(struct db *db, int64_t id);
/* Order id's held units leave the shelf (the order shipped). */
enum err stock_ship(struct db *db, int64_t id);

#endif
