-- Seed 000's rules (a provider's capacity, a customer's two unpaid
-- orders) were kept by locking the provider's and the customer's rows
-- with SELECT ... FOR UPDATE. On a Galera cluster such a lock holds on its
-- own node only, and two bookings on two nodes that each insert their own
-- rows never conflict. Each booking now writes both rows (these counters),
-- which takes the same lock on one server and, on a cluster, makes two
-- bookings of the same provider or customer conflict at certification: one
-- is retried and counts the other's order (docs/scaling.md).
ALTER TABLE providers
  ADD COLUMN bookings BIGINT UNSIGNED NOT NULL DEFAULT 0;

ALTER TABLE customers
  ADD COLUMN bookings BIGINT UNSIGNED NOT NULL DEFAULT 0;
