-- The demo store, loaded by `checkoutctl demo` into an empty database.
-- Fixed ids, uuids and codes, documented in docs/demo-store.md. EUR.
-- Statements end with ";" at the end of a line.

INSERT INTO tax_categories (id, code, name) VALUES
  (1, 'standard', 'Standard goods'),
  (2, 'shipping', 'Shipping services');

INSERT INTO zones (id, code, name) VALUES (1, 'US', 'United States'), (2, 'EU', 'European Union');

INSERT INTO zone_countries (zone_id, country_code) VALUES
  (1, 'US'),
  (2, 'AT'), (2, 'BE'), (2, 'BG'), (2, 'CY'), (2, 'CZ'), (2, 'DE'), (2, 'DK'),
  (2, 'EE'), (2, 'ES'), (2, 'FI'), (2, 'FR'), (2, 'GR'), (2, 'HR'), (2, 'HU'),
  (2, 'IE'), (2, 'IT'), (2, 'LT'), (2, 'LU'), (2, 'LV'), (2, 'MT'), (2, 'NL'),
  (2, 'PL'), (2, 'PT'), (2, 'RO'), (2, 'SE'), (2, 'SI'), (2, 'SK');

-- EU: VAT included in prices. US: sales tax added on top.
INSERT INTO tax_rates (id, zone_id, tax_category_id, name, bp, included) VALUES
  (1, 2, 1, 'VAT', 2000, 1),
  (2, 2, 2, 'VAT', 2000, 1),
  (3, 1, 1, 'Sales tax', 725, 0);

INSERT INTO products (id, uuid, code, name) VALUES
  (1, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a61', 'tshirt', 'T-Shirt'),
  (2, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a62', 'sofa', 'Sofa'),
  (3, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a63', 'lamp', 'Lamp (last one)'),
  (4, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a64', 'poster', 'Poster'),
  (5, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a65', 'ebook', 'E-book'),
  (6, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a66', 'sticker', 'Sticker (free download)'),
  (7, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a67', 'sofa-assembly', 'Sofa assembly at home'),
  (8, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a68', 'lamp-repair', 'Lamp repair');

INSERT INTO product_variants
  (id, uuid, code, product_id, name, price, tax_category_id, tracked, needs_shipping, weight_g, position)
VALUES
  (1, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e601', 'tshirt-m', 1, 'T-Shirt M', 1999, 1, 1, 1, 200, 1),
  (2, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e602', 'tshirt-l', 1, 'T-Shirt L', 1999, 1, 1, 1, 220, 2),
  (3, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e603', 'sofa', 2, 'Sofa', 500000, 1, 1, 1, 40000, 1),
  (4, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e604', 'lamp', 3, 'Lamp', 8900, 1, 1, 1, 1500, 1),
  (5, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e605', 'poster', 4, 'Poster', 900, 1, 0, 1, 100, 1),
  (6, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e606', 'ebook', 5, 'E-book', 1500, 1, 0, 0, 0, 1),
  (7, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e607', 'sticker', 6, 'Sticker', 0, 1, 0, 0, 0, 1),
  (8, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e608', 'sofa-assembly', 7, 'Sofa assembly', 4900, 1, 0, 0, 0, 1),
  (9, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e609', 'lamp-repair', 8, 'Lamp repair', 2900, 1, 0, 0, 0, 1);

-- Stock on hand (variant_stock; every variant has a row).
INSERT INTO variant_stock (variant_id, on_hand) VALUES
  (1, 1000000), (2, 1000000), (3, 1000000), (4, 1), (5, 0), (6, 0), (7, 0), (8, 0), (9, 0);

INSERT INTO shipping_methods
  (id, uuid, code, name, zone_id, calculator, amount, first_item_cost, additional_item_cost, additional_item_limit, tax_category_id, position)
VALUES
  (1, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c01', 'flat_eu', 'Flat rate (EU)', 2, 'flat_rate', 500, 0, 0, 0, 2, 1),
  (2, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c02', 'per_unit_eu', 'Per unit (EU)', 2, 'per_unit_rate', 200, 0, 0, 0, 2, 2),
  (3, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c03', 'flexible_eu', 'Courier (EU)', 2, 'flexible_rate', 0, 4000, 500, 10, 2, 3),
  (4, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c04', 'flat_us', 'Flat rate (US)', 1, 'flat_rate', 1500, 0, 0, 0, NULL, 4),
  -- Live rates from the carrier (carrier.url; ./run's sandbox fake).
  (5, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c05', 'carrier_eu', 'Carrier rates (EU)', 2, 'carrier', 0, 0, 0, 0, 2, 5);

INSERT INTO payment_methods (id, uuid, code, name, gateway, position) VALUES
  (1, '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e01', 'offline', 'Bank transfer', 'offline', 1),
  (2, '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e02', 'stripe', 'Card', 'stripe', 2);

INSERT INTO promotions
  (id, code, name, priority, exclusive, coupon_based, rule_min_item_total, action, action_amount, action_bp)
VALUES
  (1, 'christmas', 'Christmas Sale for orders over 100 EUR', 10, 0, 0, 10000, 'order_fixed_discount', 250, 0),
  (2, 'welcome', 'Welcome coupon: 10% off', 5, 0, 1, NULL, 'order_percentage_discount', 0, 1000);

INSERT INTO promotion_coupons (id, promotion_id, code, usage_limit) VALUES
  (1, 2, 'WELCOME10', NULL);

INSERT INTO customers (id, email, first_name, last_name) VALUES
  (1, 'demo@example.com', 'Demo', 'Customer');

INSERT INTO customer_sessions (id, customer_id, expires_at) VALUES
  ('5d1f0e9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f', 1, '2099-12-31 23:59:59');

-- Seed 000 (docs/api-seed000.md): the demo account and its providers: a
-- workshop with room for every example (the sofa assembly) and one with no
-- capacity at all (the lamp repair).
INSERT INTO accounts (id, name, global_type) VALUES (1, 'Demo Store', 'seller');
INSERT INTO providers (id, uuid, account_id, name, capacity) VALUES
  (1, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51', 1, 'Demo Workshop', 1000000),
  (2, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a52', 1, 'Fully Booked Repairs', 0);
UPDATE products SET provider_id = 1 WHERE id = 7;
UPDATE products SET provider_id = 2 WHERE id = 8;
