/*
 * The database layer against the test stack's MariaDB (its checkoutd.conf):
 * a transaction's held writes go together, the last with the COMMIT, a
 * read sees the writes before it, a held write's error rolls back the
 * whole transaction, and db_tx_out runs each attempt from nothing. Round
 * trips are counted with the session's Com_stmt_execute (each prepared
 * statement run, a compound once).
 *
 * Then failover over database.hosts: the stack's MariaDB listens on its
 * unix socket only, so the test reaches it over TCP through a relay of its
 * own (a thread), listed after a closed port and a listener that accepts
 * and never answers; and a deadlock forced between two connections (two
 * threads), retried as a whole, also when the work goes on after the
 * failed statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mysql.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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

/* Failover. */

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A listening TCP socket on 127.0.0.1 (port into *port); backlog 64. */
static int
listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/*
 * The relay: 127.0.0.1:port to the stack's MariaDB socket, one thread per
 * connection. relay.cut closes every relayed connection (the server then
 * sees its client gone, as when a node dies).
 */
static struct {
	int fd, port;
	char sock[100];
	pthread_mutex_t lock;
	int conns[64][2];
	size_t n;
	int accepted;
	int mute; /* The server's next answer is dropped, the link cut. */
} relay = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *
relay_pipe(void *arg)
{
	int *pair = arg;
	char buf[16384];

	for (;;) {
		struct pollfd p[2] = {{.fd = pair[0], .events = POLLIN},
				      {.fd = pair[1], .events = POLLIN}};
		ssize_t n;
		int i;

		if (poll(p, 2, 200) < 0)
			break;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pair[i], buf, sizeof(buf));
			if (n > 0 && i == 1 &&
			    __atomic_load_n(&relay.mute, __ATOMIC_ACQUIRE))
				goto out; /* The server answered: lost. */
			if (n <= 0 || write(pair[1 - i], buf, (size_t)n) != n)
				goto out;
		}
	}
out:
	shutdown(pair[0], SHUT_RDWR);
	shutdown(pair[1], SHUT_RDWR);
	return NULL;
}

static void *
relay_accept(void *arg)
{
	(void)arg;
	for (;;) {
		struct sockaddr_un u = {.sun_family = AF_UNIX};
		int c = accept(relay.fd, NULL, NULL), s;
		pthread_t t;
		int *pair;

		if (c < 0)
			return NULL;
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		memcpy(u.sun_path, relay.sock, sizeof(relay.sock));
		if (s < 0 ||
		    connect(s, (struct sockaddr *)&u, sizeof(u)) != 0) {
			close(c);
			if (s >= 0)
				close(s);
			continue;
		}
		pthread_mutex_lock(&relay.lock);
		if (relay.n == 64) {
			pthread_mutex_unlock(&relay.lock);
			close(c);
			close(s);
			continue;
		}
		pair = relay.conns[relay.n++];
		pair[0] = c;
		pair[1] = s;
		relay.accepted++;
		pthread_mutex_unlock(&relay.lock);
		pthread_create(&t, NULL, relay_pipe, pair);
		pthread_detach(t);
	}
}

static void
relay_cut(void)
{
	size_t i;

	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < relay.n; i++) {
		shutdown(relay.conns[i][0], SHUT_RDWR);
		shutdown(relay.conns[i][1], SHUT_RDWR);
	}
	pthread_mutex_unlock(&relay.lock);
}

static int closed_port, silent_port, silent_fd;
static char saved_socket[256];

static const char sql_ft_create[] =
    "CREATE TABLE IF NOT EXISTS failover_t (id INT PRIMARY KEY, n INT NOT "
    "NULL) ENGINE=InnoDB";
static const char sql_ft_drop[] = "DROP TABLE IF EXISTS failover_t";
static const char sql_ft_insert[] =
    "INSERT INTO failover_t (id, n) VALUES (?, 0)";
static const char sql_ft_bump[] =
    "UPDATE failover_t SET n = n + 1 WHERE id = ?";
static const char sql_ft_n[] = "SELECT n FROM failover_t WHERE id = ?";
static const char sql_ft_count[] =
    "SELECT COUNT(*) FROM failover_t WHERE id = ?";

