-- PostgreSQL's copy of the SQLite migration of the same version: the same tables, PostgreSQL's types
-- (BIGINT for every integer: pids, clock ticks and sequence numbers outgrow 32 bits).
CREATE TABLE revisions (
  number     BIGINT PRIMARY KEY,
  at         TEXT    NOT NULL,
  source     TEXT    NOT NULL,
  spec_json  TEXT    NOT NULL
);

CREATE TABLE instances (
  id          TEXT    PRIMARY KEY,
  service     TEXT    NOT NULL,
  slot        BIGINT NOT NULL,
  template    TEXT    NOT NULL,
  pid         BIGINT NOT NULL,
  start_ticks BIGINT NOT NULL,
  port        BIGINT NOT NULL,
  state       TEXT    NOT NULL,
  ready       BIGINT NOT NULL,
  started_at  TEXT    NOT NULL,
  restarts    BIGINT NOT NULL
);

CREATE TABLE generations (
  service    TEXT    PRIMARY KEY,
  generation BIGINT NOT NULL
);

CREATE TABLE events (
  seq       BIGINT PRIMARY KEY,
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
