#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Where lines go: stderr, which log.file replaces. */
static int log_fd = 2;
/* 1 when lines are JSON objects; changed by log_open (SIGHUP). */
static int log_json;

void
log_set_fd(int fd)
{
	log_fd = fd;
}

int
log_open(const char *path, const char *format, char *err, size_t errlen)
{
	int json = strcmp(format, "json") == 0, fd;

	if (!json && strcmp(format, "text") != 0) {
		snprintf(err, errlen, "log.format must be text or json");
		return -1;
	}
	if (path != NULL && *path != '\0') {
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "log.file %s: %s", path,
				 strerror(errno));
			return -1;
		}
		/* stderr becomes the file at once for every thread. */
		if (fd != log_fd && dup2(fd, log_fd) < 0) {
			snprintf(err, errlen, "log.file %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		if (fd != log_fd)
			close(fd);
	}
	__atomic_store_n(&log_json, json, __ATOMIC_RELAXED);
	return 0;
}

/* Appends s to line[*n] as the inside of a JSON string, within size. */
static void
put_json(char *line, size_t size, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && *n + 14 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			line[(*n)++] = '\\';
			line[(*n)++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			/* Control bytes, and bytes of a path that need not
			 * be UTF-8: escaped, so the line stays JSON. */
			memcpy(line + *n, "\\u00", 4);
			line[*n + 4] = hex[c >> 4];
			line[*n + 5] = hex[c & 15];
			*n += 6;
		} else {
			line[(*n)++] = (char)c;
		}
	}
}

/* Appends the formatted text to line[*n], within size, keeping 8 bytes
 * for what ends the line ("\"}" and the newline). */
static void
put_text(char *line, size_t size, size_t *n, const char *fmt, ...)
{
	size_t room = *n + 9 < size ? size - *n - 8 : 0;
	va_list ap;
	int m;

	if (room == 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + *n, room, fmt, ap);
	va_end(ap);
	if (m > 0)
		*n += (size_t)m < room ? (size_t)m : room - 1;
}

/* Writes the line's start, "<time> <level> " or {"time":..,"level":..,
 * into line; returns its length. */
static size_t
line_start(char *line, size_t size, const char *level, int json)
{
	struct timespec ts;
	struct tm tm;
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	put_text(line, size, &n,
		 json ? "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
			"\"level\":\"%s\","
		      : "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level);
	return n;
}

static void
write_all(const char *p, size_t n)
{
	if (write(log_fd, p, n) < 0) {
		/* Nowhere left to report a failing log. */
	}
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char line[2048], msg[1800];
	int json = __atomic_load_n(&log_json, __ATOMIC_RELAXED);
	size_t n = line_start(line, sizeof(line), level, json);
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (json) {
		put_text(line, sizeof(line), &n, "\"msg\":\"");
		put_json(line, sizeof(line), &n, msg);
		memcpy(line + n, "\"}", 2);
		n += 2;
	} else {
		put_text(line, sizeof(line), &n, "%s", msg);
	}
	line[n++] = '\n';
	write_all(line, n);
}

#define ACCESS_BUF 8192

static _Thread_local char access_buf[ACCESS_BUF];
static _Thread_local size_t access_len;

void
log_flush(void)
{
	if (access_len > 0)
		write_all(access_buf, access_len);
	access_len = 0;
}

void
log_access(const char *request_id, const char *method, const char *path,
	   int status, long long us)
{
	char line[1024];
	int json = __atomic_load_n(&log_json, __ATOMIC_RELAXED);
	size_t n = line_start(line, sizeof(line), "access", json);

	if (json) {
		put_text(line, sizeof(line), &n, "\"id\":\"");
		put_json(line, sizeof(line), &n, request_id);
		put_text(line, sizeof(line), &n, "\",\"method\":\"");
		put_json(line, sizeof(line), &n, method);
		put_text(line, sizeof(line), &n, "\",\"path\":\"");
		put_json(line, sizeof(line), &n, path);
		put_text(line, sizeof(line), &n,
			 "\",\"status\":%d,\"ms\":%.3f}", status,
			 (double)us / 1000.0);
	} else {
		put_text(line, sizeof(line), &n, "%s %s %s %d %.3fms",
			 request_id, method, path, status, (double)us / 1000.0);
	}
	line[n++] = '\n';
	if (access_len + n > ACCESS_BUF)
		log_flush();
	memcpy(access_buf + access_len, line, n);
	access_len += n;
}
