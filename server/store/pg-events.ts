/**
 * @module Cluster events over PostgreSQL LISTEN/NOTIFY: one channel, one dedicated connection
 * per node that listens (a pooled connection would be handed to queries and lose its LISTEN),
 * sent with `pg_notify` through the pool. A payload is checked against `ClusterEvent` when it
 * arrives: anyone who may connect to the database may NOTIFY, so a bad one is dropped with a
 * throttled warning and never throws. A lost connection is reopened with a bounded backoff;
 * events sent meanwhile are gone, which `onResumed` tells the node.
 */
import pg from 'pg';
import { ClusterEvent } from '../../shared/cluster-events.ts';
import { throttledWarn, type Log } from '../log.ts';
import type { ClusterEvents } from './cluster.ts';
import { deliver } from './local-events.ts';

/** The one channel every node listens on. */
export const CLUSTER_CHANNEL = 'browsergrid';

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_999;

/** First wait before reopening a lost connection; doubled per failed try up to the max. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 2_000;

export interface PgEvents extends ClusterEvents {
  close(): Promise<void>;
}

export interface PgEventsOptions {
  connectionString: string;
  connectTimeoutMs: number;
  /** Sends notifications; the listening connection is the events' own. */
  pool: pg.Pool;
  log: Log;
}

/** Resolves once this node listens, so its own first publish reaches it too. */
export async function createPgEvents(options: PgEventsOptions): Promise<PgEvents> {
  const listeners = new Set<(event: ClusterEvent) => void>();
  const resumedListeners = new Set<() => void>();
  const dropped = throttledWarn(options.log, undefined, 'dropped');
  const failedListener = throttledWarn(options.log, undefined, 'failures');
  const reconnectFailed = throttledWarn(options.log, undefined, 'failures');
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RECONNECT_FIRST_MS;

  const onNotification = (message: pg.Notification): void => {
    if (message.channel !== CLUSTER_CHANNEL || closed) return;
    let value: unknown;
    try {
      value = JSON.parse(message.payload ?? '');
    } catch {
      dropped(
        { bytes: message.payload?.length ?? 0 },
        '[cluster]: dropped an event that is not JSON',
      );
      return;
    }
    const parsed = ClusterEvent.safeParse(value);
    if (!parsed.success) {
      dropped({ issue: parsed.error.issues[0]?.message }, '[cluster]: dropped an invalid event');
      return;
    }
    deliver(listeners, parsed.data, (error) =>
      failedListener({ err: error }, '[cluster]: an event listener threw'),
    );
  };

  const open = async (): Promise<pg.Client> => {
    const next = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs,
    });
    const lost = (): void => {
      if (client !== next) return;
      client = undefined;
      if (!closed) options.log.warn('[cluster]: lost the event connection; reopening it');
      next.end().catch(() => undefined);
      scheduleReconnect();
    };
    // Without an 'error' listener a dropped connection would be an uncaught exception.
    next.on('error', lost);
    next.on('end', lost);
    next.on('notification', onNotification);
    try {
      await next.connect();
      await next.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (error) {
      next.removeAllListeners();
      next.on('error', () => undefined);
      await next.end().catch(() => undefined);
      throw error;
    }
    return next;
  };

  const scheduleReconnect = (): void => {
    if (closed || retryTimer) return;
    const delayMs = retryMs;
    retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      open().then(
        async (next) => {
          if (closed) {
            await next.end().catch(() => undefined);
            return;
          }
          client = next;
          retryMs = RECONNECT_FIRST_MS;
          options.log.info('[cluster]: listening for events again after a lost connection');
          for (const listener of [...resumedListeners]) {
            try {
              listener();
            } catch (error) {
              failedListener({ err: error }, '[cluster]: a resume listener threw');
            }
          }
        },
        (error: unknown) => {
          reconnectFailed({ err: error }, '[cluster]: reopening the event connection failed');
          scheduleReconnect();
        },
      );
    }, delayMs);
  };

  client = await open();

  return {
    async publish(event) {
      const text = JSON.stringify(event);
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        throw new Error(
          `[cluster]: event ${event.type} is ${text.length} bytes, over NOTIFY's limit`,
        );
      }
      await options.pool.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, text]);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    onResumed(listener) {
      resumedListeners.add(listener);
      return () => void resumedListeners.delete(listener);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      listeners.clear();
      resumedListeners.clear();
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
