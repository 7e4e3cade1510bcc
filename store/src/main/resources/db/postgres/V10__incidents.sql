-- Incidents (open and past) as JSON documents, and the position in the event log they are built
-- up to, saved together so that a restart neither loses an alert nor counts one twice.
CREATE TABLE incidents (
  id BIGINT PRIMARY KEY,
  open BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX incidents_open ON incidents(open);
CREATE TABLE incident_cursor (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  event_seq BIGINT NOT NULL,
  next_id BIGINT NOT NULL
);
INSERT INTO incident_cursor(id, event_seq, next_id) VALUES (1, 0, 1);
