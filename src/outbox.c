#include "outbox.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "outbound.h"
#include "pool.h"
#include "str.h"
#include "stripe.h"

/* Events claimed at once: at most one per order (the claim takes only an
 * order's oldest undelivered event), recorded together. */
#define OUTBOX_BATCH 16

struct event {
	int64_t id, attempts, created;
	char uuid[37], type[33];
	const char *payload; /* the pool's */
	size_t len;
};

struct batch {
	struct pool *pool;
	/* What the claim gives: zeroed before each run (db_tx_out). */
	struct claimed {
		struct event ev[OUTBOX_BATCH];
		size_t n;
		unsigned char claim[16]; /* This claim's tag. */
		int mine[OUTBOX_BATCH];	 /* sql_mine found it claimed. */
	} out;
	/* After the claim: the results of the sends, to record. */
	const int *sent;
};

/* The oldest due events whose orders have no earlier undelivered event;
 * rows another deliverer holds are skipped, not waited for. */
static const char sql_claim[] =
    "SELECT e.id, e.uuid, e.type, e.payload, e.attempts, "
    "CAST(UNIX_TIMESTAMP(e.created_at) AS SIGNED) FROM outbox_events e "
    "WHERE e.delivered_at IS NULL AND e.next_attempt_at <= UTC_TIMESTAMP() "
    "AND (e.lease_until IS NULL OR e.lease_until < UTC_TIMESTAMP()) AND NOT "
    "EXISTS (SELECT 1 FROM outbox_events p WHERE p.order_id = e.order_id "
    "AND p.id < e.id AND p.delivered_at IS NULL) ORDER BY e.id LIMIT 16 FOR "
    "UPDATE SKIP LOCKED";
/* The ids as a JSON array: a join, so each row is found by its key. */
#define BY_IDS                                                                 \
	"JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j JOIN "           \
	"outbox_events e ON e.id = j.id"
/* The claim: only rows still free (FOR UPDATE SKIP LOCKED is one node's:
 * on Galera another host may have claimed them; its claim then fails
 * this one's certification, or this one sees it here). */
static const char sql_lease[] =
    "UPDATE " BY_IDS " SET e.lease_until = UTC_TIMESTAMP() + INTERVAL ? "
    "SECOND, e.attempts = e.attempts + 1, e.claim = ? WHERE e.delivered_at "
    "IS NULL AND (e.lease_until IS NULL OR e.lease_until < "
    "UTC_TIMESTAMP())";
static const char sql_mine[] = "SELECT e.id FROM " BY_IDS " WHERE e.claim = ?";
/* Recorded only while the claim is still this deliverer's. */
static const char sql_delivered[] =
    "UPDATE " BY_IDS " SET e.delivered_at = UTC_TIMESTAMP(), "
    "e.lease_until = NULL, e.claim = NULL WHERE e.claim = ?";
static const char sql_retry[] =
    "UPDATE outbox_events SET next_attempt_at = UTC_TIMESTAMP() + INTERVAL "
    "? SECOND, lease_until = NULL, claim = NULL WHERE id = ? AND claim = ?";
/* On Galera, before the record: a read, the transaction's first statement,
 * so that it waits until its node has applied every write set the cluster
 * ordered before it (the connection's wsrep_sync_wait, db.c's
 * causal_reads), and the record's conditional UPDATEs see the claim also
 * on a node other than the one that took it, as after a failover. */
static const char sql_caught_up[] =
    "SELECT COUNT(*) FROM " BY_IDS " WHERE e.claim = ?";

/*
 * The seconds a record of the sends may need when its database node is
 * lost under it: a statement that hangs until database.read_timeout (a
 * COMMIT in flight on a node being cut off from the others waits until
 * the node sees itself alone), then a connection to another host of
 * database.hosts (connect_timeout) and the record there (read_timeout at
 * most).
 */
static int64_t
record_reserve(void)
{
	return 2 * config_int("database.read_timeout") +
	       config_int("database.connect_timeout");
}

/* A claim's lease: a whole batch of sends, each up to outbox.timeout, and
 * the record of their outcomes after them. A crashed deliverer's claim
 * expires and another takes the events over. */
static int64_t
lease_seconds(void)
{
	return (int64_t)(OUTBOX_BATCH + 1) * config_int("outbox.timeout") +
	       record_reserve();
}

