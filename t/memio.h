/*
 * A request body from memory for struct http_io (src/http.h): what the
 * request-layer tests and fuzz targets feed http_handle instead of a
 * FastCGI stream.
 */
#ifndef CHECKOUTD_T_MEMIO_H
#define CHECKOUTD_T_MEMIO_H

#include <stddef.h>
#include <string.h>

struct memio {
	const char *p;
	size_t len, pos;
};

static inline int
memio_read(void *ctx, char *p, int n)
{
	struct memio *m = ctx;
	size_t k = m->len - m->pos < (size_t)n ? m->len - m->pos : (size_t)n;

	memcpy(p, m->p + m->pos, k);
	m->pos += k;
	return (int)k;
}

#endif
