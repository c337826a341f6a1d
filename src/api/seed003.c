/*
 * Seed 003, "Order Service - Checkout Integration" (SPEC 3.4,
 * docs/api-seed003.md): POST /api/v1/orders/checkout {checkoutSessionId}
 * fetches the session from the upstream Checkout Service with libcurl
 * (outside any transaction) and imports it through place_order: items at
 * the session's prices, its addresses and email, its payment intent. One
 * session is one order, also under concurrency: the import claims the
 * session id first, in the order's transaction. Errors are {"error": ...}.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "idem.h"
#include "log.h"
#include "outbound.h"
#include "place.h"
#include "str.h"

#define E_NOT_FOUND   "Checkout session not found"
#define E_NOT_DONE    "Checkout session is not completed"
#define E_NO_ITEMS    "Checkout session has no items"
#define E_UNAVAILABLE "Checkout service unavailable"
#define E_INVALID     "Invalid session data"
#define E_BODY	      "checkoutSessionId is required"

/* The stored answer lacks the token; the order keeps its hash. */
static const char sql_stored[] =
    "SELECT i.body, o.token_sha256 FROM seed003_imports i JOIN orders o ON "
    "o.id = i.order_id WHERE i.session_id = ? AND i.body IS NOT NULL";

struct stored {
	struct buf body;
	unsigned char hash[32];
	int has_hash;
};

static enum err
stored_row(void *arg, const struct db_val *c, size_t n)
{
	struct stored *st = arg;

	if (n != 2 || c[0].type != DB_STR)
		return ERR_INTERNAL;
	buf_reset(&st->body);
	st->has_hash = c[1].type == DB_STR && c[1].len == 32;
	if (st->has_hash)
		memcpy(st->hash, c[1].s, 32);
	return buf_append(&st->body, c[0].s, c[0].len) == 0 ? ERR_OK
							    : ERR_NOMEM;
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
	idem_secret_hmac(in, sizeof(label) + n, h);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Answers status with body (the stored answer, an object without its
 * token) and "token" as its last member: token, or null. */
static enum err
answer(struct request *req, int status, const struct buf *body,
       const char *token)
{
	if (body->len < 2 || body->data[body->len - 1] != '}')
		return ERR_INTERNAL;
	req->status = status;
	req->content_type = "application/json";
	buf_reset(&req->out);
	buf_append(&req->out, body->data, body->len - 1);
	if (token != NULL)
		buf_printf(&req->out, ",\"token\":\"%s\"}", token);
	else
		buf_puts(&req->out, ",\"token\":null}");
	return req->out.failed ? ERR_NOMEM : ERR_OK;
}

/* Answers the stored import of session, when there is one (1). The token
 * is derived again; one that no longer matches the order's hash
 * (security.secret changed, or an import from before the token was
 * derived) is answered null. */
static int
replay(struct request *req, const char *session, int status)
{
	struct db_val p = DB_S(session);
	struct stored st = {0};
	char token[ORDER_TOKEN_LEN + 1];
	unsigned char h[32];
	int ok;

	if (db_query(req->db, sql_stored, &p, 1, stored_row, &st) != ERR_OK ||
	    st.body.len == 0) {
		buf_free(&st.body);
		return 0;
	}
	import_token(session, token);
	sha256(token, ORDER_TOKEN_LEN, h);
	ok = st.has_hash && ct_compare(h, st.hash, 32) == 0;
	if (!ok)
		log_warn("seed003: the token of an import does not match its "
			 "order (security.secret changed?): answered null");
	ok = answer(req, status, &st.body, ok ? token : NULL) == ERR_OK;
	buf_free(&st.body);
	return ok;
}

/* GET the session upstream: its JSON, or NULL with *status the answer. */
static struct json_object *
fetch(struct request *req, const char *session, int *status,
      const char **message)
{
	const char *base = config_str("seed003.checkout_service_url");
	struct outbound_resp r = {0};
	struct json_object *s = NULL;
	struct buf url = {0};
	char *id;
	enum err e;

	*status = 500;
	*message = E_UNAVAILABLE;
	if (*base == '\0') {
		log_error(
		    "seed003: no checkout service URL "
		    "(seed003.checkout_service_url, CHECKOUT_SERVICE_URL)");
		return NULL;
	}
	id = curl_easy_escape(NULL, session, 0);
	if (id == NULL)
		return NULL;
	buf_printf(&url, "%s/api/v1/checkout/session/%s", base, id);
	curl_free(id);
	e = url.failed ? ERR_NOMEM
		       : outbound_send(req->curl, "GET", url.data, NULL, NULL,
				       config_int("seed003.timeout"), &r);
	buf_free(&url);
	if (e == ERR_OK && r.status == 404) {
		*status = 404;
		*message = E_NOT_FOUND;
	} else if (e == ERR_OK && r.status == 200) {
		s = json_tokener_parse(r.body.data);
		if (!json_object_is_type(s, json_type_object)) {
			log_warn("seed003: the session is not JSON");
			json_object_put(s);
			s = NULL;
		}
	} else if (e == ERR_OK) {
		log_warn("seed003: checkout service answered %ld", r.status);
	}
	buf_free(&r.body);
	return s;
}

/* The seed's address as the addressing step takes it; names from the
 * email, which is all the session says of the buyer. */
static struct json_object *
address(struct json_object *a, const char *email)
{
	static const char *const map[][2] = {
	    {"street", "street"},	{"city", "city"},
	    {"postalCode", "postcode"}, {"country", "country"},
	    {"state", "province"},
	};
	struct json_object *o = json_object_new_object();
	const char *at = strchr(email, '@');
	size_t i;

	json_object_object_add(
	    o, "firstName",
	    json_object_new_string_len(email, at ? (int)(at - email) : 1));
	json_object_object_add(o, "lastName",
			       json_object_new_string(at ? at + 1 : email));
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = dialect_string(a, map[i][0]);

		if (v != NULL)
			json_object_object_add(o, map[i][1],
					       json_object_new_string(v));
	}
	return o;
}

