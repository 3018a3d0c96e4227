import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/engine/group-commit.ts';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import type { JobStore } from '../../server/store/store.ts';

describe('group commit backlog', () => {
  let dir: string;
  let store: JobStore;
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts changes queued and being written, and wakes a waiter once they are written', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-backlog-'));
    store = createSqliteStore({ filename: path.join(dir, 'b.db') });
    const commit = new GroupCommit(store);
    const changes = Array.from({ length: 10 }, (_, i) => ({
      type: 'job' as const,
      jobId: `j${i}`,
      status: 'running' as const,
      at: i,
    }));
    const durable = commit.commit(changes);
    expect(commit.backlog).toBe(10);
    let woken = false;
    const below = commit.below(0).then(() => (woken = true));
    expect(woken).toBe(false);
    await durable;
    await below;
    expect(commit.backlog).toBe(0);
    await expect(commit.below(5)).resolves.toBeUndefined();
  });
});
