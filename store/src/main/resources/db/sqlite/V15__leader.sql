-- The leader's lease when several daemons share one database (PostgreSQL only: a SQLite file has
-- one daemon, its state directory's lock). Kept here too so that both stores have the same tables.
CREATE TABLE leader (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  holder     TEXT    NOT NULL,
  address    TEXT    NOT NULL,
  site       TEXT    NOT NULL,
  term       INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
