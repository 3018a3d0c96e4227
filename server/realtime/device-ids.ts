/**
 * @module Device ids the coordinator issued. Redundancy, adaptive trust and bans all count
 * devices, so a device id a tab could choose (as the hello once allowed) let one browser pose as
 * many and outvote honest tabs, or claim a trusted device's id. An issued id is
 * `d-<nonce>.<mac>`, the MAC an HMAC of the nonce under a key derived from the lease secret, so
 * it proves itself without a table and survives restarts. A hello with any other id (an old tab,
 * or a forged one) is never refused: it is given a fresh issued id, which the tab keeps in
 * IndexedDB and sends from then on.
 *
 * Issuance is rate-limited per address key (a token bucket; IPv6 by /64). Past its allowance an
 * address's tabs each get an overflow id `o-<address tag>.<nonce>` (scheduling/voters.ts): per
 * connection, never verifying (so a tab that keeps it is simply issued another on its next
 * hello), earning no trust, and counted with every other overflow id of its address as one
 * voter and one device when copies are spread. A shared id per address, as before, let one
 * tab behind a school NAT have the students' tabs banned with it; an overflow id bans one
 * connection. Minting identities from one address stops at the allowance while its tabs keep
 * working. Jobs that need more than one address's word set `distinctAddresses` (shared/job.ts).
 */
import {
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { overflowId } from '../scheduling/voters.ts';

export interface DeviceIdLimits {
  /** Fresh ids one address may get at once, and per hour after that. */
  perAddressPerHour: number;
  /** Addresses remembered before idle ones (full buckets) are forgotten. */
  maxAddresses: number;
}

export const DEFAULT_DEVICE_ID_LIMITS: DeviceIdLimits = {
  perAddressPerHour: 64,
  maxAddresses: 10_000,
};

export interface DeviceIds {
  /** Whether a coordinator with this secret issued `deviceId`. */
  verify(deviceId: string): boolean;
  /** An id for a tab from `address` (an address key) that has no valid one (see the module comment). */
  issue(address: string, now: number): string;
}

const MAC_BYTES = 16;
const HOUR_MS = 60 * 60_000;

export function createDeviceIds(
  leaseSecret: Buffer,
  limits: DeviceIdLimits = DEFAULT_DEVICE_ID_LIMITS,
): DeviceIds {
  // Its own key, so a device id's MAC can never stand for a lease id's or the other way round.
  const key: KeyObject = createSecretKey(
    createHmac('sha256', leaseSecret).update('browsergrid device ids').digest(),
  );
  const mac = (text: string): Buffer =>
    createHmac('sha256', key).update(text).digest().subarray(0, MAC_BYTES);
  const sign = (nonce: string): string =>
    `d-${nonce}.${mac(`device\n${nonce}`).toString('base64url')}`;
  const buckets = new AddressBuckets(limits);
  return {
    verify(deviceId) {
      const match = /^d-([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})$/.exec(deviceId);
      if (!match) return false;
      // The whole string is compared, not the decoded MAC: base64url ignores the low bits of
      // the last character, so a decoded comparison let one id verify under 16 spellings.
      return sameText(deviceId, sign(match[1] as string));
    },
    issue(address, now) {
      if (buckets.take(address, now)) return sign(randomBytes(12).toString('base64url'));
      const tag = mac(`address\n${address}`).subarray(0, 12).toString('base64url');
      return overflowId(tag, randomBytes(9).toString('base64url'));
    },
  };
}

/** A token bucket per address, refilled continuously; O(1) per take, memory bounded. */
export class AddressBuckets {
  readonly #limits: DeviceIdLimits;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limits: DeviceIdLimits) {
    this.#limits = limits;
  }

  /** Takes one token for `address`; false when its allowance is spent. */
  take(address: string, now: number): boolean {
    const capacity = this.#limits.perAddressPerHour;
    const bucket = this.#buckets.get(address) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / HOUR_MS) * capacity);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    this.#buckets.set(address, bucket);
    if (this.#buckets.size > this.#limits.maxAddresses) this.#forgetIdle(now);
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Drops addresses whose bucket has refilled (forgetting them changes nothing), then, if still
   * near the bound, the oldest: down to 90 %, so a sweep runs once per tenth of the bound at most.
   */
  #forgetIdle(now: number): void {
    const capacity = this.#limits.perAddressPerHour;
    for (const [address, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / HOUR_MS) * capacity >= capacity)
        this.#buckets.delete(address);
    }
    const keep = Math.floor(this.#limits.maxAddresses * 0.9);
    for (const address of this.#buckets.keys()) {
      if (this.#buckets.size <= keep) break;
      this.#buckets.delete(address);
    }
  }
}

/** Constant-time equality of two strings (length is not secret). */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
