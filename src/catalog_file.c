#include "catalog_file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/*
 * The file's shape is one table: each section (a list of rows) has its
 * fields in the order the canonical form writes them, and its statements
 * name the columns in the same order, so one walk checks a row, binds it,
 * compares it with the stored row and writes it back out.
 */
enum ftype {
	F_CODE,	     /* The row's key: [A-Za-z0-9_.-], not all digits. */
	F_UUID,	     /* Optional: kept when given, made when not. */
	F_STR,	     /* Text of 1 to max characters. */
	F_INT,	     /* An integer from min to max. */
	F_BOOL,	     /* true or false. */
	F_ENUM,	     /* One of names. */
	F_TIME,	     /* "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
	F_REF,	     /* Another section's code (a provider's uuid). */
	F_COUNTRIES, /* ISO 3166 alpha-2 codes, each once. */
	F_CHILDREN,  /* The rows of section ref that belong to this one. */
	F_STOCK,     /* A variant's units on hand: set. */
	F_ADJUST,    /* Units to add to them (negative: take away). */
	F_PARENT,    /* Not in the file: the id of the row holding this one. */
};

#define REQ 1u /* Must be given. */
#define NUL 2u /* May be null, and is when absent. */
#define KEY 4u /* Finds the stored row. */

enum section {
	S_TAX_CATEGORIES,
	S_ZONES,
	S_TAX_RATES,
	S_PRODUCTS,
	S_VARIANTS,
	S_SHIPPING_METHODS,
	S_PAYMENT_METHODS,
	S_PROMOTIONS,
	S_COUPONS,
	S_PROVIDERS, /* Only referred to, by uuid (seed 000's sellers). */
	S__MAX
};

struct field {
	const char *key;
	enum ftype type;
	unsigned flags;
	int64_t min, max;	  /* F_INT's range; F_STR's longest length. */
	int64_t def;		  /* F_INT's and F_BOOL's value when absent. */
	const char *const *names; /* F_ENUM's values, NULL-terminated. */
	enum section ref;	  /* F_REF's and F_CHILDREN's section. */
};

/* Money and stock: up to 10^12 - 1 minor units or units. */
#define BIG   999999999999LL
#define INT32 2147483647LL

static const char *const gateways[] = {"offline", "stripe", NULL};
static const char *const calculators[] = {"flat_rate", "per_unit_rate",
					  "flexible_rate", "carrier", NULL};
static const char *const actions[] = {"order_fixed_discount",
				      "order_percentage_discount",
				      "shipping_percentage_discount", NULL};

static const struct field f_tax_categories[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
};
static const struct field f_zones[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"countries", F_COUNTRIES, 0, 0, 0, 0, NULL, 0},
};
static const struct field f_tax_rates[] = {
    {"zone", F_REF, REQ | KEY, 0, 0, 0, NULL, S_ZONES},
    {"taxCategory", F_REF, REQ | KEY, 0, 0, 0, NULL, S_TAX_CATEGORIES},
    {"name", F_STR, REQ, 0, 64, 0, NULL, 0},
    {"rateBp", F_INT, REQ, 0, 100000, 0, NULL, 0},
    {"included", F_BOOL, 0, 0, 0, 0, NULL, 0},
};
static const struct field f_products[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"uuid", F_UUID, 0, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"enabled", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"provider", F_REF, NUL, 0, 0, 0, NULL, S_PROVIDERS},
    {"variants", F_CHILDREN, 0, 0, 0, 0, NULL, S_VARIANTS},
};
static const struct field f_variants[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"uuid", F_UUID, 0, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"price", F_INT, REQ, 0, BIG, 0, NULL, 0},
    {"taxCategory", F_REF, NUL, 0, 0, 0, NULL, S_TAX_CATEGORIES},
    {"tracked", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"stock", F_STOCK, 0, 0, BIG, 0, NULL, 0},
    {"stockAdjust", F_ADJUST, 0, -BIG, BIG, 0, NULL, 0},
    {"needsShipping", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"weightG", F_INT, 0, 0, INT32, 0, NULL, 0},
    {"enabled", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"position", F_INT, 0, -INT32, INT32, 0, NULL, 0},
    {"product", F_PARENT, 0, 0, 0, 0, NULL, 0},
};
static const struct field f_shipping_methods[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"uuid", F_UUID, 0, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"zone", F_REF, REQ, 0, 0, 0, NULL, S_ZONES},
    {"calculator", F_ENUM, REQ, 0, 0, 0, calculators, 0},
    {"amount", F_INT, 0, 0, BIG, 0, NULL, 0},
    {"firstItemCost", F_INT, 0, 0, BIG, 0, NULL, 0},
    {"additionalItemCost", F_INT, 0, 0, BIG, 0, NULL, 0},
    {"additionalItemLimit", F_INT, 0, 0, INT32, 0, NULL, 0},
    {"taxCategory", F_REF, NUL, 0, 0, 0, NULL, S_TAX_CATEGORIES},
    {"enabled", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"position", F_INT, 0, -INT32, INT32, 0, NULL, 0},
};
static const struct field f_payment_methods[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"uuid", F_UUID, 0, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"gateway", F_ENUM, REQ, 0, 0, 0, gateways, 0},
    {"enabled", F_BOOL, 0, 0, 0, 1, NULL, 0},
    {"position", F_INT, 0, -INT32, INT32, 0, NULL, 0},
};
static const struct field f_promotions[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"name", F_STR, REQ, 0, 255, 0, NULL, 0},
    {"priority", F_INT, 0, -INT32, INT32, 0, NULL, 0},
    {"exclusive", F_BOOL, 0, 0, 0, 0, NULL, 0},
    {"couponBased", F_BOOL, 0, 0, 0, 0, NULL, 0},
    {"usageLimit", F_INT, NUL, 0, INT32, 0, NULL, 0},
    {"startsAt", F_TIME, NUL, 0, 0, 0, NULL, 0},
    {"endsAt", F_TIME, NUL, 0, 0, 0, NULL, 0},
    {"minItemTotal", F_INT, NUL, 0, BIG, 0, NULL, 0},
    {"minQuantity", F_INT, NUL, 0, INT32, 0, NULL, 0},
    {"action", F_ENUM, REQ, 0, 0, 0, actions, 0},
    {"amount", F_INT, 0, 0, BIG, 0, NULL, 0},
    {"rateBp", F_INT, 0, 0, 10000, 0, NULL, 0},
    {"coupons", F_CHILDREN, 0, 0, 0, 0, NULL, S_COUPONS},
};
static const struct field f_coupons[] = {
    {"code", F_CODE, REQ | KEY, 0, 0, 0, NULL, 0},
    {"usageLimit", F_INT, NUL, 0, INT32, 0, NULL, 0},
    {"promotion", F_PARENT, 0, 0, 0, 0, NULL, 0},
};

/*
 * A section's statements. find: the key fields' values -> id, every
 * column field's value in field order, then the uuid. insert: the column
 * fields, then the uuid. update: the column fields, then the id. export
 * (the parent's id for a nested section) -> id, the column fields (a
 * reference as its code, a time as the file writes it), then the uuid and
 * the stock. ref: a code (a provider: its uuid) -> id.
 */
struct section_def {
	const char *key;  /* In the file. */
	const char *what; /* In messages. */
	const struct field *f;
	size_t nf;
	int top; /* A list at the top of the file (else nested). */
	const char *find, *insert, *update, *export, *ref;
};

#define FIELDS(a) a, sizeof(a) / sizeof(a[0])

