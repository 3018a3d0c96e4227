/**
 * @module Lease ids that prove who they were issued to. A lease id is a nonce and an HMAC of
 * (nonce, job, task, tab) under the coordinator's secret, so a result naming a lease the
 * coordinator no longer tracks (dropped at a disconnect, or issued before a restart) can still be
 * checked: it commits only if that lease really was issued to the tab that sends it, for that
 * task. Without this, any tab could forge a result for any open task by inventing a lease id.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LeaseIds {
  issue(jobId: string, taskIndex: number, volunteerId: string): string;
  /** Whether `leaseId` was issued for this task to this tab (by a coordinator with this secret). */
  verify(leaseId: string, jobId: string, taskIndex: number, volunteerId: string): boolean;
}

const MAC_BYTES = 16;

export function createLeaseIds(secret: Buffer | string): LeaseIds {
  const mac = (nonce: string, jobId: string, taskIndex: number, volunteerId: string): Buffer =>
    createHmac('sha256', secret)
      .update(`${nonce}\n${jobId}\n${taskIndex}\n${volunteerId}`)
      .digest()
      .subarray(0, MAC_BYTES);
  return {
    issue(jobId, taskIndex, volunteerId) {
      const nonce = randomBytes(9).toString('base64url');
      return `${nonce}.${mac(nonce, jobId, taskIndex, volunteerId).toString('base64url')}`;
    },
    verify(leaseId, jobId, taskIndex, volunteerId) {
      const [nonce, given, extra] = leaseId.split('.');
      if (!nonce || !given || extra !== undefined) return false;
      const expected = mac(nonce, jobId, taskIndex, volunteerId);
      const presented = Buffer.from(given, 'base64url');
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}

/** A random secret, for coordinators whose leases need not outlive the process (tests). */
export function ephemeralLeaseIds(): LeaseIds {
  return createLeaseIds(randomBytes(32));
}
