#include "purchase.h"

#include <stdio.h>
#include <string.h>

#include "checkout.h"
#include "config.h"
#include "log.h"
#include "outbound.h"
#include "payment.h"
#include "states.h"

/* Card checks. */

int
card_luhn(const char *d)
{
	size_t n = strlen(d), i;
	int sum = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		int x = d[n - 1 - i] - '0';

		if (x < 0 || x > 9)
			return 0;
		if (i % 2 == 1) {
			x *= 2;
			if (x > 9)
				x -= 9;
		}
		sum += x;
	}
	return sum % 10 == 0;
}

const char *
card_brand(const char *d)
{
	int two, four;

	if (strlen(d) < 4)
		return "unknown";
	two = (d[0] - '0') * 10 + (d[1] - '0');
	four = two * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	if (d[0] == '4')
		return "visa";
	if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720))
		return "mastercard";
	if (two == 34 || two == 37)
		return "amex";
	if (four == 6011 || two == 65)
		return "discover";
	return "unknown";
}

/* Copies the digits of t (optional spaces or dashes between them) into
 * out; -1 when anything else is in it, it is absent, or the count is
 * outside [min, max]. */
static int
digits_of(const struct text *t, char *out, size_t min, size_t max)
{
	size_t n = 0, i;

	if (t->s == NULL)
		return -1;
	for (i = 0; i < t->len && t->s[i] != '\0'; i++) {
		if (t->s[i] == ' ' || t->s[i] == '-')
			continue;
		if (t->s[i] < '0' || t->s[i] > '9' || n == max)
			return -1;
		out[n++] = t->s[i];
	}
	out[n] = '\0';
	return n >= min ? 0 : -1;
}

/* Checks w for field f, into *out (0 when absent): an integer in [min,
 * max], else code range. */
static int
whole_check(const struct whole *w, enum field f, enum vcode range, int64_t min,
	    int64_t max, int64_t *out, struct verr *v)
{
	*out = 0;
	if (w->has == WHOLE_ABSENT)
		return 0;
	if (w->has == WHOLE_NULL || w->has == WHOLE_NOT_INT) {
		verr_core(v, f, V_NOT_INT, 0);
		return -1;
	}
	if (w->has == WHOLE_OVER || w->v < min || w->v > max) {
		verr_core(v, f, range, 0);
		return -1;
	}
	*out = w->v;
	return 0;
}

/* Whether w is missing (absent, or null). */
static int
whole_missing(const struct whole *w)
{
	return w->has == WHOLE_ABSENT || w->has == WHOLE_NULL;
}

void
card_check(const struct card_in *in, time_t now, struct card *c, char brand[16],
	   char last4[5], struct verr *v)
{
	struct tm tm;
	int64_t year;

	memset(c, 0, sizeof(*c));
	brand[0] = last4[0] = '\0';
	if (valid_text(&in->token, F_CARD_TOKEN, 255, v) != 0)
		return;
	c->token = in->token.s;
	if (valid_text(&in->name, F_CARD_NAME, 255, v) == 0)
		c->name = in->name.s;
	valid_text(&in->type, F_CARD_TYPE, 32, v);
	if (c->token != NULL) {
		if (in->number.given)
			verr_core(v, F_CARD_TOKEN, V_TOKEN_AND_CARD, 0);
		return;
	}
	if (digits_of(&in->number, c->number, 12, 19) != 0 ||
	    !card_luhn(c->number))
		verr_core(v, F_CARD_NUMBER, V_CARD_NUMBER, 0);
	if (digits_of(&in->cvc, c->cvc, 3, 4) != 0)
		verr_core(v, F_CARD_CVC, V_CVC, 0);
	gmtime_r(&now, &tm);
	if (whole_missing(&in->exp_month))
		verr_core(v, F_CARD_EXP_MONTH, V_REQUIRED, 0);
	if (whole_missing(&in->exp_year))
		verr_core(v, F_CARD_EXP_YEAR, V_REQUIRED, 0);
	if (whole_check(&in->exp_month, F_CARD_EXP_MONTH, V_MONTH, 1, 12,
			&c->exp_month, v) == 0 &&
	    whole_check(&in->exp_year, F_CARD_EXP_YEAR, V_YEAR, 0, 9999, &year,
			v) == 0 &&
	    c->exp_month != 0) {
		c->exp_year = year < 100 ? 2000 + year : year;
		if (c->exp_year < tm.tm_year + 1900 ||
		    (c->exp_year == tm.tm_year + 1900 &&
		     c->exp_month < tm.tm_mon + 1))
			verr_core(v, F_CARD_EXP_YEAR, V_EXPIRED, 0);
	}
	if (v->errors == NULL) {
		snprintf(brand, 16, "%s", card_brand(c->number));
		snprintf(last4, 5, "%s", c->number + strlen(c->number) - 4);
	}
}

