/*
 * End-to-end test client: real HTTP through the stack's nginx with libcurl.
 * The stack is described by the environment: CHECKOUTD_URL (base URL),
 * STACK_DIR (the stack's directory) and STACK_SH (t/stack.sh).
 */
#ifndef CHECKOUTD_E2E_CLIENT_H
#define CHECKOUTD_E2E_CLIENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "str.h"

struct resp {
	long status;
	struct buf body;
	struct buf headers; /* Raw header block of the final response. */
	char content_type[128];
};

/* Extra options for one request. */
struct req_opts {
	const char *ctype;	/* Content-Type, or NULL for none. */
	const char *body;	/* NULL: no body. */
	size_t body_len;	/* 0: strlen(body). */
	const char *headers[8]; /* "Name: value", NULL-terminated. */
	const char *interface;	/* Source address (CURLOPT_INTERFACE). */
	const char *base;	/* Another server's base URL (not recorded). */
};

/* Seconds on the monotonic clock. */
double e2e_now(void);

/* Sends method path (relative to CHECKOUTD_URL, or to o->base, or to the
 * thread's e2e_base); 0 on transport success. */
int e2e_request(const char *method, const char *path, const struct req_opts *o,
		struct resp *r);
/* Sends the calling thread's requests without a base of their own to
 * base (another server of a cluster, not recorded); NULL: CHECKOUTD_URL
 * again. */
void e2e_base(const char *base);
/* The value of a response header (case-insensitive name), or NULL. The
 * result is a per-thread static buffer, good until the next call. */
const char *resp_header(struct resp *r, const char *name);
/* A member of the JSON body as a string (per-thread static buffer), or NULL. */
const char *resp_json_str(struct resp *r, const char *key);
void resp_free(struct resp *r);

/* Runs `$STACK_SH cmd $STACK_DIR` with extra environment assignments env
 * (may be NULL, "A=b C=d"); returns its exit status. */
int stack(const char *cmd, const char *env);
/* Reads the PID in $STACK_DIR/run/NAME.pid, or -1. */
long stack_pid(const char *name);
/* Reads a whole file of the stack directory into out (NUL-terminated). */
int stack_file(const char *rel, struct buf *out);

/*
 * Of the last n lines of checkoutd's access log that hold needle (e.g.
 * " PUT /api/checkouts/"), how many pairs ran at the same time: each line
 * gives its end time and its duration. -1 when fewer than n lines match.
 */
int e2e_overlaps(const char *needle, int n);
/* The same over several logs of the stack directory (a cluster's
 * checkoutd-N.log): the last counts[k] lines holding needle in logs[k],
 * all paired with one another; -1 when a log has fewer. */
int e2e_overlaps_in(int nlogs, const char *const *logs, const int *counts,
		    const char *needle);

/* A cart made through the API, with its token ready as a header. */
struct cart {
	long id;
	char token[80];
	char path[64];
	char token_header[128];
};

/* The JSON body of r (fails the test when it is not JSON). */
struct json_object *parse(struct resp *r);
/* An integer member (fails the test when absent). */
int64_t num(struct json_object *o, const char *key);
/* Whether checkoutd is a test build (--enable-test-routes: the
 * /api/_test/ routes and the X-Test-* hooks); the package's binaries
 * (t/deb-check.sh) are not. */
int test_build(void);
/* A member as a string, or NULL. */
const char *text(struct json_object *o, const char *key);
/* POST /api/carts: a new guest cart. */
void new_cart(struct cart *c);
/* new_cart through the server at base (NULL: CHECKOUTD_URL). */
void new_cart_at(struct cart *c, const char *base);
/* method path with body (JSON) at seed 003's upstream sandbox
 * (SESSION_URL); fails the test unless it answers 200. */
void session_upstream(const char *method, const char *path, const char *body);
/* A product of seed 003's sandbox catalog, and an address in its form. */
#define SEED003_EBOOK "0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a65"
#define SEED003_ADDR                                                           \
	"{\"street\": \"Karl-Marx-Allee 1\", \"city\": \"Berlin\", "           \
	"\"state\": \"BE\", \"country\": \"DE\", \"postalCode\": \"10243\"}"
/* Sends body to path with c's token; fails unless the status is want;
 * returns the parsed answer (the caller puts it). */
