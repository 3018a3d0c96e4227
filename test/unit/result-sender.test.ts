import { describe, expect, it } from 'vitest';
import type { Ack, ResultAck, ResultBatch, TaskResult } from '../../shared/protocol.ts';
import {
  ResultSender,
  type ResultSocket,
  type ResultStore,
} from '../../client/volunteer/result-sender.ts';

/**
 * The tab's result sender against an in-memory store and a fake socket: a plain object with the
 * emit-with-ack surface the sender uses, whose acknowledgements the test gives (or withholds).
 */

const WAIT_MS = 2_000;

/** Wakes whoever waits when the store, the socket or the sender's counts change. */
class Changes {
  #waiters: Array<() => void> = [];

  fire(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `check` holds, re-checking on every change, or fails after WAIT_MS. */
  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting until ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Results in memory; a write can be held back to see what the sender does meanwhile. */
class MemoryStore implements ResultStore {
  readonly results = new Map<string, TaskResult>();
  writesStarted = 0;
  readonly #changes: Changes;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(changes: Changes) {
    this.#changes = changes;
  }

  holdWrites(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  releaseWrites(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async put(results: readonly TaskResult[]): Promise<void> {
    this.writesStarted++;
    this.#changes.fire();
    await this.#gate;
    for (const result of results) this.results.set(result.leaseId, result);
    this.#changes.fire();
  }

  async delete(leaseIds: readonly string[]): Promise<void> {
    for (const leaseId of leaseIds) this.results.delete(leaseId);
    this.#changes.fire();
  }

  async all(): Promise<TaskResult[]> {
    return [...this.results.values()];
  }

  leases(): string[] {
    return [...this.results.keys()].sort();
  }
}

interface Sent {
  leaseIds: string[];
  /** What the store held when the message went out. */
  storedAtSend: string[];
  answer: (res: Ack<ResultAck>) => void;
}

/** A connection: records each `task:results` message and lets the test acknowledge it. */
class FakeSocket implements ResultSocket {
  connected = true;
  readonly sent: Sent[] = [];
  /** Messages sent and not yet answered, timed out or cut off by a disconnect. */
  readonly inFlight = new Set<Sent>();
  /** Most messages ever in flight at once that carried the same lease. */
  maxCopiesInFlight = 0;
  readonly #store: MemoryStore;
  readonly #changes: Changes;
  readonly #cutoffs = new Set<(error: Error) => void>();

  constructor(store: MemoryStore, changes: Changes) {
    this.#store = store;
    this.#changes = changes;
  }

  timeout(ms: number): {
    emitWithAck(event: 'task:results', batch: ResultBatch): Promise<Ack<ResultAck>>;
  } {
    return {
      emitWithAck: (_event, batch) =>
        new Promise<Ack<ResultAck>>((resolve, reject) => {
          const leaseIds = batch.results.map((result) => result.leaseId);
          const fail = (error: Error): void => {
            clearTimeout(timer);
            this.inFlight.delete(sent);
            this.#cutoffs.delete(fail);
            reject(error);
          };
          const timer = setTimeout(() => fail(new Error('operation has timed out')), ms);
          const sent: Sent = {
            leaseIds,
            storedAtSend: this.#store.leases(),
            answer: (res) => {
              if (!this.inFlight.delete(sent)) return;
              clearTimeout(timer);
              this.#cutoffs.delete(fail);
              resolve(res);
            },
          };
          this.#cutoffs.add(fail);
          this.inFlight.add(sent);
          this.sent.push(sent);
          this.#countCopies();
          this.#changes.fire();
        }),
    };
  }

  /** The connection drops: what waits for an acknowledgement fails, as socket.io's does. */
  disconnect(): void {
    this.connected = false;
    for (const fail of [...this.#cutoffs]) fail(new Error('socket has been disconnected'));
  }

  /** Resolves with the `n`th message (1-based) once it is sent. */
  async message(n: number): Promise<Sent> {
    await this.#changes.until(() => this.sent.length >= n, `message ${n} is sent`);
    return this.sent[n - 1] as Sent;
  }

  #countCopies(): void {
    const copies = new Map<string, number>();
    for (const sent of this.inFlight) {
      for (const leaseId of sent.leaseIds) copies.set(leaseId, (copies.get(leaseId) ?? 0) + 1);
    }
    this.maxCopiesInFlight = Math.max(this.maxCopiesInFlight, ...copies.values());
  }
}

function result(leaseId: string): TaskResult {
  return {
    leaseId,
    jobId: 'job-1',
    taskIndex: Number(leaseId.replace(/\D/g, '')) || 0,
    durationMs: 5,
    outcome: { status: 'ok', items: [{ output: leaseId }] },
  };
}

function accepted(leaseIds: string[], refused: string[] = []): Ack<ResultAck> {
  return { ok: true, data: { leaseIds, refused } };
}

function setUp(options: { ackTimeoutMs?: number; resendAfterMs?: number } = {}): {
  store: MemoryStore;
  sender: ResultSender;
  until: (check: () => boolean, what: string) => Promise<void>;
  errors: string[];
  /** The live connection; replace it with `reconnect`. */
  socket: () => FakeSocket;
  reconnect: () => Promise<FakeSocket>;
} {
  const changes = new Changes();
  const store = new MemoryStore(changes);
  const errors: string[] = [];
  let socket: FakeSocket | undefined = new FakeSocket(store, changes);
  const sender = new ResultSender({
    store,
    socket: () => (socket?.connected ? socket : undefined),
    onChange: () => changes.fire(),
    onError: (message) => errors.push(message),
    ackTimeoutMs: options.ackTimeoutMs ?? 1_000,
    resendAfterMs: options.resendAfterMs ?? 10,
  });
  return {
    store,
    sender,
    until: (check, what) => changes.until(check, what),
    errors,
    socket: () => socket as FakeSocket,
    reconnect: async () => {
      socket?.disconnect();
      socket = new FakeSocket(store, changes);
      await sender.connected();
      return socket;
    },
  };
}

describe('the tab result sender', () => {
  it('stores a result before it sends it, and sends nothing while the write is unfinished', async () => {
    const { store, sender, socket, until } = setUp();
    store.holdWrites();
    sender.add(result('L1'));
    await until(() => store.writesStarted === 1, 'the write has begun');
    expect(socket().sent).toHaveLength(0);
    store.releaseWrites();
    const sent = await socket().message(1);
    expect(sent.leaseIds).toEqual(['L1']);
    expect(sent.storedAtSend).toEqual(['L1']);
  });

  it('sends every stored result again when the coordinator welcomes the tab on a new connection', async () => {
    const { store, sender, socket, reconnect, until } = setUp();
    sender.add(result('L1'));
    sender.add(result('L2'));
    const first = await socket().message(1);
    expect(first.leaseIds).toEqual(['L1', 'L2']);
    // The connection drops before the acknowledgement arrives.
    const next = await reconnect();
    const again = await next.message(1);
    expect(again.leaseIds).toEqual(['L1', 'L2']);
    again.answer(accepted(['L1', 'L2']));
    await until(() => store.results.size === 0, 'the acknowledged results are forgotten');
    expect(sender.done).toBe(2);
  });

  it('sends what an earlier run of the tab left stored once it is welcomed', async () => {
    const { store, sender, socket } = setUp();
    await store.put([result('L7')]);
    await sender.load();
    expect(sender.unsent).toBe(1);
    await sender.connected();
    expect((await socket().message(1)).leaseIds).toEqual(['L7']);
  });

  it('sends a batch again on the same connection when its acknowledgement never comes', async () => {
    const { store, sender, socket, errors, until } = setUp({ ackTimeoutMs: 50, resendAfterMs: 10 });
    sender.add(result('L1'));
    const first = await socket().message(1);
    // No answer: the ack times out and the batch goes out once more.
    const second = await socket().message(2);
    expect(second.leaseIds).toEqual(['L1']);
    expect(errors.some((error) => error.includes('timed out'))).toBe(true);
    expect(store.leases()).toEqual(['L1']);
    first.answer(accepted(['L1'])); // too late: that message already failed
    second.answer(accepted(['L1']));
    await until(() => store.results.size === 0, 'the acknowledged result is forgotten');
  });

  it('keeps and resends a batch the coordinator refuses whole', async () => {
    const { store, sender, socket } = setUp();
    sender.add(result('L1'));
    (await socket().message(1)).answer({
      ok: false,
      error: { code: 'rate_limited', message: 'too many results' },
    });
    const again = await socket().message(2);
    expect(again.leaseIds).toEqual(['L1']);
    expect(store.leases()).toEqual(['L1']);
  });

  it('forgets a batch the coordinator refuses whole as malformed, and sends the next results', async () => {
    const { store, sender, socket, errors, until } = setUp();
    sender.add(result('L1'));
    (await socket().message(1)).answer({
      ok: false,
      error: { code: 'invalid_input', message: '[task:results]: nested too deep' },
    });
    await until(() => store.results.size === 0, 'the refused batch is forgotten');
    expect(sender.unsent).toBe(0);
    expect(sender.done).toBe(0);
    expect(errors.some((error) => error.includes('nested too deep'))).toBe(true);
    sender.add(result('L2'));
    expect((await socket().message(2)).leaseIds).toEqual(['L2']);
  });

  it('forgets a result only when an acknowledgement names its lease, as accepted or refused', async () => {
    const { store, sender, socket, reconnect, until } = setUp();
    for (const leaseId of ['L1', 'L2', 'L3']) sender.add(result(leaseId));
    const sent = await socket().message(1);
    expect(sent.leaseIds).toEqual(['L1', 'L2', 'L3']);
    sent.answer(accepted(['L1'], ['L2']));
    await until(() => store.results.size === 1, 'the named results are forgotten');
    expect(store.leases()).toEqual(['L3']);
    expect(sender.done).toBe(1);
    expect(sender.cpuMs).toBe(5);
    expect(sender.unsent).toBe(1);
    // The one no acknowledgement named is still there and goes out on the next connection.
    const next = await reconnect();
    expect((await next.message(1)).leaseIds).toEqual(['L3']);
  });

  it('never has one result in two messages in flight at once', async () => {
    const { sender, socket, until } = setUp({ ackTimeoutMs: 200, resendAfterMs: 10 });
    sender.add(result('L1'));
    const first = await socket().message(1);
    for (const leaseId of ['L2', 'L3', 'L4']) sender.add(result(leaseId));
    // One message in flight: the later results wait for it.
    await until(() => sender.unsent === 4, 'the later results are stored');
    expect(socket().sent).toHaveLength(1);
    first.answer(accepted(['L1']));
    const second = await socket().message(2);
    expect(second.leaseIds).toEqual(['L2', 'L3', 'L4']);
    // Unanswered, it times out and is sent again, never beside itself.
    const third = await socket().message(3);
    expect(third.leaseIds).toEqual(['L2', 'L3', 'L4']);
    third.answer(accepted(['L2', 'L3', 'L4']));
    await until(() => sender.unsent === 0, 'everything is acknowledged');
    expect(socket().maxCopiesInFlight).toBe(1);
    expect(socket().sent.flatMap((sent) => sent.leaseIds)).toEqual([
      'L1',
      'L2',
      'L3',
      'L4',
      'L2',
      'L3',
      'L4',
    ]);
  });
});
