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
INSERT INTO accounts (id, name, global_type) VALUES (1, 'Demo Store', '0');
INSERT INTO providers (id, uuid, account_id, name, capacity) VALUES
  (1, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a51', 1, 'Demo Workshop', 1000000),
  (2, '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a52', 1, 'Fully Booked Repairs', 0);
UPDATE products SET provider_id = 1 WHERE id = 7;
UPDATE products SET provider_id = 2 WHERE id = 8;

-- Seed 002 (docs/api-seed002.md): a concert with 60 seats, each a tracked
-- variant of one unit (variant ids 10-69, codes seat-a01..seat-a60).
INSERT INTO products (id, uuid, code, name) VALUES
  (9, '0b7e3a4c-2f1d-4e6b-9a55-1c2d3e4f5a69', 'concert', 'Concert, row A');
INSERT INTO product_variants
  (id, uuid, code, product_id, name, price, tax_category_id, tracked, needs_shipping, weight_g, position)
VALUES
  (10, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e610', 'seat-a01', 9, 'Seat A01', 5000, 1, 1, 0, 0, 1),
  (11, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e611', 'seat-a02', 9, 'Seat A02', 5000, 1, 1, 0, 0, 2),
  (12, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e612', 'seat-a03', 9, 'Seat A03', 5000, 1, 1, 0, 0, 3),
  (13, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e613', 'seat-a04', 9, 'Seat A04', 5000, 1, 1, 0, 0, 4),
  (14, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e614', 'seat-a05', 9, 'Seat A05', 5000, 1, 1, 0, 0, 5),
  (15, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e615', 'seat-a06', 9, 'Seat A06', 5000, 1, 1, 0, 0, 6),
  (16, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e616', 'seat-a07', 9, 'Seat A07', 5000, 1, 1, 0, 0, 7),
  (17, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e617', 'seat-a08', 9, 'Seat A08', 5000, 1, 1, 0, 0, 8),
  (18, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e618', 'seat-a09', 9, 'Seat A09', 5000, 1, 1, 0, 0, 9),
  (19, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e619', 'seat-a10', 9, 'Seat A10', 5000, 1, 1, 0, 0, 10),
  (20, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e620', 'seat-a11', 9, 'Seat A11', 5000, 1, 1, 0, 0, 11),
  (21, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e621', 'seat-a12', 9, 'Seat A12', 5000, 1, 1, 0, 0, 12),
  (22, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e622', 'seat-a13', 9, 'Seat A13', 5000, 1, 1, 0, 0, 13),
  (23, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e623', 'seat-a14', 9, 'Seat A14', 5000, 1, 1, 0, 0, 14),
  (24, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e624', 'seat-a15', 9, 'Seat A15', 5000, 1, 1, 0, 0, 15),
  (25, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e625', 'seat-a16', 9, 'Seat A16', 5000, 1, 1, 0, 0, 16),
  (26, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e626', 'seat-a17', 9, 'Seat A17', 5000, 1, 1, 0, 0, 17),
  (27, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e627', 'seat-a18', 9, 'Seat A18', 5000, 1, 1, 0, 0, 18),
  (28, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e628', 'seat-a19', 9, 'Seat A19', 5000, 1, 1, 0, 0, 19),
  (29, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e629', 'seat-a20', 9, 'Seat A20', 5000, 1, 1, 0, 0, 20),
  (30, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e630', 'seat-a21', 9, 'Seat A21', 5000, 1, 1, 0, 0, 21),
  (31, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e631', 'seat-a22', 9, 'Seat A22', 5000, 1, 1, 0, 0, 22),
  (32, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e632', 'seat-a23', 9, 'Seat A23', 5000, 1, 1, 0, 0, 23),
  (33, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e633', 'seat-a24', 9, 'Seat A24', 5000, 1, 1, 0, 0, 24),
  (34, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e634', 'seat-a25', 9, 'Seat A25', 5000, 1, 1, 0, 0, 25),
  (35, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e635', 'seat-a26', 9, 'Seat A26', 5000, 1, 1, 0, 0, 26),
  (36, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e636', 'seat-a27', 9, 'Seat A27', 5000, 1, 1, 0, 0, 27),
  (37, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e637', 'seat-a28', 9, 'Seat A28', 5000, 1, 1, 0, 0, 28),
  (38, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e638', 'seat-a29', 9, 'Seat A29', 5000, 1, 1, 0, 0, 29),
  (39, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e639', 'seat-a30', 9, 'Seat A30', 5000, 1, 1, 0, 0, 30),
  (40, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e640', 'seat-a31', 9, 'Seat A31', 5000, 1, 1, 0, 0, 31),
  (41, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e641', 'seat-a32', 9, 'Seat A32', 5000, 1, 1, 0, 0, 32),
  (42, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e642', 'seat-a33', 9, 'Seat A33', 5000, 1, 1, 0, 0, 33),
  (43, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e643', 'seat-a34', 9, 'Seat A34', 5000, 1, 1, 0, 0, 34),
  (44, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e644', 'seat-a35', 9, 'Seat A35', 5000, 1, 1, 0, 0, 35),
  (45, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e645', 'seat-a36', 9, 'Seat A36', 5000, 1, 1, 0, 0, 36),
  (46, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e646', 'seat-a37', 9, 'Seat A37', 5000, 1, 1, 0, 0, 37),
  (47, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e647', 'seat-a38', 9, 'Seat A38', 5000, 1, 1, 0, 0, 38),
  (48, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e648', 'seat-a39', 9, 'Seat A39', 5000, 1, 1, 0, 0, 39),
  (49, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e649', 'seat-a40', 9, 'Seat A40', 5000, 1, 1, 0, 0, 40),
  (50, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e650', 'seat-a41', 9, 'Seat A41', 5000, 1, 1, 0, 0, 41),
  (51, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e651', 'seat-a42', 9, 'Seat A42', 5000, 1, 1, 0, 0, 42),
  (52, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e652', 'seat-a43', 9, 'Seat A43', 5000, 1, 1, 0, 0, 43),
  (53, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e653', 'seat-a44', 9, 'Seat A44', 5000, 1, 1, 0, 0, 44),
  (54, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e654', 'seat-a45', 9, 'Seat A45', 5000, 1, 1, 0, 0, 45),
  (55, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e655', 'seat-a46', 9, 'Seat A46', 5000, 1, 1, 0, 0, 46),
  (56, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e656', 'seat-a47', 9, 'Seat A47', 5000, 1, 1, 0, 0, 47),
  (57, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e657', 'seat-a48', 9, 'Seat A48', 5000, 1, 1, 0, 0, 48),
  (58, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e658', 'seat-a49', 9, 'Seat A49', 5000, 1, 1, 0, 0, 49),
  (59, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e659', 'seat-a50', 9, 'Seat A50', 5000, 1, 1, 0, 0, 50),
  (60, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e660', 'seat-a51', 9, 'Seat A51', 5000, 1, 1, 0, 0, 51),
  (61, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e661', 'seat-a52', 9, 'Seat A52', 5000, 1, 1, 0, 0, 52),
  (62, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e662', 'seat-a53', 9, 'Seat A53', 5000, 1, 1, 0, 0, 53),
  (63, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e663', 'seat-a54', 9, 'Seat A54', 5000, 1, 1, 0, 0, 54),
  (64, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e664', 'seat-a55', 9, 'Seat A55', 5000, 1, 1, 0, 0, 55),
  (65, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e665', 'seat-a56', 9, 'Seat A56', 5000, 1, 1, 0, 0, 56),
  (66, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e666', 'seat-a57', 9, 'Seat A57', 5000, 1, 1, 0, 0, 57),
  (67, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e667', 'seat-a58', 9, 'Seat A58', 5000, 1, 1, 0, 0, 58),
  (68, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e668', 'seat-a59', 9, 'Seat A59', 5000, 1, 1, 0, 0, 59),
  (69, '6f1c2b3a-4d5e-4f60-8a71-92b3c4d5e669', 'seat-a60', 9, 'Seat A60', 5000, 1, 1, 0, 0, 60);
INSERT INTO variant_stock (variant_id, on_hand) VALUES
  (10, 1), (11, 1), (12, 1), (13, 1), (14, 1), (15, 1), (16, 1), (17, 1), (18, 1), (19, 1), (20, 1), (21, 1), (22, 1), (23, 1), (24, 1), (25, 1), (26, 1), (27, 1), (28, 1), (29, 1), (30, 1), (31, 1), (32, 1), (33, 1), (34, 1), (35, 1), (36, 1), (37, 1), (38, 1), (39, 1), (40, 1), (41, 1), (42, 1), (43, 1), (44, 1), (45, 1), (46, 1), (47, 1), (48, 1), (49, 1), (50, 1), (51, 1), (52, 1), (53, 1), (54, 1), (55, 1), (56, 1), (57, 1), (58, 1), (59, 1), (60, 1), (61, 1), (62, 1), (63, 1), (64, 1), (65, 1), (66, 1), (67, 1), (68, 1), (69, 1);

-- Seed 001 (docs/api-seed001.md): two buyer accounts, each with an OAuth
-- token (stored as its SHA-256; the tokens themselves are documented).
INSERT INTO accounts (id, name, global_type) VALUES
  (2, 'World Conveyancing', '0'),
  (3, 'Other Buyer', '0');
INSERT INTO oauth_tokens (token_sha256, account_id, expires_at) VALUES
  (UNHEX(SHA2('demo-oauth-token-account-2', 256)), 2, '2099-12-31 23:59:59'),
  (UNHEX(SHA2('demo-oauth-token-account-3', 256)), 3, '2099-12-31 23:59:59');
