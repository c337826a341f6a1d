#include "valid.h"

#include <stdio.h>
#include <string.h>

#include "str.h"

void
verr_add(struct verr *v, const char *field, const char *message)
{
	struct json_object *e = json_object_new_object();

	if (v->errors == NULL)
		v->errors = json_object_new_array();
	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_array_add(v->errors, e);
}

int
valid_is_id(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
valid_int(struct json_object *obj, const char *key, const char *field,
	  int64_t min, int64_t max, int64_t def, int64_t *out, struct verr *v)
{
	struct json_object *f = json_object_object_get(obj, key);
	int64_t x;

	*out = def;
	if (f == NULL)
		return 0;
	if (json_object_is_type(f, json_type_int)) {
		x = json_object_get_int64(f);
	} else if (json_object_is_type(f, json_type_string) &&
		   parse_i64(json_object_get_string(f), &x) == 0 &&
		   json_object_get_string(f)[0] != '+') {
		/* From a form: a decimal string. */
	} else {
		verr_add(v, field, "must be an integer");
		return -1;
	}
	if (x < min || x > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "must be between %lld and %lld",
			 (long long)min, (long long)max);
		verr_add(v, field, msg);
		return -1;
	}
	*out = x;
	return 0;
}

int
verr_answer(struct request *req, struct verr *v)
{
	struct json_object *extra;

	if (v->errors == NULL)
		return 0;
	extra = json_object_new_object();
	json_object_object_add(extra, "errors", v->errors);
	v->errors = NULL;
	res_problem(req, ERR_VALIDATION_FAILED, "some fields are invalid",
		    extra);
	return 1;
}

void
verr_free(struct verr *v)
{
	json_object_put(v->errors);
	v->errors = NULL;
}
