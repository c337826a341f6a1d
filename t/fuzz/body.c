/*
 * Fuzz target: the body decoders on their own (SPEC 2.1). Input: the first
 * byte picks the decoder (JSON, form, or body_decode with the rest of the
 * first line as Content-Type), the rest is the body. What must hold: no
 * crash or sanitizer report; a decoded body is an object within
 * BODY_MAX_DEPTH that serializes and parses back; a refusal names an offset
 * inside the body and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "body.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Containers below o (0 for a scalar). */
static int
depth(struct json_object *o)
{
	int d = 0, k;
	size_t i;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v)
		{
			(void)key;
			k = depth(v) + 1;
			d = k > d ? k : d;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			k = depth(json_object_array_get_idx(o, i)) + 1;
			d = k > d ? k : d;
		}
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *out = NULL, *back;
	const char *why = NULL, *p;
	char ctype[128] = "";
	size_t offset = (size_t)-1, n, line;
	enum err e;

	if (size == 0)
		return 0;
	p = (const char *)data + 1;
	n = size - 1;
	switch (data[0] % 3) {
	case 0:
		e = body_decode_json(p, n, &out, &offset, &why);
		break;
	case 1:
		e = body_decode_form(p, n, &out, &offset, &why);
		break;
	default:
		for (line = 0; line < n && line < sizeof(ctype) - 1 &&
			       p[line] != '\n' && p[line] != '\0';
		     line++)
			ctype[line] = p[line];
		ctype[line] = '\0';
		line = line < n ? line + 1 : line;
		p += line;
		n -= line;
		e = body_decode(ctype, p, n, &out, &offset, &why);
	}
	if (e == ERR_OK) {
		if (!json_object_is_type(out, json_type_object) ||
		    depth(out) > BODY_MAX_DEPTH + 1)
			abort();
		back = json_tokener_parse(json_object_to_json_string_ext(
		    out, JSON_C_TO_STRING_PLAIN));
		if (back == NULL)
			abort();
		json_object_put(back);
		json_object_put(out);
	} else if (e == ERR_MALFORMED_BODY) {
		if (out != NULL || why == NULL || offset > n)
			abort();
	} else if (e != ERR_UNSUPPORTED_MEDIA_TYPE) {
		abort();
	}
	return 0;
}
