import { describe, expect, it } from 'vitest';
import { frameShapeIssue } from '../../server/realtime/frame-scan.ts';
import { manyObjectsText, nestedText } from '../support/hostile-json.ts';

const BOUNDS = { maxDepth: 10, maxContainers: 100 };

describe('frameShapeIssue', () => {
  it.each([
    ['an event nested within the bounds', `2["e",${nestedText(9, 'array')}]`],
    ['brackets inside strings', `2["e","${'['.repeat(1000)}"]`],
    ['escaped quotes inside strings', `2["e","\\"${'{'.repeat(1000)}"]`],
    ['an ack id and a namespace', `2/admin,12["e",${nestedText(8, 'object')}]`],
  ])('accepts %s', (_name, text) => {
    expect(frameShapeIssue(text, BOUNDS)).toBeUndefined();
  });

  it.each([
    ['deep arrays', `2["e",${nestedText(10, 'array')}]`, /deeper than 10/],
    ['deep objects', `21["e",${nestedText(200_000, 'object')}]`, /deeper than 10/],
    ['many containers', `2["e",${manyObjectsText(100)}]`, /more than 100 arrays and objects/],
    ['closers written first', `2${']'.repeat(50)}["e",${nestedText(20, 'array')}]`, /deeper/],
    [
      'brackets behind a quote in the namespace',
      `2/x",["e",${manyObjectsText(200)}]`,
      /more than 100/,
    ],
    [
      'a binary event with a quote in the namespace',
      `51-/"a,["e",${nestedText(20, 'array')}]`,
      /deeper/,
    ],
  ])('refuses %s', (_name, text, reason) => {
    expect(frameShapeIssue(text, BOUNDS)).toMatch(reason);
  });
});
