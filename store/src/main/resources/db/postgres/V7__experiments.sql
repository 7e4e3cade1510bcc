CREATE TABLE experiments (
  name TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