static const struct section_def sections[S__MAX] = {
    [S_TAX_CATEGORIES] =
	{"taxCategories", "tax category", FIELDS(f_tax_categories), 1,
	 "SELECT id, code, name FROM tax_categories WHERE code = ?",
	 "INSERT INTO tax_categories (code, name) VALUES (?, ?)",
	 "UPDATE tax_categories SET code = ?, name = ? WHERE id = ?",
	 "SELECT id, code, name FROM tax_categories ORDER BY id",
	 "SELECT id FROM tax_categories WHERE code = ?"},
    [S_ZONES] = {"zones", "zone", FIELDS(f_zones), 1,
		 "SELECT id, code, name FROM zones WHERE code = ?",
		 "INSERT INTO zones (code, name) VALUES (?, ?)",
		 "UPDATE zones SET code = ?, name = ? WHERE id = ?",
		 "SELECT id, code, name FROM zones ORDER BY id",
		 "SELECT id FROM zones WHERE code = ?"},
    [S_TAX_RATES] =
	{"taxRates", "tax rate", FIELDS(f_tax_rates), 1,
	 "SELECT id, zone_id, tax_category_id, name, bp, included FROM "
	 "tax_rates WHERE zone_id = ? AND tax_category_id = ?",
	 "INSERT INTO tax_rates (zone_id, tax_category_id, name, bp, "
	 "included) VALUES (?, ?, ?, ?, ?)",
	 "UPDATE tax_rates SET zone_id = ?, tax_category_id = ?, name = ?, "
	 "bp = ?, included = ? WHERE id = ?",
	 "SELECT r.id, z.code, c.code, r.name, r.bp, r.included FROM "
	 "tax_rates r JOIN zones z ON z.id = r.zone_id JOIN tax_categories c "
	 "ON c.id = r.tax_category_id ORDER BY r.id",
	 NULL},
    [S_PRODUCTS] =
	{"products", "product", FIELDS(f_products), 1,
	 "SELECT id, code, name, enabled, provider_id, uuid FROM products "
	 "WHERE code = ?",
	 "INSERT INTO products (code, name, enabled, provider_id, uuid) "
	 "VALUES (?, ?, ?, ?, ?)",
	 "UPDATE products SET code = ?, name = ?, enabled = ?, provider_id = "
	 "? WHERE id = ?",
	 "SELECT p.id, p.code, p.name, p.enabled, v.uuid, p.uuid FROM "
	 "products p LEFT JOIN providers v ON v.id = p.provider_id ORDER BY "
	 "p.id",
	 NULL},
    [S_VARIANTS] =
	{"variants", "variant", FIELDS(f_variants), 0,
	 "SELECT id, code, name, price, tax_category_id, tracked, "
	 "needs_shipping, weight_g, enabled, position, product_id, uuid FROM "
	 "product_variants WHERE code = ?",
	 "INSERT INTO product_variants (code, name, price, tax_category_id, "
	 "tracked, needs_shipping, weight_g, enabled, position, product_id, "
	 "uuid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	 "UPDATE product_variants SET code = ?, name = ?, price = ?, "
	 "tax_category_id = ?, tracked = ?, needs_shipping = ?, weight_g = ?, "
	 "enabled = ?, position = ?, product_id = ? WHERE id = ?",
	 "SELECT v.id, v.code, v.name, v.price, c.code, v.tracked, "
	 "v.needs_shipping, v.weight_g, v.enabled, v.position, v.product_id, "
	 "v.uuid, COALESCE(s.on_hand, 0) FROM product_variants v LEFT JOIN "
	 "tax_categories c ON c.id = v.tax_category_id LEFT JOIN "
	 "variant_stock s ON s.variant_id = v.id WHERE v.product_id = ? "
	 "ORDER BY v.id",
	 NULL},
    [S_SHIPPING_METHODS] =
	{"shippingMethods", "shipping method", FIELDS(f_shipping_methods), 1,
	 "SELECT id, code, name, zone_id, calculator, amount, "
	 "first_item_cost, additional_item_cost, additional_item_limit, "
	 "tax_category_id, enabled, position, uuid FROM shipping_methods "
	 "WHERE code = ?",
	 "INSERT INTO shipping_methods (code, name, zone_id, calculator, "
	 "amount, first_item_cost, additional_item_cost, "
	 "additional_item_limit, tax_category_id, enabled, position, uuid) "
	 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	 "UPDATE shipping_methods SET code = ?, name = ?, zone_id = ?, "
	 "calculator = ?, amount = ?, first_item_cost = ?, "
	 "additional_item_cost = ?, additional_item_limit = ?, "
	 "tax_category_id = ?, enabled = ?, position = ? WHERE id = ?",
	 "SELECT m.id, m.code, m.name, z.code, m.calculator, m.amount, "
	 "m.first_item_cost, m.additional_item_cost, m.additional_item_limit, "
	 "c.code, m.enabled, m.position, m.uuid FROM shipping_methods m JOIN "
	 "zones z ON z.id = m.zone_id LEFT JOIN tax_categories c ON c.id = "
	 "m.tax_category_id ORDER BY m.id",
	 NULL},
    [S_PAYMENT_METHODS] =
	{"paymentMethods", "payment method", FIELDS(f_payment_methods), 1,
	 "SELECT id, code, name, gateway, enabled, position, uuid FROM "
	 "payment_methods WHERE code = ?",
	 "INSERT INTO payment_methods (code, name, gateway, enabled, "
	 "position, uuid) VALUES (?, ?, ?, ?, ?, ?)",
	 "UPDATE payment_methods SET code = ?, name = ?, gateway = ?, enabled "
	 "= ?, position = ? WHERE id = ?",
	 "SELECT id, code, name, gateway, enabled, position, uuid FROM "
	 "payment_methods ORDER BY id",
	 NULL},
    [S_PROMOTIONS] =
	{"promotions", "promotion", FIELDS(f_promotions), 1,
	 "SELECT id, code, name, priority, exclusive, coupon_based, "
	 "usage_limit, DATE_FORMAT(starts_at, '%Y-%m-%d %H:%i:%s'), "
	 "DATE_FORMAT(ends_at, '%Y-%m-%d %H:%i:%s'), rule_min_item_total, "
	 "rule_min_quantity, action, action_amount, action_bp FROM promotions "
	 "WHERE code = ?",
	 "INSERT INTO promotions (code, name, priority, exclusive, "
	 "coupon_based, usage_limit, starts_at, ends_at, rule_min_item_total, "
	 "rule_min_quantity, action, action_amount, action_bp) VALUES (?, ?, "
	 "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	 "UPDATE promotions SET code = ?, name = ?, priority = ?, exclusive = "
	 "?, coupon_based = ?, usage_limit = ?, starts_at = ?, ends_at = ?, "
	 "rule_min_item_total = ?, rule_min_quantity = ?, action = ?, "
	 "action_amount = ?, action_bp = ? WHERE id = ?",
	 "SELECT id, code, name, priority, exclusive, coupon_based, "
	 "usage_limit, DATE_FORMAT(starts_at, '%Y-%m-%dT%H:%i:%sZ'), "
	 "DATE_FORMAT(ends_at, '%Y-%m-%dT%H:%i:%sZ'), rule_min_item_total, "
	 "rule_min_quantity, action, action_amount, action_bp FROM promotions "
	 "ORDER BY id",
	 NULL},
    [S_COUPONS] =
	{"coupons", "coupon", FIELDS(f_coupons), 0,
	 "SELECT id, code, usage_limit, promotion_id FROM promotion_coupons "
	 "WHERE code = ?",
	 "INSERT INTO promotion_coupons (code, usage_limit, promotion_id) "
	 "VALUES (?, ?, ?)",
	 "UPDATE promotion_coupons SET code = ?, usage_limit = ?, "
	 "promotion_id = ? WHERE id = ?",
	 "SELECT id, code, usage_limit, promotion_id FROM promotion_coupons "
	 "WHERE promotion_id = ? ORDER BY id",
	 NULL},
    [S_PROVIDERS] = {NULL, "provider", NULL, 0, 0, NULL, NULL, NULL, NULL,
		     "SELECT id FROM providers WHERE uuid = ?"},
};

static const char sql_countries[] =
    "SELECT country_code FROM zone_countries WHERE zone_id = ? ORDER BY "
    "country_code";
static const char sql_country_add[] =
    "INSERT INTO zone_countries (zone_id, country_code) VALUES (?, ?)";
static const char sql_country_drop[] =
    "DELETE FROM zone_countries WHERE zone_id = ? AND country_code = ?";
static const char sql_stock_get[] =
    "SELECT on_hand FROM variant_stock WHERE variant_id = ?";
static const char sql_stock_add_row[] =
    "INSERT INTO variant_stock (variant_id, on_hand) VALUES (?, ?)";
static const char sql_stock_set[] =
    "UPDATE variant_stock SET on_hand = ? WHERE variant_id = ?";
