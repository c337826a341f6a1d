/*
 * Bookings (seed 000, SPEC 3.1): an order of a provider's item and its
 * agenda entry, under the rules of booking.h.
 */
#include "booking.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "customer.h"
#include "order.h"
#include "paystate.h"
#include "place.h"
#include "str.h"

/* A booking in the making: what the transaction needs besides *b. */
struct booking_tx {
	struct booking *b;
	const struct booking_req *in;
	const char *session;
	struct pool *pool;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct book_out {
		int64_t capacity;
		/* A refusal of the rules: ERR_TOO_MANY_ATTEMPTS or
		 * ERR_OUT_OF_STOCK, or ERR_OK. */
		enum err refusal;
		struct verr v;	      /* errors kept in pool */
		struct step_out step; /* its trees kept in pool */
		struct booking_payment payment;
	} out;
};

/* The provider's and the customer's rows, written (not only locked: a
 * lock holds on its own Galera node only; two writes of one row conflict
 * on any two). They are written after the provider's read: on Galera that
 * read waits for the node to have applied what the cluster committed
 * before it (wsrep_sync_wait), an UPDATE does not; an UPDATE that ran
 * before the rows reached this node would change no row, and two such
 * bookings on two nodes would not conflict at all. */
static const char sql_provider_claim[] =
    "UPDATE providers SET bookings = bookings + 1 WHERE id = ?";
static const char sql_customer_claim[] =
    "UPDATE customers SET bookings = bookings + 1 WHERE id = ?";
static const char sql_provider[] =
    "SELECT capacity, name FROM providers WHERE id = ?";
/* The two-unpaid rule: open orders of the customer, from any API. */
static const char sql_unpaid[] =
    "SELECT COUNT(*) FROM orders WHERE customer_id = ? AND state = ? AND "
    "payment_state = ?";
static const char sql_slots[] =
    "SELECT COUNT(*), CAST(COALESCE(DATEDIFF(MAX(starts_at), "
    "UTC_DATE()), 0) AS SIGNED) FROM agenda_entries WHERE provider_id = ? "
    "AND state = ?";
static const char sql_agenda[] =
    "INSERT INTO agenda_entries (uuid, provider_id, order_id, customer_id, "
    "starts_at) VALUES (?, ?, ?, ?, ?)";
static const char sql_payment[] =
    "SELECT p.id, p.amount, p.currency, p.state, m.code FROM payments p "
    "LEFT JOIN payment_methods m ON m.id = p.method_id WHERE p.order_id = "
    "? AND p.state = ? ORDER BY p.id DESC LIMIT 1";
static const char sql_agenda_settle[] =
    "UPDATE agenda_entries SET state = ? WHERE order_id = ? AND state = ?";

static enum err
provider_row(void *arg, const struct db_val *c, size_t n)
{
	struct booking_tx *t = arg;

	if (n != 2)
		return ERR_INTERNAL;
	t->out.capacity = c[0].i;
	snprintf(t->b->provider_name, sizeof(t->b->provider_name), "%s",
		 c[1].s);
	return ERR_OK;
}

static enum err
payment_row(void *arg, const struct db_val *c, size_t n)
{
	struct booking_payment *p = arg;

	if (n != 5)
		return ERR_INTERNAL;
	*p = (struct booking_payment){.found = 1};
	p->id = c[0].i;
	p->amount = c[1].i;
	snprintf(p->currency, sizeof(p->currency), "%s", c[2].s);
	snprintf(p->state, sizeof(p->state), "%s", c[3].s);
	p->has_method = c[4].type == DB_STR;
	if (p->has_method)
		snprintf(p->method, sizeof(p->method), "%s", c[4].s);
	return ERR_OK;
}

void
booking_slot(time_t now, int64_t days_ahead, char out[24])
{
	struct tm tm;
	time_t day;

	if (days_ahead < 0)
		days_ahead = 0;
	day = now - now % 86400 + (time_t)(days_ahead + 1) * 86400;
	for (;;) {
		gmtime_r(&day, &tm);
		if (tm.tm_wday != 0 && tm.tm_wday != 6)
			break;
		day += 86400;
	}
	if (strftime(out, 24, "%Y-%m-%d 09:00:00", &tm) == 0)
		out[0] = '\0';
}

