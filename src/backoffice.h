/*
 * What the back office reads (GET /api/admin/orders, /orders/{id},
 * /orders/{id}/events; docs/admin.md): placed orders a page at a time
 * with filters, one order with its payments, refunds and events. Reads
 * only; the operations are the lifecycle's (lifecycle.h). Every answer is
 * kept in the caller's pool.
 */
#ifndef CHECKOUTD_BACKOFFICE_H
#define CHECKOUTD_BACKOFFICE_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"
#include "states.h"

/* Most rows of one page. */
#define BACKOFFICE_LIMIT_MAX 200

/* The orders list's filters, checked by the caller. */
struct bo_filter {
	enum order_state state;	 /* OS__MAX: any. */
	enum opay_state payment; /* OPS__MAX: any. */
	const char *number;	 /* Digits the number starts with, or NULL. */
	const char *from, *to;	 /* YYYY-MM-DD (UTC) of completed_at, both
				    days included, or NULL. */
	int64_t cursor;		 /* Orders with ids below it; 0: newest. */
	int64_t limit;		 /* 1..BACKOFFICE_LIMIT_MAX. */
};

/*
 * One page of placed orders, newest first: *out is {"orders": [...],
 * "limit", "next_cursor"} (next_cursor null on the last page), kept in
 * pool. Errors: the database's, ERR_NOMEM.
 */
enum err backoffice_orders(struct db *db, struct pool *pool,
			   const struct bo_filter *f, struct json_object **out);

/*
 * Placed order id: *out is {"order": <snapshot>, "payments": [...] (each
 * with its refunds), "events": [...], "events_next_cursor"} with the
 * first page of events (limit of them, oldest first), kept in pool.
 * ERR_NOT_FOUND for an unknown order or a cart.
 */
enum err backoffice_order(struct db *db, struct pool *pool, int64_t id,
			  int64_t limit, struct json_object **out);

/*
 * A page of the events of placed order id, oldest first, after event
 * cursor (0: from the first): *out is {"events": [...], "limit",
 * "next_cursor"}, kept in pool. ERR_NOT_FOUND as backoffice_order.
 */
enum err backoffice_events(struct db *db, struct pool *pool, int64_t id,
			   int64_t cursor, int64_t limit,
			   struct json_object **out);

/* Whether s is a calendar date written YYYY-MM-DD. */
int backoffice_date_valid(const char *s);

#endif
