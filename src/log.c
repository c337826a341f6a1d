#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;

void
log_set_fd(int fd)
{
	log_fd = fd;
}

/* Formats "<time> <level> <message>\n" into line; returns its length. */
static int
format_line(char *line, size_t size, const char *level, const char *fmt,
	    va_list ap)
{
	struct timespec ts;
	struct tm tm;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level);
	m = vsnprintf(line + n, size - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)size - 2)
		n = (int)size - 2;
	line[n++] = '\n';
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
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_line(line, sizeof(line), level, fmt, ap);
	va_end(ap);
	write_all(line, (size_t)n);
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
log_access(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_line(line, sizeof(line), "access", fmt, ap);
	va_end(ap);
	if (access_len + (size_t)n > ACCESS_BUF)
		log_flush();
	memcpy(access_buf + access_len, line, (size_t)n);
	access_len += (size_t)n;
}
