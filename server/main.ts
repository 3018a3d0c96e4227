/**
 * @module `browsergrid start`: the one place that listens. Builds the pages if they are not
 * built, starts the coordinator on PORT, prints the admin token once, stops cleanly on SIGTERM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createCoordinator } from './app.ts';
import { resolveAdminToken } from './auth.ts';
import { loadConfig, PACKAGE_ROOT, type Config } from './config.ts';
import { CoordinatorError } from './errors.ts';
import { createRootLog, type Log } from './log.ts';
import { describePgTarget } from './store/pg-connect.ts';

export async function ensurePagesBuilt(config: Config, log: Log): Promise<void> {
  if (existsSync(path.join(config.staticDir, 'volunteer', 'index.html'))) return;
  const configFile = path.join(PACKAGE_ROOT, 'vite.config.ts');
  // The packed package ships its pages built, and neither the page sources nor vite.
  if (!existsSync(configFile)) {
    throw new Error(
      `[main]: no pages in ${config.staticDir}, and this installed package cannot build them; unset BROWSERGRID_STATIC_DIR to serve the pages it ships`,
    );
  }
  log.info(
    { staticDir: config.staticDir },
    '[main]: pages not built yet; building them (vite build)',
  );
  const { build } = await import('vite');
  await build({
    configFile,
    logLevel: 'warn',
    build: { outDir: config.staticDir, emptyOutDir: true },
  });
}

export async function startCoordinator(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const log = createRootLog(config.logLevel, config.logFormat);
  await ensurePagesBuilt(config, log);
  const admin = resolveAdminToken(config.dataDir, config.adminToken);
  const coordinator = await createCoordinator({
    config,
    adminToken: admin.token,
    log,
    // Memory is ahead of the store after a failed write, or this node was declared dead: a
    // restart rebuilds it from the store as a new node, and the tabs resend what was not
    // acknowledged.
    onFatal: (error) => {
      const fenced = error instanceof CoordinatorError && error.code === 'fenced';
      log.fatal(
        { err: error },
        fenced
          ? '[main]: the other nodes declared this node dead; stopping so nothing stale commits (a restart rejoins as a new node)'
          : '[main]: store write failed; stopping so a restart rebuilds state',
      );
      process.exit(1);
    },
  });
  const url = await coordinator.listen();
  // Before the line that says it listens: whoever waits for that line may stop it at once.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, '[main]: stopping');
    coordinator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, '[main]: unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  log.info(
    {
      url,
      dataDir: path.resolve(config.dataDir),
      ...(config.databaseUrl ? { database: describePgTarget(config.databaseUrl) } : {}),
    },
    '[main]: coordinator listening',
  );
  if (admin.generated) {
    // Printed once, on the start that created it; afterwards it is read from the file.
    process.stdout.write(
      `\n  Admin token (saved in ${admin.file}):\n\n    ${admin.token}\n\n` +
        `  Volunteer page: ${url}/\n  Admin page:     ${url}/admin\n\n`,
    );
  }
}
