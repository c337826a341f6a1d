#include "rules.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"

/* At most this many rates over all zones, zones, and zone memberships
 * are cached; more is an error. */
#define RULES_MAX_RATES	  128
#define RULES_MAX_ZONES	  64
#define RULES_MAX_MEMBERS 1024

/* A zone and one of its countries. */
struct member {
	int64_t zone;
	char country[3];
};

struct zone {
	int64_t id;
	char code[65];
};

struct zone_rate {
	int64_t zone;
	struct tax_rate r;
};

struct rules {
	int valid;
	struct timespec loaded; /* CLOCK_MONOTONIC */
	int64_t version;	/* rules_version's counter when read. */
	struct promotion promotions[PRICE_MAX_PROMOTIONS];
	size_t npromotions;
	struct zone_rate rates[RULES_MAX_RATES];
	size_t nrates;
	struct member members[RULES_MAX_MEMBERS]; /* In zone id order. */
	size_t nmembers;
	struct zone zones[RULES_MAX_ZONES];
	size_t nzones;
	int overflow; /* A table held more rows than the arrays. */
};

static _Thread_local struct rules cache;

/*
 * Promotions (kind 1), tax rates (kind 2) and zones with their countries
 * (kind 3) in one query, each part in id order (a LIMIT keeps a union
 * part's ORDER BY) and one row past what the arrays hold, to notice an
 * overflow, then the version counter (kind 4) the triggers of migration
 * 0012 move on every change to those tables: one statement, so the rows
 * and the version agree. A rate row: id, name, zone, tax category,
 * included, and its basis points in the last column. A zone row: id,
 * code, and a country where a promotion has its action. The version row:
 * the counter.
 */
/* clang-format off */
static const char sql_rules[] =
    "(SELECT 1, CAST(id AS SIGNED), name, CAST(priority AS SIGNED), "
	"CAST(exclusive AS SIGNED), CAST(coupon_based AS SIGNED), "
	"CAST(COALESCE(usage_limit, 0) AS SIGNED), CAST(used AS SIGNED), "
	"CAST(COALESCE(UNIX_TIMESTAMP(starts_at), 0) AS SIGNED), "
	"CAST(COALESCE(UNIX_TIMESTAMP(ends_at), 0) AS SIGNED), "
	"CAST(COALESCE(rule_min_item_total, 0) AS SIGNED), "
	"CAST(COALESCE(rule_min_quantity, 0) AS SIGNED), action, "
	"CAST(action_amount AS SIGNED), CAST(action_bp AS SIGNED) "
    "FROM promotions ORDER BY id LIMIT 33) "
    "UNION ALL "
    "(SELECT 2, CAST(id AS SIGNED), name, CAST(zone_id AS SIGNED), "
	"CAST(tax_category_id AS SIGNED), CAST(included AS SIGNED), NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, CAST(bp AS SIGNED) "
    "FROM tax_rates ORDER BY id LIMIT 129) "
    "UNION ALL "
    "(SELECT 3, CAST(z.id AS SIGNED), z.code, NULL, NULL, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, COALESCE(zc.country_code, ''), "
	"NULL, NULL "
    "FROM zones z LEFT JOIN zone_countries zc ON zc.zone_id = z.id "
    "ORDER BY z.id, zc.country_code LIMIT 1089) "
    "UNION ALL "
    "(SELECT 4, CAST(version AS SIGNED), NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM rules_version WHERE id = 1)";
/* clang-format on */

static enum err
rate_row(struct rules *r, const struct db_val *c)
{
	struct zone_rate *z;

	if (r->nrates == RULES_MAX_RATES) {
		r->overflow = 1;
		return ERR_OK;
	}
	z = &r->rates[r->nrates++];
	z->zone = c[2].i;
	z->r.id = c[0].i;
	z->r.category = c[3].type == DB_I64 ? c[3].i : 0;
	z->r.bp = c[13].i;
	z->r.included = c[4].i != 0;
	snprintf(z->r.name, sizeof(z->r.name), "%s", c[1].s);
	return ERR_OK;
}

/* A zone with one of its countries ("" when it has none); rows come in
 * zone id order. */
static enum err
zone_row(struct rules *r, const struct db_val *c)
{
	struct member *m;

	if (r->nzones == 0 || r->zones[r->nzones - 1].id != c[0].i) {
		if (r->nzones == RULES_MAX_ZONES) {
			r->overflow = 1;
			return ERR_OK;
		}
		r->zones[r->nzones].id = c[0].i;
		snprintf(r->zones[r->nzones].code,
			 sizeof(r->zones[r->nzones].code), "%s", c[1].s);
		r->nzones++;
	}
	if (c[11].s[0] == '\0')
		return ERR_OK;
	if (r->nmembers == RULES_MAX_MEMBERS) {
		r->overflow = 1;
		return ERR_OK;
	}
	m = &r->members[r->nmembers++];
	m->zone = c[0].i;
	snprintf(m->country, sizeof(m->country), "%s", c[11].s);
	return ERR_OK;
}