/* Transactions around the calls. */

struct prep {
	int64_t id;
	const struct creds *creds;
	int resumed;	  /* in: a same-key retry of one that never answered */
	int paid_already; /* out: resumed, and the order is paid (its
			     snapshot in out->snapshot) */
	struct pay pay;
	struct pool *pool;
	order_answer_fn *answer;
	void *arg;
	struct purchase_out *out; /* zeroed before each run (db_tx_out) */
};

static const char sql_declines[] =
    "SELECT COUNT(*), CAST(COALESCE(TIMESTAMPDIFF(SECOND, "
    "UTC_TIMESTAMP(), MAX(updated_at) + INTERVAL ? SECOND), 0) AS SIGNED) "
    "FROM payments WHERE order_id = ? AND state = ? AND "
    "decline_code IS NOT NULL AND updated_at > UTC_TIMESTAMP() - INTERVAL ? "
    "SECOND";
static const char sql_open[] =
    "SELECT id FROM payments WHERE order_id = ? AND state IN (?, ?) ORDER "
    "BY id DESC LIMIT 1";

static enum err
refuse(struct pool *pool, struct purchase_out *out, const struct order_head *h,
       const char *why)
{
	out->extra = pool_keep(pool, json_object_new_object());
	if (out->extra == NULL)
		return ERR_NOMEM;
	json_object_object_add(out->extra, "checkout_state",
			       json_object_new_string(h->checkout));
	json_object_object_add(out->extra, "payment_state",
			       json_object_new_string(h->payment_state));
	json_object_object_add(out->extra, "reason",
			       json_object_new_string(why));
	return ERR_INVALID_TRANSITION;
}

/* Checks that the order may be paid and finds its open payment. */
static enum err
prepare_tx(struct db *db, void *arg)
{
	struct prep *c = arg;
	struct order_head h;
	int64_t declines[2] = {0, 0}, pid = 0;
	int64_t lockout = config_int("payment.lockout");
	struct db_val p[4];
	enum err e;

	e = order_authorize(db, c->id, c->creds, 1, &h);
	if (e != ERR_OK)
		return e;
	if (checkout_state_parse(h.checkout) != CS_COMPLETED)
		return refuse(c->pool, c->out, &h,
			      "the order is not placed yet");
	/* The first try charged and died before answering, and the payment
	 * was settled since (webhook, reconcile): that charge is the answer. */
	c->paid_already =
	    c->resumed && opay_state_parse(h.payment_state) == OPS_PAID;
	if (c->paid_already) {
		e = order_snapshot(db, c->pool, c->id, &c->out->snapshot);
		if (e == ERR_OK)
			c->answer(c->arg, c->out->snapshot);
		return e;
	}
	if (order_state_parse(h.state) != OS_NEW ||
	    opay_state_parse(h.payment_state) != OPS_AWAITING_PAYMENT)
		return refuse(c->pool, c->out, &h,
			      "the order is not awaiting payment");
	p[0] = DB_I(lockout);
	p[1] = DB_I(c->id);
	p[2] = DB_S(pay_state_names[PS_FAILED]);
	p[3] = DB_I(lockout);
	e = db_query(db, sql_declines, p, 4, db_row_two_ints, declines);
	if (e != ERR_OK)
		return e;
	if (declines[0] >= config_int("payment.max_declines")) {
		c->out->retry_after = declines[1] > 0 ? declines[1] : 1;
		return ERR_TOO_MANY_ATTEMPTS;
	}
	/* The open payment: one a provider may still settle. */
	p[0] = DB_I(c->id);
	p[1] = DB_S(pay_state_names[PS_NEW]);
	p[2] = DB_S(pay_state_names[PS_PROCESSING]);
	e = db_query(db, sql_open, p, 3, db_row_int, &pid);
	if (e != ERR_OK)
		return e;
	if (pid == 0)
		return refuse(c->pool, c->out, &h,
			      "the order has no open payment");
	e = payment_get(db, pid, &c->pay);
	if (e == ERR_OK && strcmp(c->pay.gateway, "stripe") != 0)
		return refuse(c->pool, c->out, &h,
			      "this payment method is paid offline: an admin "
			      "marks it paid");
	return e;
}

struct start {
	const struct pay *pay;
	const char *ref, *brand, *last4;
	int64_t attempt;
};

