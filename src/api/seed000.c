/*
 * Seed 000, "Servicio de checkouts" (SPEC 3.1, docs/api-seed000.md):
 * POST /checkouts {"session_id", "item": {"uuid"}} books a provider's slot
 * and places an order of that item through place_order, in one
 * transaction that locks the provider row, then the customer row. Errors
 * are {"message": ...} in Spanish, as the document says.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "order.h"
#include "place.h"
#include "str.h"

#define MSG_SESSION   "La sesión no existe"
#define MSG_ITEM      "Elemento no encontrado"
#define MSG_CAPACITY  "Proveedor sin disponibilidad"
#define MSG_BLOCKED   "Método bloqueado por seguridad"
#define MSG_MALFORMED "Cuerpo inválido"

struct booking {
	const char *session, *item;
	int64_t customer, variant, product, provider;
	char provider_name[256];
	int64_t capacity;
	/* out */
	int refusal; /* 404 or 412 with msg */
	const char *msg;
	int64_t order, agenda;
	char starts_at[24];
	struct json_object *snapshot, *payment;
	struct verr v;
	struct step_out out;
};

static const char sql_item[] =
    "SELECT p.id, p.provider_id, MIN(v.id), COUNT(v.id) FROM products p "
    "JOIN product_variants v ON v.product_id = p.id AND v.enabled = 1 "
    "WHERE p.uuid = ? AND p.enabled = 1 GROUP BY p.id, p.provider_id";
static const char sql_provider_lock[] =
    "SELECT capacity, name FROM providers WHERE id = ? FOR UPDATE";
static const char sql_customer_lock[] =
    "SELECT id FROM customers WHERE id = ? FOR UPDATE";
/* The two-unpaid rule: open orders of the customer, from any API. */
static const char sql_unpaid[] =
    "SELECT COUNT(*) FROM orders WHERE customer_id = ? AND state = 'new' "
    "AND payment_state = 'awaiting_payment'";
static const char sql_slots[] =
    "SELECT COUNT(*), CAST(COALESCE(DATEDIFF(MAX(starts_at), "
    "UTC_DATE()), 0) AS SIGNED) FROM agenda_entries WHERE provider_id = ? "
    "AND state = 'scheduled'";
static const char sql_agenda[] =
    "INSERT INTO agenda_entries (uuid, provider_id, order_id, customer_id, "
    "starts_at) VALUES (?, ?, ?, ?, ?)";
static const char sql_payment[] =
    "SELECT p.id, p.amount, p.currency, p.state, m.code FROM payments p "
    "LEFT JOIN payment_methods m ON m.id = p.method_id WHERE p.order_id = "
    "? AND p.state = 'new' ORDER BY p.id DESC LIMIT 1";

static enum err
item_row(void *arg, const struct db_val *c, size_t n)
{
	struct booking *b = arg;

	if (n != 4)
		return ERR_INTERNAL;
	/* A product of a provider, with exactly one enabled variant. */
	if (c[1].type != DB_I64 || c[3].i != 1)
		return ERR_OK;
	b->product = c[0].i;
	b->provider = c[1].i;
	b->variant = c[2].i;
	return ERR_OK;
}

static enum err
provider_row(void *arg, const struct db_val *c, size_t n)
{
	struct booking *b = arg;

	if (n != 2)
		return ERR_INTERNAL;
	b->capacity = c[0].i;
	snprintf(b->provider_name, sizeof(b->provider_name), "%s", c[1].s);
	return ERR_OK;
}

static enum err
payment_row(void *arg, const struct db_val *c, size_t n)
{
	struct booking *b = arg;
	struct json_object *p = json_object_new_object();

	if (n != 5) {
		json_object_put(p);
		return ERR_INTERNAL;
	}
	json_object_object_add(p, "id", json_object_new_int64(c[0].i));
	json_object_object_add(p, "amount", json_object_new_int64(c[1].i));
	json_object_object_add(p, "currency", json_object_new_string(c[2].s));
	json_object_object_add(p, "state", json_object_new_string(c[3].s));
	json_object_object_add(
	    p, "method",
	    c[4].type == DB_STR ? json_object_new_string(c[4].s) : NULL);
	json_object_put(b->payment);
	b->payment = p;
	return ERR_OK;
}

/*
 * 09:00 UTC on the first Monday–Friday date strictly after the later of
 * today and the provider's latest scheduled date (days_ahead days from
 * today, 0 when none is later).
 */
void
seed000_slot(time_t now, int64_t days_ahead, char out[24])
{
	struct tm tm;
	time_t day;

	if (days_ahead < 0)
		days_ahead = 0;
	day = now - now % 86400 + (time_t)(days_ahead + 1) * 86400;
	for (;;) {
		gmtime_r(&day, &tm);
		if (tm.tm_wday != 0 && tm.tm_wday != 6)
			break;
		day += 86400;
	}
	if (strftime(out, 24, "%Y-%m-%d 09:00:00", &tm) == 0)
		out[0] = '\0';
}

