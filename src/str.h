/*
 * Growable byte buffers and small string helpers shared by every module.
 */
#ifndef CHECKOUTD_STR_H
#define CHECKOUTD_STR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; data is always NUL-terminated when non-NULL. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* An allocation failed; the content is incomplete. */
};

/* Appends n bytes; on allocation failure sets b->failed and returns -1. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);
/* Appends formatted text (printf rules). */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties the buffer but keeps its memory for reuse. */
void buf_reset(struct buf *b);
/* Releases the memory. */
void buf_free(struct buf *b);

/* Fills out with 2*n lowercase hex digits of n CSPRNG bytes plus a NUL. */
int random_hex(char *out, size_t n);
/* A random RFC 4122 version 4 UUID (CSPRNG) into out[37]. */
int uuid_v4(char out[37]);
/* SHA-256 of p[0..n) into out[32]. */
void sha256(const void *p, size_t n, unsigned char out[32]);
/* Constant-time comparison of n bytes; 0 when equal. */
int ct_compare(const void *a, const void *b, size_t n);
/* Case-insensitive comparison of the first n bytes (ASCII only). */
int ascii_ncasecmp(const char *a, const char *b, size_t n);
/* Whether s is an id (SPEC 1): 1 to 18 decimal digits. */
int str_is_id(const char *s);
/* Parses a decimal int64 that fills the whole string; 0 on success. */
int parse_i64(const char *s, int64_t *out);

#endif
