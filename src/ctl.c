/*
 * checkoutctl: operations on the checkoutd database from the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "customer.h"
#include "migrate.h"
#include "str.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: checkoutctl [--config FILE] COMMAND\n"
		   "commands:\n"
		   "  migrate            apply pending migrations\n"
		   "  migrate --status   list applied and pending migrations\n"
		   "  demo               load the demo store into an empty "
		   "database\n"
		   "  session create --customer EMAIL [--ttl SECONDS]\n"
		   "                     print a new customer session (default "
		   "ttl 86400)\n"
		   "  orders             list the 20 newest orders\n"
		   "  config             print the configuration, secrets "
		   "masked\n");
}

static int
cmd_migrate(struct db *db, int status_only)
{
	int applied[nmigrations > 0 ? nmigrations : 1];
	size_t i, pending = 0;
	enum err e;

	if (!status_only) {
		e = migrate_apply(db, stdout);
		if (e != ERR_OK) {
			fprintf(stderr, "migrate failed: %s\n", err_code(e));
			return 1;
		}
		return 0;
	}
	e = migrate_applied(db, applied);
	if (e != ERR_OK) {
		fprintf(stderr, "migrate --status failed: %s\n", err_code(e));
		return 1;
	}
	for (i = 0; i < nmigrations; i++) {
		printf("%-8s %s_%s\n", applied[i] ? "applied" : "pending",
		       migrations[i].version, migrations[i].name);
		pending += !applied[i];
	}
	printf("%zu applied, %zu pending\n", nmigrations - pending, pending);
	return 0;
}

static int
cmd_session(struct db *db, int argc, char **argv)
{
	const char *email = NULL;
	int64_t ttl = 86400;
	char id[37];
	enum err e;
	int i;

	for (i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--customer") == 0)
			email = argv[i + 1];
		else if (strcmp(argv[i], "--ttl") != 0 ||
			 parse_i64(argv[i + 1], &ttl) != 0)
			break;
	}
	if (i != argc || email == NULL) {
		usage(stderr);
		return 2;
	}
	e = session_create(db, email, ttl, id);
	if (e != ERR_OK) {
		fprintf(stderr, "session create failed: %s\n", err_code(e));
		return e == ERR_VALIDATION_FAILED ? 2 : 1;
	}
	printf("%s\n", id);
	return 0;
}

static const char sql_orders[] =
    "SELECT id, COALESCE(number, '-'), state, checkout_state, "
    "payment_state, total, COALESCE(email, '-') FROM orders ORDER BY id "
    "DESC LIMIT 20";

static enum err
order_line(void *arg, const struct db_val *c, size_t n)
{
	(void)arg;
	if (n != 7)
		return ERR_INTERNAL;
	printf("%-8lld %-9s %-10s %-17s %-17s %12lld %s\n", (long long)c[0].i,
	       c[1].s, c[2].s, c[3].s, c[4].s, (long long)c[5].i, c[6].s);
	return ERR_OK;
}

static int
cmd_orders(struct db *db)
{
	enum err e;

	printf("%-8s %-9s %-10s %-17s %-17s %12s %s\n", "id", "number", "state",
	       "checkout_state", "payment_state", "total", "email");
	e = db_query(db, sql_orders, NULL, 0, order_line, NULL);
	if (e != ERR_OK) {
		fprintf(stderr, "orders failed: %s\n", err_code(e));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfg = getenv("CHECKOUTD_CONFIG");
	struct db db = {0};
	char err[512];
	int i = 1, rc = 2;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		cfg = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	if (cfg != NULL && *cfg == '\0')
		cfg = NULL;
	if (cfg == NULL && access(SYSCONFDIR "/checkoutd.conf", R_OK) == 0)
		cfg = SYSCONFDIR "/checkoutd.conf";
	if (config_load(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return 2;
	}
	if (db_library_init() != 0)
		return 1;
	if (strcmp(argv[i], "migrate") == 0 &&
	    (i + 1 == argc ||
	     (i + 2 == argc && strcmp(argv[i + 1], "--status") == 0))) {
		rc = cmd_migrate(&db, i + 2 == argc);
	} else if (strcmp(argv[i], "demo") == 0 && i + 1 == argc) {
		enum err e = migrate_demo(&db, stdout);

		if (e != ERR_OK)
			fprintf(stderr, "demo failed: %s\n", err_code(e));
		rc = e == ERR_OK ? 0 : 1;
	} else if (strcmp(argv[i], "session") == 0 && i + 1 < argc &&
		   strcmp(argv[i + 1], "create") == 0) {
		rc = cmd_session(&db, argc - i - 2, argv + i + 2);
	} else if (strcmp(argv[i], "orders") == 0 && i + 1 == argc) {
		rc = cmd_orders(&db);
	} else if (strcmp(argv[i], "config") == 0 && i + 1 == argc) {
		config_dump(stdout);
		rc = 0;
	} else {
		usage(stderr);
	}
	db_close(&db);
	db_library_end();
	config_free();
	return rc;
}