static enum err
book_tx(struct db *db, void *arg)
{
	struct booking *b = arg;
	struct place_req r = {.session = b->session, .nlines = 1};
	int64_t unpaid = 0, slots[2] = {0, 0}, customer = 0;
	struct db_val p[5];
	char token[ORDER_TOKEN_LEN + 1], uuid[37];
	enum err e;

	json_object_put(b->out.snapshot);
	json_object_put(b->out.extra);
	json_object_put(b->payment);
	b->out.snapshot = b->out.extra = b->payment = NULL;
	verr_free(&b->v);
	b->refusal = 0;
	p[0] = DB_I(b->provider);
	e = db_query(db, sql_provider_lock, p, 1, provider_row, b);
	p[0] = DB_I(b->customer);
	if (e == ERR_OK)
		e = db_query(db, sql_customer_lock, p, 1, db_row_int,
			     &customer);
	if (e == ERR_OK)
		e = db_query(db, sql_unpaid, p, 1, db_row_int, &unpaid);
	if (e != ERR_OK)
		return e;
	if (unpaid >= 2) {
		b->refusal = 412;
		b->msg = MSG_BLOCKED;
		return ERR_OK;
	}
	p[0] = DB_I(b->provider);
	e = db_query(db, sql_slots, p, 1, db_row_two_ints, slots);
	if (e != ERR_OK)
		return e;
	if (slots[0] >= b->capacity) {
		b->refusal = 412;
		b->msg = MSG_CAPACITY;
		return ERR_OK;
	}
	r.lines[0].variant = b->variant;
	r.lines[0].quantity = 1;
	r.lines[0].price = -1;
	e = place_order(db, &r, &b->order, token, &b->v, &b->out);
	if (e == ERR_OUT_OF_STOCK) {
		b->refusal = 412;
		b->msg = MSG_CAPACITY;
		return ERR_VALIDATION_FAILED; /* rolls back, not retried */
	}
	if (e != ERR_OK)
		return e;
	seed000_slot(time(NULL), slots[1], b->starts_at);
	if (uuid_v4(uuid) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(uuid);
	p[1] = DB_I(b->provider);
	p[2] = DB_I(b->order);
	p[3] = DB_I(b->customer);
	p[4] = DB_S(b->starts_at);
	e = db_insert(db, sql_agenda, p, 5, &b->agenda);
	p[0] = DB_I(b->order);
	if (e == ERR_OK)
		e = db_query(db, sql_payment, p, 1, payment_row, b);
	return e;
}

static struct json_object *
answer(struct booking *b)
{
	struct json_object *o = json_object_new_object();
	struct json_object *agenda = json_object_new_object();
	struct json_object *prov = json_object_new_object();
	char iso[24];

	snprintf(iso, sizeof(iso), "%.10sT%.8sZ", b->starts_at,
		 b->starts_at + 11);
	json_object_object_add(prov, "id", json_object_new_int64(b->provider));
	json_object_object_add(prov, "name",
			       json_object_new_string(b->provider_name));
	json_object_object_add(agenda, "id", json_object_new_int64(b->agenda));
	json_object_object_add(agenda, "provider", prov);
	json_object_object_add(agenda, "starts_at",
			       json_object_new_string(iso));
	json_object_object_add(agenda, "state",
			       json_object_new_string("scheduled"));
	json_object_object_add(o, "order", json_object_get(b->out.snapshot));
	json_object_object_add(o, "agenda", agenda);
	json_object_object_add(o, "payment", json_object_get(b->payment));
	return o;
}

enum err
api_seed000_checkout(struct request *req)
{
	struct booking b = {0};
	struct json_object *body = NULL, *item;
	enum err e;

	/* ?account= with an OAuth header: seed 001's checkout. */
	if (seed001_wanted(req))
		return api_seed001_checkout(req);
	body = dialect_body(req);
	if (body == NULL) {
		json_object_put(body);
		return dialect_error(req, "message", 400, MSG_MALFORMED);
	}
	b.session = dialect_string(body, "session_id");
	item = json_object_object_get(body, "item");
	b.item = json_object_is_type(item, json_type_object)
		     ? dialect_string(item, "uuid")
		     : NULL;
	e = b.session != NULL
		? session_customer(req->db, b.session, &b.customer)
		: ERR_OK;
	if (e == ERR_OK && b.customer == 0) {
		json_object_put(body);
		return dialect_error(req, "message", 404, MSG_SESSION);
	}
	if (e == ERR_OK && b.item != NULL && strlen(b.item) == 36) {
		struct db_val p = DB_S(b.item);

		e = db_query(req->db, sql_item, &p, 1, item_row, &b);
	}
	if (e == ERR_OK && b.variant == 0) {
		json_object_put(body);
		return dialect_error(req, "message", 404, MSG_ITEM);
	}
	if (e == ERR_OK)
		e = db_tx(req->db, book_tx, &b);
	if (b.refusal != 0 && (e == ERR_OK || e == ERR_VALIDATION_FAILED)) {
		dialect_error(req, "message", b.refusal, b.msg);
		e = ERR_OK;
	} else if (e == ERR_OK) {
		res_json(req, 201, answer(&b));
	} else if (e == ERR_VALIDATION_FAILED || e == ERR_UNAUTHENTICATED) {
		/* The session expired meanwhile, or the item cannot be sold. */
		dialect_error(req, "message", 404,
			      e == ERR_UNAUTHENTICATED ? MSG_SESSION
						       : MSG_ITEM);
		e = ERR_OK;
	}
	json_object_put(b.out.snapshot);
	json_object_put(b.out.extra);
	json_object_put(b.payment);
	verr_free(&b.v);
	json_object_put(body);
	return e;
}
