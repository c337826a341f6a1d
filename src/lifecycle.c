#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "order.h"
#include "payment.h"
#include "states.h"
#include "stock.h"
#include "str.h"
#include "stripe.h"
#include "usage.h"

/* An order's three states, as locked. */
struct ord {
	enum order_state state;
	enum opay_state payment;
	enum ship_state shipping;
	int found;
};

static const char sql_lock[] =
    "SELECT state, payment_state, shipping_state FROM orders WHERE id = ? "
    "FOR UPDATE";

static enum err
ord_row(void *arg, const struct db_val *c, size_t n)
{
	struct ord *o = arg;

	if (n != 3)
		return ERR_INTERNAL;
	o->found = 1;
	o->state = order_state_parse(c[0].s);
	o->payment = opay_state_parse(c[1].s);
	o->shipping = ship_state_parse(c[2].s);
	return ERR_OK;
}

/* Locks order id; 404 for an order that does not exist or is a cart. */
static enum err
lock_order(struct db *db, int64_t id, struct ord *o)
{
	struct db_val p = DB_I(id);
	enum err e;

	memset(o, 0, sizeof(*o));
	e = db_query(db, sql_lock, &p, 1, ord_row, o);
	if (e == ERR_OK && (!o->found || o->state == OS_CART))
		e = ERR_NOT_FOUND;
	/* A name no table knows would be written back out of bounds. */
	if (e == ERR_OK && (o->state == OS__MAX || o->payment == OPS__MAX ||
			    o->shipping == SS__MAX))
		e = ERR_INTERNAL;
	return e;
}

static const char sql_payment_in[] =
    "SELECT p.id FROM payments p WHERE p.order_id = ? AND p.state = ? "
    "ORDER BY p.id DESC LIMIT 1";

/* The newest payment of order id in state, or 0. */
static enum err
payment_in(struct db *db, int64_t id, enum pay_state state, int64_t *pid)
{
	struct db_val p[2] = {DB_I(id), DB_S(pay_state_names[state])};

	return db_int(db, sql_payment_in, p, 2, pid);
}

/* The snapshot of order id into *out, kept in pool. */
static enum err
kept_snapshot(struct db *db, struct pool *pool, int64_t id,
	      struct json_object **out)
{
	return order_snapshot(db, pool, id, out);
}

/* The event type of order id, with its snapshot (into *snapshot, kept in
 * pool). */
static enum err
event(struct db *db, struct pool *pool, int64_t id, const char *type,
      struct json_object **snapshot)
{
	enum err e = kept_snapshot(db, pool, id, snapshot);

	return e == ERR_OK ? order_event(db, id, type, *snapshot) : e;
}

/* Mark-paid. */

struct op {
	int64_t id;
	const char *tracking;
	struct pool *pool;
	/* What a transaction gives: zeroed before each run (db_tx_out). */
	struct op_out {
		struct json_object *snapshot; /* pool's */
	} out;
	const char *why;
	/* cancel and refund */
	int64_t asked; /* refund: the amount asked for; 0, all that is left */
	/* What a check transaction finds: zeroed before each run (check_tx,
	 * db_tx_out), kept for the provider's call and the recording. */
	struct op_check {
		struct pay pay;
		int64_t amount, refunded, refund_n;
	} chk;
	char refund_ref[128];
	struct verr *v;
	/* The caller's answer, given the order inside the operation's
	 * transaction (an idempotent answer is stored with the work); may
	 * be NULL. */
	order_answer_fn *answer;
	void *arg;
	enum err (*run)(struct db *db, void *arg); /* op_tx's transaction */
};

static enum err
refuse(struct op *c, const char *why)
{
	c->why = why;
	return ERR_INVALID_TRANSITION;
}

/* c->run, then the answer with the order it leaves. */
static enum err
op_run(struct db *db, void *arg)
{
	struct op *c = arg;
	enum err e = c->run(db, c);

	if (e == ERR_OK && c->answer != NULL)
		c->answer(c->arg, c->out.snapshot);
	return e;
}

/* Runs fn, a transaction of c that gives c->out (db_tx_out), answered
 * inside it. */
static enum err
op_tx(struct db *db, struct op *c, enum err (*fn)(struct db *db, void *arg))
{
	c->run = fn;
	return db_tx_out(db, c->pool, &c->out, sizeof(c->out), op_run, c);
}

