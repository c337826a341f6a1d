#include "body.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

enum body_kind
body_kind(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return BODY_UNSUPPORTED;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	if (n == 16 && ascii_ncasecmp(ct, "application/json", n) == 0)
		return BODY_JSON;
	if (n == 33 &&
	    ascii_ncasecmp(ct, "application/x-www-form-urlencoded", n) == 0)
		return BODY_FORM;
	return BODY_UNSUPPORTED;
}

/* Counts object members in the whole tree. */
static size_t
count_keys(struct json_object *o)
{
	size_t n = 0, i, len;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			n += 1 + count_keys(v);
		}
		break;
	}
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += count_keys(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
	return n;
}

/*
 * json-c's strict mode still takes single-quoted names and NaN/Infinity.
 * Outside strings, JSON has only punctuation, numbers and the letters of
 * true, false and null: the first other byte is the fault. Counts the
 * colons outside strings too: one per object member in valid JSON.
 */
static int
json_prescan(const char *p, size_t n, size_t *bad, size_t *colons)
{
	int in_str = 0;
	size_t i;

	*colons = 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			continue;
		}
		*colons += c == ':';
		if (c == 0 || strchr(" \t\r\n{}[]:,-+.0123456789eEtruefalsn",
				     c) == NULL) {
			*bad = i;
			return -1;
		}
	}
	return 0;
}

/*
 * The offset of the first member name that repeats one before it in the
 * same object, names compared decoded ("a" and "\u0061" are one name), in
 * p[0..n), valid JSON of at most BODY_MAX_DEPTH + 1 containers. json-c
 * keeps the last of repeated members: a repeated name is refused, as a
 * form's repeated key is. n when there is none.
 */
static size_t
repeated_name(const char *p, size_t n)
{
	struct json_object *names[BODY_MAX_DEPTH + 4]; /* NULL: an array. */
	struct json_tokener *tok = json_tokener_new();
	size_t i, found = n;
	int depth = -1, want_name = 0;

	if (tok == NULL)
		return n;
	for (i = 0; i < n && found == n; i++) {
		char c = p[i];

		if (c == '"') {
			size_t start = i;
			struct json_object *s;

			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			if (!want_name || depth < 0 || names[depth] == NULL)
				continue;
			want_name = 0;
			json_tokener_reset(tok);
			s = json_tokener_parse_ex(tok, p + start,
						  (int)(i + 1 - start));
			if (json_object_is_type(s, json_type_string)) {
				const char *k = json_object_get_string(s);

				if (json_object_object_get_ex(names[depth], k,
							      NULL))
					found = start;
				else
					json_object_object_add(names[depth], k,
							       NULL);
			}
			json_object_put(s);
		} else if (c == '{' || c == '[') {
			if (depth + 1 >= (int)(sizeof(names) / sizeof(*names)))
				break;
			names[++depth] =
			    c == '{' ? json_object_new_object() : NULL;
			want_name = c == '{';
		} else if (c == '}' || c == ']') {
			if (depth >= 0)
				json_object_put(names[depth--]);
			want_name = 0;
		} else if (c == ',') {
			want_name = depth >= 0 && names[depth] != NULL;
		}
	}
	while (depth >= 0)
		json_object_put(names[depth--]);
	json_tokener_free(tok);
	return found;
}

/* Whether the tree holds a number JSON cannot express (1e999). */
static int
has_nonfinite(struct json_object *o)
{
	size_t i, len;

	switch (json_object_get_type(o)) {
	case json_type_double:
		return !isfinite(json_object_get_double(o));
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (has_nonfinite(v))
				return 1;
		}
		return 0;
	}
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			if (has_nonfinite(json_object_array_get_idx(o, i)))
				return 1;
		return 0;
	default:
		return 0;
	}
}

