/*
 * End-to-end: checkoutd as a process. Plain CGI answers one request;
 * killed (SIGKILL) in the middle of concurrent finalizes, it leaves each
 * order either placed whole or untouched; SIGTERM with requests in flight
 * finishes them, refuses new connections and exits 0 within the grace
 * period. Runs last: it stops the stack's checkoutd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static void
test_plain_cgi_answers_the_ping(void **state)
{
	char out[512];
	size_t n;
	FILE *p;

	(void)state;
	p = popen("cd / && env -i REQUEST_METHOD=GET "
		  "PATH_INFO=/api/checkouts/health/ping \"$CHECKOUTD_BIN\" "
		  "</dev/null 2>/dev/null",
		  "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "Status: 200 OK\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain"));
	assert_non_null(strstr(out, "\r\n\r\npong"));
	p = popen("cd / && env -i REQUEST_METHOD=GET PATH_INFO=/nope "
		  "\"$CHECKOUTD_BIN\" </dev/null 2>/dev/null",
		  "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	assert_non_null(strstr(out, "Status: 404 Not Found\r\n"));
}

/* --version prints the version and exits 0; a server's first log line
 * names the configuration file it read and where it listens. */
static void
test_version_and_first_log_line(void **state)
{
	char out[128], want[512];
	struct buf log = {0};
	size_t n;
	FILE *p;

	(void)state;
	p = popen("\"$CHECKOUTD_BIN\" --version", "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "checkoutd " PACKAGE_VERSION "\n"));
	assert_int_equal(stack_file("log/checkoutd.log", &log), 0);
	snprintf(want, sizeof(want),
		 ": configuration %s/checkoutd.conf, "
		 "listening on unix:",
		 getenv("STACK_DIR"));
	/* The log's first line. */
	*strchr(log.data, '\n') = '\0';
	if (strstr(log.data, want) == NULL)
		fail_msg("first line %s lacks %s", log.data, want);
	buf_free(&log);
}

/* Runs a shell command and returns its exit status. */
static int
sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/*
 * checkoutctl against a database of its own (the stack's root user over the
 * socket), so this does not disturb the service's schema.
 */
#define CTL                                                                    \
	"CHECKOUTD_DATABASE_SOCKET=\"$STACK_DIR/run/mysql.sock\" "             \
	"CHECKOUTD_DATABASE_USER=root CHECKOUTD_DATABASE_PASSWORD= "           \
	"CHECKOUTD_DATABASE_NAME=migtest \"$(dirname \"$CHECKOUTD_BIN\")/"     \
	"checkoutctl\" "
#define SQL                                                                    \
	"mariadb --no-defaults -uroot --socket=\"$STACK_DIR/run/mysql.sock\" " \
	"-N -e "

static void
test_migrate_is_safe_twice_and_concurrently(void **state)
{
	struct buf out = {0};
	char line[256];
	FILE *p;
	size_t n;

	(void)state;
	assert_int_equal(sh(SQL "'DROP DATABASE IF EXISTS migtest; CREATE "
				"DATABASE migtest'"),
			 0);
	assert_int_equal(sh(CTL "migrate --status | grep -q '^pending '"), 0);
	/* Two at once: both succeed, each migration is applied once. */
	assert_int_equal(sh("(" CTL "migrate >/dev/null & " CTL
			    "migrate >/dev/null & wait %1 && wait %2)"),
			 0);
	p = popen(SQL "'SELECT COUNT(*), COUNT(DISTINCT version) FROM "
		      "migtest.schema_migrations'",
		  "r");
	assert_non_null(p);
	n = fread(line, 1, sizeof(line) - 1, p);
	line[n] = '\0';
	pclose(p);
	assert_int_equal(atoi(line), atoi(strchr(line, '\t') + 1));
	assert_true(atoi(line) >= 1);
	/* Again: nothing to do. */
	p = popen(CTL "migrate", "r");
	while ((n = fread(line, 1, sizeof(line), p)) > 0)
		buf_append(&out, line, n);
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out.data, "0 applied, schema up to date"));
	buf_free(&out);
	assert_int_equal(sh(CTL "migrate --status | grep -q '^pending '"), 1);
	assert_int_equal(sh(SQL "'DROP DATABASE migtest'"), 0);
}

/* The unix socket path from the stack's checkoutd.conf. */
static void
socket_path(char *out, size_t len)
{
	struct buf conf = {0};
	const char *p;

	assert_int_equal(stack_file("checkoutd.conf", &conf), 0);
	p = strstr(conf.data, "listen = unix:");
	assert_non_null(p);
	p += strlen("listen = unix:");
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	buf_free(&conf);
}

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return size * n;
}

/* SIGKILL in the middle of concurrent finalizes. */

/* Of the orders of b[0..n), how many are placed whole (number, state new,
 * stock held, payment new, shipment ready, one order.completed event);
 * fails the test on any order that is neither that nor untouched. */