static const char sql_start[] =
    "UPDATE payments SET state = ?, provider_ref = ?, attempts = attempts + "
    "1, card_brand = ?, card_last4 = ?, next_action = NULL, updated_at = "
    "UTC_TIMESTAMP() WHERE id = ? AND state = ?";
static const char sql_attempts[] = "SELECT attempts FROM payments WHERE id = ?";

/* Stores the intent and moves the payment to `processing`, just before
 * the confirm; its key's attempt number is persisted with it. */
static enum err
start_tx(struct db *db, void *arg)
{
	struct start *s = arg;
	enum pay_state from, to = PS__MAX;
	struct db_val p[6];
	uint64_t n = 0;
	enum err e;

	/* new -> processing, a compare-and-set on the table's one from. */
	if (pay_from(PE_START, &from, 1) != 1 ||
	    pay_transition(from, PE_START, &to) != ERR_OK)
		return ERR_INTERNAL;
	p[0] = DB_S(pay_state_names[to]);
	p[1] = DB_S(s->ref);
	p[2] = s->brand[0] ? DB_S(s->brand) : DB_N;
	p[3] = s->last4[0] ? DB_S(s->last4) : DB_N;
	p[4] = DB_I(s->pay->id);
	p[5] = DB_S(pay_state_names[from]);
	e = db_exec(db, sql_start, p, 6, &n);

	if (e != ERR_OK)
		return e;
	if (n == 0)
		return ERR_PAYMENT_IN_PROGRESS;
	p[0] = DB_I(s->pay->id);
	return db_query(db, sql_attempts, p, 1, db_row_int, &s->attempt);
}

struct rec {
	int64_t payment, order;
	enum pay_outcome outcome;
	const char *decline;
	struct json_object *next_action;
	int want_snapshot;
	struct pool *pool;
	order_answer_fn *answer; /* with the snapshot, when not NULL */
	void *arg;
	struct json_object *snapshot; /* out, when wanted (db_tx_out) */
};

static enum err
record_tx(struct db *db, void *arg)
{
	struct rec *r = arg;
	enum err e;

	e = payment_record(db, r->pool, r->payment, r->outcome, r->decline,
			   r->next_action, NULL);
	if (e == ERR_OK && r->want_snapshot)
		e = order_snapshot(db, r->pool, r->order, &r->snapshot);
	if (e == ERR_OK && r->answer != NULL)
		r->answer(r->arg, r->snapshot);
	return e;
}

/* The outcome an intent's state means; -1 while it is unknown. */
static int
outcome_of(const struct pi *p)
{
	if (p->declined)
		return PAY_FAILED;
	if (strcmp(p->status, "succeeded") == 0)
		return PAY_COMPLETED;
	if (strcmp(p->status, "requires_action") == 0)
		return PAY_ACTION;
	if (strcmp(p->status, "requires_payment_method") == 0 ||
	    strcmp(p->status, "requires_confirmation") == 0)
		return PAY_FAILED;
	if (strcmp(p->status, "canceled") == 0)
		return PAY_CANCELLED;
	return -1; /* processing, requires_capture: not decided */
}

/* Records outcome o of pay; *snapshot (when not NULL) gets the order
 * after it, also given to answer (when not NULL) inside the transaction. */
static enum err
record(struct db *db, struct pool *pool, const struct pay *pay,
       enum pay_outcome o, const struct pi *p, struct json_object **snapshot,
       order_answer_fn *answer, void *arg)
{
	struct rec r = {.payment = pay->id,
			.order = pay->order_id,
			.outcome = o,
			.decline = p->decline[0] != '\0' ? p->decline : NULL,
			.next_action = p->next_action,
			.want_snapshot = snapshot != NULL,
			.pool = pool,
			.answer = snapshot != NULL ? answer : NULL,
			.arg = arg};
	enum err e;

	/* Only a failure the issuer gave counts toward the lockout. */
	if (o != PAY_FAILED || (!p->declined && p->decline[0] == '\0'))
		r.decline = NULL;
	e = db_tx_out(db, pool, &r.snapshot, sizeof(r.snapshot), record_tx, &r);
	if (snapshot != NULL && e == ERR_OK)
		*snapshot = r.snapshot;
	return e;
}

/*
 * Reconciles pay (processing): *result gets the outcome recorded, or -1
 * when still unknown. cancel_action: an intent waiting for the buyer is
 * cancelled (if the cancel finds it succeeded, that is recorded). An
 * intent waiting for a payment method with no decline on it is cancelled
 * too: the confirm sent for this payment has not reached the provider,
 * or still runs there (it timed out here), and could succeed behind a
 * fresh payment's back; at the provider either the cancel or the confirm
 * wins, and the cancel's answer says which.
 */
