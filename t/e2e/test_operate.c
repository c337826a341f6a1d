/*
 * End-to-end: operating checkoutd outside the test stack's own setup.
 * Under spawn-fcgi (stdout and stderr are /dev/null) it logs to
 * log.file; SIGHUP after logrotate moved the file opens a new one and
 * applies a reloaded key (log.format) while a request in flight finishes;
 * a database lacking migrations answers 503 migrations_pending on the API
 * and nothing else; /metrics needs the admin token unless the caller is
 * local and came through the socket. Each runs a checkoutd of its own
 * beside the stack's, on the stack's MariaDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* The stack's root client, for databases of this suite's own. */
#define SQL                                                                    \
	"mariadb --no-defaults -uroot --socket=\"$STACK_DIR/run/mysql.sock\" " \
	"-N -e "

static int
sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs cmd and keeps its standard output in out (NUL-terminated);
 * returns its exit status. */
static int
capture(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

/* Whether file holds needle. */
static int
file_has(const char *file, const char *needle)
{
	char text[65536];
	size_t n;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return strstr(text, needle) != NULL;
}

/* One FastCGI request to the socket sock (cgi-fcgi, libfcgi's client):
 * GET path with query, from REMOTE_ADDR 127.0.0.1; the response in out. */
static void
fcgi_get(const char *sock, const char *path, const char *query, char *out,
	 size_t len)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "env -i REQUEST_METHOD=GET DOCUMENT_URI='%s' "
		 "QUERY_STRING='%s' REMOTE_ADDR=127.0.0.1 "
		 "/usr/bin/cgi-fcgi -bind -connect '%s' 2>&1",
		 path, query, sock);
	capture(cmd, out, len);
}

static long
read_pid(const char *file)
{
	long pid = 0;
	FILE *f;
	int i;

	for (i = 0; i < 100 && pid == 0; i++) {
		f = fopen(file, "r");
		if (f != NULL) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid == 0)
			usleep(50000);
	}
	return pid;
}

/* Waits up to 5 s for file to hold needle. */
static int
wait_for(const char *file, const char *needle)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (file_has(file, needle))
			return 1;
		usleep(50000);
	}
	return 0;
}

struct slow {
	char sock[600], out[4096];
};

static void *
slow_request(void *arg)
{
	struct slow *s = arg;

	fcgi_get(s->sock, "/api/_test/sleep", "ms=1500", s->out,
		 sizeof(s->out));
	return NULL;
}

static void
test_spawn_fcgi_logs_to_file_and_sighup_reopens(void **state)
{
	const char *stack = getenv("STACK_DIR");
	char dir[512], conf[600], sock[600], log[600], moved[600], pidf[600];
	char cmd[4096], out[4096];
	struct slow s;
	pthread_t t;
	long pid;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/operate", stack);
	snprintf(conf, sizeof(conf), "%s/op.conf", dir);
	snprintf(sock, sizeof(sock), "%s/op.sock", dir);
	snprintf(log, sizeof(log), "%s/op.log", dir);
	snprintf(moved, sizeof(moved), "%s/op.log.1", dir);
	snprintf(pidf, sizeof(pidf), "%s/op.pid", dir);
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && mkdir -p '%s' && cp '%s/checkoutd.conf' '%s'",
		 dir, dir, stack, conf);
	assert_int_equal(sh(cmd), 0);
	f = fopen(conf, "a");
	assert_non_null(f);
	fprintf(f, "[log]\nfile = %s\nformat = text\n", log);
	fclose(f);
	/* spawn-fcgi binds the socket, hands it over as fd 0 and sends
	 * stdout and stderr to /dev/null. listen and pid_file emptied: the
	 * socket is inherited, and the stack's pid file is not ours. */
	snprintf(cmd, sizeof(cmd),
		 "spawn-fcgi -s '%s' -M 0600 -P '%s' -- /usr/bin/env "
		 "CHECKOUTD_SERVER_LISTEN= CHECKOUTD_SERVER_PID_FILE= "
		 "CHECKOUTD_SERVER_WORKERS=2 \"$CHECKOUTD_BIN\" --config '%s' "
		 ">/dev/null 2>&1",
		 sock, pidf, conf);
	assert_int_equal(sh(cmd), 0);
	pid = read_pid(pidf);
	assert_true(pid > 0);
	snprintf(cmd, sizeof(cmd),
		 ": configuration %s, listening on an inherited socket", conf);
	if (!wait_for(log, cmd))
		fail_msg("%s lacks the first line", log);
	fcgi_get(sock, "/api/checkouts/health/ping", "", out, sizeof(out));
	assert_non_null(strstr(out, "pong"));
	assert_true(wait_for(log, " access "));
	assert_true(file_has(log, "/api/checkouts/health/ping 200 "));

	/* A request in flight; logrotate moves the file, the format
	 * changes to json, SIGHUP. */
	snprintf(s.sock, sizeof(s.sock), "%s", sock);
	assert_int_equal(pthread_create(&t, NULL, slow_request, &s), 0);
	usleep(300000);
	assert_int_equal(rename(log, moved), 0);
	snprintf(cmd, sizeof(cmd),
		 "sed -i 's/^format = text$/format = json/' '%s'", conf);
	assert_int_equal(sh(cmd), 0);
	assert_int_equal(kill((pid_t)pid, SIGHUP), 0);
	if (!wait_for(log, "\"level\":\"info\",\"msg\":\"SIGHUP received: "
			   "configuration "))
		fail_msg("no SIGHUP line in a new %s", log);
	assert_true(
	    file_has(log, "\"msg\":\"config: changed now: log.format\""));
	pthread_join(t, NULL);
	/* The request in flight finished, and its line is in the new file
	 * as JSON. */
	assert_non_null(strstr(s.out, "Status: 200"));
	assert_int_equal(kill((pid_t)pid, 0), 0);
	fcgi_get(sock, "/api/checkouts/health/ping", "", out, sizeof(out));
	assert_non_null(strstr(out, "pong"));
	assert_true(
	    wait_for(log, "\"path\":\"/api/_test/sleep\",\"status\":200,"));
	assert_true(wait_for(log, "\"path\":\"/api/checkouts/health/ping\","
				  "\"status\":200,"));
	/* The moved file kept what came before, and nothing after. */
	assert_true(file_has(moved, ": configuration "));
	assert_false(file_has(moved, "SIGHUP"));
	assert_false(file_has(moved, "/api/_test/sleep"));

	assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
	assert_true(wait_for(log, "shutting down"));
}

