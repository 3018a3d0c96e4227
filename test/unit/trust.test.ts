import { describe, expect, it } from 'vitest';
import { DeviceTrust } from '../../server/scheduling/trust.ts';

describe('DeviceTrust', () => {
  const policy = { streakToTrust: 3, spotCheckRate: 0.25 };

  it('trusts a device after a run of agreed results, and a disagreement ends it', () => {
    const trust = new DeviceTrust(policy);
    trust.agreed('d');
    trust.agreed('d');
    expect(trust.isTrusted('d')).toBe(false);
    trust.agreed('d');
    expect(trust.isTrusted('d')).toBe(true);
    expect(trust.disagreed('d')).toBe(true);
    expect(trust.isTrusted('d')).toBe(false);
    expect(trust.disagreed('d')).toBe(false);
    expect(trust.view()).toEqual([
      { deviceId: 'd', streak: 0, trusted: false, disagreements: 2, banned: false },
    ]);
  });

  it.each([
    ['an untrusted device always needs full redundancy', 0, 0.9, 3],
    ['a trusted device needs one result', 3, 0.9, 1],
    ['unless the task is spot-checked', 3, 0.1, 3],
  ])('%s', (_name, agreed, roll, quorum) => {
    const trust = new DeviceTrust(policy);
    for (let i = 0; i < agreed; i++) trust.agreed('d');
    expect(trust.quorumFor('d', 3, () => roll)).toBe(quorum);
  });

  it('a banned device is never trusted until unbanned, and must earn it again', () => {
    const trust = new DeviceTrust(policy);
    for (let i = 0; i < 5; i++) trust.agreed('d');
    trust.ban('d');
    expect(trust.isBanned('d')).toBe(true);
    expect(trust.isTrusted('d')).toBe(false);
    expect(trust.unban('d')).toBe(true);
    expect(trust.unban('d')).toBe(false);
    expect(trust.isTrusted('d')).toBe(false);
  });
});
