/* The database layer's policies that need no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "db.h"

struct script {
	int calls;
	int fail_times;
	enum err fail_with;
};

static enum err
attempt(void *arg)
{
	struct script *s = arg;

	return s->calls++ < s->fail_times ? s->fail_with : ERR_OK;
}

static void
test_retry(void **state)
{
	static const struct {
		int fail_times, max, calls, retries;
		enum err fail_with, want;
	} rows[] = {
	    {0, 3, 1, 0, ERR_DB_RETRY, ERR_OK},
	    {1, 3, 2, 1, ERR_DB_RETRY, ERR_OK},
	    {3, 3, 4, 3, ERR_DB_RETRY, ERR_OK},
	    {4, 3, 4, 3, ERR_DB_RETRY, ERR_DB_RETRY},
	    {9, 0, 1, 0, ERR_DB_RETRY, ERR_DB_RETRY},
	    /* Other errors are never retried. */
	    {1, 3, 1, 0, ERR_DATABASE_UNAVAILABLE, ERR_DATABASE_UNAVAILABLE},
	    {1, 3, 1, 0, ERR_OUT_OF_STOCK, ERR_OUT_OF_STOCK},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct script s = {0, rows[i].fail_times, rows[i].fail_with};
		int retries = -1;

		assert_int_equal(db_retry(attempt, &s, rows[i].max, &retries),
				 rows[i].want);
		assert_int_equal(s.calls, rows[i].calls);
		assert_int_equal(retries, rows[i].retries);
	}
}

static void
test_errno_classes(void **state)
{
	(void)state;
	assert_true(db_errno_retryable(ER_LOCK_DEADLOCK));
	assert_true(db_errno_retryable(ER_LOCK_WAIT_TIMEOUT));
	assert_false(db_errno_retryable(ER_DUP_ENTRY));
	assert_true(db_errno_disconnected(CR_SERVER_GONE_ERROR));
	assert_true(db_errno_disconnected(CR_SERVER_LOST));
	assert_true(db_errno_disconnected(CR_CONNECTION_ERROR));
	/* Galera: a node outside the primary component, a failed commit. */
	assert_true(db_errno_disconnected(ER_UNKNOWN_COM_ERROR));
	assert_true(db_errno_disconnected(ER_ERROR_DURING_COMMIT));
	assert_false(db_errno_disconnected(ER_LOCK_DEADLOCK));
	assert_false(db_errno_disconnected(ER_NO_SUCH_TABLE));
}

/* database.hosts: entries, their ports, and what is refused. */
static void
test_hosts_parse(void **state)
{
	static const struct {
		const char *list;
		int n;
		const char *hosts[3];
		unsigned ports[3];
	} rows[] = {
	    {"", 0, {NULL}, {0}},
	    {" , ", 0, {NULL}, {0}},
	    {"db1", 1, {"db1"}, {3306}},
	    {"db1:3307", 1, {"db1"}, {3307}},
	    {"db1,db2:3310 db3", 3, {"db1", "db2", "db3"}, {3306, 3310, 3306}},
	    {" 127.0.0.2:1 ,\t127.0.0.3 ",
	     2,
	     {"127.0.0.2", "127.0.0.3"},
	     {1, 3306}},
	    {"[::1]:3307,[fe80::1]", 2, {"::1", "fe80::1"}, {3307, 3306}},
	    {"db1:", -1, {NULL}, {0}},
	    {"db1:0", -1, {NULL}, {0}},
	    {"db1:65536", -1, {NULL}, {0}},
	    {"db1:33x", -1, {NULL}, {0}},
	    {":3306", -1, {NULL}, {0}},
	    {"[::1", -1, {NULL}, {0}},
	    {"[::1]x", -1, {NULL}, {0}},
	    {"a b c d", -1, {NULL}, {0}}, /* more than max (3) */
	};
	struct db_addr out[3];
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = db_hosts_parse(rows[i].list, 3306, out, 3);

		assert_int_equal(n, rows[i].n);
		for (j = 0; j < n; j++) {
			assert_string_equal(out[j].host, rows[i].hosts[j]);
			assert_int_equal(out[j].port, rows[i].ports[j]);
		}
	}
}

/* A column read as JSON: an integer, a string of its length (not up to
 * a NUL), or null. */
static void
test_val_json(void **state)
{
	struct db_val v[3] = {DB_I(-42), DB_B("ab\0cd", 4), DB_N};
	struct json_object *o;

	(void)state;
	o = db_val_json(&v[0]);
	assert_true(json_object_is_type(o, json_type_int));
	assert_int_equal(json_object_get_int64(o), -42);
	json_object_put(o);
	o = db_val_json(&v[1]);
	assert_true(json_object_is_type(o, json_type_string));
	assert_int_equal(json_object_get_string_len(o), 4);
	assert_memory_equal(json_object_get_string(o), "ab\0c", 4);
	json_object_put(o);
	assert_null(db_val_json(&v[2]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry),
	    cmocka_unit_test(test_errno_classes),
	    cmocka_unit_test(test_hosts_parse),
	    cmocka_unit_test(test_val_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
