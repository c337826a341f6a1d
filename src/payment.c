#include "payment.h"

#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "metrics.h"
#include "order.h"
#include "states.h"
#include "str.h"

static const char sql_lock[] =
    "SELECT o.id, o.state, p.state FROM payments p JOIN orders o ON o.id = "
    "p.order_id WHERE p.id = ? FOR UPDATE";
static const char sql_cas[] =
    "UPDATE payments SET state = ?, decline_code = ?, next_action = NULL, "
    "updated_at = UTC_TIMESTAMP() WHERE id = ? AND state IN (?, ?)";
static const char sql_action[] =
    "UPDATE payments SET next_action = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ? AND state = ?";
static const char sql_fresh[] =
    "INSERT INTO payments (uuid, order_id, method_id, amount, currency, "
    "state) SELECT ?, order_id, method_id, amount, currency, ? FROM "
    "payments WHERE id = ?";

struct locked {
	int64_t order;
	enum order_state order_state;
	char state[16];
};

static enum err
locked_row(void *arg, const struct db_val *c, size_t n)
{
	struct locked *l = arg;

	if (n != 3)
		return ERR_INTERNAL;
	l->order = c[0].i;
	l->order_state = order_state_parse(c[1].s);
	snprintf(l->state, sizeof(l->state), "%s", c[2].s);
	return ERR_OK;
}

/* Writes event type with the order's snapshot as it is now (kept in
 * pool). */
static enum err
event(struct db *db, struct pool *pool, int64_t order, const char *type)
{
	struct json_object *snap = NULL;
	enum err e = order_snapshot(db, pool, order, &snap);

	if (e == ERR_OK)
		e = order_event(db, order, type, snap);
	return e;
}

enum err
payment_record(struct db *db, struct pool *pool, int64_t id,
	       enum pay_outcome outcome, const char *decline,
	       struct json_object *next_action, int *changed)
{
	/* What each outcome but PAY_ACTION does to the payment. */
	static const enum pay_ev events[] = {[PAY_COMPLETED] = PE_SUCCEED,
					     [PAY_FAILED] = PE_FAIL,
					     [PAY_CANCELLED] = PE_CANCEL};
	enum pay_state from[2], to = PS__MAX;
	struct locked l = {0};
	struct db_val p[5];
	uint64_t n = 0;
	char uuid[37];
	enum err e;

	if (changed != NULL)
		*changed = 0;
	p[0] = DB_I(id);
	e = db_query(db, sql_lock, p, 1, locked_row, &l);
	if (e != ERR_OK)
		return e;
	if (l.order == 0)
		return ERR_NOT_FOUND;
	if (outcome == PAY_ACTION) {
		p[0] = next_action != NULL
			   ? DB_S(json_object_to_json_string_ext(
				 next_action, JSON_C_TO_STRING_PLAIN))
			   : DB_N;
		p[1] = DB_I(id);
		p[2] = DB_S(pay_state_names[PS_PROCESSING]);
		e = db_exec(db, sql_action, p, 3, &n);
		if (e == ERR_OK && changed != NULL)
			*changed = n > 0;
		return e;
	}
	/* The table says where the outcome goes and from where; the UPDATE
	 * stays a compare-and-set on those states, so that racing paths
	 * make one transition. */
	if (pay_transition(pay_state_parse(l.state), events[outcome], &to) !=
	    ERR_OK)
		return ERR_OK; /* Recorded before: nothing more to do. */
	if (pay_from(events[outcome], from, 2) != 2)
		return ERR_INTERNAL;
	p[0] = DB_S(pay_state_names[to]);
	p[1] = decline != NULL ? DB_S(decline) : DB_N;
	p[2] = DB_I(id);
	p[3] = DB_S(pay_state_names[from[0]]);
	p[4] = DB_S(pay_state_names[from[1]]);
	e = db_exec(db, sql_cas, p, 5, &n);
	if (e != ERR_OK || n == 0)
		return e; /* Recorded before: nothing more to do. */
	if (changed != NULL)
		*changed = 1;
	/* The order moves by its lifecycle (lifecycle.c). */
	if (outcome == PAY_COMPLETED)
		return lifecycle_paid(db, pool, l.order, id);
	/* Failed or cancelled: the order gets a fresh payment to pay with,
	 * unless the order itself is over. */
	if (decline != NULL)
		metrics_inc(MET_PAYMENTS_DECLINED);
	if (l.order_state == OS_NEW) {
		if (uuid_v4(uuid) != 0)
			return ERR_INTERNAL;
		p[0] = DB_S(uuid);
		p[1] = DB_S(pay_state_names[PS_NEW]);
		p[2] = DB_I(id);
		e = db_exec(db, sql_fresh, p, 3, NULL);
	}
	if (e == ERR_OK && outcome == PAY_FAILED)
		e = event(db, pool, l.order, "payment.failed");
	return e;
}

