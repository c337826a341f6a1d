-- A counter of changes to the pricing rules each worker keeps a copy of
-- (promotions, tax rates, zones and their countries; src/rules.c): every
-- insert, update or delete in those tables moves it, by trigger, and the
-- processor chain reads it with the order, so a worker's copy is used
-- only while nothing has changed (docs/performance.md, eighth round).
-- One change does not count: a completion adding a use to a promotion
-- without a usage limit (the copy's count of uses matters only against a
-- limit). The promotions trigger names every other column for that: a
-- column added to promotions must be added to it.
CREATE TABLE rules_version (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  version BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;

INSERT INTO rules_version (id, version) VALUES (1, 1);

CREATE TRIGGER promotions_ai AFTER INSERT ON promotions FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER promotions_au AFTER UPDATE ON promotions FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1 AND NOT (NEW.usage_limit IS NULL AND OLD.usage_limit IS NULL AND (NEW.id, NEW.code, NEW.name, NEW.priority, NEW.exclusive, NEW.coupon_based, NEW.starts_at, NEW.ends_at, NEW.rule_min_item_total, NEW.rule_min_quantity, NEW.action, NEW.action_amount, NEW.action_bp) <=> (OLD.id, OLD.code, OLD.name, OLD.priority, OLD.exclusive, OLD.coupon_based, OLD.starts_at, OLD.ends_at, OLD.rule_min_item_total, OLD.rule_min_quantity, OLD.action, OLD.action_amount, OLD.action_bp));
CREATE TRIGGER promotions_ad AFTER DELETE ON promotions FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER tax_rates_ai AFTER INSERT ON tax_rates FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER tax_rates_au AFTER UPDATE ON tax_rates FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER tax_rates_ad AFTER DELETE ON tax_rates FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zones_ai AFTER INSERT ON zones FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zones_au AFTER UPDATE ON zones FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zones_ad AFTER DELETE ON zones FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zone_countries_ai AFTER INSERT ON zone_countries FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zone_countries_au AFTER UPDATE ON zone_countries FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
CREATE TRIGGER zone_countries_ad AFTER DELETE ON zone_countries FOR EACH ROW UPDATE rules_version SET version = version + 1 WHERE id = 1;
