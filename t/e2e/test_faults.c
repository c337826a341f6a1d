/*
 * End-to-end: what a hostile peer, an unlucky client and a failing
 * database do to the service. Peers that connect to the FastCGI socket and
 * send nothing or half a record take no worker; one client's oversized
 * body does not break another's request on nginx's kept connection; SIGHUP
 * is logged and ignored; the socket is open to nginx's group only; and a
 * database killed under a load of keyed writes leaves no key stranded:
 * every client's same-key retry completes soon after it is back, and each
 * key's work is done exactly once. Restarts the stack's MariaDB: runs
 * after the suites that only read the stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* The path of checkoutd's socket, from the stack's configuration. */
static const char *
socket_path(void)
{
	static char path[108];
	struct buf conf = {0};
	const char *p;
	size_t n;

	assert_int_equal(stack_file("checkoutd.conf", &conf), 0);
	p = strstr(conf.data, "listen = unix:");
	assert_non_null(p);
	p += strlen("listen = unix:");
	n = strcspn(p, "\n");
	assert_true(n < sizeof(path));
	memcpy(path, p, n);
	path[n] = '\0';
	buf_free(&conf);
	return path;
}

static int
connect_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path());
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The ping through nginx: its status and how long it took. */
static long
ping(double *took)
{
	struct resp r;
	double t0 = e2e_now();
	long status;

	assert_int_equal(
	    e2e_request("GET", "/api/checkouts/health/ping", NULL, &r), 0);
	*took = e2e_now() - t0;
	status = r.status;
	resp_free(&r);
	return status;
}

/* nginx's workers reach the socket through its group, nobody else. */
static void
test_socket_open_to_nginx_group_only(void **state)
{
	struct stat st;
	struct group *g = getgrnam("www-data");

	(void)state;
	assert_non_null(g);
	assert_int_equal(stat(socket_path(), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, g->gr_gid);
}

/*
 * 20 peers that send half a FastCGI record and 20 that send a whole
 * BEGIN_REQUEST and half their parameters, more than the stack's 12
 * workers: the ping still answers at once, and each peer is disconnected
 * after server.client_timeout (3 s on the test stack).
 */
static void
test_silent_peers_take_no_worker(void **state)
{
	/* BEGIN_REQUEST (id 1, responder, keep), then PARAMS of 200 bytes
	 * of which only the header comes. */
	static const unsigned char begin[] = {1, 1, 0, 1, 0, 8,	  0, 0,
					      0, 1, 1, 0, 0, 0,	  0, 0,
					      1, 4, 0, 1, 0, 200, 0, 0};
	int peers[40], i;
	double took, t0;
	char c;

	(void)state;
	for (i = 0; i < 40; i++) {
		peers[i] = connect_socket();
		if (i < 20)
			assert_int_equal(write(peers[i], begin, 4), 4);
		else
			assert_int_equal(write(peers[i], begin, sizeof(begin)),
					 (ssize_t)sizeof(begin));
	}
	t0 = e2e_now();
	for (i = 0; i < 5; i++) {
		assert_int_equal(ping(&took), 200);
		assert_true(took < 1.0);
	}
	/* Each peer is closed by checkoutd within the timeout (+ its 1 s
	 * sweep and a margin). */
	for (i = 0; i < 40; i++) {
		struct pollfd p = {.fd = peers[i], .events = POLLIN};
		int left = (int)((t0 + 6.0 - e2e_now()) * 1000);
		ssize_t n;

		assert_int_equal(poll(&p, 1, left > 0 ? left : 0), 1);
		/* Closed with their bytes unread: a reset, or the end. */
		n = read(peers[i], &c, 1);
		assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
		close(peers[i]);
	}
	assert_int_equal(ping(&took), 200);
}

/* A FastCGI record of type with content c[0..n) (n < 65536, no padding)
 * into out; its length. */
static size_t
fcgi_record(unsigned char *out, unsigned type, const void *c, size_t n)
{
	out[0] = 1;
	out[1] = (unsigned char)type;
	out[2] = 0;
	out[3] = 1; /* Request id 1. */
	out[4] = (unsigned char)(n >> 8);
	out[5] = (unsigned char)n;
	out[6] = out[7] = 0;
	memcpy(out + 8, c, n);
	return 8 + n;
}

/* A name-value pair (both under 128 bytes) into out; its length. */
static size_t
fcgi_pair(unsigned char *out, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	out[0] = (unsigned char)nl;
	out[1] = (unsigned char)vl;
	memcpy(out + 2, name, nl);
	memcpy(out + 2 + nl, value, vl);
	return 2 + nl + vl;
}

/* The ping as FastCGI records (BEGIN_REQUEST with keep as its flag, the
 * parameters, an empty stdin), with X-Test-Release-Pause: pause when it
 * is not NULL; their length. */
static size_t
fcgi_ping(unsigned char *out, int keep, const char *pause)
{
	const unsigned char begin[8] = {0, 1, (unsigned char)keep};
	unsigned char params[512];
	size_t n = 0, len;

	n += fcgi_pair(params + n, "REQUEST_METHOD", "GET");
	n += fcgi_pair(params + n, "REQUEST_URI", "/api/checkouts/health/ping");
	n += fcgi_pair(params + n, "REMOTE_ADDR", "127.0.0.1");
	if (pause != NULL)
		n += fcgi_pair(params + n, "HTTP_X_TEST_RELEASE_PAUSE", pause);
	len = fcgi_record(out, 1, begin, sizeof(begin));
	len += fcgi_record(out + len, 4, params, n);
	len += fcgi_record(out + len, 4, "", 0);
	len += fcgi_record(out + len, 5, "", 0);
	return len;
}

/* Reads fd's answer to 2 s at most, up to its END_REQUEST record; 1 when
 * its stdout said "Status: 200". */
static int
fcgi_answered_200(int fd)
{
	unsigned char in[8192];
	size_t have = 0, off = 0;
	int ok = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		while (off + 8 <= have) {
			unsigned type = in[off + 1];
			size_t len = (size_t)in[off + 4] << 8 | in[off + 5];
			size_t all = 8 + len + in[off + 6];

			if (off + all > have)
				break;
			if (type == 6 && len >= 11 &&
			    memcmp(in + off + 8, "Status: 200", 11) == 0)
				ok = 1;
			if (type == 3)
				return ok;
			off += all;
		}
		if (have == sizeof(in) || poll(&p, 1, 2000) != 1)
			return 0;
		n = read(fd, in + have, sizeof(in) - have);
		if (n <= 0)
			return 0;
		have += (size_t)n;
	}
}

