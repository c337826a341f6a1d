/*
 * End-to-end: what a failing database and a hostile client do to the
 * stack (t/run-tests starts it). A hung MariaDB (SIGSTOPped) answers
 * nothing: checkoutd's workers must be freed by database.read_timeout
 * and the ping must keep answering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define PROBLEM "application/problem+json"

static void
assert_problem(struct resp *r, long status, const char *code)
{
	char want[96];

	if (r->status != status)
		fail_msg("status %ld, want %ld: %s", r->status, status,
			 r->body.data);
	assert_string_equal(r->content_type, PROBLEM);
	assert_string_equal(resp_json_str(r, "code"), code);
	snprintf(want, sizeof(want), "urn:checkoutd:problem:%s", code);
	assert_string_equal(resp_json_str(r, "type"), want);
	assert_int_equal(atol(resp_json_str(r, "status")), status);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The stack's database.read_timeout: its CHECKOUTD_ override (t/run-tests
 * sets one), else the default. */
static double
read_timeout(void)
{
	static const char key[] = "CHECKOUTD_DATABASE_READ_TIMEOUT=";
	struct buf b = {0};
	double t = 10;
	const char *p;

	if (stack_file("checkoutd.env", &b) == 0 &&
	    (p = strstr(b.data, key)) != NULL)
		t = atof(p + strlen(key));
	buf_free(&b);
	return t;
}

/* MariaDB's pid while it is stopped: it is continued by the test's
 * teardown and at exit, whatever happens in between. */
static long stopped_pid = -1;
/* Tells the loaders (below) to stop; set by the teardown too. */
static volatile int stop;

static void
db_continue(void)
{
	if (stopped_pid > 0)
		kill((pid_t)stopped_pid, SIGCONT);
	stopped_pid = -1;
}

static int
teardown_continue(void **state)
{
	(void)state;
	stop = 1;
	db_continue();
	return 0;
}

static void
db_hang(void)
{
	long pid = stack_pid("mariadb");

	assert_true(pid > 0);
	stopped_pid = pid;
	assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
}

/* A client of the database while it hangs: sends GET /api/products until
 * told to stop, counting answers that are not a problem+json 503 (or a
 * 200 that came after the server was continued). */
struct loader {
	pthread_t t;
	volatile int *stop;
	int sent, bad;
	long last_bad;
};

static void *
load(void *arg)
{
	struct loader *l = arg;

	while (!*l->stop) {
		struct resp r;

		if (e2e_request("GET", "/api/products", NULL, &r) != 0) {
			l->bad++;
			continue;
		}
		l->sent++;
		/* The request that tests the server may be answered once it
		 * runs again. */
		if (r.status == 200 && *l->stop) {
			resp_free(&r);
			break;
		}
		if (r.status != 503 || strcmp(r.content_type, PROBLEM) != 0 ||
		    resp_json_str(&r, "code") == NULL ||
		    strcmp(resp_json_str(&r, "code"), "database_unavailable") !=
			0) {
			l->bad++;
			l->last_bad = r.status;
		}
		resp_free(&r);
	}
	return NULL;
}

/* GET /api/health/ready, timed. */
struct ready {
	pthread_t t;
	struct resp r;
	int rc;
	double took;
};

static void *
ready(void *arg)
{
	struct ready *q = arg;
	double t0 = now();

	q->rc = e2e_request("GET", "/api/health/ready", NULL, &q->r);
	q->took = now() - t0;
	return NULL;
}

#define LOADERS 16 /* More than the stack's 12 workers. */
#define HANG_S	10

/*
 * MariaDB stopped for 10 s while 16 clients (more than the workers) keep
 * asking for the catalog: readiness answers 503 within read_timeout, the
 * catalog requests all end as 503 database_unavailable (never 500, never
 * hanging), and the ping answers throughout: at worst after the workers
 * that were inside a statement when the server stopped are freed (one
 * read_timeout), and at once after that, when checkoutd knows the server
 * is hung and fails requests without waiting on it. Afterwards
 * everything answers normally again.
 */
static void
test_hung_database_frees_the_workers(void **state)
{
	double rt = read_timeout(), t0, worst = 0, worst_late = 0;
	struct loader l[LOADERS];
	struct ready q;
	struct resp r;
	int i, pings = 0, ok = 0;

	(void)state;
	/* Every worker has its connection open and warm. */
	for (i = 0; i < 24; i++) {
		assert_int_equal(
		    e2e_request("GET", "/api/health/ready", NULL, &r), 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	stop = 0;
	db_hang();
	t0 = now();
	assert_int_equal(pthread_create(&q.t, NULL, ready, &q), 0);
	usleep(100 * 1000);
	for (i = 0; i < LOADERS; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].stop = &stop;
		assert_int_equal(pthread_create(&l[i].t, NULL, load, &l[i]), 0);
	}
	while (now() - t0 < HANG_S) {
		double sent = now(), took;

		assert_int_equal(
		    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r),
		    0);
		took = now() - sent;
		pings++;
		ok += r.status == 200 && strcmp(r.body.data, "pong") == 0;
		resp_free(&r);
		if (took > worst)
			worst = took;
		if (sent - t0 > rt + 1 && took > worst_late)
			worst_late = took;
		usleep(200 * 1000);
	}
	stop = 1;
	db_continue();
	for (i = 0; i < LOADERS; i++)
		pthread_join(l[i].t, NULL);
	pthread_join(q.t, NULL);
	print_message("read_timeout %.0f s; ready 503 after %.2f s; %d pings, "
		      "slowest %.2f s, slowest after the first %.0f s %.3f s\n",
		      rt, q.took, pings, worst, rt + 1, worst_late);
	assert_int_equal(q.rc, 0);
	assert_problem(&q.r, 503, "database_unavailable");
	resp_free(&q.r);
	assert_true(q.took < rt + 1);
	assert_int_equal(ok, pings);
	assert_true(pings >= 10);
	assert_true(worst < rt + 1);
	assert_true(worst_late < 0.5);
	for (i = 0; i < LOADERS; i++) {
		if (l[i].bad > 0)
			fail_msg("client %d: %d of %d answers not a 503 "
				 "database_unavailable (last %ld)",
				 i, l[i].bad, l[i].sent, l[i].last_bad);
		assert_true(l[i].sent > 0);
	}
	/* Back: the first request to arrive tests the server, and then
	 * every worker uses it again. */
	for (i = 0; i < 50; i++) {
		assert_int_equal(
		    e2e_request("GET", "/api/health/ready", NULL, &r), 0);
		if (r.status == 200)
			break;
		resp_free(&r);
		usleep(100 * 1000);
	}
	assert_int_equal(r.status, 200);
	resp_free(&r);
	for (i = 0; i < 24; i++) {
		assert_int_equal(e2e_request("GET", "/api/products", NULL, &r),
				 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hung_database_frees_the_workers,
				      teardown_continue),
	};

	atexit(db_continue);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
