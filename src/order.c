/*
 * An order's head and who may reach it (SPEC 1, "Ownership"), and its
 * events. Carts and their lines are src/cart.c's, the processor chain's
 * run src/recompute.c's, the snapshot src/snapshot.c's.
 */
#include "order.h"

#include <stdio.h>
#include <string.h>

#include "customer.h"
#include "states.h"
#include "str.h"

enum err
order_read_row(struct order_read *o, const struct db_val *c, size_t n)
{
	struct order_head *h = o->h;

	if (n != ORDER_READ_COLS)
		return ERR_INTERNAL;
	o->found = 1;
	o->has_hash = c[0].type == DB_STR && c[0].len == 32;
	if (o->has_hash)
		memcpy(o->hash, c[0].s, 32);
	h->customer = c[1].type == DB_I64 ? c[1].i : 0;
	/* Only a cart expires. */
	o->expired = c[2].type == DB_I64 && c[2].i != 0 &&
		     order_state_parse(c[3].s) == OS_CART;
	snprintf(h->state, sizeof(h->state), "%s", c[3].s);
	snprintf(h->checkout, sizeof(h->checkout), "%s", c[4].s);
	h->has_email = c[5].type == DB_STR;
	snprintf(h->email, sizeof(h->email), "%s", h->has_email ? c[5].s : "");
	h->total = c[6].i;
	snprintf(h->country, sizeof(h->country), "%s",
		 c[7].type == DB_STR ? c[7].s : "");
	h->ship_addr = c[8].type == DB_I64 ? c[8].i : 0;
	h->bill_addr = c[9].type == DB_I64 ? c[9].i : 0;
	h->lines = c[10].i;
	h->shipping_lines = c[11].type == DB_I64 ? c[11].i : 0;
	h->coupon = c[12].type == DB_I64 ? c[12].i : 0;
	snprintf(h->payment_state, sizeof(h->payment_state), "%s", c[13].s);
	return ERR_OK;
}

static enum err
read_row(void *arg, const struct db_val *c, size_t n)
{
	return order_read_row(arg, c, n);
}

/* One primary-key read: the line counts and the shipping country are kept
 * on the order row (migration 0011; the chain writes the counts). */
#define SQL_OWNER "SELECT " SQL_ORDER_READ_COLS " FROM orders o WHERE o.id = ?"
static const char sql_owner[] = SQL_OWNER;
static const char sql_owner_lock[] = SQL_OWNER " FOR UPDATE";

enum err
order_head_load(struct db *db, int64_t id, struct order_head *h)
{
	struct db_val p = DB_I(id);
	struct order_read o = {.h = h};
	enum err e;

	memset(h, 0, sizeof(*h));
	h->id = id;
	e = db_query(db, sql_owner_lock, &p, 1, read_row, &o);
	if (e == ERR_OK && !o.found)
		e = ERR_NOT_FOUND;
	return e;
}

/* The ownership check of order_authorize on the order's row o. */
static enum err
owner_check(struct db *db, const struct creds *c, const struct order_read *o)
{
	int64_t customer = 0;
	enum err e;

	if (!o->found || o->expired)
		return ERR_NOT_FOUND;
	if (o->h->customer != 0) {
		/* Only the customer's own valid session reaches it. */
		if (c->session == NULL)
			return ERR_NOT_FOUND;
		e = session_customer(db, c->session, &customer);
		if (e != ERR_OK)
			return e;
		return customer == o->h->customer ? ERR_OK : ERR_NOT_FOUND;
	}
	if (c->token != NULL && o->has_hash) {
		unsigned char hash[32];

		sha256(c->token, strlen(c->token), hash);
		if (ct_compare(hash, o->hash, 32) == 0)
			return ERR_OK;
	}
	return ERR_NOT_FOUND;
}

enum err
order_authorize_read(struct db *db, int64_t id, const struct creds *c,
		     const char *sql, const struct db_val *p, size_t n,
		     enum err (*row)(void *, const struct db_val *, size_t),
		     void *arg, struct order_read *o)
{
	enum err e;

	memset(o->h, 0, sizeof(*o->h));
	o->h->id = id;
	if (c->token == NULL && c->session == NULL)
		return ERR_UNAUTHENTICATED;
	e = db_query(db, sql, p, n, row, arg);
	return e != ERR_OK ? e : owner_check(db, c, o);
}

enum err
order_authorize(struct db *db, int64_t id, const struct creds *c, int lock,
		struct order_head *h)
{
	struct db_val p = DB_I(id);
	struct order_read o = {.h = h};

	return order_authorize_read(db, id, c,
				    lock ? sql_owner_lock : sql_owner, &p, 1,
				    read_row, &o, &o);
}

static const char sql_event[] =
    "INSERT INTO outbox_events (uuid, order_id, type, payload) VALUES "
    "(?, ?, ?, ?)";

enum err
order_event(struct db *db, int64_t id, const char *type,
	    struct json_object *snap)
{
	char uuid[37];
	struct db_val p[4];

	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(id);
	p[2] = DB_S(type);
	p[3] =
	    DB_S(json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN));
	return db_exec(db, sql_event, p, 4, NULL);
}
