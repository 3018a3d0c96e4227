/**
 * @module createCoordinator: wires the store, engine, HTTP routes and socket namespaces into one
 * server, without listening. `main.ts` and the tests are its callers.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server } from 'socket.io';
import { MAX_JOB_ITEMS, MAX_UPLOAD_ITEM_BYTES } from '../shared/limits.ts';
import type { AdminToServerEvents, ServerToAdminEvents } from '../shared/protocol.ts';
import { AdminTokens } from './admin-tokens.ts';
import { createRequireAdmin, resolveLeaseSecret } from './auth.ts';
import type { Config } from './config.ts';
import { systemClock } from './engine/clock.ts';
import { Engine, type Clock } from './engine/engine.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { capConnections, CONNECTIONS_BEYOND_TABS } from './http/connection-caps.ts';
import { createClientAddress } from './http/client-address.ts';
import { createDevicesRouter } from './http/devices-routes.ts';
import { createGridsRouter } from './http/grids-routes.ts';
import { createHealthRouter, createMetrics } from './http/health-routes.ts';
import { createJobsRouter } from './http/jobs-routes.ts';
import { createStaticRouter } from './http/static.ts';
import { createTokensRouter } from './http/tokens-routes.ts';
import { createUploadsRouter } from './http/uploads-routes.ts';
import { sweepIncompleteUploads } from './jobs/uploads.ts';
import { createRootLog, subsystem, type Log } from './log.ts';
import { registerAdminHandlers } from './realtime/admin-handlers.ts';
import { createDeviceIds, DEFAULT_DEVICE_ID_LIMITS } from './realtime/device-ids.ts';
import { createJoinCodeGuard } from './realtime/join-code-guard.ts';
import { applySocketLimits } from './realtime/limits.ts';
import { createTabActivity } from './realtime/tab-activity.ts';
import { registerVolunteerHandlers, type VolunteerServer } from './realtime/volunteer-handlers.ts';
import { createLeaseIds } from './scheduling/lease-ids.ts';
import type { SchedulerOptions } from './scheduling/scheduler.ts';
import { openStore } from './store/open-store.ts';
import type { JobStore } from './store/store.ts';

/** Longest one HTTP request may take to arrive, body included. */
const UPLOAD_REQUEST_TIMEOUT_MS = 60 * 60_000;

export interface CoordinatorDeps {
  config: Config;
  adminToken: string;
  /** Defaults to the one the config names: PostgreSQL at `databaseUrl`, else SQLite at
   * `<dataDir>/browsergrid.db`. */
  store?: JobStore;
  log?: Log;
  clock?: Clock;
  scheduler?: Partial<SchedulerOptions>;
  /** A store write failed and the coordinator took no more work; `main.ts` exits here. */
  onFatal?: (error: unknown) => void;
}

export interface Coordinator {
  httpServer: HttpServer;
  io: VolunteerServer;
  engine: Engine;
  /** Listens on config.host:config.port (0 picks a free port); resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, disconnects tabs, flushes pending commits, closes the store. */
  close(): Promise<void>;
}

