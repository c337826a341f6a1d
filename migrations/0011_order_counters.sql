-- What every request's ownership read and the processor chain need, kept
-- on the order row so that read is one primary-key lookup (docs/performance.md):
-- the number of lines and of lines that need shipping (written by the
-- chain, which reads the lines anyway), the two addresses' countries
-- (written with the addresses), and a digest of the adjustments as stored
-- (NULL: not known, so the chain rewrites them).
ALTER TABLE orders
  ADD COLUMN item_lines INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN shipping_lines INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN ship_country CHAR(2) NULL,
  ADD COLUMN bill_country CHAR(2) NULL,
  ADD COLUMN adj_digest BIGINT NULL;

UPDATE orders o SET
  item_lines = (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id),
  shipping_lines = (SELECT COALESCE(SUM(v.needs_shipping), 0) FROM order_items i
    JOIN product_variants v ON v.id = i.variant_id WHERE i.order_id = o.id),
  ship_country = (SELECT a.country_code FROM addresses a WHERE a.id = o.shipping_address_id),
  bill_country = (SELECT a.country_code FROM addresses a WHERE a.id = o.billing_address_id);
