#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "log.h"
#include "outbound.h"
#include "payment.h"
#include "secret.h"

/* The kept answer lacks the token; the order keeps its hash. */
static const char sql_stored[] =
    "SELECT i.body, o.token_sha256 FROM seed003_imports i JOIN orders o ON "
    "o.id = i.order_id WHERE i.session_id = ? AND i.body IS NOT NULL";
static const char sql_claim[] =
    "INSERT IGNORE INTO seed003_imports (session_id) VALUES (?)";
static const char sql_keep[] =
    "UPDATE seed003_imports SET order_id = ?, body = ? WHERE session_id = ?";
static const char sql_items[] =
    "SELECT i.uuid, p.uuid, i.unit_price, i.quantity FROM order_items i "
    "JOIN product_variants v ON v.id = i.variant_id JOIN products p ON "
    "p.id = v.product_id WHERE i.order_id = ? ORDER BY i.id";
static const char sql_head[] =
    "SELECT uuid, total, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM "
    "orders WHERE id = ?";
struct stored {
	struct buf *body;
	unsigned char hash[32];
	int has_hash;
};

static enum err
stored_row(void *arg, const struct db_val *c, size_t n)
{
	struct stored *st = arg;

	if (n != 2 || c[0].type != DB_STR)
		return ERR_INTERNAL;
	buf_reset(st->body);
	st->has_hash = c[1].type == DB_STR && c[1].len == 32;
	if (st->has_hash)
		memcpy(st->hash, c[1].s, 32);
	return buf_append(st->body, c[0].s, c[0].len) == 0 ? ERR_OK : ERR_NOMEM;
}

/*
 * The order's guest token: HMAC-SHA256 of the session id under
 * security.secret, in hex. Only its SHA-256 is stored (in the order, as
 * for every cart), and a re-import derives it again: the same answer,
 * token included, without the database holding it (docs/api-seed003.md).
 */
