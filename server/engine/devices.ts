/**
 * @module Devices: their trust and ban state as the admin sees it, and banning. The scheduler
 * keeps trust (it decides who votes); a ban is also kept in the store so it outlives a restart.
 */
import type { DeviceView } from '../../shared/devices.ts';
import { CoordinatorError } from '../errors.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import type { JobStore } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import type { TabRegistry } from './tab-registry.ts';

export interface DevicesDeps {
  store: JobStore;
  tabs: TabRegistry;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  /** A ban or unban is durable: the other nodes are told. */
  changed?(): void;
}

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

  /** Trust and ban state of every device seen since the start, with its live tabs. */
  list(): DeviceView[] {
    const { scheduler } = this.#deps;
    const tabs = new Map<string, number>();
    for (const volunteer of scheduler.volunteers) {
      tabs.set(volunteer.deviceId, (tabs.get(volunteer.deviceId) ?? 0) + 1);
    }
    const known = new Map(scheduler.devices.map((device) => [device.deviceId, device]));
    for (const deviceId of tabs.keys()) {
      if (!known.has(deviceId)) {
        known.set(deviceId, {
          deviceId,
          streak: 0,
          trusted: false,
          disagreements: 0,
          banned: false,
        });
      }
    }
    return [...known.values()].map((device) => ({
      ...device,
      tabs: tabs.get(device.deviceId) ?? 0,
    }));
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
