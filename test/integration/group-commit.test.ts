import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/engine/group-commit.ts';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import type { JobStore, StoreChange } from '../../server/store/store.ts';
import { JobSpec } from '../../shared/job.ts';
import { committed } from '../support/store-changes.ts';

const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3, 4], chunkSize: 1 });

const settle = (jobId: string, taskIndex: number): StoreChange =>
  committed(jobId, taskIndex, 2_000);

describe('group commit over a real SQLite store', () => {
  let dir: string;
  let store: JobStore;
  let batches: number[];
  let commits: GroupCommit;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-group-commit-'));
    store = createSqliteStore({ filename: path.join(dir, 'browsergrid.db') });
    batches = [];
    commits = new GroupCommit(store, (changes) => batches.push(changes));
    await store.createJob({ jobId: 'j', spec, status: 'queued', items: 4, tasks: 4, createdAt: 1 });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the changes queued in one turn as one batch', async () => {
    await Promise.all([commits.commit([settle('j', 0)]), commits.commit([settle('j', 1)])]);
    await commits.commit([settle('j', 2), settle('j', 3)]);
    expect(batches).toEqual([2, 2]);
  });

  it('resolves a commit only once its changes can be read back from the store', async () => {
    await commits.commit([settle('j', 0), { type: 'job', jobId: 'j', status: 'running', at: 5 }]);
    expect(await store.settledTasks('j')).toEqual([{ taskIndex: 0, status: 'committed' }]);
    expect(await store.getJob('j')).toMatchObject({ status: 'running', done: 1 });
  });

  it('rejects every waiter of a batch the store refuses, writes none of it, and goes on', async () => {
    // A settle for a job the store has never seen breaks its foreign key: the whole batch fails.
    const refused = Promise.allSettled([
      commits.commit([settle('j', 0)]),
      commits.commit([settle('no-such-job', 0)]),
    ]);
    expect((await refused).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await store.settledTasks('j')).toEqual([]);
    await commits.commit([settle('j', 1)]);
    expect(await store.settledTasks('j')).toEqual([{ taskIndex: 1, status: 'committed' }]);
  });

  it('drains: resolves once everything queued before it is written', async () => {
    void commits.commit([settle('j', 0)]);
    void commits.commit([settle('j', 1)]);
    await commits.drain();
    expect((await store.settledTasks('j')).map((task) => task.taskIndex).sort()).toEqual([0, 1]);
  });
});
