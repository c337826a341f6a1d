-- Payments through providers (SPEC 2.7, 2.8): the confirm attempt counter
-- (its Idempotency-Key is "<payment uuid>-confirm-<attempt>", persisted
-- before the call), the inbound webhook events seen, and the index the
-- outbox deliverer reads.

ALTER TABLE payments
  ADD COLUMN attempts INT UNSIGNED NOT NULL DEFAULT 0 AFTER provider_ref,
  ADD KEY ix_payments_declines (order_id, state, updated_at);

CREATE TABLE webhook_events (
  event_id VARCHAR(255) NOT NULL PRIMARY KEY,
  type VARCHAR(64) NOT NULL,
  received_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The deliverer takes the oldest undelivered event first (SPEC 2.10).
ALTER TABLE outbox_events ADD KEY ix_outbox_pending (delivered_at, id);