static enum err
event_row(void *arg, const struct db_val *c, size_t n)
{
	struct batch *b = arg;
	struct event *ev;
	char *payload;

	if (n != 6 || b->out.n == OUTBOX_BATCH)
		return ERR_INTERNAL;
	ev = &b->out.ev[b->out.n++];
	ev->id = c[0].i;
	snprintf(ev->uuid, sizeof(ev->uuid), "%s", c[1].s);
	snprintf(ev->type, sizeof(ev->type), "%s", c[2].s);
	payload = pool_grow(b->pool, NULL, c[3].len + 1);
	if (payload == NULL)
		return ERR_NOMEM;
	memcpy(payload, c[3].s, c[3].len);
	payload[c[3].len] = '\0';
	ev->payload = payload;
	ev->len = c[3].len;
	ev->attempts = c[4].i + 1;
	ev->created = c[5].i;
	return ERR_OK;
}

/* The ids of b's events, as a JSON array: all of them when sent is NULL,
 * else those whose sent[i] is want. */
static void
ids_json(const struct batch *b, const int *sent, int want, struct buf *out)
{
	size_t i;
	int first = 1;

	buf_reset(out);
	buf_puts(out, "[");
	for (i = 0; i < b->out.n; i++) {
		if (sent != NULL && sent[i] != want)
			continue;
		buf_printf(out, "%s%lld", first ? "" : ",",
			   (long long)b->out.ev[i].id);
		first = 0;
	}
	buf_puts(out, "]");
}

static int64_t backoff(int64_t attempts);

static enum err
mine_row(void *arg, const struct db_val *c, size_t n)
{
	struct batch *b = arg;
	size_t i;

	if (n != 1 || c[0].type != DB_I64)
		return ERR_INTERNAL;
	for (i = 0; i < b->out.n; i++)
		if (b->out.ev[i].id == c[0].i)
			b->out.mine[i] = 1;
	return ERR_OK;
}

/* Drops the events of b that sql_mine did not find claimed. */
static void
keep_mine(struct batch *b)
{
	size_t i, k = 0;

	for (i = 0; i < b->out.n; i++) {
		if (!b->out.mine[i])
			continue;
		if (k != i)
			b->out.ev[k] = b->out.ev[i];
		k++;
	}
	b->out.n = k;
}

static enum err
claim_tx(struct db *db, void *arg)
{
	struct batch *b = arg;
	struct buf ids = {0};
	struct db_val p[3];
	uint64_t claimed = 0;
	enum err e;

	/* A new tag each run. */
	if (getrandom(b->out.claim, sizeof(b->out.claim), 0) !=
	    (ssize_t)sizeof(b->out.claim))
		return ERR_INTERNAL;
	e = db_query(db, sql_claim, NULL, 0, event_row, b);
	if (e != ERR_OK || b->out.n == 0)
		return e;
	ids_json(b, NULL, 0, &ids);
	p[0] = DB_S(ids.data);
	p[1] = DB_I(lease_seconds());
	p[2] = DB_B((const char *)b->out.claim, sizeof(b->out.claim));
	e = ids.failed ? ERR_NOMEM : db_exec(db, sql_lease, p, 3, &claimed);
	if (e == ERR_OK && claimed < b->out.n) {
		/* Some were claimed elsewhere meanwhile: only ours are sent. */
		p[1] = p[2];
		e = db_query(db, sql_mine, p, 2, mine_row, b);
		if (e == ERR_OK)
			keep_mine(b);
	}
	buf_free(&ids);
	return e;
}

/* Records what the sends gave, while the claim is still ours: the
 * delivered ones in one statement, each failure with its own delay (on
 * Galera after a read that has caught up with the cluster). */
static enum err
record_tx(struct db *db, void *arg)
{
	struct batch *b = arg;
	struct db_val tag =
	    DB_B((const char *)b->out.claim, sizeof(b->out.claim));
	struct buf ids = {0};
	struct db_val p[3];
	int64_t ours = 0;
	int delivered = 0;
	enum err e = ERR_OK;
	size_t i;

	if (db->wsrep) {
		ids_json(b, NULL, 0, &ids);
		p[0] = DB_S(ids.data);
		p[1] = tag;
		e = ids.failed ? ERR_NOMEM
			       : db_int(db, sql_caught_up, p, 2, &ours);
		/* A plain read, the transaction's first statement, waits
		 * for no lock and conflicts with nothing: a retry (1205) is
		 * its causality check failing (the node is outside the
		 * primary component, or losing it), a node to leave, not a
		 * conflict to run again on it. */
		if (e == ERR_DB_RETRY)
			e = db_leave_host(db, "its causality check failed");
		if (e != ERR_OK || ours == 0) {
			/* None is this claim's any more: recorded by an
			 * earlier attempt whose answer was lost, or taken
			 * over once the lease ran out. */
			buf_free(&ids);
			return e;
		}
	}
	for (i = 0; i < b->out.n; i++)
		delivered += b->sent[i] == 1;
	if (delivered > 0) {
		ids_json(b, b->sent, 1, &ids);
		p[0] = DB_S(ids.data);
		p[1] = tag;
		e = ids.failed ? ERR_NOMEM
			       : db_exec(db, sql_delivered, p, 2, NULL);
	}
	for (i = 0; e == ERR_OK && i < b->out.n; i++) {
		if (b->sent[i] == 1)
			continue;
		/* Not tried (-1): due again at once. */
		p[0] =
		    DB_I(b->sent[i] == 0 ? backoff(b->out.ev[i].attempts) : 0);
		p[1] = DB_I(b->out.ev[i].id);
		p[2] = tag;
		e = db_exec(db, sql_retry, p, 3, NULL);
	}
	buf_free(&ids);
	return e;
}

