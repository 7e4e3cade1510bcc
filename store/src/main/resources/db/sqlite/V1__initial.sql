CREATE TABLE revisions (
  number     INTEGER PRIMARY KEY,
  at         TEXT    NOT NULL,
  source     TEXT    NOT NULL,
  spec_json  TEXT    NOT NULL
);

CREATE TABLE instances (
  id          TEXT    PRIMARY KEY,
  service     TEXT    NOT NULL,
  slot        INTEGER NOT NULL,
  template    TEXT    NOT NULL,
  pid         INTEGER NOT NULL,
  start_ticks INTEGER NOT NULL,
  port        INTEGER NOT NULL,
  state       TEXT    NOT NULL,
  ready       INTEGER NOT NULL,
  started_at  TEXT    NOT NULL,
  restarts    INTEGER NOT NULL
);

CREATE TABLE generations (
  service    TEXT    PRIMARY KEY,
  generation INTEGER NOT NULL
);

CREATE TABLE events (
  seq       INTEGER PRIMARY KEY,
  at        TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  service   TEXT    NOT NULL,
  instance  TEXT    NOT NULL,
  message   TEXT    NOT NULL,
  fields    TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);

CREATE INDEX events_service ON events (service, seq);
