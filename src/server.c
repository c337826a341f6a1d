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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "db.h"
#include "http.h"
#include "log.h"

#define QUEUE_CAP 4096
#define MAX_FD	  65536

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

/* Connections waiting for a worker, and the shutdown state. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fds[QUEUE_CAP];
	size_t head, len;
	int stopping;
	int epfd;
	unsigned char idle[MAX_FD]; /* fd is an idle connection in epoll. */
	int inflight;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void
queue_push_locked(int fd)
{
	if (q.len == QUEUE_CAP) {
		log_error("connection queue full; closing a connection");
		close(fd);
		return;
	}
	q.fds[(q.head + q.len++) % QUEUE_CAP] = fd;
	pthread_cond_signal(&q.cv);
}

/* The next connection, or -1 once stopping and nothing is queued. */
static int
queue_pop(void)
{
	int fd = -1;

	pthread_mutex_lock(&q.mu);
	while (q.len == 0 && !q.stopping)
		pthread_cond_wait(&q.cv, &q.mu);
	if (q.len > 0) {
		fd = q.fds[q.head];
		q.head = (q.head + 1) % QUEUE_CAP;
		q.len--;
		q.inflight++;
	}
	pthread_mutex_unlock(&q.mu);
	return fd;
}

/* A worker is done with a connection; fd >= 0 is kept alive. */
static void
connection_done(int fd)
{
	pthread_mutex_lock(&q.mu);
	q.inflight--;
	if (fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
					 .data.fd = fd};

		if (q.stopping || fd >= MAX_FD ||
		    epoll_ctl(q.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			close(fd);
		else
			q.idle[fd] = 1;
	}
	pthread_mutex_unlock(&q.mu);
}

static int
fcgi_read(void *ctx, char *p, int n)
{
	return FCGX_GetStr(p, n, ctx);
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
	/* No listening socket: connections come from the dispatcher. */
	FCGX_InitRequest(&fr, -1, 0);
	for (;;) {
		int fd = queue_pop();

		if (fd < 0)
			break;
		/*
		 * libfcgi reads the next request from ipcFd when it is set,
		 * and only accepts on listen_sock (here -1, which fails at
		 * once) when it is not. ipcFd is below the header's "don't
		 * use" line, but this is the one way to keep connections out
		 * of the workers while they are idle. FCGX_Accept_r starts
		 * with FCGX_Finish_r, which closes ipcFd unless keepConnection
		 * is set; the request's own flag replaces it once read.
		 */
		fr.ipcFd = fd;
		fr.keepConnection = 1;
		if (FCGX_Accept_r(&fr) < 0) {
			connection_done(-1); /* libfcgi closed it. */
			continue;
		}
		{
			struct http_io io = {fcgi_read, fr.in};

			http_handle(&req, fr.envp, &io);
		}
		if (http_serialize(&req, &out) == 0)
			FCGX_PutStr(out.data, (int)out.len, fr.out);
		if (req.body_unread)
			fr.keepConnection = 0;
		http_request_reset(&req);
		FCGX_Finish_r(&fr);
		fd = fr.ipcFd;
		fr.ipcFd = -1;
		connection_done(fd);
	}
	http_request_free(&req);
	buf_free(&out);
	db_close(&db);
	curl_easy_cleanup(curl);
	db_thread_end();
	return NULL;
}

static int
add_epoll(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
accept_all(int listen_fd)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("accept: %s", strerror(errno));
			return;
		}
		pthread_mutex_lock(&q.mu);
		queue_push_locked(fd);
		pthread_mutex_unlock(&q.mu);
	}
}

/* Stops accepting and closes idle connections; workers drain the queue. */
static void
begin_shutdown(int listen_fd, const char *unlink_path)
{
	int fd;

	epoll_ctl(q.epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	close(listen_fd);
	if (unlink_path != NULL)
		unlink(unlink_path);
	pthread_mutex_lock(&q.mu);
	q.stopping = 1;
	for (fd = 0; fd < MAX_FD; fd++) {
		if (q.idle[fd]) {
			epoll_ctl(q.epfd, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			q.idle[fd] = 0;
		}
	}
	log_info("shutting down: %zu queued, %d in flight", q.len, q.inflight);
	pthread_cond_broadcast(&q.cv);
	pthread_mutex_unlock(&q.mu);
}

int
server_run(int listen_fd, int nworkers, int grace_s, const char *unlink_path)
{
	struct epoll_event evs[64];
	struct timespec deadline;
	pthread_t *threads;
	sigset_t sigs;
	int sfd, i, running = 1, status = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	q.epfd = epoll_create1(EPOLL_CLOEXEC);
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	if (sfd < 0 || q.epfd < 0 || add_epoll(q.epfd, sfd) != 0 ||
	    add_epoll(q.epfd, listen_fd) != 0) {
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
			running = 0;
			status = 1;
			break;
		}
	}
	log_info("serving with %d workers", nworkers);
	while (running) {
		int n = epoll_wait(q.epfd, evs, 64, -1);

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) > 0)
					log_info("signal %u received",
						 si.ssi_signo);
				running = 0;
				break;
			}
			if (fd == listen_fd) {
				accept_all(listen_fd);
				continue;
			}
			/* An idle keep-alive connection has a request (or
			 * closed): a worker reads it either way. */
			pthread_mutex_lock(&q.mu);
			if (q.idle[fd]) {
				epoll_ctl(q.epfd, EPOLL_CTL_DEL, fd, NULL);
				q.idle[fd] = 0;
				queue_push_locked(fd);
			}
			pthread_mutex_unlock(&q.mu);
		}
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			running = 0;
			status = 1;
		}
	}
	begin_shutdown(listen_fd, unlink_path);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += grace_s;
	for (i = 0; i < nworkers; i++) {
		if (pthread_timedjoin_np(threads[i], NULL, &deadline) != 0) {
			log_error("grace period of %ds over with requests "
				  "still running; exiting",
				  grace_s);
			_exit(1);
		}
	}
	free(threads);
	close(q.epfd);
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
	http_request_free(&req);
	buf_free(&out);
	db_close(&db);
	db_thread_end();
	return rc;
}
