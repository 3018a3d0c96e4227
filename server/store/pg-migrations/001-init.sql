-- The PostgreSQL schema, equal in meaning to the SQLite migrations 001-009 taken together.
-- Times are BIGINT milliseconds. JSON stays TEXT, as on SQLite, so every value reads back as it
-- was written (JSONB would reorder keys and merge duplicates). Nothing assumes one process:
-- sequence numbers come from identity columns, and every exactly-once rule is a primary key.

-- Jobs: the spec (with inputs) is the source every task is re-derived from on restart.
CREATE TABLE jobs (
  job_id      TEXT PRIMARY KEY,
  seq         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  spec        TEXT NOT NULL,
  status      TEXT NOT NULL,
  items       INTEGER NOT NULL,
  tasks       INTEGER NOT NULL,
  done        INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  created_at  BIGINT NOT NULL,
  started_at  BIGINT,
  finished_at BIGINT,
  reduced     TEXT
);
CREATE INDEX jobs_unfinished ON jobs (seq) WHERE status IN ('queued', 'running');

-- One row per settled task; the primary key is what makes a commit happen once.
CREATE TABLE results (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  status     TEXT NOT NULL,
  items      TEXT NOT NULL,
  attempts   INTEGER NOT NULL,
  settled_at BIGINT NOT NULL,
  PRIMARY KEY (job_id, task_index)
);

-- Attempts spent on tasks not yet settled, so a restart does not grant a poison task new tries.
CREATE TABLE task_attempts (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  drops      INTEGER NOT NULL,
  PRIMARY KEY (job_id, task_index)
);

-- The latest checkpoint of each unsettled task; deleted when the task settles.
CREATE TABLE checkpoints (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  checkpoint TEXT NOT NULL,
  PRIMARY KEY (job_id, task_index)
);

-- Every copy of every task once it ended: the task timeline.
CREATE TABLE copies (
  job_id        TEXT NOT NULL REFERENCES jobs (job_id),
  task_index    INTEGER NOT NULL,
  lease_id      TEXT NOT NULL,
  volunteer_id  TEXT NOT NULL,
  kind          TEXT NOT NULL,
  dispatched_at BIGINT NOT NULL,
  started_at    BIGINT,
  fraction      DOUBLE PRECISION,
  ended_at      BIGINT NOT NULL,
  end_reason    TEXT NOT NULL,
  won           BOOLEAN NOT NULL,
  PRIMARY KEY (job_id, task_index, lease_id)
);

-- Classroom and lab grids: a join code, a name, and whether an admin paused the whole grid.
CREATE TABLE grids (
  code       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  paused     BOOLEAN NOT NULL DEFAULT FALSE
);

-- Tabs an admin paused one by one, by the tab id a reloaded tab keeps.
CREATE TABLE paused_tabs (
  volunteer_id TEXT PRIMARY KEY,
  grid         TEXT NOT NULL,
  paused_at    BIGINT NOT NULL
);

-- Admin tokens besides the root one: only a SHA-256 of each is kept.
CREATE TABLE admin_tokens (
  token_id   TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  hash       TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

-- Devices an admin banned: their tabs are refused.
CREATE TABLE banned_devices (
  device_id TEXT PRIMARY KEY,
  banned_at BIGINT NOT NULL
);

-- Inputs streamed to POST /api/uploads: one row per item, its JSON text as uploaded. `seq` keys
-- the items compactly; `upload_id` is the public id. Items are deleted in slices (no cascade).
CREATE TABLE uploads (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  upload_id  TEXT NOT NULL UNIQUE,
  format     TEXT NOT NULL,
  items      INTEGER NOT NULL DEFAULT 0,
  bytes      BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  complete   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE upload_items (
  upload BIGINT NOT NULL,
  idx    INTEGER NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (upload, idx)
);
