/*
 * The FastCGI server: worker threads wait on one epoll set that holds the
 * listening socket and every idle keep-alive connection, and serve whatever
 * becomes ready. So an idle nginx keep-alive connection never pins a
 * worker, and SIGTERM/SIGINT stop it cleanly: stop accepting, let the
 * requests in flight finish, close idle connections, exit within the grace
 * period.
 */
#ifndef CHECKOUTD_SERVER_H
#define CHECKOUTD_SERVER_H

/*
 * Opens a listening socket for spec "unix:/path" or "HOST:PORT"; a unix
 * socket gets mode (octal string) and, when group is not empty, that
 * group (a name or a number). Returns the fd or -1 (logged).
 */
int server_listen(const char *spec, const char *mode, const char *group);
/*
 * Serves FastCGI on listen_fd with nworkers threads until SIGTERM/SIGINT.
 * unlink_path (may be NULL) is removed when the server stops accepting.
 * on_hup (may be NULL) runs in the main thread on each SIGHUP while the
 * workers go on. Returns the process exit status.
 */
int server_run(int listen_fd, int nworkers, int grace_s,
	       const char *unlink_path, void (*on_hup)(void));
/* Answers one request as a plain CGI program (environment and stdio). */
int server_cgi(void);

#endif
