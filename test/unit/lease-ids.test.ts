import { describe, expect, it } from 'vitest';
import { createLeaseIds } from '../../server/scheduling/lease-ids.ts';

describe('lease ids', () => {
  const ids = createLeaseIds('a secret of the coordinator');
  const leaseId = ids.issue('job-1', 7, 'device-a');

  it('verifies for the job, task and tab it was issued to', () => {
    expect(ids.verify(leaseId, 'job-1', 7, 'device-a')).toBe(true);
    expect(
      createLeaseIds('a secret of the coordinator').verify(leaseId, 'job-1', 7, 'device-a'),
    ).toBe(true);
  });

  it.each([
    ['another device', 'job-1', 7, 'device-b'],
    ['another task', 'job-1', 8, 'device-a'],
    ['another job', 'job-2', 7, 'device-a'],
  ])('refuses %s', (_what, jobId, taskIndex, deviceId) => {
    expect(ids.verify(leaseId, jobId as string, taskIndex as number, deviceId as string)).toBe(
      false,
    );
  });

  it('verifies a lease id under exactly the spelling it was issued with', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let n = 0; n < 8; n++) {
      const issued = ids.issue('job-1', n, 'device-a');
      const spellings = [...alphabet]
        .map((c) => issued.slice(0, -1) + c)
        .filter((id) => ids.verify(id, 'job-1', n, 'device-a'));
      expect(spellings).toEqual([issued]);
    }
  });

  it('refuses forged, tampered and malformed ids, and other secrets', () => {
    const [nonce, mac] = leaseId.split('.');
    expect(ids.verify(`${nonce}.${'A'.repeat(mac?.length ?? 22)}`, 'job-1', 7, 'device-a')).toBe(
      false,
    );
    expect(ids.verify(`x${nonce}.${mac}`, 'job-1', 7, 'device-a')).toBe(false);
    for (const bad of ['', 'nodot', 'a.b.c', '.', `${nonce}.`])
      expect(ids.verify(bad, 'job-1', 7, 'device-a')).toBe(false);
    expect(createLeaseIds('another secret').verify(leaseId, 'job-1', 7, 'device-a')).toBe(false);
  });

  it('issues a fresh id each time', () => {
    expect(ids.issue('job-1', 7, 'device-a')).not.toBe(leaseId);
  });
});
