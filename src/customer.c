#include "customer.h"

#include <string.h>

#include "str.h"
#include "valid.h"

static const char sql_customer[] =
    "INSERT INTO customers (email) VALUES (?) ON DUPLICATE KEY UPDATE "
    "id = LAST_INSERT_ID(id)";
static const char sql_session[] =
    "INSERT INTO customer_sessions (id, customer_id, expires_at) VALUES "
    "(?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND)";

struct ctx {
	const char *email;
	int64_t ttl;
	char *id;
};

static enum err
create_tx(struct db *db, void *arg)
{
	struct ctx *c = arg;
	struct db_val p[3] = {DB_S(c->email)};
	int64_t customer = 0;
	enum err e;

	/* The customer's id, whether it was there or is new. */
	e = db_insert(db, sql_customer, p, 1, &customer);
	if (e != ERR_OK)
		return e;
	if (uuid_v4(c->id) != 0)
		return ERR_INTERNAL;
	p[0] = DB_S(c->id);
	p[1] = DB_I(customer);
	p[2] = DB_I(c->ttl);
	return db_exec(db, sql_session, p, 3, NULL);
}

enum err
session_create(struct db *db, const char *email, int64_t ttl, char id[37])
{
	struct ctx c = {email, ttl, id};
	id[0] = '\0';
	if (ttl < 1 || !valid_email(email))
		return ERR_VALIDATION_FAILED;
	return db_tx(db, create_tx, &c);
}

static const char sql_session_customer[] =
    "SELECT customer_id FROM customer_sessions WHERE id = ? AND "
    "expires_at > UTC_TIMESTAMP()";

enum err
session_customer(struct db *db, const char *session, int64_t *customer)
{
	struct db_val p = DB_S(session);

	if (strlen(session) == 36)
		return db_int(db, sql_session_customer, &p, 1, customer);
	*customer = 0;
	return ERR_OK;
}
