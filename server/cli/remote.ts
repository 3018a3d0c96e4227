/**
 * @module The options every command that talks to a coordinator shares, and the SDK client they
 * open. Coordinator: --url, else BROWSERGRID_URL, else http://localhost:8080. Token: --token,
 * else BROWSERGRID_ADMIN_TOKEN, else the file the coordinator saved in the data dir.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { connect, type Client } from '../sdk/index.ts';
import { noteCallContext } from './errors.ts';

export interface RemoteOptions {
  url: string;
  token?: string;
  data: string;
}

export const DEFAULT_URL = 'http://localhost:8080';

/** The coordinator URL option, shared with `worker`, which needs no token. */
export function urlOption(): Option {
  return new Option('--url <url>', 'coordinator URL')
    .env('BROWSERGRID_URL')
    .default(DEFAULT_URL)
    .argParser(coordinatorUrl);
}

/** Commander's parser for --url (and BROWSERGRID_URL): an http(s) URL, named in its own error. */
function coordinatorUrl(value: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(
      `[cli]: --url must be an http(s) URL such as ${DEFAULT_URL}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Adds --url, --token and --data to `command`. */
export function remote(command: Command): Command {
  return command
    .addOption(urlOption())
    .addOption(new Option('--token <token>', 'admin token').env('BROWSERGRID_ADMIN_TOKEN'))
    .addOption(
      new Option('--data <dir>', 'data dir holding the saved admin token')
        .env('BROWSERGRID_DATA')
        .default('./data'),
    );
}

/** A followed job is polled this often: a terminal's progress bar needs no more. */
const FOLLOW_POLL_MS = 500;

/** A followed job waits this long for a coordinator that went away (a restart, an upgrade). */
const FOLLOW_RECONNECT_MS = 600_000;

export function clientOf(options: RemoteOptions): Client {
  const { token, tokenFrom } = tokenOf(options);
  noteCallContext({ url: options.url, tokenFrom });
  return connect(options.url, { token, pollMs: FOLLOW_POLL_MS, reconnectMs: FOLLOW_RECONNECT_MS });
}

/** The token and where it was found; none found is an error that lists where it looked. */
function tokenOf(options: RemoteOptions): { token: string; tokenFrom: string } {
  if (options.token) {
    const fromEnv = process.env['BROWSERGRID_ADMIN_TOKEN'] === options.token;
    return { token: options.token, tokenFrom: fromEnv ? 'BROWSERGRID_ADMIN_TOKEN' : '--token' };
  }
  const file = path.resolve(options.data, 'admin-token');
  const token = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (token) return { token, tokenFrom: file };
  throw new Error(
    `[cli]: no admin token found; looked in --token, BROWSERGRID_ADMIN_TOKEN and ${file} (give --token, or --data <the coordinator's data dir>)`,
  );
}

/**
 * Commander's parser for a whole-number option, named in its own error:
 * `--chunk-size must be a whole number, got "abc"`.
 */
export function wholeNumber(flag: string, min?: number): (value: string) => number {
  return (value) => {
    const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new Error(`[cli]: ${flag} must be a whole number, got ${JSON.stringify(value)}`);
    }
    if (min !== undefined && n < min) {
      throw new Error(`[cli]: ${flag} must be at least ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}
