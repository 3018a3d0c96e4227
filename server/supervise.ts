/**
 * @module `browsergrid start --supervise`: runs the coordinator in a child process and starts it
 * again whenever it exits unasked (a failed store write, an uncaught error, a kill), for hosts
 * without systemd. A restart rebuilds every job from the store; tabs reconnect by themselves.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Log } from './log.ts';

// The same CLI this process runs: a checkout's bin.mjs (TypeScript through tsx), or the packed
// package's built cli.js.
const BIN = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './bin.mjs' : './cli.js', import.meta.url),
);

export interface SuperviseOptions {
  /** First wait before a restart; doubled after each exit that came sooner than `stableMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A coordinator up at least this long restarts after `minBackoffMs` again. */
  stableMs?: number;
}

/** Resolves with the exit code for the supervisor once SIGTERM or SIGINT has stopped the child. */
export function supervise(log: Log, options: SuperviseOptions = {}): Promise<number> {
  const minBackoffMs = options.minBackoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const stableMs = options.stableMs ?? 60_000;
  let backoffMs = minBackoffMs;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let child: ReturnType<typeof spawn> | undefined;

  return new Promise((resolve) => {
    const run = (): void => {
      restartTimer = undefined;
      const startedAt = performance.now();
      // In its own process group, so a terminal's Ctrl-C reaches only the supervisor, which
      // passes it on once: a second SIGINT would kill the coordinator mid-close.
      const running = spawn(process.execPath, [BIN, 'start'], { stdio: 'inherit', detached: true });
      child = running;
      log.info({ childPid: running.pid }, '[supervise]: coordinator started');
      running.once('exit', (code, signal) => {
        child = undefined;
        if (stopping) {
          resolve(code ?? 0);
          return;
        }
        const waitMs = performance.now() - startedAt >= stableMs ? minBackoffMs : backoffMs;
        backoffMs = Math.min(maxBackoffMs, waitMs * 2);
        log.error(
          { code, signal, restartInMs: waitMs },
          '[supervise]: coordinator exited unasked; restarting it',
        );
        restartTimer = setTimeout(run, waitMs);
      });
    };
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, '[supervise]: stopping the coordinator');
      if (restartTimer) {
        clearTimeout(restartTimer);
        resolve(0);
      } else child?.kill(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    run();
  });
}
