#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "router.h"
#include "routes.h"

#define MAX_ROUTES 128

static const int statuses[] = {200, 201, 204, 400, 401, 402, 403,
			       404, 405, 409, 412, 413, 415, 422,
			       429, 500, 502, 503, 504, 0 /* any other */};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t bounds[] = {500,	  1000,	   2500,    5000,    10000,
				 25000,	  50000,   100000,  250000,  500000,
				 1000000, 2500000, 5000000, 10000000};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct route_stats {
	uint64_t by_status[NSTATUS];
	uint64_t buckets[NBOUNDS + 1];
	uint64_t sum_us;
};

/* Index MAX_ROUTES holds requests that matched no route. */
static struct route_stats stats[MAX_ROUTES + 1];
static uint64_t counters[MET__MAX];

static const char *const counter_names[MET__MAX][2] = {
    {"checkoutd_db_errors_total", "Database errors seen by workers."},
    {"checkoutd_db_reconnects_total",
     "Database connections re-established after a loss."},
    {"checkoutd_db_tx_retries_total",
     "Transactions retried after a deadlock or lock wait timeout."},
    {"checkoutd_outbound_timeouts_total",
     "Provider calls that ran out of time."},
    {"checkoutd_outbound_errors_total",
     "Provider calls that got no HTTP answer."},
    {"checkoutd_outbound_busy_total",
     "Requests answered 503 busy: outbound.max_concurrent were waiting."},
    {"checkoutd_payments_completed_total", "Payments recorded completed."},
    {"checkoutd_payments_declined_total", "Payments declined by the card "
					  "issuer."},
    {"checkoutd_orders_needs_refund_total",
     "Payments that succeeded for an order already cancelled."},
    {"checkoutd_webhooks_rejected_total",
     "Inbound webhooks refused for their signature."},
    {"checkoutd_events_delivered_total", "Outbox events delivered."},
    {"checkoutd_event_attempts_failed_total",
     "Outbox delivery attempts that failed (retried later)."},
    {"checkoutd_carrier_failures_total",
     "Carrier rate requests that failed or timed out."},
};

void
metrics_request(int route, int status, int64_t micros)
{
	struct route_stats *s;
	size_t i;

	if (route < 0 || route >= MAX_ROUTES)
		route = MAX_ROUTES;
	s = &stats[route];
	for (i = 0; i < NSTATUS - 1 && statuses[i] != status; i++)
		;
	__atomic_fetch_add(&s->by_status[i], 1, __ATOMIC_RELAXED);
	for (i = 0; i < NBOUNDS && micros > bounds[i]; i++)
		;
	__atomic_fetch_add(&s->buckets[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->sum_us, (uint64_t)(micros < 0 ? 0 : micros),
			   __ATOMIC_RELAXED);
}

void
metrics_inc(enum counter c)
{
	__atomic_fetch_add(&counters[c], 1, __ATOMIC_RELAXED);
}

uint64_t
metrics_get(enum counter c)
{
	return __atomic_load_n(&counters[c], __ATOMIC_RELAXED);
}

static void
route_label(int r, char *out, size_t len)
{
	if (r == MAX_ROUTES)
		snprintf(out, len, "unmatched");
	else
		snprintf(out, len, "%s %s", method_names[routes[r].method],
			 routes[r].pattern);
}

void
metrics_render(struct buf *out)
{
	size_t r, i;
	char label[160];
	int c;

	buf_puts(out, "# HELP checkoutd_requests_total Requests answered, by "
		      "route and status.\n"
		      "# TYPE checkoutd_requests_total counter\n");
	for (r = 0; r <= MAX_ROUTES; r++) {
		if (r < MAX_ROUTES && r >= nroutes)
			continue;
		route_label((int)r, label, sizeof(label));
		for (i = 0; i < NSTATUS; i++) {
			uint64_t v = __atomic_load_n(&stats[r].by_status[i],
						     __ATOMIC_RELAXED);
			char st[8];

			if (v == 0)
				continue;
			if (statuses[i] == 0)
				snprintf(st, sizeof(st), "other");
			else
				snprintf(st, sizeof(st), "%d", statuses[i]);
			buf_printf(out,
				   "checkoutd_requests_total{route=\"%s\","
				   "status=\"%s\"} %llu\n",
				   label, st, (unsigned long long)v);
		}
	}
	buf_puts(out, "# HELP checkoutd_request_duration_seconds Time from "
		      "the request's params to its response, by route.\n"
		      "# TYPE checkoutd_request_duration_seconds histogram\n");
	for (r = 0; r <= MAX_ROUTES; r++) {
		uint64_t cum = 0;

		if (r < MAX_ROUTES && r >= nroutes)
			continue;
		route_label((int)r, label, sizeof(label));
		for (i = 0; i <= NBOUNDS; i++) {
			cum += __atomic_load_n(&stats[r].buckets[i],
					       __ATOMIC_RELAXED);
			if (i < NBOUNDS)
				buf_printf(out,
					   "checkoutd_request_duration_seconds"
					   "_bucket{route=\"%s\",le=\"%g\"} "
					   "%llu\n",
					   label, (double)bounds[i] / 1e6,
					   (unsigned long long)cum);
			else
				buf_printf(out,
					   "checkoutd_request_duration_seconds"
					   "_bucket{route=\"%s\",le=\"+Inf\"} "
					   "%llu\n",
					   label, (unsigned long long)cum);
		}
		buf_printf(
		    out,
		    "checkoutd_request_duration_seconds_sum{route=\"%s\"}"
		    " %.6f\n"
		    "checkoutd_request_duration_seconds_count{route="
		    "\"%s\"} %llu\n",
		    label,
		    (double)__atomic_load_n(&stats[r].sum_us,
					    __ATOMIC_RELAXED) /
			1e6,
		    label, (unsigned long long)cum);
	}
	for (c = 0; c < MET__MAX; c++)
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
			   counter_names[c][0], counter_names[c][1],
			   counter_names[c][0], counter_names[c][0],
			   (unsigned long long)metrics_get((enum counter)c));
}
