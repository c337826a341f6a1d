-- Who holds a key's marker while its request runs: the database connection
-- (its server as host:port, the server's start in Unix seconds, the
-- connection's id). A same-key retry that finds the marker takes it over
-- at once when that connection is gone for sure (the server restarted, or
-- no longer has it: its writer died or lost the database), instead of
-- waiting out the 60 s after which any marker counts as abandoned. NULL
-- (markers written before): only the 60 s apply. claim is a random tag of
-- the request that holds the marker: it stores or drops the marker only
-- while the tag is still its own, so a request whose marker was taken over
-- (its connection was replaced under it) can neither store its answer
-- over the new holder's nor commit the work that answer belongs to.
ALTER TABLE idempotency_keys
  ADD COLUMN claim BINARY(16) NULL,
  ADD COLUMN owner_server VARCHAR(160) NULL,
  ADD COLUMN owner_boot BIGINT NULL,
  ADD COLUMN owner_conn BIGINT UNSIGNED NULL;
