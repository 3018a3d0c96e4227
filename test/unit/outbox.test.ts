import { describe, expect, it } from 'vitest';
import { TabOutbox } from '../../server/engine/outbox.ts';
import { TabRegistry, type VolunteerLink } from '../../server/engine/tab-registry.ts';
import { createRootLog } from '../../server/log.ts';
import type { PlannedTask } from '../../server/scheduling/scheduler.ts';
import { inlineInputs } from '../../server/jobs/inline-inputs.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { InputSource } from '../../server/store/input-source.ts';

type Sent =
  | { type: 'assign'; leaseIds: string[]; inputs: JsonValue[][] }
  | { type: 'cancel'; leaseIds: string[] };

function setup() {
  const sent: Sent[] = [];
  const link: VolunteerLink = {
    assign: (batch) =>
      sent.push({
        type: 'assign',
        leaseIds: batch.tasks.map((task) => task.leaseId),
        inputs: batch.tasks.map((task) => task.inputs),
      }),
    cancel: (batch) => sent.push({ type: 'cancel', leaseIds: batch.leaseIds }),
    control: () => undefined,
    close: () => undefined,
  };
  const tabs = new TabRegistry();
  tabs.register(
    { volunteerId: 'v', deviceId: 'd', requestedSlots: 2, connectedAt: 0, lastSeen: 0 },
    link,
  );
  const outbox = new TabOutbox(tabs, createRootLog('silent'));
  return { sent, outbox };
}

/** A source whose reads wait until the test releases them, or fail. */
function gatedSource() {
  const waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const source: InputSource = {
    items: 100,
    itemBytes: 1,
    read: (span) =>
      new Promise<JsonValue[]>((resolve, reject) => {
        waiting.push({ resolve: () => resolve([span.start]), reject });
      }),
  };
  return { source, waiting };
}

function task(leaseId: string, source: InputSource, start = 0): PlannedTask {
  return { leaseId, jobId: 'j', taskIndex: start, span: { start, count: 1 }, source };
}

describe('tab outbox', () => {
  it('sends an assignment with its items read from the source', async () => {
    const { sent, outbox } = setup();
    outbox.assign('v', [], [task('L1', inlineInputs(['a', 'b', 'c']), 2)]);
    await outbox.flush();
    expect(sent).toEqual([{ type: 'assign', leaseIds: ['L1'], inputs: [['c']] }]);
  });

  it('holds a cancel behind an assignment still being read, so the tab never hears it first', async () => {
    const { sent, outbox } = setup();
    const { source, waiting } = gatedSource();
    outbox.assign('v', [], [task('L1', source)]);
    outbox.cancel('v', { leaseIds: ['L1'], reason: 'committed' });
    outbox.assign('v', [], [task('L2', inlineInputs([7]))]);
    await Promise.resolve();
    expect(sent).toEqual([]);
    waiting[0]?.resolve();
    await outbox.flush();
    expect(sent.map((message) => [message.type, message.leaseIds])).toEqual([
      ['assign', ['L1']],
      ['cancel', ['L1']],
      ['assign', ['L2']],
    ]);
  });

  it('sends a cancel at once when nothing is pending for the tab', () => {
    const { sent, outbox } = setup();
    outbox.cancel('v', { leaseIds: ['L9'], reason: 'paused' });
    expect(sent).toEqual([{ type: 'cancel', leaseIds: ['L9'] }]);
  });

  it('leaves out a task whose read failed and still sends the rest, in order', async () => {
    const { sent, outbox } = setup();
    const { source, waiting } = gatedSource();
    outbox.assign('v', [], [task('L1', source, 0), task('L2', source, 1)]);
    waiting[0]?.reject(new Error('connection lost'));
    waiting[1]?.resolve();
    await outbox.flush();
    expect(sent).toEqual([{ type: 'assign', leaseIds: ['L2'], inputs: [[1]] }]);
  });

  it('drops messages for a tab that has gone', async () => {
    const { sent, outbox } = setup();
    outbox.assign('gone', [], [task('L1', inlineInputs([1]))]);
    outbox.cancel('gone', { leaseIds: ['L1'], reason: 'expired' });
    await outbox.flush();
    expect(sent).toEqual([]);
  });
});

describe('tab outbox backpressure', () => {
  it('holds assignments while the gate is shut and sends them in order once it opens', async () => {
    const sent: string[] = [];
    const link: VolunteerLink = {
      assign: (batch) => sent.push(...batch.tasks.map((task) => task.leaseId)),
      cancel: () => undefined,
      control: () => undefined,
      close: () => undefined,
    };
    const tabs = new TabRegistry();
    tabs.register(
      { volunteerId: 'v', deviceId: 'd', requestedSlots: 2, connectedAt: 0, lastSeen: 0 },
      link,
    );
    let open!: () => void;
    let shut: Promise<void> | undefined = new Promise<void>((resolve) => (open = resolve));
    const outbox = new TabOutbox(tabs, createRootLog('silent'), () => shut);
    outbox.assign('v', [], [task('L1', inlineInputs([1]))]);
    outbox.assign('v', [], [task('L2', inlineInputs([2]))]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]);
    shut = undefined;
    open();
    await outbox.flush();
    expect(sent).toEqual(['L1', 'L2']);
  });
});
