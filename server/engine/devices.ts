/**
 * @module Devices: their trust and ban state as the admin sees it, and banning. The scheduler
 * keeps trust (it decides who votes); standings and bans are also kept in the store, so they
 * outlive a restart and every node lists the same devices.
 */
import type { DeviceView } from '../../shared/devices.ts';
import type { WorkerView } from '../../shared/workers.ts';
import { CoordinatorError } from '../errors.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import {
  isTrustedStanding,
  mergeStanding,
  type Standing,
  type TrustPolicy,
} from '../scheduling/trust.ts';
import type { JobStore, StoredStanding } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import type { TabRegistry } from './tab-registry.ts';

export interface DevicesDeps {
  store: JobStore;
  tabs: TabRegistry;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  /** What makes a device trusted, to list stored standings as this node would judge them. */
  trust: TrustPolicy;
  /** Every live node's tabs (this one's as they are now, the others' as last published). */
  clusterTabs(): Promise<WorkerView[]>;
  /** A ban or unban is durable: the other nodes are told. */
  changed?(): void;
}

/**
 * Devices listed beyond those with a live tab or a ban: the ones whose standing changed last.
 * Every device ever judged would grow without end on a public project.
 */
export const DEVICES_LISTED = 1_000;

const NO_STANDING: Standing = { streak: 0, disagreements: 0, resets: 0 };

export class Devices {
  readonly #deps: DevicesDeps;

  constructor(deps: DevicesDeps) {
    this.#deps = deps;
  }

  /** Puts back the bans recorded before a restart. */
  async restore(): Promise<void> {
    const { store, scheduler, clock } = this.#deps;
    const now = clock.now();
    for (const deviceId of await store.bannedDevices()) scheduler.ban(deviceId, now, []);
  }

  /** Another node banned or unbanned a device: this node's scheduler and tabs follow the store. */
  async sync(): Promise<void> {
    const { store, scheduler } = this.#deps;
    const banned = new Set(await store.bannedDevices());
    for (const deviceId of banned) if (!scheduler.isBanned(deviceId)) await this.#banHere(deviceId);
    for (const device of scheduler.devices) {
      if (device.banned && !banned.has(device.deviceId)) scheduler.unban(device.deviceId);
    }
  }

  isBanned(deviceId: string): boolean {
    return this.#deps.scheduler.isBanned(deviceId);
  }

  /**
   * Every device with a live tab on any node or a ban, and the `DEVICES_LISTED` whose standing
   * changed last; `tabs` counts its live tabs on every node. A standing is the store's (every
   * node's verdicts) merged with this node's not yet written, as the scheduler merges them.
   */
  async list(): Promise<DeviceView[]> {
    const { store, scheduler, trust } = this.#deps;
    const [clusterTabs, banned, recent] = await Promise.all([
      this.#deps.clusterTabs(),
      store.bannedDevices(),
      store.recentStandings(DEVICES_LISTED),
    ]);
    const tabs = new Map<string, number>();
    for (const tab of clusterTabs) tabs.set(tab.deviceId, (tabs.get(tab.deviceId) ?? 0) + 1);
    const bans = new Set(banned);
    const stored = new Map<string, StoredStanding>(recent.map((row) => [row.deviceId, row]));
    const unread = [...new Set([...tabs.keys(), ...bans])].filter((id) => !stored.has(id));
    for (const row of await store.deviceStandings(unread)) stored.set(row.deviceId, row);
    const known = new Map(scheduler.devices.map((device) => [device.deviceId, device]));
    const listed = new Set([...tabs.keys(), ...bans, ...recent.map((row) => row.deviceId)]);
    return [...listed].map((deviceId) => {
      const here = known.get(deviceId);
      const there = stored.get(deviceId);
      const standing = here && there ? mergeStanding(here, there) : (here ?? there ?? NO_STANDING);
      const isBanned = bans.has(deviceId) || (here?.banned ?? false);
      return {
        deviceId,
        tabs: tabs.get(deviceId) ?? 0,
        streak: standing.streak,
        trusted: isTrustedStanding({ ...standing, banned: isBanned }, trust),
        disagreements: standing.disagreements,
        banned: isBanned,
      };
    });
  }

  /** Bans a device for good (kept in the store): its tabs are closed and refused from now on. */
  async ban(deviceId: string): Promise<void> {
    const { store, clock } = this.#deps;
    await store.banDevice(deviceId, clock.now());
    await this.#banHere(deviceId);
    this.#deps.changed?.();
  }

  /** Closes the device's tabs here and discards its uncommitted results. */
  async #banHere(deviceId: string): Promise<void> {
    const { tabs, scheduler, effects: applier, clock } = this.#deps;
    const effects: Effect[] = [];
    const links = [...scheduler.volunteers]
      .filter((volunteer) => volunteer.deviceId === deviceId)
      .map((volunteer) => tabs.link(volunteer.volunteerId));
    scheduler.ban(deviceId, clock.now(), effects);
    await applier.apply(effects);
    for (const link of links) link?.close("banned by the coordinator's admin");
  }

  async unban(deviceId: string): Promise<void> {
    const { store, scheduler } = this.#deps;
    await store.unbanDevice(deviceId);
    if (!scheduler.unban(deviceId)) {
      throw new CoordinatorError('not_found', `[devices]: device ${deviceId} is not banned`);
    }
    this.#deps.changed?.();
  }
}
