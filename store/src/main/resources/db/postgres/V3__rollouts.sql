CREATE TABLE rollouts (
  service TEXT PRIMARY KEY,
  json    TEXT NOT NULL
);
