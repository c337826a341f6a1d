/*
 * The core's typed inputs: what a checkout step, a cart's line and a
 * purchase take, as C values. A dialect decodes its own body into these
 * (src/api/sylius_fields.c for the canonical API); place_order and seed
 * 003's import fill them directly. The core checks them and reports a field
 * error as (enum field, enum vcode) (src/valid.h): it never sees a dialect's
 * JSON or its names.
 */
#ifndef CHECKOUTD_INPUT_H
#define CHECKOUTD_INPUT_H

#include <stdint.h>

#include "valid.h"

/* An address for the addressing step: its parts are checked by the core
 * (lengths, required parts, the country's code). */
struct address {
	enum {
		ADDRESS_ABSENT,
		ADDRESS_GIVEN,
		/* Given, but not one (not an object): only shape says why. */
		ADDRESS_UNREADABLE
	} has;
	struct text part[ADDR__MAX];
	/* What the dialect refused in its shape (unknown keys), in its own
	 * names: reported first among the address's errors. */
	struct verr shape;
};

/*
 * One checkout step's input (SPEC 2.3). decoded holds what the dialect
 * refused while decoding, in its own names: the step reports it (422)
 * once the order's state allows the step, before the core's own errors.
 */
struct step_in {
	struct verr decoded;
	/* Addressing. */
	struct address ship, bill;
	struct text email;
	/* Shipping or payment selection: the method's id or code, or
	 * "carrier:<service>" for a carrier's quote; "" when not decoded. */
	char method[72];
	/* Finalize. */
	const char *notes;
	int64_t expected; /* the total the client saw; -1: the current one */
};

/* A cart's line: a variant and how many of it. */
struct line_in {
	const char *variant; /* its id or code (borrowed) */
	int64_t quantity;
};

/*
 * A purchase's card or payment token (SPEC 2.7): a payment token (a
 * provider's PaymentMethod id) or the card's fields, as the dialect
 * decoded them; the core checks them (card_check, src/purchase.h).
 */
struct card_in {
	struct text token; /* the payment token */
	struct text name;  /* the cardholder's name */
	struct text type;  /* the kind of payment named: checked, not used */
	/* Digits with optional spaces or dashes (a JSON integer as its
	 * digits): s NULL when given as anything else. */
	struct text number, cvc;
	struct whole exp_month, exp_year;
};

#endif
