/**
 * @module Hostile socket.io packets, as the text a page visitor can put on the wire (an engine.io
 * message's payload): deep and wide values, prototype keys, forged leases, garbage. Each is a
 * function, so a large one is built only when it is sent.
 */

/** Event packet for the default namespace, with an ack id so the coordinator answers. */
const event = (name: string, payload: string): string => `21[${JSON.stringify(name)},${payload}]`;

const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const result = (output: string): string =>
  `{"results":[{"leaseId":"forged.lease","jobId":"forged-job","taskIndex":0,"durationMs":1,"outcome":{"status":"ok","items":[{"output":${output}}]}}]}`;

const checkpoint = (state: string): string =>
  `{"leaseId":"forged.lease","jobId":"forged-job","taskIndex":0,"checkpoint":{"item":0,"state":${state},"done":[]}}`;

export const HOSTILE_FRAMES: ReadonlyArray<() => string> = [
  () => event('task:results', result(deep(200_000))),
  () => event('task:checkpoint', checkpoint(deep(100_000))),
  () => event('task:checkpoint', checkpoint(`[${Array(500_000).fill('{}').join(',')}]`)),
  () => event('task:results', result(`{"k":"${'x'.repeat(4_000_000)}"}`)),
  () => event('task:results', result(`{"${'k'.repeat(1_000_000)}":1}`)),
  () =>
    event('task:results', result('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}')),
  () => event('volunteer:capacity', '{"__proto__":{"slots":64}}'),
  () =>
    event(
      'volunteer:hello',
      '{"protocolVersion":1,"deviceId":"x","tabId":"x","slots":1,"grid":"NOPE99"}',
    ),
  () => event('task:release', `{"leaseIds":${JSON.stringify(Array(5_000).fill('forged.lease'))}}`),
  () =>
    event(
      'task:progress',
      `{"updates":[{"leaseId":"forged.lease","elapsedMs":${deepObject(50_000)}}]}`,
    ),
  () => event('no:such:event', '{}'),
  () => '21["task:results",',
  () => '2{not json',
  () => `21${deep(100_000)}`,
  () => '51-["task:results",{"_placeholder":true,"num":0}]',
];