static const char sql_get[] =
    "SELECT p.id, p.order_id, p.amount, p.attempts, p.uuid, o.uuid, "
    "p.currency, p.state, COALESCE(m.gateway, ''), COALESCE(p.provider_ref, "
    "'') FROM payments p JOIN orders o ON o.id = p.order_id LEFT JOIN "
    "payment_methods m ON m.id = p.method_id WHERE p.id = ?";

static enum err
pay_row(void *arg, const struct db_val *c, size_t n)
{
	struct pay *p = arg;

	if (n != 10)
		return ERR_INTERNAL;
	p->id = c[0].i;
	p->order_id = c[1].i;
	p->amount = c[2].i;
	p->attempts = c[3].i;
	snprintf(p->uuid, sizeof(p->uuid), "%s", c[4].s);
	snprintf(p->order_uuid, sizeof(p->order_uuid), "%s", c[5].s);
	snprintf(p->currency, sizeof(p->currency), "%s", c[6].s);
	p->state = pay_state_parse(c[7].s);
	snprintf(p->gateway, sizeof(p->gateway), "%s", c[8].s);
	snprintf(p->ref, sizeof(p->ref), "%s", c[9].s);
	return ERR_OK;
}

static const char sql_attach[] =
    "UPDATE payments SET method_id = (SELECT id FROM payment_methods WHERE "
    "code = ?), provider_ref = ?, state = ?, updated_at = "
    "UTC_TIMESTAMP() WHERE order_id = ? AND state = ?";

enum err
payment_attach_intent(struct db *db, int64_t order, const char *gateway,
		      const char *ref)
{
	enum pay_state from, to = PS__MAX;
	struct db_val p[5];

	/* Only the new payment moves: one from-state, checked by the table. */
	if (pay_from(PE_START, &from, 1) != 1 ||
	    pay_transition(from, PE_START, &to) != ERR_OK)
		return ERR_INTERNAL;
	p[0] = DB_S(gateway);
	p[1] = DB_S(ref);
	p[2] = DB_S(pay_state_names[to]);
	p[3] = DB_I(order);
	p[4] = DB_S(pay_state_names[from]);
	return db_exec(db, sql_attach, p, 5, NULL);
}

enum err
payment_get(struct db *db, int64_t id, struct pay *p)
{
	struct db_val v = DB_I(id);

	memset(p, 0, sizeof(*p));
	return db_query(db, sql_get, &v, 1, pay_row, p);
}

static const char sql_by_ref[] =
    "SELECT id FROM payments WHERE provider_ref = ? ORDER BY id DESC "
    "LIMIT 1";

enum err
payment_by_ref(struct db *db, const char *ref, int64_t *id)
{
	struct db_val v = DB_S(ref);

	return db_int(db, sql_by_ref, &v, 1, id);
}

static const char sql_seen[] =
    "INSERT IGNORE INTO webhook_events (event_id, type) VALUES (?, ?)";

struct event_ctx {
	const struct pay_event *ev;
	struct pool *pool;
	struct pay_event_out *out; /* zeroed before each run (db_tx_out) */
};

static enum err
event_tx(struct db *db, void *arg)
{
	struct event_ctx *c = arg;
	const struct pay_event *ev = c->ev;
	struct db_val p[2] = {DB_S(ev->id), DB_S(ev->type)};
	int64_t payment = 0;
	uint64_t n = 0;
	enum err e;

	e = db_exec(db, sql_seen, p, 2, &n);
	if (e != ERR_OK)
		return e;
	if (n == 0) {
		c->out->seen = 1;
		return ERR_OK;
	}
	if (ev->ref == NULL)
		return ERR_OK; /* A type we do not act on: noted, ignored. */
	e = payment_by_ref(db, ev->ref, &payment);
	if (e != ERR_OK)
		return e;
	if (payment == 0) {
		/* Perhaps the purchase has not stored the intent yet: roll
		 * back (the event id too) so the provider retries. */
		c->out->unknown_payment = 1;
		return ERR_BUSY;
	}
	return payment_record(db, c->pool, payment, ev->outcome, ev->decline,
			      NULL, NULL);
}

enum err
payment_event(struct db *db, struct pool *pool, const struct pay_event *ev,
	      struct pay_event_out *out)
{
	struct event_ctx c = {ev, pool, out};

	return db_tx_out(db, pool, out, sizeof(*out), event_tx, &c);
}
