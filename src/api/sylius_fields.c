/*
 * The canonical API's checkout bodies (SPEC 2.3) decoded into the core's
 * inputs (src/input.h), and the core's fields named in the API's words:
 * the only place that knows `shippingAddress.city` or
 * `shipments[0].method`.
 */
#include "api/sylius.h"

#include <stdio.h>
#include <string.h>

#include "valid.h"

/* An address's keys, by part, and the other spelling a part may come in
 * (read when the first is absent). */
static const char *const addr_keys[ADDR__MAX] = {
    "firstName", "lastName", "company",	 "street", "city",
    "postcode",	 "country",  "province", "phone",
};
static const char *const addr_alt[ADDR__MAX] = {
    [ADDR_COUNTRY] = "countryCode",
    [ADDR_PROVINCE] = "provinceCode",
};

/* Whether k is one of an address's keys. */
static int
addr_key(const char *k)
{
	size_t i;

	for (i = 0; i < ADDR__MAX; i++)
		if (strcmp(k, addr_keys[i]) == 0 ||
		    (addr_alt[i] != NULL && strcmp(k, addr_alt[i]) == 0))
			return 1;
	return 0;
}

static void
decode_address(struct json_object *a, const char *name, struct address *out,
	       unsigned *alt)
{
	char field[96];
	size_t i;

	if (a == NULL)
		return;
	out->has = ADDRESS_UNREADABLE;
	if (!json_object_is_type(a, json_type_object)) {
		verr_add(&out->shape, name, "must be an object");
		return;
	}
	out->has = ADDRESS_GIVEN;
	json_object_object_foreach(a, k, val)
	{
		(void)val;
		snprintf(field, sizeof(field), "%s.%s", name, k);
		if (!addr_key(k))
			verr_add(&out->shape, field, "unknown field");
	}
	for (i = 0; i < ADDR__MAX; i++) {
		const char *key = addr_keys[i];

		if (json_object_object_get(a, key) == NULL &&
		    addr_alt[i] != NULL &&
		    json_object_object_get(a, addr_alt[i]) != NULL) {
			key = addr_alt[i];
			*alt |= 1u << i;
		}
		out->part[i] = valid_text_of(a, key);
	}
}

/* A selection step's list: one entry naming a method (id or code). */
static void
decode_method(struct json_object *body, const char *list, struct step_in *in)
{
	struct json_object *a = json_object_object_get(body, list), *m;
	char field[64];

	snprintf(field, sizeof(field), "%s[0].method", list);
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != 1) {
		verr_add(&in->decoded, list,
			 "must be a list of one entry per proposed item");
		return;
	}
	m = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(m, json_type_object))
		verr_add(&in->decoded, field, "is required");
	else
		valid_ref(m, "method", field, in->method, sizeof(in->method),
			  &in->decoded);
}

/* The step a top-level key of a PUT body belongs to (SPEC 2.3). */
static enum step
group_of(const char *key)
{
	static const struct {
		const char *key;
		enum step step;
	} keys[] = {
	    {"shippingAddress", STEP_ADDRESS},
	    {"billingAddress", STEP_ADDRESS},
	    {"email", STEP_ADDRESS},
	    {"shipments", STEP_SHIPPING},
	    {"payments", STEP_PAYMENT},
	    {"paymentToken", STEP_PURCHASE},
	    {"type", STEP_PURCHASE},
	    {"cardholderName", STEP_PURCHASE},
	    {"number", STEP_PURCHASE},
	    {"securityCode", STEP_PURCHASE},
	    {"expiryMonth", STEP_PURCHASE},
	    {"expiryYear", STEP_PURCHASE},
	    {"notes", STEP_FINALIZE},
	    {"expectedTotal", STEP_FINALIZE},
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].key, key) == 0)
			return keys[i].step;
	return STEP_INVALID;
}

