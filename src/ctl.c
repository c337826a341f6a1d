/*
 * checkoutctl: operations on the checkoutd database from the command line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lifecycle.h"
#include "catalog_file.h"
#include "config.h"
#include "db.h"
#include "doctor.h"
#include "log.h"
#include "customer.h"
#include "migrate.h"
#include "outbox.h"
#include "paystate.h"
#include "purchase.h"
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
		   "  mark-paid ORDER    an offline payment of ORDER (id) "
		   "arrived\n"
		   "  expire             cancel unpaid orders past "
		   "order.unpaid_ttl, delete\n"
		   "                     old carts, idempotency keys and "
		   "delivered events\n"
		   "  deliver            deliver every due outbox event "
		   "(cron, CGI mode)\n"
		   "  reconcile          ask the provider about every payment "
		   "still\n"
		   "                     `processing` and record the answer\n"
		   "  config             print the configuration, secrets "
		   "masked\n"
		   "  doctor             check the configuration, secrets, "
		   "database,\n"
		   "                     migrations, socket and providers; "
		   "one line each\n"
		   "  catalog import [--csv] FILE\n"
		   "                     import a catalog file (JSON; CSV "
		   "for a .csv\n"
		   "                     FILE or --csv), all or nothing "
		   "(docs/catalog.md)\n"
		   "  catalog export [--csv]\n"
		   "                     print the catalog as a catalog "
		   "file (JSON;\n"
		   "                     --csv: products and variants as "
		   "CSV)\n");
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

/* Payments waiting on a provider, and whether each has waited past
 * payment.action_ttl (an intent still waiting for the buyer is then
 * cancelled). */
static const char sql_processing[] =
    "SELECT p.id, p.updated_at < UTC_TIMESTAMP() - INTERVAL ? SECOND FROM "
    "payments p JOIN payment_methods m ON m.id = p.method_id WHERE p.state "
    "= ? AND m.gateway = 'stripe' ORDER BY p.id LIMIT 1000";

struct waiting {
	int64_t id[1000];
	int old[1000];
	size_t n;
};

static enum err
waiting_row(void *arg, const struct db_val *c, size_t n)
{
	struct waiting *w = arg;

	if (n != 2 || w->n == 1000)
		return ERR_INTERNAL;
	w->id[w->n] = c[0].i;
	w->old[w->n++] = c[1].i != 0;
	return ERR_OK;
}

static int
cmd_reconcile(struct db *db)
{
	struct waiting *w = calloc(1, sizeof(*w));
	struct db_val p[2] = {DB_I(config_int("payment.action_ttl")),
			      DB_S(pay_state_names[PS_PROCESSING])};
	CURL *curl = curl_easy_init();
	size_t i, done = 0, still_n = 0, failed = 0;
	enum err e;

	if (w == NULL || curl == NULL) {
		free(w);
		curl_easy_cleanup(curl);
		return 1;
	}
	e = db_query(db, sql_processing, p, 2, waiting_row, w);
	for (i = 0; e == ERR_OK && i < w->n; i++) {
		struct pool pool = {0}; /* The payment's, as a request's. */
		int still = 0;
		enum err r = payment_reconcile(db, &pool, curl, w->id[i],
					       w->old[i], &still);

		pool_free(&pool);
		if (r != ERR_OK) {
			fprintf(stderr, "payment %lld: %s\n",
				(long long)w->id[i], err_code(r));
			failed++;
		} else if (still) {
			still_n++;
		} else {
			done++;
		}
	}
	if (e != ERR_OK)
		fprintf(stderr, "reconcile failed: %s\n", err_code(e));
	else
		printf("%zu reconciled, %zu still processing, %zu failed\n",
		       done, still_n, failed);
	free(w);
	curl_easy_cleanup(curl);
	return e == ERR_OK && failed == 0 ? 0 : 1;
}

/* Delivers due events until none is left (each failure is put back for
 * its retry time, so the loop ends). */
static int
cmd_deliver(struct db *db)
{
	CURL *curl = curl_easy_init();
	long tried = 0;
	int n = 0;

	if (config_str("outbox.url")[0] == '\0') {
		fprintf(stderr, "deliver: outbox.url is not set\n");
		curl_easy_cleanup(curl);
		return 1;
	}
	while (curl != NULL && (n = outbox_deliver(db, curl)) > 0)
		tried += n;
	curl_easy_cleanup(curl);
	printf("%ld events tried\n", tried);
	return n == 0 ? 0 : 1;
}

static int
cmd_mark_paid(struct db *db, const char *arg)
{
	struct pool pool = {0}; /* The command's, as a request's. */
	struct json_object *snap = NULL;
	const char *why = NULL;
	int64_t id = 0;
	enum err e;

	if (!str_is_id(arg) || parse_i64(arg, &id) != 0) {
		fprintf(stderr, "mark-paid: ORDER is an order id\n");
		return 2;
	}
	e = lifecycle_mark_paid(db, &pool, id, &snap, &why, NULL, NULL);
	if (e == ERR_OK)
		printf("order %lld paid\n", (long long)id);
	else
		fprintf(stderr, "mark-paid: %s%s%s\n", err_code(e),
			why ? ": " : "", why ? why : "");
	pool_free(&pool);
	return e == ERR_OK ? 0 : 1;
}

