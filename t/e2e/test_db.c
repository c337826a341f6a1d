/*
 * The database layer against the test stack's MariaDB (its checkoutd.conf):
 * a transaction's held writes go together, the last with the COMMIT, a
 * read sees the writes before it, a held write's error rolls back the
 * whole transaction, and db_tx_out runs each attempt from nothing. Round
 * trips are counted with the session's Com_stmt_execute (each prepared
 * statement run, a compound once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"

static struct db db;

static const char sql_create[] =
    "CREATE TEMPORARY TABLE held_t (id INT PRIMARY KEY, n INT NOT NULL) "
    "ENGINE=InnoDB";
static const char sql_insert[] = "INSERT INTO held_t (id, n) VALUES (?, ?)";
static const char sql_bump[] = "UPDATE held_t SET n = n + 1 WHERE id = ?";
static const char sql_bump2[] = "UPDATE held_t SET n = n + 2 WHERE id = ?";
static const char sql_bump3[] = "UPDATE held_t SET n = n + 3 WHERE id = ?";
static const char sql_n[] = "SELECT n FROM held_t WHERE id = ?";
static const char sql_count[] = "SELECT COUNT(*) FROM held_t WHERE id = ?";
static const char sql_executes[] =
    "SELECT CAST(VARIABLE_VALUE AS SIGNED) FROM "
    "information_schema.SESSION_STATUS WHERE VARIABLE_NAME = "
    "'COM_STMT_EXECUTE'";

/* Statements run on the connection so far (this read included). */
static int64_t
executes(void)
{
	int64_t n = -1;

	assert_int_equal(db_query(&db, sql_executes, NULL, 0, db_row_int, &n),
			 ERR_OK);
	return n;
}

static int64_t
value(const char *sql, int64_t id)
{
	struct db_val p = DB_I(id);
	int64_t n = -1;

	assert_int_equal(db_query(&db, sql, &p, 1, db_row_int, &n), ERR_OK);
	return n;
}

static enum err
insert(struct db *d, int64_t id, int64_t n)
{
	struct db_val p[2] = {DB_I(id), DB_I(n)};

	return db_exec(d, sql_insert, p, 2, NULL);
}

/* Two writes, a read of what they wrote, one more write. */
static enum err
write_read_write(struct db *d, void *arg)
{
	struct db_val p = DB_I(1);
	int64_t *seen = arg;
	enum err e = insert(d, 1, 1);

	if (e == ERR_OK)
		e = db_exec(d, sql_bump, &p, 1, NULL);
	if (e == ERR_OK)
		e = db_query(d, sql_n, &p, 1, db_row_int, seen);
	return e == ERR_OK ? insert(d, 2, 5) : e;
}

static void
test_held_writes_go_together(void **state)
{
	int64_t before, seen = -1;

	(void)state;
	before = executes();
	assert_int_equal(db_tx(&db, write_read_write, &seen), ERR_OK);
	/* The read saw both writes before it. */
	assert_int_equal(seen, 2);
	/*
	 * Three round trips, not six: the INSERT and UPDATE as one compound
	 * (sent before the read), the read, then the last INSERT with the
	 * COMMIT; and the count read of executes().
	 */
	assert_int_equal(executes() - before, 4);
	assert_int_equal(value(sql_n, 1), 2);
	assert_int_equal(value(sql_n, 2), 5);
}

/* A write, then one that fails (the same key), held together. */
static enum err
duplicate(struct db *d, void *arg)
{
	enum err e = insert(d, 3, 1);

	(void)arg;
	return e == ERR_OK ? insert(d, 3, 2) : e;
}

static void
test_held_write_error_rolls_back(void **state)
{
	(void)state;
	/* The error comes with the COMMIT that sends them; neither row
	 * stays. */
	assert_int_equal(db_tx(&db, duplicate, NULL), ERR_INTERNAL);
	assert_int_equal(value(sql_count, 3), 0);
}

/* A write held, then the work fails on its own. */
static enum err
refuse(struct db *d, void *arg)
{
	enum err e = insert(d, 4, 1);

	(void)arg;
	return e == ERR_OK ? ERR_VALIDATION_FAILED : e;
}

static void
test_failed_work_sends_nothing(void **state)
{
	int64_t before;

	(void)state;
	before = executes();
	assert_int_equal(db_tx(&db, refuse, NULL), ERR_VALIDATION_FAILED);
	/* Only the count read: the held INSERT was never sent. */
	assert_int_equal(executes() - before, 1);
	assert_int_equal(value(sql_count, 4), 0);
}