static enum err
reconcile(struct db *db, struct pool *pool, void *curl, const struct pay *pay,
	  int cancel_action, int *result)
{
	struct pi p = {0}, q = {0};
	char key[64];
	enum err e;
	int o;

	*result = -1;
	if (pay->ref[0] == '\0')
		return ERR_OK;
	e = stripe_retrieve(curl, pool, pay->ref, &p);
	if (e != ERR_OK)
		return e;
	o = outcome_of(&p);
	if ((o == PAY_ACTION && cancel_action) ||
	    (o == PAY_FAILED && !p.declined && p.decline[0] == '\0')) {
		snprintf(key, sizeof(key), "%s-cancel", pay->uuid);
		e = stripe_cancel(curl, pool, pay->ref, key, &q);
		if (e == ERR_OK) {
			o = strcmp(q.status, "succeeded") == 0 ? PAY_COMPLETED
							       : PAY_CANCELLED;
			p = q;
			p.decline[0] = '\0';
		}
	}
	if (e == ERR_OK && o >= 0 && o != PAY_ACTION) {
		e = record(db, pool, pay, (enum pay_outcome)o, &p, NULL, NULL,
			   NULL);
		if (e == ERR_OK)
			*result = o;
	}
	return e;
}

/* The lease of checkoutctl reconcile on a processing payment: long
 * enough for a retrieve and a cancel at the provider. */
static const char sql_reconcile_claim[] =
    "UPDATE payments SET reconcile_until = UTC_TIMESTAMP() + INTERVAL ? "
    "SECOND WHERE id = ? AND state = ? AND (reconcile_until IS NULL OR "
    "reconcile_until < UTC_TIMESTAMP())";

struct reconcile_claim {
	int64_t id;
	int got; /* out: the lease is this reconciler's */
};

static enum err
reconcile_claim_tx(struct db *db, void *arg)
{
	struct reconcile_claim *c = arg;
	struct db_val p[3] = {DB_I(2 * config_int("payment.timeout") + 5),
			      DB_I(c->id),
			      DB_S(pay_state_names[PS_PROCESSING])};
	uint64_t n = 0;
	enum err e;

	c->got = 0;
	e = db_exec(db, sql_reconcile_claim, p, 3, &n);
	c->got = e == ERR_OK && n == 1;
	return e;
}

static const char sql_processing_of[] =
    "SELECT p.id FROM payments p WHERE p.id = ? AND p.state = ?";

enum err
payment_reconcile(struct db *db, struct pool *pool, void *curl,
		  int64_t payment_id, int cancel_action, int *still)
{
	struct pay pay;
	int64_t id = 0;
	struct db_val v[2] = {DB_I(payment_id),
			      DB_S(pay_state_names[PS_PROCESSING])};
	struct reconcile_claim claim = {.id = payment_id};
	int result = -1;
	enum err e;

	if (still != NULL)
		*still = 0;
	e = db_query(db, sql_processing_of, v, 2, db_row_int, &id);
	if (e != ERR_OK || id == 0)
		return e;
	/* One reconciler at a time asks the provider about a payment, on
	 * any host: a lease, trusted once its transaction committed. */
	e = db_tx(db, reconcile_claim_tx, &claim);
	if (e != ERR_OK)
		return e;
	if (!claim.got) {
		if (still != NULL)
			*still = 1; /* Another host's reconcile has it. */
		return ERR_OK;
	}
	e = payment_get(db, payment_id, &pay);
	if (e == ERR_OK)
		e = reconcile(db, pool, curl, &pay, cancel_action, &result);
	if (e == ERR_OK && still != NULL)
		*still = result < 0;
	return e;
}

/* Declined: 402 with the provider's code and message. */
static void
decline_extra(struct pool *pool, struct purchase_out *out, const struct pi *p)
{
	out->extra = pool_keep(pool, json_object_new_object());
	if (out->extra == NULL)
		return; /* pool->failed: the request answers ERR_NOMEM */
	json_object_object_add(
	    out->extra, "decline_code",
	    json_object_new_string(p->decline[0] ? p->decline : "declined"));
	json_object_object_add(
	    out->extra, "message",
	    json_object_new_string(p->message[0] ? p->message
						 : "The card was declined."));
}

/* Creates the intent when needed, confirms, records (a success or a
 * 3-D Secure wait answered with the order inside the record's
 * transaction). */
