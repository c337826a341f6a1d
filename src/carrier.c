#include "carrier.h"

#include <stdio.h>
#include <string.h>

#include "cart.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "order.h"
#include "outbound.h"
#include "str.h"

int64_t
carrier_parse_amount(const char *s)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;

	if (s == NULL)
		return -1;
	for (; *s >= '0' && *s <= '9' && digits < 12; s++, digits++)
		whole = whole * 10 + (*s - '0');
	if (digits == 0)
		return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && fdigits < 2; s++, fdigits++)
			frac = frac * 10 + (*s - '0');
	if (*s != '\0')
		return -1;
	while (fdigits++ < 2)
		frac *= 10;
	return whole * 100 + frac;
}

/* Where the parcel goes and what is in it. */
struct dest {
	char f[7][256]; /* first, last, street, city, postcode, country,
			   province */
	int found;
	int64_t grams;
	struct buf items; /* "variant:quantity;" of the shippable lines */
	char currency[4];
	char address_hash[65], items_hash[65];
};

static const char sql_dest[] =
    "SELECT sa.first_name, sa.last_name, sa.street, sa.city, sa.postcode, "
    "sa.country_code, COALESCE(sa.province_code, ''), o.currency FROM "
    "orders o JOIN addresses sa ON sa.id = o.shipping_address_id WHERE "
    "o.id = ?";
static const char sql_parcel[] =
    "SELECT i.variant_id, i.quantity, v.weight_g FROM order_items i JOIN "
    "product_variants v ON v.id = i.variant_id WHERE i.order_id = ? AND "
    "v.needs_shipping = 1 ORDER BY i.variant_id";

static enum err
dest_row(void *arg, const struct db_val *c, size_t n)
{
	struct dest *d = arg;
	size_t i;

	if (n != 8)
		return ERR_INTERNAL;
	d->found = 1;
	for (i = 0; i < 7; i++)
		snprintf(d->f[i], sizeof(d->f[i]), "%s",
			 c[i].type == DB_STR ? c[i].s : "");
	snprintf(d->currency, sizeof(d->currency), "%s", c[7].s);
	return ERR_OK;
}

static enum err
parcel_row(void *arg, const struct db_val *c, size_t n)
{
	struct dest *d = arg;

	if (n != 3)
		return ERR_INTERNAL;
	d->grams += c[1].i * c[2].i;
	buf_printf(&d->items, "%lld:%lld;", (long long)c[0].i,
		   (long long)c[1].i);
	return ERR_OK;
}

static void
hex32(const unsigned char h[32], char out[65])
{
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Reads the destination and parcel of order, with their hashes. */
static enum err
dest_read(struct db *db, int64_t order, struct dest *d)
{
	struct db_val p = DB_I(order);
	unsigned char h[32];
	struct buf a = {0};
	enum err e;
	size_t i;

	e = db_query(db, sql_dest, &p, 1, dest_row, d);
	if (e == ERR_OK && d->found)
		e = db_query(db, sql_parcel, &p, 1, parcel_row, d);
	if (e != ERR_OK || !d->found)
		return e;
	for (i = 0; i < 7; i++) {
		buf_puts(&a, d->f[i]);
		buf_append(&a, "\n", 1);
	}
	if (a.failed || d->items.failed) {
		buf_free(&a);
		return ERR_NOMEM;
	}
	sha256(a.data, a.len, h);
	hex32(h, d->address_hash);
	sha256(d->items.data ? d->items.data : "", d->items.len, h);
	hex32(h, d->items_hash);
	buf_free(&a);
	return ERR_OK;
}

static const char sql_stored[] =
    "SELECT id, token, name, amount, COALESCE(estimated_days, -1) FROM "
    "carrier_quotes WHERE order_id = ? AND address_hash = ? AND items_hash "
    "= ? AND expires_at > UTC_TIMESTAMP() ORDER BY amount, id LIMIT 16";

static enum err
quote_row(void *arg, const struct db_val *c, size_t n)
{
	struct quotes *q = arg;
	struct quote *x;

	if (n != 5 || q->n == CARRIER_MAX_QUOTES)
		return ERR_INTERNAL;
	x = &q->q[q->n++];
	x->id = c[0].i;
	snprintf(x->token, sizeof(x->token), "%s", c[1].s);
	snprintf(x->name, sizeof(x->name), "%s", c[2].s);
	x->amount = c[3].i;
	x->days = c[4].i;
	return ERR_OK;
}

static struct json_object *
address_json(const char *const f[7])
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(f[0]));
	json_object_object_add(a, "street1", json_object_new_string(f[1]));
	json_object_object_add(a, "city", json_object_new_string(f[2]));
	json_object_object_add(a, "zip", json_object_new_string(f[3]));
	json_object_object_add(a, "country", json_object_new_string(f[4]));
	json_object_object_add(a, "state", json_object_new_string(f[5]));
	return a;
}

