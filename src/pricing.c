#include "pricing.h"

#include <stdio.h>
#include <string.h>

#include "money.h"

const char *const adj_type_names[ADJ__MAX] = {"shipping", "shipping_promotion",
					      "order_promotion", "tax"};

const char *const calculator_names[CALC__MAX] = {"flat_rate", "per_unit_rate",
						 "flexible_rate", "carrier"};

/* Amounts stay far below 2^63 so that amount * bp cannot overflow. */
#define MONEY_MAX ((int64_t)1 << 50)

enum calculator
calculator_parse(const char *s)
{
	int i;

	for (i = 0; i < CALC__MAX; i++)
		if (strcmp(s, calculator_names[i]) == 0)
			return (enum calculator)i;
	return CALC_FLAT_RATE;
}

int64_t
shipping_charge(const struct shipping_method *m, int64_t units)
{
	int64_t extra;

	if (units <= 0)
		return 0;
	switch (m->calc) {
	case CALC_FLAT_RATE:
		return m->amount;
	case CALC_PER_UNIT_RATE:
		return m->amount * units;
	case CALC_FLEXIBLE_RATE:
		extra = units - 1;
		if (m->additional_item_limit > 0 &&
		    extra > m->additional_item_limit)
			extra = m->additional_item_limit;
		return m->first_item_cost + extra * m->additional_item_cost;
	case CALC_CARRIER:
		return m->carrier_price;
	default:
		return 0;
	}
}

int64_t
pricing_shipping_units(const struct price_order *o)
{
	int64_t units = 0;
	size_t i;

	for (i = 0; i < o->nitems; i++)
		if (o->items[i].needs_shipping)
			units += o->items[i].quantity;
	return units;
}

static int64_t
subtotal(const struct price_item *it)
{
	return it->unit_price * it->quantity;
}

int
pricing_promotion_eligible(const struct price_order *o,
			   const struct promotion *p)
{
	int64_t item_total = 0, quantity = 0;
	size_t i;

	for (i = 0; i < o->nitems; i++) {
		item_total += subtotal(&o->items[i]);
		quantity += o->items[i].quantity;
	}
	if (p->starts_at != 0 && o->now < p->starts_at)
		return 0;
	if (p->ends_at != 0 && o->now >= p->ends_at)
		return 0;
	if (p->usage_limit > 0 && p->used >= p->usage_limit)
		return 0;
	if (p->coupon_required) {
		if (!p->coupon_applied)
			return 0;
		if (p->coupon_usage_limit > 0 &&
		    p->coupon_used >= p->coupon_usage_limit)
			return 0;
	}
	if (p->min_item_total > 0 && item_total < p->min_item_total)
		return 0;
	if (p->min_quantity > 0 && quantity < p->min_quantity)
		return 0;
	return 1;
}

static struct adjustment *
add_adj(struct adjustment *list, size_t *n, size_t max, enum adj_type type,
	const char *label, int64_t amount, int neutral, int64_t origin)
{
	struct adjustment *a;

	if (*n >= max)
		return NULL;
	a = &list[(*n)++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	snprintf(a->label, sizeof(a->label), "%s", label);
	a->amount = amount;
	a->neutral = neutral;
	a->origin_id = origin;
	return a;
}

/* Item total so far: subtotal plus its non-neutral adjustments. */
static int64_t
item_current(const struct price_item *it)
{
	int64_t t = subtotal(it);
	size_t i;

	for (i = 0; i < it->nadj; i++)
		if (!it->adj[i].neutral)
			t += it->adj[i].amount;
	return t < 0 ? 0 : t;
}

static int64_t
order_adj_sum(const struct price_order *o, enum adj_type type)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < o->nadj; i++)
		if (o->adj[i].type == type && !o->adj[i].neutral)
			t += o->adj[i].amount;
	return t;
}

