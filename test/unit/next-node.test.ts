import { describe, expect, it } from 'vitest';
import { nextNode } from '../../shared/protocol.ts';

describe('the node a tab moves to', () => {
  it('is the next one listed after its own, round the list', () => {
    expect(nextNode(['a', 'b', 'c'], 'a')).toBe('b');
    expect(nextNode(['a', 'b', 'c'], 'c')).toBe('a');
  });

  it('is the first other one when its own is not listed (it was lost)', () => {
    expect(nextNode(['b', 'c'], 'a')).toBe('b');
  });

  it('is none when no other node is listed', () => {
    expect(nextNode([], 'a')).toBeUndefined();
    expect(nextNode(['a'], 'a')).toBeUndefined();
    expect(nextNode(['a', 'a'], 'a')).toBeUndefined();
  });
});
