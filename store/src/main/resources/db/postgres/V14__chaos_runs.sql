-- Chaos runs, saved after every step: a daemon killed in the middle of one leaves the faults it
-- injected recorded here, and the next daemon rolls them back.
CREATE TABLE chaos_runs (
  id TEXT PRIMARY KEY,
  started_at TEXT NOT NULL,
  done BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX chaos_runs_started ON chaos_runs(started_at);
-- The kill switch ('pilothouse chaos disable'): one row while chaos is halted.
CREATE TABLE chaos_halt (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  at TEXT NOT NULL,
  reason TEXT NOT NULL
);
