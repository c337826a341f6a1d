#include "usage.h"

/*
 * A use of each promotion with an adjustment on the order, and of its
 * coupon, counted only while under the limit (NULL or 0: none, as the
 * chain reads it): like stock, a conditional UPDATE whose matched rows are
 * checked (SPEC 1, "Completing"). The order's adjustments are the rows
 * cancelling gives the uses back by (usage_return).
 */
static const char sql_promotion_usage[] =
    "UPDATE promotions SET used = used + 1 WHERE id IN (SELECT origin_id "
    "FROM adjustments WHERE order_id = ? AND type IN ('order_promotion', "
    "'shipping_promotion')) AND (usage_limit IS NULL OR usage_limit = 0 OR "
    "used < usage_limit)";
static const char sql_coupon_usage[] =
    "UPDATE promotion_coupons SET used = used + 1 WHERE id = ? AND "
    "(usage_limit IS NULL OR usage_limit = 0 OR used < usage_limit)";
static const char sql_unuse_promotions[] =
    "UPDATE promotions SET used = used - 1 WHERE used > 0 AND id IN "
    "(SELECT origin_id FROM adjustments WHERE order_id = ? AND type IN "
    "('order_promotion', 'shipping_promotion'))";
static const char sql_unuse_coupon[] =
    "UPDATE promotion_coupons c JOIN orders o ON o.coupon_id = c.id SET "
    "c.used = c.used - 1 WHERE o.id = ? AND c.used > 0 AND EXISTS (SELECT "
    "1 FROM adjustments a WHERE a.order_id = o.id AND a.origin_id = "
    "c.promotion_id AND a.type IN ('order_promotion', "
    "'shipping_promotion'))";

enum err
usage_count(struct db *db, int64_t id, int64_t coupon, size_t counted,
	    int coupon_counted)
{
	struct db_val p = DB_I(id);
	uint64_t n = 0;
	enum err e;

	if (counted == 0)
		return ERR_OK;
	e = db_exec(db, sql_promotion_usage, &p, 1, &n);
	if (e != ERR_OK)
		return e;
	if (n != counted)
		return ERR_TX_AGAIN;
	if (!coupon_counted)
		return ERR_OK;
	p = DB_I(coupon);
	e = db_exec(db, sql_coupon_usage, &p, 1, &n);
	if (e == ERR_OK && n != 1)
		e = ERR_TX_AGAIN;
	return e;
}

enum err
usage_return(struct db *db, int64_t id)
{
	struct db_val p = DB_I(id);
	enum err e = db_exec(db, sql_unuse_promotions, &p, 1, NULL);

	return e == ERR_OK ? db_exec(db, sql_unuse_coupon, &p, 1, NULL) : e;
}
