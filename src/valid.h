/*
 * Field validation: each endpoint checks its fields with these, collecting
 * every failure; one 422 `validation_failed` then names them all
 * (`errors: [{"field": "shippingAddress.postcode", "message"}]`).
 */
#ifndef CHECKOUTD_VALID_H
#define CHECKOUTD_VALID_H

#include <stdint.h>

#include <json-c/json.h>

#include "http.h"

struct verr {
	struct json_object *errors; /* NULL while there is none. */
};

/* Records that field failed with message. */
void verr_add(struct verr *v, const char *field, const char *message);
/*
 * Reads integer key of obj (a JSON integer, or a decimal string as forms
 * send) into *out; def when absent. Out of [min, max] or not an integer: an
 * error for field. Returns 0 when valid.
 */
int valid_int(struct json_object *obj, const char *key, const char *field,
	      int64_t min, int64_t max, int64_t def, int64_t *out,
	      struct verr *v);
/* Whether s is a non-empty run of decimal digits (an id, SPEC 1). */
int valid_is_id(const char *s);
/*
 * Answers 422 with the collected errors when there are any (taking them)
 * and returns 1; returns 0 when there are none.
 */
int verr_answer(struct request *req, struct verr *v);
/* Frees collected errors (when the handler answers otherwise). */
void verr_free(struct verr *v);

#endif
