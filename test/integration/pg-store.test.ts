import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoordinator } from '../../server/app.ts';
import { Config } from '../../server/config.ts';
import { createRootLog } from '../../server/log.ts';
import { createPgStore } from '../../server/store/pg-store.ts';
import { openPgPool } from '../../server/store/pg-connect.ts';
import { latestPgSchemaVersion } from '../../server/store/pg-migrate.ts';
import { isStoreUnreachable } from '../../server/store/unreachable.ts';
import type { JobStore } from '../../server/store/store.ts';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { within } from '../support/events.ts';
import { freePort, usePostgres } from '../support/postgres.ts';
import { committed } from '../support/store-changes.ts';
import { waitFor } from '../support/start-coordinator.ts';
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import { runStoreContract } from './store-contract.ts';

const postgres = usePostgres();

// The contract's key is a temp dir per test; each key gets its own database, and opening the
// same key again reaches the same one.
const databases = new Map<string, Promise<string>>();
const databaseOf = (key: string): Promise<string> => {
  let url = databases.get(key);
  if (!url) databases.set(key, (url = postgres.freshDatabase()));
  return url;
};

runStoreContract('postgres', async (key): Promise<JobStore> =>
  createPgStore({ connectionString: await databaseOf(key), log: createRootLog('silent') }),
);

describe('PostgreSQL store: cluster events between nodes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const open = async (url: string, log = createRootLog('silent')): Promise<JobStore> => {
    const store = await createPgStore({ connectionString: url, log });
    cleanups.push(() => store.close());
    return store;
  };
  const raw = async (url: string): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cleanups.push(() => client.end());
    return client;
  };
  /** The next event a store hears that passes `accept`. */
  const heard = (store: JobStore, accept: (event: ClusterEvent) => boolean, what: string) => {
    let unsubscribe = (): void => undefined;
    const event = new Promise<ClusterEvent>((resolve) => {
      unsubscribe = store.events.subscribe((event) => {
        if (accept(event)) resolve(event);
      });
    });
    return within(event, 10_000, what).finally(() => unsubscribe());
  };

  it('delivers an event published by one node to every node on the database, itself included', async () => {
    const url = await postgres.freshDatabase();
    const [a, b, c] = [await open(url), await open(url), await open(url)];
    const event: ClusterEvent = { type: 'result-forwarded', jobId: 'j', epoch: 7 };
    const all = Promise.all([a, b, c].map((store) => heard(store, () => true, 'the event')));
    await b.events.publish(event);
    expect(await all).toEqual([event, event, event]);
  });

  it('drops NOTIFY payloads that are not valid events, with one throttled warning, and goes on', async () => {
    const url = await postgres.freshDatabase();
    const lines: string[] = [];
    const log = pino(
      { level: 'warn', base: undefined },
      { write: (line) => void lines.push(line) },
    );
    const store = await open(url, log);
    const got: ClusterEvent[] = [];
    store.events.subscribe((event) => void got.push(event));
    const sentinel = heard(store, (event) => event.type === 'claims-released', 'the valid event');
    const client = await raw(url);
    const payloads = [
      'not json',
      '',
      'null',
      '[]',
      '{"type":"job-submitted"}',
      '{"type":"job-submitted","jobId":"j","extra":1}',
      '{"type":"job-submitted","jobId":"j","__proto__":{"polluted":true}}',
      '{"__proto__":{"type":"job-submitted","jobId":"j"}}',
      '{"type":"constructor","jobId":"j"}',
      `{"type":"job-submitted","jobId":"${'x'.repeat(7_000)}"}`,
      `${'['.repeat(3_000)}${']'.repeat(3_000)}`,
      '{"type":"result-forwarded","jobId":"j","epoch":"7"}',
    ];
    for (const payload of payloads)
      await client.query('SELECT pg_notify($1, $2)', ['browsergrid', payload]);
    await client.query('SELECT pg_notify($1, $2)', ['browsergrid', '{"type":"claims-released"}']);
    await sentinel;
    expect(got).toEqual([{ type: 'claims-released' }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const warnings = lines.map((line) => JSON.parse(line) as { msg: string; dropped: number });
    expect(warnings).toEqual([
      expect.objectContaining({ msg: '[cluster]: dropped an event that is not JSON', dropped: 1 }),
    ]);
  });

  it('listens again after its connection is killed, says it resumed, and hears later events', async () => {
    const url = await postgres.freshDatabase();
    const store = await open(url);
    let resumed!: () => void;
    const didResume = new Promise<void>((resolve) => (resumed = resolve));
    store.events.onResumed(() => resumed());
    const client = await raw(url);
    const killed = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
    );
    expect(killed.rowCount).toBe(1);
    await within(didResume, 10_000, 'the events connection to come back');
    const next = heard(store, (event) => event.type === 'job-changed', 'an event after resuming');
    await client.query('SELECT pg_notify($1, $2)', [
      'browsergrid',
      '{"type":"job-changed","jobId":"j"}',
    ]);
    expect(await next).toEqual({ type: 'job-changed', jobId: 'j' });
  });
});

