/** @module Coordinator settings: environment variables parsed with zod, defaults in one place. */
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  DEFAULT_PORT,
  MAX_HTTP_BODY_BYTES,
  MAX_SOCKET_MESSAGE_BYTES,
  MAX_UPLOAD_BYTES,
} from '../shared/limits.ts';

/**
 * The checkout (or installed package) root, whatever the working directory. A checkout runs this
 * file as `server/config.ts`; the packed package runs it built, as `dist/server/config.js`.
 */
export const PACKAGE_ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url),
);

export const Config = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  host: z.string().default('0.0.0.0'),
  /** Where the SQLite file and the generated admin token live. */
  dataDir: z.string().default('./data'),
  /** A PostgreSQL server to keep jobs in instead of SQLite in the data dir. Checked for its
   * scheme only: the value may hold a password, so no message repeats it. */
  databaseUrl: z
    .string()
    .refine(
      isPostgresUrl,
      'BROWSERGRID_DATABASE_URL must be a postgres:// URL such as postgres://user:password@127.0.0.1:5432/browsergrid',
    )
    .optional(),
  /** How long a start waits for PostgreSQL to answer before it fails. */
  databaseConnectTimeoutMs: z.coerce.number().int().positive().default(5_000),
  /** How often a node renews its heartbeat, and the silence after which others declare it dead. */
  nodeHeartbeatMs: z.coerce.number().int().min(50).default(1_000),
  nodeSilentMs: z.coerce.number().int().min(200).default(5_000),
  /**
   * socket.io's heartbeat: how often a tab is pinged, and how long its pong may take. A tab whose
   * node froze learns it only after both, and then moves to another node.
   */
  pingIntervalMs: z.coerce.number().int().min(200).default(25_000),
  pingTimeoutMs: z.coerce.number().int().min(200).default(20_000),
  /** Taken from BROWSERGRID_ADMIN_TOKEN, else read from or generated into the data dir. */
  adminToken: z
    .string()
    .min(16, 'BROWSERGRID_ADMIN_TOKEN must be at least 16 characters')
    .optional(),
  /** Base URL students and lab machines reach the coordinator by, for grid join links and QR
   * codes; by default, the host the admin's request came to. */
  publicUrl: z
    .url('BROWSERGRID_PUBLIC_URL must be a URL such as http://192.168.1.20:8080')
    .optional(),
  /** Built pages (vite build output). */
  staticDir: z.string().default(path.join(PACKAGE_ROOT, 'dist/client')),
  maxHttpBodyBytes: z.coerce.number().int().positive().default(MAX_HTTP_BODY_BYTES),
  /** Largest upload body; uploads stream to the store, so this bounds disk use, not memory. */
  maxUploadBytes: z.coerce.number().int().positive().default(MAX_UPLOAD_BYTES),
  maxSocketMessageBytes: z.coerce.number().int().positive().default(MAX_SOCKET_MESSAGE_BYTES),
  /** Inbound socket events per second per tab, sustained, and the burst above it. */
  eventsPerSecond: z.coerce.number().int().positive().default(500),
  eventBurst: z.coerce.number().int().positive().default(2_000),
  /** Concurrent tabs per remote address; 0 turns the cap off (labs behind one NAT). */
  maxConnectionsPerAddress: z.coerce.number().int().min(0).default(200),
  /**
   * Fresh device ids one remote address may be issued at once and per hour after that; past it,
   * that address's new tabs share one device id (see server/realtime/device-ids.ts).
   */
  deviceIdsPerAddressPerHour: z.coerce.number().int().positive().default(64),
  /** A tab connection that has not registered (volunteer:hello) by then is closed. */
  helloTimeoutMs: z.coerce.number().int().positive().default(30_000),
  /** Wrong grid join codes one network address may send per window before hellos naming a
   * grid are refused unread; 0 turns the window off. */
  helloMissesPerAddress: z.coerce.number().int().min(0).default(30),
  helloMissWindowMs: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 60_000),
  /** Open TCP connections (HTTP and WebSocket) the server holds at once; past it a new one is
   * closed on accept. At about 17 KiB per connected tab (docs/scaling.md), 50,000 is some
   * 850 MB; 0 turns the cap off. Keep it under the process's descriptor limit. */
  maxHttpConnections: z.coerce.number().int().min(0).default(50_000),
  /** Longest a client may take to send a request's headers. */
  headersTimeoutMs: z.coerce.number().int().positive().default(20_000),
  /** Longest an HTTP connection may go without a byte either way before it is cut: a stalled
   * body is dropped, while an upload that keeps moving, however slowly, is not. Keep it above
   * socket.io's ping interval (25 s), which bounds how long a polling request is held. */
  httpIdleTimeoutMs: z.coerce.number().int().positive().default(60_000),
  /** How long a job's reduce may run on the coordinator. */
  reduceTimeLimitMs: z.coerce.number().int().positive().default(60_000),
  /** Reverse proxies (IP addresses) whose X-Forwarded-For names the client: every per-address
   * rule then counts the client's address, not the proxy's (server/http/client-address.ts). */
  trustedProxies: z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry.length > 0)
        : value,
    z
      .array(
        z
          .string()
          .refine(
            (entry) => isIP(entry) !== 0,
            'BROWSERGRID_TRUSTED_PROXIES must be IP addresses separated by commas, such as 127.0.0.1,::1',
          ),
      )
      .default([]),
  ),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: readable lines (pino-pretty) when stdout is a terminal and CI is unset, else JSON
   * lines; `json` or `pretty` forces one. */
  logFormat: z
    .enum(['auto', 'json', 'pretty'], 'BROWSERGRID_LOG_FORMAT must be auto, json or pretty')
    .default('auto'),
  /** Tabs joining and leaving are summed into one info line at most this often (each tab's own
   * line is at debug): a class of 30 reads as it happens, 20,000 reconnecting tabs as a few lines. */
  tabLogIntervalMs: z.coerce.number().int().min(100).default(10_000),
});
export type Config = z.infer<typeof Config>;

