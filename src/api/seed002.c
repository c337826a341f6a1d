/*
 * Seed 002, the ticketing "Ordering" service (SPEC 3.3,
 * docs/api-seed002.md): POST /cart/add puts a seat (a tracked variant of
 * one unit) into the caller's single draft order; POST /orders/checkout
 * places the draft with place_cart. The caller is a userId (trusted as
 * given, as in the seed) or a guestToken (kept as its SHA-256); the two
 * never see each other's drafts. Errors are {"error": ...}.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "place.h"
#include "str.h"

#define E_WHO	     "Either UserId or GuestToken must be provided"
#define E_NOT_DRAFT  "Order is not in draft state"
#define E_UNAUTH     "Unauthorized"
#define E_NO_ORDER   "Order not found"
#define E_TAKEN	     "Seat is no longer available"
#define E_TWICE	     "Seat already in cart"
#define E_PRICE	     "Price does not match"
#define E_NO_SEAT    "Seat not found"
#define E_CHANGED    "Price has changed"
#define E_BAD_FIELDS "Invalid request"

/* A non-empty string member: an empty userId is no userId. */
static const char *
str_of(struct json_object *o, const char *key)
{
	const char *v = dialect_string(o, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* "u:<userId>" or "g:<hex sha-256 of guestToken>": one namespace each. */
static int
owner_key(struct json_object *body, char out[300], const char **user,
	  const char **guest)
{
	unsigned char h[32];
	size_t i;

	*user = str_of(body, "userId");
	*guest = str_of(body, "guestToken");
	if (*user != NULL && strlen(*user) <= 255) {
		snprintf(out, 300, "u:%s", *user);
		return 0;
	}
	if (*guest != NULL && strlen(*guest) <= 255) {
		sha256(*guest, strlen(*guest), h);
		memcpy(out, "g:", 2);
		for (i = 0; i < 32; i++)
			snprintf(out + 2 + 2 * i, 3, "%02x", h[i]);
		return 0;
	}
	return -1;
}

/* The order object of the seed, from order id. */
static const char sql_obj[] =
    "SELECT o.uuid, o.total, o.state, o.payment_state, "
    "DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%sZ'), (SELECT "
    "DATE_FORMAT(MAX(p.updated_at), '%Y-%m-%dT%H:%i:%sZ') FROM payments p "
    "WHERE p.order_id = o.id AND p.state = 'completed') FROM orders o WHERE "
    "o.id = ?";
/* A seat's price is its line's total: the catalog price with its share of
 * any promotion (and any tax added on top), so that totalAmount, the
 * "total amount for all items", is the sum of the prices (a seat never
 * ships: a seed-002 order has no order-level charge). */
static const char sql_obj_items[] =
    "SELECT i.uuid, v.uuid, i.total FROM order_items i JOIN "
    "product_variants v ON v.id = i.variant_id WHERE i.order_id = ? ORDER "
    "BY i.id";

static enum err
obj_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *o = arg;
	const char *state = "draft";

	if (n != 6)
		return ERR_INTERNAL;
	if (strcmp(c[2].s, "cancelled") == 0)
		state = "cancelled";
	else if (strcmp(c[3].s, "paid") == 0)
		state = "completed";
	else if (strcmp(c[2].s, "cart") != 0)
		state = "pending";
	json_object_object_add(o, "id", json_object_new_string(c[0].s));
	json_object_object_add(o, "totalAmount", dialect_amount(c[1].i));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "createdAt", json_object_new_string(c[4].s));
	json_object_object_add(
	    o, "paidAt",
	    c[5].type == DB_STR ? json_object_new_string(c[5].s) : NULL);
	return ERR_OK;
}

static enum err
obj_item(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *it = json_object_new_object();

	if (n != 3) {
		json_object_put(it);
		return ERR_INTERNAL;
	}
	json_object_object_add(it, "id", json_object_new_string(c[0].s));
	json_object_object_add(it, "seatId", json_object_new_string(c[1].s));
	json_object_object_add(it, "price", dialect_amount(c[2].i));
	json_object_array_add(arg, it);
	return ERR_OK;
}

static enum err
order_object(struct db *db, int64_t id, const char *user, const char *guest,
	     struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();
	struct db_val p = DB_I(id);
	enum err e;

	json_object_object_add(o, "userId",
			       user ? json_object_new_string(user) : NULL);
	json_object_object_add(
	    o, "guestToken",
	    user == NULL && guest ? json_object_new_string(guest) : NULL);
	e = db_query(db, sql_obj, &p, 1, obj_row, o);
	if (e == ERR_OK)
		e = db_query(db, sql_obj_items, &p, 1, obj_item, items);
	json_object_object_add(o, "items", items);
	if (e != ERR_OK) {
		json_object_put(o);
		return e;
	}
	*out = o;
	return ERR_OK;
}