describe('PostgreSQL store: bad settings and faults', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts a coordinator in-process on `databaseUrl`; resolves with why it refused to. */
  const refusal = async (databaseUrl: string, settings: Record<string, unknown> = {}) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-pg-fault-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = Config.parse({ port: 0, host: '127.0.0.1', dataDir, databaseUrl, ...settings });
    const started = Date.now();
    const error = await createCoordinator({
      config,
      adminToken: 'test-admin-token-0123456789',
      log: createRootLog('silent'),
    }).then(
      async (coordinator) => {
        await coordinator.close();
        throw new Error('the coordinator started');
      },
      (reason: unknown) => reason as Error,
    );
    return { message: error.message, ms: Date.now() - started };
  };

  it('stops `browsergrid start` with status 1 and a message naming the unreachable server and why, never the password', async () => {
    const port = await freePort();
    const attempt = startChildCoordinator({
      BROWSERGRID_DATABASE_URL: `postgres://bg:s3cret-pw@127.0.0.1:${port}/bg`,
    });
    const error = (await attempt.then(
      async (child) => {
        await child.stop();
        throw new Error('the coordinator started');
      },
      (reason: unknown) => reason,
    )) as Error;
    expect(error.message).toMatch(/coordinator exited \(code 1, signal null\)/);
    expect(error.message).toContain(
      `[store]: cannot reach PostgreSQL at 127.0.0.1:${port}/bg: connect ECONNREFUSED`,
    );
    expect(error.message).not.toContain('s3cret-pw');
  });

  it('gives up on a server that accepts but never answers within the connect timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const { message, ms } = await refusal(`postgres://bg:pw@127.0.0.1:${port}/bg`, {
      databaseConnectTimeoutMs: 300,
    });
    expect(message).toMatch(
      new RegExp(`^\\[store\\]: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/bg: .*timeout`),
    );
    expect(ms).toBeLessThan(5_000);
  });

  it('names a database that does not exist and a password that is wrong, without the password', async () => {
    const missing = await refusal(postgres.urlOf('no_such_db'));
    expect(missing.message).toBe(
      `[store]: cannot reach PostgreSQL at 127.0.0.1:${postgres.port()}/no_such_db: database "no_such_db" does not exist`,
    );
    const url = new URL(postgres.urlOf('postgres'));
    url.password = 'wrong-pw-1234';
    const wrong = await refusal(url.href);
    expect(wrong.message).toMatch(
      new RegExp(
        `^\\[store\\]: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${postgres.port()}/postgres: password authentication failed`,
      ),
    );
    expect(wrong.message).not.toContain('wrong-pw-1234');
  });

  it('says which database it could not set up when the user may not create tables there', async () => {
    const url = new URL(await postgres.freshDatabase());
    const admin = new pg.Client({ connectionString: url.href });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query(`CREATE ROLE bg_reader_${process.pid} LOGIN PASSWORD 'reader-pw-77'`);
    cleanups.push(async () => {
      await admin.query(`DROP OWNED BY bg_reader_${process.pid}`);
      await admin.query(`DROP ROLE bg_reader_${process.pid}`);
    });
    url.username = `bg_reader_${process.pid}`;
    url.password = 'reader-pw-77';
    const { message } = await refusal(url.href);
    expect(message).toBe(
      `[store]: migrating the PostgreSQL database at 127.0.0.1:${postgres.port()}${url.pathname} failed: permission denied for schema public`,
    );
    expect(message).not.toContain('reader-pw-77');
  });

  it('refuses a database at a newer schema version than it knows, and changes nothing in it', async () => {
    const url = await postgres.freshDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanups.push(() => admin.end());
    // A newer browsergrid's database: its version recorded, its tables not ours.
    await admin.query(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const newer = latestPgSchemaVersion() + 1;
    await admin.query('INSERT INTO schema_migrations VALUES ($1, 0)', [newer]);
    const tables = async (): Promise<string[]> =>
      (
        await admin.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
        )
      ).rows.map((row) => row.name);

    const { message } = await refusal(url);
    expect(message).toBe(
      `[store]: the PostgreSQL database at 127.0.0.1:${postgres.port()}/${new URL(url).pathname.slice(1)} has schema version ${newer}, newer than this browsergrid knows (${latestPgSchemaVersion()}); upgrade browsergrid, or point BROWSERGRID_DATABASE_URL at another database. Nothing was changed.`,
    );
    expect(await tables()).toEqual(['schema_migrations']);
    expect((await admin.query('SELECT version FROM schema_migrations')).rows).toEqual([
      { version: newer },
    ]);
  });

  it('migrates once when several nodes start on one empty database at the same moment', async () => {
    const url = await postgres.freshDatabase();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createPgStore({ connectionString: url })),
    );
    for (const store of stores) cleanups.push(() => store.close());
    const [first, second] = stores as [JobStore, JobStore];
    const job = await first.createJob({
      jobId: 'j',
      spec: { map: '(x) => x', inputs: [1] } as never,
      status: 'queued',
      items: 1,
      tasks: 1,
      createdAt: 1,
    });
    expect(await second.getJob('j')).toMatchObject({ seq: job.seq });
  });
});

