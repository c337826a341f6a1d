/*
 * Money: int64 counts of minor units, never a double. Rounding and
 * distribution live here, with table tests (t/unit/test_money.c).
 */
#ifndef CHECKOUTD_MONEY_H
#define CHECKOUTD_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* num / den rounded half away from zero; den > 0. */
int64_t money_div_round(int64_t num, int64_t den);

/*
 * Splits amount over n shares in proportion to weights (all >= 0, their sum
 * > 0): each share is floor(amount * w / sum) toward zero, and the cents
 * left over go one each to the first shares with a positive weight. The
 * shares add up to amount exactly, and no share exceeds its weight in
 * magnitude when |amount| <= sum.
 */
void money_distribute(int64_t amount, const int64_t *weights, size_t n,
		      int64_t *out);

/* amount * bp / 10000, rounded half away from zero (bp: basis points). */
int64_t money_bp(int64_t amount, int64_t bp);

/* A rate in basis points as a percentage label: 2000 -> "20", 550 ->
 * "5.5", 1 -> "0.01". */
void money_bp_label(int64_t bp, char *out, size_t len);

#endif
