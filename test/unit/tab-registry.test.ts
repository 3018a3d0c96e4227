import { describe, expect, it } from 'vitest';
import { TabRegistry, type TabInfo, type VolunteerLink } from '../../server/engine/tab-registry.ts';

const MINUTE_MS = 60_000;

function link(): VolunteerLink {
  return {
    assign: () => undefined,
    cancel: () => undefined,
    control: () => undefined,
    close: () => undefined,
  };
}

function tab(volunteerId: string, grid?: string, requestedSlots = 2): TabInfo {
  return {
    volunteerId,
    deviceId: `d-${volunteerId}`,
    ...(grid !== undefined ? { grid } : {}),
    requestedSlots,
    connectedAt: 0,
    lastSeen: 0,
  };
}

const nothingDone = { tasksDone: 0, cpuMs: 0 };

describe('tab registry', () => {
  it('forgets a tab only through its own link, so a newer connection of the same tab stays', () => {
    const tabs = new TabRegistry();
    const old = link();
    const fresh = link();
    tabs.register(tab('t1'), old);
    tabs.register(tab('t1'), fresh);
    expect(tabs.unregister('t1', old, 1, nothingDone)).toBe(false);
    expect(tabs.link('t1')).toBe(fresh);
    expect(tabs.unregister('t1', fresh, 1, nothingDone)).toBe(true);
    expect(tabs.has('t1')).toBe(false);
  });

  it('gives a paused tab, or a tab of a paused grid, no slots, and a grid resume lifts both', () => {
    const tabs = new TabRegistry();
    tabs.register(tab('a', 'G1', 3), link());
    tabs.register(tab('b', 'G1', 2), link());
    tabs.register(tab('c', 'G2', 4), link());
    expect(tabs.setPaused({ grid: 'G1', volunteerId: 'a' }, true)).toEqual(['a']);
    expect([tabs.effectiveSlots('a'), tabs.effectiveSlots('b')]).toEqual([0, 2]);
    expect(tabs.setPaused({ grid: 'G1' }, true)?.sort()).toEqual(['a', 'b']);
    expect([tabs.effectiveSlots('b'), tabs.effectiveSlots('c')]).toEqual([0, 4]);
    tabs.setPaused({ grid: 'G1' }, false);
    expect([tabs.effectiveSlots('a'), tabs.effectiveSlots('b')]).toEqual([3, 2]);
  });

  it('refuses to pause a tab through a grid it is not in', () => {
    const tabs = new TabRegistry();
    tabs.register(tab('a', 'G1'), link());
    expect(tabs.setPaused({ grid: 'G2', volunteerId: 'a' }, true)).toBeUndefined();
    expect(tabs.isPaused('a')).toBe(false);
  });

  it('keeps a pause across a reload, and forgets it with a tab gone for good', () => {
    const tabs = new TabRegistry();
    const first = link();
    tabs.register(tab('a', 'G1'), first);
    tabs.setPaused({ grid: 'G1', volunteerId: 'a' }, true);
    tabs.unregister('a', first, 0, nothingDone);
    tabs.register(tab('a', 'G1'), link());
    expect(tabs.isPaused('a')).toBe(true);

    const again = link();
    tabs.register(tab('b', 'G1'), again);
    tabs.setPaused({ grid: 'G1', volunteerId: 'b' }, true);
    tabs.unregister('b', again, 0, nothingDone);
    expect(tabs.departedFrom('G1', 5 * MINUTE_MS).map((info) => info.volunteerId)).toEqual(['b']);
    expect(tabs.departedFrom('G1', 11 * MINUTE_MS)).toEqual([]);
    tabs.register(tab('b', 'G1'), link());
    expect(tabs.isPaused('b')).toBe(false);
  });

  it("lists a departed tab on its grid's roster with what it contributed", () => {
    const tabs = new TabRegistry();
    const l = link();
    tabs.register(tab('a', 'G1'), l);
    tabs.unregister('a', l, 30_000, { tasksDone: 7, cpuMs: 900 });
    expect(tabs.departedFrom('G1', 30_000)).toEqual([
      expect.objectContaining({ volunteerId: 'a', lastSeen: 30_000, tasksDone: 7, cpuMs: 900 }),
    ]);
    expect(tabs.inGrid('G1')).toEqual([]);
  });
});
