/*
 * Schema migrations: migrations/NNNN_name.sql, compiled into the binaries
 * in version order. Applied by `checkoutctl migrate` under a named lock, so
 * two processes at once are safe; each applied version is recorded in
 * schema_migrations. A migration file holds statements that each end with
 * ";" at the end of a line; lines starting with "--" are comments.
 */
#ifndef CHECKOUTD_MIGRATE_H
#define CHECKOUTD_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

#include "db.h"

struct migration {
	const char *version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t nmigrations;

/* Sets applied[i] to whether migrations[i] is recorded (applied has
 * nmigrations entries). A missing schema_migrations table means none. */
enum err migrate_applied(struct db *db, int *applied);
/* Counts the migrations not yet applied. */
enum err migrate_pending(struct db *db, size_t *pending);
/*
 * Readiness (GET /api/health/ready): the migrations not yet applied into
 * *pending and the server in use into *node (db_node: its host and, on
 * Galera, its wsrep state). Errors are db_query's.
 */
enum err migrate_ready(struct db *db, size_t *pending, struct db_node *node);
/*
 * ERR_MIGRATIONS_PENDING when the database answers that its schema lacks
 * migrations of this build, else ERR_OK (also when it does not answer:
 * the request meets that itself). Asks the database at
 * most once a second until the answer is yes, then never again in this
 * process (migrations only move forward): one atomic load per request.
 */
enum err migrate_gate(struct db *db);
/* Applies every pending migration in order, reporting each on out. */
enum err migrate_apply(struct db *db, FILE *out);

/* The demo store, compiled in: its accounts, customers and providers
 * (conf/demo-accounts.sql) and its catalog (conf/demo-store.json, a
 * catalog file: docs/catalog.md). */
extern const char demo_accounts_sql[];
extern const char demo_store_json[];
/* Loads the demo store in one transaction when there are no products yet
 * (the catalog through the importer, src/catalog_file.c); otherwise says
 * so and changes nothing. */
enum err migrate_demo(struct db *db, FILE *out);

#endif
