#include "money.h"

#include <stdio.h>

int64_t
money_div_round(int64_t num, int64_t den)
{
	int64_t q = num / den, r = num % den;

	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return q;
}

void
money_distribute(int64_t amount, const int64_t *weights, size_t n, int64_t *out)
{
	int64_t sum = 0, given = 0, left, step;
	size_t i;

	for (i = 0; i < n; i++)
		sum += weights[i];
	for (i = 0; i < n; i++) {
		/* Widen: amount * weight can pass 2^63 for large orders. */
		__int128 v = (__int128)amount * weights[i];

		out[i] = sum > 0 ? (int64_t)(v / sum) : 0;
		given += out[i];
	}
	/* Each share with a positive weight lost less than one cent, so one
	 * pass over them hands out what is left. */
	left = amount - given;
	step = left < 0 ? -1 : 1;
	for (i = 0; left != 0 && i < n; i++) {
		if (weights[i] <= 0)
			continue;
		out[i] += step;
		left -= step;
	}
}

int64_t
money_bp(int64_t amount, int64_t bp)
{
	return money_div_round(amount * bp, 10000);
}

void
money_bp_label(int64_t bp, char *out, size_t len)
{
	if (bp % 100 == 0)
		snprintf(out, len, "%lld", (long long)(bp / 100));
	else if (bp % 10 == 0)
		snprintf(out, len, "%lld.%lld", (long long)(bp / 100),
			 (long long)(bp % 100 / 10));
	else
		snprintf(out, len, "%lld.%02lld", (long long)(bp / 100),
			 (long long)(bp % 100));
}
