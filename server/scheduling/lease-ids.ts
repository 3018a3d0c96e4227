/**
 * @module Lease ids that prove who they were issued to. A lease id is a unique nonce and an HMAC of
 * (nonce, job, task, device) under the coordinator's secret, so a result naming a lease the
 * coordinator no longer tracks (dropped at a disconnect, or issued before a restart) can still be
 * checked: it commits only if that lease really was issued for that task to the browser (device)
 * that sends it. Without this, any tab could forge a result for any open task by inventing a
 * lease id. A lease id only ever goes to the tab it was issued to, so binding it to the device
 * rather than the tab costs nothing and lets a reopened tab deliver a closed one's results.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LeaseIds {
  issue(jobId: string, taskIndex: number, deviceId: string): string;
  /** Whether `leaseId` was issued for this task to this device (by a coordinator with this secret). */
  verify(leaseId: string, jobId: string, taskIndex: number, deviceId: string): boolean;
}

const MAC_BYTES = 16;

export function createLeaseIds(secret: Buffer | string): LeaseIds {
  const key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret) : secret);
  const mac = (nonce: string, jobId: string, taskIndex: number, deviceId: string): Buffer =>
    createHmac('sha256', key)
      .update(`${nonce}\n${jobId}\n${taskIndex}\n${deviceId}`)
      .digest()
      .subarray(0, MAC_BYTES);
  // Nonces need only be unique, not secret (the MAC is what cannot be forged): a random prefix per
  // process, so none repeats across restarts, and a counter, which costs far less than drawing
  // random bytes for each of tens of thousands of leases a second.
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return {
    issue(jobId, taskIndex, deviceId) {
      const nonce = `${prefix}${(counter++).toString(36)}`;
      return `${nonce}.${mac(nonce, jobId, taskIndex, deviceId).toString('base64url')}`;
    },
    verify(leaseId, jobId, taskIndex, deviceId) {
      const [nonce, given, extra] = leaseId.split('.');
      if (!nonce || !given || extra !== undefined) return false;
      // The re-encoded MAC is compared as text: decoding would ignore the low bits of the last
      // base64url character, so one lease id would verify under several spellings.
      const expected = Buffer.from(mac(nonce, jobId, taskIndex, deviceId).toString('base64url'));
      const presented = Buffer.from(given);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}

/** A random secret, for coordinators whose leases need not outlive the process (tests). */
export function ephemeralLeaseIds(): LeaseIds {
  return createLeaseIds(randomBytes(32));
}
