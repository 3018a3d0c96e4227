/**
 * @module A child process of simulated tabs (test/support/sim-tab.ts) for the soak benchmark, from
 * one source address. Honest tabs run the soak job's map (`x => x * 2`) on timers, keep unsent
 * results until they are acknowledged and resend them after a reconnect, as the volunteer page's
 * outbox does; in the storm they drop at random and come back. Hostile tabs take no work and send
 * the shapes an attacker would (see hostile-frames.ts). Talks to its parent over IPC: `ready`,
 * `storm`, `calm`, `stop` (answered with `stopped` and counters).
 */
import { SimTab } from '../test/support/sim-tab.ts';
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
let hostileSent = 0;
let storm = false;
let stopping = false;

/**
 * Sends something hostile now and then while the storm lasts, straight onto the transport; the
 * clock starts again on every connection, as a page reloaded after being thrown out would.
 */
function harass(tab: SimTab): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        if (stopping) return;
        if (storm && tab.registered && tab.socket.io.engine) {
          const frame = HOSTILE_FRAMES[Math.floor(Math.random() * HOSTILE_FRAMES.length)];
          // Straight onto the engine.io connection: socket.io-client's encoder could not even
          // build some of these packets.
          tab.socket.io.engine.send(frame?.() ?? '');
          hostileSent++;
        }
        next();
      },
      options.hostileEveryMs * (0.5 + Math.random()),
    );
  };
  tab.socket.on('connect', next);
  next();
}

const tabs: SimTab[] = [];
const CONCURRENT = 50;
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENT }, async () => {
    while (next < options.tabs) {
      const id = `${options.prefix}-${next++}`;
      const tab = await SimTab.connect(options.url, {
        deviceId: id,
        tabId: id,
        slots: options.hostile ? 0 : 1,
        concurrency: 1,
        localAddress: options.localAddress,
        taskMs: options.taskMs,
        jitter: true,
        reportStart: true,
        stopCancelled: true,
        resend: { ackTimeoutMs: 15_000 },
        resultsPerMessage: 64,
        // Back after a pause, as a reloaded or reconnected tab; tasks in hand keep running.
        reconnect: { minMs: 200, maxMs: 2_000 },
        helloTimeoutMs: 30_000,
        record: false,
      });
      tabs.push(tab);
      if (options.hostile) harass(tab);
    }
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
    const counters: SoakCounters = {
      drops: 0,
      reconnects: 0,
      hostileSent,
      resultsSent: 0,
      refused: 0,
    };
    for (const { stats } of tabs) {
      counters.drops += stats.drops;
      counters.reconnects += stats.reconnects;
      counters.resultsSent += stats.acked;
      counters.refused += stats.refused;
    }
    process.send?.({ type: 'stopped', counters }, () => process.exit(0));
  }
});
