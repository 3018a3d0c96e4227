/** @module Liveness (`/healthz`), connected tabs (`/api/workers`) and Prometheus metrics (`/metrics`). */
import { Router, type RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, EngineObserver } from '../engine/engine.ts';

/** The registry and the timings the engine reports into it; made before the engine. */
export function createMetrics(): { registry: Registry; observe: EngineObserver } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'browsergrid_' });
  const commitSeconds = new Histogram({
    name: 'browsergrid_store_commit_seconds',
    help: 'Time to write one group commit to the store.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const commitChanges = new Histogram({
    name: 'browsergrid_store_commit_changes',
    help: 'State changes written per group commit.',
    buckets: [1, 4, 16, 64, 256, 1024, 4096],
    registers: [registry],
  });
  const taskSeconds = new Histogram({
    name: 'browsergrid_task_latency_seconds',
    help: 'From dispatch of the winning copy to its commit.',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    registry,
    observe: {
      commit(changes, ms) {
        commitSeconds.observe(ms / 1000);
        commitChanges.observe(changes);
      },
      taskLatency(ms) {
        taskSeconds.observe(ms / 1000);
      },
    },
  };
}

export function createHealthRouter(
  engine: Engine,
  requireAdmin: RequestHandler,
  registry: Registry,
): Router {
  const router = Router();
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name: `browsergrid_${name}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  counter('tasks_dispatched', 'Task copies sent to tabs.', () => engine.counters.dispatched);
  counter('tasks_committed', 'Tasks whose result committed.', () => engine.counters.committed);
  counter('tasks_failed', 'Tasks given up after maxAttempts.', () => engine.counters.failedTasks);
  counter(
    'results_duplicate',
    'Results acknowledged and dropped (task already settled).',
    () => engine.counters.duplicates,
  );
  counter('leases_expired', 'Copies that outlived their deadline.', () => engine.counters.expired);
  counter('leases_dropped', 'Copies lost to tabs that went away.', () => engine.counters.dropped);
  counter(
    'tasks_speculated',
    'Speculative backup copies that ended.',
    () => engine.counters.backups,
  );
  counter('backups_won', 'Backup copies whose result committed.', () => engine.counters.backupsWon);
  counter(
    'devices_distrusted',
    'Devices that lost trust or were banned.',
    () => engine.counters.distrusted,
  );
  new Gauge({
    name: 'browsergrid_workers_connected',
    help: 'Volunteer tabs connected.',
    registers: [registry],
    collect() {
      this.set(engine.volunteerCount);
    },
  });

  router.get('/healthz', (_req, res) => {
    res.json({ ok: true, volunteers: engine.volunteerCount });
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  /** Every tab of the cluster, each with the node it is connected to. */
  router.get('/api/workers', requireAdmin, async (_req, res) => {
    res.json(await engine.clusterWorkers());
  });
  return router;
}