static void
import_token(const char *session, char out[ORDER_TOKEN_LEN + 1])
{
	static const char label[] = "seed003 order token";
	unsigned char in[sizeof(label) + 256], h[32];
	size_t n = strlen(session), i;

	if (n > 255)
		n = 255;
	memcpy(in, label, sizeof(label)); /* Its NUL ends the label. */
	memcpy(in + sizeof(label), session, n);
	secret_hmac(in, sizeof(label) + n, h);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The kept import of session into res, when there is one (1). The token
 * is derived again; one that no longer matches the order's hash
 * (security.secret changed, or an import from before the token was
 * derived) is "". */
static int
replay(struct db *db, const char *session, struct import_result *res)
{
	struct db_val p = DB_S(session);
	struct stored st = {&res->body, {0}, 0};
	unsigned char h[32];

	buf_reset(&res->body);
	if (db_query(db, sql_stored, &p, 1, stored_row, &st) != ERR_OK ||
	    res->body.len == 0) {
		buf_reset(&res->body);
		return 0;
	}
	import_token(session, res->token);
	sha256(res->token, ORDER_TOKEN_LEN, h);
	if (!st.has_hash || ct_compare(h, st.hash, 32) != 0) {
		log_warn("seed003: the token of an import does not match its "
			 "order (security.secret changed?): answered null");
		res->token[0] = '\0';
	}
	res->outcome = IMPORT_REPLAYED;
	return 1;
}

/* A C string as a text the core checks (NULL: absent). */
static struct text
text_of(const char *s)
{
	return (struct text){s, s != NULL ? strlen(s) : 0, s != NULL};
}

/* The session's address as the addressing step takes it; names from the
 * email, which is all the session says of the buyer. */
static void
address(const struct session_address *a, const char *email, struct address *out)
{
	const char *at = strchr(email, '@');

	out->has = ADDRESS_GIVEN;
	out->part[ADDR_FIRST_NAME] =
	    (struct text){email, at != NULL ? (size_t)(at - email) : 1, 1};
	out->part[ADDR_LAST_NAME] = text_of(at != NULL ? at + 1 : email);
	out->part[ADDR_STREET] = text_of(a->street);
	out->part[ADDR_CITY] = text_of(a->city);
	out->part[ADDR_POSTCODE] = text_of(a->postal_code);
	out->part[ADDR_COUNTRY] = text_of(a->country);
	out->part[ADDR_PROVINCE] = text_of(a->state);
}

struct import {
	const char *session;
	struct checkout_session s;
	struct place_req r;
	struct step_in address;
	import_render_fn render;
	void *arg;
	struct import_result *res;
	struct pool *pool;
	/* What a run gives: zeroed before each (db_tx_out). */
	struct import_out {
		int duplicate;
		struct verr v;	     /* errors kept in pool */
		struct step_out out; /* its trees kept in pool */
		struct imported o;
	} out;
};

/* The session's items and addresses into m->r: ERR_OK when the store
 * takes them, else the refusal (import_session). */
static enum err
check_session(struct db *db, struct import *m)
{
	const struct checkout_session *s = &m->s;
	size_t i;
	enum err e;

	if (s->status == NULL || strcmp(s->status, "COMPLETED") != 0)
		return ERR_INVALID_TRANSITION;
	if (!s->has_items || s->nitems == 0)
		return ERR_NO_ITEMS;
	if (s->currency == NULL ||
	    ascii_ncasecmp(s->currency, config_str("store.currency"), 4) != 0 ||
	    s->email == NULL || s->nitems > PLACE_MAX_LINES)
		return ERR_VALIDATION_FAILED;
	for (i = 0; i < s->nitems; i++) {
		const struct session_item *it = &s->items[i];
		struct sole_variant sole;

		if (it->product == NULL || !it->has_quantity || it->price < 0)
			return ERR_VALIDATION_FAILED;
		/* 1e9 major units at most, as any price the store takes. */
		if (it->quantity < 1 || it->quantity > 9999 ||
		    it->price > 100000000000)
			return ERR_VALIDATION_FAILED;
		e = catalog_sole_variant(db, it->product, 0, &sole);
		/* A product the store does not sell; a database that did not
		 * answer is not the session's fault (503, not 422). */
		if (e == ERR_NOT_FOUND)
			return ERR_VALIDATION_FAILED;
		if (e != ERR_OK)
			return e;
		m->r.lines[m->r.nlines].variant = sole.variant;
		m->r.lines[m->r.nlines].quantity = it->quantity;
		m->r.lines[m->r.nlines].price = it->price;
		m->r.nlines++;
	}
	if (s->has_shipping)
		address(&s->shipping, s->email, &m->address.ship);
	if (s->has_billing)
		address(&s->billing, s->email, &m->address.bill);
	m->address.email = text_of(s->email);
	m->address.expected = -1;
	m->r.address = &m->address;
	if (config_str("seed003.shipping_method")[0] != '\0')
		m->r.shipping_method = config_str("seed003.shipping_method");
	return ERR_OK;
}

static enum err
head_row(void *arg, const struct db_val *c, size_t n)
{
	struct imported *o = arg;

	if (n != 3)
		return ERR_INTERNAL;
	snprintf(o->uuid, sizeof(o->uuid), "%s", c[0].s);
	o->total = c[1].i;
	snprintf(o->created_at, sizeof(o->created_at), "%s", c[2].s);
	return ERR_OK;
}

static enum err
line_row(void *arg, const struct db_val *c, size_t n)
{
	struct imported *o = arg;
	struct import_line *l;

	if (n != 4 || o->nlines == PLACE_MAX_LINES)
		return ERR_INTERNAL;
	l = &o->lines[o->nlines++];
	snprintf(l->id, sizeof(l->id), "%s", c[0].s);
	snprintf(l->product, sizeof(l->product), "%s", c[1].s);
	l->price = c[2].i;
	l->quantity = c[3].i;
	return ERR_OK;
}

static enum err
import_tx(struct db *db, void *arg)
{
	struct import *m = arg;
	struct buf *body = &m->res->body;
	char token[ORDER_TOKEN_LEN + 1];
	struct db_val p[3];
	uint64_t n = 0;
	enum err e;

	p[0] = DB_S(m->session);
	/* Waits for a concurrent import of the same session to end. */
	e = db_exec(db, sql_claim, p, 1, &n);
	if (e != ERR_OK)
		return e;
	if (n == 0) {
		m->out.duplicate = 1;
		return ERR_OK;
	}
	m->r.token = m->res->token;
	m->out.o.session = &m->s;
	e = place_order(db, m->pool, &m->r, &m->out.o.order, token, &m->out.v,
			&m->out.out);
	if (pool_keep_at(m->pool, &m->out.v.errors) != 0)
		return ERR_NOMEM;
	if (e == ERR_OK && m->s.payment_intent != NULL)
		e = payment_attach_intent(db, m->out.o.order, "stripe",
					  m->s.payment_intent);
	p[0] = DB_I(m->out.o.order);
	if (e == ERR_OK)
		e = db_query(db, sql_head, p, 1, head_row, &m->out.o);
	if (e == ERR_OK)
		e = db_query(db, sql_items, p, 1, line_row, &m->out.o);
	buf_reset(body);
	if (e == ERR_OK)
		e = m->render(&m->out.o, body, m->arg);
	if (e == ERR_OK && body->failed)
		e = ERR_NOMEM;
	if (e != ERR_OK)
		return e;
	p[0] = DB_I(m->out.o.order);
	p[1] = DB_B(body->data, body->len);
	p[2] = DB_S(m->session);
	return db_exec(db, sql_keep, p, 3, NULL);
}

static enum err
import_run(struct db *db, struct pool *pool, void *curl, const char *session,
	   import_render_fn render, void *arg, struct import_result *res)
{
	struct import *m;
	enum err e;

	import_token(session, res->token);
	/* Imported before: the same answer, token included. */
	if (replay(db, session, res))
		return ERR_OK;
	m = pool_alloc(pool, sizeof(*m));
	if (m == NULL)
		return ERR_NOMEM;
	m->pool = pool;
	m->session = session;
	m->render = render;
	m->arg = arg;
	m->res = res;
	if (outbound_enter() != 0)
		return ERR_BUSY;
	e = sessions_fetch(curl, pool, session, &m->s);
	outbound_leave();
	res->outcome = IMPORT_CREATED;
	/* The service could not be asked, whatever the reason. */
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		e = ERR_PROVIDER_ERROR;
	if (e == ERR_OK)
		e = check_session(db, m);
	if (e == ERR_OK) {
		e = db_tx_out(db, pool, &m->out, sizeof(m->out), import_tx, m);
		/* An address, product or stock the store cannot take. */
		if (e == ERR_OUT_OF_STOCK)
			e = ERR_VALIDATION_FAILED;
	}
	if (e == ERR_OK && m->out.duplicate && !replay(db, session, res))
		e = ERR_INTERNAL;
	return e;
}

enum err
import_session(struct db *db, struct pool *pool, void *curl,
	       const char *session, import_render_fn render, void *arg,
	       struct import_result *res)
{
	enum err e = import_run(db, pool, curl, session, render, arg, res);

	/* The kept answer becomes the pool's, whatever the outcome. */
	if (res->body.data != NULL &&
	    pool_defer(pool, free, res->body.data) == NULL) {
		memset(&res->body, 0, sizeof(res->body));
		return ERR_NOMEM;
	}
	return e;
}
