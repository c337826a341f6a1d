#include "server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

int
server_listen(const char *spec, const char *mode)
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
 * owns a connection: parked (idle, in the set) or busy (a worker has it).
 * A worker claims a parked connection with a compare-and-swap; parking and
 * the shutdown's closing of parked connections hold park_mu, so a
 * connection is never closed under a worker, nor parked after shutdown.
 */
enum conn_state { CONN_NONE, CONN_PARKED, CONN_BUSY };

static struct {
	int epfd;
	int listen_fd;
	int stop_fd;
	int stopping;
	pthread_mutex_t park_mu;
	unsigned char registered[MAX_FD];
	unsigned char state[MAX_FD];
} srv = {.park_mu = PTHREAD_MUTEX_INITIALIZER};

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

static void
forget(int fd)
{
	srv.registered[fd] = 0;
	__atomic_store_n(&srv.state[fd], CONN_NONE, __ATOMIC_RELEASE);
}

/* Puts a kept connection back in the set, or closes it when stopping. */
static void
park(int fd)
{
	pthread_mutex_lock(&srv.park_mu);
	if (srv.stopping) {
		epoll_ctl(srv.epfd, EPOLL_CTL_DEL, fd, NULL);
		forget(fd);
		close(fd);
	} else {
		__atomic_store_n(&srv.state[fd], CONN_PARKED, __ATOMIC_RELEASE);
		if (arm(fd) != 0) {
			forget(fd);
			close(fd);
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

/* Serves one request on connection fd; parks the connection when kept. */
static void
serve(FCGX_Request *fr, struct request *req, struct buf *out, int fd)
{
	/*
	 * libfcgi reads the next request from ipcFd when it is set, and only
	 * accepts on listen_sock (here -1, which fails at once) when it is
	 * not. ipcFd is below the header's "don't use" line, but this is the
	 * one way to keep idle connections out of the workers. FCGX_Accept_r
	 * starts with FCGX_Finish_r, which closes ipcFd unless keepConnection
	 * is set; the request's own flag replaces it once read.
	 */
	fr->ipcFd = fd;
	fr->keepConnection = 1;
	if (FCGX_Accept_r(fr) < 0) {
		forget(fd); /* libfcgi closed it. */
		return;
	}
	{
		struct http_io io = {fcgi_read, fr->in};

		http_handle(req, fr->envp, &io);
	}
	if (http_serialize(req, out) == 0)
		FCGX_PutStr(out->data, (int)out->len, fr->out);
	if (req->body_unread)
		fr->keepConnection = 0;
	http_request_reset(req);
	FCGX_Finish_r(fr);
	if (fr->ipcFd < 0) {
		forget(fd);
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
	CURL *curl;

	(void)arg;
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
			__atomic_store_n(&srv.state[fd], CONN_BUSY,
					 __ATOMIC_RELEASE);
		} else if (!claim(fd)) {
			continue; /* Closed by the shutdown meanwhile. */
		}
		serve(&fr, &req, &out, fd);
		/* Under a steady stream of reads the worker never sleeps. */
		db_idle_after(&db, IDLE_COMMIT_S);
	}
	log_flush();
	http_request_free(&req);
	buf_free(&out);
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

int
server_run(int listen_fd, int nworkers, int grace_s, const char *unlink_path)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct timespec deadline;
	struct signalfd_siginfo si;
	pthread_t *threads, deliverer;
	int delivering;
	uint64_t one = 1;
	sigset_t sigs;
	int sfd, i, fd, status = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	srv.stop_fd = eventfd(0, EFD_CLOEXEC);
	srv.listen_fd = listen_fd;
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	ev.data.fd = srv.stop_fd;
	if (sfd < 0 || srv.epfd < 0 || srv.stop_fd < 0 ||
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
	while (status == 0 && read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
		;
	if (status == 0)
		log_info("signal %u received: shutting down", si.ssi_signo);
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
			forget(fd);
			close(fd);
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
	struct request req = {0};
	struct db db = {0};
	struct buf out = {0};
	struct http_io io = {stdin_read, stdin};
	int rc = 0;

	db_thread_init();
	req.db = &db;
	http_handle(&req, environ, &io);
	if (http_serialize(&req, &out) != 0 ||
	    fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = 1;
	fflush(stdout);
	log_flush();
	http_request_free(&req);
	buf_free(&out);
	db_close(&db);
	db_thread_end();
	return rc;
}
