/*
 * A request's pool (nginx's pools, kcgi's khttp_free): what a request
 * allocates — json-c trees, rows read into memory, strings — is kept here
 * as it is made, and released by one call at the end of the request
 * (http_request_reset), never by hand in each handler. A transaction that
 * may run again rewinds the pool to a mark before each run (db_tx_out).
 *
 * The pool records (release function, pointer) pairs in an array kept for
 * the next request, so a warm worker allocates nothing for the pool
 * itself. Items are released newest first.
 */
#ifndef CHECKOUTD_POOL_H
#define CHECKOUTD_POOL_H

#include <stddef.h>

#include <json-c/json.h>

struct pool {
	struct pool_item {
		void (*release)(void *p);
		void *p;
	} * items;
	size_t n, cap;
	/* A keep found no room (what it was given is released then): the
	 * request fails with ERR_NOMEM (the request layer checks). */
	int failed;
};

/*
 * Keeps o (one reference) until the pool is released, and returns it.
 * NULL when o is NULL, or when the pool cannot grow: o is released then
 * and pool->failed set. The caller must not put o itself; a caller that
 * hands o on to one that takes ownership (res_json) gives it
 * json_object_get(o).
 */
struct json_object *pool_keep(struct pool *pool, struct json_object *o);
/*
 * pool_keep(pool, *o) for a slot that others read: when *o cannot be
 * kept (it is released), *o is set to NULL and -1 returned; else 0 (a
 * NULL *o too).
 */
int pool_keep_at(struct pool *pool, struct json_object **o);
/*
 * Calls release(p) when the pool is released, for what is neither json
 * nor plain memory; returns p. NULL when p is NULL, or when the pool
 * cannot grow: release(p) is called at once then and pool->failed set.
 */
void *pool_defer(struct pool *pool, void (*release)(void *p), void *p);
/* n bytes of zeroed memory owned by the pool; NULL (pool->failed set)
 * when there is no memory. */
void *pool_alloc(struct pool *pool, size_t n);
/*
 * p, memory from pool_alloc or pool_grow (or NULL: new memory), resized
 * to n bytes (what is past the old size is not zeroed). NULL when there
 * is no memory (pool->failed set): p is left as it was, still the
 * pool's.
 */
void *pool_grow(struct pool *pool, void *p, size_t n);
/* A copy of s owned by the pool; NULL when s is NULL or there is no
 * memory (pool->failed set then). */
char *pool_strdup(struct pool *pool, const char *s);

/* Where the pool is now: pool_release_to releases what was kept after. */
size_t pool_mark(const struct pool *pool);
/* Releases, newest first, what was kept since mark. */
void pool_release_to(struct pool *pool, size_t mark);
/* Releases everything and clears failed; keeps the array for reuse. */
void pool_release(struct pool *pool);
/* pool_release, and frees the array (at thread exit). */
void pool_free(struct pool *pool);

#endif