static int
cmd_expire(struct db *db)
{
	CURL *curl = curl_easy_init();
	struct expired x;
	enum err e = curl != NULL ? lifecycle_expire(db, curl, &x) : ERR_NOMEM;

	curl_easy_cleanup(curl);
	if (e != ERR_OK) {
		fprintf(stderr, "expire failed: %s\n", err_code(e));
		return 1;
	}
	printf("%ld unpaid orders cancelled, %ld left for reconciliation, "
	       "%ld carts, %ld idempotency keys, %ld delivered events "
	       "deleted\n",
	       x.orders, x.skipped, x.carts, x.keys, x.events);
	return 0;
}

/* Reads all of path ("-": standard input) into b; 0 on success. */
static int
read_all(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	rc = ferror(f) || b->failed ? -1 : 0;
	if (f != stdin)
		fclose(f);
	return rc;
}

/* catalog import [--csv] FILE | catalog export (docs/catalog.md). */
static int
cmd_catalog(struct db *db, int argc, char **argv)
{
	struct catalog_file *cf = NULL;
	struct catalog_counts n;
	struct buf b = {0};
	const char *path;
	char why[512];
	size_t len;
	int csv;
	enum err e;

	if (strcmp(argv[0], "export") == 0 &&
	    (argc == 1 || (argc == 2 && strcmp(argv[1], "--csv") == 0))) {
		size_t left_out = 0;

		e = catalog_file_export(db, &cf);
		if (e == ERR_OK && argc == 2)
			e = catalog_file_write_csv(cf, &b, &left_out);
		else if (e == ERR_OK)
			e = catalog_file_write(cf, &b);
		if (e == ERR_OK)
			fwrite(b.data, 1, b.len, stdout);
		else
			fprintf(stderr, "catalog export failed: %s\n",
				err_code(e));
		if (e == ERR_OK && left_out > 0)
			fprintf(stderr,
				"catalog export: %zu product(s) without "
				"variants left out (CSV has a line per "
				"variant; the JSON export has them)\n",
				left_out);
		catalog_file_free(cf);
		buf_free(&b);
		return e == ERR_OK ? 0 : 1;
	}
	csv = argc == 3 && strcmp(argv[1], "--csv") == 0;
	if (strcmp(argv[0], "import") != 0 || argc != 2 + csv) {
		usage(stderr);
		return 2;
	}
	path = argv[1 + csv];
	len = strlen(path);
	csv = csv || (len > 4 && strcmp(path + len - 4, ".csv") == 0);
	if (read_all(path, &b) != 0) {
		fprintf(stderr, "catalog import: cannot read %s\n", path);
		buf_free(&b);
		return 1;
	}
	e = catalog_file_parse(b.data != NULL ? b.data : "", b.len, csv, &cf,
			       why, sizeof(why));
	if (e == ERR_OK)
		e = catalog_file_import(db, cf, &n, why, sizeof(why));
	if (e == ERR_OK)
		printf("catalog imported: %ld inserted, %ld updated, %ld "
		       "unchanged\n",
		       n.inserted, n.updated, n.unchanged);
	else if (why[0] != '\0')
		fprintf(stderr, "%s: %s (nothing imported)\n", path, why);
	else
		fprintf(stderr,
			"catalog import failed: %s (nothing "
			"imported)\n",
			err_code(e));
	catalog_file_free(cf);
	buf_free(&b);
	return e == ERR_OK ? 0 : e == ERR_VALIDATION_FAILED ? 2 : 1;
}

int
main(int argc, char **argv)
{
	const char *cfg = NULL;
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
	cfg = config_find(cfg);
	if (config_load(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return 2;
	}
	if (db_library_init() != 0 || curl_global_init(CURL_GLOBAL_ALL) != 0)
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
	} else if (strcmp(argv[i], "mark-paid") == 0 && i + 2 == argc) {
		rc = cmd_mark_paid(&db, argv[i + 1]);
	} else if (strcmp(argv[i], "expire") == 0 && i + 1 == argc) {
		rc = cmd_expire(&db);
	} else if (strcmp(argv[i], "deliver") == 0 && i + 1 == argc) {
		rc = cmd_deliver(&db);
	} else if (strcmp(argv[i], "reconcile") == 0 && i + 1 == argc) {
		rc = cmd_reconcile(&db);
	} else if (strcmp(argv[i], "doctor") == 0 && i + 1 == argc) {
		struct doctor d = {stdout, 0};
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* Its lines say what the log would: only them. */
		if (null >= 0)
			log_set_fd(null);
		rc = doctor_run(&d, cfg, &db);
		if (null >= 0)
			close(null);
	} else if (strcmp(argv[i], "catalog") == 0 && i + 1 < argc) {
		rc = cmd_catalog(&db, argc - i - 1, argv + i + 1);
	} else if (strcmp(argv[i], "config") == 0 && i + 1 == argc) {
		config_dump(stdout);
		rc = 0;
	} else {
		usage(stderr);
	}
	db_close(&db);
	db_library_end();
	curl_global_cleanup();
	config_free();
	return rc;
}
