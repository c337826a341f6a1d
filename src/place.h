/*
 * place_order (SPEC 1): the direct path the other seeds' dialects take —
 * a cart made, filled and walked through addressing, shipping, payment
 * selection and completion in the caller's transaction, by the same steps
 * and rules as the canonical API (no rule written twice).
 */
#ifndef CHECKOUTD_PLACE_H
#define CHECKOUTD_PLACE_H

#include <stdint.h>

#include "db.h"
#include "input.h"
#include "order.h"
#include "steps.h"
#include "valid.h"

#define PLACE_MAX_LINES 64

struct place_line {
	int64_t variant; /* variant id */
	int64_t quantity;
	/* A price the line keeps whatever the catalog says (immutable, as a
	 * seed-003 session's), or -1 for the catalog's. */
	int64_t price;
};

struct place_req {
	const char *session; /* the customer's session, or NULL: a guest */
	/* A guest's token chosen by the caller (order_create_with_token), or
	 * NULL: a random one. */
	const char *token;
	struct place_line lines[PLACE_MAX_LINES];
	size_t nlines;
	/* The addressing step's input (its ship, bill and email), or NULL
	 * when nothing ships and no address is known (the order goes
	 * straight to shipping_skipped). */
	const struct step_in *address;
	const char
	    *shipping_method;	    /* NULL: checkout.default_shipping_method */
	const char *payment_method; /* NULL: checkout.default_payment_method */
	/* place_cart: the cart's total when the walk starts is the one the
	 * caller saw; completing at another is 409 total_changed. */
	int guard_total;
};

/*
 * Places the order r describes inside the caller's transaction. ERR_OK:
 * *id the new order, *token its guest token ("" for a customer's),
 * out->snapshot the placed order. Otherwise what the steps refused: 422
 * with v (unknown variant, stock at add), 409 out_of_stock with
 * out->extra, ERR_UNAUTHENTICATED for a session that is not valid. out's
 * trees are kept in pool; v's errors are the caller's.
 */
enum err place_order(struct db *db, struct pool *pool,
		     const struct place_req *r, int64_t *id,
		     char token[ORDER_TOKEN_LEN + 1], struct verr *v,
		     struct step_out *out);

/*
 * The walk of place_order on a cart that exists already (seed 002's
 * draft): addressing (or the no-address shortcut), shipping, payment
 * selection and completion, skipping the steps the cart is past. Only
 * r's address and methods are read. out->total_changed as for a finalize.
 */
enum err place_cart(struct db *db, struct pool *pool, int64_t id,
		    const struct place_req *r, struct verr *v,
		    struct step_out *out);

#endif