static const char sql_stock_adjust[] =
    "UPDATE variant_stock SET on_hand = on_hand + ? WHERE variant_id = ? "
    "AND on_hand + ? >= 0";

struct catalog_file {
	/* The file, checked, each row a new object with every field the
	 * section has (uuid, stock and stockAdjust only when given). */
	struct json_object *root;
	/* CSV: for each product, its first line, then each variant's
	 * line. NULL for JSON. */
	struct json_object *lines;
};

/* Where a row is: its path in the file, or its CSV line. */
struct at {
	char path[128];
	int csv;     /* path is "line N"; keys are CSV columns. */
	int product; /* CSV: the product's columns (product, productName). */
};

/* Formats why as "<path>.<key>: message" or "line N: <column>: ...". */
static enum err fail(char *why, size_t whylen, const struct at *at,
		     const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum err
fail(char *why, size_t whylen, const struct at *at, const char *key,
     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key == NULL)
		snprintf(why, whylen, "%s: %s", at->path, msg);
	else if (!at->csv)
		snprintf(why, whylen, "%s.%s: %s", at->path, key, msg);
	else if (!at->product)
		snprintf(why, whylen, "%s: %s: %s", at->path, key, msg);
	else if (strcmp(key, "code") == 0)
		snprintf(why, whylen, "%s: product: %s", at->path, msg);
	else
		snprintf(why, whylen, "%s: product%c%s: %s", at->path,
			 key[0] - 'a' + 'A', key + 1, msg);
	return ERR_VALIDATION_FAILED;
}

/* The JSON path of row i of section s (nested under parent's), or its CSV
 * line. */
static void
at_row(const struct catalog_file *cf, enum section s, size_t i,
       const struct at *parent, size_t pi, struct at *out)
{
	memset(out, 0, sizeof(*out));
	if (cf->lines != NULL) {
		struct json_object *pl =
		    json_object_array_get_idx(cf->lines, parent ? pi : i);
		size_t k = s == S_VARIANTS ? i + 1 : 0;

		out->csv = 1;
		out->product = s == S_PRODUCTS;
		snprintf(out->path, sizeof(out->path), "line %d",
			 json_object_get_int(json_object_array_get_idx(pl, k)));
	} else if (parent != NULL) {
		snprintf(out->path, sizeof(out->path), "%.64s.%s[%zu]",
			 parent->path, sections[s].key, i);
	} else {
		snprintf(out->path, sizeof(out->path), "%s[%zu]",
			 sections[s].key, i);
	}
}

/* Characters in s when it is UTF-8 without control characters; -1 if not. */
static long
text_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p != '\0') {
		int extra = 0, k;

		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p >= 0xf0 && *p <= 0xf4)
			extra = 3;
		else if (*p >= 0xe0 && *p < 0xf0)
			extra = 2;
		else if (*p >= 0xc2 && *p < 0xe0)
			extra = 1;
		else if (*p >= 0x80)
			return -1;
		for (k = 1; k <= extra; k++)
			if ((p[k] & 0xc0) != 0x80)
				return -1;
		p += 1 + extra;
		n++;
	}
	return n;
}

static int
valid_code(const char *s)
{
	size_t i, n = strlen(s), digits = 0;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   c == '_' || c == '-' || c == '.'))
			return 0;
	}
	/* All digits would read as an id wherever "an id or a code" is. */
	return digits < n;
}

static int
valid_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
			     (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real instant; *sql gets the DATETIME text. */
static int
valid_time(const char *s, char sql[20])
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int y, mo, d, h, mi, se;
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				    : s[i] != shape[i])
			return 0;
	y = atoi(s);
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	se = atoi(s + 17);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 59)
		return 0;
	if (mo == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	if (sql != NULL)
		snprintf(sql, 20, "%.10s %.8s", s, s + 11);
	return 1;
}

static int
valid_country_code(const char *s)
{
	return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	       s[1] <= 'Z';
}

struct check {
	const struct catalog_file *cf;
	char *why;
	size_t whylen;
	/* Codes (and uuids, and tax rates' zone/category pairs) seen so far,
	 * per section: a second one is an error. */
	struct json_object *seen[S__MAX];
	struct json_object *seen_uuid[S__MAX];
};

static enum err check_list(struct check *c, enum section s,
			   struct json_object *in, const struct at *parent,
			   size_t pi, struct json_object **out);

/* Whether key (of what kind) was seen in section s; marks it. */
static int
seen_before(struct json_object **set, const char *key)
{
	if (*set == NULL)
		*set = json_object_new_object();
	if (*set == NULL || json_object_object_get_ex(*set, key, NULL))
		return 1;
	json_object_object_add(*set, key, NULL);
	return 0;
}

/* Checks one field's value v (present: has) and adds it to row. */
static enum err
check_field(struct check *c, enum section s, const struct field *f,
	    struct json_object *v, int has, const struct at *at, size_t index,
	    struct json_object *row)
{
	enum json_type t = json_object_get_type(v);
	struct json_object *val = NULL;
	const char *str;

	if (!has) {
		if (f->flags & REQ)
			return fail(c->why, c->whylen, at, f->key,
				    "is required");
		switch (f->type) {
		case F_INT:
			val = f->flags & NUL ? NULL
					     : json_object_new_int64(f->def);
			break;
		case F_BOOL:
			val = json_object_new_boolean(f->def != 0);
			break;
		case F_COUNTRIES:
		case F_CHILDREN:
			val = json_object_new_array();
			break;
		case F_REF:
		case F_TIME:
			break;
		default:
			return ERR_OK; /* uuid, stock, stockAdjust: absent. */
		}
		if (val == NULL && f->type != F_REF && f->type != F_TIME &&
		    !(f->flags & NUL))
			return ERR_NOMEM;
		json_object_object_add(row, f->key, val);
		return ERR_OK;
	}
	if (t == json_type_null && (f->flags & NUL)) {
		json_object_object_add(row, f->key, NULL);
		return ERR_OK;
	}
	switch (f->type) {
	case F_CODE:
	case F_UUID:
	case F_STR:
	case F_ENUM:
	case F_TIME:
	case F_REF:
		if (t != json_type_string)
			return fail(c->why, c->whylen, at, f->key,
				    "must be a string");
		str = json_object_get_string(v);
		if (f->type == F_CODE && !valid_code(str))
			return fail(c->why, c->whylen, at, f->key,
				    "must be 1 to 64 letters, digits, '_', "
				    "'-' or '.', not all digits");
		if (f->type == F_UUID && !valid_uuid(str))
			return fail(c->why, c->whylen, at, f->key,
				    "must be a lowercase UUID");
		if (f->type == F_STR) {
			long n = text_length(str);

			if (n < 1 || n > f->max)
				return fail(c->why, c->whylen, at, f->key,
					    "must be 1 to %lld characters of "
					    "UTF-8 text",
					    (long long)f->max);
		}
		if (f->type == F_ENUM) {
			const char *const *n = f->names;

			while (*n != NULL && strcmp(*n, str) != 0)
				n++;
			if (*n == NULL)
				return fail(c->why, c->whylen, at, f->key,
					    "must be one of %s, %s%s",
					    f->names[0], f->names[1],
					    f->names[2] != NULL ? ", ..." : "");
		}
		if (f->type == F_TIME && !valid_time(str, NULL))
			return fail(c->why, c->whylen, at, f->key,
				    "must be a UTC time as "
				    "YYYY-MM-DDTHH:MM:SSZ");
		if (f->type == F_REF &&
		    !(f->ref == S_PROVIDERS ? valid_uuid(str)
					    : valid_code(str)))
			return fail(c->why, c->whylen, at, f->key,
				    "must be a %s's %s", sections[f->ref].what,
				    f->ref == S_PROVIDERS ? "uuid" : "code");
		if (f->type == F_CODE && seen_before(&c->seen[s], str))
			return fail(c->why, c->whylen, at, f->key,
				    "\"%s\" is in the file twice", str);
		if (f->type == F_UUID && seen_before(&c->seen_uuid[s], str))
			return fail(c->why, c->whylen, at, f->key,
				    "\"%s\" is in the file twice", str);
		val = json_object_new_string(str);
		break;
	case F_INT:
	case F_STOCK:
	case F_ADJUST: {
		int64_t i = json_object_get_int64(v);

		if (t != json_type_int)
			return fail(c->why, c->whylen, at, f->key,
				    "must be an integer");
		if (i < f->min || i > f->max)
			return fail(c->why, c->whylen, at, f->key,
				    "must be from %lld to %lld",
				    (long long)f->min, (long long)f->max);
		val = json_object_new_int64(i);
		break;
	}
	case F_BOOL:
		if (t != json_type_boolean)
			return fail(c->why, c->whylen, at, f->key,
				    "must be true or false");
		val = json_object_new_boolean(json_object_get_boolean(v));
		break;
	case F_COUNTRIES: {
		struct json_object *set = NULL;
		size_t i, n;
		enum err e = ERR_OK;

		if (t != json_type_array)
			return fail(c->why, c->whylen, at, f->key,
				    "must be a list of country codes");
		val = json_object_new_array();
		n = json_object_array_length(v);
		for (i = 0; val != NULL && e == ERR_OK && i < n; i++) {
			struct json_object *cc =
			    json_object_array_get_idx(v, i);
			const char *code = json_object_get_string(cc);
			char key[32];

			snprintf(key, sizeof(key), "%s[%zu]", f->key, i);
			if (!json_object_is_type(cc, json_type_string) ||
			    !valid_country_code(code))
				e = fail(c->why, c->whylen, at, key,
					 "must be a country code (two capital "
					 "letters)");
			else if (seen_before(&set, code))
				e = fail(c->why, c->whylen, at, key,
					 "\"%s\" is in the list twice", code);
			else
				json_object_array_add(
				    val, json_object_new_string(code));
		}
		json_object_put(set);
		if (e != ERR_OK) {
			json_object_put(val);
			return e;
		}
		break;
	}
	case F_CHILDREN: {
		enum err e;

		if (t != json_type_array)
			return fail(c->why, c->whylen, at, f->key,
				    "must be a list");
		e = check_list(c, f->ref, v, at, index, &val);
		if (e != ERR_OK)
			return e;
		break;
	}
	case F_PARENT:
		return ERR_OK;
	}
	if (val == NULL)
		return ERR_NOMEM;
	json_object_object_add(row, f->key, val);
	return ERR_OK;
}