/* Hosts: a closed port, a silent listener, the relay; timeouts of 1 s. */
static int
setup_hosts(void **state)
{
	char list[128];
	int fd;
	pthread_t t;

	(void)state;
	snprintf(saved_socket, sizeof(saved_socket), "%s",
		 config_str("database.socket"));
	if (strlen(saved_socket) >= sizeof(relay.sock))
		return -1;
	memcpy(relay.sock, saved_socket, strlen(saved_socket) + 1);
	fd = listener(&closed_port);
	close(fd); /* Nothing listens there now: refused. */
	silent_fd = listener(&silent_port);
	relay.fd = listener(&relay.port);
	pthread_create(&t, NULL, relay_accept, NULL);
	pthread_detach(t);
	snprintf(list, sizeof(list), "127.0.0.1:%d, 127.0.0.1:%d 127.0.0.1:%d",
		 closed_port, silent_port, relay.port);
	if (config_set("database.socket", "") != 0 ||
	    config_set("database.hosts", list) != 0 ||
	    config_set("database.connect_timeout", "1") != 0 ||
	    config_set("database.read_timeout", "2") != 0 ||
	    config_set("database.retry_after", "2") != 0)
		return -1;
	return 0;
}

static int
teardown_hosts(void **state)
{
	(void)state;
	config_set("database.socket", saved_socket);
	config_set("database.hosts", "");
	config_set("database.connect_timeout", "2");
	close(silent_fd);
	return 0;
}

/*
 * The first host refuses, the second accepts and never greets: the
 * connection lands on the third (after one connect_timeout), and both
 * are then skipped at once; after retry_after they are tried again.
 */
static void
test_failover_skips_refused_and_silent(void **state)
{
	struct db d = {0};
	struct db_node node;
	char want[64];
	double t0, took;

	(void)state;
	snprintf(want, sizeof(want), "127.0.0.1:%d", relay.port);
	t0 = now_s();
	assert_int_equal(db_connect(&d), ERR_OK);
	took = now_s() - t0;
	assert_true(took >= 0.9 && took < 1.9);
	assert_int_equal(db_node(&d, &node), ERR_OK);
	assert_string_equal(node.host, want);
	assert_int_equal(node.wsrep, 0);
	assert_int_equal(node.ready, 1);
	db_close(&d);
	/* Both marked down: straight to the third. */
	t0 = now_s();
	assert_int_equal(db_connect(&d), ERR_OK);
	assert_true(now_s() - t0 < 0.5);
	db_close(&d);
	/* After retry_after both are tried again: the silent one costs its
	 * connect_timeout once more. */
	sleep(3);
	t0 = now_s();
	assert_int_equal(db_connect(&d), ERR_OK);
	took = now_s() - t0;
	assert_true(took >= 0.9 && took < 1.9);
	assert_int_equal(db_node(&d, &node), ERR_OK);
	assert_string_equal(node.host, want);
	db_close(&d);
}

/* A write answered, then the connection dies in the transaction. */
static enum err
write_then_die(struct db *d, void *arg)
{
	struct db_val p = DB_I(1);
	uint64_t matched = 0;
	int64_t n = 0;
	enum err e;

	(void)arg;
	e = db_exec(d, sql_ft_bump, &p, 1, &matched);
	if (e != ERR_OK || matched != 1)
		return ERR_INTERNAL;
	relay_cut();
	return db_int(d, sql_ft_n, &p, 1, &n);
}

/*
 * A transaction whose connection died after a statement ran answers
 * ERR_DATABASE_UNAVAILABLE (503), is not run again on a new connection,
 * and leaves nothing written; the next statement reconnects.
 */
