/*
 * The database: one connection per worker thread, its prepared statements
 * kept for the life of the connection, transactions retried on deadlock
 * (1213) and lock wait timeout (1205), reconnection after a loss. Every
 * statement is prepared; nothing builds SQL from input.
 *
 * Sessions run with autocommit off, so a transaction needs no START
 * TRANSACTION round trip: db_tx's first statement opens it, its COMMIT
 * ends it. Outside db_tx a statement that returns no rows (a write) is
 * committed at once, as autocommit would; reads leave a read-only
 * transaction open (READ COMMITTED: it holds no read view and no row
 * lock), which the next db_tx continues or db_idle ends (a worker calls
 * it after a second with nothing to do, and db_idle_after after each
 * request).
 * Inside db_tx, writes whose answer is not needed are held and sent
 * together (with the COMMIT, at the end) as one compound statement made
 * of the program's static SQL texts (docs/architecture.md).
 */
#ifndef CHECKOUTD_DB_H
#define CHECKOUTD_DB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mysql.h>

#include "err.h"
#include "pool.h"

/* Distinct statements a connection keeps prepared: every static SQL text
 * of the program fits (about 170 today). A full cache fails the request
 * (logged "statement cache full"): raise it before the program has more
 * statements than this. */
#define DB_STMT_CACHE 512

/* Design limits: parameters of one statement; writes held together and
 * their parameters (struct db's held); distinct compounds of held writes
 * a connection keeps prepared (more are prepared in turn in their
 * slots). */
#define DB_MAX_PARAMS  24
#define DB_HELD_MAX    8
#define DB_HELD_PARAMS 64
#define DB_BATCH_CACHE 64

enum db_type { DB_NULL, DB_I64, DB_STR };

/* A statement parameter or result column. */
struct db_val {
	enum db_type type;
	int64_t i;
	const char *s; /* DB_STR parameters: not owned. */
	size_t len;
};

/* Design limit: hosts in database.hosts. */
#define DB_MAX_HOSTS 8

/* One entry of database.hosts. */
struct db_addr {
	char host[256];
	unsigned port;
};

struct db {
	MYSQL *conn; /* NULL while disconnected. */
	int ever_connected;
	/* The host (index into the process's host list: db.c) of the
	 * connection, or of the last one; when it was opened (CLOCK_MONOTONIC
	 * seconds); whether its server runs Galera (wsrep_on). */
	size_t host;
	time_t connected;
	int wsrep;
	/* Transactions db_tx committed on this db: a precommit hook tells
	 * whether what it wrote committed (its attempt may be retried). */
	uint64_t commits;
	/* Attempts db_tx started on this db (each run of a transaction): an
	 * answer rendered inside one is known from one an earlier, rolled
	 * back attempt left (http.h answer_attempt). */
	uint64_t attempts;
	/* The last db_tx failed at its COMMIT with the connection lost
	 * (2013, 1180): it may have committed all the same. */
	int commit_unknown;
	/* The last failed connect: the client's error number and text
	 * (checkoutctl doctor names the fix). */
	unsigned connect_errno;
	char connect_error[256];
	/* This connection's server and id (db_identity), read once. */
	struct db_identity {
		int known;
		char server[128]; /* host:port:wsrep_node_name */
		int64_t boot;	  /* The server's start, Unix seconds (+-1). */
		int64_t conn_id;
	} who;
	int in_tx;    /* Inside db_tx. */
	int tx_stmts; /* Statements run by this db_tx attempt: once one has,
			 a lost connection is not retried. */
	/* ERR_DB_RETRY or ERR_DATABASE_UNAVAILABLE once a statement of
	 * this db_tx attempt met a deadlock, a lost certification or a lost
	 * connection: the server has ended the transaction, so every later
	 * statement of the attempt fails with it unrun, and so does the
	 * attempt, even if its work went on (db.c). ERR_OK otherwise. */
	enum err tx_lost;
	/* On Galera, whether this attempt set its savepoint (db.c's
	 * tx_mark: a transaction rolled back under it is found by it). */
	int tx_marked;
	int open; /* A statement ran since the last COMMIT/ROLLBACK. */
	unsigned last_errno; /* Of the last failed call (db_fail). */
	int timed_out;	     /* The server did not answer the last call (a
				timeout, or hung and not asked: db.c). */
	int probing;	     /* This connection tests a hung server (db.c). */
	time_t opened; /* When (CLOCK_MONOTONIC seconds) it became open. */
	/* Called by db_tx after the work succeeded, before COMMIT, so that
	 * what it writes commits or rolls back with the work (the request
	 * layer stores idempotent responses this way). */
	enum err (*precommit)(struct db *db, void *arg);
	void *precommit_arg;
	/*
	 * Writes of the transaction not yet sent (db_exec without
	 * *affected), in order: the next statement that needs an answer
	 * sends them first, and db_tx sends them with its COMMIT, as one
	 * compound statement (BEGIN NOT ATOMIC ... END): one round trip for
	 * all. Their string parameters are copied into buf.
	 */
	struct {
		const char *sql[DB_HELD_MAX];
		size_t nsql;
		struct db_val p[DB_HELD_PARAMS];
		size_t n;
		char *buf;
		size_t cap, used;
	} held;
	size_t nstmts, nbatches;
	size_t batch_next; /* The batch slot reused next when all are. */
	struct {
		const char *sql; /* Cached by address: SQL is static text. */
		MYSQL_STMT *st;
	} stmts[DB_STMT_CACHE];
	/* Compounds of held writes, by their statements and whether COMMIT
	 * ends them; text is the compound's SQL (owned). */
	struct {
		const char *sql[DB_HELD_MAX];
		size_t nsql;
		int commit;
		char *text;
		MYSQL_STMT *st;
	} batches[DB_BATCH_CACHE];
};