static enum err
charge(struct db *db, struct pool *pool, void *curl, struct pay *pay,
       struct card *card, const char *brand, const char *last4,
       struct purchase_out *out, order_answer_fn *answer, void *arg)
{
	struct start s = {.pay = pay, .brand = brand, .last4 = last4};
	struct pi p = {0};
	char key[80];
	enum err e;
	int o;

	if (pay->ref[0] == '\0') {
		e = stripe_create(curl, pool, pay->uuid, pay->order_uuid,
				  pay->amount, pay->currency, &p);
		if (e == ERR_OK && p.declined)
			e = ERR_PROVIDER_ERROR;
		if (e != ERR_OK)
			return e; /* Still `new` without an intent. */
		snprintf(pay->ref, sizeof(pay->ref), "%s", p.id);
		memset(&p, 0, sizeof(p));
	}
	s.ref = pay->ref;
	e = db_tx(db, start_tx, &s);
	if (e != ERR_OK)
		return e;
	snprintf(key, sizeof(key), "%s-confirm-%lld", pay->uuid,
		 (long long)s.attempt);
	e = stripe_confirm(curl, pool, pay->ref, key, card, &p);
	if (e != ERR_OK)
		return e; /* `processing`: the outcome is not known. */
	o = outcome_of(&p);
	if (o < 0)
		return ERR_PAYMENT_IN_PROGRESS;
	e = record(db, pool, pay, (enum pay_outcome)o, &p, &out->snapshot,
		   o == PAY_COMPLETED || o == PAY_ACTION ? answer : NULL, arg);
	if (e == ERR_OK && o == PAY_FAILED) {
		decline_extra(pool, out, &p);
		e = ERR_CARD_DECLINED;
	} else if (e == ERR_OK && o == PAY_CANCELLED) {
		e = ERR_PROVIDER_ERROR;
	}
	return e;
}

struct snap_ctx {
	int64_t id;
	struct pool *pool;
	order_answer_fn *answer;
	void *arg;
	struct json_object *snapshot; /* out (db_tx_out) */
};

static enum err
snap_tx(struct db *db, void *arg)
{
	struct snap_ctx *c = arg;
	enum err e = order_snapshot(db, c->pool, c->id, &c->snapshot);

	if (e == ERR_OK)
		c->answer(c->arg, c->snapshot);
	return e;
}

enum err
purchase(struct db *db, struct pool *pool, void *curl, int64_t id,
	 const struct creds *creds, const struct card_in *in, int resumed,
	 struct verr *v, struct purchase_out *out, order_answer_fn *answer,
	 void *arg)
{
	struct prep c = {.id = id,
			 .creds = creds,
			 .resumed = resumed,
			 .pool = pool,
			 .answer = answer,
			 .arg = arg,
			 .out = out};
	struct card card;
	char brand[16], last4[5];
	int entered = 0, round, result;
	enum err e = ERR_OK;

	card_check(in, time(NULL), &card, brand, last4, v);
	if (v->errors != NULL) {
		e = ERR_VALIDATION_FAILED;
		goto done;
	}
	/* A payment found `processing` is reconciled first; when it failed
	 * or was cancelled the order has a fresh one, tried next. */
	for (round = 0; round < 3; round++) {
		e = db_tx_out(db, pool, out, sizeof(*out), prepare_tx, &c);
		if (e != ERR_OK)
			break;
		if (c.paid_already)
			break; /* Answered with the snapshot prepare_tx read. */
		if (!entered && outbound_enter() != 0) {
			e = ERR_BUSY;
			break;
		}
		entered = 1;
		if (c.pay.state != PS_PROCESSING) {
			e = charge(db, pool, curl, &c.pay, &card, brand, last4,
				   out, answer, arg);
			break;
		}
		e = reconcile(db, pool, curl, &c.pay, 1, &result);
		if (e != ERR_OK)
			break;
		if (result < 0) {
			e = ERR_PAYMENT_IN_PROGRESS;
			break;
		}
		if (result == PAY_COMPLETED) {
			struct snap_ctx s = {.id = id,
					     .pool = pool,
					     .answer = answer,
					     .arg = arg};

			e = db_tx_out(db, pool, &s.snapshot, sizeof(s.snapshot),
				      snap_tx, &s);
			out->snapshot = s.snapshot;
			break;
		}
	}
	if (round == 3)
		e = ERR_PAYMENT_IN_PROGRESS;
done:
	if (entered)
		outbound_leave();
	memset(&card, 0, sizeof(card));
	return e;
}
