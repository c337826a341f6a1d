#include "db.h"

#include <errmsg.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "dbwait.h"
#include "log.h"
#include "metrics.h"
#include "str.h"

int
db_library_init(void)
{
	return mysql_library_init(0, NULL, NULL);
}

void
db_library_end(void)
{
	mysql_library_end();
}

void
db_thread_init(void)
{
	mysql_thread_init();
}

void
db_thread_end(void)
{
	mysql_thread_end();
}

int
db_errno_retryable(unsigned e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

int
db_errno_disconnected(unsigned e)
{
	switch (e) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case ER_SERVER_SHUTDOWN:
	case 1927: /* ER_CONNECTION_KILLED */
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
	/* Galera: the node left the primary component (every statement,
	 * "WSREP has not yet prepared node for application use"), or a
	 * commit in flight failed there; the outcome of that commit is not
	 * known to this connection. */
	case ER_UNKNOWN_COM_ERROR:
	case ER_ERROR_DURING_COMMIT:
		return 1;
	default:
		return 0;
	}
}

void
db_idle(struct db *db)
{
	if (db->conn == NULL || !db->open || db->in_tx)
		return;
	db->open = 0; /* First: db_fail may close, which comes back here. */
	errno = 0;    /* db_fail reads it: a timeout, or not. */
	if (mysql_commit(db->conn) != 0)
		db_fail(db, mysql_errno(db->conn), "commit");
}

static void prefer_first(struct db *db, long long now);