static int
placed(const struct buyer *b, int n)
{
	int i, done = 0;

	for (i = 0; i < n; i++) {
		long id = b[i].c.id;
		int whole = (int)sql(
		    "SELECT COUNT(*) FROM orders o JOIN payments p ON "
		    "p.order_id = o.id JOIN shipments s ON s.order_id = o.id "
		    "WHERE o.id = %ld AND o.checkout_state = 'completed' AND "
		    "o.state = 'new' AND o.number IS NOT NULL AND "
		    "o.payment_state = 'awaiting_payment' AND p.state = 'new' "
		    "AND s.state = 'ready' AND (SELECT COUNT(*) FROM "
		    "outbox_events e WHERE e.order_id = o.id AND e.type = "
		    "'order.completed') = 1",
		    id);
		int untouched = (int)sql(
		    "SELECT COUNT(*) FROM orders o WHERE o.id = %ld AND "
		    "o.checkout_state = 'payment_selected' AND o.state = "
		    "'cart' AND o.number IS NULL AND NOT EXISTS (SELECT 1 FROM "
		    "outbox_events e WHERE e.order_id = o.id)",
		    id);

		if (whole + untouched != 1)
			fail_msg("order %ld is half done", id);
		/* An answered 200 is an order that exists. */
		if (b[i].status == 200 && !whole)
			fail_msg("order %ld answered 200 and is not placed",
				 id);
		done += whole;
	}
	return done;
}

static void
test_sigkill_leaves_no_half_done_order(void **state)
{
	enum { N = 40 };
	struct buyer *b = calloc(N, sizeof(*b));
	pthread_t t[N];
	pthread_barrier_t barrier;
	long pid = stack_pid("checkoutd");
	int64_t hold;
	int i, done, answered = 0;

	(void)state;
	assert_true(pid > 0);
	for (i = 0; i < N; i++)
		ready_to_finalize(&b[i].c, "tshirt-m");
	hold = stock("tshirt-m", -1);
	pthread_barrier_init(&barrier, NULL, N + 1);
	for (i = 0; i < N; i++) {
		b[i].barrier = &barrier;
		pthread_create(&t[i], NULL, buyer_finalize, &b[i]);
	}
	pthread_barrier_wait(&barrier);
	usleep(20000);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		answered += b[i].status == 200;
	}
	pthread_barrier_destroy(&barrier);
	/* The run command's start step brings checkoutd back. */
	assert_int_equal(stack("up", NULL), 0);
	assert_true(stack_pid("checkoutd") != pid);
	done = placed(b, N);
	print_message("killed with %d of %d finalizes answered 200; %d "
		      "placed\n",
		      answered, N, done);
	assert_int_equal(stock("tshirt-m", -1), hold + done);
	/* What was cut short completes now; what was placed answers the
	 * same order again. */
	for (i = 0; i < N; i++) {
		struct json_object *o =
		    call(&b[i].c, "PUT", co(&b[i].c), NULL, NULL, 200);

		assert_string_equal(text(o, "checkout_state"), "completed");
		json_object_put(o);
		b[i].status = 200;
	}
	assert_int_equal(placed(b, N), N);
	assert_int_equal(stock("tshirt-m", -1), hold + N);
	free(b);
}

static void
test_sigterm_finishes_requests_in_flight(void **state)
{
	const char *base = getenv("CHECKOUTD_URL");
	long pid = stack_pid("checkoutd"), grace = 15;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct buf bodies[3] = {{0}}, status = {0};
	CURLM *m = curl_multi_init();
	CURL *h[3];
	char url[256], sock[108];
	int running = 0, i, ok = 0, fd;
	double t0, deadline;
	struct resp r;
	CURLMsg *msg;

	(void)state;
	assert_true(pid > 0);
	if (getenv("STACK_GRACE") != NULL)
		grace = atol(getenv("STACK_GRACE"));
	socket_path(sock, sizeof(sock));
	snprintf(url, sizeof(url), "%s/api/_test/sleep?ms=1500", base);
	for (i = 0; i < 3; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &bodies[i]);
		curl_multi_add_handle(m, h[i]);
	}
	/* Let the three reach checkoutd, then stop it. */
	t0 = e2e_now();
	while (e2e_now() - t0 < 0.5) {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	assert_int_equal(running, 3);
	t0 = e2e_now();
	assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
	usleep(200000);
	/* New connections are refused: the socket is gone or closed. */
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0);
	assert_true(errno == ECONNREFUSED || errno == ENOENT);
	close(fd);
	/* Through nginx, a new request cannot reach checkoutd either: nginx
	 * answers 503 busy in the problem+json shape. */
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.content_type, "application/problem+json");
	assert_string_equal(resp_json_str(&r, "code"), "busy");
	resp_free(&r);
	do {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
	} while (running > 0);
	while ((msg = curl_multi_info_read(m, &running)) != NULL) {
		long st = 0;

		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
				  &st);
		ok += msg->data.result == CURLE_OK && st == 200;
	}
	assert_int_equal(ok, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(bodies[i].data, "slept");
		buf_free(&bodies[i]);
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
	}
	curl_multi_cleanup(m);
	/* The process exits 0 within the grace period. */
	deadline = t0 + (double)grace;
	while (kill((pid_t)pid, 0) == 0 && e2e_now() < deadline)
		usleep(20000);
	assert_true(kill((pid_t)pid, 0) != 0);
	usleep(100000);
	assert_int_equal(stack_file("run/checkoutd.exit", &status), 0);
	assert_int_equal(atoi(status.data), 0);
	buf_free(&status);
	print_message("checkoutd exited %.2fs after SIGTERM (grace %lds)\n",
		      e2e_now() - t0, grace);
}