/* checkoutd's deliverer thread's stop event (outbox_run); -1 for
 * checkoutctl deliver. */
static int stop_event = -1;

/*
 * Records what the sends gave (record_tx). A record that fails because
 * its database node went away (lost, hung past read_timeout, cut off from
 * the primary component: the host is then marked down) is made again,
 * through the next host of database.hosts, until the lease ends (t0: when
 * the claim began): a send not recorded by then is sent again by the next
 * claim. Making it twice is harmless: its UPDATEs are conditional on the
 * claim's tag, which a first record that did commit cleared.
 */
static enum err
record(struct db *db, struct batch *b, const struct timespec *t0)
{
	/* The pause polls the thread's stop event (none: -1, poll only
	 * waits): a shutdown does not wait for the lease. */
	struct pollfd stop = {.fd = stop_event, .events = POLLIN};
	struct timespec now;
	int again = 0;
	enum err e;

	for (;;) {
		e = db_tx(db, record_tx, b);
		if (e != ERR_DATABASE_UNAVAILABLE && e != ERR_DB_RETRY)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0->tv_sec >= lease_seconds())
			break;
		/* The first time at once, on the next host; then with a
		 * pause, while no host takes it. */
		if (again++ > 0 && poll(&stop, 1, 250) > 0)
			break;
	}
	if (e == ERR_OK && again > 0)
		log_info("outbox: %zu outcomes recorded on another database "
			 "host after %d failed attempt%s",
			 b->out.n, again, again > 1 ? "s" : "");
	else if (e != ERR_OK)
		log_error("outbox: %zu outcomes not recorded: those sent "
			  "may be sent again once the lease ends",
			  b->out.n);
	return e;
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
	buf_append(&body, ev->payload, ev->len);
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
outbox_deliver(struct db *db, void *curl)
{
	struct pool pool = {0}; /* The round's, as a request's. */
	struct batch *b;
	int sent[OUTBOX_BATCH], n; /* 1 delivered, 0 failed, -1 not tried */
	struct timespec t0, now;
	int64_t lease;
	enum err e;
	size_t i;

	if (config_str("outbox.url")[0] == '\0')
		return 0;
	b = pool_alloc(&pool, sizeof(*b));
	if (b == NULL) {
		pool_free(&pool);
		return -1;
	}
	b->pool = &pool;
	for (i = 0; i < OUTBOX_BATCH; i++)
		sent[i] = -1;
	lease = lease_seconds();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = db_tx_out(db, &pool, &b->out, sizeof(b->out), claim_tx, b);
	for (i = 0; e == ERR_OK && i < b->out.n; i++) {
		/* A send whose record could end after the lease is left
		 * for the next claim (a stalled process: the receiver
		 * dedupes by event id, but no deliverer sends it twice
		 * knowingly). */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + config_int("outbox.timeout") + 1 +
			record_reserve() >=
		    lease)
			break;
		sent[i] = send_event(curl, &b->out.ev[i]) == 0;
		metrics_inc(sent[i] ? MET_EVENTS_DELIVERED : MET_EVENTS_FAILED);
	}
	b->sent = sent;
	if (e == ERR_OK && b->out.n > 0)
		e = record(db, b, &t0);
	n = e == ERR_OK ? (int)b->out.n : -1;
	pool_free(&pool);
	return n;
}

void
outbox_run(int stop_fd)
{
	struct db db = {0};
	CURL *curl = curl_easy_init();
	struct pollfd pfd = {.fd = stop_fd, .events = POLLIN};
	int n = 0;

	stop_event = stop_fd;
	db_thread_init();
	for (;;) {
		if (poll(&pfd, 1,
			 n > 0 ? 0 : (int)(1000 * config_int("outbox.poll"))) >
		    0)
			break;
		n = outbox_deliver(&db, curl);
	}
	db_close(&db);
	curl_easy_cleanup(curl);
	db_thread_end();
}