void
db_idle_after(struct db *db, int seconds)
{
	struct timespec now;

	if (!db->open && db->host == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* On Galera, a statement in an open transaction skips the causal
	 * wait (wsrep_sync_wait applies to a transaction's first statement
	 * only): a request continuing the previous one's reads would not see
	 * what another node committed just before it arrived. */
	if (db->open && (db->wsrep || now.tv_sec - db->opened >= seconds))
		db_idle(db);
	if (db->host != 0)
		prefer_first(db, now.tv_sec);
}

/* Forgets the held writes (sent, or gone with their transaction); their
 * buffer stays for the next ones. */
static void
unhold(struct db *db)
{
	db->held.nsql = 0;
	db->held.n = 0;
	db->held.used = 0;
}

/* Closes the connection and its statements; the held writes' buffer
 * stays (a flush being retried is bound to it). */
static void
disconnect(struct db *db)
{
	size_t i;

	db_idle(db);
	unhold(db);
	for (i = 0; i < db->nstmts; i++)
		mysql_stmt_close(db->stmts[i].st);
	db->nstmts = 0;
	for (i = 0; i < db->nbatches; i++) {
		mysql_stmt_close(db->batches[i].st);
		free(db->batches[i].text);
	}
	db->nbatches = 0;
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
	db->who.known = 0;
}

void
db_close(struct db *db)
{
	disconnect(db);
	free(db->held.buf);
	db->held.buf = NULL;
	db->held.cap = 0;
}

/*
 * The servers: database.hosts (else database.host and port), parsed once
 * per distinct setting into hosts[]; every connection of the process
 * shares each host's state.
 *
 * A hung server (stopped, swapped out, its disk frozen) accepts
 * connections and requests and answers none: every statement waits for
 * database.read_timeout, and every worker that touches the database would
 * sit there, leaving nothing to answer the ping. So the first timeout
 * marks the host hung for the whole process; while it is, one statement
 * (or connect) at a time, the probe, goes to it, and the others fail at
 * once with ERR_DATABASE_UNAVAILABLE (503) (or, connecting, try the next
 * host). The probe's answer, any answer, ends it; its timeout keeps it. A
 * server that is down (not hung) refuses connections at once and needs
 * none of this.
 *
 * A host that failed (refused, timed out, lost the connection, or is a
 * Galera node outside the primary component) is also marked down until
 * retry_after seconds from then: new connections try the hosts not marked
 * down first, in the list's order, and the others only when none of those
 * takes them.
 */
struct db_host {
	struct db_addr addr;
	int hung;	      /* It did not answer in time. */
	int probing;	      /* A connection tests it (db->probing). */
	long long down_until; /* CLOCK_MONOTONIC seconds; 0: up. */
};
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static char hosts_from[1024]; /* The setting hosts[] was parsed from. */
static struct db_host hosts[DB_MAX_HOSTS];
static size_t nhosts;

int
db_hosts_parse(const char *list, unsigned defport, struct db_addr *out,
	       size_t max)
{
	const char *p = list;
	size_t n = 0;

	for (;;) {
		const char *start, *end, *colon = NULL;
		size_t len;
		int64_t port = defport;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (int)n;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		if (*start == '[') {
			const char *close =
			    memchr(start, ']', (size_t)(end - start));

			if (close == NULL)
				return -1;
			if (close + 1 < end && close[1] != ':')
				return -1;
			colon = close + 1 < end ? close + 1 : NULL;
			start++;
			len = (size_t)(close - start);
		} else {
			colon = memchr(start, ':', (size_t)(end - start));
			len = (size_t)((colon != NULL ? colon : end) - start);
		}
		if (colon != NULL) {
			char num[8];
			size_t nl = (size_t)(end - colon - 1);

			if (nl == 0 || nl >= sizeof(num))
				return -1;
			memcpy(num, colon + 1, nl);
			num[nl] = '\0';
			if (parse_i64(num, &port) != 0)
				return -1;
		}
		if (len == 0 || len >= sizeof(out->host) || port < 1 ||
		    port > 65535 || n == max)
			return -1;
		memcpy(out[n].host, start, len);
		out[n].host[len] = '\0';
		out[n].port = (unsigned)port;
		n++;
	}
}

/* Parses the setting into hosts[] when it changed (configuration is read
 * at startup; tests change it between connects). -1: a bad setting. */
static int
hosts_load(void)
{
	const char *list = config_str("database.hosts");
	const char *host = config_str("database.host");
	unsigned port = (unsigned)config_int("database.port");
	char from[sizeof(hosts_from)];
	struct db_addr a[DB_MAX_HOSTS];
	int n, rc = 0;
	size_t i;

	snprintf(from, sizeof(from), "%s|%s|%u", list, host, port);
	pthread_mutex_lock(&hosts_lock);
	if (nhosts > 0 && strcmp(from, hosts_from) == 0)
		goto out;
	if (*list != '\0') {
		n = db_hosts_parse(list, port, a, DB_MAX_HOSTS);
	} else {
		n = 1;
		snprintf(a[0].host, sizeof(a[0].host), "%s", host);
		a[0].port = port;
	}
	if (n < 1) {
		log_error("database.hosts: not a list of host[:port] (at "
			  "most %d)",
			  DB_MAX_HOSTS);
		rc = -1;
		goto out;
	}
	memset(hosts, 0, sizeof(hosts));
	for (i = 0; i < (size_t)n; i++)
		hosts[i].addr = a[i];
	nhosts = (size_t)n;
	snprintf(hosts_from, sizeof(hosts_from), "%s", from);
out:
	pthread_mutex_unlock(&hosts_lock);
	return rc;
}

static long long
mono_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

/* Host h failed: skipped until retry_after seconds from now. */
static void
mark_down(size_t h)
{
	long long until = mono_now() + config_int("database.retry_after");

	if (h >= nhosts)
		return;
	if (__atomic_exchange_n(&hosts[h].down_until, until,
				__ATOMIC_ACQ_REL) == 0 &&
	    nhosts > 1)
		log_error("database host %s:%u marked down for %lld s",
			  hosts[h].addr.host, hosts[h].addr.port,
			  config_int("database.retry_after"));
}

/* A connection on a later host, open retry_after seconds, is closed
 * when the first host is not marked down: the next statement goes back
 * to it (and, when it fails again, on to the next). */
static void
prefer_first(struct db *db, long long now)
{
	if (db->conn == NULL || db->in_tx || nhosts < 2 ||
	    now - db->connected < config_int("database.retry_after") ||
	    __atomic_load_n(&hosts[0].down_until, __ATOMIC_ACQUIRE) > now)
		return;
	log_info("database: back to the first host");
	disconnect(db);
}

/* Host h took a connection. */
static void
mark_up(size_t h)
{
	if (__atomic_load_n(&hosts[h].down_until, __ATOMIC_ACQUIRE) != 0 &&
	    __atomic_exchange_n(&hosts[h].down_until, 0, __ATOMIC_ACQ_REL) !=
		0 &&
	    nhosts > 1)
		log_info("database host %s:%u is up again", hosts[h].addr.host,
			 hosts[h].addr.port);
}

/* Whether db may go to host h now: -1 no (another connection probes the
 * hung host), 1 yes as the probe (db->probing set; leave() releases it),
 * 0 yes. */
static int
enter(struct db *db, size_t h)
{
	int idle = 0;

	db->timed_out = 0;
	if (db->probing || !__atomic_load_n(&hosts[h].hung, __ATOMIC_ACQUIRE))
		return 0;
	if (!__atomic_compare_exchange_n(&hosts[h].probing, &idle, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -1;
	db->probing = 1;
	return 1;
}

/* After enter(db, h) gave entered: e is the outcome. A timeout keeps the
 * host hung; anything else (it answered, or refused at once) ends it. */
static void
leave(struct db *db, size_t h, int entered, enum err e)
{
	int was = 1;

	if ((e == ERR_OK || !db->timed_out) &&
	    __atomic_load_n(&hosts[h].hung, __ATOMIC_ACQUIRE) &&
	    __atomic_compare_exchange_n(&hosts[h].hung, &was, 0, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		log_info("database answers again");
	if (entered == 1) {
		db->probing = 0;
		__atomic_store_n(&hosts[h].probing, 0, __ATOMIC_RELEASE);
	}
}

/* Marks db's host hung (a timeout on db) and down. */
static void
timed_out(struct db *db)
{
	int was = 0;

	db->timed_out = 1;
	if (db->host >= nhosts)
		return;
	mark_down(db->host);
	if (__atomic_compare_exchange_n(&hosts[db->host].hung, &was, 1, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		log_error("database host %s:%u timed out: failing its "
			  "requests at once until it answers again",
			  hosts[db->host].addr.host, hosts[db->host].addr.port);
}

/* Runs the session setting sql (a SET) on m as a prepared statement, its
 * nparams parameters (0 to 2) all v; -1 when it fails. */
static int
session_set(MYSQL *m, const char *sql, unsigned nparams, long long v)
{
	MYSQL_BIND b[2];
	MYSQL_STMT *st = mysql_stmt_init(m);
	unsigned i;
	int rc;

	if (st == NULL)
		return -1;
	memset(b, 0, sizeof(b));
	for (i = 0; i < nparams && i < 2; i++) {
		b[i].buffer_type = MYSQL_TYPE_LONGLONG;
		b[i].buffer = &v;
	}
	rc = mysql_stmt_prepare(st, sql, strlen(sql)) != 0 ||
	     (nparams > 0 && mysql_stmt_bind_param(st, b) != 0) ||
	     mysql_stmt_execute(st) != 0;
	mysql_stmt_close(st);
	return rc ? -1 : 0;
}

/*
 * A row lock or metadata lock waited for longer than read_timeout would
 * look like a hung server (the read times out): the session's lock waits
 * end a second before it, as ER_LOCK_WAIT_TIMEOUT, which db_tx retries.
 */
static int
lock_waits(MYSQL *m, unsigned read_timeout)
{
	if (read_timeout == 0)
		return 0; /* No read timeout: the server's lock waits stand. */
	return session_set(m,
			   "SET SESSION innodb_lock_wait_timeout = ?, "
			   "SESSION lock_wait_timeout = ?",
			   2,
			   read_timeout > 1 ? (long long)read_timeout - 1 : 1);
}

/*
 * Whether the server m is connected to may take work: not a Galera node,
 * or one in the primary component (wsrep_ready ON). *wsrep gets whether
 * it runs Galera. -1 when the question itself fails (a node outside the
 * primary component may refuse it with 1047).
 */
static int
node_ready(MYSQL *m, int *wsrep)
{
	static const char sql[] =
	    "SELECT @@wsrep_on, COALESCE((SELECT VARIABLE_VALUE = 'ON' FROM "
	    "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
	    "'WSREP_READY'), 0)";
	long long v[2] = {0, 0};
	MYSQL_BIND b[2];
	MYSQL_STMT *st;
	int rc;

	*wsrep = 0;
	st = mysql_stmt_init(m);
	if (st == NULL)
		return -1;
	memset(b, 0, sizeof(b));
	b[0].buffer_type = b[1].buffer_type = MYSQL_TYPE_LONGLONG;
	b[0].buffer = &v[0];
	b[1].buffer = &v[1];
	rc = mysql_stmt_prepare(st, sql, sizeof(sql) - 1) != 0 ||
	     mysql_stmt_execute(st) != 0 ||
	     mysql_stmt_bind_result(st, b) != 0 || mysql_stmt_fetch(st) != 0;
	mysql_stmt_close(st);
	if (rc)
		return -1;
	*wsrep = v[0] != 0;
	return v[0] == 0 || v[1] != 0;
}

/*
 * On a Galera node, every transaction's first statement waits until the
 * node has applied every write set committed anywhere in the cluster
 * before it (a causal read: wsrep_sync_wait 7, reads, UPDATE/DELETE and
 * INSERT/REPLACE), whatever the node's default: a client's next request,
 * sent once the previous one answered, may land on another node, which
 * must see what the previous one committed. The server makes only a
 * transaction's first statement wait (none inside a transaction already
 * open): db_idle_after ends the read-only transaction after each request
 * on Galera, so that a request's first statement opens one.
 */
static int
causal_reads(MYSQL *m)
{
	return session_set(m, "SET SESSION wsrep_sync_wait = 7", 0, 0);
}

/* Host h's connection m could not be made: m is closed, and h marked hung
 * (it timed out) or down. */
static enum err
connect_failed(struct db *db, size_t h, MYSQL *m, int timeout_hit)
{
	mysql_close(m);
	if (timeout_hit)
		timed_out(db);
	else
		mark_down(h);
	return ERR_DATABASE_UNAVAILABLE;
}

/* Opens a connection to host h (db_connect without the host choice and
 * the hung-host check). */
static enum err
connect_now(struct db *db, size_t h)
{
	unsigned timeout = (unsigned)config_int("database.connect_timeout");
	unsigned rtimeout = (unsigned)config_int("database.read_timeout");
	unsigned wtimeout = (unsigned)config_int("database.write_timeout");
	const char *sock = config_str("database.socket");
	const struct db_addr *a = &hosts[h].addr;
	my_bool off = 0;
	int ready = -1;
	MYSQL *m;

	db->host = h;
	m = mysql_init(NULL);
	if (m == NULL)
		return ERR_NOMEM;
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rtimeout);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &wtimeout);
	/* The read timeout without a kernel timer per wait (dbwait.h). */
	mysql_optionsv(m, MARIADB_OPT_IO_WAIT, dbwait_io);
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Every DATETIME is UTC. */
	/*
	 * READ COMMITTED: correctness comes from explicit row locks (the
	 * order row, FOR UPDATE) and conditional UPDATEs (stock), not from
	 * gap locks, which under REPEATABLE READ made unrelated carts
	 * deadlock on the adjustments index.
	 */
	mysql_options(
	    m, MYSQL_INIT_COMMAND,
	    "SET SESSION time_zone = '+00:00', SESSION tx_isolation = "
	    "'READ-COMMITTED', SESSION autocommit = 0");
	errno = 0;
	if (mysql_real_connect(
		m, *sock ? NULL : a->host, config_str("database.user"),
		config_str("database.password"), config_str("database.name"),
		a->port, *sock ? sock : NULL, CLIENT_FOUND_ROWS) == NULL) {
		/* A server that accepts but does not greet (hung) gives
		 * ETIMEDOUT after connect_timeout. */
		int timeout_hit = errno == ETIMEDOUT;

		db->connect_errno = mysql_errno(m);
		snprintf(db->connect_error, sizeof(db->connect_error), "%s",
			 mysql_error(m));
		metrics_inc(MET_DB_ERRORS);
		log_error("database connect to %s:%u failed: %s", a->host,
			  a->port, mysql_error(m));
		return connect_failed(db, h, m, timeout_hit);
	}
	errno = 0;
	if (lock_waits(m, rtimeout) != 0 ||
	    (ready = node_ready(m, &db->wsrep)) != 1 ||
	    (db->wsrep && causal_reads(m) != 0)) {
		int timeout_hit = errno == ETIMEDOUT;

		metrics_inc(MET_DB_ERRORS);
		if (ready == 0)
			log_error("database host %s:%u is not ready (Galera: "
				  "not in the primary component)",
				  a->host, a->port);
		else
			log_error("database session setup failed: %s",
				  mysql_error(m));
		return connect_failed(db, h, m, timeout_hit);
	}
	db->conn = m;
	db->open = 0;
	db->connected = mono_now();
	mark_up(h);
	if (db->ever_connected) {
		metrics_inc(MET_DB_RECONNECTS);
		log_info("database reconnected to %s:%u", a->host, a->port);
	}
	db->ever_connected = 1;
	return ERR_OK;
}

/*
 * Closes db's connection without a word to the server (no COMMIT or
 * ROLLBACK, which a hung server would make wait): the server rolls back
 * whatever was open when it sees the connection gone.
 */
static void
drop(struct db *db)
{
	db->open = 0;
	disconnect(db);
}

enum err
db_connect(struct db *db)
{
	long long now;
	enum err e = ERR_DATABASE_UNAVAILABLE;
	int tried = 0, pass;
	size_t h;

	if (db->conn != NULL)
		return ERR_OK;
	if (hosts_load() != 0)
		return ERR_DATABASE_UNAVAILABLE;
	now = mono_now();
	/* First the hosts not marked down, in order; then the others. */
	for (pass = 0; pass < 2; pass++) {
		for (h = 0; h < nhosts; h++) {
			int down = __atomic_load_n(&hosts[h].down_until,
						   __ATOMIC_ACQUIRE) > now;
			int entered;

			if (down != pass)
				continue;
			entered = enter(db, h);
			if (entered < 0)
				continue; /* Hung: another connection probes. */
			tried = 1;
			e = connect_now(db, h);
			leave(db, h, entered, e);
			if (e == ERR_OK || e == ERR_NOMEM)
				return e;
		}
	}
	if (!tried)
		db->timed_out = 1; /* Not an answer from the server. */
	return e;
}

enum err
db_fail(struct db *db, unsigned errnum, const char *what)
{
	/* Connector/C leaves ETIMEDOUT when read_timeout or write_timeout
	 * ran out (CR_SERVER_LOST, "Lost connection ... during query"). */
	int timeout_hit = errno == ETIMEDOUT;

	metrics_inc(MET_DB_ERRORS);
	db->last_errno = errnum;
	if (db_errno_retryable(errnum)) {
		if (db->in_tx)
			db->tx_lost = ERR_DB_RETRY;
		return ERR_DB_RETRY;
	}
	if (db_errno_disconnected(errnum)) {
		/* Lost before the attempt's first statement ran, nothing of
		 * it is: run_batch_now runs that statement again on a new
		 * connection (a worker's connection to a node that died
		 * while it was idle). */
		if (db->in_tx && db->tx_stmts > 0)
			db->tx_lost = ERR_DATABASE_UNAVAILABLE;
		log_error("database %s (%u) in %s",
			  timeout_hit ? "timed out" : "lost", errnum, what);
		if (timeout_hit)
			timed_out(db);
		else
			mark_down(db->host);
		drop(db);
		return ERR_DATABASE_UNAVAILABLE;
	}
	log_error("database error %u in %s: %s", errnum, what,
		  db->conn != NULL ? mysql_error(db->conn) : "");
	return ERR_INTERNAL;
}

enum err
db_leave_host(struct db *db, const char *why)
{
	if (db->conn != NULL && db->host < nhosts)
		log_error("database host %s:%u left (%u): %s",
			  hosts[db->host].addr.host, hosts[db->host].addr.port,
			  db->last_errno, why);
	if (db->conn != NULL)
		mark_down(db->host);
	/* Its transaction ends with the connection, as a lost one's. */
	if (db->in_tx)
		db->tx_lost = ERR_DATABASE_UNAVAILABLE;
	drop(db);
	return ERR_DATABASE_UNAVAILABLE;
}

/*
 * The error number of a failed call on st: the statement's, else the
 * connection's (a row fetch that Galera aborts, or InnoDB deadlocks,
 * leaves the statement's at 0 with the connection's 1213).
 */
static unsigned
stmt_errno(struct db *db, MYSQL_STMT *st)
{
	unsigned n = mysql_stmt_errno(st);

	return n != 0 || db->conn == NULL ? n : mysql_errno(db->conn);
}

/* A prepared statement for text; ERR_OK or db_fail's error. */
static enum err
prepare(struct db *db, const char *text, MYSQL_STMT **out)
{
	MYSQL_STMT *st = mysql_stmt_init(db->conn);

	if (st == NULL)
		return ERR_NOMEM;
	errno = 0;
	if (mysql_stmt_prepare(st, text, strlen(text)) != 0) {
		unsigned errnum = stmt_errno(db, st);

		mysql_stmt_close(st);
		return db_fail(db, errnum, "prepare");
	}
	*out = st;
	return ERR_OK;
}

/* The cached statement for sql, preparing it on first use. */
static enum err
stmt_get(struct db *db, const char *sql, MYSQL_STMT **out)
{
	MYSQL_STMT *st;
	enum err e;
	size_t i;

	for (i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].sql == sql) {
			*out = db->stmts[i].st;
			return ERR_OK;
		}
	}
	if (db->nstmts == DB_STMT_CACHE) {
		/* Cache full: a design limit; raise DB_STMT_CACHE. */
		log_error("statement cache full");
		return ERR_INTERNAL;
	}
	e = prepare(db, sql, &st);
	if (e != ERR_OK)
		return e;
	db->stmts[db->nstmts].sql = sql;
	db->stmts[db->nstmts++].st = st;
	*out = st;
	return ERR_OK;
}

/*
 * The statements sql[0..n), then COMMIT when commit is set, as one
 * compound statement (malloc'd). Each is a single static statement of
 * this program.
 */
static char *
compound_text(const char *const *sql, size_t n, int commit)
{
	size_t len = 64, off, i;
	char *text;

	for (i = 0; i < n; i++)
		len += strlen(sql[i]) + 2;
	text = malloc(len);
	if (text == NULL)
		return NULL;
	off = (size_t)snprintf(text, len, "BEGIN NOT ATOMIC ");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, len - off, "%s; ", sql[i]);
	snprintf(text + off, len - off, "%sEND", commit ? "COMMIT; " : "");
	return text;
}

/* The cached compound of sql[0..n) (and COMMIT when commit is set),
 * preparing it on first use. */
static enum err
batch_get(struct db *db, const char *const *sql, size_t n, int commit,
	  MYSQL_STMT **out)
{
	MYSQL_STMT *st;
	char *text;
	enum err e;
	size_t i;

	for (i = 0; i < db->nbatches; i++) {
		if (db->batches[i].nsql == n &&
		    db->batches[i].commit == commit &&
		    memcmp(db->batches[i].sql, sql, n * sizeof(*sql)) == 0) {
			*out = db->batches[i].st;
			return ERR_OK;
		}
	}
	text = compound_text(sql, n, commit);
	if (text == NULL)
		return ERR_NOMEM;
	e = prepare(db, text, &st);
	if (e != ERR_OK) {
		free(text);
		return e;
	}
	/* Which writes a transaction holds together depends on its path
	 * and data: when the cache is full, the slots are reused in turn. */
	if (db->nbatches < DB_BATCH_CACHE) {
		i = db->nbatches++;
	} else {
		i = db->batch_next++ % DB_BATCH_CACHE;
		mysql_stmt_close(db->batches[i].st);
		free(db->batches[i].text);
	}
	memcpy(db->batches[i].sql, sql, n * sizeof(*sql));
	db->batches[i].nsql = n;
	db->batches[i].commit = commit;
	db->batches[i].text = text;
	db->batches[i].st = st;
	*out = st;
	return ERR_OK;
}

/* sql[0..n) (one statement, or a compound of held writes) prepared. */
static enum err
get(struct db *db, const char *const *sql, size_t n, int commit,
    MYSQL_STMT **out)
{
	enum err e = db_connect(db);

	if (e != ERR_OK)
		return e;
	if (n == 1 && !commit)
		return stmt_get(db, sql[0], out);
	return batch_get(db, sql, n, commit, out);
}

/* Design limit of one statement: result columns. */
#define DB_MAX_COLS 64

static enum err
bind_and_run(struct db *db, MYSQL_STMT *st, const struct db_val *p, size_t n)
{
	MYSQL_BIND b[DB_HELD_PARAMS];
	size_t i;

	if (n > DB_HELD_PARAMS || mysql_stmt_param_count(st) != n) {
		log_error("statement takes %lu parameters, %zu given",
			  mysql_stmt_param_count(st), n);
		return ERR_INTERNAL;
	}
	memset(b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		switch (p[i].type) {
		case DB_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_I64:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
			break;
		case DB_STR:
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)p[i].s;
			b[i].buffer_length = p[i].len;
			break;
		}
	}
	if (n > 0 && mysql_stmt_bind_param(st, b) != 0)
		return db_fail(db, stmt_errno(db, st), "bind");
	errno = 0;
	if (mysql_stmt_execute(st) != 0)
		return db_fail(db, stmt_errno(db, st), "execute");
	return ERR_OK;
}

/*
 * On Galera a transaction that another node's write set aborts while a
 * statement of it runs was seen to end without the statement failing: a
 * SELECT returned no row for the order the transaction had just inserted,
 * an INSERT met a foreign key error for it, and the statements after
 * ran in a new transaction. So a db_tx attempt sets a savepoint after
 * its first statement (not before: the first statement of a transaction
 * is the one that waits for the node to catch up, wsrep_sync_wait), and
 * releases it before its COMMIT or when its work failed: if the
 * savepoint is gone, so is the transaction it belonged to, and the
 * attempt is run again.
 */
static const char sql_savepoint[] = "SAVEPOINT checkoutd_tx";
static const char sql_release[] = "RELEASE SAVEPOINT checkoutd_tx";

static enum err run_batch_now(struct db *db, const char *const *sql,
			      size_t nsql, int commit, const struct db_val *p,
			      size_t n, MYSQL_STMT **st);

static enum err
tx_mark(struct db *db, const char *sql)
{
	MYSQL_STMT *st;
	enum err e = run_batch_now(db, &sql, 1, 0, NULL, 0, &st);

	if (e == ERR_OK)
		mysql_stmt_free_result(st);
	return e;
}

/* The savepoint's release (above): ERR_DB_RETRY when the transaction was
 * ended under the attempt. */
static enum err
tx_unmark(struct db *db)
{
	enum err e = tx_mark(db, sql_release);

	if (e != ERR_OK && db->last_errno == ER_SP_DOES_NOT_EXIST) {
		log_warn("the transaction was rolled back under its work "
			 "(a conflict with another node): run again");
		return ERR_DB_RETRY;
	}
	return e;
}

/*
 * Prepares (or finds) and executes sql. A connection found dead (the server
 * restarted since its last use) is replaced once and the statement run
 * again, unless a statement of the current db_tx attempt ran on it (then
 * the caller's retry decides): outside db_tx writes are committed at once
 * and the rest are reads, so this repeats nothing. A statement that timed
 * out is not run again: the server is hung, and a second wait (connect,
 * then read) would only double the request's.
 */
static enum err
run_batch_now(struct db *db, const char *const *sql, size_t nsql, int commit,
	      const struct db_val *p, size_t n, MYSQL_STMT **st)
{
	enum err e;
	int tries = db->in_tx && db->tx_stmts > 0 ? 1 : 2;

	/* The transaction is gone: a statement now would run in a new one,
	 * and commit half of the work (seen on Galera: an order's lines
	 * inserted after their order had been rolled back, 1452). */
	if (db->in_tx && db->tx_lost != ERR_OK)
		return db->tx_lost;
	if (db->in_tx && db->wsrep && db->tx_stmts == 1 && !db->tx_marked) {
		db->tx_marked = 1;
		e = tx_mark(db, sql_savepoint);
		if (e != ERR_OK)
			return e;
	}
	do {
		int had_conn = db->conn != NULL;

		db->last_errno = 0;
		e = get(db, sql, nsql, commit, st);
		if (e == ERR_OK)
			e = bind_and_run(db, *st, p, n);
		if (e != ERR_DATABASE_UNAVAILABLE || !had_conn || db->timed_out)
			break;
		/* A statement that carries the COMMIT runs again only when
		 * the server surely did not run it: the request was not sent
		 * (2006), or a Galera node refused it (1047). Lost during it
		 * (2013, 1180), it may have committed. */
		if (commit && db->last_errno != CR_SERVER_GONE_ERROR &&
		    db->last_errno != ER_UNKNOWN_COM_ERROR)
			break;
	} while (--tries > 0);
	if (e != ERR_OK)
		return e;
	if (!db->open) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		db->opened = now.tv_sec;
		db->open = 1;
	}
	if (db->in_tx) {
		db->tx_stmts++;
	} else if (mysql_stmt_field_count(*st) == 0) {
		/* A write outside db_tx: committed now, as autocommit would. */
		db->open = 0;
		errno = 0;
		if (mysql_commit(db->conn) != 0)
			return db_fail(db, mysql_errno(db->conn), "commit");
	}
	return ERR_OK;
}

