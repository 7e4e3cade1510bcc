CREATE TABLE flags (
  key       TEXT PRIMARY KEY,
  json      TEXT NOT NULL,
  spec_hash TEXT
);
CREATE TABLE flag_changes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  at          TEXT NOT NULL,
  key         TEXT NOT NULL,
  source      TEXT NOT NULL,
  before_json TEXT,
  after_json  TEXT
);
CREATE INDEX flag_changes_key ON flag_changes(key, seq);
