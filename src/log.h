/*
 * Logging: one line per event, written with a single write(2) so lines from
 * concurrent workers never interleave. Secrets are never passed here.
 * Lines go to stderr, or to log.file, which is opened onto stderr (so that
 * whatever a library writes there lands in it too) and opened again by
 * log_open on SIGHUP after logrotate moved it. log.format "json" writes
 * each line as one JSON object instead of text.
 */
#ifndef CHECKOUTD_LOG_H
#define CHECKOUTD_LOG_H

#include <stddef.h>

/* Sends lines to path (appended to, created 0640; NULL or "": stderr as
 * it is) in format "text" or "json". Safe while other threads log: the
 * file replaces stderr with one dup2. Returns 0, or -1 with a message in
 * err (then nothing changed). */
int log_open(const char *path, const char *format, char *err, size_t errlen);

/* Sends lines to fd instead of stderr (the fuzz targets: /dev/null). */
void log_set_fd(int fd);

/* Writes "<time> <level> <message>\n" (or {"time","level","msg"}). */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Appends a request's access-log line to this thread's buffer: one
 * write(2) per batch instead of per request. The buffer is written when
 * it fills, and by log_flush, which a worker calls before it waits for
 * work, so lines are never held back while the service is idle.
 */
void log_access(const char *request_id, const char *method, const char *path,
		int status, long long us);
/* Writes this thread's buffered access-log lines. */
void log_flush(void);

#define log_info(...)  log_msg("info", __VA_ARGS__)
#define log_warn(...)  log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

#endif
