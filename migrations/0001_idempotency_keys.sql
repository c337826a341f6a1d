-- Idempotency records (SPEC 1, "Idempotency"). A key is scoped to the
-- credential, method and path; we keep an HMAC of the request, never the
-- body, and the stored response is replayed byte for byte.
CREATE TABLE idempotency_keys (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  scope_hash BINARY(32) NOT NULL COMMENT 'SHA-256 of credential, method, path and key',
  request_hmac BINARY(32) NOT NULL,
  status SMALLINT UNSIGNED NULL COMMENT 'NULL while the first request runs',
  response_headers TEXT NULL,
  response_body MEDIUMBLOB NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at DATETIME NOT NULL,
  UNIQUE KEY uq_idempotency_scope (scope_hash),
  KEY ix_idempotency_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