static enum err
rule_row(void *arg, const struct db_val *all, size_t n)
{
	struct rules *r = arg;
	const struct db_val *c = all + 1; /* After the kind. */
	struct promotion *p;

	if (n != 15 || all[0].type != DB_I64)
		return ERR_INTERNAL;
	if (all[0].i == 2)
		return rate_row(r, c);
	if (all[0].i == 3)
		return zone_row(r, c);
	if (all[0].i == 4) {
		r->version = c[0].i;
		return ERR_OK;
	}
	if (r->npromotions == PRICE_MAX_PROMOTIONS) {
		r->overflow = 1;
		return ERR_OK;
	}
	p = &r->promotions[r->npromotions++];
	memset(p, 0, sizeof(*p));
	p->id = c[0].i;
	snprintf(p->name, sizeof(p->name), "%s", c[1].s);
	p->priority = (int)c[2].i;
	p->exclusive = c[3].i != 0;
	p->coupon_required = c[4].i != 0;
	p->usage_limit = c[5].i;
	p->used = c[6].i;
	p->starts_at = c[7].i;
	p->ends_at = c[8].i;
	p->min_item_total = c[9].i;
	p->min_quantity = c[10].i;
	if (strcmp(c[11].s, "order_percentage_discount") == 0)
		p->action = PROMO_ORDER_PERCENTAGE;
	else if (strcmp(c[11].s, "shipping_percentage_discount") == 0)
		p->action = PROMO_SHIPPING_PERCENTAGE;
	else
		p->action = PROMO_ORDER_FIXED;
	p->amount = c[12].i;
	p->bp = c[13].i;
	return ERR_OK;
}

/* Whether the copy is current: no change since it was read (version, as
 * the chain read it with the order), and not older than rules_ttl. */
static int
fresh(const struct rules *r, int64_t version)
{
	struct timespec now;
	int64_t ttl = config_int("checkout.rules_ttl");

	if (!r->valid || ttl <= 0 || version != r->version)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - r->loaded.tv_sec < ttl;
}

static enum err
reload(struct db *db, struct rules *r)
{
	enum err e;

	r->valid = 0;
	r->npromotions = r->nrates = r->nmembers = r->nzones = 0;
	r->overflow = 0;
	r->version = 0;
	e = db_query(db, sql_rules, NULL, 0, rule_row, r);
	if (e != ERR_OK)
		return e;
	if (r->overflow) {
		log_error("more than %d promotions, %d tax rates, %d zones or "
			  "%d zone countries: not supported",
			  PRICE_MAX_PROMOTIONS, RULES_MAX_RATES,
			  RULES_MAX_ZONES, RULES_MAX_MEMBERS);
		return ERR_INTERNAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->loaded);
	r->valid = 1;
	return ERR_OK;
}

/* The first (lowest id) zone holding country, or 0. */
static int64_t
zone_of(const struct rules *r, const char *country)
{
	size_t i;

	for (i = 0; country[0] != '\0' && i < r->nmembers; i++)
		if (strcmp(r->members[i].country, country) == 0)
			return r->members[i].zone;
	return 0;
}

enum err
rules_load(struct db *db, int64_t version, const char *ship_country,
	   const char *bill_country, struct price_order *o)
{
	struct rules *r = &cache;
	const char *fallback = config_str("checkout.default_tax_zone");
	int64_t zone;
	enum err e;
	size_t i;

	if (!fresh(r, version)) {
		e = reload(db, r);
		if (e != ERR_OK)
			return e;
	}
	zone = zone_of(r, ship_country);
	if (zone == 0)
		zone = zone_of(r, bill_country);
	for (i = 0; zone == 0 && i < r->nzones; i++)
		if (strcmp(r->zones[i].code, fallback) == 0)
			zone = r->zones[i].id;
	memcpy(o->promotions, r->promotions,
	       r->npromotions * sizeof(r->promotions[0]));
	o->npromotions = r->npromotions;
	o->nrates = 0;
	for (i = 0; i < r->nrates; i++) {
		if (r->rates[i].zone != zone || zone == 0)
			continue;
		if (o->nrates == PRICE_MAX_RATES) {
			log_error("zone %lld has more than %d tax rates",
				  (long long)zone, PRICE_MAX_RATES);
			return ERR_INTERNAL;
		}
		o->rates[o->nrates++] = r->rates[i].r;
	}
	return ERR_OK;
}