#define DB_I(v)	   ((struct db_val){.type = DB_I64, .i = (v)})
#define DB_S(v)	   ((struct db_val){.type = DB_STR, .s = (v), .len = strlen(v)})
#define DB_B(v, n) ((struct db_val){.type = DB_STR, .s = (v), .len = (n)})
#define DB_N	   ((struct db_val){.type = DB_NULL})
/* An id, or NULL when it is 0. */
#define DB_ID(v) ((v) != 0 ? DB_I(v) : DB_N)

/*
 * Who this connection is: its server (host:port:node), when that server
 * started and the connection's id, read with one query the first time
 * after a connect. A record of work in progress that names them lets
 * another connection tell whether its writer is gone (db_gone). *out
 * points into db, valid until the connection is replaced.
 */
enum err db_identity(struct db *db, const struct db_identity **out);
/*
 * Whether the connection named by who, which wrote its record at made
 * (Unix seconds of the server's clock), is gone for sure: its server (the
 * one db is connected to) restarted since, or no longer has it. 0 when it
 * may still live, or when it was on another server (which cannot be
 * asked). *gone is set; errors are db_query's.
 */
enum err db_gone(struct db *db, const struct db_identity *who, int64_t made,
		 int *gone);

/*
 * Parses list (database.hosts: host[:port] entries separated by commas
 * or spaces; an IPv6 address in brackets) into out[0..max); a port left
 * out is defport. Returns the number of entries, or -1 for a bad entry
 * (empty host, a port not in 1-65535, a name too long) or more than max.
 */
int db_hosts_parse(const char *list, unsigned defport, struct db_addr *out,
		   size_t max);

/* What the ready endpoint shows of the connection's server. */
struct db_node {
	char host[272]; /* host:port in use */
	int wsrep;	/* Galera (wsrep_on) */
	int ready;	/* wsrep_ready (1 without Galera) */
	char state[64]; /* wsrep_local_state_comment, "" without Galera */
};
/*
 * The server db is connected to (connecting when it is not), and, when it
 * runs Galera, its wsrep state read now. Errors are db_query's.
 */
enum err db_node(struct db *db, struct db_node *out);

/* Process-wide setup and teardown (before threads / at exit). */
int db_library_init(void);
void db_library_end(void);
/* Per-thread setup and teardown of the client library. */
void db_thread_init(void);
void db_thread_end(void);

/*
 * Connects if not connected: to the first host of database.hosts (else
 * database.host and port) that is not marked down, in the list's order;
 * when every host is marked down, to the first of those that answers. A
 * host that refuses, times out, or is a Galera node outside the primary
 * component (wsrep_ready OFF) is marked down for database.retry_after
 * seconds. ERR_DATABASE_UNAVAILABLE when no host takes the connection.
 */
enum err db_connect(struct db *db);
/* Closes the connection and its statements (outside db_tx, after ending
 * the open read-only transaction). */
void db_close(struct db *db);
/* Ends the open read-only transaction, if any, so that an idle connection
 * holds no metadata lock (which would hold up a migration's ALTER). */
void db_idle(struct db *db);
/* db_idle when the transaction has been open at least seconds: a worker
 * that never sleeps (a stream of reads) still ends it now and then. On
 * Galera (wsrep_on) always: only a transaction's first statement waits
 * for the node to apply what the cluster committed before it
 * (wsrep_sync_wait), so each request must begin a new one. A
 * connection on a host other than the first, open for retry_after
 * seconds, is closed when the first host is no longer marked down, so
 * that the next statement goes back to the preferred host. */
void db_idle_after(struct db *db, int seconds);

/*
 * Classifies the connection's last error (logged once here): ERR_DB_RETRY
 * for a deadlock or lock wait timeout, ERR_DATABASE_UNAVAILABLE (and the
 * connection is dropped) when the server is gone or did not answer within
 * database.read_timeout / write_timeout (which also marks the server hung
 * for every connection of the process: see db.c), else ERR_INTERNAL.
 */
enum err db_fail(struct db *db, unsigned errnum, const char *what);
/*
 * Leaves db's server as a lost connection does (logged with why): the
 * connection is dropped without a word and its host marked down for
 * database.retry_after seconds, so that the next statement connects to
 * another host. For a server that answers but cannot serve the caller: a
 * Galera node whose causality check (wsrep_sync_wait) failed, which it
 * reports as 1205, a lock wait timeout, not as 1047. Returns
 * ERR_DATABASE_UNAVAILABLE.
 */
