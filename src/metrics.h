/*
 * Process-wide counters in Prometheus text format: requests by route and
 * status, a latency histogram per route, database errors and reconnects,
 * provider calls, payments, webhooks and event deliveries.
 * Updated with relaxed atomics from every worker; no locks.
 */
#ifndef CHECKOUTD_METRICS_H
#define CHECKOUTD_METRICS_H

#include <stdint.h>

#include "str.h"

enum counter {
	MET_DB_ERRORS,
	MET_DB_RECONNECTS,
	MET_DB_TX_RETRIES,
	MET_OUTBOUND_TIMEOUTS,
	MET_OUTBOUND_ERRORS,
	MET_OUTBOUND_BUSY,
	MET_PAYMENTS_COMPLETED,
	MET_PAYMENTS_DECLINED,
	MET_NEEDS_REFUND,
	MET_WEBHOOKS_REJECTED,
	MET_EVENTS_DELIVERED,
	MET_EVENTS_FAILED,
	MET_CARRIER_FAILURES,
	MET__MAX
};

/* Records one request: route index (-1 unmatched), status, duration. */
void metrics_request(int route, int status, int64_t micros);
/* Adds 1 to a counter. */
void metrics_inc(enum counter c);
/* Reads a counter (tests). */
uint64_t metrics_get(enum counter c);
/* Appends the whole exposition to out. */
void metrics_render(struct buf *out);

#endif
