-- Jobs: the spec (with inputs) is the source every task is re-derived from on restart.
CREATE TABLE jobs (
  job_id      TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL UNIQUE,
  spec        TEXT NOT NULL,
  status      TEXT NOT NULL,
  items       INTEGER NOT NULL,
  tasks       INTEGER NOT NULL,
  done        INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER
);
CREATE INDEX jobs_status ON jobs (status);

-- One row per settled task; the primary key is what makes a commit happen once.
CREATE TABLE results (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  status     TEXT NOT NULL,
  items      TEXT NOT NULL,
  attempts   INTEGER NOT NULL,
  settled_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, task_index)
) WITHOUT ROWID;

-- Attempts spent on tasks not yet settled, so a restart does not grant a poison task new tries.
CREATE TABLE task_attempts (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  drops      INTEGER NOT NULL,
  PRIMARY KEY (job_id, task_index)
) WITHOUT ROWID;