struct import {
	const char *session;
	struct json_object *s; /* the upstream session */
	struct place_req r;
	const char *pi;
	int duplicate;
	char token[ORDER_TOKEN_LEN + 1]; /* import_token */
	struct buf body; /* the answer without its token, stored */
	struct verr v;
	struct step_out out;
	int64_t order;
};

static const char sql_claim[] =
    "INSERT IGNORE INTO seed003_imports (session_id) VALUES (?)";
static const char sql_keep[] =
    "UPDATE seed003_imports SET order_id = ?, body = ? WHERE session_id = ?";
static const char sql_intent[] =
    "UPDATE payments SET method_id = (SELECT id FROM payment_methods WHERE "
    "code = 'stripe'), provider_ref = ?, state = 'processing', updated_at "
    "= UTC_TIMESTAMP() WHERE order_id = ? AND state = 'new'";
static const char sql_items[] =
    "SELECT i.uuid, p.uuid, i.unit_price, i.quantity FROM order_items i "
    "JOIN product_variants v ON v.id = i.variant_id JOIN products p ON "
    "p.id = v.product_id WHERE i.order_id = ? ORDER BY i.id";
static const char sql_head[] =
    "SELECT uuid, total, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM "
    "orders WHERE id = ?";

static enum err
item_json(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *it = json_object_new_object();

	if (n != 4) {
		json_object_put(it);
		return ERR_INTERNAL;
	}
	json_object_object_add(it, "id", json_object_new_string(c[0].s));
	json_object_object_add(it, "productId", json_object_new_string(c[1].s));
	json_object_object_add(it, "price", dialect_amount(c[2].i));
	json_object_object_add(it, "quantity", json_object_new_int64(c[3].i));
	json_object_array_add(arg, it);
	return ERR_OK;
}

static enum err
head_json(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *o = arg;

	if (n != 3)
		return ERR_INTERNAL;
	json_object_object_add(o, "id", json_object_new_string(c[0].s));
	json_object_object_add(o, "status", json_object_new_string("PENDING"));
	json_object_object_add(o, "totalAmount", dialect_amount(c[1].i));
	json_object_object_add(o, "createdAt", json_object_new_string(c[2].s));
	return ERR_OK;
}

