#include "paystate.h"

#include <string.h>

const char *const pay_state_names[PS__MAX] = {
    "cart",   "new",	   "processing", "completed",
    "failed", "cancelled", "refunded"};

const char *const pay_ev_names[PE__MAX] = {"place",  "start", "succeed", "fail",
					   "cancel", "void",  "refund"};

#define S(x) (1u << (x))

/* SPEC 1's payment states and every move the program makes between them.
 * Anything else is refused. */
static const struct {
	enum pay_ev ev;
	unsigned from;
	enum pay_state to;
} table[PE__MAX] = {
    {PE_PLACE, S(PS_CART), PS_NEW},
    {PE_START, S(PS_NEW), PS_PROCESSING},
    {PE_SUCCEED, S(PS_NEW) | S(PS_PROCESSING), PS_COMPLETED},
    {PE_FAIL, S(PS_NEW) | S(PS_PROCESSING), PS_FAILED},
    {PE_CANCEL, S(PS_NEW) | S(PS_PROCESSING), PS_CANCELLED},
    {PE_VOID, S(PS_CART) | S(PS_NEW), PS_CANCELLED},
    {PE_REFUND, S(PS_COMPLETED), PS_REFUNDED},
};

enum pay_state
pay_state_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < PS__MAX; i++)
		if (strcmp(s, pay_state_names[i]) == 0)
			return (enum pay_state)i;
	return PS__MAX;
}

enum err
pay_transition(enum pay_state from, enum pay_ev ev, enum pay_state *to)
{
	if (from >= PS__MAX || ev >= PE__MAX || !(table[ev].from & S(from)))
		return ERR_INVALID_TRANSITION;
	if (to != NULL)
		*to = table[ev].to;
	return ERR_OK;
}

size_t
pay_from(enum pay_ev ev, enum pay_state *from, size_t max)
{
	size_t n = 0;
	int s;

	for (s = 0; ev < PE__MAX && s < PS__MAX; s++)
		if (table[ev].from & S(s)) {
			if (n < max)
				from[n] = (enum pay_state)s;
			n++;
		}
	return n;
}