/* The payment sandbox's answer to method path (body may be NULL). */
static struct json_object *
sandbox(const char *method, const char *path, const char *body)
{
	return other_json("STRIPE_URL", method, path, body);
}

struct paying {
	struct cart c;
	long status;
};

static void *
pay_keyed(void *arg)
{
	struct paying *p = arg;
	struct resp r = keyed(&p->c, "PUT", co(&p->c), "pay-then-crash", FORM,
			      "number=4242424242424242&expiryMonth=12&"
			      "expiryYear=2030&securityCode=123");

	p->status = r.status;
	resp_free(&r);
	return NULL;
}

/*
 * checkoutd killed after the provider charged and before it answered a
 * keyed purchase; checkoutctl reconcile settles the payment from the
 * provider; the buyer's same-key retry is then answered 200 with the paid
 * order (the charge it made), not a refusal, and that answer is kept for
 * later retries. One charge at the provider.
 */
static void
test_killed_after_charge_retry_gets_the_charge(void **state)
{
	struct paying p = {0};
	struct json_object *o;
	struct resp a, b;
	pthread_t t;
	long pid = stack_pid("checkoutd");
	int i, before, charges = 0;

	(void)state;
	new_cart(&p.c);
	json_object_put(call(&p.c, "POST", sub(&p.c, "/items"), FORM,
			     "variant=tshirt-m&quantity=1", 201));
	put(&p.c, FORM, ADDRESS_FORM, 200);
	put(&p.c, FORM, "shipments[0][method]=flat_eu", 200);
	put(&p.c, FORM, "payments[0][method]=stripe", 200);
	put(&p.c, NULL, NULL, 200);
	o = sandbox("GET", "/_calls", NULL);
	before = (int)num(o, "charges");
	json_object_put(o);
	json_object_put(sandbox("POST", "/_control",
				"{\"op\": \"confirm\", \"hold\": true, "
				"\"count\": 1}"));
	assert_int_equal(pthread_create(&t, NULL, pay_keyed, &p), 0);
	/* The sandbox charged and holds its answer. */
	for (i = 0; i < 100 && charges == 0; i++) {
		usleep(100000);
		o = sandbox("GET", "/_calls", NULL);
		charges = (int)num(o, "charges") - before;
		json_object_put(o);
	}
	assert_int_equal(charges, 1);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	json_object_put(sandbox("POST", "/_release", "{}"));
	pthread_join(t, NULL);
	assert_true(p.status >= 500);
	assert_int_equal(stack("up", NULL), 0);
	/* Its exit status also speaks of other suites' payments. */
	if (system("\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		   "\"$STACK_DIR/checkoutd.conf\" reconcile >/dev/null") == -1)
		fail_msg("cannot run checkoutctl reconcile");
	o = call(&p.c, "GET", p.c.path, NULL, NULL, 200);
	assert_string_equal(text(o, "payment_state"), "paid");
	json_object_put(o);
	a = keyed(&p.c, "PUT", co(&p.c), "pay-then-crash", FORM,
		  "number=4242424242424242&expiryMonth=12&expiryYear=2030&"
		  "securityCode=123");
	if (a.status != 200)
		fail_msg("retry: %ld %s", a.status, a.body.data);
	o = parse(&a);
	assert_string_equal(text(o, "payment_state"), "paid");
	assert_int_equal(strlen(text(o, "number")), 9);
	json_object_put(o);
	b = keyed(&p.c, "PUT", co(&p.c), "pay-then-crash", FORM,
		  "number=4242424242424242&expiryMonth=12&expiryYear=2030&"
		  "securityCode=123");
	assert_int_equal(b.status, 200);
	assert_int_equal(a.body.len, b.body.len);
	assert_memory_equal(a.body.data, b.body.data, a.body.len);
	resp_free(&a);
	resp_free(&b);
	o = sandbox("GET", "/_calls", NULL);
	assert_int_equal(num(o, "charges"), before + 1);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_cgi_answers_the_ping),
	    cmocka_unit_test(test_version_and_first_log_line),
	    cmocka_unit_test(test_migrate_is_safe_twice_and_concurrently),
	    cmocka_unit_test(test_sigkill_leaves_no_half_done_order),
	    cmocka_unit_test(test_killed_after_charge_retry_gets_the_charge),
	    cmocka_unit_test(test_sigterm_finishes_requests_in_flight),
	};
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
