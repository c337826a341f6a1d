/*
 * End-to-end: what a failing database and a hostile client do to the
 * stack (t/run-tests starts it). A hung MariaDB (SIGSTOPped) answers
 * nothing: checkoutd's workers must be freed by database.read_timeout
 * and the ping must keep answering. Requests that nginx refuses itself
 * (sent over raw sockets where curl would not send them) must get the
 * same problem+json as checkoutd's own errors, never nginx's HTML page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* An answer read off a raw connection: the status, Content-Type and
 * body (all NUL-terminated; status 0 and empty strings when nothing came),
 * and the seconds from sending to the connection's end. */
struct raw {
	long status;
	char ctype[128];
	struct buf all;
	const char *body;
	double took;
};

/*
 * Sends len bytes of req to the stack's nginx from source address src
 * (NULL: any), half-closes the connection when shut is set (the request
 * is all there is), and reads until nginx closes it (30 s at most).
 */
static void
raw_request(const char *src, const char *req, size_t len, int shut,
	    struct raw *out)
{
	const char *url = getenv("CHECKOUTD_URL"), *colon, *p;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 30};
	char chunk[4096];
	double t0;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	assert_non_null(url);
	colon = strrchr(url, ':');
	assert_non_null(colon);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		struct sockaddr_in from = {.sin_family = AF_INET};

		assert_int_equal(inet_pton(AF_INET, src, &from.sin_addr), 1);
		assert_int_equal(
		    bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	t0 = e2e_now();
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	if (shut)
		shutdown(fd, SHUT_WR);
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_append(&out->all, chunk, (size_t)n);
	out->took = e2e_now() - t0;
	close(fd);
	buf_append(&out->all, "", 1);
	out->all.len--;
	out->body = "";
	if (out->all.len == 0)
		return;
	if (strncmp(out->all.data, "HTTP/1.1 ", 9) == 0)
		out->status = atol(out->all.data + 9);
	p = strstr(out->all.data, "\r\n\r\n");
	if (p != NULL)
		out->body = p + 4;
	p = strcasestr(out->all.data, "\r\nContent-Type: ");
	if (p != NULL && (out->body[0] == '\0' || p < out->body)) {
		size_t k = strcspn(p + 16, "\r\n");

		if (k < sizeof(out->ctype))
			memcpy(out->ctype, p + 16, k);
	}
}

/* The raw answer is problem+json of status with code: its status line,
 * Content-Type, and a JSON body with the usual fields. */
static void
assert_raw_problem(struct raw *r, long status, const char *code)
{
	struct json_object *o, *v;
	char want[96];

	if (r->status != status || strcmp(r->ctype, PROBLEM) != 0)
		fail_msg("want %ld %s, got: %s", status, PROBLEM, r->all.data);
	o = json_tokener_parse(r->body);
	if (o == NULL)
		fail_msg("not JSON: %s", r->body);
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_int_equal(json_object_get_int64(v), status);
	assert_string_equal(text(o, "code"), code);
	snprintf(want, sizeof(want), "urn:checkoutd:problem:%s", code);
	assert_string_equal(text(o, "type"), want);
	assert_non_null(text(o, "title"));
	assert_non_null(text(o, "detail"));
	json_object_put(o);
}

#define CLOSE "Host: x\r\nConnection: close\r\n"

/* Requests nginx refuses before checkoutd sees them, each with the
 * status and code it must answer. */
static const struct {
	const char *what, *req, *src;
	long status;
	const char *code;
} refused[] = {
    {"%00 in the path", "GET /api/%00 HTTP/1.1\r\n" CLOSE "\r\n", NULL, 400,
     "malformed_request"},
    {"a header line without a colon",
     "GET /api/checkouts/health/ping HTTP/1.1\r\n" CLOSE "Bad Header\r\n\r\n",
     NULL, 400, "malformed_request"},
    {"a method that is not a token", "G@T / HTTP/1.1\r\n" CLOSE "\r\n", NULL,
     400, "malformed_request"},
    {"HTTP/9", "GET / HTTP/9.0\r\n" CLOSE "\r\n", NULL, 505,
     "http_version_not_supported"},
    {"TRACE", "TRACE /api/products HTTP/1.1\r\n" CLOSE "\r\n", NULL, 405,
     "method_not_allowed"},
    {"an unknown Transfer-Encoding",
     "POST /api/carts HTTP/1.1\r\n" CLOSE "Transfer-Encoding: gzip\r\n\r\n",
     NULL, 501, "not_implemented"},
    {"a body over nginx's 1 MiB",
     "POST /api/carts HTTP/1.1\r\n" CLOSE "Content-Type: application/json\r\n"
     "Content-Length: 2000000\r\n\r\n{",
     NULL, 413, "payload_too_large"},
    {"the metrics from 127.0.0.2", "GET /metrics HTTP/1.1\r\n" CLOSE "\r\n",
     "127.0.0.2", 403, "forbidden"},
    {"the admin API from 127.0.0.2",
     "POST /api/admin/orders/1/cancel HTTP/1.1\r\n" CLOSE
     "Content-Length: 0\r\n\r\n",
     "127.0.0.2", 403, "forbidden"},
    {"an error page asked for directly",
     "GET /_problem/forbidden HTTP/1.1\r\n" CLOSE "\r\n", NULL, 404,
     "not_found"},
};