export async function createCoordinator(deps: CoordinatorDeps): Promise<Coordinator> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? createRootLog(config.logLevel, config.logFormat);
  const store =
    deps.store ??
    (await openStore(config, {
      log: subsystem(log, 'store'),
      onIdleError: (error) =>
        log.warn({ err: error }, '[app]: an idle PostgreSQL connection failed; it is replaced'),
    }));
  const swept = await sweepIncompleteUploads(store);
  if (swept > 0) log.info({ swept }, '[app]: deleted uploads a stop had cut short');
  const metrics = createMetrics();
  const leaseSecret = await resolveLeaseSecret(store, config.dataDir);
  const engine = await Engine.start({
    store,
    observe: metrics.observe,
    reduceTimeLimitMs: config.reduceTimeLimitMs,
    log: subsystem(log, 'engine'),
    clock,
    ...(deps.onFatal ? { onFatal: deps.onFatal } : {}),
    // A SQLite file has one coordinator: nodes before this one are gone, their claims free at once.
    node: {
      soleNode: config.databaseUrl === undefined,
      heartbeatMs: config.nodeHeartbeatMs,
      silentMs: config.nodeSilentMs,
    },
    scheduler: {
      leaseIds: createLeaseIds(leaseSecret),
      ...deps.scheduler,
    },
  });

  const tokens = await AdminTokens.load(deps.adminToken, store);
  const clientAddress = createClientAddress(config.trustedProxies);
  const requireAdmin = createRequireAdmin(tokens, subsystem(log, 'auth'), clientAddress);
  // Tokens made or revoked on one node hold on every node.
  tokens.onChanged(() => engine.admin.tokensChanged());
  engine.admin.onTokensChanged(
    () =>
      void tokens
        .reload()
        .catch((error: unknown) =>
          log.warn({ err: error }, '[app]: could not reload admin tokens another node changed'),
        ),
  );

  const app = express();
  app.disable('x-powered-by');
  // Before the JSON parser: an upload's body is streamed, whatever its Content-Type says.
  app.use(
    createUploadsRouter(store, requireAdmin, clock, {
      maxBytes: config.maxUploadBytes,
      maxItemBytes: MAX_UPLOAD_ITEM_BYTES,
      maxItems: MAX_JOB_ITEMS,
    }),
  );
  // Mounted per route, after requireAdmin: a body is read only once its sender is known and only
  // where a route takes one. Parsed app-wide, a 64 MB body without a token was parsed for 27 s
  // (the event loop blocked, 2 GB of RSS) before its 401.
  const json = express.json({ limit: config.maxHttpBodyBytes });
  app.use(createHealthRouter(engine, requireAdmin, metrics.registry));
  app.use(createJobsRouter(engine, requireAdmin, json, subsystem(log, 'jobs')));
  app.use(createGridsRouter(engine.grids, requireAdmin, json, config.publicUrl));
  app.use(createTokensRouter(tokens, requireAdmin, json, clock));
  app.use(createDevicesRouter(engine.devices, requireAdmin));
  app.use(createStaticRouter(config.staticDir, () => engine.nodeUrls()));
  app.use(notFound);
  app.use(errorHandler(subsystem(log, 'http'), config.maxHttpBodyBytes));

  const httpServer = createServer(
    {
      // Node applies one total per server, and an upload of several GB over a classroom link
      // needs long; the idle timeout below is what cuts a body that stops coming.
      requestTimeout: UPLOAD_REQUEST_TIMEOUT_MS,
      headersTimeout: config.headersTimeoutMs,
      // Both totals are enforced by a sweep at this interval (Node's default, 30 s, would let a
      // 20 s header allowance run to 50 s).
      connectionsCheckingInterval: Math.min(5_000, config.headersTimeoutMs),
    },
    app,
  );
  httpServer.timeout = config.httpIdleTimeoutMs;
  capConnections(
    httpServer,
    {
      maxConnections: config.maxHttpConnections,
      // One setting for an address's tabs and its connections, so a classroom behind one NAT
      // raises (or, with 0, lifts) both at once.
      maxPerAddress:
        config.maxConnectionsPerAddress > 0
          ? config.maxConnectionsPerAddress + CONNECTIONS_BEYOND_TABS
          : 0,
      exempt: config.trustedProxies,
    },
    subsystem(log, 'http'),
  );
  const io: VolunteerServer = new Server(httpServer, {
    maxHttpBufferSize: config.maxSocketMessageBytes,
    serveClient: false,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
  });
  applySocketLimits(
    io,
    {
      eventsPerSecond: config.eventsPerSecond,
      burst: config.eventBurst,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      clientAddress,
    },
    subsystem(log, 'realtime'),
  );
  const tabActivity = createTabActivity(
    subsystem(log, 'realtime'),
    config.tabLogIntervalMs,
    () => engine.volunteerCount,
  );
  registerVolunteerHandlers(io, engine, subsystem(log, 'realtime'), {
    deviceIds: createDeviceIds(leaseSecret, {
      ...DEFAULT_DEVICE_ID_LIMITS,
      perAddressPerHour: config.deviceIdsPerAddressPerHour,
    }),
    joinCodes: createJoinCodeGuard(
      { missesPerAddress: config.helloMissesPerAddress, missWindowMs: config.helloMissWindowMs },
      subsystem(log, 'realtime'),
    ),
    helloTimeoutMs: config.helloTimeoutMs,
    activity: tabActivity,
  });
  const stopAdmin = registerAdminHandlers(
    io.of('/admin') as unknown as import('socket.io').Namespace<
      AdminToServerEvents,
      ServerToAdminEvents
    >,
    engine,
    tokens,
    subsystem(log, 'admin'),
  );

  let closed = false;
  return {
    httpServer,
    io,
    engine,
    async listen() {
      const url = await new Promise<string>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          const host =
            config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
          resolve(`http://${host}:${port}`);
        });
      });
      // Tabs of a lost node move to the others at the URLs they announce; a wildcard address says
      // nothing another machine could use, so there only BROWSERGRID_PUBLIC_URL is announced.
      const wildcard = config.host === '0.0.0.0' || config.host === '::';
      const announced = config.publicUrl ?? (wildcard ? undefined : url);
      if (announced !== undefined) {
        await engine
          .announce(announced)
          .catch((error: unknown) =>
            log.warn(
              { err: error },
              '[app]: could not tell the other nodes where this one listens',
            ),
          );
      }
      return url;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopAdmin();
      engine.beginShutdown();
      // io.close() disconnects every socket and closes the HTTP server.
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
        httpServer.closeAllConnections();
      });
      tabActivity.close();
      await engine.close();
      await store.close();
    },
  };
}
