/** @module The scheduler's settings, and their defaults. */
import type { LeaseIds } from './lease-ids.ts';
import { DEFAULT_PREFETCH, type PrefetchOptions } from './prefetch.ts';
import { DEFAULT_TRUST, type TrustPolicy } from './trust.ts';

export interface SchedulerOptions {
  prefetch: PrefetchOptions;
  /** Slack added to every lease deadline for network and clock jitter. */
  leaseGraceMs: number;
  /** Copies lost to departing tabs before a task is given up (a task that crashes tabs). */
  maxDrops: number;
  /** Issues and checks lease ids (see lease-ids.ts). */
  leaseIds: LeaseIds;
  trust: TrustPolicy;
  /** For spot checks; injected so tests can decide. */
  random: () => number;
}

export const DEFAULT_SCHEDULER_OPTIONS: Omit<SchedulerOptions, 'leaseIds' | 'random'> = {
  trust: DEFAULT_TRUST,
  prefetch: DEFAULT_PREFETCH,
  leaseGraceMs: 5_000,
  maxDrops: 10,
};
