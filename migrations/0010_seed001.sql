-- Seed 001 (SPEC 3.2): OAuth tokens, kept as hashes and compared by hash,
-- each belonging to an account; a seed-001 checkout is a cart owned by the
-- buyer's account, with the service and payment token the request gave.
CREATE TABLE oauth_tokens (
  token_sha256 BINARY(32) NOT NULL PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  expires_at DATETIME NOT NULL,
  KEY ix_oauth_account (account_id),
  CONSTRAINT fk_oauth_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE orders
  ADD COLUMN seed001_account_id BIGINT UNSIGNED NULL,
  ADD COLUMN seed001_service BIGINT NULL,
  ADD COLUMN seed001_payment_token VARCHAR(255) NULL,
  ADD CONSTRAINT fk_orders_seed001_account FOREIGN KEY (seed001_account_id) REFERENCES accounts (id);
