/**
 * @module Cluster events within one process (the SQLite store, where the one node tells
 * itself). Delivery is asynchronous and each event goes through JSON and the schema, as it does
 * through PostgreSQL, so code written against one backend behaves the same on the other.
 */
import { ClusterEvent } from '../../shared/cluster-events.ts';
import type { ClusterEvents } from './cluster.ts';

export interface LocalEvents extends ClusterEvents {
  /** Stops delivering: later publishes go nowhere. */
  close(): void;
}

export function createLocalEvents(): LocalEvents {
  const listeners = new Set<(event: ClusterEvent) => void>();
  let closed = false;
  return {
    async publish(event) {
      if (closed) return;
      const text = JSON.stringify(event);
      setImmediate(() => {
        if (closed) return;
        const parsed = ClusterEvent.safeParse(JSON.parse(text));
        if (parsed.success) deliver(listeners, parsed.data);
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    onResumed() {
      // One process never loses its own events.
      return () => undefined;
    },
    close() {
      closed = true;
      listeners.clear();
    },
  };
}

/** Every listener gets the event, whatever an earlier one did. */
export function deliver(
  listeners: ReadonlySet<(event: ClusterEvent) => void>,
  event: ClusterEvent,
  onListenerError?: (error: unknown) => void,
): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch (error) {
      onListenerError?.(error);
    }
  }
}
