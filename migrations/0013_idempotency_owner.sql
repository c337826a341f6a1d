-- Who holds a key's marker while its request runs: the database connection
-- (its server as host:port, the server's start in Unix seconds, the
-- connection's id). A same-key retry that finds the marker takes it over
-- at once when that connection is gone for sure (the server restarted, or
-- no longer has it: its writer died or lost the database), instead of
-- waiting out the 60 s after which any marker counts as abandoned. NULL
-- (markers written before): only the 60 s apply.
ALTER TABLE idempotency_keys
  ADD COLUMN owner_server VARCHAR(128) NULL,
  ADD COLUMN owner_boot BIGINT NULL,
  ADD COLUMN owner_conn BIGINT UNSIGNED NULL;
