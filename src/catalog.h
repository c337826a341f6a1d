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
 * Page page (from 1) of limit products, ordered by id, into *out (owned by
 * the caller): {"products": [...], "page", "limit", "total"}.
 */
enum err catalog_list(struct db *db, int64_t page, int64_t limit,
		      struct json_object **out);
/* One product by id (all digits) or code; ERR_NOT_FOUND when there is no
 * such enabled product. */
enum err catalog_get(struct db *db, const char *id_or_code,
		     struct json_object **out);

#endif
