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

/* The parts of an address, in the order they are checked. */
enum addr_part {
	ADDR_FIRST_NAME,
	ADDR_LAST_NAME,
	ADDR_COMPANY,
	ADDR_STREET,
	ADDR_CITY,
	ADDR_POSTCODE,
	ADDR_COUNTRY,
	ADDR_PROVINCE,
	ADDR_PHONE,
	ADDR__MAX
};

/*
 * The fields the core checks. The core reports a field error as (field,
 * code) and knows no dialect's names for them: each dialect names them in
 * its own words (verr_name). An address's parts follow it, in enum
 * addr_part's order (F_SHIP_ADDRESS + 1 + ADDR_CITY is its city).
 */
enum field {
	F_ITEMS,
	F_EMAIL,
	F_SHIP_METHOD,
	F_PAY_METHOD,
	F_SHIP_ADDRESS,
	F_BILL_ADDRESS = F_SHIP_ADDRESS + 1 + ADDR__MAX,
	/* A cart's line and coupon. */
	F_LINE_VARIANT = F_BILL_ADDRESS + 1 + ADDR__MAX,
	F_LINE_QUANTITY,
	F_COUPON,
	/* A purchase's card or payment token. */
	F_CARD_TOKEN,
	F_CARD_NAME,
	F_CARD_TYPE,
	F_CARD_NUMBER,
	F_CARD_CVC,
	F_CARD_EXP_MONTH,
	F_CARD_EXP_YEAR,
	F__MAX
};

/* What is wrong with a field (the message: vcode_message). */
enum vcode {
	V_REQUIRED,
	V_NOT_TEXT,
	V_LENGTH, /* arg: the most characters */
	V_CONTROL,
	V_UTF8,
	V_COUNTRY,
	V_EMAIL,
	V_NEEDS_SHIPPING,
	V_CART_EMPTY,
	V_ORDER_EMPTY,
	V_GUEST_EMAIL,
	V_NO_METHOD,
	V_NO_METHOD_HERE,
	V_NOT_INT,
	V_LINE_MAX,
	V_AVAILABLE, /* arg: how many units are available */
	V_NO_VARIANT,
	V_NO_COUPON,
	V_COUPON_NA,
	V_TOKEN_AND_CARD,
	V_CARD_NUMBER,
	V_CVC,
	V_MONTH,
	V_YEAR,
	V_EXPIRED,
	V__MAX
};

/* A text value as a dialect decoded it. */
struct text {
	const char *s; /* NULL: absent, or given but not text */
	size_t len;    /* bytes at s (not NUL-terminated there, maybe) */
	int given;     /* present, text or not */
};

/* An integer as a dialect decoded it (a JSON integer, or a decimal string
 * as forms send). */
struct whole {
	enum {
		WHOLE_ABSENT,
		WHOLE_NULL,    /* given as nothing (JSON null): no integer */
		WHOLE_INT,     /* v holds it */
		WHOLE_NOT_INT, /* given, but not an integer */
		WHOLE_OVER     /* an integer past int64 */
	} has;
	int64_t v;
};

/* Records that field failed with message (a dialect's own name). */
void verr_add(struct verr *v, const char *field, const char *message);
/* Records the core's error code for field f (arg: see enum vcode). */
void verr_core(struct verr *v, enum field f, enum vcode code, size_t arg);
/* The core's English message for code with arg, into buf. */
void vcode_message(enum vcode code, size_t arg, char *buf, size_t len);
/* Names every core error of v as the dialect does: name(arg, f, code)
 * returns the name (static, or in buf of len bytes). */
typedef const char *verr_name_fn(void *arg, enum field f, enum vcode code,
				 char *buf, size_t len);
void verr_name(struct verr *v, verr_name_fn *name, void *arg);
/* Adds a copy of every error of from to v, in order. */
void verr_append(struct verr *v, const struct verr *from);
/*
 * The core's check of a text t for field f: 1..max characters, no
 * control characters, UTF-8; V_NOT_TEXT when given but not text. Returns 0
 * when valid or absent.
 */
int valid_text(const struct text *t, enum field f, size_t max, struct verr *v);
/* Decodes key of obj as a struct text (pointing into obj); JSON null is
 * absent. */
struct text valid_text_of(struct json_object *obj, const char *key);
/* Decodes key of obj as a struct whole. */
struct whole valid_whole_of(struct json_object *obj, const char *key);
/* Decodes key of obj as a struct text of digits: a string, or a JSON
 * integer as its decimal digits (pointing into obj); s NULL when neither. */
struct text valid_digits_of(struct json_object *obj, const char *key);
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
