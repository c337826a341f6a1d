/*
 * The catalog: enabled products with their enabled variants, in the
 * canonical shape of SPEC 2.2.
 */
#ifndef CHECKOUTD_CATALOG_H
#define CHECKOUTD_CATALOG_H

#include <stdint.h>

#include <json-c/json.h>

#include "db.h"

/*
 * Page page (from 1) of limit products, ordered by id, into *out (kept in
 * pool): {"products": [...], "page", "limit", "total"}.
 */
enum err catalog_list(struct db *db, struct pool *pool, int64_t page,
		      int64_t limit, struct json_object **out);
/* One product by id (all digits) or code (kept in pool); ERR_NOT_FOUND
 * when there is no such enabled product. */
enum err catalog_get(struct db *db, struct pool *pool, const char *id_or_code,
		     struct json_object **out);

/* A product sold as one thing: its only enabled variant. Seeds 000, 001
 * and 003 name products, not variants. */
struct sole_variant {
	int64_t product, variant;
	int64_t provider; /* The product's provider; 0: none. */
	int64_t seller;	  /* That provider's account; 0: none. */
};
/*
 * The enabled product with uuid (when not NULL) or else id, and its only
 * enabled variant, into *out. ERR_NOT_FOUND when there is no such product
 * or it has no or several enabled variants; db_query's errors.
 */
enum err catalog_sole_variant(struct db *db, const char *uuid, int64_t id,
			      struct sole_variant *out);

#endif