describe('PostgreSQL store: a node frozen inside a transaction', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A store on a fresh database with job `j` of `tasks` tasks. */
  const storeWithJob = async (tasks: number): Promise<{ url: string; store: JobStore }> => {
    const url = await postgres.freshDatabase();
    const store = await createPgStore({ connectionString: url, log: createRootLog('silent') });
    cleanups.push(() => store.close());
    await store.createJob({
      jobId: 'j',
      spec: { map: '(x) => x', inputs: [] } as never,
      status: 'queued',
      items: tasks,
      tasks,
      createdAt: 1,
    });
    return { url, store };
  };

  it("renews a node's heartbeat while one of its own commits waits on another node's lock", async () => {
    const { url, store } = await storeWithJob(4);
    const node = await store.joinCluster({ nodeId: 'node' });
    await store.claimTasks('j', node.epoch, 4);
    // Another node, frozen while it held the job's row.
    const peer = new pg.Client({ connectionString: url });
    await peer.connect();
    cleanups.push(() => peer.end());
    await peer.query('BEGIN');
    await peer.query("SELECT 1 FROM jobs WHERE job_id = 'j' FOR UPDATE");
    let applied = false;
    const apply = store
      .apply([committed('j', 0)], { epoch: node.epoch })
      .then(() => (applied = true));
    // The commit holds its node's row and waits for the job's.
    await waitFor(
      async () => {
        const { rows } = await peer.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype <> 'virtualxid'",
        );
        return (rows[0]?.n ?? 0) > 0 ? true : undefined;
      },
      5_000,
      'the commit to wait on the job row',
    );
    expect(await within(store.heartbeat(node.epoch), 2_000, 'the heartbeat')).toBe(true);
    expect(applied).toBe(false);
    await peer.query('ROLLBACK');
    await within(apply, 5_000, 'the commit once the row is free');
  });

  it('is skipped by the reaper, which takes the other silent nodes at once, and reaped once the server ends its session', async () => {
    const { url, store } = await storeWithJob(10);
    // The frozen node's pool, with the limit a node sets: its silence limit.
    const frozenPool = await openPgPool({
      connectionString: url,
      idleInTransactionTimeoutMs: 1_000,
    });
    cleanups.push(() => frozenPool.end());
    const killed = await store.joinCluster({ nodeId: 'killed' });
    const frozen = await store.joinCluster({ nodeId: 'frozen' });
    const [range] = await store.claimTasks('j', frozen.epoch, 5);
    // Stopped mid-commit: its node row held as a fenced apply holds it, and then nothing.
    const client = await frozenPool.connect();
    let released = false;
    cleanups.push(() => void (released || client.release(true)));
    const ended = new Promise<unknown>((resolve) => client.once('error', resolve));
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM nodes WHERE epoch = $1 FOR SHARE', [frozen.epoch]);

    // Waiting on the frozen node's row would also have taken it, once its session ended.
    const first = await waitFor(
      async () => {
        const dead = await store.reapNodes(200);
        return dead.length > 0 ? dead : undefined;
      },
      5_000,
      'a silent node reaped',
    );
    expect(first).toEqual([killed.epoch]);
    expect(await store.heartbeat(frozen.epoch)).toBe(true);

    await within(ended, 10_000, 'the server to end the session idle in its transaction');
    const broken = await client.query('SELECT 1').then(
      () => new Error('the ended session answered'),
      (error: unknown) => error,
    );
    // The node that wakes sees the database as away, and retries (where its fence stops it).
    expect(isStoreUnreachable(broken), String(broken)).toBe(true);
    client.release(true);
    released = true;
    expect(
      await waitFor(
        async () => {
          const dead = await store.reapNodes(200);
          return dead.length > 0 ? dead : undefined;
        },
        5_000,
        'the frozen node reaped',
      ),
    ).toEqual([frozen.epoch]);
    const taker = await store.joinCluster({ nodeId: 'taker' });
    expect(await store.claimTasks('j', taker.epoch, 5)).toEqual([range]);
  });
});
