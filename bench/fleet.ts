/**
 * @module Fault and verification benchmarks on a fleet of simulated tabs of set speeds:
 * stragglers, drops, redundancy.
 */
import { startCoordinator, waitFor } from '../test/support/start-coordinator.ts';
import { SMOKE, report, waitJob } from './support.ts';

export async function runFleet(
  taskMs: number[],
  tasks: number,
  options: {
    speculation?: boolean;
    dropShare?: number;
    dropAtDone?: number;
    redundancy?: number;
    adaptiveTrust?: boolean;
  } = {},
): Promise<number> {
  const { JobSpec } = await import('../shared/job.ts');
  const { SimTab } = await import('../test/support/sim-tab.ts');
  const server = await startCoordinator();
  // One slot each, a fixed time per copy (a timer, not CPU, so a 2-core machine can model tabs of
  // different speeds); a tab reports each copy as it starts and stops a copy it is told to.
  const tabs = await Promise.all(
    taskMs.map((ms, i) =>
      SimTab.connect(server.url, {
        deviceId: `fleet-${i + 1}`,
        tabId: `fleet-${i + 1}`,
        slots: 1,
        concurrency: 1,
        taskMs: ms,
        reportStart: true,
        stopCancelled: true,
        record: false,
      }),
    ),
  );
  try {
    const started = performance.now();
    const { id } = await server.coordinator.engine.submit(
      JobSpec.parse({
        map: '(x) => x',
        inputs: { range: { start: 0, end: tasks } },
        timeoutMs: 60_000,
        speculation: options.speculation ?? true,
        redundancy: options.redundancy ?? 1,
        adaptiveTrust: options.adaptiveTrust ?? false,
      }),
    );
    if (options.dropShare) {
      const at = Math.floor(tasks * (options.dropAtDone ?? 0.3));
      await waitFor(
        async () => ((await server.coordinator.engine.summary(id)).done >= at ? true : undefined),
        120_000,
        `${at} tasks done`,
      );
      for (const tab of tabs.slice(0, Math.round(tabs.length * options.dropShare))) tab.close();
    }
    await waitJob(server, id, 300_000);
    return performance.now() - started;
  } finally {
    for (const tab of tabs) tab.close();
    await server.close();
  }
}

/** 3. Stragglers and drops: simulated tabs of set speeds (timers), against the fair baseline. */
export async function benchFaults(): Promise<void> {
  const taskMs = 40;
  const tasks = SMOKE ? 30 : 240;
  const threeNormal = await runFleet([taskMs, taskMs, taskMs], tasks);
  const withSlow = [taskMs, taskMs, taskMs, taskMs * 10];
  const speculating = await runFleet(withSlow, tasks, { speculation: true });
  const plain = await runFleet(withSlow, tasks, { speculation: false });
  const note = `${tasks} tasks of ${taskMs} ms; one tab of four 10x slower; baseline: the three normal tabs alone`;
  report({
    bench: 'straggler',
    metric: 'job time, speculation on',
    value: speculating,
    baseline: threeNormal,
    ratio: speculating / threeNormal,
    unit: 'ms',
    note,
  });
  report({
    bench: 'straggler',
    metric: 'job time, speculation off',
    value: plain,
    baseline: threeNormal,
    ratio: plain / threeNormal,
    unit: 'ms',
    note,
  });
  const eight = Array.from({ length: 8 }, () => taskMs);
  const steady = await runFleet(eight, tasks);
  const dropped = await runFleet(eight, tasks, { dropShare: 0.25, dropAtDone: 0.3 });
  report({
    bench: 'drops',
    metric: 'job time, 2 of 8 tabs dropped at 30%',
    value: dropped,
    baseline: steady,
    ratio: dropped / steady,
    unit: 'ms',
    note: `${tasks} tasks of ${taskMs} ms; baseline: the same 8 tabs, none dropped (losing a quarter of the tabs for the last 70 % predicts about ${(0.3 + 0.7 * (8 / 6)).toFixed(2)})`,
  });
}

/** 4. The cost of verification by redundancy: the same job with each result needed twice. */
export async function benchRedundancy(): Promise<void> {
  const taskMs = 40;
  const tasks = SMOKE ? 30 : 240;
  const eight = Array.from({ length: 8 }, () => taskMs);
  const single = await runFleet(eight, tasks, { redundancy: 1 });
  const double = await runFleet(eight, tasks, { redundancy: 2 });
  const adaptive = await runFleet(eight, tasks * 2, { redundancy: 2, adaptiveTrust: true });
  report({
    bench: 'redundancy',
    metric: 'tasks/s, redundancy 2, adaptive trust',
    value: ((tasks * 2) / adaptive) * 1000,
    baseline: (tasks / single) * 1000,
    ratio: (tasks * 2) / adaptive / (tasks / single),
    unit: '/s',
    note: `${tasks * 2} tasks; devices earn trust after 10 agreed results, then 10 % are spot-checked`,
  });
  report({
    bench: 'redundancy',
    metric: 'tasks/s, redundancy 2',
    value: (tasks / double) * 1000,
    baseline: (tasks / single) * 1000,
    ratio: single / double,
    unit: '/s',
    note: `${tasks} tasks of ${taskMs} ms on 8 simulated tabs; baseline: redundancy 1 (ideal ratio 0.5)`,
  });
}