/* Asks the carrier; fills q (ids 0) from its rates. */
static enum err
ask(void *curl, const struct dest *d, struct quotes *q)
{
	const char *from[7] = {config_str("carrier.origin_name"),
			       config_str("carrier.origin_street"),
			       config_str("carrier.origin_city"),
			       config_str("carrier.origin_zip"),
			       config_str("carrier.origin_country"),
			       "",
			       NULL};
	char name[600], grams[24];
	const char *to[7];
	struct json_object *req = json_object_new_object(), *parcel, *parcels,
			   *ans, *rates;
	struct outbound_resp r = {0};
	struct buf url = {0}, auth = {0};
	const char *h[3];
	enum err e;
	size_t i;

	snprintf(name, sizeof(name), "%s %s", d->f[0], d->f[1]);
	to[0] = name;
	to[1] = d->f[2];
	to[2] = d->f[3];
	to[3] = d->f[4];
	to[4] = d->f[5];
	to[5] = d->f[6];
	json_object_object_add(req, "address_from", address_json(from));
	json_object_object_add(req, "address_to", address_json(to));
	parcel = json_object_new_object();
	snprintf(grams, sizeof(grams), "%lld",
		 (long long)(d->grams > 0 ? d->grams : 1));
	json_object_object_add(parcel, "length", json_object_new_string("30"));
	json_object_object_add(parcel, "width", json_object_new_string("20"));
	json_object_object_add(parcel, "height", json_object_new_string("10"));
	json_object_object_add(parcel, "distance_unit",
			       json_object_new_string("cm"));
	json_object_object_add(parcel, "weight", json_object_new_string(grams));
	json_object_object_add(parcel, "mass_unit",
			       json_object_new_string("g"));
	parcels = json_object_new_array();
	json_object_array_add(parcels, parcel);
	json_object_object_add(req, "parcels", parcels);
	json_object_object_add(req, "async", json_object_new_boolean(0));
	buf_printf(&url, "%s/shipments/", config_str("carrier.url"));
	buf_printf(&auth, "Authorization: ShippoToken %s",
		   config_str("carrier.token"));
	h[0] = auth.data;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	if (url.failed || auth.failed) {
		e = ERR_NOMEM;
	} else if (config_str("carrier.url")[0] == '\0') {
		e = ERR_PROVIDER_ERROR;
	} else if (outbound_enter() != 0) {
		e = ERR_BUSY;
	} else {
		e = outbound_send(
		    curl, "POST", url.data, h,
		    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
		    config_int("carrier.timeout"), &r);
		outbound_leave();
	}
	json_object_put(req);
	buf_free(&url);
	buf_free(&auth);
	if (e == ERR_OK && r.status != 200 && r.status != 201) {
		log_warn("carrier: HTTP %ld", r.status);
		e = ERR_PROVIDER_ERROR;
	}
	ans = e == ERR_OK ? json_tokener_parse(r.body.data) : NULL;
	buf_free(&r.body);
	rates = json_object_object_get(ans, "rates");
	if (e == ERR_OK && !json_object_is_type(rates, json_type_array))
		e = ERR_PROVIDER_ERROR;
	for (i = 0; e == ERR_OK && i < json_object_array_length(rates) &&
		    q->n < CARRIER_MAX_QUOTES;
	     i++) {
		struct json_object *x = json_object_array_get_idx(rates, i);
		struct json_object *lvl =
		    json_object_object_get(x, "servicelevel");
		const char *token = json_object_get_string(
		    json_object_object_get(lvl, "token"));
		const char *level =
		    json_object_get_string(json_object_object_get(lvl, "name"));
		const char *provider = json_object_get_string(
		    json_object_object_get(x, "provider"));
		const char *cur = json_object_get_string(
		    json_object_object_get(x, "currency"));
		int64_t amount = carrier_parse_amount(json_object_get_string(
		    json_object_object_get(x, "amount")));
		struct json_object *days =
		    json_object_object_get(x, "estimated_days");
		struct quote *o;

		/* A rate we cannot charge as it is: left out. */
		if (token == NULL || level == NULL || provider == NULL ||
		    amount < 0 || cur == NULL ||
		    ascii_ncasecmp(cur, d->currency, 4) != 0 ||
		    strlen(token) >= sizeof(o->token))
			continue;
		o = &q->q[q->n++];
		o->id = 0;
		snprintf(o->token, sizeof(o->token), "%s", token);
		snprintf(o->name, sizeof(o->name), "%s %s", provider, level);
		o->amount = amount;
		o->days = json_object_is_type(days, json_type_int)
			      ? json_object_get_int64(days)
			      : -1;
	}
	json_object_put(ans);
	if (e != ERR_OK)
		metrics_inc(MET_CARRIER_FAILURES);
	return e;
}

