#include "order_number.h"

#include <stdio.h>
#include <string.h>

static const char sql_take[] =
    "INSERT INTO order_numbers (order_id) VALUES (?)";
static const char sql_set_number[] =
    "UPDATE orders SET number = ? WHERE id = ?";

void
order_number_format(int64_t n, char out[ORDER_NUMBER_LEN])
{
	snprintf(out, ORDER_NUMBER_LEN, "%09lld", (long long)n);
}

enum err
order_number_assign(struct db *db, int64_t order_id, char out[ORDER_NUMBER_LEN])
{
	struct db_val p[2];
	int64_t n = 0;
	enum err e;

	/* The row's own key: nothing another order writes, on any node. */
	p[0] = DB_I(order_id);
	e = db_insert(db, sql_take, p, 1, &n);
	if (e != ERR_OK)
		return e;
	if (n <= 0)
		return ERR_INTERNAL;
	order_number_format(n, out);
	p[0] = DB_S(out);
	p[1] = DB_I(order_id);
	return db_exec(db, sql_set_number, p, 2, NULL);
}
