/*
 * What the seed dialects (src/api/seed00N.c) share: their own error shape
 * (answered from each dialect's one table of enum err), amounts in major
 * units, and reading their JSON bodies (with the canonical API's decoder,
 * so that its rules hold in every dialect).
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>

#include "body.h"

enum err
dialect_fail(struct request *req, const struct dialect *d, enum err e)
{
	const struct dialect_answer *a;
	struct json_object *o;

	if (e <= ERR_OK || e >= ERR__MAX)
		return e;
	a = &d->answers[e];
	if (a->status == 0)
		return e;
	/* The seed's own error shape: {"<key>": text}. */
	o = json_object_new_object();
	json_object_object_add(o, d->key, json_object_new_string(a->text));
	res_json(req, a->status, o);
	return ERR_OK;
}

struct json_object *
dialect_amount(int64_t minor)
{
	char s[32];

	snprintf(s, sizeof(s), "%s%lld.%02lld", minor < 0 ? "-" : "",
		 (long long)llabs(minor) / 100, (long long)llabs(minor) % 100);
	return json_object_new_double_s((double)minor / 100.0, s);
}

struct json_object *
dialect_body(struct request *req)
{
	struct json_object *o = NULL;
	const char *why;
	size_t off;

	if (req->body.len == 0 ||
	    body_decode_json(req->body.data, req->body.len, &o, &off, &why) !=
		ERR_OK)
		return NULL;
	return pool_keep(&req->pool, o);
}