/* Checks row in (at) of section s into a new *out. */
static enum err
check_row(struct check *c, enum section s, struct json_object *in,
	  const struct at *at, size_t index, struct json_object **out)
{
	const struct section_def *d = &sections[s];
	struct json_object *row;
	size_t i;
	enum err e = ERR_OK;

	*out = NULL;
	if (!json_object_is_type(in, json_type_object))
		return fail(c->why, c->whylen, at, NULL,
			    "must be an object (a %s)", d->what);
	json_object_object_foreach(in, key, unused)
	{
		(void)unused;
		for (i = 0; i < d->nf; i++)
			if (d->f[i].type != F_PARENT &&
			    strcmp(d->f[i].key, key) == 0)
				break;
		if (i == d->nf)
			return fail(c->why, c->whylen, at, key,
				    "is not a field of a %s", d->what);
	}
	row = json_object_new_object();
	if (row == NULL)
		return ERR_NOMEM;
	for (i = 0; e == ERR_OK && i < d->nf; i++) {
		struct json_object *v = NULL;
		int has = json_object_object_get_ex(in, d->f[i].key, &v);

		e = check_field(c, s, &d->f[i], v, has, at, index, row);
	}
	if (e == ERR_OK && s == S_VARIANTS &&
	    json_object_object_get_ex(row, "stock", NULL) &&
	    json_object_object_get_ex(row, "stockAdjust", NULL))
		e = fail(c->why, c->whylen, at, "stockAdjust",
			 "stock sets the units, stockAdjust changes them: "
			 "give one");
	if (e == ERR_OK && s == S_TAX_RATES) {
		char pair[160];

		snprintf(
		    pair, sizeof(pair), "%s/%s",
		    json_object_get_string(json_object_object_get(row, "zone")),
		    json_object_get_string(
			json_object_object_get(row, "taxCategory")));
		if (seen_before(&c->seen[S_TAX_RATES], pair))
			e = fail(c->why, c->whylen, at, NULL,
				 "a second rate for zone and tax category %s",
				 pair);
	}
	if (e != ERR_OK) {
		json_object_put(row);
		return e;
	}
	*out = row;
	return ERR_OK;
}

static enum err
check_list(struct check *c, enum section s, struct json_object *in,
	   const struct at *parent, size_t pi, struct json_object **out)
{
	size_t i, n = json_object_array_length(in);
	struct json_object *list = json_object_new_array();
	enum err e = ERR_OK;

	if (list == NULL)
		return ERR_NOMEM;
	for (i = 0; e == ERR_OK && i < n; i++) {
		struct json_object *row = NULL;
		struct at at;

		at_row(c->cf, s, i, parent, pi, &at);
		e = check_row(c, s, json_object_array_get_idx(in, i), &at, i,
			      &row);
		if (e == ERR_OK && json_object_array_add(list, row) != 0) {
			json_object_put(row);
			e = ERR_NOMEM;
		}
	}
	if (e != ERR_OK) {
		json_object_put(list);
		return e;
	}
	*out = list;
	return ERR_OK;
}

/* Checks the parsed document in into cf->root. */
static enum err
check_file(struct catalog_file *cf, struct json_object *in, char *why,
	   size_t whylen)
{
	struct check c = {cf, why, whylen, {0}, {0}};
	struct at top = {"catalog", 0, 0};
	struct json_object *v;
	enum err e = ERR_OK;
	size_t s;

	if (!json_object_is_type(in, json_type_object))
		return fail(why, whylen, &top, NULL,
			    "must be an object of lists (docs/catalog.md)");
	json_object_object_foreach(in, key, val)
	{
		for (s = 0; s < S__MAX; s++)
			if (sections[s].top &&
			    strcmp(sections[s].key, key) == 0)
				break;
		if (strcmp(key, "version") == 0) {
			if (!json_object_is_type(val, json_type_int) ||
			    json_object_get_int64(val) != 1)
				return fail(why, whylen, &top, key,
					    "must be 1");
		} else if (s == S__MAX) {
			return fail(why, whylen, &top, key,
				    "is not a section of a catalog file");
		} else if (!json_object_is_type(val, json_type_array)) {
			snprintf(why, whylen, "%s: must be a list", key);
			return ERR_VALIDATION_FAILED;
		}
	}
	cf->root = json_object_new_object();
	if (cf->root == NULL)
		return ERR_NOMEM;
	json_object_object_add(cf->root, "version", json_object_new_int(1));
	for (s = 0; e == ERR_OK && s < S__MAX; s++) {
		struct json_object *list = NULL;

		if (!sections[s].top)
			continue;
		if (!json_object_object_get_ex(in, sections[s].key, &v)) {
			list = json_object_new_array();
			e = list != NULL ? ERR_OK : ERR_NOMEM;
		} else {
			e = check_list(&c, (enum section)s, v, NULL, 0, &list);
		}
		if (e == ERR_OK)
			json_object_object_add(cf->root, sections[s].key, list);
	}
	for (s = 0; s < S__MAX; s++) {
		json_object_put(c.seen[s]);
		json_object_put(c.seen_uuid[s]);
	}
	return e;
}

/*
 * CSV (products and variants): a header line naming the columns, then a
 * line per variant; a product's columns repeat on each of its variants'
 * lines and must agree. An empty cell is an absent field.
 */
static const struct {
	const char *col;
	int product; /* A product's column, else the variant's. */
	const char *key;
} csv_cols[] = {
    {"product", 1, "code"},
    {"productUuid", 1, "uuid"},
    {"productName", 1, "name"},
    {"productEnabled", 1, "enabled"},
    {"productProvider", 1, "provider"},
    {"code", 0, "code"},
    {"uuid", 0, "uuid"},
    {"name", 0, "name"},
    {"price", 0, "price"},
    {"taxCategory", 0, "taxCategory"},
    {"tracked", 0, "tracked"},
    {"stock", 0, "stock"},
    {"stockAdjust", 0, "stockAdjust"},
    {"needsShipping", 0, "needsShipping"},
    {"weightG", 0, "weightG"},
    {"enabled", 0, "enabled"},
    {"position", 0, "position"},
};
#define NCSV (sizeof(csv_cols) / sizeof(csv_cols[0]))
/* Columns every file has. */
static const char *const csv_required[] = {"product", "productName", "code",
					   "name", "price"};