/* Runs fn, a check of a cancel or refund that gives c->chk (db_tx_out). */
static enum err
check_tx(struct db *db, struct op *c, enum err (*fn)(struct db *db, void *arg))
{
	return db_tx_out(db, c->pool, &c->chk, sizeof(c->chk), fn, c);
}

static enum err
mark_paid_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	struct ord o;
	struct pay pay;
	int64_t pid = 0;
	enum err e;

	e = lock_order(db, c->id, &o);
	if (e != ERR_OK)
		return e;
	if (o.state == OS_CANCELLED ||
	    opay_transition(o.payment, OPE_PAY, NULL) != ERR_OK)
		return refuse(c, "the order is not awaiting payment");
	e = payment_in(db, c->id, PS_NEW, &pid);
	if (e == ERR_OK && pid == 0)
		return refuse(c, "the order has no open payment");
	if (e == ERR_OK)
		e = payment_get(db, pid, &pay);
	if (e == ERR_OK && strcmp(pay.gateway, "offline") != 0)
		return refuse(c, "only offline payments are marked paid");
	if (e == ERR_OK)
		e = payment_record(db, c->pool, pid, PAY_COMPLETED, NULL, NULL,
				   NULL);
	if (e == ERR_OK)
		e = kept_snapshot(db, c->pool, c->id, &c->out.snapshot);
	return e;
}

static enum err
finish(enum err e, struct op *c, struct json_object **snapshot,
       const char **why)
{
	*why = c->why;
	*snapshot = e == ERR_OK ? c->out.snapshot : NULL;
	return e;
}

enum err
lifecycle_mark_paid(struct db *db, struct pool *pool, int64_t id,
		    struct json_object **snapshot, const char **why,
		    order_answer_fn *answer, void *arg)
{
	struct op c = {.id = id, .pool = pool, .answer = answer, .arg = arg};

	return finish(op_tx(db, &c, mark_paid_tx), &c, snapshot, why);
}

/* Ship. */

static const char sql_ship_shipments[] =
    "UPDATE shipments SET state = ?, tracking = COALESCE(?, tracking) "
    "WHERE order_id = ? AND state = ?";
static const char sql_order_states[] =
    "UPDATE orders SET state = ?, payment_state = ?, shipping_state = ?, "
    "updated_at = UTC_TIMESTAMP() WHERE id = ?";

/* An order paid and shipped, whichever came last, is fulfilled. */
static enum order_state
fulfilled(const struct ord *o)
{
	enum order_state to = o->state;

	if (o->payment == OPS_PAID && o->shipping == SS_SHIPPED &&
	    order_transition(o->state, OE_FULFIL, &to) != ERR_OK)
		to = o->state;
	return to;
}

/* Writes o's states to order id and settles its agenda entry. */
static enum err
write_states(struct db *db, int64_t id, const struct ord *o)
{
	struct db_val p[4] = {DB_S(order_state_names[o->state]),
			      DB_S(opay_state_names[o->payment]),
			      DB_S(ship_state_names[o->shipping]), DB_I(id)};
	enum err e = db_exec(db, sql_order_states, p, 4, NULL);

	return e == ERR_OK ? booking_settle(db, id, o->state) : e;
}

static enum err
ship_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	enum ship_state ready = SS__MAX;
	struct db_val p[4];
	struct ord o;
	enum err e;

	e = lock_order(db, c->id, &o);
	if (e != ERR_OK)
		return e;
	if (o.state != OS_NEW ||
	    ship_transition(o.shipping, SE_SHIP, &o.shipping) != ERR_OK ||
	    ship_from(SE_SHIP, &ready, 1) != 1)
		return refuse(c, "the order is not ready to ship");
	o.state = fulfilled(&o);
	/* The shipments move as the order's shipping_state does. */
	p[0] = DB_S(ship_state_names[o.shipping]);
	p[1] = c->tracking != NULL ? DB_S(c->tracking) : DB_N;
	p[2] = DB_I(c->id);
	p[3] = DB_S(ship_state_names[ready]);
	e = db_exec(db, sql_ship_shipments, p, 4, NULL);
	if (e == ERR_OK)
		e = stock_ship(db, c->id);
	if (e == ERR_OK)
		e = write_states(db, c->id, &o);
	if (e == ERR_OK)
		e = event(db, c->pool, c->id, "order.shipped",
			  &c->out.snapshot);
	return e;
}

