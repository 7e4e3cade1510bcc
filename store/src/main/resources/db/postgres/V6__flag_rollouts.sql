CREATE TABLE flag_rollouts (
  key  TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
