#include "dbwait.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* How often the watchdog looks, in milliseconds. */
#define TICK_MS 50

/*
 * A thread's wait, where the watchdog sees it. state goes IDLE ->
 * WAITING (the thread, fd and deadline set before) -> IDLE (the thread,
 * the wait ended) or -> FIRING (the watchdog, past the deadline) ->
 * FIRED (the socket shut down) -> IDLE (the thread). While the state is
 * WAITING, FIRING or FIRED, the thread is inside dbwait_io and fd is
 * open. Waiters are never freed: a thread that ends leaves its waiter to
 * the next thread (used).
 */
enum { W_IDLE, W_WAITING, W_FIRING, W_FIRED };
struct waiter {
	int fd;
	long long deadline; /* CLOCK_MONOTONIC_COARSE milliseconds. */
	int state;
	int used; /* A thread has it. */
	struct waiter *next;
};

static struct waiter *waiters;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int watching;	   /* The watchdog runs. */
static long long slack_ms; /* The coarse clock's resolution, rounded up. */
static _Thread_local struct waiter *me;

static long long
coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
watch(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec tick = {0, TICK_MS * 1000000L};
		long long now;
		struct waiter *w;

		nanosleep(&tick, NULL);
		now = coarse_ms();
		for (w = __atomic_load_n(&waiters, __ATOMIC_ACQUIRE); w != NULL;
		     w = w->next) {
			int st = W_WAITING;

			if (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) !=
				W_WAITING ||
			    now <
				__atomic_load_n(&w->deadline, __ATOMIC_RELAXED))
				continue;
			if (!__atomic_compare_exchange_n(
				&w->state, &st, W_FIRING, 0, __ATOMIC_ACQ_REL,
				__ATOMIC_RELAXED))
				continue;
			/* Held: this is the wait now in progress, which may
			 * be a newer one than the deadline read above. */
			if (now <
			    __atomic_load_n(&w->deadline, __ATOMIC_RELAXED)) {
				__atomic_store_n(&w->state, W_WAITING,
						 __ATOMIC_RELEASE);
				continue;
			}
			shutdown(__atomic_load_n(&w->fd, __ATOMIC_RELAXED),
				 SHUT_RDWR);
			__atomic_store_n(&w->state, W_FIRED, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

/* A thread that ends gives its waiter back. */
static void
release(void *p)
{
	struct waiter *w = p;

	__atomic_store_n(&w->used, 0, __ATOMIC_RELEASE);
}

/* A child of fork() has no watchdog: its waits poll with the timeout. */
static void
forked(void)
{
	watching = 0;
	me = NULL;
}

static void
start(void)
{
	struct timespec res;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 ||
	    pthread_key_create(&key, release) != 0 ||
	    pthread_atfork(NULL, NULL, forked) != 0)
		return;
	slack_ms = (long long)res.tv_sec * 1000 + res.tv_nsec / 1000000 + 1;
	/* The watchdog takes no signal: the process's go to its threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		watching = pthread_create(&t, &attr, watch, NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* This thread's waiter, or NULL (no watchdog, or no memory). */
static struct waiter *
self(void)
{
	struct waiter *w;

	if (me != NULL)
		return me;
	pthread_once(&once, start);
	if (!watching)
		return NULL;
	for (w = __atomic_load_n(&waiters, __ATOMIC_ACQUIRE); w != NULL;
	     w = w->next) {
		int unused = 0;

		if (__atomic_compare_exchange_n(&w->used, &unused, 1, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			break;
	}
	if (w == NULL) {
		w = calloc(1, sizeof(*w));
		if (w == NULL)
			return NULL;
		w->used = 1;
		w->next = __atomic_load_n(&waiters, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&waiters, &w->next, w, 0,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
	}
	if (pthread_setspecific(key, w) != 0) {
		release(w);
		return NULL;
	}
	me = w;
	return w;
}

static int
poll_for(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	do
		rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc;
}

int
dbwait_io(my_socket fd, my_bool is_read, int timeout_ms)
{
	struct waiter *w;
	int rc, err;

	if (!is_read || timeout_ms <= 0)
		return poll_for(fd, is_read ? POLLIN : POLLOUT, timeout_ms);
	w = self();
	if (w == NULL)
		return poll_for(fd, POLLIN, timeout_ms);
	__atomic_store_n(&w->fd, fd, __ATOMIC_RELAXED);
	__atomic_store_n(&w->deadline, coarse_ms() + timeout_ms + slack_ms,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&w->state, W_WAITING, __ATOMIC_RELEASE);
	rc = poll_for(fd, POLLIN, -1);
	err = errno;
	for (;;) {
		int st = W_WAITING;

		if (__atomic_compare_exchange_n(&w->state, &st, W_IDLE, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
		if (st == W_FIRED) {
			__atomic_store_n(&w->state, W_IDLE, __ATOMIC_RELEASE);
			errno = ETIMEDOUT;
			return 0;
		}
		sched_yield(); /* FIRING: the watchdog decides. */
	}
	errno = err;
	return rc;
}