static void
test_nginx_refusals_are_problem_json(void **state)
{
	struct raw r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		print_message("%s\n", refused[i].what);
		raw_request(refused[i].src, refused[i].req,
			    strlen(refused[i].req), 1, &r);
		assert_raw_problem(&r, refused[i].status, refused[i].code);
		buf_free(&r.all);
	}
}

/* A request line over large_client_header_buffers (8 KiB): 414; a header
 * over it: 431 (nginx's 494, which it would answer as a 400). */
static void
test_nginx_too_long_is_problem_json(void **state)
{
	struct buf req = {0};
	struct raw r;
	size_t i;

	(void)state;
	buf_append(&req, "GET /", 5);
	for (i = 0; i < 20000; i++)
		buf_append(&req, "a", 1);
	buf_append(&req, " HTTP/1.1\r\n" CLOSE "\r\n",
		   strlen(" HTTP/1.1\r\n" CLOSE "\r\n"));
	raw_request(NULL, req.data, req.len, 1, &r);
	assert_raw_problem(&r, 414, "uri_too_long");
	buf_free(&r.all);
	buf_reset(&req);
	buf_append(&req, "GET /api/products HTTP/1.1\r\n" CLOSE "X-Big: ",
		   strlen("GET /api/products HTTP/1.1\r\n" CLOSE "X-Big: "));
	for (i = 0; i < 20000; i++)
		buf_append(&req, "a", 1);
	buf_append(&req, "\r\n\r\n", 4);
	raw_request(NULL, req.data, req.len, 1, &r);
	assert_raw_problem(&r, 431, "header_too_large");
	buf_free(&r.all);
	buf_free(&req);
}

/* A slow client (one that stops sending) ends with the shipped
 * client_header_timeout / client_body_timeout (10 s). */
struct slow {
	pthread_t t;
	const char *req;
	struct raw r;
};

static void *
slow(void *arg)
{
	struct slow *s = arg;

	raw_request(NULL, s->req, strlen(s->req), 0, &s->r);
	return NULL;
}

/*
 * Headers that never end, and a body that stops after its first byte:
 * nginx gives up after 10 s (408 in its log) and closes the connection
 * without an answer (nginx 1.22 sends none on these timeouts): nothing
 * to parse, and above all no HTML page. Should a version answer, its
 * 408 must be problem+json.
 */
static void
test_slow_clients_are_cut_off(void **state)
{
	struct slow s[2] = {
	    {.req = "GET /api/products HTTP/1.1\r\nHost: x\r\n"},
	    {.req = "POST /api/carts HTTP/1.1\r\nHost: x\r\nContent-Type: "
		    "application/json\r\nContent-Length: 10\r\n\r\n{"},
	};
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&s[i].t, NULL, slow, &s[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(s[i].t, NULL);
		print_message("slow client %d: closed after %.1f s with %zu "
			      "bytes\n",
			      i, s[i].r.took, s[i].r.all.len);
		assert_true(s[i].r.took > 9 && s[i].r.took < 15);
		if (s[i].r.all.len > 0)
			assert_raw_problem(&s[i].r, 408, "request_timeout");
		buf_free(&s[i].r.all);
	}
}

/*
 * checkoutd stopped: nginx cannot reach it (502; its 504, a checkoutd
 * that does not answer in fastcgi_read_timeout, 60 s, takes the same
 * page) and answers 503 busy with Retry-After. Last: the stack is
 * brought back at the end, as the run command's start step does.
 */
static void
test_checkoutd_stopped_is_problem_json(void **state)
{
	static const char req[] = "GET /api/products HTTP/1.1\r\n" CLOSE "\r\n";
	struct raw r;
	struct resp ok;

	(void)state;
	assert_int_equal(stack("checkoutd-stop", NULL), 0);
	raw_request(NULL, req, strlen(req), 1, &r);
	assert_int_equal(stack("up", NULL), 0);
	assert_raw_problem(&r, 503, "busy");
	assert_non_null(strcasestr(r.all.data, "\r\nRetry-After: 1\r\n"));
	buf_free(&r.all);
	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", NULL, &ok), 0);
	assert_int_equal(ok.status, 200);
	resp_free(&ok);
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
	double t0 = e2e_now();

	q->rc = e2e_request("GET", "/api/health/ready", NULL, &q->r);
	q->took = e2e_now() - t0;
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
	t0 = e2e_now();
	assert_int_equal(pthread_create(&q.t, NULL, ready, &q), 0);
	usleep(100 * 1000);
	for (i = 0; i < LOADERS; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].stop = &stop;
		assert_int_equal(pthread_create(&l[i].t, NULL, load, &l[i]), 0);
	}
	while (e2e_now() - t0 < HANG_S) {
		double sent = e2e_now(), took;

		assert_int_equal(
		    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r),
		    0);
		took = e2e_now() - sent;
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
	    cmocka_unit_test(test_nginx_refusals_are_problem_json),
	    cmocka_unit_test(test_nginx_too_long_is_problem_json),
	    cmocka_unit_test(test_slow_clients_are_cut_off),
	    cmocka_unit_test_teardown(test_hung_database_frees_the_workers,
				      teardown_continue),
	    /* Stops checkoutd: last. */
	    cmocka_unit_test(test_checkoutd_stopped_is_problem_json),
	};

	atexit(db_continue);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
