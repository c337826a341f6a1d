/*
 * The processor chain: calculators, taxes, promotions and totals, with the
 * minor-unit results worked out by hand, SPEC 1's two examples among them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pricing.h"

static void
test_calculators(void **state)
{
	static const struct {
		enum calculator calc;
		int64_t amount, first, additional, limit, carrier, units, want;
	} rows[] = {
	    {CALC_FLAT_RATE, 500, 0, 0, 0, 0, 1, 500},
	    {CALC_FLAT_RATE, 500, 0, 0, 0, 0, 7, 500},
	    {CALC_FLAT_RATE, 500, 0, 0, 0, 0, 0, 0},
	    {CALC_PER_UNIT_RATE, 300, 0, 0, 0, 0, 4, 1200},
	    {CALC_PER_UNIT_RATE, 300, 0, 0, 0, 0, 0, 0},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 10, 0, 1, 4000},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 10, 0, 3, 5000},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 10, 0, 11, 9000},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 10, 0, 20, 9000},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 0, 0, 20, 13500},
	    {CALC_FLEXIBLE_RATE, 0, 4000, 500, 10, 0, 0, 0},
	    {CALC_CARRIER, 0, 0, 0, 0, 1234, 2, 1234},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct shipping_method m = {
		    .calc = rows[i].calc,
		    .amount = rows[i].amount,
		    .first_item_cost = rows[i].first,
		    .additional_item_cost = rows[i].additional,
		    .additional_item_limit = rows[i].limit,
		    .carrier_price = rows[i].carrier,
		};

		if (shipping_charge(&m, rows[i].units) != rows[i].want)
			fail_msg("row %zu: %lld, want %lld", i,
				 (long long)shipping_charge(&m, rows[i].units),
				 (long long)rows[i].want);
	}
}

/* A fresh order on the heap (the struct is large). */
static struct price_order *
order(void)
{
	struct price_order *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	o->now = 1700000000;
	return o;
}

static void
item(struct price_order *o, int64_t price, int64_t qty, int64_t cat, int ship)
{
	struct price_item *it = &o->items[o->nitems];

	it->id = (int64_t)o->nitems + 1;
	it->unit_price = price;
	it->quantity = qty;
	it->tax_category = cat;
	it->needs_shipping = ship;
	o->nitems++;
}

static void
rate(struct price_order *o, int64_t cat, int64_t bp, int included)
{
	struct tax_rate *r = &o->rates[o->nrates];

	r->id = (int64_t)o->nrates + 1;
	r->category = cat;
	r->bp = bp;
	r->included = included;
	snprintf(r->name, sizeof(r->name), "VAT");
	o->nrates++;
}

static struct promotion *
promo(struct price_order *o, enum promo_action action, int64_t amount,
      int64_t bp)
{
	struct promotion *p = &o->promotions[o->npromotions];

	p->id = (int64_t)o->npromotions + 1;
	snprintf(p->name, sizeof(p->name), "Promotion %lld", (long long)p->id);
	p->action = action;
	p->amount = amount;
	p->bp = bp;
	o->npromotions++;
	return p;
}

static void
ship(struct price_order *o, enum calculator calc, int64_t amount,
     int64_t tax_category)
{
	o->has_shipment = 1;
	o->method.id = 7;
	snprintf(o->method.name, sizeof(o->method.name), "Courier");
	o->method.calc = calc;
	o->method.amount = amount;
	o->method.tax_category = tax_category;
}

static void
compute(struct price_order *o)
{
	assert_int_equal(pricing_compute(o), ERR_OK);
}

/* Seed 004: 3 x 500000, flexible 4000/500/10, -250, 0 % tax. */
static void
test_seed_004_example(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 500000, 3, 1, 1);
	ship(o, CALC_FLEXIBLE_RATE, 0, 1);
	o->method.first_item_cost = 4000;
	o->method.additional_item_cost = 500;
	o->method.additional_item_limit = 10;
	promo(o, PROMO_ORDER_FIXED, 250, 0);
	rate(o, 1, 0, 0);
	compute(o);
	assert_int_equal(o->items_total, 1499750);
	assert_int_equal(o->adjustments_total, 5000);
	assert_int_equal(o->total, 1504750);
	assert_int_equal(o->shipping_total, 5000);
	assert_int_equal(o->promotion_total, -250);
	assert_int_equal(o->tax_total, 0);
	/* The promotion sits on the item; a zero tax adds nothing. */
	assert_int_equal(o->items[0].nadj, 1);
	assert_int_equal(o->items[0].adj[0].type, ADJ_ORDER_PROMOTION);
	assert_int_equal(o->items[0].adj[0].amount, -250);
	assert_int_equal(o->items[0].total, 1499750);
	assert_int_equal(o->nadj, 1);
	assert_int_equal(o->adj[0].type, ADJ_SHIPPING);
	assert_int_equal(o->adj[0].amount, 5000);
	assert_string_equal(o->adj[0].label, "Courier");
	free(o);
}

