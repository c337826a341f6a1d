/*
 * checkoutd: the FastCGI checkout service. Serves on a socket it binds
 * (--listen), on an inherited FastCGI socket (spawn-fcgi, mod_fcgid), or,
 * started as a plain CGI program, answers one request and exits.
 */
#include <fcgiapp.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "server.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: checkoutd [--config FILE] [--listen unix:/path | "
		   "HOST:PORT]\n"
		   "                 [--workers N] [--pid-file FILE] "
		   "[--print-config] [--version]\n"
		   "Without --listen (or server.listen) it serves an "
		   "inherited FastCGI socket on\n"
		   "fd 0, or answers one CGI request when fd 0 is not a "
		   "socket.\n");
}

/* The file read at startup, read again on SIGHUP. */
static const char *conf;

/* What a reload changed, logged once the log is where it now goes. */
static char applied[1024], needs_restart[1024];

static void
note_change(const char *key, int was_applied)
{
	char *list = was_applied ? applied : needs_restart;
	size_t n = strlen(list);

	snprintf(list + n, sizeof(applied) - n, "%s%s", n ? ", " : "", key);
}

/* SIGHUP: the configuration's reloadable keys read again, the log file
 * opened again (logrotate moved it). Requests in flight go on. */
static void
reload(void)
{
	char err[512];
	int rc;

	applied[0] = needs_restart[0] = '\0';
	rc = config_reload(conf, note_change, err, sizeof(err));
	if (rc != 0)
		log_error("SIGHUP: configuration not reloaded: %s", err);
	if (log_open(config_str("log.file"), config_str("log.format"), err,
		     sizeof(err)) != 0)
		log_error("SIGHUP: %s (still writing where it was)", err);
	log_info("SIGHUP received: configuration %s read again, log reopened",
		 conf != NULL ? conf : "(none)");
	if (applied[0])
		log_info("config: changed now: %s", applied);
	if (needs_restart[0])
		log_warn("config: changed in the file, takes effect after a "
			 "restart: %s",
			 needs_restart);
}

static int
write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"workers", required_argument, NULL, 'w'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"print-config", no_argument, NULL, 'P'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cfg = NULL, *listen_flag = NULL, *workers_flag = NULL,
		   *pid_flag = NULL, *listen_spec, *pid_file;
	char err[512];
	int c, print = 0, fd, rc, workers, cgi;

	while ((c = getopt_long(argc, argv, "c:l:w:p:PVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg = optarg;
			break;
		case 'l':
			listen_flag = optarg;
			break;
		case 'w':
			workers_flag = optarg;
			break;
		case 'p':
			pid_flag = optarg;
			break;
		case 'P':
			print = 1;
			break;
		case 'V':
			printf("checkoutd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	conf = config_find(cfg);
	if (config_load(conf, err, sizeof(err)) != 0) {
		log_error("config: %s", err);
		return 2;
	}
	if ((listen_flag && config_set("server.listen", listen_flag) != 0) ||
	    (workers_flag && config_set("server.workers", workers_flag) != 0) ||
	    (pid_flag && config_set("server.pid_file", pid_flag) != 0)) {
		log_error("bad command-line value");
		return 2;
	}
	if (print) {
		config_dump(stdout);
		config_free();
		return 0;
	}
	if (log_open(config_str("log.file"), config_str("log.format"), err,
		     sizeof(err)) != 0) {
		log_error("config: %s", err);
		config_free();
		return 2;
	}
	workers = (int)config_int("server.workers");
	if (workers < 1 || workers > 1024) {
		log_error("server.workers must be 1..1024");
		return 2;
	}
	if (db_library_init() != 0 || curl_global_init(CURL_GLOBAL_ALL) != 0) {
		log_error("library initialisation failed");
		return 1;
	}
	listen_spec = config_str("server.listen");
	/* Started by a web server as CGI (its variable set, no socket on
	 * stdin): one request, whatever server.listen says, so one
	 * configuration serves both modes. */
	cgi = FCGX_IsCGI() &&
	      (*listen_spec == '\0' || getenv("GATEWAY_INTERFACE") != NULL);
	/* A server's first line: what it read and where it will listen. */
	if (!cgi)
		log_info("checkoutd %s: configuration %s%s, listening on %s",
			 PACKAGE_VERSION, conf != NULL ? conf : "(none found",
			 conf != NULL ? "" : ": defaults and CHECKOUTD_*)",
			 *listen_spec ? listen_spec : "an inherited socket");
	http_init();
	if (cgi) {
		rc = server_cgi();
		goto out;
	}
	if (*listen_spec != '\0') {
		fd =
		    server_listen(listen_spec, config_str("server.socket_mode"),
				  config_str("server.socket_group"));
		if (fd < 0) {
			rc = 1;
			goto out;
		}
	} else {
		fd = 0; /* Inherited from spawn-fcgi or mod_fcgid. */
	}
	pid_file = config_str("server.pid_file");
	if (*pid_file != '\0' && write_pid_file(pid_file) != 0)
		log_warn("cannot write pid file %s", pid_file);
	rc = server_run(fd, workers, (int)config_int("shutdown.grace"),
			strncmp(listen_spec, "unix:", 5) == 0 ? listen_spec + 5
							      : NULL,
			reload);
	if (*pid_file != '\0')
		unlink(pid_file);
out:
	curl_global_cleanup();
	db_library_end();
	config_free();
	return rc;
}
