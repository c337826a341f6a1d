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
valid_int(struct json_object *obj, const char *key, const char *field,
	  int64_t min, int64_t max, int64_t def, int64_t *out, struct verr *v)
{
	struct json_object *f = NULL;
	int64_t x;

	*out = def;
	/* Absent: the default. Present, null is no integer (it is not "1"). */
	if (!json_object_object_get_ex(obj, key, &f))
		return 0;
	if (json_object_is_type(f, json_type_int)) {
		x = json_object_get_int64(f);
		/* json-c keeps 2^63 to 2^64 - 1 as unsigned and saturates
		 * beyond, where int64 reads INT64_MAX: out of range. */
		if (json_object_get_uint64(f) > (uint64_t)INT64_MAX) {
			char msg[96];

			snprintf(msg, sizeof(msg),
				 "must be between %lld and %lld",
				 (long long)min, (long long)max);
			verr_add(v, field, msg);
			return -1;
		}
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

int
valid_str(struct json_object *obj, const char *key, const char *field,
	  size_t max, const char **out, struct verr *v)
{
	struct json_object *f = json_object_object_get(obj, key);
	const char *s;
	size_t n, i, chars;

	*out = NULL;
	if (f == NULL)
		return 0;
	if (!json_object_is_type(f, json_type_string)) {
		verr_add(v, field, "must be a string");
		return -1;
	}
	s = json_object_get_string(f);
	n = (size_t)json_object_get_string_len(f);
	/* Limits are in characters: count the bytes that start one. */
	for (i = 0, chars = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (n == 0 || chars > max) {
		char msg[64];

		snprintf(msg, sizeof(msg), "must be 1 to %zu characters", max);
		verr_add(v, field, msg);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			verr_add(v, field, "must not hold control characters");
			return -1;
		}
	}
	if (!utf8_ok((const unsigned char *)s, n)) {
		verr_add(v, field, "must be UTF-8");
		return -1;
	}
	*out = s;
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
