#include "migrate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_file.h"
#include "log.h"
#include "str.h"

static const char sql_create[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version VARCHAR(16) NOT NULL PRIMARY KEY,"
    " name VARCHAR(128) NOT NULL,"
    " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char sql_versions[] = "SELECT version FROM schema_migrations";
static const char sql_has_table[] =
    "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'";
static const char sql_record[] =
    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
static const char sql_lock[] = "SELECT GET_LOCK('checkoutd.migrate', 60)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK('checkoutd.migrate')";

static enum err
mark_applied(void *arg, const struct db_val *cols, size_t ncols)
{
	int *applied = arg;
	size_t i;

	if (ncols < 1 || cols[0].type != DB_STR)
		return ERR_OK;
	for (i = 0; i < nmigrations; i++)
		if (strcmp(migrations[i].version, cols[0].s) == 0)
			applied[i] = 1;
	return ERR_OK;
}

enum err
migrate_applied(struct db *db, int *applied)
{
	int64_t has_table = 0;
	enum err e;

	memset(applied, 0, nmigrations * sizeof(*applied));
	e = db_query(db, sql_has_table, NULL, 0, db_row_int, &has_table);
	if (e != ERR_OK || has_table == 0)
		return e; /* No table: nothing migrated yet. */
	return db_query(db, sql_versions, NULL, 0, mark_applied, applied);
}

enum err
migrate_pending(struct db *db, size_t *pending)
{
	int applied[nmigrations > 0 ? nmigrations : 1];
	enum err e;
	size_t i;

	*pending = 0;
	e = migrate_applied(db, applied);
	if (e != ERR_OK)
		return e;
	for (i = 0; i < nmigrations; i++)
		*pending += !applied[i];
	return ERR_OK;
}

enum err
migrate_ready(struct db *db, size_t *pending, struct db_node *node)
{
	enum err e = migrate_pending(db, pending);

	return e == ERR_OK ? db_node(db, node) : e;
}

enum err
migrate_gate(struct db *db)
{
	static int current;
	/* The second (monotonic) a check last found migrations pending. */
	static time_t pending_at = -1;
	struct timespec now;
	size_t pending;

	if (__atomic_load_n(&current, __ATOMIC_ACQUIRE))
		return ERR_OK;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (__atomic_load_n(&pending_at, __ATOMIC_ACQUIRE) == now.tv_sec)
		return ERR_MIGRATIONS_PENDING;
	/* A database that does not answer is the handler's to meet: it
	 * refuses bad input first, then answers 503 database_unavailable. */
	if (migrate_pending(db, &pending) != ERR_OK)
		return ERR_OK;
	if (pending > 0) {
		__atomic_store_n(&pending_at, now.tv_sec, __ATOMIC_RELEASE);
		return ERR_MIGRATIONS_PENDING;
	}
	__atomic_store_n(&current, 1, __ATOMIC_RELEASE);
	return ERR_OK;
}

static enum err
ignore_row(void *arg, const struct db_val *cols, size_t ncols)
{
	(void)arg;
	(void)cols;
	(void)ncols;
	return ERR_OK;
}

/* Runs one statement of a migration; prepared once and dropped. */
static enum err
run_statement(struct db *db, const char *sql, size_t len)
{
	MYSQL_STMT *st = mysql_stmt_init(db->conn);
	enum err e = ERR_OK;

	if (st == NULL)
		return ERR_NOMEM;
	if (mysql_stmt_prepare(st, sql, len) != 0 ||
	    mysql_stmt_execute(st) != 0) {
		log_error("migration statement failed: %s",
			  mysql_stmt_error(st));
		e = db_fail(db, mysql_stmt_errno(st), "migration");
	}
	mysql_stmt_close(st);
	return e;
}

/* Splits sql at lines ending in ';' and runs each statement. */
static enum err
run_script(struct db *db, const char *sql)
{
	struct buf stmt = {0};
	const char *p = sql;
	enum err e = ERR_OK;

	while (*p != '\0' && e == ERR_OK) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		size_t slen = len;

		p += len + (nl != NULL);
		while (slen > 0 && (s[slen - 1] == ' ' || s[slen - 1] == '\r' ||
				    s[slen - 1] == '\t'))
			slen--;
		if (slen >= 2 && s[0] == '-' && s[1] == '-')
			continue;
		buf_append(&stmt, s, slen);
		buf_puts(&stmt, "\n");
		if (slen > 0 && s[slen - 1] == ';') {
			if (stmt.failed)
				e = ERR_NOMEM;
			else
				e = run_statement(db, stmt.data, stmt.len - 2);
			buf_reset(&stmt);
		}
	}
	buf_free(&stmt);
	return e;
}

enum err
migrate_apply(struct db *db, FILE *out)
{
	int applied[nmigrations > 0 ? nmigrations : 1];
	enum err e;
	size_t i, done = 0;

	e = db_connect(db);
	if (e == ERR_OK)
		e = db_query(db, sql_lock, NULL, 0, ignore_row, NULL);
	if (e != ERR_OK)
		return e;
	e = db_exec(db, sql_create, NULL, 0, NULL);
	if (e == ERR_OK)
		e = migrate_applied(db, applied);
	for (i = 0; e == ERR_OK && i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		struct db_val p[2] = {DB_S(m->version), DB_S(m->name)};

		if (applied[i])
			continue;
		fprintf(out, "applying %s_%s\n", m->version, m->name);
		e = run_script(db, m->sql);
		if (e == ERR_OK)
			e = db_exec(db, sql_record, p, 2, NULL);
		done++;
	}
	if (db->conn != NULL)
		db_query(db, sql_unlock, NULL, 0, ignore_row, NULL);
	if (e == ERR_OK)
		fprintf(out, "%zu applied, schema up to date\n", done);
	return e;
}

static const char sql_products[] = "SELECT COUNT(*) FROM products";

struct demo {
	const struct catalog_file *cf;
	struct catalog_counts n;
	char why[256];
};

/* The accounts first: the catalog's products name their providers. */
static enum err
demo_tx(struct db *db, void *arg)
{
	struct demo *d = arg;
	enum err e = run_script(db, demo_accounts_sql);

	if (e == ERR_OK)
		e = catalog_file_apply(db, d->cf, &d->n, d->why,
				       sizeof(d->why));
	return e;
}

enum err
migrate_demo(struct db *db, FILE *out)
{
	struct catalog_file *cf = NULL;
	struct demo d = {0};
	int64_t products = -1;
	enum err e;

	e = db_query(db, sql_products, NULL, 0, db_row_int, &products);
	if (e != ERR_OK)
		return e;
	if (products != 0) {
		fprintf(out, "the store is not empty: demo not loaded\n");
		return ERR_OK;
	}
	e = catalog_file_parse(demo_store_json, strlen(demo_store_json), 0, &cf,
			       d.why, sizeof(d.why));
	d.cf = cf;
	if (e == ERR_OK)
		e = db_tx(db, demo_tx, &d);
	if (e != ERR_OK && d.why[0] != '\0')
		log_error("demo store: %s", d.why);
	catalog_file_free(cf);
	if (e == ERR_OK)
		fprintf(out, "demo store loaded (docs/demo-store.md)\n");
	return e;
}
