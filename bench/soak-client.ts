/**
 * @module A child process of simulated tabs for the soak benchmark, from one source address.
 * Honest tabs run the soak job's map (`x => x * 2`) on timers, keep unsent results until they
 * are acknowledged and resend them after a reconnect, as the volunteer page's outbox does; in the
 * storm they drop at random and come back. Hostile tabs take no work and send the shapes an
 * attacker would (see hostile-frames.ts). Talks to its parent over IPC: `ready`, `storm`,
 * `calm`, `stop` (answered with `stopped` and counters).
 */
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Ack,
  type AssignBatch,
  type Assignment,
  type CancelBatch,
  type ResultAck,
  type TaskResult,
  type Welcome,
} from '../shared/protocol.ts';
import { HOSTILE_FRAMES } from './hostile-frames.ts';

export interface SoakClientOptions {
  url: string;
  tabs: number;
  localAddress: string;
  /** Id prefix, unique per process. */
  prefix: string;
  hostile: boolean;
  /** A task's simulated run time is drawn from [taskMs / 2, taskMs * 3 / 2]. */
  taskMs: number;
  /** In the storm, the chance per tab per second of dropping its connection. */
  dropPerSecond: number;
  /** How often a hostile tab sends something hostile. */
  hostileEveryMs: number;
}

export interface SoakCounters {
  drops: number;
  reconnects: number;
  hostileSent: number;
  resultsSent: number;
  /** Results refused as another tab's: never expected from an honest tab. */
  refused: number;
}

const options = JSON.parse(process.env['BROWSERGRID_SOAK'] ?? '{}') as SoakClientOptions;
const counters: SoakCounters = {
  drops: 0,
  reconnects: 0,
  hostileSent: 0,
  resultsSent: 0,
  refused: 0,
};
let storm = false;
let stopping = false;

class SoakTab {
  readonly #tabId: string;
  #deviceId: string;
  #socket: Socket | undefined;
  #ready = false;
  #queue: Assignment[] = [];
  readonly #running = new Map<string, NodeJS.Timeout>();
  readonly #outbox = new Map<string, TaskResult>();
  #sending = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(id: string) {
    this.#tabId = id;
    this.#deviceId = id;
  }

  async connect(): Promise<void> {
    const socket = io(options.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      localAddress: options.localAddress,
    } as Parameters<typeof io>[1]);
    this.#socket = socket;
    this.#ready = false;
    socket.on('task:assign', (batch: AssignBatch) => {
      this.#queue.push(...batch.tasks);
      this.#pump();
    });
    socket.on('task:cancel', (batch: CancelBatch) => {
      const drop = new Set(batch.leaseIds);
      this.#queue = this.#queue.filter((task) => !drop.has(task.leaseId));
      for (const leaseId of drop) {
        clearTimeout(this.#running.get(leaseId));
        this.#running.delete(leaseId);
      }
      this.#pump();
    });
    socket.on('disconnect', () => {
      this.#ready = false;
      if (!stopping && socket === this.#socket) this.#comeBack();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const welcome = (await socket.timeout(30_000).emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: this.#deviceId,
      tabId: this.#tabId,
      slots: options.hostile ? 0 : 1,
    })) as Ack<Welcome>;
    if (!welcome.ok) throw new Error(`[soak]: hello refused: ${welcome.error.message}`);
    // A coordinator that issues device ids hands one back; later hellos carry it.
    const issued = (welcome.data as { deviceId?: unknown }).deviceId;
    if (typeof issued === 'string') this.#deviceId = issued;
    this.#ready = true;
    if (options.hostile) this.#harass();
    else void this.#flush();
  }

  drop(): void {
    counters.drops++;
    this.#socket?.disconnect();
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const timer of this.#running.values()) clearTimeout(timer);
    this.#socket?.disconnect();
  }

  /** Back after a pause, as a reloaded or reconnected tab; tasks in hand keep running meanwhile. */
  #comeBack(): void {
    setTimeout(
      () => {
        if (stopping) return;
        counters.reconnects++;
        this.connect().catch(() => this.#comeBack());
      },
      200 + Math.random() * 1_800,
    );
  }

  #pump(): void {
    while (this.#running.size < 1 && this.#queue.length > 0) {
      const task = this.#queue.shift() as Assignment;
      this.#socket?.emit('task:progress', { updates: [{ leaseId: task.leaseId, elapsedMs: 0 }] });
      const ms = options.taskMs * (0.5 + Math.random());
      this.#running.set(
        task.leaseId,
        setTimeout(() => {
          this.#running.delete(task.leaseId);
          this.#outbox.set(task.leaseId, {
            leaseId: task.leaseId,
            jobId: task.jobId,
            taskIndex: task.taskIndex,
            durationMs: ms,
            outcome: {
              status: 'ok',
              items: task.inputs.map((x) => ({ output: (x as number) * 2 })),
            },
          });
          void this.#flush();
          this.#pump();
        }, ms),
      );
    }
  }

  /** Sends what waits in the outbox; forgets a result only once the coordinator acked it. */
  async #flush(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#ready && this.#outbox.size > 0) {
        const socket = this.#socket as Socket;
        const results = [...this.#outbox.values()].slice(0, 64);
        const reply = (await socket
          .timeout(15_000)
          .emitWithAck('task:results', { results })
          .catch(() => undefined)) as Ack<ResultAck> | undefined;
        if (!reply?.ok) break;
        counters.resultsSent += reply.data.leaseIds.length;
        counters.refused += reply.data.refused.length;
        for (const leaseId of [...reply.data.leaseIds, ...reply.data.refused])
          this.#outbox.delete(leaseId);
      }
    } finally {
      this.#sending = false;
    }
  }

  #harass(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        if (stopping) return;
        if (storm && this.#ready && this.#socket?.io.engine) {
          const frame = HOSTILE_FRAMES[Math.floor(Math.random() * HOSTILE_FRAMES.length)];
          // Straight onto the engine.io connection: socket.io-client's encoder could not even
          // build some of these packets.
          this.#socket.io.engine.send(frame?.() ?? '');
          counters.hostileSent++;
        }
        this.#harass();
      },
      options.hostileEveryMs * (0.5 + Math.random()),
    );
  }
}

const tabs = Array.from({ length: options.tabs }, (_, i) => new SoakTab(`${options.prefix}-${i}`));
const CONCURRENT = 50;
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENT }, async () => {
    while (next < tabs.length) await (tabs[next++] as SoakTab).connect();
  }),
);
process.send?.({ type: 'ready' });

const dropper = setInterval(() => {
  if (!storm || options.hostile) return;
  for (const tab of tabs) if (Math.random() < options.dropPerSecond) tab.drop();
}, 1_000);

process.on('message', (message: { type: string }) => {
  if (message.type === 'storm') storm = true;
  else if (message.type === 'calm') storm = false;
  else if (message.type === 'stop') {
    stopping = true;
    clearInterval(dropper);
    for (const tab of tabs) tab.close();
    process.send?.({ type: 'stopped', counters }, () => process.exit(0));
  }
});
