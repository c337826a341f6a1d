-- The store (catalog, zones, taxes, methods, promotions), customers and
-- their sessions, and orders with everything that hangs off them. Money is
-- BIGINT minor units everywhere; rates are basis points.

CREATE TABLE tax_categories (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  UNIQUE KEY uq_tax_categories_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE zones (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  UNIQUE KEY uq_zones_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE zone_countries (
  zone_id BIGINT UNSIGNED NOT NULL,
  country_code CHAR(2) NOT NULL,
  PRIMARY KEY (zone_id, country_code),
  KEY ix_zone_countries_country (country_code),
  CONSTRAINT fk_zone_countries_zone FOREIGN KEY (zone_id) REFERENCES zones (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE tax_rates (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  zone_id BIGINT UNSIGNED NOT NULL,
  tax_category_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(64) NOT NULL,
  bp INT UNSIGNED NOT NULL COMMENT 'basis points: 2000 = 20 %',
  included TINYINT(1) NOT NULL DEFAULT 0 COMMENT 'included in the price',
  UNIQUE KEY uq_tax_rates_zone_category (zone_id, tax_category_id),
  CONSTRAINT fk_tax_rates_zone FOREIGN KEY (zone_id) REFERENCES zones (id),
  CONSTRAINT fk_tax_rates_category FOREIGN KEY (tax_category_id) REFERENCES tax_categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_products_uuid (uuid),
  UNIQUE KEY uq_products_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE product_variants (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  code VARCHAR(64) NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  price BIGINT NOT NULL,
  tax_category_id BIGINT UNSIGNED NULL,
  tracked TINYINT(1) NOT NULL DEFAULT 1,
  on_hand BIGINT NOT NULL DEFAULT 0,
  on_hold BIGINT NOT NULL DEFAULT 0,
  needs_shipping TINYINT(1) NOT NULL DEFAULT 1,
  weight_g INT UNSIGNED NOT NULL DEFAULT 0,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  position INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_variants_uuid (uuid),
  UNIQUE KEY uq_variants_code (code),
  KEY ix_variants_product (product_id, position),
  CONSTRAINT fk_variants_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_variants_tax_category FOREIGN KEY (tax_category_id) REFERENCES tax_categories (id),
  CONSTRAINT ck_variants_stock CHECK (on_hold >= 0 AND on_hand >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE shipping_methods (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  zone_id BIGINT UNSIGNED NOT NULL,
  calculator VARCHAR(16) NOT NULL COMMENT 'flat_rate, per_unit_rate, flexible_rate, carrier',
  amount BIGINT NOT NULL DEFAULT 0 COMMENT 'flat_rate, per_unit_rate',
  first_item_cost BIGINT NOT NULL DEFAULT 0,
  additional_item_cost BIGINT NOT NULL DEFAULT 0,
  additional_item_limit INT NOT NULL DEFAULT 0 COMMENT '0: no cap',
  tax_category_id BIGINT UNSIGNED NULL,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  position INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_shipping_methods_uuid (uuid),
  UNIQUE KEY uq_shipping_methods_code (code),
  KEY ix_shipping_methods_zone (zone_id, enabled, position),
  CONSTRAINT fk_shipping_methods_zone FOREIGN KEY (zone_id) REFERENCES zones (id),
  CONSTRAINT fk_shipping_methods_tax_category FOREIGN KEY (tax_category_id) REFERENCES tax_categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE payment_methods (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  gateway VARCHAR(16) NOT NULL COMMENT 'offline, stripe',
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  position INT NOT NULL DEFAULT 0,
  UNIQUE KEY uq_payment_methods_uuid (uuid),
  UNIQUE KEY uq_payment_methods_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE promotions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  priority INT NOT NULL DEFAULT 0,
  exclusive TINYINT(1) NOT NULL DEFAULT 0,
  coupon_based TINYINT(1) NOT NULL DEFAULT 0,
  usage_limit INT UNSIGNED NULL,
  used INT UNSIGNED NOT NULL DEFAULT 0,
  starts_at DATETIME NULL,
  ends_at DATETIME NULL,
  rule_min_item_total BIGINT NULL,
  rule_min_quantity INT UNSIGNED NULL,
  action VARCHAR(32) NOT NULL COMMENT 'order_fixed_discount, order_percentage_discount, shipping_percentage_discount',
  action_amount BIGINT NOT NULL DEFAULT 0,
  action_bp INT UNSIGNED NOT NULL DEFAULT 0,
  UNIQUE KEY uq_promotions_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE promotion_coupons (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  promotion_id BIGINT UNSIGNED NOT NULL,
  code VARCHAR(64) NOT NULL,
  usage_limit INT UNSIGNED NULL,
  used INT UNSIGNED NOT NULL DEFAULT 0,
  UNIQUE KEY uq_coupons_code (code),
  KEY ix_coupons_promotion (promotion_id),
  CONSTRAINT fk_coupons_promotion FOREIGN KEY (promotion_id) REFERENCES promotions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE customers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  first_name VARCHAR(255) NULL,
  last_name VARCHAR(255) NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A session id is a random v4 UUID from a CSPRNG: a bearer secret.
CREATE TABLE customer_sessions (
  id CHAR(36) NOT NULL PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  expires_at DATETIME NOT NULL,
  KEY ix_sessions_customer (customer_id),
  KEY ix_sessions_expires (expires_at),
  CONSTRAINT fk_sessions_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE addresses (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_name VARCHAR(255) NULL,
  last_name VARCHAR(255) NULL,
  company VARCHAR(255) NULL,
  street VARCHAR(255) NOT NULL,
  city VARCHAR(255) NOT NULL,
  postcode VARCHAR(32) NOT NULL,
  country_code CHAR(2) NOT NULL,
  province_code VARCHAR(32) NULL,
  phone VARCHAR(32) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- An order is a cart until it is placed. The guest token is a secret: only
-- its SHA-256 is stored.
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  number CHAR(9) NULL,
  token_sha256 BINARY(32) NULL,
  customer_id BIGINT UNSIGNED NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'cart',
  checkout_state VARCHAR(24) NOT NULL DEFAULT 'cart',
  payment_state VARCHAR(24) NOT NULL DEFAULT 'cart',
  shipping_state VARCHAR(24) NOT NULL DEFAULT 'cart',
  email VARCHAR(254) NULL,
  currency CHAR(3) NOT NULL,
  coupon_id BIGINT UNSIGNED NULL,
  items_total BIGINT NOT NULL DEFAULT 0,
  adjustments_total BIGINT NOT NULL DEFAULT 0,
  tax_total BIGINT NOT NULL DEFAULT 0,
  shipping_total BIGINT NOT NULL DEFAULT 0,
  promotion_total BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,
  shipping_address_id BIGINT UNSIGNED NULL,
  billing_address_id BIGINT UNSIGNED NULL,
  notes TEXT NULL,
  needs_refund TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at DATETIME NULL,
  completed_at DATETIME NULL,
  UNIQUE KEY uq_orders_uuid (uuid),
  UNIQUE KEY uq_orders_number (number),
  KEY ix_orders_state_expires (state, expires_at),
  KEY ix_orders_customer_state (customer_id, state, payment_state),
  KEY ix_orders_unpaid (state, payment_state, completed_at),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT fk_orders_coupon FOREIGN KEY (coupon_id) REFERENCES promotion_coupons (id),
  CONSTRAINT fk_orders_shipping_address FOREIGN KEY (shipping_address_id) REFERENCES addresses (id),
  CONSTRAINT fk_orders_billing_address FOREIGN KEY (billing_address_id) REFERENCES addresses (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE order_items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  order_id BIGINT UNSIGNED NOT NULL,
  variant_id BIGINT UNSIGNED NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  unit_price BIGINT NOT NULL,
  immutable TINYINT(1) NOT NULL DEFAULT 0,
  adjustments_total BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,
  product_name VARCHAR(255) NOT NULL,
  variant_name VARCHAR(255) NOT NULL,
  reservation_id VARCHAR(64) NULL,
  UNIQUE KEY uq_order_items_uuid (uuid),
  UNIQUE KEY uq_order_items_line (order_id, variant_id),
  KEY ix_order_items_variant (variant_id),
  CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT fk_order_items_variant FOREIGN KEY (variant_id) REFERENCES product_variants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE adjustments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  order_item_id BIGINT UNSIGNED NULL COMMENT 'NULL: an order-level adjustment',
  type VARCHAR(24) NOT NULL,
  label VARCHAR(255) NOT NULL,
  amount BIGINT NOT NULL,
  neutral TINYINT(1) NOT NULL DEFAULT 0,
  locked TINYINT(1) NOT NULL DEFAULT 0,
  origin_id BIGINT UNSIGNED NULL,
  KEY ix_adjustments_order (order_id, order_item_id),
  KEY ix_adjustments_item (order_item_id),
  CONSTRAINT fk_adjustments_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT fk_adjustments_item FOREIGN KEY (order_item_id) REFERENCES order_items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE shipments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  order_id BIGINT UNSIGNED NOT NULL,
  method_id BIGINT UNSIGNED NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'cart',
  tracking VARCHAR(255) NULL,
  shipped_at DATETIME NULL,
  UNIQUE KEY uq_shipments_uuid (uuid),
  KEY ix_shipments_order (order_id),
  CONSTRAINT fk_shipments_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT fk_shipments_method FOREIGN KEY (method_id) REFERENCES shipping_methods (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE payments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  order_id BIGINT UNSIGNED NOT NULL,
  method_id BIGINT UNSIGNED NULL,
  amount BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'cart',
  provider_ref VARCHAR(255) NULL COMMENT 'the provider intent id (pi_...)',
  card_brand VARCHAR(32) NULL,
  card_last4 CHAR(4) NULL,
  next_action TEXT NULL,
  decline_code VARCHAR(64) NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_payments_uuid (uuid),
  KEY ix_payments_order (order_id),
  KEY ix_payments_state (state, updated_at),
  KEY ix_payments_provider_ref (provider_ref),
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT fk_payments_method FOREIGN KEY (method_id) REFERENCES payment_methods (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row: the next order number (9 digits, from 000000001).
CREATE TABLE order_sequence (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  next_number BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO order_sequence (id, next_number) VALUES (1, 1);

-- Events written in the same transaction as the change they describe, and
-- delivered later (SPEC 2.10).
CREATE TABLE outbox_events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  uuid CHAR(36) NOT NULL,
  order_id BIGINT UNSIGNED NULL,
  type VARCHAR(32) NOT NULL,
  payload MEDIUMTEXT NOT NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  lease_until DATETIME NULL,
  delivered_at DATETIME NULL,
  UNIQUE KEY uq_outbox_uuid (uuid),
  KEY ix_outbox_order (order_id, id),
  KEY ix_outbox_due (delivered_at, next_attempt_at),
  CONSTRAINT fk_outbox_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
