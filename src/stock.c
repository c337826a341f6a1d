#include "stock.h"

static const char sql_hold[] =
    "UPDATE variant_stock SET on_hold = on_hold + ? WHERE variant_id = ? "
    "AND on_hand - on_hold >= ?";
static const char sql_available[] =
    "SELECT on_hand - on_hold FROM variant_stock WHERE variant_id = ?";
static const char sql_release[] =
    "UPDATE variant_stock s JOIN order_items i ON i.variant_id = "
    "s.variant_id JOIN product_variants v ON v.id = i.variant_id SET "
    "s.on_hold = s.on_hold - i.quantity WHERE i.order_id = ? AND "
    "v.tracked = 1";
/* The held units leave the shelf. */
static const char sql_ship_stock[] =
    "UPDATE variant_stock s JOIN order_items i ON i.variant_id = "
    "s.variant_id JOIN product_variants v ON v.id = i.variant_id SET "
    "s.on_hand = s.on_hand - i.quantity, s.on_hold = s.on_hold - "
    "i.quantity WHERE i.order_id = ? AND v.tracked = 1";

enum err
stock_hold(struct db *db, struct pool *pool, const struct order_lines *ls,
	   struct json_object **out)
{
	struct json_object *short_items = NULL;
	struct db_val p[3];
	enum err e = ERR_OK;
	size_t i;

	for (i = 0; e == ERR_OK && i < ls->n; i++) {
		const struct order_line *l = &ls->l[i];
		uint64_t held = 0;
		int64_t available = 0;
		struct json_object *it;

		if (!l->tracked)
			continue;
		p[0] = DB_I(l->quantity);
		p[1] = DB_I(l->variant);
		p[2] = DB_I(l->quantity);
		e = db_exec(db, sql_hold, p, 3, &held);
		if (e != ERR_OK || held == 1)
			continue;
		p[0] = DB_I(l->variant);
		e = db_query(db, sql_available, p, 1, db_row_int, &available);
		if (short_items == NULL)
			short_items = pool_keep(pool, json_object_new_array());
		if (short_items == NULL)
			return ERR_NOMEM;
		it = json_object_new_object();
		json_object_object_add(it, "id",
				       json_object_new_int64(l->item));
		json_object_object_add(it, "variant_code",
				       json_object_new_string(l->code));
		json_object_object_add(it, "requested",
				       json_object_new_int64(l->quantity));
		json_object_object_add(
		    it, "available",
		    json_object_new_int64(available < 0 ? 0 : available));
		json_object_array_add(short_items, it);
	}
	if (e != ERR_OK)
		return e;
	*out = short_items;
	return short_items == NULL ? ERR_OK : ERR_OUT_OF_STOCK;
}

enum err
stock_release(struct db *db, int64_t id)
{
	struct db_val p = DB_I(id);

	return db_exec(db, sql_release, &p, 1, NULL);
}

enum err
stock_ship(struct db *db, int64_t id)
{
	struct db_val p = DB_I(id);

	return db_exec(db, sql_ship_stock, &p, 1, NULL);
}
