-- The leader's lease when several daemons share this database: one row, its expiry in the
-- database's own clock (milliseconds since the epoch), and the term, the fencing token that grows
-- by one with every new leader.
CREATE TABLE leader (
  id         BIGINT PRIMARY KEY CHECK (id = 1),
  holder     TEXT   NOT NULL,
  address    TEXT   NOT NULL,
  site       TEXT   NOT NULL,
  term       BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL
);

-- Fencing: a connection that says which term it writes for (SET pilothouse.term) may change the
-- state only while that term is the newest. A deposed leader's late writes are refused here, by the
-- database, whatever the deposed daemon believes. The store puts this trigger on every table but
-- the lease's and Flyway's when it opens (so tables of later migrations get it too).
CREATE FUNCTION pilothouse_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  t text := current_setting('pilothouse.term', true);
BEGIN
  IF t IS NOT NULL AND t <> '' AND NOT EXISTS (SELECT 1 FROM leader WHERE id = 1 AND term = t::bigint) THEN
    RAISE EXCEPTION 'pilothouse: this daemon no longer leads (its term % is not the newest): write refused', t
      USING ERRCODE = 'PH001';
  END IF;
  RETURN NULL;
END
$$;
