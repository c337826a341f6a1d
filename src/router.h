/*
 * The route table: method + path pattern -> handler. Patterns are literal
 * segments and {name} captures ("/api/checkouts/{id}"); a capture matches one
 * non-empty segment.
 */
#ifndef CHECKOUTD_ROUTER_H
#define CHECKOUTD_ROUTER_H

#include <stddef.h>

#include "err.h"

enum method {
	M_GET,
	M_HEAD,
	M_POST,
	M_PUT,
	M_PATCH,
	M_DELETE,
	M_OPTIONS,
	M_OTHER,
	M__MAX
};

extern const char *const method_names[M__MAX];

/* Parses a REQUEST_METHOD value; anything unknown is M_OTHER. */
enum method method_parse(const char *s);

struct request;
typedef enum err (*route_handler)(struct request *req);

struct route {
	enum method method;
	const char *pattern;
	route_handler handler;
	/* ROUTE_* flags. */
	unsigned flags;
};

/* The handler reads req->body itself (signed bodies): no decoding;
 * req->json is an empty object. */
#define ROUTE_RAW_BODY 1u
/* Answers whatever the database's schema (ping, ready, metrics): not
 * refused with 503 migrations_pending. */
#define ROUTE_ANY_SCHEMA 2u
/* A provider's webhook: authenticated by its signature, not by a
 * credential, so it ignores Idempotency-Key (SPEC, "Idempotency"; its
 * event id makes it idempotent), whatever headers or members it has. */
#define ROUTE_WEBHOOK 4u

#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_LEN	 256

struct route_match {
	const struct route *route;
	unsigned allow; /* Bit (1 << method) for each method of the path. */
	size_t nparams;
	struct {
		char name[32];
		char value[ROUTE_PARAM_LEN];
	} params[ROUTE_MAX_PARAMS];
};

enum route_result { ROUTE_FOUND, ROUTE_METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND };

/*
 * Looks method and path up in table[0..n); HEAD finds the GET route.
 * ROUTE_FOUND fills m->route and the captures; ROUTE_METHOD_NOT_ALLOWED fills
 * m->allow; a path that matches no pattern is ROUTE_NOT_FOUND.
 */
enum route_result router_match(const struct route *table, size_t n,
			       enum method method, const char *path,
			       struct route_match *m);
/* Writes the methods of mask as "GET, POST, OPTIONS" into out. */
void router_allow_header(unsigned mask, char *out, size_t outlen);

#endif
