-- Seed 003 (SPEC 3.4): each checkout session imported once. The row is
-- claimed first in the import's transaction, so concurrent imports of one
-- session wait and then answer the stored body (order token included, as
-- an idempotent replay does).
CREATE TABLE seed003_imports (
  session_id VARCHAR(255) NOT NULL PRIMARY KEY,
  order_id BIGINT UNSIGNED NULL,
  body MEDIUMTEXT NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY ix_seed003_order (order_id),
  CONSTRAINT fk_seed003_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