enum err
body_decode_json(const char *p, size_t n, struct json_object **out,
		 size_t *offset, const char **why)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end, colons, members;

	*out = NULL;
	if (json_prescan(p, n, offset, &colons) != 0) {
		*why = "unexpected character";
		return ERR_MALFORMED_BODY;
	}
	/* The root object plus BODY_MAX_DEPTH containers below it (json-c
	 * counts one level beyond the innermost container). */
	tok = json_tokener_new_ex(BODY_MAX_DEPTH + 2);
	if (tok == NULL)
		return ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, p, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		*offset = je == json_tokener_continue ? n : end;
		*why = je == json_tokener_continue
			   ? "unexpected end of JSON"
			   : json_tokener_error_desc(je);
		if (je == json_tokener_error_depth)
			*why = "nested too deeply";
		json_tokener_free(tok);
		return ERR_MALFORMED_BODY;
	}
	json_tokener_free(tok);
	while (end < n && (p[end] == ' ' || p[end] == '\t' || p[end] == '\r' ||
			   p[end] == '\n'))
		end++;
	if (end < n) {
		*offset = end;
		*why = "unexpected data after the JSON value";
		json_object_put(o);
		return ERR_MALFORMED_BODY;
	}
	if (!json_object_is_type(o, json_type_object)) {
		*offset = 0;
		*why = "expected a JSON object";
		json_object_put(o);
		return ERR_MALFORMED_BODY;
	}
	if (has_nonfinite(o)) {
		*offset = 0;
		*why = "number out of range";
		json_object_put(o);
		return ERR_MALFORMED_BODY;
	}
	members = count_keys(o);
	if (members > BODY_MAX_KEYS) {
		*offset = 0;
		*why = "too many keys";
		json_object_put(o);
		return ERR_MALFORMED_BODY;
	}
	/* Fewer members in the tree than in the text: a name repeated. */
	if (members != colons) {
		*offset = repeated_name(p, n);
		if (*offset == n)
			*offset = 0;
		*why = "repeated field";
		json_object_put(o);
		return ERR_MALFORMED_BODY;
	}
	*out = o;
	return ERR_OK;
}

/*
 * Form decoding. Containers addressed with a[N] are built as objects keyed
 * by the decimal index and turned into arrays once every pair is read, when
 * the indices can be checked to run densely from 0.
 */
struct form {
	struct json_object *root;
	struct json_object **idx; /* Containers built from a[N]. */
	size_t *idx_off;	  /* Offset of the pair that made each. */
	size_t nidx;
	size_t off; /* Offset of the pair being decoded. */
	const char *why;
};

enum seg_kind { SEG_NAME, SEG_INDEX, SEG_APPEND };

struct seg {
	const char *s;
	size_t len;
	enum seg_kind kind;
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes p[0..n) into out; -1 with *bad at a bad escape. */
static int
pct_decode(const char *p, size_t n, struct buf *out, size_t *bad)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				*bad = i;
				return -1;
			}
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0) {
				*bad = i;
				return -1;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (buf_append(out, &c, 1) != 0)
			return -2;
	}
	if (out->data == NULL && buf_append(out, "", 0) != 0)
		return -2;
	return 0;
}