/* Sylius: items 0 and 10000, 10 % on top, 500 off -> tax 950, 10450. */
static void
test_sylius_free_product_example(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 0, 1, 1, 0);
	item(o, 10000, 1, 1, 0);
	rate(o, 1, 1000, 0);
	promo(o, PROMO_ORDER_FIXED, 500, 0);
	compute(o);
	assert_int_equal(o->items[0].nadj, 0);
	assert_int_equal(o->items[0].total, 0);
	assert_int_equal(o->items[1].nadj, 2);
	assert_int_equal(o->items[1].adj[0].amount, -500);
	assert_int_equal(o->items[1].adj[1].type, ADJ_TAX);
	assert_int_equal(o->items[1].adj[1].amount, 950);
	assert_string_equal(o->items[1].adj[1].label, "VAT (10%)");
	assert_int_equal(o->tax_total, 950);
	assert_int_equal(o->items_total, 10450);
	assert_int_equal(o->total, 10450);
	free(o);
}

static void
test_taxes(void **state)
{
	static const struct {
		int64_t price, qty, bp;
		int included;
		int64_t tax, item_total;
	} rows[] = {
	    {12000, 1, 2000, 1, 2000, 12000}, /* Included: recorded only. */
	    {1000, 1, 2000, 1, 167, 1000},    /* 166.67 -> 167. */
	    {1000, 1, 2000, 0, 200, 1200},
	    {1999, 1, 2000, 0, 400, 2399}, /* 399.8 -> 400. */
	    {333, 3, 550, 0, 55, 1054},	   /* 999 x 5.5 % = 54.945. */
	    {100, 1, 1, 0, 0, 100},	   /* 0.01 -> 0: no adjustment. */
	    {1025, 1, 1000, 0, 103, 1128}, /* 102.5 -> 103: half away from 0. */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct price_order *o = order();

		item(o, rows[i].price, rows[i].qty, 1, 0);
		rate(o, 1, rows[i].bp, rows[i].included);
		compute(o);
		if (o->tax_total != rows[i].tax ||
		    o->items[0].total != rows[i].item_total)
			fail_msg("row %zu: tax %lld total %lld", i,
				 (long long)o->tax_total,
				 (long long)o->items[0].total);
		assert_int_equal(o->items[0].nadj, rows[i].tax != 0);
		if (rows[i].tax != 0)
			assert_int_equal(o->items[0].adj[0].neutral,
					 rows[i].included);
		assert_int_equal(o->total, rows[i].item_total);
		free(o);
	}
}

/* An item whose category has no rate in the zone is untaxed. */
static void
test_tax_category_without_rate(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 1000, 1, 2, 0);
	item(o, 1000, 1, 0, 0);
	rate(o, 1, 2000, 0);
	compute(o);
	assert_int_equal(o->tax_total, 0);
	assert_int_equal(o->total, 2000);
	free(o);
}

static void
test_shipping_tax(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 1000, 1, 1, 1);
	rate(o, 1, 1000, 0);
	ship(o, CALC_FLAT_RATE, 500, 1);
	compute(o);
	assert_int_equal(o->items_total, 1100);
	assert_int_equal(o->nadj, 2);
	assert_int_equal(o->adj[1].type, ADJ_TAX);
	assert_int_equal(o->adj[1].amount, 50);
	assert_int_equal(o->adjustments_total, 550);
	assert_int_equal(o->shipping_total, 550);
	assert_int_equal(o->tax_total, 150);
	assert_int_equal(o->total, 1650);
	/* Untaxed shipping method: no shipping tax. */
	o->method.tax_category = 0;
	compute(o);
	assert_int_equal(o->total, 1600);
	free(o);
}