/* Spreads an order discount (negative) over the items. */
static enum err
apply_order_discount(struct price_order *o, const struct promotion *p,
		     int64_t discount)
{
	int64_t weights[PRICE_MAX_ITEMS], shares[PRICE_MAX_ITEMS];
	size_t i;

	for (i = 0; i < o->nitems; i++)
		weights[i] = item_current(&o->items[i]);
	money_distribute(-discount, weights, o->nitems, shares);
	for (i = 0; i < o->nitems; i++) {
		struct price_item *it = &o->items[i];

		if (shares[i] == 0)
			continue;
		if (add_adj(it->adj, &it->nadj, PRICE_MAX_ITEM_ADJ,
			    ADJ_ORDER_PROMOTION, p->name, -shares[i], 0,
			    p->id) == NULL)
			return ERR_INTERNAL;
	}
	return ERR_OK;
}

static enum err
apply_promotion(struct price_order *o, const struct promotion *p)
{
	int64_t base = 0, discount;
	size_t i;

	if (p->action == PROMO_SHIPPING_PERCENTAGE) {
		base = order_adj_sum(o, ADJ_SHIPPING) +
		       order_adj_sum(o, ADJ_SHIPPING_PROMOTION);
		discount = money_bp(base, p->bp);
		if (discount > base)
			discount = base;
		if (discount <= 0)
			return ERR_OK;
		return add_adj(o->adj, &o->nadj, PRICE_MAX_ORDER_ADJ,
			       ADJ_SHIPPING_PROMOTION, p->name, -discount, 0,
			       p->id) != NULL
			   ? ERR_OK
			   : ERR_INTERNAL;
	}
	for (i = 0; i < o->nitems; i++)
		base += item_current(&o->items[i]);
	discount =
	    p->action == PROMO_ORDER_FIXED ? p->amount : money_bp(base, p->bp);
	/* A discount never makes a total negative. */
	if (discount > base)
		discount = base;
	if (discount <= 0)
		return ERR_OK;
	return apply_order_discount(o, p, -discount);
}

/*
 * Which promotions apply is decided in descending priority (lower id first
 * on a tie): each eligible one applies, and an exclusive one that applies
 * stops every lower one, of either kind. Eligibility reads the order before
 * any discount, so the choice does not depend on the order of application.
 * Then order discounts are applied, then shipping discounts (SPEC 1).
 */
static enum err
run_promotions(struct price_order *o)
{
	size_t order[PRICE_MAX_PROMOTIONS], chosen[PRICE_MAX_PROMOTIONS];
	size_t i, j, nchosen = 0;
	enum err e;

	for (i = 0; i < o->npromotions; i++) {
		const struct promotion *p = &o->promotions[i];

		for (j = i; j > 0; j--) {
			const struct promotion *q =
			    &o->promotions[order[j - 1]];

			if (q->priority > p->priority ||
			    (q->priority == p->priority && q->id < p->id))
				break;
			order[j] = order[j - 1];
		}
		order[j] = i;
	}
	for (i = 0; i < o->npromotions; i++) {
		const struct promotion *p = &o->promotions[order[i]];

		if (!pricing_promotion_eligible(o, p))
			continue;
		chosen[nchosen++] = order[i];
		o->applied[o->napplied++] = p->id;
		if (p->exclusive)
			break;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < nchosen; i++) {
			const struct promotion *p = &o->promotions[chosen[i]];

			if ((p->action == PROMO_SHIPPING_PERCENTAGE) != pass)
				continue;
			e = apply_promotion(o, p);
			if (e != ERR_OK)
				return e;
		}
	}
	return ERR_OK;
}

static const struct tax_rate *
rate_for(const struct price_order *o, int64_t category)
{
	size_t i;

	if (category == 0)
		return NULL;
	for (i = 0; i < o->nrates; i++)
		if (o->rates[i].category == category)
			return &o->rates[i];
	return NULL;
}

/* The tax of base at rate r, and whether it is included (neutral). */
static int64_t
tax_of(int64_t base, const struct tax_rate *r)
{
	if (r->included)
		return money_div_round(base * r->bp, 10000 + r->bp);
	return money_bp(base, r->bp);
}

static void
tax_label(const struct tax_rate *r, char *out, size_t len)
{
	char pct[32];

	money_bp_label(r->bp, pct, sizeof(pct));
	snprintf(out, len, "%s (%s%%)", r->name, pct);
}