enum err db_leave_host(struct db *db, const char *why);

/*
 * Runs a prepared statement with params p[0..n) and discards any rows;
 * *affected (may be NULL) gets the number of rows the statement matched
 * (the connection uses CLIENT_FOUND_ROWS: an UPDATE that changes nothing
 * still counts the rows it found). Inside db_tx, without affected, the
 * write is held until a statement that needs an answer or the COMMIT
 * (struct db's held): its error, if any, comes from that call.
 */
enum err db_exec(struct db *db, const char *sql, const struct db_val *p,
		 size_t n, uint64_t *affected);
/* Like db_exec, for an INSERT: *id gets the new AUTO_INCREMENT id. */
enum err db_insert(struct db *db, const char *sql, const struct db_val *p,
		   size_t n, int64_t *id);
/*
 * Runs a query whose rows are integer or string columns; calls row(arg,
 * cols, ncols) for each row. String columns point into a buffer valid only
 * during the callback.
 */
enum err
db_query(struct db *db, const char *sql, const struct db_val *p, size_t n,
	 enum err (*row)(void *arg, const struct db_val *cols, size_t ncols),
	 void *arg);

/* A db_query row callback: the first column of a row, when an integer,
 * into *(int64_t *)arg. */
enum err db_row_int(void *arg, const struct db_val *cols, size_t ncols);
/* The integer in the first column of sql's first row into *out, 0 when
 * there is no row (or NULL): db_query with db_row_int. */
enum err db_int(struct db *db, const char *sql, const struct db_val *p,
		size_t n, int64_t *out);
/* A column as JSON: an integer, a string, or NULL (JSON null). */
struct json_object *db_val_json(const struct db_val *c);
/* A db_query row callback: the first two columns of a row, as integers
 * (NULL as 0), into ((int64_t *)arg)[0] and [1]. */
enum err db_row_two_ints(void *arg, const struct db_val *cols, size_t ncols);

/* "An id or a code" (SPEC 1): ref as an integer parameter when it is all
 * digits (returns 1), else as the code (returns 0). */
int db_ref(const char *ref, struct db_val *out);

/*
 * For "an id or a code": runs sql_id with ref as an integer when ref is
 * all digits, else sql_code with ref as the code (db_ref);
 * extra[0..nextra) are bound after it.
 */
enum err db_query_ref(struct db *db, const char *ref, const char *sql_id,
		      const char *sql_code, const struct db_val *extra,
		      size_t nextra,
		      enum err (*row)(void *arg, const struct db_val *cols,
				      size_t ncols),
		      void *arg);
/* The same for a statement without rows: *affected (rows matched, with
 * CLIENT_FOUND_ROWS) when affected is not NULL. */
enum err db_exec_ref(struct db *db, const char *ref, const char *sql_id,
		     const char *sql_code, const struct db_val *extra,
		     size_t nextra, uint64_t *affected);

/* Runs of one db_tx that fn may ask for with ERR_TX_AGAIN. */
#define DB_TX_AGAIN_MAX 8

/*
 * Runs fn(db, arg) in one transaction, then COMMIT, rolling back when fn
 * fails, and retrying the whole transaction up to database.tx_retries
 * times on ERR_DB_RETRY (after a lock wait that timed out, once only).
 * ERR_TX_AGAIN from fn (a shared counter it relied on was taken under
 * it) rolls back and runs it again, each run with its own retries, up to
 * DB_TX_AGAIN_MAX times in all.
 */
enum err db_tx(struct db *db, enum err (*fn)(struct db *db, void *arg),
	       void *arg);

/*
 * db_tx for a transaction with outputs: out[0..size) (a part of what arg
 * points to, or all of it when it holds no inputs) is zeroed and pool
 * rewound to where it was on entry before each run of fn, so fn starts
 * from nothing each time, with nothing of an earlier run to reset or
 * free. What fn hands out it keeps in pool (pool_keep, pool_alloc, ...);
 * what the last run kept stays the pool's, whatever the outcome, and out
 * holds what that run left. Errors are db_tx's.
 */
enum err db_tx_out(struct db *db, struct pool *pool, void *out, size_t size,
		   enum err (*fn)(struct db *db, void *arg), void *arg);

/*
 * The retry policy on its own: calls attempt(arg) until it returns anything
 * but ERR_DB_RETRY, at most 1 + max_retries times. *retries gets the count.
 */
enum err db_retry(enum err (*attempt)(void *arg), void *arg, int max_retries,
		  int *retries);

/* Whether a MySQL/MariaDB error number means "retry the transaction". */
int db_errno_retryable(unsigned errnum);
/* Whether it means "the connection is gone" (also a Galera node outside
 * the primary component, 1047, and a failed commit, 1180: the connection
 * is dropped and its host marked down). */
int db_errno_disconnected(unsigned errnum);

#endif