/* Teardown of the spawn-fcgi test: its checkoutd, should an assertion
 * have failed before the test's own SIGTERM, is stopped by the PID
 * spawn-fcgi wrote, once /proc says that PID still runs CHECKOUTD_BIN
 * (SIGTERM, then SIGKILL after 10 s). After a passing test it only
 * waits for that process to be gone. */
static int
stop_spawned(void **state)
{
	char pidf[600], exe[PATH_MAX], link[64], bin[PATH_MAX];
	const char *stack = getenv("STACK_DIR");
	ssize_t n;
	long pid;
	FILE *f;
	int i;

	(void)state;
	snprintf(pidf, sizeof(pidf), "%s/operate/op.pid", stack);
	f = fopen(pidf, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || realpath(getenv("CHECKOUTD_BIN"), bin) == NULL)
		return 0;
	snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
	for (i = 0; i < 200; i++) {
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n < 0)
			return 0; /* gone */
		exe[n] = '\0';
		if (strcmp(exe, bin) != 0)
			return 0; /* no longer ours */
		if (i == 0)
			kill((pid_t)pid, SIGTERM);
		if (i == 100) {
			fprintf(stderr,
				"operate: checkoutd %ld ignored SIGTERM, "
				"killed\n",
				pid);
			kill((pid_t)pid, SIGKILL);
		}
		usleep(100000);
	}
	fprintf(stderr, "operate: checkoutd %ld still runs\n", pid);
	return -1;
}

/* The response of checkoutd run as CGI for GET path with env (NAME=value
 * words) against the stack's configuration. */
static void
cgi_get(const char *env, const char *path, char *out, size_t len)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "cd / && env -i REQUEST_METHOD=GET PATH_INFO='%s' "
		 "GATEWAY_INTERFACE=CGI/1.1 "
		 "CHECKOUTD_CONFIG=\"$STACK_DIR/checkoutd.conf\" %s "
		 "\"$CHECKOUTD_BIN\" </dev/null 2>/dev/null",
		 path, env);
	capture(cmd, out, len);
}

#define PENDING_DB                                                             \
	"CHECKOUTD_DATABASE_SOCKET=\"$STACK_DIR/run/mysql.sock\" "             \
	"CHECKOUTD_DATABASE_USER=root CHECKOUTD_DATABASE_PASSWORD= "           \
	"CHECKOUTD_DATABASE_NAME=pendtest"

static void
test_pending_migrations_answer_503(void **state)
{
	static const char *const api[] = {"/api/products", "/api/carts/1",
					  "/api/checkouts/1", "/api/orders/1"};
	char out[4096], cmd[1024];
	size_t i;

	(void)state;
	assert_int_equal(sh(SQL "'DROP DATABASE IF EXISTS pendtest; "
				"CREATE DATABASE pendtest'"),
			 0);
	for (i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		cgi_get(PENDING_DB, api[i], out, sizeof(out));
		if (strstr(out, "Status: 503 Service Unavailable\r\n") ==
			NULL ||
		    strstr(out, "\"code\":\"migrations_pending\"") == NULL ||
		    strstr(out, "checkoutctl migrate") == NULL)
			fail_msg("%s: %s", api[i], out);
	}
	/* The health paths answer as before. */
	cgi_get(PENDING_DB, "/api/checkouts/health/ping", out, sizeof(out));
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	cgi_get(PENDING_DB, "/api/health/ready", out, sizeof(out));
	assert_non_null(strstr(out, "\"code\":\"database_unavailable\""));
	assert_non_null(strstr(out, "\"pending_migrations\":"));
	/* Migrated, the same path answers. */
	snprintf(cmd, sizeof(cmd),
		 PENDING_DB " \"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" "
			    "migrate >/dev/null");
	assert_int_equal(sh(cmd), 0);
	cgi_get(PENDING_DB, "/api/products", out, sizeof(out));
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	assert_int_equal(sh(SQL "'DROP DATABASE pendtest'"), 0);
}

