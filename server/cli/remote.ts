/**
 * @module The options every command that talks to a coordinator shares, and the SDK client they
 * open. Token: --token, else BROWSERGRID_ADMIN_TOKEN, else the file the coordinator saved in the
 * data dir.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { connect, type Client } from '../sdk/index.ts';

export interface RemoteOptions {
  url: string;
  token?: string;
  data: string;
}

/** Adds --url, --token and --data to `command`. */
export function remote(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'coordinator URL')
        .env('BROWSERGRID_URL')
        .default('http://localhost:8080'),
    )
    .addOption(new Option('--token <token>', 'admin token').env('BROWSERGRID_ADMIN_TOKEN'))
    .addOption(
      new Option('--data <dir>', 'data dir holding the saved admin token')
        .env('BROWSERGRID_DATA')
        .default('./data'),
    );
}

/** A followed job is polled this often: a terminal's progress bar needs no more. */
const FOLLOW_POLL_MS = 500;

export function clientOf(options: RemoteOptions): Client {
  return connect(options.url, { token: tokenOf(options) ?? '', pollMs: FOLLOW_POLL_MS });
}

function tokenOf(options: RemoteOptions): string | undefined {
  if (options.token) return options.token;
  const file = path.join(options.data, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** Commander's parser for integer options. */
export function toInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n)) throw new Error(`[cli]: expected an integer, got "${value}"`);
  return n;
}