/* run_batch_now, unless the server is hung and another connection
 * probes it: then ERR_DATABASE_UNAVAILABLE at once, and the connection
 * is dropped (its open transaction, if any, ends with it). */
static enum err
run_batch(struct db *db, const char *const *sql, size_t nsql, int commit,
	  const struct db_val *p, size_t n, MYSQL_STMT **st)
{
	/* Without a connection, db_connect chooses and checks the host. */
	int on = db->conn != NULL;
	size_t h = db->host; /* A retry may reconnect elsewhere. */
	int entered = on ? enter(db, h) : 0;
	enum err e;

	if (entered < 0) {
		drop(db);
		return ERR_DATABASE_UNAVAILABLE;
	}
	e = run_batch_now(db, sql, nsql, commit, p, n, st);
	if (on)
		leave(db, h, entered, e);
	else if (db->conn != NULL)
		leave(db, db->host, 0, e);
	return e;
}

/* Sends the held writes (struct db's held) as one statement, followed
 * by COMMIT when commit is set. */
static enum err
flush(struct db *db, int commit)
{
	size_t nsql = db->held.nsql, n = db->held.n;
	MYSQL_STMT *st;
	enum err e;

	if (nsql == 0)
		return ERR_OK;
	/* The statements and parameters stay where they are until the next
	 * hold; a retry on a new connection is given them here. */
	unhold(db);
	e = run_batch(db, db->held.sql, nsql, commit, db->held.p, n, &st);
	if (e == ERR_OK)
		mysql_stmt_free_result(st);
	return e;
}

