#include "pool.h"

#include <stdlib.h>
#include <string.h>

/* Room for one more item; -1 (pool->failed set) when there is none. */
static int
room(struct pool *pool)
{
	struct pool_item *items;
	size_t cap;

	if (pool->n < pool->cap)
		return 0;
	cap = pool->cap ? pool->cap * 2 : 32;
	items = realloc(pool->items, cap * sizeof(*items));
	if (items == NULL) {
		pool->failed = 1;
		return -1;
	}
	pool->items = items;
	pool->cap = cap;
	return 0;
}

void *
pool_defer(struct pool *pool, void (*release)(void *p), void *p)
{
	if (p == NULL)
		return NULL;
	if (room(pool) != 0) {
		release(p);
		return NULL;
	}
	pool->items[pool->n].release = release;
	pool->items[pool->n].p = p;
	pool->n++;
	return p;
}

static void
put_json(void *p)
{
	json_object_put(p);
}

struct json_object *
pool_keep(struct pool *pool, struct json_object *o)
{
	return pool_defer(pool, put_json, o);
}

int
pool_keep_at(struct pool *pool, struct json_object **o)
{
	if (*o == NULL || pool_keep(pool, *o) != NULL)
		return 0;
	*o = NULL;
	return -1;
}

void *
pool_alloc(struct pool *pool, size_t n)
{
	void *p = calloc(1, n > 0 ? n : 1);

	if (p == NULL) {
		pool->failed = 1;
		return NULL;
	}
	return pool_defer(pool, free, p);
}

void *
pool_grow(struct pool *pool, void *p, size_t n)
{
	size_t i;
	void *q;

	if (p == NULL) {
		q = malloc(n > 0 ? n : 1);
		if (q == NULL) {
			pool->failed = 1;
			return NULL;
		}
		return pool_defer(pool, free, q);
	}
	/* The newest first: a growing array is usually the last kept. */
	for (i = pool->n; i-- > 0;) {
		if (pool->items[i].p != p || pool->items[i].release != free)
			continue;
		q = realloc(p, n > 0 ? n : 1);
		if (q == NULL) {
			pool->failed = 1;
			return NULL;
		}
		pool->items[i].p = q;
		return q;
	}
	pool->failed = 1; /* Not the pool's: a caller's mistake. */
	return NULL;
}

char *
pool_strdup(struct pool *pool, const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	p = pool_grow(pool, NULL, n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

size_t
pool_mark(const struct pool *pool)
{
	return pool->n;
}

void
pool_release_to(struct pool *pool, size_t mark)
{
	while (pool->n > mark) {
		pool->n--;
		pool->items[pool->n].release(pool->items[pool->n].p);
	}
}

void
pool_release(struct pool *pool)
{
	pool_release_to(pool, 0);
	pool->failed = 0;
}

void
pool_free(struct pool *pool)
{
	pool_release(pool);
	free(pool->items);
	pool->items = NULL;
	pool->cap = 0;
}
