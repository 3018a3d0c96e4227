-- The cluster record (server/store/cluster.ts): nodes and their epochs, claimed task ranges,
-- forwarded results, shared secrets and each node's tabs. Times of heartbeats are the
-- database's clock (milliseconds), so nodes' clocks need not agree.

-- Nodes: the epoch comes from a sequence, so every join gets one larger than all before it.
CREATE TABLE nodes (
  epoch        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id      TEXT NOT NULL,
  url          TEXT,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  live         BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX nodes_live ON nodes (heartbeat_at) WHERE live;

-- Tasks [start_task, end_task) of a job, held by node `epoch`; NULL once released for others.
-- One row per range, not per task: a node's claims stay a few rows however large the job.
CREATE TABLE claims (
  job_id     TEXT NOT NULL REFERENCES jobs (job_id),
  start_task INTEGER NOT NULL,
  end_task   INTEGER NOT NULL,
  epoch      BIGINT,
  PRIMARY KEY (job_id, start_task)
);
CREATE INDEX claims_epoch ON claims (epoch, job_id, start_task);
CREATE INDEX claims_released ON claims (job_id, start_task) WHERE epoch IS NULL;

-- Tasks below the frontier were claimed once; past it, no node has seen them yet.
ALTER TABLE jobs ADD COLUMN claimed_to INTEGER NOT NULL DEFAULT 0;

-- Results that reached a node not holding their task, left for the holder.
CREATE TABLE forwarded_results (
  forward_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
  epoch BIGINT PRIMARY KEY,
  tabs  TEXT NOT NULL
);