/*
 * A connection libfcgi closes (its request does not keep it) is closed
 * before its worker releases the number; a new connection accepted under
 * that number meanwhile, whose request then waits in the lobby, is still
 * served: its state is not reset under it by the old connection's worker.
 * The test build's X-Test-Release-Pause holds the old worker 300 ms
 * between libfcgi's close and the release; the new connection's request
 * comes whole only after that. Five rounds (the kernel gives the lowest
 * free number, most likely the one just closed).
 */
static void
test_closed_number_reused_under_lobby(void **state)
{
	unsigned char req[1024];
	size_t len = fcgi_ping(req, 1, NULL);
	int round;

	(void)state;
	for (round = 0; round < 5; round++) {
		unsigned char old[1024];
		size_t olen = fcgi_ping(old, 0, "300");
		int a = connect_socket(), b;
		char c;

		assert_int_equal(write(a, old, olen), (ssize_t)olen);
		assert_true(fcgi_answered_200(a));
		/* Closed by checkoutd: the end after the answer. */
		assert_int_equal(read(a, &c, 1), 0);
		close(a);
		b = connect_socket();
		/* Half the request: the lobby holds it. */
		assert_int_equal(write(b, req, 20), 20);
		usleep(500000);
		assert_int_equal(write(b, req + 20, len - 20),
				 (ssize_t)(len - 20));
		assert_true(fcgi_answered_200(b));
		/* Kept: a second request on it is served too. */
		assert_int_equal(write(b, req, len), (ssize_t)len);
		assert_true(fcgi_answered_200(b));
		close(b);
	}
}

struct writer {
	struct cart c;
	const int *stop;
	int done, bad;
	long bad_status;
};

/* Adds one poster at a time until stopped; counts answers that are not
 * 2xx. */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct req_opts o = {.ctype = FORM,
			     .body = "variant=poster",
			     .headers = {w->c.token_header}};

	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		struct resp r;

		if (e2e_request("POST", sub(&w->c, "/items"), &o, &r) != 0 ||
		    r.status < 200 || r.status > 299) {
			w->bad++;
			w->bad_status = r.status;
		} else {
			w->done++;
		}
		resp_free(&r);
	}
	return NULL;
}

/*
 * One client sends 70 KB bodies (over server.max_body, under nginx's
 * limit: checkoutd answers 413) while 8 others write: none of the others
 * sees anything but 2xx, on connections nginx keeps and shares.
 */