static int
is_index(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Splits a decoded key into its name and bracket segments. */
static int
split_key(const char *k, size_t klen, struct seg *segs, size_t *nsegs,
	  const char **why)
{
	size_t i = 0, n = 0, start;

	while (i < klen && k[i] != '[')
		i++;
	if (i == 0) {
		*why = "empty field name";
		return -1;
	}
	segs[n++] = (struct seg){k, i, SEG_NAME};
	while (i < klen) {
		if (k[i] != '[') {
			*why = "unexpected text after ']'";
			return -1;
		}
		start = ++i;
		while (i < klen && k[i] != ']' && k[i] != '[')
			i++;
		if (i >= klen || k[i] != ']') {
			*why = "unbalanced brackets in field name";
			return -1;
		}
		if (n > BODY_MAX_DEPTH) {
			*why = "nested too deeply";
			return -1;
		}
		segs[n].s = k + start;
		segs[n].len = i - start;
		if (i == start)
			segs[n].kind = SEG_APPEND;
		else if (is_index(k + start, i - start))
			segs[n].kind = SEG_INDEX;
		else
			segs[n].kind = SEG_NAME;
		n++;
		i++;
	}
	*nsegs = n;
	return 0;
}

static int
is_idx_container(const struct form *f, const struct json_object *o)
{
	size_t i;

	for (i = 0; i < f->nidx; i++)
		if (f->idx[i] == o)
			return 1;
	return 0;
}

static int
remember_idx(struct form *f, struct json_object *o)
{
	struct json_object **a;
	size_t *b;

	a = realloc(f->idx, (f->nidx + 1) * sizeof(*a));
	if (a == NULL)
		return -1;
	f->idx = a;
	b = realloc(f->idx_off, (f->nidx + 1) * sizeof(*b));
	if (b == NULL)
		return -1;
	f->idx_off = b;
	f->idx[f->nidx] = o;
	f->idx_off[f->nidx++] = f->off;
	return 0;
}

/* The kind of container that segment kind k lives in. */
static int
container_matches(const struct form *f, struct json_object *c, enum seg_kind k)
{
	if (k == SEG_APPEND)
		return json_object_is_type(c, json_type_array);
	if (!json_object_is_type(c, json_type_object))
		return 0;
	return (k == SEG_INDEX) == is_idx_container(f, c);
}

static struct json_object *
new_container(struct form *f, enum seg_kind k)
{
	struct json_object *c;

	if (k == SEG_APPEND)
		return json_object_new_array();
	c = json_object_new_object();
	if (c != NULL && k == SEG_INDEX && remember_idx(f, c) != 0) {
		json_object_put(c);
		return NULL;
	}
	return c;
}

/* Puts value at the path segs[0..n) under the root. */
static enum err
form_put(struct form *f, const struct seg *segs, size_t n,
	 struct json_object *value)
{
	struct json_object *c = f->root, *child;
	char key[1024];
	size_t i;

	for (i = 0; i < n; i++) {
		int last = i + 1 == n;

		if (segs[i].len >= sizeof(key)) {
			f->why = "field name too long";
			goto malformed;
		}
		memcpy(key, segs[i].s, segs[i].len);
		key[segs[i].len] = '\0';
		if (segs[i].kind == SEG_APPEND) {
			if (last) {
				if (json_object_array_add(c, value) != 0)
					goto nomem;
				return ERR_OK;
			}
			child = new_container(f, segs[i + 1].kind);
			if (child == NULL)
				goto nomem;
			if (json_object_array_add(c, child) != 0) {
				json_object_put(child);
				goto nomem;
			}
			c = child;
			continue;
		}
		child = json_object_object_get(c, key);
		if (last) {
			if (child != NULL) {
				f->why = "repeated field without []";
				goto malformed;
			}
			if (json_object_object_add(c, key, value) != 0)
				goto nomem;
			return ERR_OK;
		}
		if (child == NULL) {
			child = new_container(f, segs[i + 1].kind);
			if (child == NULL ||
			    json_object_object_add(c, key, child) != 0) {
				json_object_put(child);
				goto nomem;
			}
		} else if (!container_matches(f, child, segs[i + 1].kind)) {
			f->why = "field used both as a value and a container, "
				 "or with mixed index kinds";
			goto malformed;
		}
		c = child;
	}
	f->why = "empty field name";
malformed:
	json_object_put(value);
	return ERR_MALFORMED_BODY;
nomem:
	json_object_put(value);
	return ERR_NOMEM;
}

static enum err form_finish(struct form *f, struct json_object **o,
			    size_t *offset);

/* Turns a[N] containers below *o into arrays, checking density. */
static enum err
finish_children(struct form *f, struct json_object *o, size_t *offset)
{
	enum err e;
	size_t i, len;

	if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++) {
			struct json_object *c = json_object_array_get_idx(o, i);
			struct json_object *nc = c;

			e = form_finish(f, &nc, offset);
			if (e != ERR_OK)
				return e;
			if (nc != c &&
			    json_object_array_put_idx(o, i, nc) != 0) {
				json_object_put(nc);
				return ERR_NOMEM;
			}
		}
		return ERR_OK;
	}
	if (!json_object_is_type(o, json_type_object))
		return ERR_OK;
	{
		json_object_object_foreach(o, k, v)
		{
			struct json_object *nv = v;

			e = form_finish(f, &nv, offset);
			if (e != ERR_OK)
				return e;
			/* Replacing a value keeps the key's slot. */
			if (nv != v && json_object_object_add(o, k, nv) != 0) {
				json_object_put(nv);
				return ERR_NOMEM;
			}
		}
	}
	return ERR_OK;
}

