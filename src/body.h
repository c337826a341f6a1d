/*
 * Request bodies: JSON and application/x-www-form-urlencoded decode into the
 * same json-c tree (SPEC 2.1), so handlers never care which one came. Form
 * values are strings; validators accept decimal strings where an integer is
 * expected.
 */
#ifndef CHECKOUTD_BODY_H
#define CHECKOUTD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define BODY_MAX_DEPTH 8    /* Containers below the root object. */
#define BODY_MAX_KEYS  1000 /* Keys (form pairs, JSON members) in a body. */

enum body_kind { BODY_JSON, BODY_FORM, BODY_UNSUPPORTED };

/* Classifies a Content-Type value (NULL or "" is BODY_UNSUPPORTED). */
enum body_kind body_kind(const char *content_type);

/*
 * Decodes body p of n bytes sent with content_type into a new JSON object
 * owned by the caller (*out). Zero bytes decode to {} whatever the type.
 * Errors: ERR_UNSUPPORTED_MEDIA_TYPE; ERR_MALFORMED_BODY with the byte
 * offset of the fault in *offset and a reason (static string) in *why.
 */
enum err body_decode(const char *content_type, const char *p, size_t n,
		     struct json_object **out, size_t *offset,
		     const char **why);
/* The JSON and form decoders on their own; same contract. A name given
 * twice is ERR_MALFORMED_BODY in both: a form's key repeated without [],
 * a JSON member name repeated in one object, at any depth. */
enum err body_decode_json(const char *p, size_t n, struct json_object **out,
			  size_t *offset, const char **why);
enum err body_decode_form(const char *p, size_t n, struct json_object **out,
			  size_t *offset, const char **why);

/* Member key of o when it is a string, else NULL (owned by o). */
const char *body_string(struct json_object *o, const char *key);
/* A JSON number of major units (0 to 1e10) in minor units, rounded to the
 * cent; -1 when v is not one (seeds 002 and 003 send prices so). */
int64_t body_minor_units(struct json_object *v);

#endif
