-- The autoscaler's latest decision per service: the count the desired state runs in place of the
-- declared replicas while the service is autoscaled.
CREATE TABLE scales (
  service TEXT PRIMARY KEY,
  replicas BIGINT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL
);