/* Four held writes picked by the base-3 digits of *(int *)arg. */
static enum err
four_bumps(struct db *d, void *arg)
{
	static const char *const bumps[] = {sql_bump, sql_bump2, sql_bump3};
	struct db_val p = DB_I(5);
	int k = *(int *)arg, i;
	enum err e = ERR_OK;

	for (i = 0; e == ERR_OK && i < 4; i++, k /= 3)
		e = db_exec(d, bumps[k % 3], &p, 1, NULL);
	return e;
}

/*
 * More distinct compounds than a connection keeps (DB_BATCH_CACHE): 81
 * orders of four writes, each with the COMMIT. Every one runs, and the
 * row holds the sum of all.
 */
static void
test_more_compounds_than_the_cache(void **state)
{
	int64_t want = 0;
	int k, j, m;

	(void)state;
	assert_true(81 > DB_BATCH_CACHE);
	assert_int_equal(insert(&db, 5, 0), ERR_OK);
	for (k = 0; k < 81; k++) {
		assert_int_equal(db_tx(&db, four_bumps, &k), ERR_OK);
		for (j = 0, m = k; j < 4; j++, m /= 3)
			want += m % 3 + 1;
	}
	assert_int_equal(value(sql_n, 5), want);
}

/* A db_tx_out run: what it found on entry, what it leaves. */
struct outs {
	struct pool *pool;
	size_t mark; /* the pool's on entry of db_tx_out */
	int runs;
	int clean; /* every run found out zeroed and the pool at mark */
	struct tx_outs {
		struct json_object *tree;
		char *name;
		int64_t run;
	} out;
};

/* Keeps a tree and a string, writes a row; the first run fails as a
 * deadlock would (retried), the second succeeds. */
static enum err
keep_and_write(struct db *d, void *arg)
{
	struct outs *o = arg;

	if (o->out.tree != NULL || o->out.name != NULL || o->out.run != 0 ||
	    pool_mark(o->pool) != o->mark)
		o->clean = 0;
	o->out.run = ++o->runs;
	o->out.tree = pool_keep(o->pool, json_object_new_int64(o->runs));
	o->out.name = pool_strdup(o->pool, o->runs == 1 ? "first" : "second");
	if (o->out.tree == NULL || o->out.name == NULL)
		return ERR_NOMEM;
	if (insert(d, 10 + o->runs, o->runs) != ERR_OK)
		return ERR_INTERNAL;
	return o->runs == 1 ? ERR_DB_RETRY : ERR_OK;
}

static void
test_tx_out_runs_from_nothing(void **state)
{
	struct pool pool = {0};
	struct outs o = {.pool = &pool, .clean = 1};

	(void)state;
	/* Something the request kept before: never released by the tx. */
	pool_strdup(&pool, "before");
	o.mark = pool_mark(&pool);
	assert_int_equal(
	    db_tx_out(&db, &pool, &o.out, sizeof(o.out), keep_and_write, &o),
	    ERR_OK);
	assert_int_equal(o.runs, 2);
	assert_true(o.clean);
	/* The last run's outputs, and only its items, are the pool's. */
	assert_int_equal(o.out.run, 2);
	assert_int_equal(json_object_get_int64(o.out.tree), 2);
	assert_string_equal(o.out.name, "second");
	assert_int_equal(pool_mark(&pool), o.mark + 2);
	/* The retried run's write rolled back; the last one's committed. */
	assert_int_equal(value(sql_count, 11), 0);
	assert_int_equal(value(sql_count, 12), 1);
	pool_free(&pool);
}

static int
setup(void **state)
{
	char path[512], err[256];
	const char *dir = getenv("STACK_DIR");

	(void)state;
	if (dir == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/checkoutd.conf", dir);
	if (config_load(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (db_library_init() != 0)
		return -1;
	db_thread_init();
	/* Outside a transaction: committed at once. */
	return db_exec(&db, sql_create, NULL, 0, NULL) == ERR_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	db_close(&db);
	db_thread_end();
	db_library_end();
	config_free();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held_writes_go_together),
	    cmocka_unit_test(test_held_write_error_rolls_back),
	    cmocka_unit_test(test_failed_work_sends_nothing),
	    cmocka_unit_test(test_more_compounds_than_the_cache),
	    cmocka_unit_test(test_tx_out_runs_from_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
