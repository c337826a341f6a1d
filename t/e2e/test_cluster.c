/*
 * Issue 17's acceptance on a three-node Galera cluster with a checkoutd per
 * node (t/cluster-accept.sh starts it with t/cluster.sh and sets the
 * environment): CHECKOUTD_URL is nginx's upstream of the three,
 * CLUSTER_URL1..3 each checkoutd alone, STACK_DIR the cluster's directory
 * (node N's socket in nodeN/mysql.sock, checkoutd-N's log in
 * log/checkoutd-N.log), CLUSTER_SH t/cluster.sh, STRIPE_URL the payment
 * sandbox. Every figure is read on each of the three nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define NODES 3

static const char *url[NODES + 1];

/* The nodes' SQL, as root on each node's socket: reads wait until the
 * node applied every write committed before them (wsrep_sync_wait). */

static MYSQL *
node_connect(int n)
{
	char sock[1024];
	MYSQL *m = mysql_init(NULL);

	snprintf(sock, sizeof(sock), "%s/node%d/mysql.sock",
		 getenv("STACK_DIR"), n);
	if (!mysql_real_connect(m, NULL, "root", "", "checkoutd", 0, sock, 0))
		fail_msg("node %d: %s", n, mysql_error(m));
	if (mysql_query(m, "SET SESSION wsrep_sync_wait = 1"))
		fail_msg("node %d: %s", n, mysql_error(m));
	return m;
}

/* Runs query q on node n, calling row for each row of its result. */
static void
node_rows(int n, const char *q, void (*row)(MYSQL_ROW, void *), void *arg)
{
	MYSQL *m = node_connect(n);
	MYSQL_RES *res;
	MYSQL_ROW r;

	if (mysql_query(m, q))
		fail_msg("node %d: %s: %s", n, q, mysql_error(m));
	res = mysql_store_result(m);
	while (res != NULL && (r = mysql_fetch_row(res)) != NULL)
		row(r, arg);
	mysql_free_result(res);
	mysql_close(m);
}

static void
first_int(MYSQL_ROW r, void *arg)
{
	*(int64_t *)arg = r[0] ? strtoll(r[0], NULL, 10) : 0;
}

/* The first column of the first row of a statement on node n (0: none). */
static int64_t node_int(int n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int64_t
node_int(int n, const char *fmt, ...)
{
	char q[2048];
	int64_t v = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	node_rows(n, q, first_int, &v);
	return v;
}

/* Held units of variant code on node n. */
static int64_t
on_hold(int n, const char *code)
{
	return node_int(n,
			"SELECT s.on_hold FROM variant_stock s JOIN "
			"product_variants v ON v.id = s.variant_id WHERE "
			"v.code = '%s'",
			code);
}

/* Sets code's on_hand to what it holds plus left (written on node 1). */
static void
stock_left(const char *code, int left)
{
	node_int(1,
		 "UPDATE variant_stock s JOIN product_variants v ON v.id = "
		 "s.variant_id SET s.on_hand = s.on_hold + %d WHERE v.code = "
		 "'%s'",
		 left, code);
}

/* The last unit across hosts. */

/* A buyer whose cart was made, and who finalizes, through one host. */
struct host_buyer {
	struct buyer b;
	int host;
};

static void *
host_buyer_finalize(void *arg)
{
	struct host_buyer *h = arg;

	e2e_base(url[h->host]);
	buyer_finalize(&h->b);
	return NULL;
}

/*
 * n buyers of one lamp each, their carts spread over the three hosts in
 * turn, with left lamps free; all finalize at once, each through the host
 * of its cart. Returns how many completed; every other answer is 409
 * out_of_stock.
 */
static int
race(int n, int left)
{
	static const char *const logs[NODES] = {"log/checkoutd-1.log",
						"log/checkoutd-2.log",
						"log/checkoutd-3.log"};
	pthread_barrier_t barrier;
	struct host_buyer *b = calloc((size_t)n, sizeof(*b));
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int counts[NODES] = {0}, i, done = 0;

	stock_left("lamp", left);
	for (i = 0; i < n; i++) {
		b[i].host = i % NODES + 1;
		counts[i % NODES]++;
		e2e_base(url[b[i].host]);
		ready_to_finalize(&b[i].b.c, "lamp");
	}
	e2e_base(NULL);
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		b[i].b.barrier = &barrier;
		pthread_create(&t[i], NULL, host_buyer_finalize, &b[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (b[i].b.status == 200)
			done++;
		else if (b[i].b.status != 409 ||
			 strcmp(b[i].b.code, "out_of_stock") != 0)
			fail_msg("buyer %d (host %d): %ld %s", i, b[i].host,
				 b[i].b.status, b[i].b.code);
	}
	pthread_barrier_destroy(&barrier);
	/* They really ran at the same time, on the three hosts. */
	i = e2e_overlaps_in(NODES, logs, counts, " PUT /api/checkouts/");
	print_message("# %d finalizes at once over 3 hosts, %d overlapping "
		      "pairs in their access logs, %d completed\n",
		      n, i, done);
	if (i < 1)
		fail_msg("the %d finalize requests did not overlap in time", n);
	free(b);
	free(t);
	for (i = 1; i <= NODES; i++)
		assert_int_equal(node_int(i, "SELECT COUNT(*) FROM "
					     "variant_stock WHERE on_hand - "
					     "on_hold < 0"),
				 0);
	return done;
}

/* Runs race(n, left) runs times: want completed each time, and the lamp's
 * on_hold up by want on every node. */
static void
races(int runs, int n, int left, int want)
{
	int64_t before[NODES + 1];
	int run, i;

	for (run = 0; run < runs; run++) {
		for (i = 1; i <= NODES; i++)
			before[i] = on_hold(i, "lamp");
		assert_int_equal(race(n, left), want);
		for (i = 1; i <= NODES; i++)
			assert_int_equal(on_hold(i, "lamp") - before[i], want);
	}
	print_message("# %d runs: %d of %d completed each time, on_hold up by "
		      "%d on each of the 3 nodes\n",
		      runs, want, n, want);
}

static void
test_last_unit_across_hosts(void **state)
{
	(void)state;
	races(5, 20, 1, 1);
}

static void
test_three_buyers_two_units(void **state)
{
	(void)state;
	races(3, 3, 2, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_last_unit_across_hosts),
	    cmocka_unit_test(test_three_buyers_two_units),
	};
	char name[32];
	int i;

	for (i = 1; i <= NODES; i++) {
		snprintf(name, sizeof(name), "CLUSTER_URL%d", i);
		url[i] = getenv(name);
		if (url[i] == NULL) {
			fprintf(stderr, "%s is not set (t/cluster-accept.sh)\n",
				name);
			return 2;
		}
	}
	curl_global_init(CURL_GLOBAL_ALL);
	mysql_library_init(0, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
