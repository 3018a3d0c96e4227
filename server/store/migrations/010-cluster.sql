-- The cluster record (server/store/cluster.ts). On SQLite there is one node, but the same
-- tables and rules hold, so the engine runs one code path on both backends.

-- Nodes: the epoch is the identity a node writes under; AUTOINCREMENT never reuses one.
CREATE TABLE nodes (
  epoch        INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id      TEXT NOT NULL,
  url          TEXT,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  live         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX nodes_live ON nodes (heartbeat_at) WHERE live = 1;

-- Tasks [start_task, end_task) of a job, held by node `epoch`; NULL once released for others.
CREATE TABLE claims (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  start_task INTEGER NOT NULL,
  end_task   INTEGER NOT NULL,
  epoch      INTEGER,
  PRIMARY KEY (job_id, start_task)
) WITHOUT ROWID;
CREATE INDEX claims_epoch ON claims (epoch, job_id, start_task);

-- Tasks below the frontier were claimed once; past it, no node has seen them yet.
ALTER TABLE jobs ADD COLUMN claimed_to INTEGER NOT NULL DEFAULT 0;

-- Results that reached a node not holding their task, left for the holder.
CREATE TABLE forwarded_results (
  forward_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id       TEXT NOT NULL,
  task_index   INTEGER NOT NULL,
  volunteer_id TEXT NOT NULL,
  device_id    TEXT NOT NULL,
  address      TEXT,
  result       TEXT NOT NULL
);
CREATE INDEX forwarded_results_task ON forwarded_results (job_id, task_index);

-- Secrets every node signs with; the first one stored wins.
CREATE TABLE shared_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The tabs connected to each node, as one JSON array per node.
CREATE TABLE node_tabs (
  epoch INTEGER PRIMARY KEY,
  tabs  TEXT NOT NULL
);
