#include "catalog.h"

#include <stdio.h>
#include <string.h>

#include "str.h"
#include "valid.h"

static const char sql_count[] =
    "SELECT COUNT(*) FROM products WHERE enabled = 1";
static const char sql_page[] =
    "SELECT id, uuid, code, name FROM products WHERE enabled = 1 "
    "ORDER BY id LIMIT ? OFFSET ?";
static const char sql_page_variants[] =
    "SELECT v.product_id, v.id, v.uuid, v.code, v.name, v.price, "
    "v.tracked, COALESCE(s.on_hand - s.on_hold, 0), v.needs_shipping, "
    "v.weight_g "
    "FROM product_variants v LEFT JOIN variant_stock s ON s.variant_id = v.id "
    "JOIN (SELECT id FROM products WHERE "
    "enabled = 1 ORDER BY id LIMIT ? OFFSET ?) p ON p.id = v.product_id "
    "WHERE v.enabled = 1 ORDER BY v.product_id, v.position, v.id";
static const char sql_by_id[] =
    "SELECT id, uuid, code, name FROM products WHERE id = ? AND "
    "enabled = 1";
static const char sql_by_code[] =
    "SELECT id, uuid, code, name FROM products WHERE code = ? AND "
    "enabled = 1";
static const char sql_variants[] =
    "SELECT v.product_id, v.id, v.uuid, v.code, v.name, v.price, "
    "v.tracked, COALESCE(s.on_hand - s.on_hold, 0), v.needs_shipping, "
    "v.weight_g FROM product_variants v LEFT JOIN variant_stock s ON "
    "s.variant_id = v.id WHERE v.product_id = ? AND v.enabled = 1 ORDER BY "
    "v.position, v.id";

static struct json_object *
str(const struct db_val *c)
{
	return c->type == DB_STR ? json_object_new_string_len(c->s, (int)c->len)
				 : NULL;
}

/* Rows of products: appended to the array in arg. */
static enum err
product_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *p = json_object_new_object();

	if (n != 4 || p == NULL) {
		json_object_put(p);
		return ERR_INTERNAL;
	}
	json_object_object_add(p, "id", json_object_new_int64(c[0].i));
	json_object_object_add(p, "code", str(&c[2]));
	json_object_object_add(p, "uuid", str(&c[1]));
	json_object_object_add(p, "name", str(&c[3]));
	json_object_object_add(p, "variants", json_object_new_array());
	json_object_array_add(arg, p);
	return ERR_OK;
}

/* Rows of variants: each goes to its product in the array in arg. */
static enum err
variant_row(void *arg, const struct db_val *c, size_t n)
{
	struct json_object *products = arg, *v, *p = NULL;
	size_t i, np = json_object_array_length(products);
	int tracked;

	if (n != 10)
		return ERR_INTERNAL;
	for (i = 0; i < np && p == NULL; i++) {
		struct json_object *cand =
		    json_object_array_get_idx(products, i);

		if (json_object_get_int64(json_object_object_get(cand, "id")) ==
		    c[0].i)
			p = cand;
	}
	if (p == NULL)
		return ERR_OK;
	tracked = c[6].i != 0;
	v = json_object_new_object();
	json_object_object_add(v, "id", json_object_new_int64(c[1].i));
	json_object_object_add(v, "code", str(&c[3]));
	json_object_object_add(v, "uuid", str(&c[2]));
	json_object_object_add(v, "name", str(&c[4]));
	json_object_object_add(v, "price", json_object_new_int64(c[5].i));
	json_object_object_add(v, "tracked", json_object_new_boolean(tracked));
	json_object_object_add(v, "available",
			       tracked ? json_object_new_int64(c[7].i) : NULL);
	json_object_object_add(v, "needs_shipping",
			       json_object_new_boolean(c[8].i != 0));
	json_object_object_add(v, "weight_g", json_object_new_int64(c[9].i));
	json_object_array_add(json_object_object_get(p, "variants"), v);
	return ERR_OK;
}

enum err
catalog_list(struct db *db, struct pool *pool, int64_t page, int64_t limit,
	     struct json_object **out)
{
	struct db_val p[2] = {DB_I(limit), DB_I((page - 1) * limit)};
	struct json_object *o = pool_keep(pool, json_object_new_object());
	struct json_object *products = pool_keep(pool, json_object_new_array());
	int64_t total = 0;
	enum err e;

	*out = NULL;
	if (o == NULL || products == NULL)
		return ERR_NOMEM;
	json_object_object_add(o, "products", json_object_get(products));
	e = db_query(db, sql_count, NULL, 0, db_row_int, &total);
	if (e == ERR_OK)
		e = db_query(db, sql_page, p, 2, product_row, products);
	if (e == ERR_OK)
		e = db_query(db, sql_page_variants, p, 2, variant_row,
			     products);
	if (e != ERR_OK)
		return e;
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "limit", json_object_new_int64(limit));
	json_object_object_add(o, "total", json_object_new_int64(total));
	*out = o;
	return ERR_OK;
}

enum err
catalog_get(struct db *db, struct pool *pool, const char *id_or_code,
	    struct json_object **out)
{
	struct json_object *found = pool_keep(pool, json_object_new_array());
	struct json_object *p;
	struct db_val key;
	enum err e;

	*out = NULL;
	if (found == NULL)
		return ERR_NOMEM;
	e = db_query_ref(db, id_or_code, sql_by_id, sql_by_code, NULL, 0,
			 product_row, found);
	if (e == ERR_OK && json_object_array_length(found) == 0)
		e = ERR_NOT_FOUND;
	if (e == ERR_OK) {
		p = json_object_array_get_idx(found, 0);
		key = DB_I(
		    json_object_get_int64(json_object_object_get(p, "id")));
		e = db_query(db, sql_variants, &key, 1, variant_row, found);
	}
	if (e == ERR_OK)
		*out = json_object_array_get_idx(found, 0);
	return e;
}

#define SQL_SOLE                                                               \
	"SELECT p.id, CAST(COALESCE(p.provider_id, 0) AS SIGNED), MIN(v.id), " \
	"COUNT(v.id), CAST(COALESCE(MIN(pr.account_id), 0) AS SIGNED) FROM "   \
	"products p JOIN product_variants v ON v.product_id = p.id AND "       \
	"v.enabled = 1 LEFT JOIN providers pr ON pr.id = p.provider_id WHERE " \
	"p.enabled = 1 AND "
static const char sql_sole_by_uuid[] =
    SQL_SOLE "p.uuid = ? GROUP BY p.id, p.provider_id";
static const char sql_sole_by_id[] =
    SQL_SOLE "p.id = ? GROUP BY p.id, p.provider_id";

static enum err
sole_row(void *arg, const struct db_val *c, size_t n)
{
	struct sole_variant *out = arg;

	if (n != 5)
		return ERR_INTERNAL;
	if (c[3].type != DB_I64 || c[3].i != 1)
		return ERR_OK; /* No or several enabled variants. */
	out->product = c[0].i;
	out->provider = c[1].i;
	out->variant = c[2].i;
	out->seller = c[4].i;
	return ERR_OK;
}

enum err
catalog_sole_variant(struct db *db, const char *uuid, int64_t id,
		     struct sole_variant *out)
{
	struct db_val p = uuid != NULL ? DB_S(uuid) : DB_I(id);
	enum err e;

	*out = (struct sole_variant){0};
	e = db_query(db, uuid != NULL ? sql_sole_by_uuid : sql_sole_by_id, &p,
		     1, sole_row, out);
	if (e == ERR_OK && out->variant == 0)
		e = ERR_NOT_FOUND;
	return e;
}