/* Runs sql after sending the writes held before it. */
static enum err
run(struct db *db, const char *sql, const struct db_val *p, size_t n,
    MYSQL_STMT **st)
{
	enum err e = flush(db, 0);

	return e == ERR_OK ? run_batch(db, &sql, 1, 0, p, n, st) : e;
}

/* Holds the write sql with p[0..n), its strings copied; sends the held
 * ones first when there is no room for it. */
static enum err
hold(struct db *db, const char *sql, const struct db_val *p, size_t n)
{
	size_t i, need = 0, off;
	enum err e;

	if (n > DB_MAX_PARAMS)
		return ERR_INTERNAL;
	if (db->held.nsql == DB_HELD_MAX || db->held.n + n > DB_HELD_PARAMS) {
		e = flush(db, 0);
		if (e != ERR_OK)
			return e;
	}
	for (i = 0; i < n; i++)
		if (p[i].type == DB_STR)
			need += p[i].len + 1;
	/* Room for all; the strings held before move with the buffer. */
	if (db->held.used + need > db->held.cap) {
		size_t cap = db->held.used + need + 4096, at[DB_HELD_PARAMS];
		char *buf;

		for (i = 0; i < db->held.n; i++)
			if (db->held.p[i].type == DB_STR)
				at[i] =
				    (size_t)(db->held.p[i].s - db->held.buf);
		buf = realloc(db->held.buf, cap);
		if (buf == NULL)
			return ERR_NOMEM;
		for (i = 0; i < db->held.n; i++)
			if (db->held.p[i].type == DB_STR)
				db->held.p[i].s = buf + at[i];
		db->held.buf = buf;
		db->held.cap = cap;
	}
	off = db->held.used;
	for (i = 0; i < n; i++) {
		struct db_val *v = &db->held.p[db->held.n + i];

		*v = p[i];
		if (p[i].type != DB_STR)
			continue;
		if (p[i].len > 0)
			memcpy(db->held.buf + off, p[i].s, p[i].len);
		db->held.buf[off + p[i].len] = '\0';
		v->s = db->held.buf + off;
		off += p[i].len + 1;
	}
	db->held.used = off;
	db->held.n += n;
	db->held.sql[db->held.nsql++] = sql;
	return ERR_OK;
}

