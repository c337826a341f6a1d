/*
 * Customers and their sessions (SPEC 1, "Ownership"). Production sessions
 * come from the shop's login system; `checkoutctl session create` makes one
 * for demos, tests and scripts.
 */
#ifndef CHECKOUTD_CUSTOMER_H
#define CHECKOUTD_CUSTOMER_H

#include <stdint.h>

#include "db.h"

/*
 * Creates a session valid for ttl seconds for the customer with email,
 * creating the customer when there is none; the session id (a random v4
 * UUID, a bearer secret) is written to id[37]. One transaction.
 * ERR_VALIDATION_FAILED for an email that is not one or a ttl < 1.
 */
enum err session_create(struct db *db, const char *email, int64_t ttl,
			char id[37]);

/* The customer of a valid (unexpired) session, or 0 in *customer. */
enum err session_customer(struct db *db, const char *session,
			  int64_t *customer);

#endif
