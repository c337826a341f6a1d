#include "server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "db.h"
#include "http.h"
#include "config.h"
#include "log.h"
#include "outbox.h"

#define MAX_FD 65536
/* How long a read-only transaction stays open for the next request
 * (seconds): a worker with nothing to do ends it after this long asleep,
 * a busy one after a request once it has been open this long. */
#define IDLE_COMMIT_S 1

/* The group named (or numbered) by name, or -1 (logged). */
static gid_t
group_of(const char *name)
{
	struct group *g = getgrnam(name);
	char *end;
	long n;

	if (g != NULL)
		return g->gr_gid;
	errno = 0;
	n = strtol(name, &end, 10);
	if (errno == 0 && *end == '\0' && end != name && n >= 0)
		return (gid_t)n;
	log_error("server.socket_group: no group %s", name);
	return (gid_t)-1;
}

int
server_listen(const char *spec, const char *mode, const char *group)
{
	int fd, one = 1;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		const char *path = spec + 5;
		struct stat st;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			log_error("socket path too long: %s", path);
			return -1;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		/* A stale socket file is replaced; a live one is not. */
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ==
			    0) {
				log_error("%s is in use by a running server",
					  path);
				close(fd);
				return -1;
			}
			unlink(path);
		}
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			log_error("bind %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (*group != '\0') {
			gid_t gid = group_of(group);

			if (gid == (gid_t)-1 ||
			    chown(path, (uid_t)-1, gid) != 0) {
				log_error("cannot give %s to group %s: %s",
					  path, group, strerror(errno));
				close(fd);
				return -1;
			}
		}
		if (chmod(path, (mode_t)strtol(mode, NULL, 8)) != 0)
			log_warn("chmod %s: %s", path, strerror(errno));
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC,
					 .ai_socktype = SOCK_STREAM,
					 .ai_flags = AI_PASSIVE},
				*ai;
		char host[256];
		const char *colon = strrchr(spec, ':');
		size_t hlen;

		if (colon == NULL ||
		    (hlen = (size_t)(colon - spec)) >= sizeof(host)) {
			log_error("listen: expected unix:/path or HOST:PORT");
			return -1;
		}
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		if (getaddrinfo(hlen ? host : NULL, colon + 1, &hints, &ai) !=
		    0) {
			log_error("listen: cannot resolve %s", spec);
			return -1;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			freeaddrinfo(ai);
			return -1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			log_error("bind %s: %s", spec, strerror(errno));
			freeaddrinfo(ai);
			close(fd);
			return -1;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, 1024) != 0) {
		log_error("listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Shared state. Workers wait on one epoll set holding the listening socket
 * and every idle keep-alive connection, each armed EPOLLONESHOT so exactly
 * one worker receives an event; an eventfd (level-triggered) tells them all
 * to stop. registered[fd] marks fds that are in the set; state[fd] says who
 * owns a connection: parked (idle, in the set), busy (a worker has it) or
 * in the lobby. A worker claims a parked connection with a compare-and-swap;
 * parking and the shutdown's closing of parked connections hold park_mu, so
 * a connection is never closed under a worker, nor parked after shutdown.
 *
 * The lobby is the main thread's own epoll set (edge-triggered): a
 * connection whose next request has not arrived whole waits there, not in
 * a worker, and is parked for the workers once it has; one that takes
 * longer than server.client_timeout is closed. So a peer that connects and
 * sends nothing, or half a record, takes no worker: libfcgi's reads block,
 * and only a whole request is handed to them.
 */
enum conn_state { CONN_NONE, CONN_PARKED, CONN_BUSY, CONN_LOBBY };

/* FastCGI records (the protocol's numbers). */
#define FCGI_HEADER_LEN 8
#define FCGI_ABORT	2
#define FCGI_IN		5
/* How much of a request is looked at before handing it to a worker; a
 * larger one is handed over as soon as this much has come (the rest is
 * read under SO_RCVTIMEO). Below a TCP peer's first window, so a sender
 * never waits for a read that would only come after it. */
#define PEEK_MAX 32768

static struct {
	int epfd;
	int lobby_fd;
	int listen_fd;
	int stop_fd;
	int stopping;
	int client_timeout;
	int max_fd; /* The highest connection fd seen (the lobby's sweep). */
	pthread_mutex_t park_mu;
	unsigned char registered[MAX_FD];
	unsigned char state[MAX_FD];
	time_t since[MAX_FD]; /* When a lobby connection's wait began. */
} srv = {.park_mu = PTHREAD_MUTEX_INITIALIZER};

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

enum arrival { ARRIVED, PARTIAL, GONE };

/*
 * Whether the next request on fd has arrived whole: its records up to the
 * end of its stdin, peeked (left in the socket for libfcgi). A management
 * or abort record, or PEEK_MAX bytes, count as arrived: libfcgi deals with
 * them. peek is PEEK_MAX bytes of the caller's.
 */
static enum arrival
arrival(int fd, unsigned char *peek)
{
	ssize_t n = recv(fd, peek, PEEK_MAX, MSG_PEEK | MSG_DONTWAIT);
	size_t off = 0;

	if (n == 0)
		return GONE;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
			   ? PARTIAL
			   : GONE;
	if (n == PEEK_MAX)
		return ARRIVED;
	while (off + FCGI_HEADER_LEN <= (size_t)n) {
		const unsigned char *h = peek + off;
		unsigned type = h[1], id = (unsigned)h[2] << 8 | h[3];
		size_t len = (size_t)h[4] << 8 | h[5];

		if (id == 0 || type == FCGI_ABORT)
			return ARRIVED;
		if (type == FCGI_IN && len == 0)
			return ARRIVED;
		off += FCGI_HEADER_LEN + len + h[6];
	}
	return PARTIAL;
}

static int
fcgi_read(void *ctx, char *p, int n)
{
	return FCGX_GetStr(p, n, ctx);
}

/* Arms fd (listening socket or idle connection) for one event. */
static int
arm(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
				 .data.fd = fd};

	if (fd >= MAX_FD)
		return -1;
	if (srv.registered[fd])
		return epoll_ctl(srv.epfd, EPOLL_CTL_MOD, fd, &ev);
	if (epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	srv.registered[fd] = 1;
	return 0;
}

/* Resets connection fd's state: the number is no longer its worker's. */
static void
conn_release(int fd)
{
	srv.registered[fd] = 0;
	__atomic_store_n(&srv.state[fd], CONN_NONE, __ATOMIC_RELEASE);
}

/* Closes connection fd, its state reset first: the number can be a new
 * connection's as soon as it is closed. */
static void
conn_close(int fd)
{
	conn_release(fd);
	close(fd);
}

/*
 * libfcgi closes a connection itself (the peer broke off, or its request
 * did not keep the connection), before its worker can reset the state:
 * for that moment the number is free for accept while state[fd] still
 * says the old connection's. A worker that accepts a number waits for
 * that reset (conn_release, right after libfcgi returns), so the reset can
 * never land on the new connection's state. Every other close resets the
 * state first (conn_close): then there is nothing to wait for.
 */
static void
await_release(int fd)
{
	while (__atomic_load_n(&srv.state[fd], __ATOMIC_ACQUIRE) != CONN_NONE)
		sched_yield();
}

/* Puts a kept connection back in the set, or closes it when stopping. */
static void
park(int fd)
{
	pthread_mutex_lock(&srv.park_mu);
	if (srv.stopping) {
		epoll_ctl(srv.epfd, EPOLL_CTL_DEL, fd, NULL);
		conn_close(fd);
	} else {
		__atomic_store_n(&srv.state[fd], CONN_PARKED, __ATOMIC_RELEASE);
		if (arm(fd) != 0) {
			conn_close(fd);
		}
	}
	pthread_mutex_unlock(&srv.park_mu);
}

/* Takes a parked connection whose event arrived; 0 when it is gone. */
static int
claim(int fd)
{
	unsigned char parked = CONN_PARKED;

	return __atomic_compare_exchange_n(&srv.state[fd], &parked, CONN_BUSY,
					   0, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

/* Raises srv.max_fd to fd (the lobby's sweep looks that far). */
static void
raise_max_fd(int fd)
{
	int seen = __atomic_load_n(&srv.max_fd, __ATOMIC_RELAXED);

	while (fd > seen &&
	       !__atomic_compare_exchange_n(&srv.max_fd, &seen, fd, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Hands fd, whose request has not arrived whole, to the main thread;
 * closes it when the server is stopping. */
static void
to_lobby(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
				 .data.fd = fd};

	pthread_mutex_lock(&srv.park_mu);
	if (srv.registered[fd]) {
		epoll_ctl(srv.epfd, EPOLL_CTL_DEL, fd, NULL);
		srv.registered[fd] = 0;
	}
	__atomic_store_n(&srv.since[fd], mono_now(), __ATOMIC_RELAXED);
	__atomic_store_n(&srv.state[fd], CONN_LOBBY, __ATOMIC_RELEASE);
	if (srv.stopping ||
	    epoll_ctl(srv.lobby_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		conn_close(fd);
	}
	pthread_mutex_unlock(&srv.park_mu);
}

/* Leaves the lobby: parked for the workers, or closed (close). */
static void
leave_lobby(int fd, int close_it)
{
	epoll_ctl(srv.lobby_fd, EPOLL_CTL_DEL, fd, NULL);
	if (!close_it) {
		park(fd);
		return;
	}
	conn_close(fd);
}

/*
 * Reads what is left of a request's body (all of it after a 413) and
 * throws it away, up to DRAIN_MAX, so that the connection (nginx keeps it
 * for other clients' requests) stays usable. 1 when it reached the end of
 * the body.
 */
#define DRAIN_MAX (4 << 20)
static int
drain(FCGX_Stream *in)
{
	char junk[8192];
	long total = 0;
	int n;

	while ((n = FCGX_GetStr(junk, (int)sizeof(junk), in)) > 0) {
		total += n;
		if (total > DRAIN_MAX)
			return 0;
	}
	return FCGX_HasSeenEOF(in) == EOF && FCGX_GetError(in) == 0;
}

#ifdef ENABLE_TEST_ROUTES
/*
 * Test builds only: a request with X-Test-Release-Pause: MS whose
 * connection libfcgi closes makes its worker wait that long before it
 * releases the number (conn_release), so that a test can have a new
 * connection accepted under the old one's state (t/e2e/test_faults.c).
 */
static long
release_pause_ms(FCGX_Request *fr)
{
	const char *v = FCGX_GetParam("HTTP_X_TEST_RELEASE_PAUSE", fr->envp);
	long ms = v != NULL ? strtol(v, NULL, 10) : 0;

	return ms > 0 && ms <= 10000 ? ms : 0;
}

static void
release_pause(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
#endif

/* Ends connection fd after libfcgi is done with it: closed by libfcgi
 * (ipcFd -1), only its state is released; else it is closed here. */
static void
conn_end(FCGX_Request *fr, int fd)
{
	if (fr->ipcFd < 0) {
		conn_release(fd);
		return;
	}
	fr->ipcFd = -1;
	conn_close(fd);
}

/* Serves one request on connection fd; parks the connection when kept. */
static void
serve(FCGX_Request *fr, struct request *req, struct buf *out, int fd)
{
#ifdef ENABLE_TEST_ROUTES
	long pause_ms;
#endif

	/*
	 * libfcgi reads the next request from ipcFd when it is set, and only
	 * accepts on listen_sock (here -1, which fails at once) when it is
	 * not. ipcFd is below the header's "don't use" line, but this is the
	 * one way to keep idle connections out of the workers. FCGX_Accept_r
	 * starts with FCGX_Finish_r, which closes ipcFd unless keepConnection
	 * is set; the request's own flag replaces it once read. Where libfcgi
	 * closes the connection (ipcFd -1 after it), the number stays this
	 * worker's until conn_end has released it (await_release).
	 */
	fr->ipcFd = fd;
	fr->keepConnection = 1;
	if (FCGX_Accept_r(fr) < 0) {
		conn_end(fr, fd); /* Closed by libfcgi. */
		return;
	}
#ifdef ENABLE_TEST_ROUTES
	pause_ms = release_pause_ms(fr);
#endif
	{
		struct http_io io = {fcgi_read, fr->in};

		http_handle(req, fr->envp, &io);
	}
	if (http_serialize(req, out) == 0)
		FCGX_PutStr(out->data, (int)out->len, fr->out);
	/* Whatever of the body was not read (a 413, a 404 before reading)
	 * is read to its end, so that the connection nginx keeps holds no
	 * leftover records of this request. */
	if (!drain(fr->in))
		fr->keepConnection = 0;
	http_request_reset(req);
	FCGX_Finish_r(fr);
	if (fr->ipcFd < 0) {
#ifdef ENABLE_TEST_ROUTES
		if (pause_ms > 0)
			release_pause(pause_ms);
#endif
		conn_end(fr, fd);
		return;
	}
	fr->ipcFd = -1;
	park(fd);
}

static void *
worker_main(void *arg)
{
	struct request req = {0};
	struct db db = {0};
	struct buf out = {0};
	FCGX_Request fr;
	unsigned char *peek = malloc(PEEK_MAX);
	struct timeval io_timeout = {.tv_sec = srv.client_timeout};
	CURL *curl;

	(void)arg;
	if (peek == NULL) {
		log_error("worker: out of memory");
		return NULL;
	}
	db_thread_init();
	curl = curl_easy_init();
	req.db = &db;
	req.curl = curl;
	/* No listening socket: connections come from the epoll set. */
	FCGX_InitRequest(&fr, -1, 0);
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(srv.epfd, &ev, 1, 0), fd;

		if (n == 0) {
			/* Nothing ready: write the log and sleep. A read-only
			 * transaction left open (READ COMMITTED: no read
			 * view, no row lock) is what the next request
			 * continues; it is ended only after IDLE_COMMIT_S
			 * without one, so that an idle worker holds no
			 * metadata lock for long. */
			log_flush();
			n = epoll_wait(srv.epfd, &ev, 1,
				       db.open ? IDLE_COMMIT_S * 1000 : -1);
			if (n == 0) {
				db_idle(&db);
				n = epoll_wait(srv.epfd, &ev, 1, -1);
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1 || ev.data.fd == srv.stop_fd)
			break;
		fd = ev.data.fd;
		if (fd == srv.listen_fd) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_error("accept: %s", strerror(errno));
			/* Re-armed before serving: others may accept. */
			arm(fd);
			if (c < 0)
				continue;
			if (c >= MAX_FD) {
				close(c);
				continue;
			}
			fd = c;
			await_release(fd);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &io_timeout,
				   sizeof(io_timeout));
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io_timeout,
				   sizeof(io_timeout));
			raise_max_fd(fd);
			__atomic_store_n(&srv.state[fd], CONN_BUSY,
					 __ATOMIC_RELEASE);
		} else if (!claim(fd)) {
			continue; /* Closed by the shutdown meanwhile. */
		}
		switch (arrival(fd, peek)) {
		case PARTIAL:
			to_lobby(fd);
			continue;
		case GONE:
			conn_close(fd);
			continue;
		case ARRIVED:
			break;
		}
		serve(&fr, &req, &out, fd);
		/* Under a steady stream of reads the worker never sleeps. */
		db_idle_after(&db, IDLE_COMMIT_S);
	}
	log_flush();
	http_request_free(&req);
	buf_free(&out);
	free(peek);
	db_close(&db);
	curl_easy_cleanup(curl);
	db_thread_end();
	return NULL;
}

static void *
deliver_main(void *arg)
{
	(void)arg;
	outbox_run(srv.stop_fd);
	return NULL;
}

/* Closes the lobby's connections that waited longer than the timeout (all
 * of them when all is set). */
static void
lobby_sweep(int all)
{
	time_t now = mono_now();
	int fd, max = __atomic_load_n(&srv.max_fd, __ATOMIC_RELAXED), n = 0;

	for (fd = 0; fd <= max && fd < MAX_FD; fd++) {
		if (__atomic_load_n(&srv.state[fd], __ATOMIC_ACQUIRE) !=
		    CONN_LOBBY)
			continue;
		if (!all &&
		    now - __atomic_load_n(&srv.since[fd], __ATOMIC_RELAXED) <
			srv.client_timeout)
			continue;
		leave_lobby(fd, 1);
		n++;
	}
	if (n > 0 && !all)
		log_warn("closed %d FastCGI connection%s whose request did "
			 "not arrive within %ds",
			 n, n == 1 ? "" : "s", srv.client_timeout);
}

/*
 * The main thread until SIGTERM/SIGINT: the lobby's connections (parked
 * for the workers once their request has arrived, closed when it does not
 * within server.client_timeout) and the signals: SIGHUP runs on_hup.
 */
static void
lobby_run(int sfd, unsigned char *peek, void (*on_hup)(void))
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd}, evs[64];
	struct signalfd_siginfo si;
	time_t swept = mono_now();
	int n, i;

	if (epoll_ctl(srv.lobby_fd, EPOLL_CTL_ADD, sfd, &ev) != 0) {
		log_error("epoll setup: %s", strerror(errno));
		return;
	}
	for (;;) {
		n = epoll_wait(srv.lobby_fd, evs, 64, 1000);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					if (on_hup != NULL)
						on_hup();
					continue;
				}
				log_info("signal %u received: shutting down",
					 si.ssi_signo);
				/* Under park_mu, with stopping set: no
				 * worker adds to the lobby meanwhile or
				 * after. */
				pthread_mutex_lock(&srv.park_mu);
				srv.stopping = 1;
				lobby_sweep(1);
				pthread_mutex_unlock(&srv.park_mu);
				return;
			}
			if (__atomic_load_n(&srv.state[fd], __ATOMIC_ACQUIRE) !=
			    CONN_LOBBY)
				continue;
			switch (arrival(fd, peek)) {
			case ARRIVED:
				leave_lobby(fd, 0);
				break;
			case GONE:
				leave_lobby(fd, 1);
				break;
			case PARTIAL:
				break;
			}
		}
		if (mono_now() != swept) {
			swept = mono_now();
			lobby_sweep(0);
		}
		log_flush();
	}
}

