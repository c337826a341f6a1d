-- Work claimed by one deliverer or reconciler at a time, on any host
-- (docs/scaling.md, "Claimed work"). An outbox event's claim is the
-- random tag of the deliverer whose lease (lease_until) it is under: its
-- delivered/retry update is conditional on the tag, so a deliverer whose
-- lease ran out cannot overwrite another's. A payment's reconcile_until is
-- the lease of the checkoutctl reconcile that asks the provider about it.
-- Each is written by a conditional UPDATE in a transaction, and trusted
-- only once that transaction committed (on Galera, a second host's claim
-- of the same row fails certification and is retried, finding the lease).
ALTER TABLE outbox_events
  ADD COLUMN claim BINARY(16) NULL;

ALTER TABLE payments
  ADD COLUMN reconcile_until DATETIME NULL;