enum step
sylius_step_of(struct json_object *body, struct verr *v)
{
	enum step step = STEP_FINALIZE;
	int bad = 0;

	/* The step is the group of the step keys; all must agree. */
	json_object_object_foreach(body, key, val)
	{
		enum step g = group_of(key);

		(void)val;
		if (g == STEP_INVALID) {
			verr_add(v, key, "unknown field");
			bad = 1;
		} else if (g != STEP_FINALIZE && step == STEP_FINALIZE) {
			step = g;
		} else if (g != STEP_FINALIZE && g != step) {
			verr_add(v, key, "belongs to another step");
			bad = 1;
		}
	}
	/* notes and expectedTotal go with a finalize only. */
	if (step != STEP_FINALIZE) {
		json_object_object_foreach(body, k2, v2)
		{
			(void)v2;
			if (group_of(k2) == STEP_FINALIZE) {
				verr_add(v, k2, "belongs to another step");
				bad = 1;
			}
		}
	}
	return bad ? STEP_INVALID : step;
}

void
sylius_step_decode(struct json_object *body, struct sylius_step *c)
{
	struct step_in *in = &c->in;

	in->expected = -1;
	if (c->step == STEP_ADDRESS) {
		decode_address(json_object_object_get(body, "shippingAddress"),
			       "shippingAddress", &in->ship, &c->alt[0]);
		decode_address(json_object_object_get(body, "billingAddress"),
			       "billingAddress", &in->bill, &c->alt[1]);
		in->email = valid_text_of(body, "email");
	} else if (c->step == STEP_SHIPPING || c->step == STEP_PAYMENT) {
		decode_method(
		    body, c->step == STEP_SHIPPING ? "shipments" : "payments",
		    in);
	} else if (c->step == STEP_FINALIZE) {
		valid_str(body, "notes", "notes", 1000, &in->notes,
			  &in->decoded);
		valid_int(body, "expectedTotal", "expectedTotal", 0, INT64_MAX,
			  -1, &in->expected, &in->decoded);
	}
}

void
sylius_card_decode(struct json_object *body, struct card_in *in)
{
	in->token = valid_text_of(body, "paymentToken");
	in->name = valid_text_of(body, "cardholderName");
	in->type = valid_text_of(body, "type");
	in->number = valid_digits_of(body, "number");
	in->cvc = valid_digits_of(body, "securityCode");
	in->exp_month = valid_whole_of(body, "expiryMonth");
	in->exp_year = valid_whole_of(body, "expiryYear");
}

/* A part read from its alias is named so, but for the country's check
 * (arg: the sylius_step; NULL where no address is decoded). */
const char *
sylius_field_name(void *arg, enum field f, enum vcode code, char *buf,
		  size_t len)
{
	static const char *const names[F__MAX] = {
	    [F_ITEMS] = "items",
	    [F_EMAIL] = "email",
	    [F_SHIP_METHOD] = "shipments[0].method",
	    [F_PAY_METHOD] = "payments[0].method",
	    [F_LINE_VARIANT] = "variant",
	    [F_LINE_QUANTITY] = "quantity",
	    [F_COUPON] = "code",
	    [F_CARD_TOKEN] = "paymentToken",
	    [F_CARD_NAME] = "cardholderName",
	    [F_CARD_TYPE] = "type",
	    [F_CARD_NUMBER] = "number",
	    [F_CARD_CVC] = "securityCode",
	    [F_CARD_EXP_MONTH] = "expiryMonth",
	    [F_CARD_EXP_YEAR] = "expiryYear",
	    [F_SHIP_ADDRESS] = "shippingAddress",
	    [F_BILL_ADDRESS] = "billingAddress",
	};
	const struct sylius_step *c = arg;
	int bill = f > F_BILL_ADDRESS;
	enum field base = bill ? F_BILL_ADDRESS : F_SHIP_ADDRESS;
	size_t part = (size_t)(f - base - 1);

	if (f <= F_SHIP_ADDRESS || f == F_BILL_ADDRESS || f >= F_LINE_VARIANT)
		return names[f];
	snprintf(buf, len, "%s.%s", names[base],
		 (c->alt[bill] >> part & 1) && code != V_COUNTRY
		     ? addr_alt[part]
		     : addr_keys[part]);
	return buf;
}