int
server_run(int listen_fd, int nworkers, int grace_s, const char *unlink_path,
	   void (*on_hup)(void))
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct timespec deadline;
	pthread_t *threads, deliverer;
	int delivering;
	uint64_t one = 1;
	sigset_t sigs;
	unsigned char *peek_main = malloc(PEEK_MAX);
	int sfd, i, fd, status = peek_main == NULL;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	srv.lobby_fd = epoll_create1(EPOLL_CLOEXEC);
	srv.stop_fd = eventfd(0, EFD_CLOEXEC);
	srv.listen_fd = listen_fd;
	srv.client_timeout = (int)config_int("server.client_timeout");
	if (srv.client_timeout < 1)
		srv.client_timeout = 1;
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	ev.data.fd = srv.stop_fd;
	if (sfd < 0 || srv.epfd < 0 || srv.lobby_fd < 0 || srv.stop_fd < 0 ||
	    epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.stop_fd, &ev) != 0 ||
	    arm(listen_fd) != 0) {
		log_error("epoll setup: %s", strerror(errno));
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	threads = calloc((size_t)nworkers, sizeof(*threads));
	if (threads == NULL)
		return 1;
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&threads[i], NULL, worker_main, NULL) != 0) {
			log_error("cannot start worker %d", i);
			nworkers = i;
			status = 1;
			break;
		}
	}
	/* The outbox's deliverer: its own thread, connection and handle. */
	delivering = status == 0 && config_str("outbox.url")[0] != '\0' &&
		     pthread_create(&deliverer, NULL, deliver_main, NULL) == 0;
	log_info("serving with %d workers%s", nworkers,
		 delivering ? " and the outbox deliverer" : "");
	if (status == 0)
		lobby_run(sfd, peek_main, on_hup);

	/*
	 * Stop accepting: new connections are refused from here on (the
	 * socket file is gone, and shutdown() makes the listener refuse).
	 * The fd stays open until the workers are gone, so its number cannot
	 * be reused under a worker that is about to accept.
	 */
	if (unlink_path != NULL)
		unlink(unlink_path);
	epoll_ctl(srv.epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	shutdown(listen_fd, SHUT_RDWR);
	/*
	 * Idle keep-alive connections are closed now, so nginx cannot send
	 * new requests over them; connections in a worker's hands are closed
	 * by that worker when its request is done.
	 */
	pthread_mutex_lock(&srv.park_mu);
	srv.stopping = 1;
	for (fd = 0; fd < MAX_FD; fd++) {
		if (fd != listen_fd && claim(fd)) {
			epoll_ctl(srv.epfd, EPOLL_CTL_DEL, fd, NULL);
			conn_close(fd);
		}
	}
	pthread_mutex_unlock(&srv.park_mu);
	/* Workers finish the request in hand, then see the stop event. */
	if (write(srv.stop_fd, &one, sizeof(one)) != sizeof(one))
		log_error("cannot signal the workers");
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += grace_s;
	if (delivering &&
	    pthread_timedjoin_np(deliverer, NULL, &deadline) != 0) {
		log_error("grace period of %ds over during a delivery; "
			  "exiting",
			  grace_s);
		_exit(1);
	}
	for (i = 0; i < nworkers; i++) {
		if (pthread_timedjoin_np(threads[i], NULL, &deadline) != 0) {
			log_error("grace period of %ds over with requests "
				  "still running; exiting",
				  grace_s);
			_exit(1);
		}
	}
	close(listen_fd);
	free(threads);
	close(srv.epfd);
	close(srv.lobby_fd);
	free(peek_main);
	close(srv.stop_fd);
	close(sfd);
	log_info("stopped");
	return status;
}

static int
stdin_read(void *ctx, char *p, int n)
{
	size_t got = fread(p, 1, (size_t)n, ctx);

	return got > 0 ? (int)got : (ferror((FILE *)ctx) ? -1 : 0);
}

int
server_cgi(void)
{
	extern char **environ;
	struct request req = {.via_cgi = 1};
	struct db db = {0};
	struct buf out = {0};
	struct http_io io = {stdin_read, stdin};
	CURL *curl;
	int rc = 0;

	db_thread_init();
	/* The providers (payment, carrier, seed 003's upstream) are reached
	 * through this handle, as a worker's. */
	curl = curl_easy_init();
	if (curl == NULL)
		log_warn("no outbound HTTP handle: providers unreachable");
	req.db = &db;
	req.curl = curl;
	http_handle(&req, environ, &io);
	if (http_serialize(&req, &out) != 0 ||
	    fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = 1;
	fflush(stdout);
	log_flush();
	http_request_free(&req);
	buf_free(&out);
	db_close(&db);
	curl_easy_cleanup(curl);
	db_thread_end();
	return rc;
}
