/*
 * The database connection's wait (dbwait.h) on socket pairs: an answer
 * ends it at once, a silent peer ends it after the timeout with ETIMEDOUT
 * (the watchdog shuts the socket down), and a thread's next wait after a
 * timeout, a wait without a limit, several threads at once, a thread
 * that ended and left its waiter to another, and a forked child (no
 * watchdog: it polls with the timeout) behave the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dbwait.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A socket pair: s[0] waits, s[1] is the server. */
static void
pair(int s[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
}

/*
 * A wait of timeout_ms on a silent server (a new socket pair), with no
 * cmocka call (other threads and a forked child run it too): the seconds
 * it took when it ended as a timeout (0 with ETIMEDOUT), else -1. *shut:
 * whether the socket was shut down under it (the read after it finds the
 * end).
 */
static double
silent_wait(int timeout_ms, int *shut)
{
	double t0, took = -1;
	int s[2], rc, err;
	char c;

	*shut = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
		return -1;
	t0 = now();
	errno = 0;
	rc = dbwait_io(s[0], 1, timeout_ms);
	err = errno;
	if (rc == 0 && err == ETIMEDOUT) {
		took = now() - t0;
		*shut = recv(s[0], &c, 1, MSG_DONTWAIT) == 0;
	}
	close(s[0]);
	close(s[1]);
	return took;
}

/* A silent server: the wait ends after timeout_ms with ETIMEDOUT, and the
 * socket is shut down. Returns the seconds it took. */
static double
times_out(int timeout_ms)
{
	int shut;
	double took = silent_wait(timeout_ms, &shut);

	assert_true(took >= timeout_ms / 1e3);
	assert_true(shut);
	return took;
}

static void
test_answer_ends_the_wait(void **state)
{
	int s[2];
	double t0;

	(void)state;
	pair(s);
	assert_int_equal(write(s[1], "x", 1), 1);
	t0 = now();
	assert_int_equal(dbwait_io(s[0], 1, 2000), 1);
	assert_true(now() - t0 < 0.5);
	close(s[0]);
	close(s[1]);
}

struct late {
	int fd;
	int ms;
};

static void *
answer_late(void *arg)
{
	struct late *l = arg;
	struct timespec ts = {0, (long)l->ms * 1000000L};

	nanosleep(&ts, NULL);
	assert_int_equal(write(l->fd, "x", 1), 1);
	return NULL;
}

/* A socket pair in s whose other end answers ms milliseconds from now,
 * from thread *t. */
static void
answer_in(int s[2], struct late *l, int ms, pthread_t *t)
{
	pair(s);
	l->fd = s[1];
	l->ms = ms;
	pthread_create(t, NULL, answer_late, l);
}

static void
test_late_answer_before_the_timeout(void **state)
{
	int s[2];
	struct late l;
	pthread_t t;
	double t0, took;
	char c;

	(void)state;
	answer_in(s, &l, 300, &t);
	t0 = now();
	assert_int_equal(dbwait_io(s[0], 1, 1000), 1);
	took = now() - t0;
	pthread_join(t, NULL);
	assert_true(took >= 0.25 && took < 0.9);
	/* The socket is still whole: the answer is there to read. */
	assert_int_equal(recv(s[0], &c, 1, MSG_DONTWAIT), 1);
	close(s[0]);
	close(s[1]);
}

static void
test_silent_server_times_out(void **state)
{
	double took;

	(void)state;
	took = times_out(400);
	assert_true(took < 2.0);
	/* The thread's next waits: one answered, one timed out. */
	test_answer_ends_the_wait(state);
	took = times_out(200);
	assert_true(took < 2.0);
}

static void
test_no_limit_waits_for_the_answer(void **state)
{
	int s[2];
	struct late l;
	pthread_t t;

	(void)state;
	answer_in(s, &l, 200, &t);
	assert_int_equal(dbwait_io(s[0], 1, 0), 1);
	pthread_join(t, NULL);
	close(s[0]);
	close(s[1]);
}

static void
test_write_waits_for_room(void **state)
{
	int s[2];

	(void)state;
	pair(s);
	assert_int_equal(dbwait_io(s[0], 0, 1000), 1);
	close(s[0]);
	close(s[1]);
}

/* times_out(300) without cmocka's asserts, which must not run off the
 * main thread: the seconds it took, or -1 when the wait did not end as a
 * timeout. */
static void *
one_timeout(void *arg)
{
	int shut;
	double took = silent_wait(300, &shut);

	*(double *)arg = shut ? took : -1;
	return NULL;
}

/* Four threads time out together, then four new threads (taking the
 * ended threads' waiters) do again. */
static void
test_threads_time_out_each(void **state)
{
	pthread_t t[4];
	double took[4];
	int round, i;

	(void)state;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, one_timeout, &took[i]);
		for (i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_true(took[i] >= 0.3 && took[i] < 2.0);
		}
	}
}

/* A child forked after the watchdog started has none: its wait still
 * times out (polling with the timeout). */
static void
test_forked_child_times_out(void **state)
{
	double took = -1;
	int status = -1;
	pid_t pid;

	(void)state;
	test_answer_ends_the_wait(state); /* The watchdog runs. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int shut;

		alarm(5); /* A wait that never ends fails, not hangs. */
		took = silent_wait(300, &shut);
		_exit(took >= 0.3 && took < 2.0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answer_ends_the_wait),
	    cmocka_unit_test(test_late_answer_before_the_timeout),
	    cmocka_unit_test(test_silent_server_times_out),
	    cmocka_unit_test(test_no_limit_waits_for_the_answer),
	    cmocka_unit_test(test_write_waits_for_room),
	    cmocka_unit_test(test_threads_time_out_each),
	    cmocka_unit_test(test_forked_child_times_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