/* POST /cart/add. */

struct add {
	const char *seat, *reservation, *user, *guest;
	char owner[300];
	int64_t price; /* minor units, as sent */
	int64_t variant, catalog;
	/* out */
	int status;
	const char *msg;
	struct json_object *answer;
	struct verr v;
};

static const char sql_seat[] =
    "SELECT v.id, v.price FROM product_variants v JOIN products p ON p.id = "
    "v.product_id WHERE v.uuid = ? AND v.tracked = 1 AND v.enabled = 1 AND "
    "p.enabled = 1";
static const char sql_draft[] =
    "SELECT id FROM orders WHERE seed002_owner = ? AND state = 'cart' AND "
    "expires_at > UTC_TIMESTAMP() ORDER BY id DESC LIMIT 1";
static const char sql_own[] =
    "UPDATE orders SET seed002_owner = ?, email = ? WHERE id = ?";
static const char sql_in_cart[] =
    "SELECT COUNT(*) FROM order_items WHERE order_id = ? AND variant_id = ?";
static const char sql_reservation[] =
    "UPDATE order_items SET reservation_id = ? WHERE order_id = ? AND "
    "variant_id = ?";

static enum err
add_tx(struct db *db, void *arg)
{
	struct add *a = arg;
	struct order_head h;
	int64_t id = 0, twice = 0;
	char token[ORDER_TOKEN_LEN + 1], ref[24], email[300];
	struct creds none = {0};
	struct db_val p[3];
	enum err e;

	json_object_put(a->answer);
	a->answer = NULL;
	a->status = 0;
	verr_free(&a->v);
	p[0] = DB_S(a->owner);
	e = db_query(db, sql_draft, p, 1, db_row_int, &id);
	if (e == ERR_OK && id == 0) {
		/* The seed knows no email: an address nobody receives at,
		 * which completion asks of every guest order. */
		snprintf(email, sizeof(email), "%s@seed002.invalid",
			 a->user != NULL ? "user" : "guest");
		e = order_create(db, &none, &id, token, NULL);
		p[0] = DB_S(a->owner);
		p[1] = DB_S(email);
		p[2] = DB_I(id);
		if (e == ERR_OK)
			e = db_exec(db, sql_own, p, 3, NULL);
	}
	if (e == ERR_OK)
		e = order_head_load(db, id, &h);
	p[0] = DB_I(id);
	p[1] = DB_I(a->variant);
	if (e == ERR_OK)
		e = db_query(db, sql_in_cart, p, 2, db_row_int, &twice);
	if (e != ERR_OK)
		return e;
	if (twice > 0) {
		a->status = 400;
		a->msg = E_TWICE;
		return ERR_OK;
	}
	snprintf(ref, sizeof(ref), "%lld", (long long)a->variant);
	e = cart_add_item(db, &h, ref, 1, &a->v, NULL);
	if (e == ERR_VALIDATION_FAILED) {
		/* The only check a seat fails here is its stock. */
		a->status = 409;
		a->msg = E_TAKEN;
		return e; /* rolls back */
	}
	p[0] = a->reservation ? DB_S(a->reservation) : DB_N;
	p[1] = DB_I(id);
	p[2] = DB_I(a->variant);
	if (e == ERR_OK)
		e = db_exec(db, sql_reservation, p, 3, NULL);
	if (e == ERR_OK)
		e = order_object(db, id, a->user, a->guest, &a->answer);
	return e;
}

static enum err
seat_row(void *arg, const struct db_val *c, size_t n)
{
	struct add *a = arg;

	if (n != 2)
		return ERR_INTERNAL;
	a->variant = c[0].i;
	a->catalog = c[1].i;
	return ERR_OK;
}