/* Runs a statement that returns no rows; either out may be NULL. */
static enum err
exec_stmt(struct db *db, const char *sql, const struct db_val *p, size_t n,
	  uint64_t *affected, int64_t *insert_id)
{
	MYSQL_STMT *st;
	enum err e;

	/* Not on Galera: there a compound's failures were seen to go
	 * unreported (docs/scaling.md): a booking answered 201 whose order
	 * was not committed, an order's lines inserted after their order
	 * had been rolled back. One statement per round trip and a COMMIT of
	 * its own fail with 1213 as documented, and db_tx runs it again. */
	if (db->in_tx && affected == NULL && insert_id == NULL && !db->wsrep)
		return hold(db, sql, p, n);
	e = run(db, sql, p, n, &st);
	if (e != ERR_OK)
		return e;
	if (affected != NULL)
		*affected = mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = (int64_t)mysql_stmt_insert_id(st);
	mysql_stmt_free_result(st);
	return ERR_OK;
}

enum err
db_exec(struct db *db, const char *sql, const struct db_val *p, size_t n,
	uint64_t *affected)
{
	return exec_stmt(db, sql, p, n, affected, NULL);
}

enum err
db_insert(struct db *db, const char *sql, const struct db_val *p, size_t n,
	  int64_t *id)
{
	return exec_stmt(db, sql, p, n, NULL, id);
}

