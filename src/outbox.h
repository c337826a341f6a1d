/*
 * Delivering the outbox (SPEC 2.10): events written with the change they
 * describe are POSTed to outbox.url, signed, at least once, in order per
 * order, retried with the delays of outbox.backoff. A delivery claims up
 * to 16 due events, at most one per order, in a short transaction (SELECT
 * ... FOR UPDATE SKIP LOCKED, then a lease), sends them one after another
 * outside any transaction, then records the outcomes (the delivered ones
 * in one UPDATE), so any number of deliverers (checkoutd's thread,
 * `checkoutctl deliver` from cron) may run at once.
 */
#ifndef CHECKOUTD_OUTBOX_H
#define CHECKOUTD_OUTBOX_H

#include "db.h"

/*
 * Claims and delivers the oldest due events (one batch). Returns how many
 * were tried (delivered or put back for later): 0 when none is due (or no
 * URL is configured), -1 on a database error.
 */
int outbox_deliver(struct db *db, void *curl);

/* The delivery thread's loop: delivers until stop_fd is readable, waiting
 * outbox.poll seconds between empty rounds. */
void outbox_run(int stop_fd);

#endif
