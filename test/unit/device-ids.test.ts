import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AddressBuckets, createDeviceIds } from '../../server/realtime/device-ids.ts';
import { createLeaseIds } from '../../server/scheduling/lease-ids.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { DeviceId } from '../../shared/protocol.ts';

const secret = randomBytes(32);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const limits = { perAddressPerHour: 3, maxAddresses: 100 };

describe('issued device ids', () => {
  it('issues ids that verify, fit the hello schema and start with d-', () => {
    const ids = createDeviceIds(secret, limits);
    const clock = new FakeClock();
    const id = ids.issue('10.0.0.1', clock.now());
    expect(id).toMatch(/^d-/);
    expect(DeviceId.safeParse(id).success).toBe(true);
    expect(ids.verify(id)).toBe(true);
    // Another coordinator instance with the same secret (a restart) still accepts it.
    expect(createDeviceIds(secret, limits).verify(id)).toBe(true);
  });

  it.each([
    ['an unsigned random id', () => 'd-0b5c3a8e-1c1f-4c55-9b57-5d2f6d1f2a10'],
    ['a name', () => 'A'],
    ['a tampered mac', (id: string) => `${id.slice(0, -2)}${id.endsWith('AA') ? 'BB' : 'AA'}`],
    ['a tampered nonce', (id: string) => id.replace(/^d-./, (m) => (m === 'd-x' ? 'd-y' : 'd-x'))],
    ["another secret's id", () => createDeviceIds(randomBytes(32), limits).issue('x', 0)],
    ['a lease id', () => createLeaseIds(secret).issue('j', 0, 'd')],
    ['an id with a third part', (id: string) => `${id}.x`],
    ['__proto__', () => '__proto__'],
  ])('refuses %s', (_what, make) => {
    const ids = createDeviceIds(secret, limits);
    const forged = make(ids.issue('10.0.0.1', 0));
    expect(ids.verify(forged)).toBe(false);
  });

  it('verifies an issued id under exactly the spelling it was issued with', () => {
    const ids = createDeviceIds(secret, limits);
    for (let n = 0; n < 8; n++) {
      const issued = ids.issue(`10.0.0.${n}`, 0);
      const spellings = [...BASE64URL].map((c) => issued.slice(0, -1) + c).filter(ids.verify);
      expect(spellings).toEqual([issued]);
    }
  });

  it('gives one address a few fresh ids, then that address one shared id, and refills over time', () => {
    const ids = createDeviceIds(secret, limits);
    const clock = new FakeClock();
    const fresh = [1, 2, 3].map(() => ids.issue('10.0.0.1', clock.now()));
    expect(new Set(fresh).size).toBe(3);
    const over = [1, 2, 3].map(() => ids.issue('10.0.0.1', clock.now()));
    expect(new Set(over).size).toBe(1);
    expect(fresh).not.toContain(over[0]);
    expect(ids.verify(over[0] as string)).toBe(true);
    // Other addresses are not affected; an hour later the first gets fresh ids again.
    expect(ids.issue('10.0.0.2', clock.now())).not.toBe(over[0]);
    expect(ids.issue('10.0.0.2', clock.now())).not.toBe(ids.issue('10.0.0.3', clock.now()));
    clock.advance(20 * 60_000);
    expect(ids.issue('10.0.0.1', clock.now())).not.toBe(over[0]);
    expect(ids.issue('10.0.0.1', clock.now())).toBe(over[0]);
  });

  it('remembers a bounded number of addresses', () => {
    const buckets = new AddressBuckets({ perAddressPerHour: 2, maxAddresses: 50 });
    for (let i = 0; i < 10_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`, i);
    expect(buckets.size).toBeLessThanOrEqual(50);
  });
});