/* Bytes kept per string column of a row; longer values are fetched
 * again (fetch_long), up to DB_MAX_VALUE bytes (more is cut). */
#define DB_COL_BUF   1024
#define DB_MAX_VALUE (1u << 20)

/* Column i of the current row, len bytes long, into *out (grown as
 * needed, NUL-terminated); its length, cut to DB_MAX_VALUE, into col. */
static enum err
fetch_long(struct db *db, MYSQL_STMT *st, size_t i, unsigned long len,
	   char **out, size_t *cap, struct db_val *col)
{
	MYSQL_BIND b;
	unsigned long got = 0;
	my_bool null = 0;

	if (len > DB_MAX_VALUE)
		len = DB_MAX_VALUE;
	if (*cap < len + 1) {
		char *p = realloc(*out, len + 1);

		if (p == NULL)
			return ERR_NOMEM;
		*out = p;
		*cap = len + 1;
	}
	memset(&b, 0, sizeof(b));
	b.buffer_type = MYSQL_TYPE_STRING;
	b.buffer = *out;
	b.buffer_length = len;
	b.length = &got;
	b.is_null = &null;
	if (mysql_stmt_fetch_column(st, &b, (unsigned)i, 0) != 0)
		return db_fail(db, stmt_errno(db, st), "fetch column");
	col->len = got < len ? got : len;
	(*out)[col->len] = '\0';
	col->s = *out;
	return ERR_OK;
}

enum err
db_query(struct db *db, const char *sql, const struct db_val *p, size_t n,
	 enum err (*row)(void *arg, const struct db_val *cols, size_t ncols),
	 void *arg)
{
	MYSQL_BIND b[DB_MAX_COLS];
	struct db_val cols[DB_MAX_COLS];
	unsigned long lens[DB_MAX_COLS];
	my_bool nulls[DB_MAX_COLS];
	int64_t ints[DB_MAX_COLS];
	size_t off[DB_MAX_COLS];
	char *buf = NULL, *big[DB_MAX_COLS] = {0};
	size_t bigcap[DB_MAX_COLS] = {0};
	size_t ncols, i, total = 0;
	MYSQL_RES *meta;
	MYSQL_STMT *st;
	enum err e;
	int rc;

	e = run(db, sql, p, n, &st);
	if (e != ERR_OK)
		return e;
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) {
		mysql_stmt_free_result(st);
		return ERR_OK;
	}
	ncols = mysql_num_fields(meta);
	if (ncols > DB_MAX_COLS) {
		log_error("query returns %zu columns; at most %d", ncols,
			  DB_MAX_COLS);
		mysql_free_result(meta);
		mysql_stmt_free_result(st);
		return ERR_INTERNAL;
	}
	memset(b, 0, sizeof(b));
	/*
	 * Strings land in one buffer, DB_COL_BUF bytes at most per column
	 * (the column's width when less); a longer value (a TEXT column's) is
	 * fetched again into a buffer of its own. Reserving the declared
	 * width of every TEXT column (up to 1 MiB) for each query made glibc
	 * map and unmap memory on every snapshot.
	 */
	for (i = 0; i < ncols; i++) {
		MYSQL_FIELD *f = mysql_fetch_field_direct(meta, (unsigned)i);
		int is_int =
		    f->type == MYSQL_TYPE_LONGLONG ||
		    f->type == MYSQL_TYPE_LONG || f->type == MYSQL_TYPE_SHORT ||
		    f->type == MYSQL_TYPE_TINY || f->type == MYSQL_TYPE_INT24;

		b[i].is_null = &nulls[i];
		b[i].length = &lens[i];
		if (is_int) {
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &ints[i];
			cols[i].type = DB_I64;
		} else {
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer_length =
			    f->length < DB_COL_BUF ? f->length : DB_COL_BUF;
			off[i] = total;
			total += b[i].buffer_length + 1;
			cols[i].type = DB_STR;
		}
	}
	if (total > 0 && (buf = malloc(total)) == NULL) {
		e = ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < ncols; i++)
		if (cols[i].type == DB_STR)
			b[i].buffer = buf + off[i];
	if (mysql_stmt_bind_result(st, b) != 0) {
		e = db_fail(db, stmt_errno(db, st), "bind result");
		goto out;
	}
	errno = 0;
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		struct db_val row_cols[DB_MAX_COLS];

		for (i = 0; i < ncols; i++) {
			row_cols[i] = cols[i];
			if (nulls[i]) {
				row_cols[i].type = DB_NULL;
			} else if (cols[i].type == DB_I64) {
				row_cols[i].i = ints[i];
			} else if (lens[i] <= b[i].buffer_length) {
				row_cols[i].s = buf + off[i];
				buf[off[i] + lens[i]] = '\0';
				row_cols[i].len = lens[i];
			} else {
				e = fetch_long(db, st, i, lens[i], &big[i],
					       &bigcap[i], &row_cols[i]);
				if (e != ERR_OK)
					goto out;
			}
		}
		e = row(arg, row_cols, ncols);
		if (e != ERR_OK)
			goto out;
	}
	if (rc == 1)
		e = db_fail(db, stmt_errno(db, st), "fetch");