static void
test_metrics_need_the_token_unless_local(void **state)
{
	char out[65536], env[512];
	struct resp r;

	(void)state;
	/* Through nginx from 127.0.0.1: the socket, a local caller. */
	assert_int_equal(e2e_request("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "checkoutd_"));
	resp_free(&r);
	/* As CGI (a shared host), even from 127.0.0.1: the token. */
	cgi_get("REMOTE_ADDR=127.0.0.1", "/metrics", out, sizeof(out));
	assert_non_null(strstr(out, "Status: 401 Unauthorized\r\n"));
	cgi_get("REMOTE_ADDR=203.0.113.9 HTTP_AUTHORIZATION='Bearer wrong'",
		"/metrics", out, sizeof(out));
	assert_non_null(strstr(out, "Status: 401 Unauthorized\r\n"));
	snprintf(env, sizeof(env),
		 "REMOTE_ADDR=203.0.113.9 HTTP_AUTHORIZATION='Bearer %s'",
		 getenv("ADMIN_TOKEN"));
	cgi_get(env, "/metrics", out, sizeof(out));
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	assert_non_null(strstr(out, "checkoutd_"));
}

/* checkoutctl doctor with the stack's configuration and env (NAME=value
 * words) in front; its output in out, its exit status returned. */
static int
doctor(const char *env, char *out, size_t len)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "%s \"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" doctor 2>&1",
		 env);
	return capture(cmd, out, len);
}

/* The one line of out that starts with start, or fails. */
static const char *
line_of(const char *out, const char *start)
{
	const char *p = out;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, start, strlen(start)) == 0)
			return p;
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	fail_msg("no line \"%s...\" in:\n%s", start, out);
	return NULL;
}

static void
test_doctor_names_each_problem_with_its_fix(void **state)
{
	char out[8192], env[1024];
	const char *l;

	(void)state;
	/* The stack as it runs: nothing to fix. */
	if (doctor("", out, sizeof(out)) != 0)
		fail_msg("doctor on the running stack:\n%s", out);
	line_of(out, "ok   socket: ");
	line_of(out, "ok   database: connected as checkoutd");
	line_of(out, "ok   migrations: 0 of ");
	line_of(out, "0 problems found");

	/* A wrong database password. */
	assert_int_equal(
	    doctor("CHECKOUTD_DATABASE_PASSWORD=wrong", out, sizeof(out)), 1);
	l = line_of(out, "FAIL database: cannot connect as checkoutd");
	assert_non_null(strstr(l, "Access denied"));
	assert_true(strstr(l, "; fix: set database.user and "
			      "database.password") < strchr(l, '\n'));
	line_of(out, "1 problem found");

	/* A missing secret. */
	assert_int_equal(
	    doctor("CHECKOUTD_PAYMENT_STRIPE_SECRET_KEY=", out, sizeof(out)),
	    1);
	l = line_of(out, "FAIL payment.stripe_secret_key: empty: card "
			 "payments are refused; fix: set "
			 "payment.stripe_secret_key");
	line_of(out, "1 problem found");

	/* A socket nginx's user cannot connect to (0600, root's). */
	assert_int_equal(
	    sh("rm -f \"$STACK_DIR/closed.sock\" && python3 -c 'import "
	       "socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "
	       "\"$STACK_DIR/closed.sock\" && chmod 0600 "
	       "\"$STACK_DIR/closed.sock\""),
	    0);
	snprintf(env, sizeof(env),
		 "CHECKOUTD_SERVER_LISTEN=unix:%s/closed.sock",
		 getenv("STACK_DIR"));
	assert_int_equal(doctor(env, out, sizeof(out)), 1);
	l = line_of(out, "FAIL socket: ");
	assert_non_null(strstr(l, "closed.sock (mode 0600, group root): "
				  "nginx's user www-data cannot connect"));
	assert_non_null(strstr(l, "; fix: server.socket_group = "));
	line_of(out, "1 problem found");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(
		test_spawn_fcgi_logs_to_file_and_sighup_reopens, stop_spawned),
	    cmocka_unit_test(test_pending_migrations_answer_503),
	    cmocka_unit_test(test_metrics_need_the_token_unless_local),
	    cmocka_unit_test(test_doctor_names_each_problem_with_its_fix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
