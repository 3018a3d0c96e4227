import { describe, expect, it } from 'vitest';
import { DeviceTrust } from '../../server/scheduling/trust.ts';
import { addStanding, standingsByDevice, type StandingDelta } from '../../server/store/standing.ts';

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
      { deviceId: 'd', streak: 0, trusted: false, disagreements: 2, banned: false, resets: 2 },
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

  it('learns a stored standing where it is newer: more resets, or a longer run of the same one', () => {
    const trust = new DeviceTrust(policy);
    const standing = () => trust.view().find((device) => device.deviceId === 'd');
    trust.agreed('d');
    // Other nodes saw more of the same run: the longer count holds.
    trust.learn('d', { streak: 4, disagreements: 0, resets: 0 });
    expect(standing()).toMatchObject({ streak: 4, trusted: true });
    // A shorter count of the same run (this node's verdicts not yet written) changes nothing.
    trust.learn('d', { streak: 2, disagreements: 0, resets: 0 });
    expect(standing()).toMatchObject({ streak: 4, trusted: true });
    // Another node caught it: the stored run is newer, however short.
    trust.learn('d', { streak: 1, disagreements: 1, resets: 1 });
    expect(standing()).toMatchObject({ streak: 1, disagreements: 1, resets: 1, trusted: false });
    // A disagreement here not yet written outranks an older stored run, however long.
    trust.disagreed('d');
    trust.learn('d', { streak: 9, disagreements: 1, resets: 1 });
    expect(standing()).toMatchObject({ streak: 0, disagreements: 2, resets: 2 });
  });

  it("ends a known device's streak when another node caught it, and knows nothing of others", () => {
    const trust = new DeviceTrust(policy);
    for (let i = 0; i < 3; i++) trust.agreed('d');
    expect(trust.endStreak('d')).toBe(true);
    expect(trust.isTrusted('d')).toBe(false);
    expect(trust.endStreak('stranger')).toBe(false);
    expect(trust.view().map((device) => device.deviceId)).toEqual(['d']);
  });
});

describe('standing deltas', () => {
  const verdicts: StandingDelta[] = [
    { agreed: 1, disagreed: 0 },
    { agreed: 0, disagreed: 1 },
  ];

  /** The stored row after applying `delta` to `streak`. */
  const applied = (streak: number, delta: StandingDelta) =>
    delta.disagreed > 0 ? delta.agreed : streak + delta.agreed;

  it('compose into one delta that moves a row as the verdicts one by one would', () => {
    // Every sequence of up to 8 verdicts, from a row with a streak of 5.
    for (let length = 1; length <= 8; length++) {
      for (let bits = 0; bits < 2 ** length; bits++) {
        const sequence = Array.from(
          { length },
          (_, i) => verdicts[(bits >> i) & 1] as StandingDelta,
        );
        const oneByOne = sequence.reduce((streak, verdict) => applied(streak, verdict), 5);
        const folded = sequence.reduce(addStanding);
        expect(applied(5, folded)).toBe(oneByOne);
        expect(folded.disagreed).toBe(sequence.filter((verdict) => verdict.disagreed).length);
      }
    }
  });

  it('fold a batch into one change per device, in device order, the latest time kept', () => {
    const change = (deviceId: string, agreed: number, disagreed: number, at: number) =>
      ({ type: 'standing', deviceId, agreed, disagreed, at }) as const;
    expect(
      standingsByDevice([change('b', 2, 0, 5), change('a', 1, 0, 9), change('b', 1, 1, 7)]),
    ).toEqual([change('a', 1, 0, 9), change('b', 1, 1, 7)]);
  });
});