static void
test_failover_tx_died_in_flight(void **state)
{
	struct db d = {0};
	struct db_val p = DB_I(1);
	int64_t n = -1;

	(void)state;
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_create, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_insert, &p, 1, NULL), ERR_OK);
	assert_int_equal(db_tx(&d, write_then_die, NULL),
			 ERR_DATABASE_UNAVAILABLE);
	assert_null(d.conn);
	/* The relay's host was marked down; being the only one up, it is
	 * tried again at once. The bump rolled back with the connection. */
	assert_int_equal(db_int(&d, sql_ft_n, &p, 1, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	db_close(&d);
}

/* A write held for the COMMIT; with *mute, the server's answer to that
 * COMMIT is lost. */
struct lost {
	int runs, mute;
};

static enum err
held_bump(struct db *d, void *arg)
{
	struct lost *l = arg;
	struct db_val p = DB_I(1);

	l->runs++;
	if (l->mute)
		__atomic_store_n(&relay.mute, 1, __ATOMIC_RELEASE);
	return db_exec(d, sql_ft_bump, &p, 1, NULL);
}

/*
 * The statement that carries the COMMIT (here the transaction's only
 * one: its held write and the COMMIT) reaches the server, which commits,
 * and its answer is lost (2013): db_tx answers ERR_DATABASE_UNAVAILABLE
 * and does not run it again on a new connection, where it would commit a
 * second time. A first run prepares the compound, so that the answer
 * lost is the execution's.
 */
static void
test_commit_answer_lost_not_run_twice(void **state)
{
	struct db d = {0};
	struct db_val p = DB_I(1);
	struct lost l = {0};
	int64_t n = -1;

	(void)state;
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_create, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_insert, &p, 1, NULL), ERR_OK);
	assert_int_equal(db_tx(&d, held_bump, &l), ERR_OK);
	l.mute = 1;
	assert_int_equal(db_tx(&d, held_bump, &l), ERR_DATABASE_UNAVAILABLE);
	__atomic_store_n(&relay.mute, 0, __ATOMIC_RELEASE);
	assert_int_equal(l.runs, 2);
	/* Committed by each run once: the second's outcome was unknown to
	 * db_tx, and it was not run a third time. */
	assert_int_equal(db_int(&d, sql_ft_n, &p, 1, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	db_close(&d);
}

/* Two transactions taking rows 1 and 2 in opposite orders. */
struct lock_order {
	struct db db;
	int64_t first, second;
	int hold_second; /* the second UPDATE held: sent with the COMMIT */
	/* The work does not stop at the second UPDATE's error: it goes on
	 * to insert row 10 + first and answers ERR_OK (a careless caller). */
	int careless;
	pthread_barrier_t *both;
	int runs;
	enum err result;
};

static enum err
two_rows(struct db *d, void *arg)
{
	struct lock_order *o = arg;
	struct db_val p = DB_I(o->first);
	uint64_t matched = 0;
	enum err e;

	e = db_exec(d, sql_ft_bump, &p, 1, &matched);
	if (e != ERR_OK)
		return e;
	/* Only the first runs meet: each holds its first row then. */
	if (o->runs++ == 0)
		pthread_barrier_wait(o->both);
	p = DB_I(o->second);
	e = db_exec(d, sql_ft_bump, &p, 1, o->hold_second ? NULL : &matched);
	if (!o->careless)
		return e;
	p = DB_I(10 + o->first);
	(void)db_exec(d, sql_ft_insert, &p, 1, NULL);
	return ERR_OK;
}

static void *
lock_thread(void *arg)
{
	struct lock_order *o = arg;

	db_thread_init();
	o->result = db_tx(&o->db, two_rows, o);
	db_close(&o->db);
	db_thread_end();
	return NULL;
}

/*
 * Two transactions, a and b, taking rows 1 and 2 in opposite orders at
 * once: one of them is the deadlock's victim (1213), at its statement or
 * at its COMMIT, and db_tx runs it again from the start. Both commit,
 * each row bumped once by each, the victim run twice. The marker rows a
 * careless run inserts (10 + first) are each there once, if any.
 */
static void
deadlock_race(struct lock_order *a, struct lock_order *b)
{
	pthread_barrier_t both;
	struct db d = {0};
	struct db_val p[2] = {DB_I(1), DB_I(2)};
	pthread_t ta, tb;
	int64_t n = -1, id;

	/* On the socket: this is no failover test. */
	config_set("database.socket", saved_socket);
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_create, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_insert, &p[0], 1, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_insert, &p[1], 1, NULL), ERR_OK);
	pthread_barrier_init(&both, NULL, 2);
	a->both = b->both = &both;
	pthread_create(&ta, NULL, lock_thread, a);
	pthread_create(&tb, NULL, lock_thread, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&both);
	assert_int_equal(a->result, ERR_OK);
	assert_int_equal(b->result, ERR_OK);
	assert_int_equal(a->runs + b->runs, 3);
	assert_int_equal(db_int(&d, sql_ft_n, &p[0], 1, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(db_int(&d, sql_ft_n, &p[1], 1, &n), ERR_OK);
	assert_int_equal(n, 2);
	for (id = 11; id <= 12; id++) {
		struct db_val q = DB_I(id);

		assert_int_equal(db_int(&d, sql_ft_count, &q, 1, &n), ERR_OK);
		assert_int_equal(n, a->careless || b->careless);
	}
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	db_close(&d);
	config_set("database.socket", "");
}

/* The deadlock: the held write goes with b's COMMIT. */
static void
test_deadlock_retried_whole(void **state)
{
	struct lock_order a = {.first = 1, .second = 2};
	struct lock_order b = {.first = 2, .second = 1, .hold_second = 1};

	(void)state;
	deadlock_race(&a, &b);
}

/*
 * The same deadlock, where the work goes on after its statement failed
 * and answers ERR_OK: the server had rolled the transaction back, so the
 * later INSERT would run in a new one and commit without the first
 * UPDATE (a half-done write). db_tx runs nothing more of that attempt and
 * runs it again: each row bumped once by each, each INSERT made once.
 */
static void
test_work_going_on_after_a_deadlock(void **state)
{
	struct lock_order a = {.first = 1, .second = 2, .careless = 1};
	struct lock_order b = {.first = 2, .second = 1, .careless = 1};

	(void)state;
	deadlock_race(&a, &b);
}

/* One bump of row 1, counting its runs. */
static enum err
bump_counted(struct db *d, void *arg)
{
	struct db_val p = DB_I(1);

	++*(int *)arg;
	return db_exec(d, sql_ft_bump, &p, 1, NULL);
}

/*
 * A row locked by another session for longer than the transaction's lock
 * waits (read_timeout less a second, db.c lock_waits): the run ends with
 * 1205 and is run again once only, whatever database.tx_retries (6 by
 * default: seven waits would outlast nginx's read timeout); then db_tx
 * gives up with ERR_DB_RETRY (a 503 database_unavailable, logged as given
 * up) and nothing of the work is written.
 */
static void
test_lock_waits_given_up(void **state)
{
	char sock[1024];
	struct db d = {0};
	struct db_val p = DB_I(1);
	MYSQL *holder = mysql_init(NULL);
	MYSQL_RES *res;
	int runs = 0;
	int64_t n = -1;

	(void)state;
	config_set("database.socket", saved_socket);
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_create, NULL, 0, NULL), ERR_OK);
	assert_int_equal(db_exec(&d, sql_ft_insert, &p, 1, NULL), ERR_OK);
	snprintf(sock, sizeof(sock), "%s/run/mysql.sock", getenv("STACK_DIR"));
	assert_non_null(mysql_real_connect(holder, NULL, "root", "",
					   "checkoutd", 0, sock, 0));
	assert_int_equal(mysql_query(holder, "START TRANSACTION"), 0);
	assert_int_equal(mysql_query(holder, "SELECT n FROM failover_t WHERE "
					     "id = 1 FOR UPDATE"),
			 0);
	res = mysql_store_result(holder);
	assert_non_null(res);
	mysql_free_result(res);
	assert_true(config_int("database.tx_retries") > 1);
	assert_int_equal(db_tx(&d, bump_counted, &runs), ERR_DB_RETRY);
	assert_int_equal(runs, 2);
	assert_int_equal(mysql_query(holder, "ROLLBACK"), 0);
	mysql_close(holder);
	assert_int_equal(db_int(&d, sql_ft_n, &p, 1, &n), ERR_OK);
	assert_int_equal(n, 0);
	/* Free again: one run, the bump written. */
	runs = 0;
	assert_int_equal(db_tx(&d, bump_counted, &runs), ERR_OK);
	assert_int_equal(runs, 1);
	assert_int_equal(db_int(&d, sql_ft_n, &p, 1, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(db_exec(&d, sql_ft_drop, NULL, 0, NULL), ERR_OK);
	db_close(&d);
	config_set("database.socket", "");
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
	    cmocka_unit_test_setup(test_failover_skips_refused_and_silent,
				   setup_hosts),
	    cmocka_unit_test(test_failover_tx_died_in_flight),
	    cmocka_unit_test(test_commit_answer_lost_not_run_twice),
	    cmocka_unit_test(test_deadlock_retried_whole),
	    cmocka_unit_test(test_lock_waits_given_up),
	    cmocka_unit_test_teardown(test_work_going_on_after_a_deadlock,
				      teardown_hosts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
