/*
 * Purchase (SPEC 2.7): paying a completed order through its payment
 * method's gateway. Card checks come first; then short transactions
 * around the provider calls, never a call inside one.
 */
#ifndef CHECKOUTD_PURCHASE_H
#define CHECKOUTD_PURCHASE_H

#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "db.h"
#include "input.h"
#include "order.h"
#include "stripe.h"
#include "valid.h"

/* What a purchase leaves for the answer besides its error. */
struct purchase_out {
	struct json_object *snapshot; /* 200; the pool's */
	struct json_object *extra; /* problem extras (402, 409); the pool's */
	int64_t retry_after;	   /* 429: seconds */
};

/*
 * Checks the card or payment token of in into *c (pointing into in's
 * texts): the token's or name's text, one of a token or a card, the
 * number (Luhn), the CVC, the expiry against now. Every failure is added
 * to v as (field, code). brand and last4 (5 bytes) get what may be kept.
 */
void card_check(const struct card_in *in, time_t now, struct card *c,
		char brand[16], char last4[5], struct verr *v);
/* Whether digits (only digits) pass the Luhn check. */
int card_luhn(const char *digits);
/* "visa", "mastercard", "amex", "discover" or "unknown". */
const char *card_brand(const char *digits);

/*
 * Pays order id with the card or token of card for the holder of creds.
 * curl: the worker's handle; what the answer holds is kept in pool. ERR_OK:
 * out->snapshot is the paid (or waiting-for-3-D-Secure) order, given to
 * answer(arg, snapshot) inside the transaction that recorded or read it,
 * so that an idempotent answer is stored with the work (a COMMIT that
 * went through unanswered leaves it for the retry). Otherwise the error to
 * answer, with out->extra / retry_after where they apply. resumed: this is
 * the same-key retry of a purchase that never answered (idempotency); an
 * order found paid then is that purchase's success, answered as such.
 */
enum err purchase(struct db *db, struct pool *pool, void *curl, int64_t id,
		  const struct creds *creds, const struct card_in *card,
		  int resumed, struct verr *v, struct purchase_out *out,
		  order_answer_fn *answer, void *arg);

/*
 * Asks the provider about a `processing` payment and records the answer
 * (checkoutctl reconcile; purchase does it first). cancel_action: cancel
 * an intent waiting for the buyer. *still (may be NULL) = 1 when the
 * outcome is still unknown, or when another reconciler (any host) holds
 * the payment's lease (payments.reconcile_until, claimed in a
 * transaction of its own first). What it reads is kept in pool.
 */
enum err payment_reconcile(struct db *db, struct pool *pool, void *curl,
			   int64_t payment_id, int cancel_action, int *still);

#endif
