/** @module What a simulated tab counts, for chaos tests and benches that do not record messages. */

export interface SimStats {
  /** Task copies received. */
  received: number;
  /** Copies answered (a result went to the outbox). */
  computed: number;
  /** Copies answered while the tab had no registered connection. */
  computedOffline: number;
  /** Results acknowledged that had been computed while offline. */
  deliveredAfterReconnect: number;
  /** Copies this tab started and then hung on. */
  stalled: number;
  /** Connections this tab dropped on purpose (`drop()`). */
  drops: number;
  /** Connections lost other than by `close()`, dropped ones included. */
  disconnects: number;
  /** Attempts to connect again after a lost connection. */
  reconnects: number;
  /** Times the tab moved to another coordinator node after its own did not answer. */
  moves: number;
  /** Successful hellos (first connect included). */
  hellos: number;
  /** Result messages sent, and result entries in them (resends included). */
  batchesSent: number;
  resultsSent: number;
  /** Results the coordinator acknowledged, and those it refused (another tab's lease). */
  acked: number;
  refused: number;
  /** Result messages refused for the tab's event rate, and sent again later. */
  rateLimited: number;
  /** Leases cancelled by the coordinator, and leases handed back on a pause. */
  cancelled: number;
  released: number;
}

export function emptySimStats(): SimStats {
  return {
    received: 0,
    computed: 0,
    computedOffline: 0,
    deliveredAfterReconnect: 0,
    stalled: 0,
    drops: 0,
    disconnects: 0,
    reconnects: 0,
    moves: 0,
    hellos: 0,
    batchesSent: 0,
    resultsSent: 0,
    acked: 0,
    refused: 0,
    rateLimited: 0,
    cancelled: 0,
    released: 0,
  };
}
