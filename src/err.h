/*
 * The one error enum every fallible function returns, and its mapping to
 * HTTP statuses and problem+json codes (SPEC 2.6). The mapping lives only in
 * the tables of err.c; http.c turns an error into a response in one place.
 */
#ifndef CHECKOUTD_ERR_H
#define CHECKOUTD_ERR_H

enum err {
	ERR_OK = 0,
	ERR_MALFORMED_BODY,
	ERR_UNAUTHENTICATED,
	ERR_CARD_DECLINED,
	ERR_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	ERR_INVALID_TRANSITION,
	ERR_OUT_OF_STOCK,
	ERR_TOTAL_CHANGED,
	ERR_PAYMENT_IN_PROGRESS,
	ERR_IDEMPOTENCY_KEY_IN_USE,
	ERR_PAYLOAD_TOO_LARGE,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_VALIDATION_FAILED,
	ERR_IDEMPOTENCY_KEY_REUSED,
	ERR_TOO_MANY_ATTEMPTS,
	ERR_INTERNAL,
	ERR_PROVIDER_ERROR,
	ERR_DATABASE_UNAVAILABLE,
	ERR_BUSY,
	/* The database's schema lacks migrations this build needs:
	 * `checkoutctl migrate` (every path but ping, ready and metrics). */
	ERR_MIGRATIONS_PENDING,
	ERR_PROVIDER_TIMEOUT,
	ERR_DB_RETRY, /* Deadlock or lock wait timeout: retry the transaction.
		       */
	/* Completion found the shipment's carrier quote expired: the caller
	 * asks the carrier (outside the transaction) and tries again. */
	ERR_QUOTE_EXPIRED,
	/* The work found a shared counter it relied on taken under it (a
	 * promotion's or coupon's last use): db_tx rolls back and runs the
	 * transaction again, which reads it anew. */
	ERR_TX_AGAIN,
	/* Refusals of the seed domains' rules, which the canonical API never
	 * meets: each answers as the canonical code of its kind (err.c), and
	 * each seed dialect names it in its own words. An item a request
	 * names (a product, a seat) that is not one for sale: */
	ERR_UNKNOWN_ITEM,
	/* The price a client states is not the catalog's: */
	ERR_PRICE_MISMATCH,
	/* The item is in the cart already (seed 002's same seat twice): */
	ERR_ALREADY_IN_CART,
	/* Items of two sellers in one checkout (seed 001): */
	ERR_MIXED_SELLERS,
	/* Another caller's order: */
	ERR_NOT_OWNER,
	/* What the request would place has no items (seed 003's session): */
	ERR_NO_ITEMS,
	ERR_NOMEM,
	ERR__MAX
};

/* The problem+json `code` of e, e.g. "not_found". */
const char *err_code(enum err e);
/* The HTTP status of e. */
int err_status(enum err e);
/* A short human title of e. */
const char *err_title(enum err e);

#endif