static void
test_oversized_body_spares_other_clients(void **state)
{
	struct writer w[8];
	pthread_t th[8];
	int stop = 0, i, big = 0;
	char *body = malloc(70000);
	struct cart c;
	double t0;

	(void)state;
	memset(body, 'x', 70000);
	memcpy(body, "variant=", 8);
	new_cart(&c);
	for (i = 0; i < 8; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		new_cart(&w[i].c);
		w[i].stop = &stop;
		assert_int_equal(
		    pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	t0 = e2e_now();
	while (e2e_now() - t0 < 4.0) {
		struct req_opts o = {.ctype = FORM,
				     .body = body,
				     .body_len = 70000,
				     .headers = {c.token_header}};
		struct resp r;

		assert_int_equal(e2e_request("POST", sub(&c, "/items"), &o, &r),
				 0);
		assert_int_equal(r.status, 413);
		assert_string_equal(r.content_type, "application/problem+json");
		assert_string_equal(resp_json_str(&r, "code"),
				    "payload_too_large");
		resp_free(&r);
		big++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (w[i].bad > 0)
			print_error(
			    "writer %d: %d answers not 2xx (last %ld)\n", i,
			    w[i].bad, w[i].bad_status);
		assert_int_equal(w[i].bad, 0);
		assert_true(w[i].done > 0);
	}
	assert_true(big > 10);
	free(body);
}

static void
test_sighup_keeps_the_service_answering(void **state)
{
	long pid = stack_pid("checkoutd");
	struct buf log = {0};
	double took;
	int i;

	(void)state;
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGHUP), 0);
	for (i = 0; i < 50; i++) {
		buf_free(&log);
		assert_int_equal(stack_file("log/checkoutd.log", &log), 0);
		if (strstr(log.data, "SIGHUP received") != NULL)
			break;
		usleep(100000);
	}
	assert_non_null(strstr(log.data, "SIGHUP received"));
	buf_free(&log);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	assert_int_equal(stack_pid("checkoutd"), pid);
	assert_int_equal(ping(&took), 200);
}

/* A client of the load below: one key at a time, retried with the same
 * key until it is answered 2xx. */
struct keyed_client {
	struct cart c;
	int id;
	const int *stop;
	const double *back; /* When the database answered again (0: not). */
	int keys;	    /* Keys completed. */
	double worst;	    /* Longest wait after back for a key. */
	long last_bad;
};

static void *
keyed_main(void *arg)
{
	struct keyed_client *k = arg;
	char key[64];

	while (!__atomic_load_n(k->stop, __ATOMIC_ACQUIRE)) {
		double back;
		struct resp r;

		snprintf(key, sizeof(key), "load-%d-%d", k->id, k->keys);
		r = keyed(&k->c, "POST", sub(&k->c, "/items"), key, FORM,
			  "variant=poster");
		__atomic_load(k->back, &back, __ATOMIC_ACQUIRE);
		if (r.status == 201) {
			k->keys++;
		} else {
			k->last_bad = r.status;
			if (back > 0 && e2e_now() - back > k->worst)
				k->worst = e2e_now() - back;
			usleep(100000);
		}
		resp_free(&r);
	}
	return NULL;
}

/* The quantity of the cart's poster line. */
static int64_t
posters(struct cart *c)
{
	struct json_object *o = call(c, "GET", c->path, NULL, NULL, 200),
			   *items, *it;
	int64_t q = 0;
	size_t i;

	assert_true(json_object_object_get_ex(o, "items", &items));
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		q += num(it, "quantity");
	}
	json_object_put(o);
	return q;
}

/*
 * MariaDB SIGKILLed under 8 clients writing with keys, then restarted:
 * every same-key retry completes within 5 s of the database answering
 * again (a marker whose writer's connection died is taken over at once,
 * not after 60 s), and the carts hold exactly one poster per key.
 */
static void
test_database_killed_keys_retry_at_once(void **state)
{
	struct keyed_client k[8];
	pthread_t th[8];
	int stop = 0, i;
	double back = 0, t;
	long db;

	(void)state;
	for (i = 0; i < 8; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		new_cart(&k[i].c);
		k[i].id = i;
		k[i].stop = &stop;
		k[i].back = &back;
		assert_int_equal(
		    pthread_create(&th[i], NULL, keyed_main, &k[i]), 0);
	}
	usleep(1500000);
	db = stack_pid("mariadb");
	assert_true(db > 0);
	assert_int_equal(kill((pid_t)db, SIGKILL), 0);
	usleep(2000000);
	assert_int_equal(stack("up", NULL), 0);
	/* The database answers again: from here each retry has 5 s. */
	t = e2e_now();
	__atomic_store(&back, &t, __ATOMIC_RELEASE);
	usleep(8000000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		print_message("client %d: %d keys, worst wait after the "
			      "database came back %.2f s (last refusal %ld)\n",
			      i, k[i].keys, k[i].worst, k[i].last_bad);
		assert_true(k[i].worst < 5.0);
		assert_true(k[i].keys > 0);
		/* Each key's work exactly once. */
		assert_int_equal(posters(&k[i].c), k[i].keys);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_socket_open_to_nginx_group_only),
	    cmocka_unit_test(test_silent_peers_take_no_worker),
	    cmocka_unit_test(test_closed_number_reused_under_lobby),
	    cmocka_unit_test(test_oversized_body_spares_other_clients),
	    cmocka_unit_test(test_sighup_keeps_the_service_answering),
	    cmocka_unit_test(test_database_killed_keys_retry_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