struct json_object *call(struct cart *c, const char *method, const char *path,
			 const char *ctype, const char *body, long want);
/* call() with one more request header (may be NULL). */
struct json_object *call_with(struct cart *c, const char *method,
			      const char *path, const char *ctype,
			      const char *body, long want, const char *header);
/* The field named by the first error of a 422 answer. */
const char *first_error_field(struct json_object *o);
/* c's path followed by rest (a per-thread static buffer). */
char *sub(struct cart *c, const char *rest);

#define FORM "application/x-www-form-urlencoded"
#define JSON "application/json"
#define ADDRESS_FORM                                                           \
	"shippingAddress[firstName]=John&shippingAddress[lastName]=Doe&"       \
	"shippingAddress[city]=New+York&shippingAddress[postcode]=12435&"      \
	"shippingAddress[street]=Test&shippingAddress[country]=DE&"            \
	"email=john%40example.com"
#define ADDRESS_JSON                                                           \
	"{\"shippingAddress\": {\"firstName\": \"John\", \"lastName\": "       \
	"\"Doe\", \"city\": \"Berlin\", \"postcode\": \"10115\", "             \
	"\"street\": \"Test\", \"country\": \"DE\"}, \"email\": "              \
	"\"john@example.com\"}"

/* Runs SQL through the stack's root client; returns the first value of
 * the first row as an integer (0 when none). */
int64_t sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "/api/checkouts/<id>" of c (a per-thread static buffer: the e2e
 * suites call it from several threads at once). */
char *co(struct cart *c);
/* PUT co(c) with body; fails unless the status is want. */
void put(struct cart *c, const char *ctype, const char *body, long want);

/* Stock of variant code: on_hold, and on_hand set to on_hold + left
 * (when left >= 0). */
int64_t stock(const char *code, int left);

/* A cart of one unit of variant, addressed, shipping flat_eu, paying
 * offline: ready to finalize. */
void ready_to_finalize(struct cart *c, const char *variant);
/* The same with quantity units and, unless NULL, coupon code applied. */
void ready_to_finalize_with(struct cart *c, const char *variant, int quantity,
			    const char *coupon);

/* A buyer finalizing at a barrier: buyer_finalize (a thread's start
 * routine) waits at barrier, sends the empty PUT and keeps the status (0
 * when the transport failed) and the answer's code; with keep set, the
 * parsed answer too (the caller puts it). */
struct buyer {
	struct cart c;
	pthread_barrier_t *barrier; /* NULL: none to wait at. */
	const char *key_header;	    /* "Idempotency-Key: ...", or NULL. */
	long status;
	char code[32];
	int keep;
	struct json_object *answer;
};
void *buyer_finalize(void *arg);

/* POSTs the JSON body to checkoutd with one extra header (may be NULL);
 * the answer must be JSON, parsed into *out. Returns the status. */
long post_json(const char *path, const char *header, const char *body,
	       struct json_object **out);
/* A request to another server of the stack (a fake), whose base URL is
 * in environment variable env; its parsed JSON answer. */
struct json_object *other_json(const char *env, const char *method,
			       const char *path, const char *body);

/* Sends body to path with c's token (c NULL: none) and Idempotency-Key
 * key; fails the test only when the transport fails. */
struct resp keyed(struct cart *c, const char *method, const char *path,
		  const char *key, const char *ctype, const char *body);
/* keyed, with one more header ("Name: value", or NULL). */
struct resp keyed_with(struct cart *c, const char *method, const char *path,
		       const char *key, const char *ctype, const char *body,
		       const char *extra);
/* POSTs the JSON body to path twice with Idempotency-Key key, then other
 * with the same key: the second answer must be the first, byte for byte,
 * the third a 422 naming the key's reuse. *answer: the first's JSON. */
void assert_key_replays(const char *path, const char *key, const char *body,
			const char *other, struct json_object **answer);

#define PROBLEM "application/problem+json"
/* Fails the test unless r is a problem+json answer of status and code
 * (its type, status and code members included). */
void assert_problem(struct resp *r, long status, const char *code);
/* The method entry with code in the first shipment of a checkout's
 * shipping choices (its GET), or NULL. */
struct json_object *shipping_entry(struct json_object *view, const char *code);

#endif
