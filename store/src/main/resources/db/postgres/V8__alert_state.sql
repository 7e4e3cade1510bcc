-- Each rule group's alerts (pending, firing, recently resolved) as its last evaluation left
-- them, so that a restart neither fires an alert again nor forgets one.
CREATE TABLE alert_groups (
  group_key TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