out:
	for (i = 0; i < ncols; i++)
		free(big[i]);
	free(buf);
	mysql_free_result(meta);
	if (db->conn != NULL)
		mysql_stmt_free_result(st);
	return e;
}

enum err
db_row_two_ints(void *arg, const struct db_val *c, size_t n)
{
	int64_t *out = arg;

	if (n < 2)
		return ERR_INTERNAL;
	out[0] = c[0].type == DB_I64 ? c[0].i : 0;
	out[1] = c[1].type == DB_I64 ? c[1].i : 0;
	return ERR_OK;
}

enum err
db_row_int(void *arg, const struct db_val *c, size_t n)
{
	if (n >= 1 && c[0].type == DB_I64)
		*(int64_t *)arg = c[0].i;
	return ERR_OK;
}

struct json_object *
db_val_json(const struct db_val *c)
{
	switch (c->type) {
	case DB_I64:
		return json_object_new_int64(c->i);
	case DB_STR:
		return json_object_new_string_len(c->s, (int)c->len);
	default:
		return NULL;
	}
}

enum err
db_int(struct db *db, const char *sql, const struct db_val *p, size_t n,
       int64_t *out)
{
	*out = 0;
	return db_query(db, sql, p, n, db_row_int, out);
}

static const char sql_identity[] =
    "SELECT CONCAT(@@hostname, ':', @@port, ':', @@wsrep_node_name), "
    "CAST(UNIX_TIMESTAMP() - "
    "VARIABLE_VALUE AS SIGNED), CONNECTION_ID() FROM "
    "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'";
static const char sql_alive[] =
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?";

static enum err
identity_row(void *arg, const struct db_val *c, size_t n)
{
	struct db_identity *w = arg;

	if (n != 3 || c[0].type != DB_STR || c[1].type != DB_I64 ||
	    c[2].type != DB_I64)
		return ERR_INTERNAL;
	snprintf(w->server, sizeof(w->server), "%.*s", (int)c[0].len, c[0].s);
	w->boot = c[1].i;
	w->conn_id = c[2].i;
	w->known = 1;
	return ERR_OK;
}

enum err
db_identity(struct db *db, const struct db_identity **out)
{
	struct db_identity w = {0};
	enum err e;

	if (!db->who.known || db->conn == NULL) {
		e = db_query(db, sql_identity, NULL, 0, identity_row, &w);
		if (e != ERR_OK)
			return e;
		if (!w.known)
			return ERR_INTERNAL;
		/* After the query: it may have replaced the connection. */
		db->who = w;
	}
	*out = &db->who;
	return ERR_OK;
}

enum err
db_gone(struct db *db, const struct db_identity *who, int64_t made, int *gone)
{
	const struct db_identity *me;
	struct db_val p;
	int64_t n = 1;
	enum err e;

	*gone = 0;
	e = db_identity(db, &me);
	if (e != ERR_OK || strcmp(me->server, who->server) != 0)
		return e;
	/* The start is computed from whole seconds and the clock: a
	 * restart moves it by the old server's whole life, a clock step by
	 * less than this (then PROCESSLIST decides). */
	if (me->boot - who->boot > 30 || who->boot - me->boot > 30) {
		*gone = 1;
		return ERR_OK;
	}
	/* The server started after the record was written (boot is good
	 * to a second, made is floored): a restart soon after an earlier
	 * one, which the test above cannot tell from a clock step, and
	 * whose new connections reuse the old ones' ids. */
	if (made > 0 && me->boot - made >= 2) {
		*gone = 1;
		return ERR_OK;
	}
	p = DB_I(who->conn_id);
	e = db_query(db, sql_alive, &p, 1, db_row_int, &n);
	if (e == ERR_OK)
		*gone = n == 0;
	return e;
}

static const char sql_wsrep[] =
    "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM "
    "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN "
    "('WSREP_READY', 'WSREP_LOCAL_STATE_COMMENT')";

static enum err
wsrep_row(void *arg, const struct db_val *c, size_t n)
{
	struct db_node *o = arg;

	if (n != 2 || c[0].type != DB_STR || c[1].type != DB_STR)
		return ERR_INTERNAL;
	if (strcasecmp(c[0].s, "WSREP_READY") == 0)
		o->ready = strcasecmp(c[1].s, "ON") == 0;
	else
		snprintf(o->state, sizeof(o->state), "%s", c[1].s);
	return ERR_OK;
}

enum err
db_node(struct db *db, struct db_node *out)
{
	enum err e = db_connect(db);

	memset(out, 0, sizeof(*out));
	out->ready = 1;
	if (e != ERR_OK)
		return e;
	if (*config_str("database.socket") != '\0')
		snprintf(out->host, sizeof(out->host), "%s",
			 config_str("database.socket"));
	else
		snprintf(out->host, sizeof(out->host), "%s:%u",
			 hosts[db->host].addr.host, hosts[db->host].addr.port);
	out->wsrep = db->wsrep;
	if (!db->wsrep)
		return ERR_OK;
	out->ready = 0;
	return db_query(db, sql_wsrep, NULL, 0, wsrep_row, out);
}

int
db_ref(const char *ref, struct db_val *out)
{
	int64_t id = 0;

	if (str_is_id(ref) && parse_i64(ref, &id) == 0) {
		*out = DB_I(id);
		return 1;
	}
	*out = DB_S(ref);
	return 0;
}

/* ref (db_ref) then extra[0..nextra) into p (4 values); the statement to
 * run, or NULL when they do not fit. */
static const char *
bind_ref(const char *ref, const char *sql_id, const char *sql_code,
	 const struct db_val *extra, size_t nextra, struct db_val *p)
{
	int by_id;
	size_t i;

	if (nextra > 3)
		return NULL;
	by_id = db_ref(ref, &p[0]);
	for (i = 0; i < nextra; i++)
		p[i + 1] = extra[i];
	return by_id ? sql_id : sql_code;
}