static enum err
import_tx(struct db *db, void *arg)
{
	struct import *m = arg;
	struct json_object *o, *items;
	char token[ORDER_TOKEN_LEN + 1];
	struct db_val p[3];
	uint64_t n = 0;
	enum err e;

	json_object_put(m->out.snapshot);
	json_object_put(m->out.extra);
	m->out.snapshot = m->out.extra = NULL;
	verr_free(&m->v);
	m->duplicate = 0;
	p[0] = DB_S(m->session);
	/* Waits for a concurrent import of the same session to end. */
	e = db_exec(db, sql_claim, p, 1, &n);
	if (e != ERR_OK)
		return e;
	if (n == 0) {
		m->duplicate = 1;
		return ERR_OK;
	}
	m->r.token = m->token;
	e = place_order(db, &m->r, &m->order, token, &m->v, &m->out);
	if (e != ERR_OK)
		return e;
	if (m->pi != NULL) {
		p[0] = DB_S(m->pi);
		p[1] = DB_I(m->order);
		e = db_exec(db, sql_intent, p, 2, NULL);
		if (e != ERR_OK)
			return e;
	}
	o = json_object_new_object();
	items = json_object_new_array();
	p[0] = DB_I(m->order);
	e = db_query(db, sql_head, p, 1, head_json, o);
	if (e == ERR_OK)
		e = db_query(db, sql_items, p, 1, item_json, items);
	json_object_object_add(o, "items", items);
	json_object_object_add(
	    o, "shippingAddress",
	    json_object_get(json_object_object_get(m->s, "shippingAddress")));
	json_object_object_add(
	    o, "billingAddress",
	    json_object_get(json_object_object_get(m->s, "billingAddress")));
	/* The token is not stored: answer() adds it. */
	json_object_object_add(o, "order_id", json_object_new_int64(m->order));
	buf_reset(&m->body);
	buf_puts(&m->body,
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (e == ERR_OK && m->body.failed)
		e = ERR_NOMEM;
	p[0] = DB_I(m->order);
	p[1] = DB_B(m->body.data, m->body.len);
	p[2] = DB_S(m->session);
	return e == ERR_OK ? db_exec(db, sql_keep, p, 3, NULL) : e;
}

static const char sql_variant[] =
    "SELECT MIN(v.id), COUNT(v.id) FROM products p JOIN product_variants v "
    "ON v.product_id = p.id AND v.enabled = 1 WHERE p.uuid = ? AND "
    "p.enabled = 1";

/* The session's items and addresses into m->r; NULL or an error text. */
static const char *
read_session(struct request *req, struct import *m)
{
	struct json_object *items = json_object_object_get(m->s, "items");
	const char *status = dialect_string(m->s, "status");
	const char *currency = dialect_string(m->s, "currency");
	const char *email = dialect_string(m->s, "email");
	struct json_object *addr;
	size_t i;

	if (status == NULL || strcmp(status, "COMPLETED") != 0)
		return E_NOT_DONE;
	if (!json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0)
		return E_NO_ITEMS;
	if (currency == NULL ||
	    ascii_ncasecmp(currency, config_str("store.currency"), 4) != 0 ||
	    email == NULL || json_object_array_length(items) > PLACE_MAX_LINES)
		return E_INVALID;
	for (i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *q = json_object_object_get(it, "quantity");
		int64_t price =
		    dialect_minor_units(json_object_object_get(it, "price"));
		const char *product = dialect_string(it, "productId");
		int64_t v[2] = {0, 0}, qty;
		struct db_val p;

		if (product == NULL || !json_object_is_type(q, json_type_int) ||
		    price < 0)
			return E_INVALID;
		qty = json_object_get_int64(q);
		/* 1e9 major units at most, as any price the store takes. */
		if (qty < 1 || qty > 9999 || price > 100000000000)
			return E_INVALID;
		p = DB_S(product);
		if (db_query(req->db, sql_variant, &p, 1, db_row_two_ints, v) !=
			ERR_OK ||
		    v[0] == 0 || v[1] != 1)
			return E_INVALID;
		m->r.lines[m->r.nlines].variant = v[0];
		m->r.lines[m->r.nlines].quantity = qty;
		m->r.lines[m->r.nlines].price = price;
		m->r.nlines++;
	}
	addr = json_object_new_object();
	if (json_object_is_type(json_object_object_get(m->s, "shippingAddress"),
				json_type_object))
		json_object_object_add(
		    addr, "shippingAddress",
		    address(json_object_object_get(m->s, "shippingAddress"),
			    email));
	if (json_object_is_type(json_object_object_get(m->s, "billingAddress"),
				json_type_object))
		json_object_object_add(
		    addr, "billingAddress",
		    address(json_object_object_get(m->s, "billingAddress"),
			    email));
	json_object_object_add(addr, "email", json_object_new_string(email));
	m->r.address = addr;
	if (config_str("seed003.shipping_method")[0] != '\0')
		m->r.shipping_method = config_str("seed003.shipping_method");
	m->pi = dialect_string(m->s, "paymentIntentId");
	return NULL;
}

enum err
api_seed003_import(struct request *req)
{
	struct import m = {0};
	struct json_object *body = NULL;
	const char *why, *msg;
	int status;
	enum err e;
	size_t i;

	body = dialect_body(req);
	m.session = dialect_string(body, "checkoutSessionId");
	if (m.session == NULL || m.session[0] == '\0' ||
	    strlen(m.session) > 255) {
		json_object_put(body);
		return dialect_error(req, "error", 400, E_BODY);
	}
	for (i = 0; m.session[i] != '\0'; i++)
		if ((unsigned char)m.session[i] < 0x20) {
			json_object_put(body);
			return dialect_error(req, "error", 400, E_BODY);
		}
	import_token(m.session, m.token);
	/* Imported before: the same answer, token included. */
	if (replay(req, m.session, 200)) {
		json_object_put(body);
		return ERR_OK;
	}
	if (outbound_enter() != 0) {
		json_object_put(body);
		return ERR_BUSY;
	}
	m.s = fetch(req, m.session, &status, &msg);
	outbound_leave();
	if (m.s == NULL) {
		json_object_put(body);
		return dialect_error(req, "error", status, msg);
	}
	why = read_session(req, &m);
	e = why == NULL ? db_tx(req->db, import_tx, &m) : ERR_OK;
	if (why != NULL) {
		dialect_error(req, "error", 400, why);
	} else if (e == ERR_OK && m.duplicate) {
		if (!replay(req, m.session, 200))
			e = ERR_INTERNAL;
	} else if (e == ERR_OK) {
		e = answer(req, 201, &m.body, m.token);
	} else if (e == ERR_VALIDATION_FAILED || e == ERR_OUT_OF_STOCK) {
		/* An address, product or stock the store cannot take. */
		dialect_error(req, "error", 400, E_INVALID);
		e = ERR_OK;
	}
	json_object_put(m.r.address);
	json_object_put(m.out.snapshot);
	json_object_put(m.out.extra);
	verr_free(&m.v);
	buf_free(&m.body);
	json_object_put(m.s);
	json_object_put(body);
	return e;
}
