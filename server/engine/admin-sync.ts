/**
 * @module What an admin changes through one node that every node must follow: grid and tab
 * pauses, bans and admin tokens. The node where it happened writes the store and tells the others
 * (an 'admin-changed' event); each of them re-reads that part of the store and applies it to its
 * own tabs and requests.
 */
import type { Log } from '../log.ts';
import type { AdminChange } from './cluster-feed.ts';
import type { Devices } from './devices.ts';
import type { Grids } from './grids.ts';

export interface AdminSyncDeps {
  grids: Grids;
  devices: Devices;
  log: Log;
  /** Tells the other nodes. */
  tell(what: AdminChange): void;
}

export class AdminSync {
  readonly #deps: AdminSyncDeps;
  readonly #tokenListeners = new Set<() => void>();

  constructor(deps: AdminSyncDeps) {
    this.#deps = deps;
  }

  /** Another node changed `what` (or, after a lost connection, may have): follow the store. */
  changed(what: AdminChange): void {
    const failed = (error: unknown): void =>
      this.#deps.log.warn(
        { err: error, what },
        '[cluster]: could not read what another node changed',
      );
    if (what === 'pause') void this.#deps.grids.sync().catch(failed);
    else if (what === 'ban') void this.#deps.devices.sync().catch(failed);
    else for (const listener of this.#tokenListeners) listener();
  }

  /** Admin tokens were created or revoked here: the other nodes reload theirs. */
  tokensChanged(): void {
    this.#deps.tell('token');
  }

  /** Calls `listener` when another node changed admin tokens. Returns the unsubscribe. */
  onTokensChanged(listener: () => void): () => void {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }
}
