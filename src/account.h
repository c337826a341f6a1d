/*
 * Seed 001's accounts and their checkouts (SPEC 3.2): an account (a
 * buyer) proves itself with an OAuth token, kept only as its SHA-256 in
 * oauth_tokens; a checkout is a cart of the core whose products are all
 * sold by one seller, the account of their provider. This module owns the
 * accounts and oauth_tokens tables, the orders' seed001_* columns, and
 * every statement seed 001 runs.
 */
#ifndef CHECKOUTD_ACCOUNT_H
#define CHECKOUTD_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The most lines a checkout is asked for. */
#define ACCOUNT_MAX_ITEMS 32

/*
 * Whether token (the OAuth token as given, NUL-terminated) is a live
 * token of account. ERR_OK it is; ERR_UNAUTHENTICATED it is empty,
 * unknown, expired or another account's; otherwise a database error.
 */
enum err account_token_check(struct db *db, int64_t account, const char *token);

/* A checkout being asked for, filled by the caller then by
 * account_checkout_add, item by item. */
struct account_view;

struct account_checkout {
	/* Called inside the transaction once the checkout is made, so that
	 * the answer is written before COMMIT and commits with the work (an
	 * idempotent response is stored so, idem.c); called again when the
	 * transaction runs again. NULL: none. */
	void (*answer)(void *arg, const struct account_view *v);
	void *answer_arg;
	int64_t buyer; /* the account (its token checked) */
	int has_service;
	int64_t service;	   /* when has_service */
	const char *payment_token; /* kept as given, or NULL (borrowed) */
	/* Set by account_checkout_add: */
	int64_t seller; /* the account selling every item, or 0 */
	struct {
		int64_t product, variant, quantity;
	} items[ACCOUNT_MAX_ITEMS];
	size_t n;
};

/*
 * Adds quantity of product to c: the product must be enabled, have a
 * single enabled variant and be sold by a provider's account, the same
 * as c's other items'. Reads only. ERR_OK: the item is c's. Refusals:
 * ERR_UNKNOWN_ITEM no such product, ERR_MIXED_SELLERS another seller
 * than the other items' (one seller per checkout), ERR_PAYLOAD_TOO_LARGE
 * c holds ACCOUNT_MAX_ITEMS already. Otherwise a database error.
 */
enum err account_checkout_add(struct db *db, struct account_checkout *c,
			      int64_t product, int64_t quantity);

/* An account as a checkout names it. */
struct account_ref {
	int found; /* the account exists; the rest is empty when not */
	int64_t id;
	int64_t global_type;
	char *name; /* the pool's */
};

/* What a checkout is, for its buyer. */
enum account_checkout_state {
	ACCOUNT_CHECKOUT_OPEN,	 /* a cart */
	ACCOUNT_CHECKOUT_PLACED, /* placed, not paid */
	ACCOUNT_CHECKOUT_PAID,
	ACCOUNT_CHECKOUT_CANCELLED,
	ACCOUNT_CHECKOUT__MAX
};

/* A tax on a line. */
struct account_tax {
	int64_t rate;	/* the tax rate's id */
	int64_t bp;	/* the rate, basis points */
	char *name;	/* the pool's */
	int64_t amount; /* minor units */
};

struct account_line {
	int64_t product;
	char *name;    /* the product's, the pool's */
	int64_t price; /* the variant's unit price, minor units */
	int64_t quantity;
	int64_t amount;	  /* the line's total, minor units */
	int taxable;	  /* the variant has a tax category */
	int64_t tax;	  /* sum of the taxes' amounts, minor units */
	int has_tax_rate; /* tax_rate: the last tax's rate */
	int64_t tax_rate;
	struct account_tax *taxes; /* in the order they were applied */
	size_t ntaxes;
	int64_t item; /* the order item's id */
};

/* A checkout as its buyer sees it; what it points to is the pool's it
 * was read with. */
struct account_view {
	int64_t id; /* the order's */
	struct account_ref buyer, seller;
	enum account_checkout_state state;
	int64_t items_total, tax_total, total; /* minor units */
	char currency[4];
	int64_t created_ms; /* Unix milliseconds */
	int has_service;
	int64_t service;
	char *payment_token; /* or NULL; the pool's */
	struct account_line *lines;
	size_t nlines;
};

/*
 * Opens c's checkout in one transaction: a guest cart of the core owned
 * by c->buyer with c's service and payment token, holding c's items.
 * ERR_OK: c->answer had the checkout (what it points to is pool's).
 * Refusal: ERR_OUT_OF_STOCK the cart refused an item (its stock); nothing
 * is written. Otherwise what the core or the database gave.
 */
enum err account_checkout_create(struct db *db, struct pool *pool,
				 const struct account_checkout *c);

#endif
