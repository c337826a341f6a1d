/*
 * The service's route table: every endpoint of every API, in one place.
 */
#ifndef CHECKOUTD_ROUTES_H
#define CHECKOUTD_ROUTES_H

#include <stddef.h>

#include "router.h"

extern const struct route routes[];
extern const size_t nroutes;

#endif