static enum err
book_tx(struct db *db, void *arg)
{
	struct booking_tx *t = arg;
	struct booking *b = t->b;
	struct place_req r = {.session = t->session, .nlines = 1};
	int64_t unpaid = 0, slots[2] = {0, 0};
	struct db_val p[5];
	char token[ORDER_TOKEN_LEN + 1], uuid[37];
	enum err e;

	p[0] = DB_I(b->provider);
	p[1] = DB_I(b->customer);
	e = db_query(db, sql_provider, p, 1, provider_row, t);
	if (e == ERR_OK)
		e = db_exec(db, sql_provider_claim, &p[0], 1, NULL);
	if (e == ERR_OK)
		e = db_exec(db, sql_customer_claim, &p[1], 1, NULL);
	p[0] = DB_I(b->customer);
	p[1] = DB_S(order_state_names[OS_NEW]);
	p[2] = DB_S(opay_state_names[OPS_AWAITING_PAYMENT]);
	if (e == ERR_OK)
		e = db_query(db, sql_unpaid, p, 3, db_row_int, &unpaid);
	if (e != ERR_OK)
		return e;
	/* A refusal rolls back: its claims were only there to meet a
	 * booking being made on another node; committed, every refused
	 * request would conflict with every other one as well. */
	if (unpaid >= 2) {
		t->out.refusal = ERR_TOO_MANY_ATTEMPTS;
		return ERR_VALIDATION_FAILED; /* rolls back, not retried */
	}
	p[0] = DB_I(b->provider);
	p[1] = DB_S(agenda_state_names[AS_SCHEDULED]);
	e = db_query(db, sql_slots, p, 2, db_row_two_ints, slots);
	if (e != ERR_OK)
		return e;
	if (slots[0] >= t->out.capacity) {
		t->out.refusal = ERR_OUT_OF_STOCK;
		return ERR_VALIDATION_FAILED; /* rolls back, not retried */
	}
	r.lines[0].variant = b->variant;
	r.lines[0].quantity = 1;
	r.lines[0].price = -1;
	e = place_order(db, t->pool, &r, &b->order, token, &t->out.v,
			&t->out.step);
	if (pool_keep_at(t->pool, &t->out.v.errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_OUT_OF_STOCK) {
		t->out.refusal = ERR_OUT_OF_STOCK;
		return ERR_VALIDATION_FAILED; /* rolls back, not retried */
	}
	if (e != ERR_OK)
		return e;
	booking_slot(time(NULL), slots[1], b->starts_at);
	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(b->provider);
	p[2] = DB_I(b->order);
	p[3] = DB_I(b->customer);
	p[4] = DB_S(b->starts_at);
	e = db_insert(db, sql_agenda, p, 5, &b->agenda);
	p[0] = DB_I(b->order);
	p[1] = DB_S(pay_state_names[PS_NEW]);
	if (e == ERR_OK)
		e = db_query(db, sql_payment, p, 2, payment_row,
			     &t->out.payment);
	if (e == ERR_OK && t->in->answer != NULL) {
		b->payment = t->out.payment;
		b->snapshot = t->out.step.snapshot;
		t->in->answer(t->in->answer_arg, b);
	}
	return e;
}

enum err
booking_place(struct db *db, struct pool *pool, const struct booking_req *in,
	      struct booking *b)
{
	struct booking_tx t = {
	    .b = b, .in = in, .session = in->session, .pool = pool};
	struct sole_variant sole;
	enum err e = ERR_OK;

	*b = (struct booking){0};
	if (in->session != NULL)
		e = session_customer(db, in->session, &b->customer);
	if (e != ERR_OK)
		return e;
	if (b->customer == 0)
		return ERR_UNAUTHENTICATED;
	/* A product of a provider, with exactly one enabled variant. */
	if (in->item == NULL || strlen(in->item) != 36)
		return ERR_UNKNOWN_ITEM;
	e = catalog_sole_variant(db, in->item, 0, &sole);
	if (e == ERR_NOT_FOUND || (e == ERR_OK && sole.provider == 0))
		return ERR_UNKNOWN_ITEM;
	if (e != ERR_OK)
		return e;
	b->product = sole.product;
	b->provider = sole.provider;
	b->variant = sole.variant;
	e = db_tx_out(db, pool, &t.out, sizeof(t.out), book_tx, &t);
	b->payment = t.out.payment;
	if (t.out.refusal != ERR_OK &&
	    (e == ERR_OK || e == ERR_VALIDATION_FAILED))
		e = t.out.refusal;
	else if (e == ERR_OK)
		b->snapshot = t.out.step.snapshot;
	else if (e == ERR_VALIDATION_FAILED)
		/* The item cannot be sold (place_order's 422). */
		e = ERR_UNKNOWN_ITEM;
	return e;
}

enum err
booking_settle(struct db *db, int64_t id, enum order_state order)
{
	enum agenda_ev ev = order == OS_CANCELLED ? AE_CANCEL : AE_DONE;
	enum agenda_state to = AS__MAX;
	struct db_val p[3];

	if (order != OS_FULFILLED && order != OS_CANCELLED)
		return ERR_OK;
	if (agenda_transition(AS_SCHEDULED, ev, &to) != ERR_OK)
		return ERR_INTERNAL;
	p[0] = DB_S(agenda_state_names[to]);
	p[1] = DB_I(id);
	p[2] = DB_S(agenda_state_names[AS_SCHEDULED]);
	return db_exec(db, sql_agenda_settle, p, 3, NULL);
}
