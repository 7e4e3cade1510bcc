CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