function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//.test(value) && URL.canParse(value);
}

/** Reads the config from the environment; throws an error naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Config.safeParse({
    port: env['PORT'],
    host: env['HOST'],
    dataDir: env['BROWSERGRID_DATA'],
    databaseUrl: env['BROWSERGRID_DATABASE_URL'] || undefined,
    databaseConnectTimeoutMs: env['BROWSERGRID_DATABASE_CONNECT_TIMEOUT_MS'],
    nodeHeartbeatMs: env['BROWSERGRID_NODE_HEARTBEAT_MS'],
    nodeSilentMs: env['BROWSERGRID_NODE_SILENT_MS'],
    pingIntervalMs: env['BROWSERGRID_PING_INTERVAL_MS'],
    pingTimeoutMs: env['BROWSERGRID_PING_TIMEOUT_MS'],
    adminToken: env['BROWSERGRID_ADMIN_TOKEN'] || undefined,
    staticDir: env['BROWSERGRID_STATIC_DIR'],
    publicUrl: env['BROWSERGRID_PUBLIC_URL'] || undefined,
    maxHttpBodyBytes: env['BROWSERGRID_MAX_BODY_BYTES'],
    maxSocketMessageBytes: env['BROWSERGRID_MAX_MESSAGE_BYTES'],
    maxUploadBytes: env['BROWSERGRID_MAX_UPLOAD_BYTES'],
    eventsPerSecond: env['BROWSERGRID_EVENTS_PER_SECOND'],
    eventBurst: env['BROWSERGRID_EVENT_BURST'],
    maxConnectionsPerAddress: env['BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS'],
    deviceIdsPerAddressPerHour: env['BROWSERGRID_DEVICE_IDS_PER_ADDRESS_PER_HOUR'],
    helloMissesPerAddress: env['BROWSERGRID_HELLO_MISSES_PER_ADDRESS'],
    helloMissWindowMs: env['BROWSERGRID_HELLO_MISS_WINDOW_MS'],
    helloTimeoutMs: env['BROWSERGRID_HELLO_TIMEOUT_MS'],
    maxHttpConnections: env['BROWSERGRID_MAX_HTTP_CONNECTIONS'],
    headersTimeoutMs: env['BROWSERGRID_HEADERS_TIMEOUT_MS'],
    httpIdleTimeoutMs: env['BROWSERGRID_HTTP_IDLE_TIMEOUT_MS'],
    reduceTimeLimitMs: env['BROWSERGRID_REDUCE_TIME_LIMIT_MS'],
    trustedProxies: env['BROWSERGRID_TRUSTED_PROXIES'],
    logLevel: env['LOG_LEVEL'],
    logFormat: env['BROWSERGRID_LOG_FORMAT'] || undefined,
    tabLogIntervalMs: env['BROWSERGRID_TAB_LOG_INTERVAL_MS'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `[config]: ${issue?.path.join('.') ?? 'config'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
