import { describe, expect, it } from 'vitest';
import { inlineInputs } from '../../server/jobs/inline-inputs.ts';
import { countTasks, taskSpan } from '../../server/scheduling/sharder.ts';
import { rangeLength, uploadFormatOf } from '../../shared/job.ts';

describe('sharder', () => {
  it.each([
    { items: 0, chunkSize: 1, tasks: 0 },
    { items: 1, chunkSize: 1, tasks: 1 },
    { items: 10, chunkSize: 3, tasks: 4 },
    { items: 2000, chunkSize: 1, tasks: 2000 },
    { items: 2000, chunkSize: 7, tasks: 286 },
  ])(
    'cuts $items items in chunks of $chunkSize into $tasks tasks',
    ({ items, chunkSize, tasks }) => {
      expect(countTasks(items, chunkSize)).toBe(tasks);
      let covered = 0;
      for (let i = 0; i < tasks; i++) {
        const span = taskSpan(items, chunkSize, i);
        expect(span.start).toBe(covered);
        expect(span.count).toBeGreaterThan(0);
        covered += span.count;
      }
      expect(covered).toBe(items);
    },
  );

  it('slices array inputs by span', () => {
    const inputs = ['a', 'b', 'c', 'd', 'e'];
    const source = inlineInputs(inputs);
    expect(source.items).toBe(5);
    expect(source.slice(taskSpan(5, 2, 2))).toEqual(['e']);
    expect(source.slice(taskSpan(5, 2, 1))).toEqual(['c', 'd']);
  });

  it('leaves uploads to the store', () => {
    expect(() => inlineInputs({ upload: `u-${'0'.repeat(36)}` })).toThrow(/from the store/);
  });

  it.each([
    { range: { start: 0, end: 5, step: 1 }, values: [0, 1, 2, 3, 4] },
    { range: { start: 10, end: 0, step: -3 }, values: [10, 7, 4, 1] },
    { range: { start: 1, end: 10, step: 4 }, values: [1, 5, 9] },
    { range: { start: 5, end: 5, step: 1 }, values: [] },
    { range: { start: 5, end: 0, step: 1 }, values: [] },
  ])('expands range $range lazily', ({ range, values }) => {
    expect(rangeLength(range)).toBe(values.length);
    const source = inlineInputs({ range });
    expect(source.items).toBe(values.length);
    expect(source.slice({ start: 0, count: values.length })).toEqual(values);
    if (values.length > 1) expect(source.slice({ start: 1, count: 1 })).toEqual([values[1]]);
  });
});

describe('uploadFormatOf', () => {
  it.each([
    [{ name: 'rooms.CSV' }, 'csv'],
    [{ name: '/data/items.jsonl' }, 'ndjson'],
    [{ name: 'items.ndjson', type: 'text/csv' }, 'ndjson'],
    [{ name: 'export.txt', type: 'text/csv' }, 'csv'],
    [{ type: 'application/x-ndjson; charset=utf-8' }, 'ndjson'],
    [{ name: 'items.json' }, undefined],
    [{ type: 'text/plain' }, undefined],
  ])('%o is %s', (file, format) => {
    expect(uploadFormatOf(file)).toBe(format);
  });
});
