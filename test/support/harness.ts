/**
 * @module Shared set-up for integration files: coordinators on 127.0.0.1:0 with SQLite in a temp
 * dir, simulated tabs, job submission, and everything a test started stopped after it.
 */
import { afterEach, expect } from 'vitest';
import type { JobCreated } from '../../shared/job.ts';
import { SimTab, type SimTabOptions } from './sim-tab.ts';
import {
  api,
  startCoordinator,
  type StartOptions,
  type TestCoordinator,
} from './start-coordinator.ts';

export interface Harness {
  /** A coordinator, closed (its data dir removed) after the test. */
  coordinator(options?: StartOptions): Promise<TestCoordinator>;
  /** A simulated tab, connected and registered, closed after the test. */
  volunteer(server: { url: string }, options?: SimTabOptions): Promise<SimTab>;
  /** Submits a job over REST and expects a 201. */
  submit(server: TestCoordinator, spec: Record<string, unknown>): Promise<JobCreated>;
  /** Registers a clean-up to run after the current test, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
}

/** Call once at the top of an integration file. */
export function useHarness(): Harness {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    defer: (cleanup) => cleanups.push(cleanup),
    async coordinator(options = {}) {
      const server = await startCoordinator(options);
      cleanups.push(() => server.close());
      return server;
    },
    async volunteer(server, options = {}) {
      const sim = await SimTab.connect(server.url, options);
      cleanups.push(() => sim.close());
      return sim;
    },
    async submit(server, spec) {
      const { status, body } = await api<JobCreated>(server, 'POST', '/api/jobs', spec);
      expect(status, JSON.stringify(body)).toBe(201);
      return body;
    },
  };
}
