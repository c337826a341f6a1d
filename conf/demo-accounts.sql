-- The demo store's people, loaded by `checkoutctl demo` into an empty
-- database before its catalog (conf/demo-store.json, imported as any
-- catalog file is: docs/catalog.md), in the same transaction. Who buys
-- and sells, not what is sold: customers, their sessions, accounts,
-- seed 000's providers and seed 001's OAuth tokens, which a catalog file
-- does not hold (sessions and tokens are secrets an export must not
-- print). Fixed ids, documented in docs/demo-store.md.
-- Statements end with ";" at the end of a line.

INSERT INTO customers (id, email, first_name, last_name) VALUES
  (1, 'demo@example.com', 'Demo', 'Customer');

INSERT INTO customer_sessions (id, customer_id, expires_at) VALUES
  ('5d1f0e9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f', 1, '2099-12-31 23:59:59');

-- Seed 000 (docs/api-seed000.md): the demo account and its providers: a
-- workshop with room for every example (the sofa assembly) and one with no
-- capacity at all (the lamp repair). The catalog names each product's
-- provider by its uuid.
INSERT INTO accounts (id, name, global_type) VALUES (1, 'Demo Store', '0');
INSERT INTO providers (id, uuid, account_id, name, capacity) VALUES
  (1, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51', 1, 'Demo Workshop', 1000000),
  (2, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a52', 1, 'Fully Booked Repairs', 0);

-- Seed 001 (docs/api-seed001.md): two buyer accounts, each with an OAuth
-- token (stored as its SHA-256; the tokens themselves are documented).
INSERT INTO accounts (id, name, global_type) VALUES
  (2, 'World Conveyancing', '0'),
  (3, 'Other Buyer', '0');
INSERT INTO oauth_tokens (token_sha256, account_id, expires_at) VALUES
  (UNHEX(SHA2('demo-oauth-token-account-2', 256)), 2, '2099-12-31 23:59:59'),
  (UNHEX(SHA2('demo-oauth-token-account-3', 256)), 3, '2099-12-31 23:59:59');
