import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';

describe('loadConfig', () => {
  it('has a default for everything, so a bare environment starts', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      eventsPerSecond: 500,
      eventBurst: 2_000,
      maxConnectionsPerAddress: 200,
      maxHttpConnections: 50_000,
      helloMissesPerAddress: 30,
      helloMissWindowMs: 600_000,
      headersTimeoutMs: 20_000,
      httpIdleTimeoutMs: 60_000,
      databaseConnectTimeoutMs: 5_000,
      logLevel: 'info',
    });
    // SQLite in the data dir unless a PostgreSQL URL is given.
    expect(loadConfig({}).databaseUrl).toBeUndefined();
  });

  it('reads every setting from its variable', () => {
    expect(
      loadConfig({
        PORT: '9000',
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: '/tmp/x',
        BROWSERGRID_ADMIN_TOKEN: 'a-token-of-16-chars',
        BROWSERGRID_PUBLIC_URL: 'http://10.0.0.2:9000',
        BROWSERGRID_MAX_BODY_BYTES: '1000',
        BROWSERGRID_MAX_MESSAGE_BYTES: '2000',
        BROWSERGRID_EVENTS_PER_SECOND: '10',
        BROWSERGRID_EVENT_BURST: '20',
        BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS: '0',
        BROWSERGRID_MAX_HTTP_CONNECTIONS: '100',
        BROWSERGRID_HELLO_MISSES_PER_ADDRESS: '7',
        BROWSERGRID_HELLO_MISS_WINDOW_MS: '1000',
        BROWSERGRID_HEADERS_TIMEOUT_MS: '5000',
        BROWSERGRID_HTTP_IDLE_TIMEOUT_MS: '30000',
        BROWSERGRID_DATABASE_URL: 'postgresql://bg:pw@db.example:5433/browsergrid',
        BROWSERGRID_DATABASE_CONNECT_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'warn',
      }),
    ).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      dataDir: '/tmp/x',
      adminToken: 'a-token-of-16-chars',
      publicUrl: 'http://10.0.0.2:9000',
      maxHttpBodyBytes: 1000,
      maxSocketMessageBytes: 2000,
      eventsPerSecond: 10,
      eventBurst: 20,
      maxConnectionsPerAddress: 0,
      maxHttpConnections: 100,
      helloMissesPerAddress: 7,
      helloMissWindowMs: 1_000,
      headersTimeoutMs: 5_000,
      httpIdleTimeoutMs: 30_000,
      databaseUrl: 'postgresql://bg:pw@db.example:5433/browsergrid',
      databaseConnectTimeoutMs: 2_000,
      logLevel: 'warn',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /port/],
    [{ BROWSERGRID_ADMIN_TOKEN: 'short' }, /BROWSERGRID_ADMIN_TOKEN must be at least 16/],
    [{ BROWSERGRID_PUBLIC_URL: 'not a url' }, /BROWSERGRID_PUBLIC_URL must be a URL/],
    [{ LOG_LEVEL: 'loud' }, /logLevel/],
  ])('names the bad setting in %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each(['mysql://u:hunter22@h/db', 'hunter22', 'postgres://[bad'])(
    'refuses BROWSERGRID_DATABASE_URL=%s by its name, without repeating the value',
    (value) => {
      let message = '';
      try {
        loadConfig({ BROWSERGRID_DATABASE_URL: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(
        /^\[config\]: databaseUrl: BROWSERGRID_DATABASE_URL must be a postgres:\/\/ URL/,
      );
      expect(message).not.toContain('hunter22');
    },
  );
});
