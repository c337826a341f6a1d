-- Seed 002 (SPEC 3.3): the owner of a draft — "u:<userId>" or
-- "g:<sha-256 of guestToken>", so the two never meet. (Each seat line's
-- reservation id has its column since 0002.)
ALTER TABLE orders
  ADD COLUMN seed002_owner VARCHAR(300) NULL,
  ADD KEY ix_orders_seed002 (seed002_owner, state);
