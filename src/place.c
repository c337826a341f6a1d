#include "place.h"

#include <stdio.h>
#include <string.h>

#include "cart.h"
#include "config.h"

/* A selection step (shipping or payment) choosing the method code. */
static enum err
select_step(struct db *db, struct pool *pool, struct order_head *h,
	    const char *code, struct verr *v, struct step_out *out,
	    enum err (*step)(struct db *, struct pool *, struct order_head *,
			     const struct step_in *, struct verr *,
			     struct step_out *))
{
	struct step_in in = {.expected = -1};

	snprintf(in.method, sizeof(in.method), "%s", code);
	return step(db, pool, h, &in, v, out);
}

/* The price given, kept by the chain (immutable lines are not repriced). */
static const char sql_fixed_price[] =
    "UPDATE order_items SET unit_price = ?, immutable = 1 WHERE order_id = "
    "? AND variant_id = ?";

enum err
place_order(struct db *db, struct pool *pool, const struct place_req *r,
	    int64_t *id, char token[ORDER_TOKEN_LEN + 1], struct verr *v,
	    struct step_out *out)
{
	struct creds c = {.session = r->session};
	struct order_head h;
	char ref[24];
	enum err e;
	size_t i;

	if (r->nlines == 0) {
		verr_core(v, F_ITEMS, V_ORDER_EMPTY, 0);
		return ERR_VALIDATION_FAILED;
	}
	if (r->token != NULL && r->session == NULL) {
		e = order_create_with_token(db, pool, r->token, id);
		snprintf(token, ORDER_TOKEN_LEN + 1, "%s", r->token);
	} else {
		e = order_create(db, pool, &c, id, token, NULL);
	}
	for (i = 0; e == ERR_OK && i < r->nlines; i++) {
		snprintf(ref, sizeof(ref), "%lld",
			 (long long)r->lines[i].variant);
		e = order_head_load(db, *id, &h);
		if (e == ERR_OK)
			e = cart_add_item(db, pool, &h, ref,
					  r->lines[i].quantity, v, NULL);
		if (e == ERR_OK && r->lines[i].price >= 0) {
			struct db_val p[3] = {DB_I(r->lines[i].price),
					      DB_I(*id),
					      DB_I(r->lines[i].variant)};

			e = db_exec(db, sql_fixed_price, p, 3, NULL);
		}
	}
	return e == ERR_OK ? place_cart(db, pool, *id, r, v, out) : e;
}

enum err
place_cart(struct db *db, struct pool *pool, int64_t id,
	   const struct place_req *r, struct verr *v, struct step_out *out)
{
	const char *ship = r->shipping_method != NULL
			       ? r->shipping_method
			       : config_str("checkout.default_shipping_method");
	const char *pay = r->payment_method != NULL
			      ? r->payment_method
			      : config_str("checkout.default_payment_method");
	struct order_head h;
	enum err e = order_head_load(db, id, &h);
	int64_t expected = h.total;

	if (e != ERR_OK)
		return e;
	/* A draft may be part way (a finalize that met a new price). */
	if (checkout_state_parse(h.checkout) != CS_CART) {
		/* Already past addressing. */
	} else if (r->address != NULL) {
		e = step_address(db, pool, &h, r->address, v, out);
	} else if (h.shipping_lines == 0) {
		e = step_place_skip(db, pool, &h, out);
	} else {
		verr_core(v, F_SHIP_ADDRESS, V_NEEDS_SHIPPING, 0);
		e = ERR_VALIDATION_FAILED;
	}
	/* Each step reads the head as the previous one left it. */
	if (e == ERR_OK)
		e = order_head_load(db, id, &h);
	if (e == ERR_OK && checkout_state_parse(h.checkout) == CS_ADDRESSED &&
	    h.shipping_lines == 0 && r->address == NULL) {
		e = step_place_skip(db, pool, &h, out);
		if (e == ERR_OK)
			e = order_head_load(db, id, &h);
	} else if (e == ERR_OK &&
		   checkout_state_parse(h.checkout) == CS_ADDRESSED) {
		e = select_step(db, pool, &h, ship, v, out, step_shipping);
		if (e == ERR_OK)
			e = order_head_load(db, id, &h);
	}
	if (e == ERR_OK &&
	    (checkout_state_parse(h.checkout) == CS_SHIPPING_SELECTED ||
	     checkout_state_parse(h.checkout) == CS_SHIPPING_SKIPPED)) {
		e = select_step(db, pool, &h, pay, v, out, step_payment);
		if (e == ERR_OK)
			e = order_head_load(db, id, &h);
	}
	/* With guard_total, the total the caller saw is the one the cart had:
	 * a price that moved since is 409 total_changed, as for a finalize. */
	if (e == ERR_OK) {
		struct step_in in = {.expected =
					 r->guard_total ? expected : -1};

		e = step_complete(db, pool, &h, &in, v, out);
	}
	return e;
}
