/**
 * Hostile JSON shapes over REST: deep, wide and huge values in `POST /api/jobs` get a 400 naming
 * the field (never a 500), in an NDJSON upload a 400 naming the line, and `__proto__` keys
 * travel as data from the body or the upload to the tab's task inputs and back out of the
 * results download.
 */
import { describe, expect, it } from 'vitest';
import type { UploadSummary } from '../../shared/job.ts';
import {
  MAX_JSON_DEPTH,
  MAX_JSON_KEY_CHARS,
  MAX_JSON_NODES,
  MAX_JSON_STRING_CHARS,
} from '../../shared/limits.ts';
import { useHarness } from '../support/harness.ts';
import { manyObjectsText, nestedText } from '../support/hostile-json.ts';
import { api, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const { coordinator, volunteer } = useHarness();

type ErrorBody = { error: { code: string; message: string; field?: string } };

/** A job body with `inputsText` spliced in as JSON text (JSON.stringify cannot write some). */
function jobText(inputsText: string, extra = ''): string {
  return `{"map":"(x) => x","inputs":${inputsText}${extra}}`;
}

async function upload(server: TestCoordinator, ndjson: string) {
  return api<UploadSummary & ErrorBody>(server, 'POST', '/api/uploads', ndjson, {
    'Content-Type': 'application/x-ndjson',
  });
}

/** `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"n":i}` */
function protoItemText(n: number): string {
  return `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"n":${n}}`;
}

describe('POST /api/jobs with hostile shapes', () => {
  it.each([
    [
      'inputs nested 200,000 deep',
      jobText(`[1,${nestedText(200_000, 'array')}]`),
      'inputs.1',
      'MAX_JSON_DEPTH',
    ],
    [
      'inputs of 200,000 nested objects',
      jobText(`[${nestedText(200_000, 'object')}]`),
      'inputs.0',
      'MAX_JSON_DEPTH',
    ],
    [
      'an input one level too deep',
      jobText(`[${nestedText(MAX_JSON_DEPTH + 1, 'array')}]`),
      'inputs.0',
      'MAX_JSON_DEPTH',
    ],
    [
      'a reduce initial nested 200,000 deep',
      jobText('[1]', `,"reduce":{"fn":"(a) => a","initial":${nestedText(200_000, 'array')}}`),
      'reduce.initial',
      'MAX_JSON_DEPTH',
    ],
    [
      'an input of more than MAX_JSON_NODES values',
      jobText(`[${manyObjectsText(MAX_JSON_NODES)}]`),
      'inputs.0',
      'MAX_JSON_NODES',
    ],
    [
      'an input string over MAX_JSON_STRING_CHARS',
      jobText(JSON.stringify(['x'.repeat(MAX_JSON_STRING_CHARS + 1)])),
      'inputs.0',
      'MAX_JSON_STRING_CHARS',
    ],
    [
      'an input key over MAX_JSON_KEY_CHARS',
      jobText(`[{"${'k'.repeat(MAX_JSON_KEY_CHARS + 1)}":1}]`),
      'inputs.0',
      'MAX_JSON_KEY_CHARS',
    ],
  ])(
    'answers %s with a 400 naming the field',
    async (_name, body, field, limit) => {
      const server = await coordinator();
      const res = await api<ErrorBody>(server, 'POST', '/api/jobs', body);
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
      expect(res.body.error.field?.startsWith(field), res.body.error.field).toBe(true);
      expect(res.body.error.message).toContain(limit);
      expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);
    },
    30_000,
  );

  it('keeps __proto__, constructor and prototype keys from the body to the tab and the results download', async () => {
    const server = await coordinator();
    const res = await api<{ id: string }>(
      server,
      'POST',
      '/api/jobs',
      jobText(`[${protoItemText(0)},${protoItemText(1)}]`),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const tab = await volunteer(server, { slots: 2 });
    expect(await waitForJob(server, res.body.id)).toMatchObject({ status: 'completed' });
    const inputs = tab.received.flatMap((task) => task.inputs);
    expect(inputs.map((input) => JSON.stringify(input))).toEqual([
      protoItemText(0),
      protoItemText(1),
    ]);
    expect(Object.keys(inputs[0] as object)).toEqual([
      '__proto__',
      'constructor',
      'prototype',
      'n',
    ]);
    const download = await api<string>(server, 'GET', `/api/jobs/${res.body.id}/results`);
    expect(download.body).toBe(
      `{"index":0,"output":${protoItemText(0)}}\n{"index":1,"output":${protoItemText(1)}}\n`,
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 30_000);
});

describe('NDJSON uploads with hostile shapes', () => {
  it.each([
    ['a line nested 200,000 deep', nestedText(200_000, 'array'), 'MAX_JSON_DEPTH'],
    ['a line of 100,000 nested objects', nestedText(100_000, 'object'), 'MAX_JSON_DEPTH'],
    [
      'a line with a key over MAX_JSON_KEY_CHARS',
      `{"${'k'.repeat(MAX_JSON_KEY_CHARS + 1)}":1}`,
      'MAX_JSON_KEY_CHARS',
    ],
  ])(
    'answers %s with a 400 naming the line',
    async (_name, line, limit) => {
      const server = await coordinator();
      const res = await upload(server, `1\n${line}\n3\n`);
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'line 2' });
      expect(res.body.error.message).toContain(limit);
      expect((await api<unknown[]>(server, 'GET', '/api/uploads')).body).toEqual([]);
    },
    30_000,
  );

  it('keeps __proto__ keys from the upload to the tab and the results download', async () => {
    const server = await coordinator();
    const uploaded = await upload(server, `${protoItemText(0)}\n${protoItemText(1)}\n`);
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    const res = await api<{ id: string }>(server, 'POST', '/api/jobs', {
      map: '(x) => x',
      inputs: { upload: uploaded.body.id },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const tab = await volunteer(server, { slots: 2 });
    expect(await waitForJob(server, res.body.id)).toMatchObject({ status: 'completed' });
    expect(
      tab.received.flatMap((task) => task.inputs).map((input) => JSON.stringify(input)),
    ).toEqual([protoItemText(0), protoItemText(1)]);
    const download = await api<string>(server, 'GET', `/api/jobs/${res.body.id}/results`);
    expect(download.body).toBe(
      `{"index":0,"output":${protoItemText(0)}}\n{"index":1,"output":${protoItemText(1)}}\n`,
    );
  }, 30_000);
});
