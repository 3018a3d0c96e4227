import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../server/errors.ts';
import { isStoreUnreachable } from '../../server/store/unreachable.ts';

const withCode = (message: string, code: unknown): Error =>
  Object.assign(new Error(message), { code });

describe('isStoreUnreachable', () => {
  it('counts a refused connection to a port where no PostgreSQL listens', async () => {
    // Port 1 on the loopback: nothing listens there, so the kernel refuses at once.
    const client = new pg.Client({ connectionString: 'postgres://u:p@127.0.0.1:1/db' });
    client.on('error', () => undefined);
    const error = await client.connect().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isStoreUnreachable(error)).toBe(true);
  });

  it.each([
    ['a fast shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['a cut socket', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    [
      'a client broken earlier',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    [
      'every address of a host refused',
      new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'EHOSTUNREACH')]),
    ],
    [
      'a wrapped outage',
      new Error('[store]: write failed', { cause: withCode('x', 'ECONNREFUSED') }),
    ],
  ])('counts %s', (_name, error) => {
    expect(isStoreUnreachable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key', '23505')],
    ['a serialization failure', withCode('could not serialize', '40001')],
    ['a syntax error', withCode('syntax error', '42601')],
    ['a fenced node', new CoordinatorError('fenced', '[store]: node epoch 3 is no longer live')],
    ['a missing job', new Error('[store]: a batch names job x, which is not in the store')],
    ['a message that only mentions a lost connection', new Error('see: Connection terminated')],
    ['an empty AggregateError', new AggregateError([])],
    [
      'an AggregateError with one real failure',
      new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', '23505')]),
    ],
    ['a code that is not a string', withCode('x', 57)],
    ['a plain object with an outage code', { code: 'ECONNREFUSED', message: 'x' }],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
    ['null', null],
  ])('does not count %s', (_name, error) => {
    expect(isStoreUnreachable(error)).toBe(false);
  });

  it('stops following a cycle of causes', () => {
    const error = new Error('a');
    (error as { cause?: unknown }).cause = error;
    expect(isStoreUnreachable(error)).toBe(false);
  });

  it('stops following a deep chain of causes', () => {
    let error: Error = withCode('x', 'ECONNREFUSED');
    for (let depth = 0; depth < 10_000; depth++) error = new Error('wrap', { cause: error });
    expect(isStoreUnreachable(error)).toBe(false);
  });

  it('ignores __proto__ and constructor keys on an error', () => {
    const error = JSON.parse('{"__proto__": {"code": "ECONNREFUSED"}, "constructor": 1}');
    expect(isStoreUnreachable(Object.assign(new Error('x'), error))).toBe(false);
  });
});
