-- Refunds of completed payments (SPEC 2.10 admin refund and cancel): each
-- one a row, so partial refunds add up and a retried refund reuses its
-- provider idempotency key ("<payment uuid>-refund-<n>").
CREATE TABLE refunds (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  payment_id BIGINT UNSIGNED NOT NULL,
  amount BIGINT NOT NULL,
  provider_ref VARCHAR(255) NULL COMMENT 'the provider refund id (re_...)',
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_refunds_uuid (uuid),
  KEY ix_refunds_payment (payment_id),
  CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