enum err
lifecycle_ship(struct db *db, struct pool *pool, int64_t id,
	       const char *tracking, struct json_object **snapshot,
	       const char **why, order_answer_fn *answer, void *arg)
{
	struct op c = {.id = id,
		       .tracking = tracking,
		       .pool = pool,
		       .answer = answer,
		       .arg = arg};

	return finish(op_tx(db, &c, ship_tx), &c, snapshot, why);
}

/* Paid. */

static const char sql_needs_refund[] =
    "UPDATE orders SET needs_refund = 1, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

enum err
lifecycle_paid(struct db *db, struct pool *pool, int64_t id, int64_t payment)
{
	struct json_object *snap = NULL;
	struct db_val p = DB_I(id);
	struct ord o;
	enum err e = lock_order(db, id, &o);

	if (e != ERR_OK)
		return e;
	if (o.state == OS_CANCELLED) {
		/* The money came after we gave up on the order. */
		log_warn("payment %lld succeeded for cancelled order %lld: "
			 "needs refund",
			 (long long)payment, (long long)id);
		metrics_inc(MET_NEEDS_REFUND);
		return db_exec(db, sql_needs_refund, &p, 1, NULL);
	}
	metrics_inc(MET_PAYMENTS_COMPLETED);
	if (opay_transition(o.payment, OPE_PAY, &o.payment) != ERR_OK) {
		log_warn("payment %lld succeeded for order %lld in payment "
			 "state %s: left as it is",
			 (long long)payment, (long long)id,
			 opay_state_names[o.payment]);
		return ERR_OK;
	}
	o.state = fulfilled(&o);
	e = write_states(db, id, &o);
	if (e == ERR_OK)
		e = event(db, pool, id, "order.paid", &snap);
	return e; /* The event's own: nobody is given the snapshot. */
}

/* Refund. */

static const char sql_refunded[] =
    "SELECT CAST(COALESCE(SUM(amount), 0) AS SIGNED), COUNT(*) FROM refunds "
    "WHERE payment_id = ?";

/* The completed payment of a paid order and what is refunded of it. */
static enum err
refundable(struct db *db, struct op *c)
{
	int64_t pid = 0, r[2] = {0, 0};
	struct db_val p;
	enum err e = payment_in(db, c->id, PS_COMPLETED, &pid);

	if (e == ERR_OK && pid == 0)
		return refuse(c, "the order has no completed payment");
	if (e == ERR_OK)
		e = payment_get(db, pid, &c->chk.pay);
	p = DB_I(pid);
	if (e == ERR_OK)
		e = db_query(db, sql_refunded, &p, 1, db_row_two_ints, r);
	c->chk.refunded = r[0];
	c->chk.refund_n = r[1];
	return e;
}

static enum err
refund_check_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	struct ord o;
	enum err e = lock_order(db, c->id, &o);

	if (e != ERR_OK)
		return e;
	if (opay_transition(o.payment, OPE_REFUND_PART, NULL) != ERR_OK)
		return refuse(c, "the order is not paid");
	e = refundable(db, c);
	if (e != ERR_OK)
		return e;
	/* Set on every run: a retried one sees what is refunded by then. */
	c->chk.amount =
	    c->asked != 0 ? c->asked : c->chk.pay.amount - c->chk.refunded;
	if (c->chk.amount <= 0 ||
	    c->chk.amount > c->chk.pay.amount - c->chk.refunded) {
		verr_add(c->v, "amount", "is more than what is left to refund");
		return ERR_VALIDATION_FAILED;
	}
	return ERR_OK;
}

static const char sql_refund_insert[] =
    "INSERT INTO refunds (uuid, payment_id, amount, provider_ref) VALUES "
    "(?, ?, ?, ?)";
static const char sql_refund_payment[] =
    "UPDATE payments SET state = IF(? >= amount, ?, state), updated_at = "
    "UTC_TIMESTAMP() WHERE id = ?";
static const char sql_refund_order[] =
    "UPDATE orders SET payment_state = ?, updated_at = UTC_TIMESTAMP() "
    "WHERE id = ?";

/* Records a refund the provider made (or an offline one); *order_pay, the
 * order's payment_state, moves by the table. */
