#include "outbox.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "outbound.h"
#include "str.h"
#include "stripe.h"

struct event {
	int64_t id, attempts, created;
	char uuid[37], type[33];
	struct buf payload;
};

/* The oldest due event whose order has no earlier undelivered event;
 * rows another deliverer holds are skipped, not waited for. */
static const char sql_claim[] =
    "SELECT e.id, e.uuid, e.type, e.payload, e.attempts, "
    "CAST(UNIX_TIMESTAMP(e.created_at) AS SIGNED) FROM outbox_events e "
    "WHERE e.delivered_at IS NULL AND e.next_attempt_at <= UTC_TIMESTAMP() "
    "AND (e.lease_until IS NULL OR e.lease_until < UTC_TIMESTAMP()) AND NOT "
    "EXISTS (SELECT 1 FROM outbox_events p WHERE p.order_id = e.order_id "
    "AND p.id < e.id AND p.delivered_at IS NULL) ORDER BY e.id LIMIT 1 FOR "
    "UPDATE SKIP LOCKED";
static const char sql_lease[] =
    "UPDATE outbox_events SET lease_until = UTC_TIMESTAMP() + INTERVAL ? "
    "SECOND, attempts = attempts + 1 WHERE id = ?";
static const char sql_delivered[] =
    "UPDATE outbox_events SET delivered_at = UTC_TIMESTAMP(), lease_until "
    "= NULL WHERE id = ?";
static const char sql_retry[] =
    "UPDATE outbox_events SET next_attempt_at = UTC_TIMESTAMP() + INTERVAL "
    "? SECOND, lease_until = NULL WHERE id = ?";

static enum err
event_row(void *arg, const struct db_val *c, size_t n)
{
	struct event *ev = arg;

	if (n != 6)
		return ERR_INTERNAL;
	ev->id = c[0].i;
	snprintf(ev->uuid, sizeof(ev->uuid), "%s", c[1].s);
	snprintf(ev->type, sizeof(ev->type), "%s", c[2].s);
	buf_reset(&ev->payload);
	buf_append(&ev->payload, c[3].s, c[3].len);
	ev->attempts = c[4].i + 1;
	ev->created = c[5].i;
	return ev->payload.failed ? ERR_NOMEM : ERR_OK;
}

static enum err
claim_tx(struct db *db, void *arg)
{
	struct event *ev = arg;
	struct db_val p[2];
	enum err e;

	ev->id = 0;
	e = db_query(db, sql_claim, NULL, 0, event_row, ev);
	if (e != ERR_OK || ev->id == 0)
		return e;
	/* Long enough for a whole attempt: a crashed deliverer's claim
	 * expires and another takes the event over. */
	p[0] = DB_I(2 * config_int("outbox.timeout"));
	p[1] = DB_I(ev->id);
	return db_exec(db, sql_lease, p, 2, NULL);
}

/* The delay before attempt n + 1 after n failed ones: the nth of
 * outbox.backoff, its last one beyond. */
static int64_t
backoff(int64_t attempts)
{
	const char *list = config_str("outbox.backoff"), *p = list;
	int64_t delay = 60, i = 0;
	char *end;

	while (*p != '\0') {
		long long v = strtoll(p, &end, 10);

		if (end == p)
			break;
		if (v > 0)
			delay = v;
		if (++i >= attempts)
			break;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return delay;
}

/* POSTs ev; 0 when the receiver took it (2xx). */
static int
send_event(void *curl, const struct event *ev)
{
	const char *secret = config_str("outbox.secret");
	const char *previous = config_str("outbox.secret_previous");
	struct buf body = {0}, sig = {0}, id = {0};
	struct outbound_resp r = {0};
	long long now = (long long)time(NULL);
	const char *h[4];
	char v1[65];
	enum err e;
	int ok;

	buf_printf(&body,
		   "{\"id\":\"evt_%s\",\"type\":\"%s\",\"created\":%lld,"
		   "\"data\":{\"object\":",
		   ev->uuid, ev->type, (long long)ev->created);
	buf_append(&body, ev->payload.data, ev->payload.len);
	buf_puts(&body, "}}");
	buf_append(&body, "", 1);
	body.len--;
	signature_v1(secret, now, body.data, body.len, v1);
	buf_printf(&sig, "Checkoutd-Signature: t=%lld,v1=%s", now, v1);
	if (previous[0] != '\0') {
		signature_v1(previous, now, body.data, body.len, v1);
		buf_printf(&sig, ",v1=%s", v1);
	}
	buf_printf(&id, "Checkoutd-Event-Id: evt_%s", ev->uuid);
	h[0] = "Content-Type: application/json";
	h[1] = id.data;
	h[2] = sig.data;
	h[3] = NULL;
	if (body.failed || sig.failed || id.failed)
		e = ERR_NOMEM;
	else
		e = outbound_send(curl, "POST", config_str("outbox.url"), h,
				  body.data, config_int("outbox.timeout"), &r);
	ok = e == ERR_OK && r.status >= 200 && r.status < 300;
	if (!ok)
		log_warn("event evt_%s (%s) attempt %lld: %s %ld", ev->uuid,
			 ev->type, (long long)ev->attempts,
			 e == ERR_OK ? "HTTP" : err_code(e), r.status);
	buf_free(&body);
	buf_free(&sig);
	buf_free(&id);
	buf_free(&r.body);
	return ok ? 0 : -1;
}

int
outbox_deliver_one(struct db *db, void *curl)
{
	struct event ev = {0};
	struct db_val p[2];
	enum err e;
	int sent;

	if (config_str("outbox.url")[0] == '\0')
		return 0;
	e = db_tx(db, claim_tx, &ev);
	if (e != ERR_OK || ev.id == 0) {
		buf_free(&ev.payload);
		return e == ERR_OK ? 0 : -1;
	}
	sent = send_event(curl, &ev);
	buf_free(&ev.payload);
	if (sent == 0) {
		metrics_inc(MET_EVENTS_DELIVERED);
		p[0] = DB_I(ev.id);
		e = db_exec(db, sql_delivered, p, 1, NULL);
	} else {
		metrics_inc(MET_EVENTS_FAILED);
		p[0] = DB_I(backoff(ev.attempts));
		p[1] = DB_I(ev.id);
		e = db_exec(db, sql_retry, p, 2, NULL);
	}
	return e == ERR_OK ? 1 : -1;
}

void
outbox_run(int stop_fd)
{
	struct db db = {0};
	CURL *curl = curl_easy_init();
	struct pollfd pfd = {.fd = stop_fd, .events = POLLIN};
	int n = 0;

	db_thread_init();
	for (;;) {
		if (poll(&pfd, 1,
			 n == 1 ? 0 : (int)(1000 * config_int("outbox.poll"))) >
		    0)
			break;
		n = outbox_deliver_one(&db, curl);
	}
	db_close(&db);
	curl_easy_cleanup(curl);
	db_thread_end();
}