enum err
api_seed002_cart_add(struct request *req)
{
	struct json_object *body = dialect_body(req);
	struct add a = {0};
	struct db_val p;
	enum err e = ERR_OK;

	if (body == NULL && req->body.len > 0)
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	if (owner_key(body, a.owner, &a.user, &a.guest) != 0) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_WHO);
	}
	a.seat = str_of(body, "seatId");
	a.reservation = str_of(body, "reservationId");
	a.price = dialect_minor_units(json_object_object_get(body, "price"));
	if (a.seat == NULL || a.price < 0 ||
	    (a.reservation != NULL && strlen(a.reservation) > 64)) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	}
	p = DB_S(a.seat);
	if (strlen(a.seat) == 36)
		e = db_query(req->db, sql_seat, &p, 1, seat_row, &a);
	if (e == ERR_OK && a.variant == 0) {
		dialect_error(req, "error", 404, E_NO_SEAT);
	} else if (e == ERR_OK && a.price != a.catalog) {
		dialect_error(req, "error", 400, E_PRICE);
	} else if (e == ERR_OK) {
		e = db_tx(req->db, add_tx, &a);
		if (a.status != 0 &&
		    (e == ERR_OK || e == ERR_VALIDATION_FAILED))
			e = dialect_error(req, "error", a.status, a.msg);
		else if (e == ERR_OK)
			res_json(req, 200, json_object_get(a.answer));
	}
	json_object_put(a.answer);
	verr_free(&a.v);
	json_object_put(body);
	return e;
}

/* POST /orders/checkout. */

struct co {
	const char *order, *user, *guest;
	char owner[300];
	int status;
	const char *msg;
	struct json_object *answer;
	struct verr v;
	struct step_out out;
};

static const char sql_order[] =
    "SELECT id, COALESCE(seed002_owner, ''), state FROM orders WHERE uuid "
    "= ? FOR UPDATE";

struct found {
	int64_t id;
	char owner[300], state[24];
};

static enum err
found_row(void *arg, const struct db_val *c, size_t n)
{
	struct found *f = arg;

	if (n != 3)
		return ERR_INTERNAL;
	f->id = c[0].i;
	snprintf(f->owner, sizeof(f->owner), "%s", c[1].s);
	snprintf(f->state, sizeof(f->state), "%s", c[2].s);
	return ERR_OK;
}

static enum err
checkout_tx(struct db *db, void *arg)
{
	struct co *c = arg;
	struct db_val p = DB_S(c->order);
	struct found f = {0};
	struct place_req r = {.guard_total = 1};
	enum err e;

	json_object_put(c->answer);
	json_object_put(c->out.snapshot);
	json_object_put(c->out.extra);
	c->answer = c->out.snapshot = c->out.extra = NULL;
	c->out.total_changed = 0;
	c->status = 0;
	verr_free(&c->v);
	e = db_query(db, sql_order, &p, 1, found_row, &f);
	if (e != ERR_OK)
		return e;
	if (f.id == 0 || f.owner[0] == '\0') {
		c->status = 404;
		c->msg = E_NO_ORDER;
	} else if (strcmp(f.owner, c->owner) != 0) {
		c->status = 401;
		c->msg = E_UNAUTH;
	} else if (strcmp(f.state, "cart") != 0) {
		c->status = 400;
		c->msg = E_NOT_DRAFT;
	}
	if (c->status != 0)
		return ERR_OK;
	e = place_cart(db, f.id, &r, &c->v, &c->out);
	if (e == ERR_OUT_OF_STOCK) {
		c->status = 409;
		c->msg = E_TAKEN;
		return e; /* rolls back: the draft stays a draft */
	}
	if (e == ERR_OK && c->out.total_changed) {
		/* The new price is committed with the draft. */
		c->status = 409;
		c->msg = E_CHANGED;
		return ERR_OK;
	}
	if (e == ERR_OK)
		e = order_object(db, f.id, c->user, c->guest, &c->answer);
	return e;
}

enum err
api_seed002_checkout(struct request *req)
{
	struct json_object *body = dialect_body(req);
	struct co c = {0};
	enum err e;

	if (body == NULL && req->body.len > 0)
		return dialect_error(req, "error", 400, E_BAD_FIELDS);
	if (owner_key(body, c.owner, &c.user, &c.guest) != 0) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_WHO);
	}
	c.order = str_of(body, "orderId");
	if (c.order == NULL || strlen(c.order) != 36) {
		json_object_put(body);
		return dialect_error(req, "error", 404, E_NO_ORDER);
	}
	e = db_tx(req->db, checkout_tx, &c);
	if (c.status != 0 && (e == ERR_OK || e == ERR_OUT_OF_STOCK))
		e = dialect_error(req, "error", c.status, c.msg);
	else if (e == ERR_OK)
		res_json(req, 200, json_object_get(c.answer));
	json_object_put(c.answer);
	json_object_put(c.out.snapshot);
	json_object_put(c.out.extra);
	verr_free(&c.v);
	json_object_put(body);
	return e;
}