static enum err
record_refund(struct db *db, struct op *c, enum opay_state *order_pay)
{
	char uuid[37];
	int64_t total = c->chk.refunded + c->chk.amount;
	enum opay_ev ev =
	    total >= c->chk.pay.amount ? OPE_REFUND : OPE_REFUND_PART;
	enum pay_state refunded = PS__MAX;
	struct db_val p[4];
	enum err e;

	/* c->chk.pay is the order's completed payment (refundable): a refund
	 * of all of it moves it to refunded. */
	if (pay_transition(c->chk.pay.state, PE_REFUND, &refunded) != ERR_OK)
		return ERR_INTERNAL;
	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(c->chk.pay.id);
	p[2] = DB_I(c->chk.amount);
	p[3] = c->refund_ref[0] ? DB_S(c->refund_ref) : DB_N;
	e = db_exec(db, sql_refund_insert, p, 4, NULL);
	p[0] = DB_I(total);
	p[1] = DB_S(pay_state_names[refunded]);
	p[2] = DB_I(c->chk.pay.id);
	if (e == ERR_OK)
		e = db_exec(db, sql_refund_payment, p, 3, NULL);
	/* The provider has refunded: the refund is kept whatever the order's
	 * state says (a race with another refund or a cancel). */
	if (e != ERR_OK ||
	    opay_transition(*order_pay, ev, order_pay) != ERR_OK) {
		if (e == ERR_OK)
			log_warn("order %lld: a refund recorded in payment "
				 "state %s",
				 (long long)c->id,
				 opay_state_names[*order_pay]);
		return e;
	}
	p[0] = DB_S(opay_state_names[*order_pay]);
	p[1] = DB_I(c->id);
	return db_exec(db, sql_refund_order, p, 2, NULL);
}

static enum err
refund_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	struct ord o;
	int64_t amount = c->chk.amount, before = c->chk.refunded;
	enum err e;

	e = lock_order(db, c->id, &o);
	if (e == ERR_OK)
		e = refundable(db, c);
	if (e != ERR_OK)
		return e;
	/* Another refund landed between the check and now: the provider
	 * refunded against its own total, so only the amount is recorded. */
	if (c->chk.refunded != before)
		log_warn("order %lld: refunds changed during a refund",
			 (long long)c->id);
	c->chk.amount = amount;
	e = record_refund(db, c, &o.payment);
	if (e == ERR_OK)
		e = event(db, c->pool, c->id, "order.refunded",
			  &c->out.snapshot);
	return e;
}

/* The provider's part of a refund of c->chk.amount: nothing for offline. */
static enum err
refund_at_provider(void *curl, struct op *c)
{
	char key[80];

	if (strcmp(c->chk.pay.gateway, "stripe") != 0 ||
	    c->chk.pay.ref[0] == '\0')
		return ERR_OK;
	snprintf(key, sizeof(key), "%s-refund-%lld", c->chk.pay.uuid,
		 (long long)c->chk.refund_n + 1);
	return stripe_refund(curl, c->chk.pay.ref, c->chk.amount, key,
			     c->refund_ref, sizeof(c->refund_ref));
}

enum err
lifecycle_refund(struct db *db, struct pool *pool, void *curl, int64_t id,
		 int64_t amount, struct json_object **snapshot,
		 const char **why, struct verr *v, order_answer_fn *answer,
		 void *arg)
{
	struct op c = {.id = id,
		       .asked = amount,
		       .v = v,
		       .pool = pool,
		       .answer = answer,
		       .arg = arg};
	enum err e = check_tx(db, &c, refund_check_tx);

	if (e == ERR_OK)
		e = refund_at_provider(curl, &c);
	if (e == ERR_OK)
		e = op_tx(db, &c, refund_tx);
	return finish(e, &c, snapshot, why);
}

/* Cancel. */

/*
 * Whether the locked order o may be cancelled: a placed order whose
 * shipments have not left (o's states after the cancel in *to), and
 * whose payment is not at the provider right now.
 */
static enum err
cancellable(struct db *db, struct op *c, const struct ord *o, struct ord *to)
{
	int64_t pid = 0;
	enum err e;

	*to = *o;
	if (order_transition(o->state, OE_CANCEL, &to->state) != ERR_OK ||
	    ship_transition(o->shipping, SE_CANCEL, &to->shipping) != ERR_OK)
		return refuse(c, "only a placed order not yet shipped can be "
				 "cancelled");
	e = payment_in(db, c->id, PS_PROCESSING, &pid);
	if (e == ERR_OK && pid != 0)
		return ERR_PAYMENT_IN_PROGRESS;
	return e;
}

