/*
 * Order numbers: 9 digits, unique, increasing on each database node, with
 * no row that every order writes (docs/scaling.md, "Order numbers"). A
 * number is the AUTO_INCREMENT of a row of its own in order_numbers,
 * which a Galera cluster interleaves by node (wsrep_auto_increment_control)
 * and one server runs 1, 2, 3, ...
 */
#ifndef CHECKOUTD_ORDER_NUMBER_H
#define CHECKOUTD_ORDER_NUMBER_H

#include <stdint.h>

#include "db.h"

/* Room for a number and its NUL: 9 digits until 999999999 is passed. */
#define ORDER_NUMBER_LEN 24

/*
 * Inside the placing transaction: takes the next number for order id and
 * writes it on the order; out gets it as text (at least 9 digits). A
 * number taken by a transaction that rolls back is not given again (a
 * gap). Errors are db_insert's and db_exec's.
 */
enum err order_number_assign(struct db *db, int64_t order_id,
			     char out[ORDER_NUMBER_LEN]);

/* The text of number n: zero-padded to 9 digits. */
void order_number_format(int64_t n, char out[ORDER_NUMBER_LEN]);

#endif
