/*
 * Seed 002's drafts (SPEC 3.3): a caller's single draft order of seats
 * (tracked variants of one unit each), filled a seat at a time and placed
 * with place_cart. The caller is a user id (trusted as given) or a guest
 * token (kept only as its SHA-256); the two never see each other's
 * drafts. This module owns the orders' seed002_owner column and the
 * order items' reservation_id, and every statement seed 002 runs.
 */
#ifndef CHECKOUTD_DRAFT_H
#define CHECKOUTD_DRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* "u:<user id>" or "g:<hex SHA-256 of the guest token>", and its NUL. */
#define DRAFT_KEY_LEN 300

/* Who asks: the draft's owner. */
struct draft_view;

struct draft_caller {
	const char *user;  /* user id, or NULL (borrowed) */
	const char *guest; /* guest token, or NULL (borrowed) */
	char key[DRAFT_KEY_LEN];
	/* Called inside draft_add's and draft_checkout's transaction with
	 * the order as it succeeded, so that the answer is written before
	 * COMMIT and commits with the work (an idempotent response is
	 * stored so, idem.c); called again when the transaction runs
	 * again. NULL: none. draft_caller_init leaves both as they are. */
	void (*answer)(void *arg, const struct draft_caller *c,
		       const struct draft_view *v);
	void *answer_arg;
};

/*
 * The caller from a user id or a guest token (either may be NULL; an
 * empty one counts as none): the user id when there is one of at most
 * 255 bytes, else the guest token when there is one of at most 255.
 * Borrows both strings. ERR_UNAUTHENTICATED when neither names a caller.
 */
enum err draft_caller_init(struct draft_caller *c, const char *user,
			   const char *guest);

/* What a draft (or the order it became) is, for its owner. */
enum draft_state {
	DRAFT_OPEN,	 /* still a draft (a cart) */
	DRAFT_PENDING,	 /* placed, not paid */
	DRAFT_COMPLETED, /* paid */
	DRAFT_CANCELLED,
	DRAFT__MAX
};

struct draft_item {
	char id[40];   /* the order item's uuid */
	char seat[40]; /* the seat's (variant's) uuid */
	/* The line's total: the catalog price with its share of any
	 * promotion (and any tax on top), so that the order's total is the
	 * sum of its seats' prices (a seat never ships). Minor units. */
	int64_t price;
};

/* A draft as its owner sees it; its items are the pool's it was read
 * with. */
struct draft_view {
	char id[40]; /* the order's uuid */
	int64_t total;
	enum draft_state state;
	char created_at[32]; /* YYYY-MM-DDTHH:MM:SSZ */
	char paid_at[32];    /* when its payment completed, or "" */
	struct draft_item *items;
	size_t nitems;
};

/* A seat to put into the caller's draft. */
struct draft_seat {
	const char *seat;	 /* the seat's (variant's) uuid */
	const char *reservation; /* kept on the item, or NULL; at most 64 */
	int64_t price;		 /* the price the caller saw, minor units */
};

/*
 * Puts seat s into c's draft, opening one (with a placeholder email, as
 * the seed knows none) when c has no live one, in its own transaction.
 * ERR_OK: c->answer had the draft after the add (its items pool's).
 * Refusals:
 * ERR_UNKNOWN_ITEM no such seat (enabled, tracked), ERR_PRICE_MISMATCH
 * the price is not the seat's, ERR_ALREADY_IN_CART the seat is in the
 * draft already, ERR_OUT_OF_STOCK the seat is taken (nothing is written).
 * Otherwise a database error.
 */
enum err draft_add(struct db *db, struct pool *pool,
		   const struct draft_caller *c, const struct draft_seat *s);

/*
 * Places c's draft order (its uuid) with place_cart, in its own
 * transaction. ERR_OK: c->answer had the placed order (its items
 * pool's).
 * Refusals: ERR_NOT_FOUND no such draft (or not a seed-002 one),
 * ERR_NOT_OWNER it is another caller's, ERR_INVALID_TRANSITION it
 * is a draft no more, ERR_OUT_OF_STOCK a seat is taken (the draft stays
 * a draft), ERR_TOTAL_CHANGED its total changed (the new prices are kept
 * in the draft). Otherwise what place_cart or the database gave.
 */
enum err draft_checkout(struct db *db, struct pool *pool,
			const struct draft_caller *c, const char *order);

#endif
