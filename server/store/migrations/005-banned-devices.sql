-- Devices an admin banned: their tabs are refused.
CREATE TABLE banned_devices (
  device_id TEXT PRIMARY KEY,
  banned_at INTEGER NOT NULL
) WITHOUT ROWID;
