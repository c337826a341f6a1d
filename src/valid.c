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

/* The core's messages, by code (V_LENGTH's and V_AVAILABLE's take their
 * arg). */
static const char *const vcode_text[V__MAX] = {
    [V_REQUIRED] = "is required",
    [V_NOT_TEXT] = "must be a string",
    [V_LENGTH] = "must be 1 to %zu characters",
    [V_CONTROL] = "must not hold control characters",
    [V_UTF8] = "must be UTF-8",
    [V_COUNTRY] = "must be an ISO 3166-1 alpha-2 code",
    [V_EMAIL] = "must be an email address",
    [V_NEEDS_SHIPPING] = "is required: items need shipping",
    [V_CART_EMPTY] = "the cart is empty",
    [V_ORDER_EMPTY] = "the order is empty",
    [V_GUEST_EMAIL] = "is required to complete a guest order",
    [V_NO_METHOD] = "no such method",
    [V_NO_METHOD_HERE] = "no such method for this address",
    [V_NOT_INT] = "must be an integer",
    [V_LINE_MAX] = "a line holds at most 9999 units",
    [V_AVAILABLE] = "only %zu available",
    [V_NO_VARIANT] = "no such variant",
    [V_NO_COUPON] = "no such coupon",
    [V_COUPON_NA] = "this coupon does not apply to the cart",
    [V_TOKEN_AND_CARD] = "send either a token or card fields",
    [V_CARD_NUMBER] = "is not a valid card number",
    [V_CVC] = "must be 3 or 4 digits",
    [V_MONTH] = "must be between 1 and 12",
    [V_YEAR] = "must be between 0 and 9999",
    [V_EXPIRED] = "the card has expired",
};

void
vcode_message(enum vcode code, size_t arg, char *buf, size_t len)
{
	if (code == V_LENGTH || code == V_AVAILABLE)
		snprintf(buf, len, vcode_text[code], arg);
	else
		snprintf(buf, len, "%s", vcode_text[code]);
}

/*
 * A core error waits for its name as {"field": f, "code": code,
 * "message"}, f and code as integers; verr_name makes it {"field":
 * name, "message"}, as the dialect's own errors are.
 */
void
verr_core(struct verr *v, enum field f, enum vcode code, size_t arg)
{
	struct json_object *e = json_object_new_object();
	char msg[64];

	if (v->errors == NULL)
		v->errors = json_object_new_array();
	vcode_message(code, arg, msg, sizeof(msg));
	json_object_object_add(e, "field", json_object_new_int(f));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_array_add(v->errors, e);
}

void
verr_name(struct verr *v, verr_name_fn *name, void *arg)
{
	size_t i,
	    n = v->errors != NULL ? json_object_array_length(v->errors) : 0;
	char buf[96];

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v->errors, i);
		struct json_object *f = json_object_object_get(e, "field");
		struct json_object *c = json_object_object_get(e, "code");

		if (!json_object_is_type(f, json_type_int) || c == NULL)
			continue;
		/* Replaced in place: the key keeps its position. */
		json_object_object_add(
		    e, "field",
		    json_object_new_string(name(arg, json_object_get_int(f),
						json_object_get_int(c), buf,
						sizeof(buf))));
		json_object_object_del(e, "code");
	}
}

void
verr_append(struct verr *v, const struct verr *from)
{
	size_t i, n = from->errors != NULL
			  ? json_object_array_length(from->errors)
			  : 0;

	if (n > 0 && v->errors == NULL)
		v->errors = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(
		    v->errors, json_object_get(
				   json_object_array_get_idx(from->errors, i)));
}

struct whole
valid_whole_of(struct json_object *obj, const char *key)
{
	struct json_object *f = NULL;
	struct whole w = {WHOLE_ABSENT, 0};

	/* Absent: nothing. Present, null is no integer (it is not "1"). */
	if (!json_object_object_get_ex(obj, key, &f))
		return w;
	w.has = WHOLE_NOT_INT;
	if (f == NULL) {
		w.has = WHOLE_NULL;
	} else if (json_object_is_type(f, json_type_int)) {
		w.v = json_object_get_int64(f);
		/* json-c keeps 2^63 to 2^64 - 1 as unsigned and saturates
		 * beyond, where int64 reads INT64_MAX: out of range. */
		w.has = json_object_get_uint64(f) > (uint64_t)INT64_MAX
			    ? WHOLE_OVER
			    : WHOLE_INT;
	} else if (json_object_is_type(f, json_type_string) &&
		   parse_i64(json_object_get_string(f), &w.v) == 0 &&
		   json_object_get_string(f)[0] != '+') {
		w.has = WHOLE_INT; /* From a form: a decimal string. */
	}
	return w;
}

int
valid_int(struct json_object *obj, const char *key, const char *field,
	  int64_t min, int64_t max, int64_t def, int64_t *out, struct verr *v)
{
	struct whole w = valid_whole_of(obj, key);
	char msg[96];

	*out = def;
	if (w.has == WHOLE_ABSENT)
		return 0;
	if (w.has == WHOLE_NULL || w.has == WHOLE_NOT_INT) {
		verr_add(v, field, "must be an integer");
		return -1;
	}
	if (w.has == WHOLE_OVER || w.v < min || w.v > max) {
		snprintf(msg, sizeof(msg), "must be between %lld and %lld",
			 (long long)min, (long long)max);
		verr_add(v, field, msg);
		return -1;
	}
	*out = w.v;
	return 0;
}

