-- Admin tokens besides the root one (environment or data dir): only a SHA-256 of each is kept.
CREATE TABLE admin_tokens (
  token_id   TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  hash       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
