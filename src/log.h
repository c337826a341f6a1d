/*
 * Logging: one line per event, written with a single write(2) so lines from
 * concurrent workers never interleave. Secrets are never passed here.
 */
#ifndef CHECKOUTD_LOG_H
#define CHECKOUTD_LOG_H

/* Sends log lines to fd (default 2). */
void log_set_fd(int fd);
/* Writes "<time> <level> <message>\n". */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Appends an access-log line to this thread's buffer: one write(2) per
 * batch instead of per request. The buffer is written when it fills, and
 * by log_flush, which a worker calls before it waits for work, so lines are
 * never held back while the service is idle.
 */
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes this thread's buffered access-log lines. */
void log_flush(void);

#define log_info(...)  log_msg("info", __VA_ARGS__)
#define log_warn(...)  log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

#endif