void
verr_free(struct verr *v)
{
	json_object_put(v->errors);
	v->errors = NULL;
}

int
valid_ref(struct json_object *obj, const char *key, const char *field,
	  char *out, size_t outlen, struct verr *v)
{
	struct json_object *f = json_object_object_get(obj, key);
	const char *s;

	out[0] = '\0';
	if (f == NULL) {
		verr_add(v, field, "is required");
		return -1;
	}
	if (json_object_is_type(f, json_type_int) &&
	    json_object_get_int64(f) > 0) {
		snprintf(out, outlen, "%lld",
			 (long long)json_object_get_int64(f));
		return 0;
	}
	if (!json_object_is_type(f, json_type_string)) {
		verr_add(v, field, "must be an id or a code");
		return -1;
	}
	s = json_object_get_string(f);
	if (*s == '\0' || strlen(s) >= outlen || strlen(s) > 64 ||
	    (size_t)json_object_get_string_len(f) != strlen(s)) {
		verr_add(v, field, "must be an id or a code");
		return -1;
	}
	snprintf(out, outlen, "%s", s);
	return 0;
}

/* Whether p[0..n) is well-formed UTF-8 (no overlongs or surrogates). */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t len, k;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 &&
		     (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += len;
	}
	return 1;
}

/* Which check text s (n bytes) fails: V__MAX when none. */
static enum vcode
text_code(const char *s, size_t n, size_t max)
{
	size_t i, chars;

	/* Limits are in characters: count the bytes that start one. */
	for (i = 0, chars = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (n == 0 || chars > max)
		return V_LENGTH;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return V_CONTROL;
	if (!utf8_ok((const unsigned char *)s, n))
		return V_UTF8;
	return V__MAX;
}

struct text
valid_text_of(struct json_object *obj, const char *key)
{
	struct json_object *f = json_object_object_get(obj, key);
	struct text t = {NULL, 0, f != NULL};

	if (json_object_is_type(f, json_type_string)) {
		t.s = json_object_get_string(f);
		t.len = (size_t)json_object_get_string_len(f);
	}
	return t;
}

struct text
valid_digits_of(struct json_object *obj, const char *key)
{
	struct json_object *f = json_object_object_get(obj, key);
	struct text t = {NULL, 0, f != NULL};

	if (json_object_is_type(f, json_type_string) ||
	    json_object_is_type(f, json_type_int)) {
		t.s = json_object_get_string(f);
		t.len = strlen(t.s);
	}
	return t;
}

int
valid_text(const struct text *t, enum field f, size_t max, struct verr *v)
{
	enum vcode c;

	if (!t->given)
		return 0;
	c = t->s == NULL ? V_NOT_TEXT : text_code(t->s, t->len, max);
	if (c == V__MAX)
		return 0;
	verr_core(v, f, c, max);
	return -1;
}

int
valid_str(struct json_object *obj, const char *key, const char *field,
	  size_t max, const char **out, struct verr *v)
{
	struct text t = valid_text_of(obj, key);
	enum vcode c;
	char msg[64];

	*out = NULL;
	if (!t.given)
		return 0;
	c = t.s == NULL ? V_NOT_TEXT : text_code(t.s, t.len, max);
	if (c != V__MAX) {
		vcode_message(c, max, msg, sizeof(msg));
		verr_add(v, field, msg);
		return -1;
	}
	*out = t.s;
	return 0;
}

int
valid_only_keys(struct json_object *obj, const char *const *allowed,
		struct verr *v)
{
	int bad = 0;

	json_object_object_foreach(obj, k, val)
	{
		const char *const *a;

		(void)val;
		for (a = allowed; *a != NULL && strcmp(*a, k) != 0; a++)
			;
		if (*a == NULL) {
			verr_add(v, k, "unknown field");
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* RFC 5322 atext: letters, digits and these. */
static int
is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

int
valid_email(const char *s)
{
	const char *at = strchr(s, '@'), *d, *label;
	size_t i, n = strlen(s), len, labels = 0;
	int digits_only = 1;

	if (n > 254 || at == NULL || at == s || at - s > 64)
		return 0;
	/* The local part: a dot-atom (atoms of atext joined by single dots). */
	for (i = 0; s + i < at; i++) {
		if (s[i] == '.') {
			if (i == 0 || s[i - 1] == '.' || s + i + 1 == at)
				return 0;
		} else if (!is_atext(s[i])) {
			return 0;
		}
	}
	/* The domain: two or more LDH labels of 1 to 63 characters, none
	 * starting or ending with a hyphen, the last not all digits. */
	for (d = at + 1;; d = label + len + 1) {
		label = d;
		for (len = 0; is_ldh(label[len]); len++)
			;
		if (len == 0 || len > 63 || label[0] == '-' ||
		    label[len - 1] == '-')
			return 0;
		labels++;
		if (label[len] == '\0')
			break;
		if (label[len] != '.')
			return 0;
	}
	for (i = 0; i < len; i++)
		digits_only &= label[i] >= '0' && label[i] <= '9';
	return labels >= 2 && !digits_only;
}

/* ISO 3166-1 alpha-2, the assigned codes (249), in order. */
static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBS"
    "BTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEE"
    "EGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHM"
    "HNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLC"
    "LILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
    "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTO"
    "TRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

int
valid_country(const char *s)
{
	size_t lo = 0, hi = (sizeof(iso3166) - 1) / 2;

	if (strlen(s) != 2)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(iso3166 + 2 * mid, s, 2);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}