struct store {
	int64_t order;
	const struct dest *d;
	struct quotes *q;
};

static const char sql_forget[] =
    "DELETE FROM carrier_quotes WHERE order_id = ? AND id NOT IN (SELECT "
    "carrier_quote_id FROM shipments WHERE order_id = ? AND "
    "carrier_quote_id IS NOT NULL)";
static const char sql_keep[] =
    "INSERT INTO carrier_quotes (order_id, address_hash, items_hash, token, "
    "name, amount, currency, estimated_days, expires_at) VALUES (?, ?, ?, "
    "?, ?, ?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND)";

static enum err
store_tx(struct db *db, void *arg)
{
	struct store *s = arg;
	struct db_val p[9];
	enum err e;
	size_t i;

	p[0] = DB_I(s->order);
	p[1] = DB_I(s->order);
	e = db_exec(db, sql_forget, p, 2, NULL);
	for (i = 0; e == ERR_OK && i < s->q->n; i++) {
		struct quote *x = &s->q->q[i];

		p[0] = DB_I(s->order);
		p[1] = DB_S(s->d->address_hash);
		p[2] = DB_S(s->d->items_hash);
		p[3] = DB_S(x->token);
		p[4] = DB_S(x->name);
		p[5] = DB_I(x->amount);
		p[6] = DB_S(s->d->currency);
		p[7] = x->days >= 0 ? DB_I(x->days) : DB_N;
		p[8] = DB_I(config_int("carrier.quote_ttl"));
		e = db_insert(db, sql_keep, p, 9, &x->id);
	}
	return e;
}

enum err
carrier_quotes(struct db *db, void *curl, int64_t order, int fresh,
	       struct quotes *out)
{
	struct dest d = {0};
	struct db_val p[3];
	struct store s = {.order = order, .d = &d, .q = out};
	enum err e;

	out->n = 0;
	e = dest_read(db, order, &d);
	if (e != ERR_OK || !d.found || d.grams == 0 || d.items.len == 0) {
		buf_free(&d.items);
		return e;
	}
	p[0] = DB_I(order);
	p[1] = DB_S(d.address_hash);
	p[2] = DB_S(d.items_hash);
	if (!fresh)
		e = db_query(db, sql_stored, p, 3, quote_row, out);
	if (e == ERR_OK && out->n == 0) {
		e = ask(curl, &d, out);
		if (e == ERR_OK)
			e = db_tx(db, store_tx, &s);
		if (e != ERR_OK)
			out->n = 0;
	}
	buf_free(&d.items);
	return e;
}