static enum err
cancel_check_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	int64_t pid = 0;
	struct ord o, to;
	enum err e = lock_order(db, c->id, &o);

	if (e == ERR_OK)
		e = cancellable(db, c, &o, &to);
	if (e != ERR_OK)
		return e;
	if (o.payment == OPS_AWAITING_PAYMENT) {
		e = payment_in(db, c->id, PS_NEW, &pid);
		if (e == ERR_OK && pid != 0)
			e = payment_get(db, pid, &c->chk.pay);
	} else if (opay_transition(o.payment, OPE_REFUND_PART, NULL) ==
		   ERR_OK) {
		/* Paid: what is left is refunded first. */
		e = refundable(db, c);
		c->chk.amount = c->chk.pay.amount - c->chk.refunded;
	}
	return e;
}

static const char sql_cancel_payments[] =
    "UPDATE payments SET state = ?, updated_at = UTC_TIMESTAMP() WHERE "
    "order_id = ? AND state IN (?, ?)";
static const char sql_cancel_shipments[] =
    "UPDATE shipments SET state = ? WHERE order_id = ? AND state IN (?, ?)";

/* The shipments of order id that have not left are cancelled with it: a
 * compare-and-set on the states the table cancels from. */
static enum err
cancel_shipments(struct db *db, int64_t id)
{
	enum ship_state from[2], to = SS__MAX;
	struct db_val p[4];

	if (ship_from(SE_CANCEL, from, 2) != 2 ||
	    ship_transition(from[0], SE_CANCEL, &to) != ERR_OK)
		return ERR_INTERNAL;
	p[0] = DB_S(ship_state_names[to]);
	p[1] = DB_I(id);
	p[2] = DB_S(ship_state_names[from[0]]);
	p[3] = DB_S(ship_state_names[from[1]]);
	return db_exec(db, sql_cancel_shipments, p, 4, NULL);
}

/* The payments of order id not yet sent anywhere are voided with it: a
 * compare-and-set on the states the table voids from. */
static enum err
void_payments(struct db *db, int64_t id)
{
	enum pay_state from[2], to = PS__MAX;
	struct db_val p[4];

	if (pay_from(PE_VOID, from, 2) != 2 ||
	    pay_transition(from[0], PE_VOID, &to) != ERR_OK)
		return ERR_INTERNAL;
	p[0] = DB_S(pay_state_names[to]);
	p[1] = DB_I(id);
	p[2] = DB_S(pay_state_names[from[0]]);
	p[3] = DB_S(pay_state_names[from[1]]);
	return db_exec(db, sql_cancel_payments, p, 4, NULL);
}

static enum err
cancel_tx(struct db *db, void *arg)
{
	struct op *c = arg;
	struct ord o, to;
	enum err e;

	e = lock_order(db, c->id, &o);
	if (e == ERR_OK)
		e = cancellable(db, c, &o, &to);
	if (e == ERR_OK && c->chk.amount > 0) {
		e = refundable(db, c);
		if (e == ERR_OK)
			e = record_refund(db, c, &o.payment);
	}
	/* Unpaid, the order's payment is cancelled; paid, it was refunded. */
	if (e == ERR_OK &&
	    opay_transition(o.payment, OPE_CANCEL, &to.payment) != ERR_OK)
		e = ERR_INTERNAL;
	if (e == ERR_OK)
		e = stock_release(db, c->id);
	if (e == ERR_OK)
		e = usage_return(db, c->id);
	if (e == ERR_OK)
		e = void_payments(db, c->id);
	if (e == ERR_OK)
		e = cancel_shipments(db, c->id);
	if (e == ERR_OK)
		e = write_states(db, c->id, &to);
	if (e == ERR_OK)
		e = event(db, c->pool, c->id, "order.cancelled",
			  &c->out.snapshot);
	return e;
}

static enum err
record_paid_tx(struct db *db, void *arg)
{
	struct op *c = arg;

	return payment_record(db, c->pool, c->chk.pay.id, PAY_COMPLETED, NULL,
			      NULL, NULL);
}

/* The provider's part of a cancel: an open intent cancelled (if it turns
 * out to have succeeded, that is recorded and the cancel refunds it); a
 * paid order refunded. */
static enum err
cancel_at_provider(struct db *db, void *curl, struct op *c)
{
	struct pi p = {0};
	char key[80];
	enum err e;

	if (c->chk.amount > 0)
		return refund_at_provider(curl, c);
	if (strcmp(c->chk.pay.gateway, "stripe") != 0 ||
	    c->chk.pay.ref[0] == '\0')
		return ERR_OK;
	snprintf(key, sizeof(key), "%s-cancel", c->chk.pay.uuid);
	e = stripe_cancel(curl, c->pool, c->chk.pay.ref, key, &p);
	if (e == ERR_OK && strcmp(p.status, "succeeded") == 0) {
		/* Paid after all: recorded, and not cancelled. */
		e = db_tx(db, record_paid_tx, c);
		if (e == ERR_OK)
			e = refuse(c, "the payment succeeded meanwhile: the "
				      "order is paid");
	}
	return e;
}

