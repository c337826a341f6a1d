/*
 * A Stripe-compatible PaymentIntents client (SPEC 2.7, reference
 * providers.md): form-encoded requests with `Authorization: Bearer` and
 * an Idempotency-Key on every POST, JSON answers. payment.stripe_url is
 * the base URL (the sandbox fake in development and tests).
 */
#ifndef CHECKOUTD_STRIPE_H
#define CHECKOUTD_STRIPE_H

#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "pool.h"

/* What the provider said about an intent. */
struct pi {
	char id[128];	   /* "pi_..." */
	char status[40];   /* succeeded, requires_action, ... */
	int declined;	   /* A card_error (402): the issuer said no. */
	char decline[64];  /* decline_code, else the error code */
	char message[256]; /* The provider's message (safe to show). */
	struct json_object *next_action; /* The pool's; NULL when none. */
};

/* The card or token a purchase brings (never stored). */
struct card {
	const char *token;	 /* paymentToken, or NULL for the card fields */
	const char *name;	 /* cardholderName, or NULL */
	char number[20], cvc[5]; /* Digits only; wiped after use. */
	int64_t exp_month, exp_year;
};

/*
 * Each call: ERR_OK with *p filled when the provider answered with an
 * intent (a 402 decline included: p->declined); ERR_PROVIDER_TIMEOUT,
 * ERR_PROVIDER_ERROR (5xx, another 4xx, no answer, an answer we cannot
 * read) otherwise. What *p points to (next_action) is kept in pool.
 */
enum err stripe_create(void *curl, struct pool *pool, const char *payment_uuid,
		       const char *order_uuid, int64_t amount,
		       const char *currency, struct pi *p);
enum err stripe_confirm(void *curl, struct pool *pool, const char *pi_id,
			const char *key, const struct card *c, struct pi *p);
enum err stripe_retrieve(void *curl, struct pool *pool, const char *pi_id,
			 struct pi *p);
enum err stripe_cancel(void *curl, struct pool *pool, const char *pi_id,
		       const char *key, struct pi *p);
/* A refund of amount (minor units) of the intent; ERR_OK when created,
 * with the provider's refund id in ref. */
enum err stripe_refund(void *curl, const char *pi_id, int64_t amount,
		       const char *key, char *ref, size_t reflen);

/*
 * Computes the v1 signature of a Stripe-Signature-style header: lowercase
 * hex HMAC-SHA256 under secret of "<t>.<body>" into hex (65 bytes). Used
 * for inbound webhooks and to sign our outbound events alike.
 */
void signature_v1(const char *secret, long long t, const char *body, size_t len,
		  char hex[65]);

/*
 * Whether header ("t=<unix>,v1=<hex>[,v1=...]") signs body under secret
 * or previous (may be empty), with t within tolerance seconds of now.
 * Compares in constant time.
 */
int signature_ok(const char *header, const char *body, size_t len,
		 const char *secret, const char *previous, long long now,
		 long long tolerance);

#endif
