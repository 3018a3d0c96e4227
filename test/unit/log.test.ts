import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createRootLog, resolveLogFormat } from '../../server/log.ts';
import { createTabActivity } from '../../server/realtime/tab-activity.ts';
import { nextEvent } from '../support/events.ts';

/** A pino destination that keeps each line and emits it. */
function capture(): Writable & { lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      stream.emit('line', chunk.toString());
      done();
    },
  });
  return Object.assign(stream, { lines });
}

describe('log format', () => {
  it.each([
    ['auto', true, {}, 'pretty'],
    ['auto', false, {}, 'json'],
    ['auto', true, { CI: 'true' }, 'json'],
    ['auto', true, { CI: '1' }, 'json'],
    ['auto', true, { CI: 'false' }, 'pretty'],
    ['json', true, {}, 'json'],
    ['pretty', false, { CI: 'true' }, 'pretty'],
  ] as const)('%s with a TTY %s and env %j is %s', (format, tty, env, expected) => {
    expect(resolveLogFormat(format, tty, env)).toBe(expected);
  });

  it('reads BROWSERGRID_LOG_FORMAT, auto unless told, and names it when it is wrong', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ BROWSERGRID_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ BROWSERGRID_LOG_FORMAT: 'yaml' })).toThrow(
      /BROWSERGRID_LOG_FORMAT must be auto, json or pretty/,
    );
    expect(() => loadConfig({ BROWSERGRID_TAB_LOG_INTERVAL_MS: '5' })).toThrow(/tabLogIntervalMs/);
  });

  it('writes one JSON object per line as json, and a readable line with its fields as pretty', () => {
    const json = capture();
    createRootLog('info', 'json', json).info(
      { jobId: 'j1', done: 3 },
      '[engine]: job j1 completed',
    );
    expect(JSON.parse(json.lines[0] ?? '')).toMatchObject({
      level: 30,
      jobId: 'j1',
      done: 3,
      msg: '[engine]: job j1 completed',
    });

    const pretty = capture();
    const log = createRootLog('info', 'pretty', pretty).child({ subsystem: 'engine' });
    log.info({ jobId: 'j1', done: 3 }, '[engine]: job j1 completed');
    const text = pretty.lines.join('');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[engine\]: job j1 completed\n/);
    expect(text).toContain('jobId: "j1"');
    expect(text).not.toContain('subsystem');
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe('tab activity', () => {
  it('logs the first change after a quiet spell at once, then one line per interval', async () => {
    const out = capture();
    let connected = 0;
    const activity = createTabActivity(createRootLog('info', 'json', out), 300, () => connected);
    const nextLine = async (what: string): Promise<Record<string, unknown>> => {
      const [line] = await nextEvent<[string]>(out, 'line', 2_000, what);
      return JSON.parse(line) as Record<string, unknown>;
    };

    const startedAt = performance.now();
    connected = 1;
    activity.joined({ volunteerId: 't1' });
    expect(await nextLine('the first join')).toMatchObject({ joined: 1, left: 0, tabs: 1 });
    expect(performance.now() - startedAt).toBeLessThan(250);

    for (let i = 2; i <= 4; i++) activity.joined({ volunteerId: `t${i}` });
    activity.left({ volunteerId: 't1' });
    connected = 3;
    const burst = await nextLine('the burst');
    expect(burst).toMatchObject({ joined: 3, left: 1, tabs: 3 });
    // Held to the interval after the first line, not written per tab.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    expect(out.lines).toHaveLength(2);

    activity.left({ volunteerId: 't2' });
    connected = 2;
    activity.close();
    expect(out.lines).toHaveLength(3);
    expect(JSON.parse(out.lines[2] ?? '')).toMatchObject({ joined: 0, left: 1, tabs: 2 });
  });

  it('writes each tab at debug, with its fields', () => {
    const out = capture();
    const activity = createTabActivity(createRootLog('debug', 'json', out), 1_000, () => 1);
    activity.joined({ volunteerId: 't1', grid: 'K7P3XM' });
    expect(JSON.parse(out.lines[0] ?? '')).toMatchObject({
      level: 20,
      volunteerId: 't1',
      grid: 'K7P3XM',
      msg: '[realtime]: tab joined',
    });
    activity.close();
  });
});