enum err
lifecycle_cancel(struct db *db, struct pool *pool, void *curl, int64_t id,
		 struct json_object **snapshot, const char **why,
		 order_answer_fn *answer, void *arg)
{
	struct op c = {.id = id, .pool = pool, .answer = answer, .arg = arg};
	enum err e = check_tx(db, &c, cancel_check_tx);

	if (e == ERR_OK)
		e = cancel_at_provider(db, curl, &c);
	if (e == ERR_OK)
		e = op_tx(db, &c, cancel_tx);
	return finish(e, &c, snapshot, why);
}

/* Expiry. */

static const char sql_old_carts[] =
    "DELETE FROM orders WHERE state = ? AND expires_at < UTC_TIMESTAMP() - "
    "INTERVAL 1 DAY LIMIT 1000";
static const char sql_old_keys[] =
    "DELETE FROM idempotency_keys WHERE expires_at < UTC_TIMESTAMP() LIMIT "
    "1000";
static const char sql_old_events[] =
    "DELETE FROM outbox_events WHERE delivered_at < UTC_TIMESTAMP() - "
    "INTERVAL 30 DAY LIMIT 1000";
/* Placed, never paid, older than order.unpaid_ttl. */
static const char sql_unpaid[] =
    "SELECT o.id, EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id "
    "AND p.state = ?) FROM orders o WHERE o.state = ? AND o.payment_state "
    "= ? AND o.completed_at < UTC_TIMESTAMP() - INTERVAL ? SECOND ORDER BY "
    "o.id LIMIT 1000";

struct unpaid {
	int64_t id[1000];
	int processing[1000];
	size_t n;
};

static enum err
unpaid_row(void *arg, const struct db_val *c, size_t n)
{
	struct unpaid *u = arg;

	if (n != 2 || u->n == 1000)
		return ERR_INTERNAL;
	u->id[u->n] = c[0].i;
	u->processing[u->n++] = c[1].i != 0;
	return ERR_OK;
}

/* Deletes in batches until a batch deletes nothing; *count gets the
 * rows. Each batch is its own statement (no long transaction). */
static enum err
sweep(struct db *db, const char *sql, const struct db_val *p, size_t np,
      long *count)
{
	uint64_t n;
	enum err e;

	*count = 0;
	do {
		n = 0;
		e = db_exec(db, sql, p, np, &n);
		*count += (long)n;
	} while (e == ERR_OK && n == 1000);
	return e;
}

enum err
lifecycle_expire(struct db *db, void *curl, struct expired *out)
{
	struct unpaid *u = calloc(1, sizeof(*u));
	struct pool pool = {0};
	struct db_val cart = DB_S(order_state_names[OS_CART]);
	struct db_val p[4] = {DB_S(pay_state_names[PS_PROCESSING]),
			      DB_S(order_state_names[OS_NEW]),
			      DB_S(opay_state_names[OPS_AWAITING_PAYMENT]),
			      DB_I(config_int("order.unpaid_ttl"))};
	enum err e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		return ERR_NOMEM;
	e = sweep(db, sql_old_carts, &cart, 1, &out->carts);
	if (e == ERR_OK)
		e = sweep(db, sql_old_keys, NULL, 0, &out->keys);
	if (e == ERR_OK)
		e = sweep(db, sql_old_events, NULL, 0, &out->events);
	if (e == ERR_OK)
		e = db_query(db, sql_unpaid, p, 4, unpaid_row, u);
	for (i = 0; e == ERR_OK && i < u->n; i++) {
		struct json_object *snap = NULL;
		const char *why = NULL;
		enum err r;

		/* Until reconciled, its outcome is unknown: not touched. */
		if (u->processing[i]) {
			out->skipped++;
			continue;
		}
		/* Each order's pool: released before the next. */
		r = lifecycle_cancel(db, &pool, curl, u->id[i], &snap, &why,
				     NULL, NULL);
		pool_release(&pool);
		if (r == ERR_OK) {
			out->orders++;
		} else {
			out->skipped++;
			log_warn("expire: order %lld not cancelled: %s",
				 (long long)u->id[i], err_code(r));
		}
	}
	pool_free(&pool);
	free(u);
	return e;
}