/* Only units that need shipping count. */
static void
test_shipping_units(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 100, 2, 0, 1);
	item(o, 100, 5, 0, 0);
	ship(o, CALC_PER_UNIT_RATE, 300, 0);
	compute(o);
	assert_int_equal(pricing_shipping_units(o), 2);
	assert_int_equal(o->shipping_total, 600);
	assert_int_equal(o->total, 1300);
	free(o);
}

static void
test_threshold(void **state)
{
	static const int64_t rows[][3] = {
	    /* item price, discount taken, total */
	    {9999, 0, 9999},
	    {10000, 1000, 9000},
	    {25000, 2500, 22500},
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct price_order *o = order();
		struct promotion *p;

		item(o, rows[i][0], 1, 0, 0);
		p = promo(o, PROMO_ORDER_PERCENTAGE, 0, 1000);
		p->min_item_total = 10000;
		compute(o);
		assert_int_equal(o->promotion_total, -rows[i][1]);
		assert_int_equal(o->total, rows[i][2]);
		assert_int_equal(o->napplied, rows[i][1] != 0);
		free(o);
	}
}

/* 10 % of 6666 is 666.6 -> 667, spread 334 / 333. */
static void
test_percentage_rounding_and_spread(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 3333, 1, 0, 0);
	item(o, 3333, 1, 0, 0);
	promo(o, PROMO_ORDER_PERCENTAGE, 0, 1000);
	compute(o);
	assert_int_equal(o->items[0].adj[0].amount, -334);
	assert_int_equal(o->items[1].adj[0].amount, -333);
	assert_int_equal(o->items_total, 5999);
	assert_int_equal(o->total, 5999);
	free(o);
}

/* A fixed discount larger than the items stops at 0; shipping remains. */
static void
test_discount_cap(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 1000, 3, 0, 1);
	ship(o, CALC_FLAT_RATE, 500, 0);
	promo(o, PROMO_ORDER_FIXED, 5000, 0);
	compute(o);
	assert_int_equal(o->promotion_total, -3000);
	assert_int_equal(o->items_total, 0);
	assert_int_equal(o->total, 500);
	free(o);
}

static void
test_exclusivity(void **state)
{
	struct price_order *o = order();
	struct promotion *a, *b;

	(void)state;
	item(o, 10000, 1, 0, 0);
	a = promo(o, PROMO_ORDER_FIXED, 100, 0);
	b = promo(o, PROMO_ORDER_FIXED, 200, 0);
	a->priority = 10;
	a->exclusive = 1;
	b->priority = 5;
	compute(o);
	assert_int_equal(o->promotion_total, -100);
	assert_int_equal(o->napplied, 1);
	assert_int_equal(o->applied[0], a->id);
	/* The exclusive one lower down: both apply, in priority order. */
	a->exclusive = 0;
	b->exclusive = 1;
	compute(o);
	assert_int_equal(o->promotion_total, -300);
	assert_int_equal(o->napplied, 2);
	assert_int_equal(o->applied[0], a->id);
	/* An exclusive shipping promotion on top stops order promotions. */
	ship(o, CALC_FLAT_RATE, 1000, 0);
	o->items[0].needs_shipping = 1;
	b = promo(o, PROMO_SHIPPING_PERCENTAGE, 0, 5000);
	b->priority = 20;
	b->exclusive = 1;
	compute(o);
	assert_int_equal(o->promotion_total, -500);
	assert_int_equal(o->total, 10500);
	free(o);
}

