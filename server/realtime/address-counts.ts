/**
 * @module Open connections per address, counted as every per-address rule counts an address
 * (addressKey: an IPv6 /64 is one) and released when the connection closes, however it ends.
 */
import { addressKey } from './address-key.ts';

/** Anything that emits 'close' once when it ends: a net socket, an engine.io connection. */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

export class AddressCounts {
  readonly #counts = new Map<string, number>();

  /** Open connections counted for the key of `address`. */
  of(address: string): number {
    return this.#counts.get(addressKey(address)) ?? 0;
  }

  /** Counts `connection` for the key of `address` until it closes. */
  holdUntilClose(address: string, connection: Closable): void {
    const key = addressKey(address);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    connection.once('close', () => {
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    });
  }
}
