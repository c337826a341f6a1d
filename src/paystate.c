#include "paystate.h"

#include "states.h"

const char *const pay_state_names[PS__MAX] = {
    "cart",   "new",	   "processing", "completed",
    "failed", "cancelled", "refunded"};

const char *const pay_ev_names[PE__MAX] = {"place",  "start", "succeed", "fail",
					   "cancel", "void",  "refund"};

#define S(x) (1u << (x))

/* SPEC 1's payment states and every move the program makes between them.
 * Anything else is refused. The walk is states.c's. */
static const struct move table[] = {
    {PE_PLACE, S(PS_CART), PS_NEW},
    {PE_START, S(PS_NEW), PS_PROCESSING},
    {PE_SUCCEED, S(PS_NEW) | S(PS_PROCESSING), PS_COMPLETED},
    {PE_FAIL, S(PS_NEW) | S(PS_PROCESSING), PS_FAILED},
    {PE_CANCEL, S(PS_NEW) | S(PS_PROCESSING), PS_CANCELLED},
    {PE_VOID, S(PS_CART) | S(PS_NEW), PS_CANCELLED},
    {PE_REFUND, S(PS_COMPLETED), PS_REFUNDED},
};
static const struct machine pay_machine = {
    table, sizeof(table) / sizeof(table[0]), PS__MAX, PE__MAX};

enum pay_state
pay_state_parse(const char *s)
{
	return (enum pay_state)machine_parse(pay_state_names, PS__MAX, s);
}

enum err
pay_transition(enum pay_state from, enum pay_ev ev, enum pay_state *to)
{
	int t = 0;
	enum err e = machine_move(&pay_machine, (int)from, (int)ev, &t);

	if (e == ERR_OK && to != NULL)
		*to = (enum pay_state)t;
	return e;
}

size_t
pay_from(enum pay_ev ev, enum pay_state *from, size_t max)
{
	int s[PS__MAX];
	size_t n = machine_from(&pay_machine, (int)ev, s, PS__MAX), i;

	for (i = 0; i < n && i < max; i++)
		from[i] = (enum pay_state)s[i];
	return n;
}
