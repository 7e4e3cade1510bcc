-- Secrets, sealed (AES-GCM envelope; the master key is not in the database), with their rotation.
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
