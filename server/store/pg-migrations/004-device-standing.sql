-- Each device's adaptive-trust standing, shared by every node (server/store/standing.ts). Rows
-- move by deltas, so two nodes judging one device at once both count. `resets` counts what
-- ended a streak (disagreements and bans): a node compares it with its own to tell whose streak
-- is the newer one.
CREATE TABLE device_standing (
  device_id     TEXT PRIMARY KEY,
  streak        INTEGER NOT NULL DEFAULT 0,
  disagreements INTEGER NOT NULL DEFAULT 0,
  resets        INTEGER NOT NULL DEFAULT 0,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX device_standing_updated ON device_standing (updated_at);
