/**
 * @module A grid's roster: each tab as the admin page shows it (state, browser, contribution),
 * the grid's leaderboard order, and the codes people type to join.
 */
import { randomBytes } from 'node:crypto';
import type { RosterEntry } from '../../shared/job.ts';
import type { VolunteerEntry } from '../scheduling/state.ts';
import type { Contribution, TabInfo } from './tab-registry.ts';

/** Grid codes people type from a projector: no 0/O or 1/I/L. */
const GRID_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newGridCode(): string {
  const bytes = randomBytes(6);
  return Array.from(bytes, (byte) => GRID_ALPHABET[byte % GRID_ALPHABET.length]).join('');
}

/** "Chrome 156", "Firefox 140", … from a user agent, for the roster. */
export function describeBrowser(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  const match = userAgent.match(/(HeadlessChrome|Edg|Firefox|Chrome|Safari)\/(\d+)/) ?? undefined;
  if (!match) return userAgent.slice(0, 40);
  const name = match[1] === 'Edg' ? 'Edge' : match[1];
  return `${name} ${match[2]}`;
}

export function liveEntry(
  info: TabInfo,
  volunteer: Readonly<VolunteerEntry> | undefined,
  pausedByAdmin: boolean,
  now: number,
): RosterEntry {
  const holding = volunteer?.leases.size ?? 0;
  const paused = pausedByAdmin || info.requestedSlots === 0;
  return {
    volunteerId: info.volunteerId,
    deviceId: info.deviceId,
    browser: describeBrowser(info.userAgent),
    ...(info.nickname !== undefined ? { nickname: info.nickname } : {}),
    cores: info.requestedSlots,
    state: paused ? 'paused' : holding > 0 ? 'working' : 'idle',
    pausedByAdmin,
    holding,
    tasksDone: volunteer?.tasksDone ?? 0,
    cpuSeconds: Math.round(volunteer?.cpuMs ?? 0) / 1000,
    ...(volunteer?.ewmaTaskMs !== undefined
      ? { taskMs: Math.round(volunteer.ewmaTaskMs * 10) / 10 }
      : {}),
    lastSeen: new Date(now).toISOString(),
    joinedAt: new Date(info.connectedAt).toISOString(),
  };
}

export function goneEntry(info: TabInfo & Contribution): RosterEntry {
  return {
    volunteerId: info.volunteerId,
    deviceId: info.deviceId,
    browser: describeBrowser(info.userAgent),
    ...(info.nickname !== undefined ? { nickname: info.nickname } : {}),
    cores: info.requestedSlots,
    state: 'gone',
    pausedByAdmin: false,
    holding: 0,
    tasksDone: info.tasksDone,
    cpuSeconds: Math.round(info.cpuMs) / 1000,
    lastSeen: new Date(info.lastSeen).toISOString(),
    joinedAt: new Date(info.connectedAt).toISOString(),
  };
}

/** Biggest contributors first: the roster doubles as the grid's leaderboard. */
export function byContribution(entries: RosterEntry[]): RosterEntry[] {
  return entries.sort(
    (a, b) => b.cpuSeconds - a.cpuSeconds || a.volunteerId.localeCompare(b.volunteerId),
  );
}