static enum err
form_finish(struct form *f, struct json_object **o, size_t *offset)
{
	struct json_object *arr;
	enum err e;
	size_t i, n, at = 0;

	e = finish_children(f, *o, offset);
	if (e != ERR_OK || !is_idx_container(f, *o))
		return e;
	for (i = 0; i < f->nidx; i++) {
		if (f->idx[i] == *o) {
			at = f->idx_off[i];
			f->idx[i] = NULL; /* Its address may be reused. */
		}
	}
	n = (size_t)json_object_object_length(*o);
	arr = json_object_new_array_ext((int)n);
	if (arr == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++) {
		char key[24];
		struct json_object *v;

		snprintf(key, sizeof(key), "%zu", i);
		v = json_object_object_get(*o, key);
		if (v == NULL) {
			json_object_put(arr);
			*offset = at;
			f->why = "array indices must run from 0 without gaps";
			return ERR_MALFORMED_BODY;
		}
		json_object_array_add(arr, json_object_get(v));
	}
	*o = arr;
	return ERR_OK;
}

enum err
body_decode_form(const char *p, size_t n, struct json_object **out,
		 size_t *offset, const char **why)
{
	struct form f = {0};
	struct buf key = {0}, val = {0};
	struct seg segs[BODY_MAX_DEPTH + 2];
	size_t pos = 0, npairs = 0, nsegs, bad;
	enum err e = ERR_OK;

	*out = NULL;
	f.root = json_object_new_object();
	if (f.root == NULL)
		return ERR_NOMEM;
	while (pos < n) {
		const char *pair = p + pos, *amp, *eq;
		size_t plen, klen;
		struct json_object *v;
		int rc;

		amp = memchr(pair, '&', n - pos);
		plen = amp != NULL ? (size_t)(amp - pair) : n - pos;
		f.off = pos;
		if (plen == 0) {
			pos++;
			continue;
		}
		if (++npairs > BODY_MAX_KEYS) {
			f.why = "too many keys";
			e = ERR_MALFORMED_BODY;
			break;
		}
		eq = memchr(pair, '=', plen);
		klen = eq != NULL ? (size_t)(eq - pair) : plen;
		rc = pct_decode(pair, klen, &key, &bad);
		if (rc == -1)
			f.off = pos + bad;
		if (rc == 0) {
			size_t vstart = eq != NULL ? klen + 1 : plen;

			rc = pct_decode(pair + vstart, plen - vstart, &val,
					&bad);
			if (rc == -1)
				f.off = pos + vstart + bad;
		}
		if (rc == -1) {
			f.why = "bad percent escape";
			e = ERR_MALFORMED_BODY;
			break;
		}
		if (rc != 0) {
			e = ERR_NOMEM;
			break;
		}
		if (memchr(key.data, '\0', key.len) != NULL) {
			f.why = "NUL in field name";
			e = ERR_MALFORMED_BODY;
			break;
		}
		if (split_key(key.data, key.len, segs, &nsegs, &f.why) != 0) {
			e = ERR_MALFORMED_BODY;
			break;
		}
		v = json_object_new_string_len(val.data, (int)val.len);
		if (v == NULL) {
			e = ERR_NOMEM;
			break;
		}
		e = form_put(&f, segs, nsegs, v);
		if (e != ERR_OK)
			break;
		pos += plen + 1;
	}
	if (e == ERR_OK)
		e = form_finish(&f, &f.root, &f.off);
	buf_free(&key);
	buf_free(&val);
	free(f.idx);
	free(f.idx_off);
	if (e != ERR_OK) {
		json_object_put(f.root);
		*offset = f.off;
		*why = f.why != NULL ? f.why : "out of memory";
		return e;
	}
	*out = f.root;
	return ERR_OK;
}

enum err
body_decode(const char *content_type, const char *p, size_t n,
	    struct json_object **out, size_t *offset, const char **why)
{
	*out = NULL;
	if (n == 0) {
		*out = json_object_new_object();
		return *out != NULL ? ERR_OK : ERR_NOMEM;
	}
	switch (body_kind(content_type)) {
	case BODY_JSON:
		return body_decode_json(p, n, out, offset, why);
	case BODY_FORM:
		return body_decode_form(p, n, out, offset, why);
	default:
		return ERR_UNSUPPORTED_MEDIA_TYPE;
	}
}

int64_t
body_minor_units(struct json_object *v)
{
	double d;

	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		return -1;
	d = json_object_get_double(v) * 100.0;
	if (!(d >= 0) || d > 1e12)
		return -1;
	return (int64_t)(d + 0.5);
}

const char *
body_string(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}
