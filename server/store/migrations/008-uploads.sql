-- Inputs streamed to POST /api/uploads: one row per item, its JSON text as uploaded.
-- `seq` keys the items compactly; `upload_id` is the public id. Items are deleted in slices by
-- the store (no cascade), so a large upload's deletion never holds the database in one statement.
CREATE TABLE uploads (
  seq INTEGER PRIMARY KEY,
  upload_id TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL,
  items INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE upload_items (
  upload INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (upload, idx)
) WITHOUT ROWID;
