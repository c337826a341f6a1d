/*
 * The processor chain (SPEC 1, "Totals"), as a pure function: item prices
 * -> shipping charges -> promotions (order, then shipping) -> taxes ->
 * totals. It never touches the database or the network: the caller loads
 * the order, its method, the promotions and the zone's tax rates into a
 * struct price_order, and stores what comes out.
 */
#ifndef CHECKOUTD_PRICING_H
#define CHECKOUTD_PRICING_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PRICE_MAX_ITEMS	     100
#define PRICE_MAX_ITEM_ADJ   8
#define PRICE_MAX_ORDER_ADJ  8
#define PRICE_MAX_PROMOTIONS 32
#define PRICE_MAX_RATES	     32
#define PRICE_LABEL	     128

enum adj_type {
	ADJ_SHIPPING,
	ADJ_SHIPPING_PROMOTION,
	ADJ_ORDER_PROMOTION,
	ADJ_TAX,
	ADJ__MAX
};

/* "shipping", "shipping_promotion", "order_promotion", "tax". */
extern const char *const adj_type_names[ADJ__MAX];

struct adjustment {
	enum adj_type type;
	char label[PRICE_LABEL];
	int64_t amount;
	int neutral;	   /* Tax included in the price: not added. */
	int64_t origin_id; /* Promotion, tax rate or shipping method. */
};

enum calculator {
	CALC_FLAT_RATE,
	CALC_PER_UNIT_RATE,
	CALC_FLEXIBLE_RATE,
	CALC_CARRIER,
	CALC__MAX
};

/* "flat_rate", "per_unit_rate", "flexible_rate", "carrier". */
extern const char *const calculator_names[CALC__MAX];

struct shipping_method {
	int64_t id;
	char name[PRICE_LABEL];
	enum calculator calc;
	int64_t amount;		 /* flat_rate, per_unit_rate. */
	int64_t first_item_cost; /* flexible_rate. */
	int64_t additional_item_cost;
	int64_t additional_item_limit; /* 0: no cap. */
	int64_t carrier_price;	       /* carrier: the stored quote. */
	int64_t tax_category;	       /* 0: shipping is not taxed. */
};

/* The calculator named s ("flat_rate", ...); CALC_FLAT_RATE when unknown. */
enum calculator calculator_parse(const char *s);
/* The charge of method m for a shipment of units units. */
int64_t shipping_charge(const struct shipping_method *m, int64_t units);

struct tax_rate {
	int64_t id;
	int64_t category;
	int64_t bp; /* Basis points: 2000 = 20 %. */
	int included;
	char name[64]; /* "VAT" -> label "VAT (20%)". */
};

enum promo_action {
	PROMO_ORDER_FIXED,
	PROMO_ORDER_PERCENTAGE,
	PROMO_SHIPPING_PERCENTAGE
};

struct promotion {
	int64_t id;
	char name[PRICE_LABEL];
	int priority; /* Higher first. */
	int exclusive;
	/* Rules; 0 means "no such rule". */
	int64_t min_item_total; /* item_total >= X, before promotions. */
	int64_t min_quantity;	/* cart_quantity >= N. */
	int coupon_required;	/* Needs the order's coupon to be its own. */
	int coupon_applied;	/* The order carries one of its coupons. */
	int64_t starts_at, ends_at; /* Unix seconds; 0: open. */
	int64_t usage_limit, used;  /* Completed, non-cancelled orders. */
	int64_t coupon_usage_limit, coupon_used;
	/* Action. */
	enum promo_action action;
	int64_t amount; /* Fixed discount in minor units. */
	int64_t bp;	/* Percentage in basis points. */
};

struct price_item {
	int64_t id;
	int64_t unit_price;
	int64_t quantity;
	int64_t tax_category; /* 0: not taxed. */
	int needs_shipping;
	int immutable; /* Placed at a given price: never repriced. */
	/* Out. */
	struct adjustment adj[PRICE_MAX_ITEM_ADJ];
	size_t nadj;
	int64_t adjustments_total;
	int64_t total;
};

struct price_order {
	struct price_item items[PRICE_MAX_ITEMS];
	size_t nitems;
	int has_shipment;
	struct shipping_method method; /* When has_shipment. */
	struct promotion promotions[PRICE_MAX_PROMOTIONS];
	size_t npromotions;
	struct tax_rate rates[PRICE_MAX_RATES]; /* Of the order's tax zone. */
	size_t nrates;
	int64_t now; /* Unix seconds, for promotion windows. */
	/* Out. */
	struct adjustment adj[PRICE_MAX_ORDER_ADJ];
	size_t nadj;
	int64_t items_total, adjustments_total, tax_total, shipping_total,
	    promotion_total, total;
	int64_t applied[PRICE_MAX_PROMOTIONS]; /* Ids of applied promotions. */
	size_t napplied;
};

/* Units of the order that need shipping. */
int64_t pricing_shipping_units(const struct price_order *o);
/* Whether promotion p's rules hold for o (item total before promotions). */
int pricing_promotion_eligible(const struct price_order *o,
			       const struct promotion *p);
/*
 * Runs the chain over o, replacing every output field. An order whose items
 * are all immutable gets no shipping charge, promotion or tax. Errors:
 * ERR_VALIDATION_FAILED when a total would overflow.
 */
enum err pricing_compute(struct price_order *o);

#endif