static void
test_coupons_usage_and_window(void **state)
{
	static const struct {
		int required, applied;
		int64_t limit, used, climit, cused, starts, ends;
		int want;
	} rows[] = {
	    {1, 0, 0, 0, 0, 0, 0, 0, 0},	  /* No coupon on the order. */
	    {1, 1, 0, 0, 0, 0, 0, 0, 1},	  /* Its coupon. */
	    {1, 1, 0, 0, 1, 1, 0, 0, 0},	  /* Coupon used up. */
	    {1, 1, 0, 0, 2, 1, 0, 0, 1},	  /* Coupon has uses left. */
	    {0, 0, 2, 2, 0, 0, 0, 0, 0},	  /* Promotion used up. */
	    {0, 0, 2, 1, 0, 0, 0, 0, 1},	  /* One use left. */
	    {0, 0, 0, 0, 0, 0, 1700000001, 0, 0}, /* Not started. */
	    {0, 0, 0, 0, 0, 0, 1700000000, 0, 1}, /* Starts now. */
	    {0, 0, 0, 0, 0, 0, 0, 1700000000, 0}, /* Ended now. */
	    {0, 0, 0, 0, 0, 0, 0, 1700000001, 1}, /* Ends later. */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct price_order *o = order();
		struct promotion *p;

		item(o, 2000, 1, 0, 0);
		p = promo(o, PROMO_ORDER_FIXED, 500, 0);
		p->coupon_required = rows[i].required;
		p->coupon_applied = rows[i].applied;
		p->usage_limit = rows[i].limit;
		p->used = rows[i].used;
		p->coupon_usage_limit = rows[i].climit;
		p->coupon_used = rows[i].cused;
		p->starts_at = rows[i].starts;
		p->ends_at = rows[i].ends;
		compute(o);
		if (o->total != (rows[i].want ? 1500 : 2000))
			fail_msg("row %zu: total %lld", i, (long long)o->total);
		free(o);
	}
}

static void
test_min_quantity(void **state)
{
	struct price_order *o = order();
	struct promotion *p;

	(void)state;
	item(o, 1000, 2, 0, 0);
	p = promo(o, PROMO_ORDER_FIXED, 100, 0);
	p->min_quantity = 3;
	compute(o);
	assert_int_equal(o->total, 2000);
	o->items[0].quantity = 3;
	compute(o);
	assert_int_equal(o->total, 2900);
	free(o);
}

static void
test_shipping_percentage(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 1000, 1, 0, 1);
	ship(o, CALC_FLAT_RATE, 1000, 0);
	promo(o, PROMO_SHIPPING_PERCENTAGE, 0, 5000);
	compute(o);
	assert_int_equal(o->nadj, 2);
	assert_int_equal(o->adj[1].type, ADJ_SHIPPING_PROMOTION);
	assert_int_equal(o->adj[1].amount, -500);
	assert_int_equal(o->shipping_total, 500);
	assert_int_equal(o->promotion_total, -500);
	/* A second one discounts what is left: 100 % of 500, never below 0. */
	promo(o, PROMO_SHIPPING_PERCENTAGE, 0, 10000);
	compute(o);
	assert_int_equal(o->shipping_total, 0);
	assert_int_equal(o->total, 1000);
	free(o);
}

/* Items placed at a given price are not repriced: no shipping charge,
 * promotion or tax. */
static void
test_immutable_order(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, 2500, 2, 1, 1);
	o->items[0].immutable = 1;
	rate(o, 1, 2000, 0);
	ship(o, CALC_FLAT_RATE, 500, 1);
	promo(o, PROMO_ORDER_FIXED, 100, 0);
	compute(o);
	assert_int_equal(o->total, 5000);
	assert_int_equal(o->nadj, 0);
	assert_int_equal(o->items[0].nadj, 0);
	free(o);
}

static void
test_refusals(void **state)
{
	struct price_order *o = order();

	(void)state;
	item(o, -1, 1, 0, 0);
	assert_int_equal(pricing_compute(o), ERR_VALIDATION_FAILED);
	o->items[0].unit_price = (int64_t)1 << 60;
	assert_int_equal(pricing_compute(o), ERR_VALIDATION_FAILED);
	o->items[0].unit_price = 100;
	o->items[0].quantity = 10000;
	assert_int_equal(pricing_compute(o), ERR_VALIDATION_FAILED);
	/* An empty cart totals 0. */
	o->nitems = 0;
	compute(o);
	assert_int_equal(o->total, 0);
	free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calculators),
	    cmocka_unit_test(test_seed_004_example),
	    cmocka_unit_test(test_sylius_free_product_example),
	    cmocka_unit_test(test_taxes),
	    cmocka_unit_test(test_tax_category_without_rate),
	    cmocka_unit_test(test_shipping_tax),
	    cmocka_unit_test(test_shipping_units),
	    cmocka_unit_test(test_threshold),
	    cmocka_unit_test(test_percentage_rounding_and_spread),
	    cmocka_unit_test(test_discount_cap),
	    cmocka_unit_test(test_exclusivity),
	    cmocka_unit_test(test_coupons_usage_and_window),
	    cmocka_unit_test(test_min_quantity),
	    cmocka_unit_test(test_shipping_percentage),
	    cmocka_unit_test(test_immutable_order),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
