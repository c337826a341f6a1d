/*
 * Seed 003's import (SPEC 3.4, docs/api-seed003.md): one upstream checkout
 * session (src/sessions.h) placed as one order through place_order, at the
 * session's prices, with its addresses and email, its payment intent
 * attached to the order's payment. One session is one order, also under
 * concurrency: the import claims the session id first, in the order's
 * transaction, and keeps its answer in seed003_imports (this module's
 * table) so that a re-import gets the same one, token included.
 */
#ifndef CHECKOUTD_IMPORT_H
#define CHECKOUTD_IMPORT_H

#include <stdint.h>

#include "err.h"
#include "order.h"
#include "place.h"
#include "sessions.h"
#include "str.h"

/* An order line as placed. */
struct import_line {
	char id[37];	  /* the order item's uuid */
	char product[37]; /* its product's uuid */
	int64_t price, quantity;
};

/* The order an import placed, given to the caller's renderer. */
struct imported {
	int64_t order;
	char uuid[37];
	int64_t total;
	char created_at[24]; /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	struct import_line lines[PLACE_MAX_LINES];
	size_t nlines;
	const struct checkout_session *session; /* the upstream session */
};

/*
 * Writes the answer that is kept for the session into body (reset first),
 * without the order's token (the import adds none; the caller adds the
 * token to what it answers). Called inside the import's transaction, once
 * per attempt. ERR_OK, or an error that rolls the import back.
 */
typedef enum err (*import_render_fn)(const struct imported *o, struct buf *body,
				     void *arg);

enum import_outcome {
	IMPORT_CREATED, /* placed now: body and token */
	IMPORT_REPLAYED /* imported before: the kept body and token */
};

struct import_result {
	enum import_outcome outcome;
	struct buf body; /* CREATED, REPLAYED: the kept answer; pool's */
	/* CREATED, REPLAYED: the order's guest token; "" when a replayed
	 * import's token no longer matches its order (security.secret
	 * changed), which is logged. */
	char token[ORDER_TOKEN_LEN + 1];
};

/*
 * Imports session (1 to 255 bytes, no control character): the kept answer
 * when it was imported before; else fetches it (outside any transaction,
 * on curl, within outbound_enter/outbound_leave), checks it and places it
 * in one transaction with the claim, render writing the kept answer.
 * ERR_OK with res->outcome set. The refusals: ERR_NOT_FOUND (the service
 * does not know the session), ERR_PROVIDER_ERROR (the service could not
 * be asked), ERR_INVALID_TRANSITION (its status is not COMPLETED),
 * ERR_NO_ITEMS, ERR_VALIDATION_FAILED (not one the store takes: currency,
 * email, quantity, price, a product that is not one enabled variant, an
 * address or stock the order's steps refuse). Otherwise ERR_BUSY (every
 * outbound slot taken), database errors, ERR_NOMEM. What the placing
 * hands out is kept in pool, and so is res->body, whatever it returns.
 */
enum err import_session(struct db *db, struct pool *pool, void *curl,
			const char *session, import_render_fn render, void *arg,
			struct import_result *res);

#endif
