/**
 * @module The events part of the cluster contract, on every backend: what one store instance
 * publishes reaches its own subscribers. Across instances (PostgreSQL only) and hostile NOTIFY
 * payloads are tested in pg-store.test.ts.
 */
import { expect, it } from 'vitest';
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import { within } from '../support/events.ts';
import type { JobStore } from '../../server/store/store.ts';

export function clusterEventsContract(ctx: { store(): JobStore }): void {
  it('delivers a published event to its own subscribers, asynchronously, once, until they unsubscribe', async () => {
    const store = ctx.store();
    const got: ClusterEvent[] = [];
    let sentinel!: () => void;
    const sawSentinel = new Promise<void>((resolve) => (sentinel = resolve));
    const unsubscribe = store.events.subscribe((event) => {
      got.push(event);
      if (event.type === 'job-cancelled') sentinel();
    });
    const alsoThrows = store.events.subscribe(() => {
      throw new Error('a listener that throws must not stop the others');
    });
    // Never from inside publish: a listener may publish in turn, or hold a lock the caller holds.
    const publishing = store.events.publish({ type: 'job-submitted', jobId: 'j' });
    expect(got).toEqual([]);
    await publishing;
    await store.events.publish({ type: 'result-forwarded', jobId: 'j', epoch: 3 });
    await store.events.publish({ type: 'job-cancelled', jobId: 'j' });
    await within(sawSentinel, 5_000, 'the events');
    expect(got).toEqual([
      { type: 'job-submitted', jobId: 'j' },
      { type: 'result-forwarded', jobId: 'j', epoch: 3 },
      { type: 'job-cancelled', jobId: 'j' },
    ]);
    unsubscribe();
    alsoThrows();
    let late = 0;
    const stillListening = new Promise<void>((resolve) =>
      store.events.subscribe(() => {
        late++;
        resolve();
      }),
    );
    await store.events.publish({ type: 'claims-released' });
    await within(stillListening, 5_000, 'the last event');
    expect(late).toBe(1);
    expect(got).toHaveLength(3);
  });
}
