-- Carrier rates (SPEC 2.9): the quotes a Shippo-compatible carrier gave
-- for an order's address and parcel, kept carrier.quote_ttl seconds; the
-- chain charges the quote the shipment points at, never a live price.
CREATE TABLE carrier_quotes (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  address_hash CHAR(64) NOT NULL,
  items_hash CHAR(64) NOT NULL,
  token VARCHAR(64) NOT NULL COMMENT 'the service level token',
  name VARCHAR(255) NOT NULL COMMENT '<provider> <service level name>',
  amount BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  estimated_days INT NULL,
  fetched_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at DATETIME NOT NULL,
  KEY ix_carrier_quotes_order (order_id, token),
  CONSTRAINT fk_carrier_quotes_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE shipments
  ADD COLUMN carrier_quote_id BIGINT UNSIGNED NULL AFTER method_id,
  ADD CONSTRAINT fk_shipments_quote FOREIGN KEY (carrier_quote_id)
    REFERENCES carrier_quotes (id) ON DELETE SET NULL;