static const char sql_selected[] =
    "SELECT q.id, q.token, q.expires_at > UTC_TIMESTAMP(), q.address_hash, "
    "q.items_hash FROM shipments s JOIN carrier_quotes q ON q.id = "
    "s.carrier_quote_id WHERE s.order_id = ? ORDER BY s.id LIMIT 1";

struct sel {
	int64_t id;
	char token[64], address_hash[65], items_hash[65];
	int fresh;
};

static enum err
sel_row(void *arg, const struct db_val *c, size_t n)
{
	struct sel *s = arg;

	if (n != 5)
		return ERR_INTERNAL;
	s->id = c[0].i;
	snprintf(s->token, sizeof(s->token), "%s", c[1].s);
	s->fresh = c[2].i != 0;
	snprintf(s->address_hash, sizeof(s->address_hash), "%s", c[3].s);
	snprintf(s->items_hash, sizeof(s->items_hash), "%s", c[4].s);
	return ERR_OK;
}

enum err
carrier_selected(struct db *db, int64_t order, int *selected)
{
	struct db_val p = DB_I(order);
	struct sel s = {0};
	enum err e = db_query(db, sql_selected, &p, 1, sel_row, &s);

	*selected = s.id != 0;
	return e;
}

struct repoint {
	int64_t order, quote; /* quote 0: the service is gone */
};

static const char sql_repoint[] =
    "UPDATE shipments SET carrier_quote_id = ? WHERE order_id = ? AND "
    "carrier_quote_id IS NOT NULL";
static const char sql_unselect[] =
    "UPDATE shipments SET carrier_quote_id = NULL, method_id = NULL WHERE "
    "order_id = ?";

static enum err
repoint_tx(struct db *db, void *arg)
{
	struct repoint *r = arg;
	struct db_val p[2] = {DB_I(r->quote), DB_I(r->order)};
	enum err e;

	if (r->quote != 0)
		return db_exec(db, sql_repoint, p, 2, NULL);
	/* The chosen service is gone: the order's checkout moves back by
	 * its table (cart.c), never here. */
	e = db_exec(db, sql_unselect, &p[1], 1, NULL);
	return e == ERR_OK ? order_revise(db, r->order) : e;
}

enum err
carrier_refresh(struct db *db, void *curl, int64_t order)
{
	struct db_val p = DB_I(order);
	struct sel s = {0};
	struct dest d = {0};
	struct quotes q = {0};
	struct repoint r = {.order = order};
	enum err e;
	size_t i;

	e = db_query(db, sql_selected, &p, 1, sel_row, &s);
	if (e != ERR_OK || s.id == 0)
		return e;
	e = dest_read(db, order, &d);
	buf_free(&d.items);
	if (e != ERR_OK)
		return e;
	if (s.fresh && strcmp(s.address_hash, d.address_hash) == 0 &&
	    strcmp(s.items_hash, d.items_hash) == 0)
		return ERR_OK;
	e = carrier_quotes(db, curl, order, 1, &q);
	if (e != ERR_OK)
		return e;
	for (i = 0; i < q.n; i++)
		if (strcmp(q.q[i].token, s.token) == 0)
			r.quote = q.q[i].id;
	return db_tx(db, repoint_tx, &r);
}

void
carrier_entries(const struct quotes *q, struct json_object *list)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		const struct quote *x = &q->q[i];
		struct json_object *o = json_object_new_object(), *conf;
		char code[80];

		snprintf(code, sizeof(code), "carrier:%s", x->token);
		conf = json_object_new_object();
		json_object_object_add(conf, "service",
				       json_object_new_string(x->token));
		json_object_object_add(o, "id", NULL);
		json_object_object_add(o, "code", json_object_new_string(code));
		json_object_object_add(o, "name",
				       json_object_new_string(x->name));
		json_object_object_add(o, "calculator",
				       json_object_new_string("carrier"));
		json_object_object_add(o, "configuration", conf);
		json_object_object_add(o, "price",
				       json_object_new_int64(x->amount));
		json_object_object_add(
		    o, "estimated_days",
		    x->days >= 0 ? json_object_new_int64(x->days) : NULL);
		json_object_array_add(list, o);
	}
}
