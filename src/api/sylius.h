/*
 * The canonical API (seed 004, SPEC 2) in three files: catalog and carts
 * (sylius.c), checkout steps and purchase (sylius_checkout.c), and the
 * checkout bodies decoded into the core's inputs with the core's fields
 * named in the API's words (sylius_fields.c). What they share is here.
 */
#ifndef CHECKOUTD_API_SYLIUS_H
#define CHECKOUTD_API_SYLIUS_H

#include "api/api.h"
#include "cart.h"
#include "checkout.h"
#include "input.h"
#include "order.h"

/* The caller's credentials: the X-Cart-Token header, a Bearer session. */
struct creds sylius_creds(struct request *req);

/* A read of an order for the answer (kept in pool). */
typedef enum err sylius_view_fn(struct db *db, struct pool *pool, void *curl,
				const struct order_head *h,
				struct json_object **out);
/* Answers 200 with view's read of the order in the path, authorized. */
enum err sylius_view(struct request *req, sylius_view_fn *view);

/* A checkout step's body as the core's input, and how it was spelled. */
struct sylius_step {
	enum step step;
	struct step_in in;
	unsigned alt[2]; /* by address, a bit per part read as its alias */
};

/*
 * Chooses the step of a PUT body (SPEC 2.3): finalize for {} or a body of
 * only notes and/or expectedTotal; otherwise every key must belong to one
 * group. Keys of two groups, or unknown keys: STEP_INVALID with an error
 * naming the key in v.
 */
enum step sylius_step_of(struct json_object *body, struct verr *v);
/* Decodes body for s->step into s->in (what it refuses: s->in.decoded).
 * The caller keeps s->in's errors (decoded, ship.shape, bill.shape) in
 * its pool. */
void sylius_step_decode(struct json_object *body, struct sylius_step *s);
/* Decodes a purchase's body (SPEC 2.7) into in (pointing into body). */
void sylius_card_decode(struct json_object *body, struct card_in *in);
/* Names the core's fields in v as the API does (arg: the sylius_step, or
 * NULL outside the addressing step). */
const char *sylius_field_name(void *arg, enum field f, enum vcode code,
			      char *buf, size_t len);

#endif
