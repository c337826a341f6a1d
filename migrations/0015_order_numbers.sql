-- Order numbers without a hot row (docs/scaling.md, "Order numbers"): a
-- row per number, its AUTO_INCREMENT the number. On one server the
-- numbers run 1, 2, 3, ... as order_sequence gave them; on a Galera
-- cluster wsrep_auto_increment_control gives each node its own
-- residue (increment = cluster size, offset = the node's index), so
-- nodes never write the same row or wait on one another. The numbers
-- given so far are recorded, so the counter goes on after the highest.
CREATE TABLE order_numbers (
  number BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  UNIQUE KEY uq_order_numbers_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO order_numbers (number, order_id)
SELECT CAST(number AS UNSIGNED), id FROM orders WHERE number IS NOT NULL;

DROP TABLE order_sequence;
