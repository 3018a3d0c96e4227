/** @module Liveness (`/healthz`), connected tabs (`/api/workers`) and Prometheus metrics (`/metrics`). */
import { Router, type RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Engine } from '../engine/engine.ts';

export function createHealthRouter(engine: Engine, requireAdmin: RequestHandler): Router {
  const router = Router();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'browsergrid_process_' });
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

  router.get('/api/workers', requireAdmin, (_req, res) => {
    res.json(
      [...engine.volunteers].map((volunteer) => ({
        volunteerId: volunteer.volunteerId,
        deviceId: volunteer.deviceId,
        grid: volunteer.grid,
        slots: volunteer.slots,
        holding: volunteer.leases.size,
        tasksDone: volunteer.tasksDone,
        taskMs: volunteer.ewmaTaskMs,
      })),
    );
  });
  return router;
}
