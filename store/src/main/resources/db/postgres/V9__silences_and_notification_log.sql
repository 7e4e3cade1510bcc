-- Alertmanager-style silences, and the notification log: per group and integration, what was
-- last notified, so that a restart neither forgets a silence nor notifies twice.
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  ends_at TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE notification_log (
  log_key TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL,
  json TEXT NOT NULL
);
