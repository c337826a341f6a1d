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

#define log_info(...)  log_msg("info", __VA_ARGS__)
#define log_warn(...)  log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

#endif
