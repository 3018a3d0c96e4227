/**
 * @module What cluster tests ask of nodes and tabs alike: whether a node's welcome lists the
 * others yet, and the results a tab would send for the tasks it was given.
 */
import type { JsonValue } from '../../shared/json.ts';
import type { Assignment, TaskResult } from '../../shared/protocol.ts';
import { SimTab } from './sim-tab.ts';
import { waitFor } from './start-coordinator.ts';

/**
 * Resolves once a tab saying hello to `node` is welcomed with `count` nodes listed: the node has
 * seen the others join (tabs learn where to move from that list).
 */
export async function untilListed(
  node: { url: string },
  count: number,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  await waitFor(
    async () => {
      const probe = await SimTab.connect(node.url, {});
      probe.close();
      return probe.welcome?.nodes?.length === count ? true : undefined;
    },
    timeoutMs,
    what,
  );
}

/** The results a tab would send for `tasks`, each item's output `f(input)`. */
export function answersTo(tasks: readonly Assignment[], f: (x: number) => JsonValue): TaskResult[] {
  return tasks.map((task) => ({
    leaseId: task.leaseId,
    jobId: task.jobId,
    taskIndex: task.taskIndex,
    durationMs: 5,
    outcome: { status: 'ok', items: (task.inputs as number[]).map((x) => ({ output: f(x) })) },
  }));
}