static enum err
run_taxes(struct price_order *o)
{
	const struct tax_rate *r;
	char label[PRICE_LABEL];
	int64_t base, tax;
	size_t i;

	for (i = 0; i < o->nitems; i++) {
		struct price_item *it = &o->items[i];

		r = rate_for(o, it->tax_category);
		if (r == NULL)
			continue;
		tax = tax_of(item_current(it), r);
		if (tax == 0)
			continue; /* A zero tax adds no adjustment. */
		tax_label(r, label, sizeof(label));
		if (add_adj(it->adj, &it->nadj, PRICE_MAX_ITEM_ADJ, ADJ_TAX,
			    label, tax, r->included, r->id) == NULL)
			return ERR_INTERNAL;
	}
	if (!o->has_shipment)
		return ERR_OK;
	r = rate_for(o, o->method.tax_category);
	base = order_adj_sum(o, ADJ_SHIPPING) +
	       order_adj_sum(o, ADJ_SHIPPING_PROMOTION);
	if (r == NULL || base <= 0)
		return ERR_OK;
	tax = tax_of(base, r);
	if (tax == 0)
		return ERR_OK;
	tax_label(r, label, sizeof(label));
	return add_adj(o->adj, &o->nadj, PRICE_MAX_ORDER_ADJ, ADJ_TAX, label,
		       tax, r->included, r->id) != NULL
		   ? ERR_OK
		   : ERR_INTERNAL;
}

static void
run_totals(struct price_order *o)
{
	size_t i, j;

	o->items_total = o->adjustments_total = o->tax_total = 0;
	o->promotion_total = 0;
	for (i = 0; i < o->nitems; i++) {
		struct price_item *it = &o->items[i];

		it->adjustments_total = 0;
		for (j = 0; j < it->nadj; j++) {
			const struct adjustment *a = &it->adj[j];

			if (a->type == ADJ_TAX)
				o->tax_total += a->amount;
			if (a->type == ADJ_ORDER_PROMOTION)
				o->promotion_total += a->amount;
			if (!a->neutral)
				it->adjustments_total += a->amount;
		}
		it->total = subtotal(it) + it->adjustments_total;
		if (it->total < 0)
			it->total = 0;
		o->items_total += it->total;
	}
	o->shipping_total = 0;
	for (i = 0; i < o->nadj; i++) {
		const struct adjustment *a = &o->adj[i];

		if (a->type == ADJ_TAX)
			o->tax_total += a->amount;
		if (a->type == ADJ_SHIPPING_PROMOTION)
			o->promotion_total += a->amount;
		if (!a->neutral) {
			o->adjustments_total += a->amount;
			o->shipping_total += a->amount;
		}
	}
	o->total = o->items_total + o->adjustments_total;
	if (o->total < 0)
		o->total = 0;
}

enum err
pricing_compute(struct price_order *o)
{
	int all_immutable = o->nitems > 0;
	size_t i;
	enum err e;

	if (o->nitems > PRICE_MAX_ITEMS ||
	    o->npromotions > PRICE_MAX_PROMOTIONS ||
	    o->nrates > PRICE_MAX_RATES)
		return ERR_INTERNAL;
	o->nadj = 0;
	o->napplied = 0;
	for (i = 0; i < o->nitems; i++) {
		struct price_item *it = &o->items[i];

		it->nadj = 0;
		if (it->unit_price < 0 || it->quantity < 0 ||
		    it->unit_price > MONEY_MAX / 10000 || it->quantity > 9999)
			return ERR_VALIDATION_FAILED;
		if (!it->immutable)
			all_immutable = 0;
	}
	if (!all_immutable) {
		if (o->has_shipment) {
			int64_t c = shipping_charge(&o->method,
						    pricing_shipping_units(o));

			if (c < 0 || c > MONEY_MAX / 10000)
				return ERR_VALIDATION_FAILED;
			if (add_adj(o->adj, &o->nadj, PRICE_MAX_ORDER_ADJ,
				    ADJ_SHIPPING, o->method.name, c, 0,
				    o->method.id) == NULL)
				return ERR_INTERNAL;
		}
		e = run_promotions(o);
		if (e == ERR_OK)
			e = run_taxes(o);
		if (e != ERR_OK)
			return e;
	}
	run_totals(o);
	if (o->items_total > MONEY_MAX || o->total > MONEY_MAX)
		return ERR_VALIDATION_FAILED;
	return ERR_OK;
}
