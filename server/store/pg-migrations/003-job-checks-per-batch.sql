-- A foreign key is checked row by row: each result, copy, attempt and checkpoint row ran one
-- lookup of its job, about a third of the database's work per result (EXPLAIN ANALYZE: 52 of
-- 106 ms for 5,000 copies, 80 of 144 ms for 5,000 results). Jobs are never deleted, so the only
-- thing these keys caught was a row naming a job that was never created; `JobStore.apply` now
-- checks that once per job per batch (pg-apply.ts), and the key is dropped.
ALTER TABLE results DROP CONSTRAINT results_job_id_fkey;
ALTER TABLE copies DROP CONSTRAINT copies_job_id_fkey;
ALTER TABLE task_attempts DROP CONSTRAINT task_attempts_job_id_fkey;
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_job_id_fkey;
