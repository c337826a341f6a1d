/*
 * Outbound HTTP through libcurl: the only way checkoutd talks to providers
 * (payments, carriers, webhook receivers, the seed-003 upstream). Each
 * worker reuses its own curl handle, so connections are kept alive. TLS
 * peers are always verified. Never called inside a database transaction
 * or while a row lock is held.
 */
#ifndef CHECKOUTD_OUTBOUND_H
#define CHECKOUTD_OUTBOUND_H

#include <stddef.h>

#include "err.h"
#include "str.h"

struct outbound_resp {
	long status; /* HTTP status; 0 when none arrived */
	struct buf body;
};

/*
 * Sends method url with the extra header lines headers (NULL-terminated,
 * may be NULL) and body (may be NULL), waiting at most timeout seconds
 * (outbound.connect_timeout for the connection). ERR_OK when a response
 * arrived, whatever its status; ERR_PROVIDER_TIMEOUT when the time ran
 * out; ERR_PROVIDER_ERROR when no connection could be made or the answer
 * was not HTTP. r->body is reset first; the caller frees it.
 */
enum err outbound_send(void *curl, const char *method, const char *url,
		       const char *const *headers, const char *body,
		       long timeout, struct outbound_resp *r);

/*
 * The gate on requests waiting on providers: at most
 * outbound.max_concurrent at once (0: half the workers). outbound_enter
 * returns 0 with a slot taken, or -1 when all are taken (answer 503 busy).
 */
int outbound_enter(void);
void outbound_leave(void);

/* Appends "&name=value" (no "&" when b is empty), value URL-encoded. */
int form_add(struct buf *b, const char *name, const char *value);

#endif
