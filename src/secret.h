/*
 * checkoutd's own secret (security.secret), for HMACs of what must not be
 * stored or guessed: idempotency requests, seed 003's cart tokens. When
 * the setting is empty, the secret is derived from the configuration's
 * other secrets, so that every process reading the same configuration
 * (each CGI process, each host, each restart) has the same one; random
 * per process only when there are none (docs/idempotency.md).
 */
#ifndef CHECKOUTD_SECRET_H
#define CHECKOUTD_SECRET_H

#include <stddef.h>

/* Reads security.secret, or derives one (with a warning). Before any
 * secret_hmac; not thread-safe (call at start). */
void secret_init(void);
/* HMAC-SHA256 of p[0..n) under the secret into out. */
void secret_hmac(const void *p, size_t n, unsigned char out[32]);

#endif