enum err
db_query_ref(struct db *db, const char *ref, const char *sql_id,
	     const char *sql_code, const struct db_val *extra, size_t nextra,
	     enum err (*row)(void *arg, const struct db_val *cols,
			     size_t ncols),
	     void *arg)
{
	struct db_val p[4];
	const char *sql = bind_ref(ref, sql_id, sql_code, extra, nextra, p);

	return sql != NULL ? db_query(db, sql, p, nextra + 1, row, arg)
			   : ERR_INTERNAL;
}

enum err
db_exec_ref(struct db *db, const char *ref, const char *sql_id,
	    const char *sql_code, const struct db_val *extra, size_t nextra,
	    uint64_t *affected)
{
	struct db_val p[4];
	const char *sql = bind_ref(ref, sql_id, sql_code, extra, nextra, p);

	return sql != NULL ? db_exec(db, sql, p, nextra + 1, affected)
			   : ERR_INTERNAL;
}

struct tx_ctx {
	struct db *db;
	enum err (*fn)(struct db *db, void *arg);
	void *arg;
};

static enum err
tx_attempt(void *p)
{
	struct tx_ctx *c = p;
	int committed = 0, at_commit = 0;
	enum err e;

	/* No START TRANSACTION: autocommit is off, the first statement opens
	 * it (continuing reads made before, which changes nothing under READ
	 * COMMITTED). */
	c->db->in_tx = 1;
	c->db->attempts++;
	c->db->tx_stmts = 0;
	c->db->tx_lost = ERR_OK;
	c->db->tx_marked = 0;
	e = c->fn(c->db, c->arg);
	if (c->db->tx_lost != ERR_OK && e != c->db->tx_lost) {
		log_warn("a transaction went on after its end (%s), "
			 "answering %s: run again",
			 err_code(c->db->tx_lost), err_code(e));
		e = c->db->tx_lost;
	}
	if (e == ERR_OK && c->db->precommit != NULL)
		e = c->db->precommit(c->db, c->db->precommit_arg);
	if (c->db->tx_marked && c->db->tx_lost == ERR_OK &&
	    c->db->conn != NULL) {
		enum err u = tx_unmark(c->db);

		if (u == ERR_DB_RETRY || e == ERR_OK)
			e = u;
	}
	/* The last write, if held, carries the COMMIT. */
	if (e == ERR_OK && c->db->held.nsql > 0) {
		at_commit = 1;
		e = flush(c->db, 1);
		committed = e == ERR_OK;
	}
	unhold(c->db);
	c->db->in_tx = 0;
	c->db->open = 0; /* Before db_fail, which may close the connection. */
	errno = 0;
	if (e == ERR_OK && !committed && c->db->conn != NULL) {
		at_commit = 1;
		if (mysql_commit(c->db->conn) != 0)
			e = db_fail(c->db, mysql_errno(c->db->conn), "commit");
	}
	c->db->commit_unknown = at_commit && e == ERR_DATABASE_UNAVAILABLE;
	if (e != ERR_OK && c->db->conn != NULL)
		mysql_rollback(c->db->conn);
	if (e == ERR_OK)
		c->db->commits++;
	return e;
}

/*
 * Before retry n (1, 2, ...): a random pause of up to 2^(n+1) ms. Two
 * transactions that deadlocked, or lost Galera's certification to each
 * other's nodes, would otherwise run again in step and meet again; apart,
 * the later one finds the earlier one's commit.
 */
static void
retry_pause(int n)
{
	static _Thread_local unsigned seed;
	struct timespec ts;

	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (unsigned)ts.tv_nsec ^ (unsigned)(uintptr_t)&ts;
		seed |= 1;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(rand_r(&seed) % (2000u << (n < 8 ? n : 8))) * 1000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * db_retry's policy; with last_errno (the error number of the attempt
 * that just failed), a lock wait that timed out (1205) is run again once
 * only: its lock's holder is slow, each wait lasts read_timeout less a
 * second, and more of them would outlast nginx's read timeout (60 s)
 * where one more rarely finds the lock free. A deadlock or a Galera
 * certification conflict (1213) is over at once: run again up to
 * max_retries times.
 */
static enum err
retry_runs(enum err (*attempt)(void *arg), void *arg, int max_retries,
	   const unsigned *last_errno, int *retries)
{
	enum err e;
	int n = 0, waits = 0;

	for (;;) {
		e = attempt(arg);
		if (e != ERR_DB_RETRY || n >= max_retries)
			break;
		if (last_errno != NULL && *last_errno == ER_LOCK_WAIT_TIMEOUT &&
		    waits++ > 0)
			break;
		n++;
		retry_pause(n);
	}
	if (retries != NULL)
		*retries = n;
	return e;
}

enum err
db_retry(enum err (*attempt)(void *arg), void *arg, int max_retries,
	 int *retries)
{
	return retry_runs(attempt, arg, max_retries, NULL, retries);
}

enum err
db_tx(struct db *db, enum err (*fn)(struct db *db, void *arg), void *arg)
{
	struct tx_ctx c = {db, fn, arg};
	int retries = 0, runs = 0, i;
	enum err e;

	db->commit_unknown = 0;
	/* A dead connection is replaced at the first statement (run()). */
	e = db_connect(db);
	if (e != ERR_OK)
		return e;
	do {
		e = retry_runs(tx_attempt, &c,
			       (int)config_int("database.tx_retries"),
			       &db->last_errno, &retries);
		for (i = 0; i < retries; i++)
			metrics_inc(MET_DB_TX_RETRIES);
	} while (e == ERR_TX_AGAIN && ++runs < DB_TX_AGAIN_MAX);
	/* Said, as the request will only say database_unavailable: a hot
	 * row (Galera's certification) or deadlocks, every run. */
	if (e == ERR_DB_RETRY)
		log_warn(
		    "a transaction ran %d times, each ended by a deadlock, "
		    "a lock wait or a certification conflict (last %u): "
		    "given up",
		    retries + 1, db->last_errno);
	return e;
}

struct tx_out_ctx {
	struct pool *pool;
	size_t mark;
	void *out;
	size_t size;
	enum err (*fn)(struct db *db, void *arg);
	void *arg;
};

/* Each run of a db_tx_out transaction starts from nothing. */
static enum err
tx_out_run(struct db *db, void *p)
{
	struct tx_out_ctx *c = p;

	pool_release_to(c->pool, c->mark);
	memset(c->out, 0, c->size);
	return c->fn(db, c->arg);
}

enum err
db_tx_out(struct db *db, struct pool *pool, void *out, size_t size,
	  enum err (*fn)(struct db *db, void *arg), void *arg)
{
	struct tx_out_ctx c = {pool, pool_mark(pool), out, size, fn, arg};

	memset(out, 0, size); /* Also when no run starts (no connection). */
	return db_tx(db, tx_out_run, &c);
}
