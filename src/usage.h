/*
 * Promotion and coupon usage (SPEC 1, "Completing"): completion counts a
 * use of each promotion with an adjustment on the order, and of its
 * coupon, only while under the limit; cancelling gives them back, by the
 * same adjustment rows. Each runs in the caller's transaction.
 */
#ifndef CHECKOUTD_USAGE_H
#define CHECKOUTD_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/*
 * Counts a use of the counted promotions with an adjustment on order id
 * and, when coupon_counted, of coupon. One whose limit was reached since
 * the chain read it (a concurrent completion took the last use, and
 * committed: its row lock made this UPDATE wait) is ERR_TX_AGAIN:
 * everything rolls back and the caller's transaction runs again, whose
 * chain no longer applies it.
 */
enum err usage_count(struct db *db, int64_t id, int64_t coupon, size_t counted,
		     int coupon_counted);
/* Gives back the uses order id counted (the order is cancelled). */
enum err usage_return(struct db *db, int64_t id);

#endif
