/**
 * @module What connected tabs do, as the engine hears it from the socket handlers: arrive, leave,
 * change their slots, hand work back, report results, progress and checkpoints. Each event goes to
 * the scheduler and its effects to the applier; the registry keeps the link and what the tab asked.
 */
import type {
  CheckpointReport,
  PausedBy,
  ProgressBatch,
  TaskResult,
} from '../../shared/protocol.ts';
import type { Log } from '../log.ts';
import type { Effect, ReportVerdict, Scheduler } from '../scheduling/scheduler.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import type { ResultSender } from './forwarder.ts';
import type { TabRegistry, VolunteerLink } from './tab-registry.ts';

export interface TabsDeps {
  registry: TabRegistry;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  log: Log;
  /** True once the coordinator is shutting down: tabs leaving then are not charged a drop. */
  closing(): boolean;
  /** Leaves results of tasks another node holds for that node (forwarder.ts). */
  forward(sender: ResultSender, results: readonly TaskResult[]): Promise<void>;
  /** A tab of this device registered: its standing may have been earned on other nodes. */
  arrived?(deviceId: string): void;
}

export class Tabs {
  readonly #deps: TabsDeps;

  constructor(deps: TabsDeps) {
    this.#deps = deps;
  }

  /** Registers a tab; returns who paused it, if its grid's admin has it paused. */
  connect(
    hello: {
      volunteerId: string;
      deviceId: string;
      /** The connection's remote address, for jobs that count distinct addresses. */
      address?: string;
      slots: number;
      grid?: string;
      userAgent?: string;
      nickname?: string;
    },
    link: VolunteerLink,
  ): Extract<PausedBy, 'grid' | 'tab'> | undefined {
    this.#deps.effects.assertWorking();
    const now = this.#deps.clock.now();
    this.#deps.registry.register(
      {
        volunteerId: hello.volunteerId,
        deviceId: hello.deviceId,
        ...(hello.grid !== undefined ? { grid: hello.grid } : {}),
        ...(hello.userAgent !== undefined ? { userAgent: hello.userAgent } : {}),
        ...(hello.nickname !== undefined ? { nickname: hello.nickname } : {}),
        requestedSlots: hello.slots,
        connectedAt: now,
        lastSeen: now,
      },
      link,
    );
    // A tab an admin paused stays paused across reconnects and reloads.
    const pausedBy = this.#deps.registry.pausedBy(hello.volunteerId);
    if (pausedBy) link.control({ paused: true, reason: 'paused by the grid admin', pausedBy });
    const effects: Effect[] = [];
    this.#deps.scheduler.connect(
      { ...hello, slots: this.#deps.registry.effectiveSlots(hello.volunteerId) },
      now,
      effects,
    );
    void this.#deps.effects.applyLogged(effects);
    this.#deps.arrived?.(hello.deviceId);
    return pausedBy;
  }

  /** Whether a live connection already speaks for this tab id. */
  isConnected(volunteerId: string): boolean {
    return this.#deps.registry.has(volunteerId);
  }

  /** A link closed. Ignored when a newer link has taken the tab id over (a reload raced its own close). */
  disconnect(volunteerId: string, link: VolunteerLink): void {
    const now = this.#deps.clock.now();
    const volunteer = this.#deps.scheduler.getVolunteer(volunteerId);
    const done = { tasksDone: volunteer?.tasksDone ?? 0, cpuMs: volunteer?.cpuMs ?? 0 };
    if (!this.#deps.registry.unregister(volunteerId, link, now, done)) return;
    if (this.#deps.closing()) return;
    const effects: Effect[] = [];
    this.#deps.scheduler.disconnect(volunteerId, now, effects);
    void this.#deps.effects.applyLogged(effects);
  }

  /** The tab's own request (its volunteer's pause, or a change of cores). */
  setSlots(volunteerId: string, slots: number): void {
    const info = this.#deps.registry.info(volunteerId);
    if (info) info.requestedSlots = slots;
    const effects: Effect[] = [];
    this.#deps.scheduler.setSlots(
      volunteerId,
      this.#deps.registry.effectiveSlots(volunteerId),
      this.#deps.clock.now(),
      effects,
    );
    void this.#deps.effects.applyLogged(effects);
  }

  /** A paused tab hands back what it held; those copies go to other tabs. */
  release(volunteerId: string, leaseIds: readonly string[]): void {
    const effects: Effect[] = [];
    this.#deps.scheduler.release(volunteerId, leaseIds, this.#deps.clock.now(), effects);
    void this.#deps.effects.applyLogged(effects);
  }

  /**
   * Takes a batch of finished copies; resolves, once every commit among them is durable, with the
   * leases the tab may forget and those refused (another tab's lease).
   */
  async report(
    volunteerId: string,
    results: readonly TaskResult[],
  ): Promise<{ leaseIds: string[]; refused: string[] }> {
    // Refused before the scheduler sees it: the tab keeps the result for the coordinator's restart.
    this.#deps.effects.assertWorking();
    const effects: Effect[] = [];
    const forget: string[] = [];
    const refused: string[] = [];
    const notHeld: TaskResult[] = [];
    const now = this.#deps.clock.now();
    const verdicts = this.#deps.scheduler.report(volunteerId, results, now, effects);
    verdicts.forEach((verdict: ReportVerdict, i) => {
      const { leaseId } = results[i] as TaskResult;
      if (verdict === 'foreign-lease') {
        this.#deps.log.warn(
          { volunteerId, leaseId },
          '[engine]: result for a lease held by another tab refused',
        );
        refused.push(leaseId);
        return;
      }
      // Another node holds the task (or will): the result is left for it below.
      if (verdict === 'not-held') {
        notHeld.push(results[i] as TaskResult);
        return;
      }
      if (verdict === 'duplicate' || verdict === 'unknown-job')
        this.#deps.effects.counters.duplicates++;
      forget.push(leaseId);
    });
    await this.#deps.effects.apply(effects);
    if (notHeld.length > 0) await this.#forward(volunteerId, notHeld, forget);
    return { leaseIds: forget, refused };
  }

  /** Forwards results of tasks this node does not hold; the tab forgets them once durable. */
  async #forward(volunteerId: string, results: TaskResult[], forget: string[]): Promise<void> {
    const volunteer = this.#deps.scheduler.getVolunteer(volunteerId);
    if (!volunteer) return; // gone meanwhile: it sends them again on its next connection
    const sender = {
      volunteerId,
      deviceId: volunteer.deviceId,
      ...(volunteer.address !== undefined ? { address: volunteer.address } : {}),
    };
    try {
      await this.#deps.forward(sender, results);
      for (const result of results) forget.push(result.leaseId);
    } catch (error) {
      // Not durable: the tab keeps them and sends them again.
      this.#deps.log.warn({ err: error, volunteerId }, '[cluster]: could not forward results');
    }
  }

  progress(volunteerId: string, updates: ProgressBatch['updates']): void {
    this.#deps.scheduler.progress(volunteerId, updates, this.#deps.clock.now());
  }

  checkpoint(volunteerId: string, report: CheckpointReport): boolean {
    // A checkpoint is acknowledged as kept: after a failed write it could not be.
    this.#deps.effects.assertWorking();
    const effects: Effect[] = [];
    const accepted = this.#deps.scheduler.checkpoint(
      volunteerId,
      report,
      this.#deps.clock.now(),
      effects,
    );
    void this.#deps.effects.applyLogged(effects);
    return accepted;
  }

  /** Live connections. */
  get size(): number {
    return this.#deps.registry.size;
  }
}
