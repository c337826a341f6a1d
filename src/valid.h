/*
 * Field validation: each endpoint checks its fields with these, collecting
 * every failure; one 422 `validation_failed` then names them all
 * (`errors: [{"field": "shippingAddress.postcode", "message"}]`).
 */
#ifndef CHECKOUTD_VALID_H
#define CHECKOUTD_VALID_H

#include <stdint.h>

#include <json-c/json.h>

struct verr {
	struct json_object *errors; /* NULL while there is none. */
};

/* Records that field failed with message. */
void verr_add(struct verr *v, const char *field, const char *message);
/*
 * Reads integer key of obj (a JSON integer, or a decimal string as forms
 * send) into *out; def when absent. Out of [min, max] (also past int64),
 * null or not an integer: an error for field. Returns 0 when valid.
 */
int valid_int(struct json_object *obj, const char *key, const char *field,
	      int64_t min, int64_t max, int64_t def, int64_t *out,
	      struct verr *v);
/*
 * Reads key of obj as an id or code (SPEC 1: a JSON integer or a string)
 * into out (outlen bytes); required: an error for field when absent.
 */
int valid_ref(struct json_object *obj, const char *key, const char *field,
	      char *out, size_t outlen, struct verr *v);
/* Reads an optional string of 1..max bytes without control characters;
 * *out NULL when absent. */
int valid_str(struct json_object *obj, const char *key, const char *field,
	      size_t max, const char **out, struct verr *v);
/* Whether s is a plain RFC 5322 addr-spec of at most 254 bytes: a
 * dot-atom local part (atext, at most 64 bytes), @, a domain of two or
 * more LDH labels (1-63, no hyphen at either end; the last not all
 * digits). No quoted local parts, domain literals or non-ASCII. */
int valid_email(const char *s);
/* Whether s is an assigned ISO 3166-1 alpha-2 code (upper case). */
int valid_country(const char *s);
/* An error for every key of obj not in the NULL-terminated list. */
int valid_only_keys(struct json_object *obj, const char *const *allowed,
		    struct verr *v);
/* Frees collected errors (when the handler answers otherwise). */
void verr_free(struct verr *v);

#endif
