-- The latest checkpoint of each unsettled task; deleted when the task settles.
CREATE TABLE checkpoints (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  task_index INTEGER NOT NULL,
  checkpoint TEXT NOT NULL,
  PRIMARY KEY (job_id, task_index)
) WITHOUT ROWID;

-- Every copy of every task once it ended: the task timeline.
CREATE TABLE copies (
  job_id        TEXT NOT NULL REFERENCES jobs (job_id),
  task_index    INTEGER NOT NULL,
  lease_id      TEXT NOT NULL,
  volunteer_id  TEXT NOT NULL,
  kind          TEXT NOT NULL,
  dispatched_at INTEGER NOT NULL,
  started_at    INTEGER,
  fraction      REAL,
  ended_at      INTEGER NOT NULL,
  end_reason    TEXT NOT NULL,
  won           INTEGER NOT NULL,
  PRIMARY KEY (job_id, task_index, lease_id)
) WITHOUT ROWID;
