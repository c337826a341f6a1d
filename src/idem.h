/*
 * Idempotency keys (SPEC 1). A POST/PUT/PATCH/DELETE with an
 * Idempotency-Key and a credential (cart token, session or admin token) is
 * scoped to (credential, method, path, key). Stored: an HMAC of method,
 * path and raw body under the server secret, never the body, and the
 * response, written by db_tx's precommit hook in the same transaction as
 * the work. Same key and HMAC: the stored response, byte for byte, without
 * running again; another HMAC: 422 idempotency_key_reused; still running:
 * 409 idempotency_key_in_use (a marker older than 60 s is taken over).
 * Responses 401, 409, 429 and 5xx are not stored. Keys last 24 h.
 */
#ifndef CHECKOUTD_IDEM_H
#define CHECKOUTD_IDEM_H

#include "http.h"

/* Reads the secret (secret_init). */
void idem_init(void);
/*
 * Before the handler. Returns 1 when the request is answered already (a
 * replay, 409, 422); 0 when the handler must run (with the precommit hook
 * set on req->db when a key is in play).
 */
int idem_begin(struct request *req);
/* After the response is final: stores it when storable and not stored
 * yet, or drops the marker. */
void idem_end(struct request *req);

#endif