/* Reads one CSV record from *p (RFC 4180: quotes, "" inside them, CRLF or
 * LF) into cells (a JSON array of strings); *line advances by the lines
 * it spans. Returns -1 on an unclosed quote. */
static int
csv_record(const char **p, const char *end, int *line,
	   struct json_object *cells)
{
	struct buf cell = {0};
	const char *s = *p;
	int quoted = 0, rc = 0;

	for (;;) {
		if (s == end || (!quoted && (*s == '\n' || *s == ','))) {
			if (json_object_array_add(
				cells, json_object_new_string_len(
					   cell.data ? cell.data : "",
					   (int)cell.len)) != 0)
				rc = -1;
			buf_reset(&cell);
			if (s == end || *s == '\n')
				break;
			s++;
			continue;
		}
		if (*s == '"' && quoted && s + 1 < end && s[1] == '"') {
			buf_append(&cell, "\"", 1);
			s += 2;
		} else if (*s == '"' && (quoted || cell.len == 0)) {
			quoted = !quoted;
			s++;
		} else if (*s == '\r' && !quoted &&
			   (s + 1 == end || s[1] == '\n')) {
			s++;
		} else {
			*line += *s == '\n';
			buf_append(&cell, s, 1);
			s++;
		}
		if (s == end && quoted) {
			rc = -1;
			break;
		}
	}
	if (cell.failed)
		rc = -1;
	buf_free(&cell);
	*p = s < end ? s + 1 : end;
	return rc;
}

/* The CSV cell text as the field f's JSON value. */
static enum err
csv_value(const struct field *f, const char *text, const struct at *at,
	  char *why, size_t whylen, struct json_object **out)
{
	int64_t i;

	*out = NULL;
	switch (f->type) {
	case F_INT:
	case F_STOCK:
	case F_ADJUST:
		if (parse_i64(text, &i) != 0)
			return fail(why, whylen, at, f->key,
				    "must be an integer");
		*out = json_object_new_int64(i);
		break;
	case F_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
			*out = json_object_new_boolean(1);
		else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
			*out = json_object_new_boolean(0);
		else
			return fail(why, whylen, at, f->key,
				    "must be true or false");
		break;
	default:
		*out = json_object_new_string(text);
	}
	return *out != NULL ? ERR_OK : ERR_NOMEM;
}

static const struct field *
field_of(enum section s, const char *key)
{
	size_t i;

	for (i = 0; i < sections[s].nf; i++)
		if (strcmp(sections[s].f[i].key, key) == 0)
			return &sections[s].f[i];
	return NULL;
}

/* Builds {"products": [...]} from CSV into *doc and cf->lines. */
static enum err
csv_parse(struct catalog_file *cf, const char *text, size_t len,
	  struct json_object **doc, char *why, size_t whylen)
{
	const char *p = text, *end = text + len;
	struct json_object *head = json_object_new_array();
	struct json_object *products = json_object_new_array();
	struct json_object *index = json_object_new_object(); /* code -> i */
	int col[NCSV], line = 1, next = 1;
	size_t ncols = 0, i, k;
	enum err e = ERR_OK;
	struct at at = {"line 1", 1, 0};

	cf->lines = json_object_new_array();
	*doc = json_object_new_object();
	if (head == NULL || products == NULL || index == NULL ||
	    cf->lines == NULL || *doc == NULL) {
		e = ERR_NOMEM;
		goto out;
	}
	json_object_object_add(*doc, "products", json_object_get(products));
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* A spreadsheet's byte order mark. */
	if (p == end || csv_record(&p, end, &next, head) != 0) {
		e = fail(why, whylen, &at, NULL,
			 "the header line names the columns (docs/catalog.md)");
		goto out;
	}
	next++;
	ncols = json_object_array_length(head);
	for (i = 0; i < ncols; i++) {
		const char *name =
		    json_object_get_string(json_object_array_get_idx(head, i));

		for (k = 0; k < NCSV && strcmp(csv_cols[k].col, name) != 0; k++)
			;
		if (k == NCSV) {
			e = fail(why, whylen, &at, NULL,
				 "unknown column \"%s\"", name);
			goto out;
		}
		col[i] = (int)k;
		for (k = 0; k < i; k++)
			if (col[k] == col[i]) {
				e = fail(why, whylen, &at, NULL,
					 "column \"%s\" twice", name);
				goto out;
			}
	}
	for (k = 0; k < sizeof(csv_required) / sizeof(csv_required[0]); k++) {
		for (i = 0; i < ncols; i++)
			if (strcmp(csv_cols[col[i]].col, csv_required[k]) == 0)
				break;
		if (i == ncols) {
			e = fail(why, whylen, &at, NULL, "no column \"%s\"",
				 csv_required[k]);
			goto out;
		}
	}
	while (e == ERR_OK && p < end) {
		struct json_object *cells = json_object_new_array();
		struct json_object *prod = NULL, *var, *first = NULL, *pl;
		struct json_object *raw, *v;
		const char *code = NULL;
		int64_t pi = -1;

		line = next;
		if (cells == NULL) {
			e = ERR_NOMEM;
			break;
		}
		snprintf(at.path, sizeof(at.path), "line %d", line);
		if (csv_record(&p, end, &next, cells) != 0) {
			e = fail(why, whylen, &at, NULL,
				 "a quote is not closed");
		} else if (json_object_array_length(cells) == 1 &&
			   json_object_get_string_len(
			       json_object_array_get_idx(cells, 0)) == 0) {
			next++;
			json_object_put(cells);
			continue; /* A blank line. */
		} else if (json_object_array_length(cells) != ncols) {
			e = fail(why, whylen, &at, NULL,
				 "%zu cells; the header has %zu columns",
				 json_object_array_length(cells), ncols);
		}
		next++;
		var = json_object_new_object();
		raw = json_object_new_object();
		for (i = 0; e == ERR_OK && i < ncols; i++) {
			const char *cell = json_object_get_string(
			    json_object_array_get_idx(cells, i));

			if (csv_cols[col[i]].product) {
				json_object_object_add(
				    raw, csv_cols[col[i]].col,
				    json_object_new_string(cell));
				if (strcmp(csv_cols[col[i]].col, "product") ==
				    0)
					code = cell;
			}
		}
		if (e == ERR_OK && (var == NULL || raw == NULL))
			e = ERR_NOMEM;
		if (e == ERR_OK && code != NULL &&
		    json_object_object_get_ex(index, code, &v)) {
			pi = json_object_get_int64(v);
			prod = json_object_array_get_idx(products, (size_t)pi);
			pl = json_object_array_get_idx(cf->lines, (size_t)pi);
			first = json_object_array_get_idx(pl, 0);
		}
		/* A later line of a product: its product cells agree. */
		for (i = 0; e == ERR_OK && first != NULL && i < ncols; i++) {
			const char *name = csv_cols[col[i]].col;
			struct json_object *a =
			    json_object_object_get(raw, name);
			struct json_object *b = json_object_object_get(
			    json_object_array_get_idx(
				json_object_array_get_idx(cf->lines,
							  (size_t)pi),
				1),
			    name);

			if (csv_cols[col[i]].product &&
			    strcmp(json_object_get_string(a),
				   json_object_get_string(b)) != 0)
				e = fail(why, whylen, &at, NULL,
					 "%s differs from line %d's", name,
					 json_object_get_int(first));
		}
		if (e == ERR_OK && prod == NULL) {
			prod = json_object_new_object();
			pl = json_object_new_array();
			if (prod == NULL || pl == NULL) {
				json_object_put(prod);
				json_object_put(pl);
				e = ERR_NOMEM;
			} else {
				json_object_array_add(products, prod);
				json_object_array_add(cf->lines, pl);
				/* [first line, the product's raw cells,
				 * then each variant's line]; the cells are
				 * dropped below. */
				json_object_array_add(
				    pl, json_object_new_int(line));
				json_object_array_add(pl, json_object_get(raw));
				pi = (int64_t)json_object_array_length(
					 products) -
				     1;
				if (code != NULL && code[0] != '\0')
					json_object_object_add(
					    index, code,
					    json_object_new_int64(pi));
				json_object_object_add(prod, "variants",
						       json_object_new_array());
				at.product = 1;
				for (i = 0; e == ERR_OK && i < ncols; i++) {
					const char *cell =
					    json_object_get_string(
						json_object_array_get_idx(cells,
									  i));

					if (!csv_cols[col[i]].product ||
					    cell[0] == '\0')
						continue;
					e = csv_value(
					    field_of(S_PRODUCTS,
						     csv_cols[col[i]].key),
					    cell, &at, why, whylen, &v);
					if (e == ERR_OK)
						json_object_object_add(
						    prod, csv_cols[col[i]].key,
						    v);
				}
				at.product = 0;
			}
		}
		for (i = 0; e == ERR_OK && i < ncols; i++) {
			const char *cell = json_object_get_string(
			    json_object_array_get_idx(cells, i));

			if (csv_cols[col[i]].product || cell[0] == '\0')
				continue;
			e = csv_value(
			    field_of(S_VARIANTS, csv_cols[col[i]].key), cell,
			    &at, why, whylen, &v);
			if (e == ERR_OK)
				json_object_object_add(var,
						       csv_cols[col[i]].key, v);
		}
		if (e == ERR_OK) {
			json_object_array_add(
			    json_object_object_get(prod, "variants"),
			    json_object_get(var));
			json_object_array_add(
			    json_object_array_get_idx(cf->lines, (size_t)pi),
			    json_object_new_int(line));
		}
		json_object_put(var);
		json_object_put(raw);
		json_object_put(cells);
	}
	/* Each product's entry: [first line, variant lines...]. */
	for (i = 0; e == ERR_OK && i < json_object_array_length(cf->lines); i++)
		json_object_array_del_idx(
		    json_object_array_get_idx(cf->lines, i), 1, 1);
out:
	json_object_put(head);
	json_object_put(products);
	json_object_put(index);
	return e;
}

