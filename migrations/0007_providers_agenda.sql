-- Seed 000 (SPEC 3.1): providers — sellers, each linked to an account —
-- with a capacity of open agenda entries; products may belong to one; an
-- agenda entry holds a provider's slot while `scheduled`. Seed 001 uses
-- the accounts too.
CREATE TABLE accounts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  global_type VARCHAR(32) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE providers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  capacity INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'open (scheduled) agenda entries at most',
  UNIQUE KEY uq_providers_uuid (uuid),
  CONSTRAINT fk_providers_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE products
  ADD COLUMN provider_id BIGINT UNSIGNED NULL,
  ADD KEY ix_products_provider (provider_id),
  ADD CONSTRAINT fk_products_provider FOREIGN KEY (provider_id) REFERENCES providers (id);

CREATE TABLE agenda_entries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  provider_id BIGINT UNSIGNED NOT NULL,
  order_id BIGINT UNSIGNED NOT NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  starts_at DATETIME NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'scheduled' COMMENT 'scheduled, done, cancelled',
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_agenda_uuid (uuid),
  KEY ix_agenda_provider (provider_id, state, starts_at),
  KEY ix_agenda_order (order_id),
  CONSTRAINT fk_agenda_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
  CONSTRAINT fk_agenda_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_agenda_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
