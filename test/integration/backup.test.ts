/**
 * `browsergrid backup <file>` against a coordinator running in another process, while a job is
 * still writing: the copy is consistent, and a coordinator started on it has every result the
 * live one had committed. A target that exists, or a data dir without a store, is refused by name.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobCreated } from '../../shared/job.ts';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { runCli } from '../support/cli-process.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, resultLines, waitForJob, waitForJobSummary } from '../support/start-coordinator.ts';

const { coordinator, defer } = useHarness();

describe('browsergrid backup', () => {
  it('copies the live store while a job writes, and a coordinator restored from the copy has every committed result', async () => {
    const live = await startChildCoordinator();
    defer(async () => {
      await live.stop();
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-backup-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));

    const fast = await SimTab.connect(live.url, { slots: 4 });
    defer(() => fast.close());
    const done = (
      await api<JobCreated>(live, 'POST', '/api/jobs', {
        name: 'done before the backup',
        map: '(x) => x + 1',
        inputs: Array.from({ length: 300 }, (_, i) => i),
      })
    ).body;
    await waitForJob(live, done.id);
    fast.close();
    // A second job still committing while the copy is taken.
    const slow = await SimTab.connect(live.url, { slots: 2, taskMs: 20 });
    defer(() => slow.close());
    const running = (
      await api<JobCreated>(live, 'POST', '/api/jobs', {
        name: 'running during the backup',
        map: '(x) => x * 2',
        inputs: Array.from({ length: 400 }, (_, i) => i),
      })
    ).body;
    await waitForJobSummary(live, running.id, (s) => Number(s['done']) >= 20);

    const copy = path.join(dir, 'copy.db');
    const run = await runCli(['backup', copy], { env: { BROWSERGRID_DATA: live.dataDir } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^backed up .*browsergrid\.db to .*copy\.db \(\d+ pages, schema version \d+\)\n$/,
    );
    slow.close();
    // One self-contained file to keep or ship.
    expect(existsSync(`${copy}-wal`) || existsSync(`${copy}-shm`)).toBe(false);

    // Restore: the copy as browsergrid.db in a new data dir.
    const restoredDir = path.join(dir, 'restored');
    mkdirSync(restoredDir);
    copyFileSync(copy, path.join(restoredDir, 'browsergrid.db'));
    const restored = await coordinator({ dataDir: restoredDir });
    expect(await waitForJob(restored, done.id)).toMatchObject({ status: 'completed', done: 300 });
    expect(await resultLines(restored, done.id)).toEqual(
      Array.from({ length: 300 }, (_, i) => ({ index: i, output: i + 1 })),
    );
    // The job cut mid-run resumes from what the copy holds, and finishes on a new tab.
    const { body } = await api<{ done: number }>(restored, 'GET', `/api/jobs/${running.id}`);
    expect(body.done).toBeGreaterThanOrEqual(20);
    const tab = await SimTab.connect(restored.url, { slots: 4 });
    defer(() => tab.close());
    await waitForJob(restored, running.id);
    expect(await resultLines(restored, running.id)).toEqual(
      Array.from({ length: 400 }, (_, i) => ({ index: i, output: i * 2 })),
    );
  }, 90_000);

  it("leaves nothing behind in a stopped coordinator's data dir", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-backup-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const stopped = await coordinator({ dataDir: path.join(dir, 'data') });
    await stopped.stop();
    const before = readdirSync(path.join(dir, 'data')).sort();
    const run = await runCli([
      'backup',
      path.join(dir, 'copy.db'),
      '--data',
      path.join(dir, 'data'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    // A -wal or -shm left by the backup's user (root) would stop the coordinator's user opening it.
    expect(readdirSync(path.join(dir, 'data')).sort()).toEqual(before);
  }, 60_000);

  it('refuses to overwrite a file, and names the store it cannot find', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-backup-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const existing = path.join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'browsergrid.db'), '');

    const overwrite = await runCli(['backup', existing, '--data', path.join(dir, 'data')]);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toBe(`browsergrid: ${existing} already exists; name a new file\n`);

    const nowhere = await runCli([
      'backup',
      path.join(dir, 'new.db'),
      '--data',
      path.join(dir, 'nope'),
    ]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain(
      `there is no store at ${path.join(dir, 'nope', 'browsergrid.db')}`,
    );
    expect(existsSync(path.join(dir, 'new.db'))).toBe(false);

    const pg = await runCli(['backup', path.join(dir, 'new.db')], {
      env: { BROWSERGRID_DATABASE_URL: 'postgres://u@127.0.0.1:1/db' },
    });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('back that up with pg_dump');
  }, 60_000);
});