/* The line of byte offset off in text. */
static int
line_at(const char *text, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

enum err
catalog_file_parse(const char *text, size_t len, int csv,
		   struct catalog_file **out, char *why, size_t whylen)
{
	struct catalog_file *cf = calloc(1, sizeof(*cf));
	struct json_object *doc = NULL;
	enum err e;

	*out = NULL;
	why[0] = '\0';
	if (cf == NULL)
		return ERR_NOMEM;
	if (len > 256 * 1024 * 1024) {
		snprintf(why, whylen, "the file is over 256 MiB");
		e = ERR_VALIDATION_FAILED;
	} else if (csv) {
		e = csv_parse(cf, text, len, &doc, why, whylen);
	} else {
		struct json_tokener *tok = json_tokener_new();
		enum json_tokener_error je;

		if (tok == NULL) {
			free(cf);
			return ERR_NOMEM;
		}
		doc = json_tokener_parse_ex(tok, text, (int)len);
		je = json_tokener_get_error(tok);
		if (je == json_tokener_success &&
		    json_tokener_get_parse_end(tok) < len) {
			size_t end = json_tokener_get_parse_end(tok);

			while (end < len &&
			       (text[end] == ' ' || text[end] == '\n' ||
				text[end] == '\r' || text[end] == '\t'))
				end++;
			if (end < len) {
				snprintf(why, whylen,
					 "line %d: JSON: text after the "
					 "document",
					 line_at(text, end));
				json_object_put(doc);
				doc = NULL;
			}
		} else if (je != json_tokener_success || doc == NULL) {
			size_t end = json_tokener_get_parse_end(tok);

			snprintf(why, whylen, "line %d: JSON: %s",
				 line_at(text, end < len ? end : len),
				 je == json_tokener_continue
				     ? "the document is not complete"
				     : json_tokener_error_desc(je));
			json_object_put(doc);
			doc = NULL;
		}
		json_tokener_free(tok);
		e = doc != NULL ? ERR_OK : ERR_VALIDATION_FAILED;
	}
	if (e == ERR_OK)
		e = check_file(cf, doc, why, whylen);
	json_object_put(doc);
	if (e != ERR_OK) {
		catalog_file_free(cf);
		return e;
	}
	*out = cf;
	return ERR_OK;
}

void
catalog_file_free(struct catalog_file *cf)
{
	if (cf == NULL)
		return;
	json_object_put(cf->root);
	json_object_put(cf->lines);
	free(cf);
}

/* The canonical form. */

static void
indent(struct buf *b, int n)
{
	buf_printf(b, "%*s", n, "");
}

static void write_list(struct buf *b, enum section s, struct json_object *a,
		       int level);

static void
write_value(struct buf *b, struct json_object *v)
{
	buf_puts(
	    b, json_object_to_json_string_ext(
		   v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
write_row(struct buf *b, enum section s, struct json_object *row, int level)
{
	const struct section_def *d = &sections[s];
	const char *sep = "";
	size_t i, k;

	buf_puts(b, "{\n");
	for (i = 0; i < d->nf; i++) {
		const struct field *f = &d->f[i];
		struct json_object *v;

		if (f->type == F_PARENT ||
		    !json_object_object_get_ex(row, f->key, &v))
			continue;
		buf_puts(b, sep);
		indent(b, level + 2);
		buf_printf(b, "\"%s\": ", f->key);
		if (f->type == F_CHILDREN) {
			write_list(b, f->ref, v, level + 2);
		} else if (f->type == F_COUNTRIES) {
			buf_puts(b, "[");
			for (k = 0; k < json_object_array_length(v); k++) {
				buf_puts(b, k > 0 ? ", " : "");
				write_value(b, json_object_array_get_idx(v, k));
			}
			buf_puts(b, "]");
		} else {
			write_value(b, v);
		}
		sep = ",\n";
	}
	buf_puts(b, "\n");
	indent(b, level);
	buf_puts(b, "}");
}

static void
write_list(struct buf *b, enum section s, struct json_object *a, int level)
{
	size_t i, n = json_object_array_length(a);

	if (n == 0) {
		buf_puts(b, "[]");
		return;
	}
	buf_puts(b, "[\n");
	for (i = 0; i < n; i++) {
		indent(b, level + 2);
		write_row(b, s, json_object_array_get_idx(a, i), level + 2);
		buf_puts(b, i + 1 < n ? ",\n" : "\n");
	}
	indent(b, level);
	buf_puts(b, "]");
}

enum err
catalog_file_write(const struct catalog_file *cf, struct buf *out)
{
	size_t s;

	buf_puts(out, "{\n  \"version\": 1");
	for (s = 0; s < S__MAX; s++) {
		if (!sections[s].top)
			continue;
		buf_printf(out, ",\n  \"%s\": ", sections[s].key);
		write_list(out, (enum section)s,
			   json_object_object_get(cf->root, sections[s].key),
			   2);
	}
	buf_puts(out, "\n}\n");
	return out->failed ? ERR_NOMEM : ERR_OK;
}

/* CSV out: a cell, quoted (RFC 4180) when it holds a comma, a quote or
 * a line end; null is the empty cell, which the reader takes as absent. */
static void
csv_cell(struct buf *b, struct json_object *v)
{
	const char *t, *q;

	if (v == NULL || json_object_is_type(v, json_type_null))
		return;
	if (json_object_is_type(v, json_type_boolean))
		t = json_object_get_boolean(v) ? "true" : "false";
	else
		t = json_object_get_string(v);
	if (strpbrk(t, ",\"\r\n") == NULL) {
		buf_puts(b, t);
		return;
	}
	buf_puts(b, "\"");
	while ((q = strchr(t, '"')) != NULL) {
		buf_append(b, t, (size_t)(q - t) + 1);
		buf_puts(b, "\"");
		t = q + 1;
	}
	buf_puts(b, t);
	buf_puts(b, "\"");
}

enum err
catalog_file_write_csv(const struct catalog_file *cf, struct buf *out,
		       size_t *left_out)
{
	struct json_object *products =
	    json_object_object_get(cf->root, "products");
	size_t i, j, k, n = json_object_array_length(products);

	*left_out = 0;
	for (k = 0; k < NCSV; k++)
		buf_printf(out, "%s%s", k > 0 ? "," : "", csv_cols[k].col);
	buf_puts(out, "\n");
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(products, i);
		struct json_object *vs = json_object_object_get(p, "variants");

		if (json_object_array_length(vs) == 0)
			(*left_out)++;
		for (j = 0; j < json_object_array_length(vs); j++) {
			struct json_object *v =
			    json_object_array_get_idx(vs, j);

			for (k = 0; k < NCSV; k++) {
				if (k > 0)
					buf_puts(out, ",");
				csv_cell(out, json_object_object_get(
						  csv_cols[k].product ? p : v,
						  csv_cols[k].key));
			}
			buf_puts(out, "\n");
		}
	}
	return out->failed ? ERR_NOMEM : ERR_OK;
}

/* Import. */

struct apply {
	struct db *db;
	const struct catalog_file *cf;
	struct catalog_counts *n;
	char *why;
	size_t whylen;
};

/* Compares a stored row (the find statement's) with the values to be. */
struct found {
	const struct db_val *want;
	size_t nwant;
	const char *uuid; /* Given in the file, or NULL. */
	int has_uuid;
	int64_t id;
	int differs;
	int uuid_differs;
};

static int
same(const struct db_val *a, const struct db_val *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == DB_I64)
		return a->i == b->i;
	if (a->type == DB_STR)
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	return 1;
}

static enum err
found_row(void *arg, const struct db_val *c, size_t n)
{
	struct found *f = arg;
	size_t i;

	if (n != 1 + f->nwant + (size_t)f->has_uuid || c[0].type != DB_I64)
		return ERR_INTERNAL;
	f->id = c[0].i;
	for (i = 0; i < f->nwant; i++)
		if (!same(&c[1 + i], &f->want[i]))
			f->differs = 1;
	if (f->uuid != NULL && c[1 + f->nwant].type == DB_STR &&
	    strcmp(c[1 + f->nwant].s, f->uuid) != 0)
		f->uuid_differs = 1;
	return ERR_OK;
}

/* The id of the row of section s whose code (a provider: uuid) is code;
 * 0 when there is none. */
static enum err
ref_id(struct db *db, enum section s, const char *code, int64_t *id)
{
	struct db_val p = DB_S(code);

	return db_int(db, sections[s].ref, &p, 1, id);
}

static enum err apply_list(struct apply *a, enum section s,
			   struct json_object *list, const struct at *parent,
			   size_t pi, int64_t parent_id);

/* Makes the zone's countries the file's: adds the missing, drops the
 * others. *changed is set when it did either. */
struct countries {
	char have[300][3];
	size_t n;
};

static enum err
country_row(void *arg, const struct db_val *c, size_t n)
{
	struct countries *h = arg;

	if (n != 1 || c[0].type != DB_STR || c[0].len != 2)
		return ERR_INTERNAL;
	if (h->n < sizeof(h->have) / sizeof(h->have[0]))
		memcpy(h->have[h->n++], c[0].s, 3);
	return ERR_OK;
}

static enum err
apply_countries(struct apply *a, int64_t zone, struct json_object *want,
		int *changed)
{
	struct countries h = {.n = 0};
	struct db_val p[2] = {DB_I(zone), DB_N};
	size_t i, k, n = json_object_array_length(want);
	uint64_t affected;
	enum err e;

	e = db_query(a->db, sql_countries, p, 1, country_row, &h);
	for (i = 0; e == ERR_OK && i < h.n; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(h.have[i], json_object_get_string(
						  json_object_array_get_idx(
						      want, k))) == 0)
				break;
		if (k < n)
			continue;
		p[1] = DB_S(h.have[i]);
		e = db_exec(a->db, sql_country_drop, p, 2, &affected);
		*changed = 1;
	}
	for (k = 0; e == ERR_OK && k < n; k++) {
		const char *cc =
		    json_object_get_string(json_object_array_get_idx(want, k));

		for (i = 0; i < h.n; i++)
			if (strcmp(h.have[i], cc) == 0)
				break;
		if (i < h.n)
			continue;
		p[1] = DB_S(cc);
		e = db_exec(a->db, sql_country_add, p, 2, &affected);
		*changed = 1;
	}
	return e;
}

/* Sets or adjusts a variant's units on hand. */
static enum err
apply_stock(struct apply *a, const struct at *at, int64_t variant, int inserted,
	    struct json_object *row, int *changed)
{
	struct json_object *v;
	struct db_val p[3];
	uint64_t affected = 0;
	int64_t have = -1;
	enum err e;

	if (json_object_object_get_ex(row, "stockAdjust", &v)) {
		int64_t d = json_object_get_int64(v);

		if (inserted) {
			if (d < 0)
				return fail(a->why, a->whylen, at,
					    "stockAdjust",
					    "a new variant has no units to "
					    "take away");
			p[0] = DB_I(variant);
			p[1] = DB_I(d);
			return db_exec(a->db, sql_stock_add_row, p, 2,
				       &affected);
		}
		if (d == 0)
			return ERR_OK;
		p[0] = DB_I(d);
		p[1] = DB_I(variant);
		p[2] = DB_I(d);
		e = db_exec(a->db, sql_stock_adjust, p, 3, &affected);
		if (e == ERR_OK && affected == 0)
			return fail(a->why, a->whylen, at, "stockAdjust",
				    "would leave fewer than 0 units on hand");
		*changed = 1;
		return e;
	}
	p[0] = DB_I(variant);
	if (!inserted) {
		e = db_query(a->db, sql_stock_get, p, 1, db_row_int, &have);
		if (e != ERR_OK)
			return e;
	}
	if (!json_object_object_get_ex(row, "stock", &v)) {
		if (have >= 0)
			return ERR_OK; /* Absent: left as it is. */
		p[1] = DB_I(0);
		return db_exec(a->db, sql_stock_add_row, p, 2, &affected);
	}
	p[1] = DB_I(json_object_get_int64(v));
	if (have < 0)
		return db_exec(a->db, sql_stock_add_row, p, 2, &affected);
	if (have == p[1].i)
		return ERR_OK;
	*changed = 1;
	p[0] = p[1];
	p[1] = DB_I(variant);
	return db_exec(a->db, sql_stock_set, p, 2, &affected);
}

/* Inserts or updates one row (and what it holds). */
static enum err
apply_row(struct apply *a, enum section s, struct json_object *row,
	  const struct at *at, size_t index, int64_t parent_id)
{
	const struct section_def *d = &sections[s];
	struct db_val vals[DB_MAX_PARAMS], keys[2];
	char times[4][20];
	const char *uuid = NULL;
	char made[37];
	struct found fd = {0};
	size_t i, nv = 0, nk = 0, nt = 0;
	int has_uuid = 0, changed = 0, inserted;
	uint64_t affected;
	enum err e = ERR_OK;

	for (i = 0; i < d->nf; i++) {
		const struct field *f = &d->f[i];
		struct json_object *v = NULL;
		struct db_val val = DB_N;

		json_object_object_get_ex(row, f->key, &v);
		switch (f->type) {
		case F_UUID:
			has_uuid = 1;
			uuid = v != NULL ? json_object_get_string(v) : NULL;
			continue;
		case F_COUNTRIES:
		case F_CHILDREN:
		case F_STOCK:
		case F_ADJUST:
			continue;
		case F_CODE:
		case F_STR:
		case F_ENUM:
			val = DB_S(json_object_get_string(v));
			break;
		case F_INT:
			val = v != NULL ? DB_I(json_object_get_int64(v)) : DB_N;
			break;
		case F_BOOL:
			val = DB_I(json_object_get_boolean(v) ? 1 : 0);
			break;
		case F_TIME:
			if (v != NULL) {
				valid_time(json_object_get_string(v),
					   times[nt]);
				val = DB_S(times[nt]);
				nt++;
			}
			break;
		case F_REF:
			if (v != NULL) {
				int64_t id = 0;

				e = ref_id(a->db, f->ref,
					   json_object_get_string(v), &id);
				if (e != ERR_OK)
					return e;
				if (id == 0)
					return fail(
					    a->why, a->whylen, at, f->key,
					    "no %s \"%s\"%s",
					    sections[f->ref].what,
					    json_object_get_string(v),
					    f->ref == S_PROVIDERS
						? ""
						: " (in the file or the "
						  "database)");
				val = DB_I(id);
			}
			break;
		case F_PARENT:
			val = DB_I(parent_id);
			break;
		}
		if (f->flags & KEY)
			keys[nk++] = val;
		vals[nv++] = val;
	}
	fd.want = vals;
	fd.nwant = nv;
	fd.uuid = uuid;
	fd.has_uuid = has_uuid;
	e = db_query(a->db, d->find, keys, nk, found_row, &fd);
	if (e != ERR_OK)
		return e;
	if (fd.uuid_differs)
		return fail(a->why, a->whylen, at, "uuid",
			    "the stored %s has another uuid (a uuid never "
			    "changes)",
			    d->what);
	inserted = fd.id == 0;
	if (inserted) {
		if (has_uuid) {
			if (uuid == NULL) {
				if (uuid_v4(made) != 0)
					return ERR_INTERNAL;
				uuid = made;
			}
			vals[nv++] = DB_S(uuid);
		}
		e = db_insert(a->db, d->insert, vals, nv, &fd.id);
		if (e != ERR_OK) {
			snprintf(a->why, a->whylen,
				 "%s: the database refused the %s (a uuid "
				 "another row has?)",
				 at->path, d->what);
			return e;
		}
		a->n->inserted++;
	} else if (fd.differs) {
		vals[nv++] = DB_I(fd.id);
		e = db_exec(a->db, d->update, vals, nv, &affected);
		if (e != ERR_OK) {
			snprintf(a->why, a->whylen,
				 "%s: the database refused the %s", at->path,
				 d->what);
			return e;
		}
		changed = 1;
	}
	for (i = 0; e == ERR_OK && i < d->nf; i++) {
		const struct field *f = &d->f[i];
		struct json_object *v = json_object_object_get(row, f->key);

		if (f->type == F_COUNTRIES)
			e = apply_countries(a, fd.id, v, &changed);
		else if (f->type == F_STOCK)
			e = apply_stock(a, at, fd.id, inserted, row, &changed);
		else if (f->type == F_CHILDREN)
			e = apply_list(a, f->ref, v, at, index, fd.id);
	}
	if (e == ERR_OK && !inserted) {
		if (changed)
			a->n->updated++;
		else
			a->n->unchanged++;
	}
	return e;
}

static enum err
apply_list(struct apply *a, enum section s, struct json_object *list,
	   const struct at *parent, size_t pi, int64_t parent_id)
{
	size_t i, n = json_object_array_length(list);
	enum err e = ERR_OK;

	for (i = 0; e == ERR_OK && i < n; i++) {
		struct at at;

		at_row(a->cf, s, i, parent, pi, &at);
		e = apply_row(a, s, json_object_array_get_idx(list, i), &at, i,
			      parent_id);
	}
	return e;
}

static enum err
apply_tx(struct db *db, void *arg)
{
	struct apply *a = arg;
	enum err e = ERR_OK;
	size_t s;

	memset(a->n, 0, sizeof(*a->n));
	a->why[0] = '\0';
	for (s = 0; e == ERR_OK && s < S__MAX; s++)
		if (sections[s].top)
			e = apply_list(a, (enum section)s,
				       json_object_object_get(a->cf->root,
							      sections[s].key),
				       NULL, 0, 0);
	(void)db;
	return e;
}

enum err
catalog_file_apply(struct db *db, const struct catalog_file *cf,
		   struct catalog_counts *n, char *why, size_t whylen)
{
	struct apply a = {db, cf, n, why, whylen};

	return apply_tx(db, &a);
}

enum err
catalog_file_import(struct db *db, const struct catalog_file *cf,
		    struct catalog_counts *n, char *why, size_t whylen)
{
	struct apply a = {db, cf, n, why, whylen};

	return db_tx(db, apply_tx, &a);
}

/* Export: each section's rows, read into the tree the writer writes. */

struct reading {
	enum section s;
	struct json_object *list;
	struct json_object *ids; /* Each row's id, for what it holds. */
};

static enum err
export_row(void *arg, const struct db_val *c, size_t n)
{
	struct reading *r = arg;
	const struct section_def *d = &sections[r->s];
	struct json_object *row = json_object_new_object();
	size_t i, k = 1, ncol = 0;

	if (row == NULL)
		return ERR_NOMEM;
	for (i = 0; i < d->nf; i++)
		if (d->f[i].type != F_UUID && d->f[i].type != F_COUNTRIES &&
		    d->f[i].type != F_CHILDREN && d->f[i].type != F_STOCK &&
		    d->f[i].type != F_ADJUST)
			ncol++;
	for (i = 0; i < d->nf; i++) {
		const struct field *f = &d->f[i];
		size_t at;
		struct json_object *o = NULL;

		if (f->type == F_UUID)
			at = 1 + ncol;
		else if (f->type == F_STOCK)
			at = 2 + ncol;
		else if (f->type != F_ADJUST && f->type != F_COUNTRIES &&
			 f->type != F_CHILDREN)
			at = k++;
		else
			at = 0;
		if (f->type == F_PARENT || f->type == F_ADJUST)
			continue;
		if (at >= n) {
			json_object_put(row);
			return ERR_INTERNAL;
		}
		if (f->type == F_COUNTRIES || f->type == F_CHILDREN)
			o = json_object_new_array();
		else if (c[at].type == DB_NULL)
			o = NULL;
		else if (f->type == F_BOOL)
			o = json_object_new_boolean(c[at].i != 0);
		else if (c[at].type == DB_I64)
			o = json_object_new_int64(c[at].i);
		else
			o = json_object_new_string_len(c[at].s, (int)c[at].len);
		json_object_object_add(row, f->key, o);
	}
	json_object_array_add(r->list, row);
	json_object_array_add(r->ids, json_object_new_int64(c[0].i));
	return ERR_OK;
}

static enum err
export_country(void *arg, const struct db_val *c, size_t n)
{
	if (n != 1 || c[0].type != DB_STR)
		return ERR_INTERNAL;
	return json_object_array_add(arg, json_object_new_string(c[0].s)) == 0
		   ? ERR_OK
		   : ERR_NOMEM;
}

/* Reads section s's rows (those of parent when nested) into *list. */
static enum err
export_list(struct db *db, enum section s, int64_t parent,
	    struct json_object *list)
{
	const struct section_def *d = &sections[s];
	struct reading r = {s, list, json_object_new_array()};
	struct db_val p = DB_I(parent);
	enum err e;
	size_t i, k;

	if (r.ids == NULL)
		return ERR_NOMEM;
	e = db_query(db, d->export, &p, d->top ? 0 : 1, export_row, &r);
	for (i = 0; e == ERR_OK && i < json_object_array_length(list); i++) {
		struct json_object *row = json_object_array_get_idx(list, i);
		struct db_val id = DB_I(
		    json_object_get_int64(json_object_array_get_idx(r.ids, i)));

		for (k = 0; e == ERR_OK && k < d->nf; k++) {
			struct json_object *v =
			    json_object_object_get(row, d->f[k].key);

			if (d->f[k].type == F_COUNTRIES)
				e = db_query(db, sql_countries, &id, 1,
					     export_country, v);
			else if (d->f[k].type == F_CHILDREN)
				e = export_list(db, d->f[k].ref, id.i, v);
		}
	}
	json_object_put(r.ids);
	return e;
}

enum err
catalog_file_export(struct db *db, struct catalog_file **out)
{
	struct catalog_file *cf = calloc(1, sizeof(*cf));
	enum err e = ERR_OK;
	size_t s;

	*out = NULL;
	if (cf == NULL || (cf->root = json_object_new_object()) == NULL) {
		free(cf);
		return ERR_NOMEM;
	}
	for (s = 0; e == ERR_OK && s < S__MAX; s++) {
		struct json_object *list;

		if (!sections[s].top)
			continue;
		list = json_object_new_array();
		if (list == NULL) {
			e = ERR_NOMEM;
			break;
		}
		json_object_object_add(cf->root, sections[s].key, list);
		e = export_list(db, (enum section)s, 0, list);
	}
	if (e != ERR_OK) {
		catalog_file_free(cf);
		return e;
	}
	*out = cf;
	return ERR_OK;
}
