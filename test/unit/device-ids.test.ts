import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AddressBuckets, createDeviceIds } from '../../server/realtime/device-ids.ts';
import { createLeaseIds } from '../../server/scheduling/lease-ids.ts';
import { isOverflowId, voterOf } from '../../server/scheduling/voters.ts';
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

  it('past an address allowance gives each tab its own unverifiable id, one voter per address, and refills over time', () => {
    const ids = createDeviceIds(secret, limits);
    const clock = new FakeClock();
    const fresh = [1, 2, 3].map(() => ids.issue('10.0.0.1', clock.now()));
    expect(new Set(fresh).size).toBe(3);
    const over = [1, 2, 3].map(() => ids.issue('10.0.0.1', clock.now()));
    expect(new Set(over).size).toBe(3);
    for (const id of over) {
      expect(id).toMatch(/^o-/);
      expect(DeviceId.safeParse(id).success).toBe(true);
      // Not storable: presented again, it is replaced.
      expect(ids.verify(id)).toBe(false);
      expect(isOverflowId(id)).toBe(true);
    }
    expect(new Set(over.map(voterOf)).size).toBe(1);
    for (const id of fresh) expect(voterOf(id)).toBe(id);
    // Other addresses are not affected; their overflow ids are another voter.
    expect(ids.issue('10.0.0.2', clock.now())).toMatch(/^d-/);
    const elsewhere = createDeviceIds(secret, { ...limits, perAddressPerHour: 0 }).issue(
      '10.0.0.2',
      clock.now(),
    );
    expect(voterOf(elsewhere)).not.toBe(voterOf(over[0] as string));
    // Twenty minutes refill one token (3 an hour).
    clock.advance(20 * 60_000);
    expect(ids.issue('10.0.0.1', clock.now())).toMatch(/^d-/);
    expect(ids.issue('10.0.0.1', clock.now())).toMatch(/^o-/);
  });

  it('remembers a bounded number of addresses', () => {
    const buckets = new AddressBuckets({ perAddressPerHour: 2, maxAddresses: 50 });
    for (let i = 0; i < 10_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`, i);
    expect(buckets.size).toBeLessThanOrEqual(50);
  });
});
