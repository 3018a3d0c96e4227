import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createClientAddress } from '../../server/http/client-address.ts';

describe('createClientAddress', () => {
  const behindNginx = createClientAddress(['127.0.0.1', '::1', '10.0.0.5']);

  it.each([
    [
      'a direct client: its own address, whatever it writes',
      '203.0.113.9',
      '198.51.100.1',
      '203.0.113.9',
    ],
    ['one proxy', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['an IPv6-mapped proxy', '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['an IPv6 proxy and client', '::1', '2001:db8::7', '2001:db8::7'],
    ['a chain of trusted proxies', '127.0.0.1', '198.51.100.1, 10.0.0.5', '198.51.100.1'],
    [
      'the rightmost untrusted hop, not a forged one left of it',
      '127.0.0.1',
      '1.2.3.4, 198.51.100.1',
      '198.51.100.1',
    ],
    ['no header: the proxy', '127.0.0.1', undefined, '127.0.0.1'],
    ['an empty header', '127.0.0.1', '', '127.0.0.1'],
    ['a hop that is no address', '127.0.0.1', '198.51.100.1, evil', '127.0.0.1'],
    ['__proto__', '127.0.0.1', '__proto__', '127.0.0.1'],
    ['constructor, prototype', '127.0.0.1', 'constructor, prototype', '127.0.0.1'],
    ['only trusted hops', '127.0.0.1', '10.0.0.5, 127.0.0.1', '127.0.0.1'],
    ['a port', '127.0.0.1', '198.51.100.1:4444', '127.0.0.1'],
    ['an array', '127.0.0.1', ['198.51.100.1'], '127.0.0.1'],
    ['an object', '127.0.0.1', { toString: (): string => '198.51.100.1' }, '127.0.0.1'],
    ['10,000 hops', '127.0.0.1', Array(10_000).fill('198.51.100.1').join(','), '127.0.0.1'],
    ['1 MB of one hop', '127.0.0.1', `${'9'.repeat(1_000_000)}`, '127.0.0.1'],
  ])('%s', (_what, peer, header, expected) => {
    expect(behindNginx(peer, header)).toBe(expected);
  });

  it('trusts nobody unless told', () => {
    expect(createClientAddress([])('127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
    expect(createClientAddress([])(undefined, '198.51.100.1')).toBe('unknown');
  });
});

describe('BROWSERGRID_TRUSTED_PROXIES', () => {
  it('is a comma-separated list of IP addresses, none by default', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ BROWSERGRID_TRUSTED_PROXIES: ' 127.0.0.1, ::1 ,' }).trustedProxies).toEqual(
      ['127.0.0.1', '::1'],
    );
  });

  it.each(['localhost', '127.0.0.1/8', '127.0.0.1;rm'])('refuses %s by name', (value) => {
    expect(() => loadConfig({ BROWSERGRID_TRUSTED_PROXIES: value })).toThrow(
      /BROWSERGRID_TRUSTED_PROXIES must be IP addresses separated by commas/,
    );
  });
});
