import { describe, expect, it } from 'vitest';
import { addressKey } from '../../server/realtime/address-key.ts';

describe('addressKey', () => {
  it.each([
    ['192.168.1.20', '192.168.1.20'],
    ['::ffff:192.168.1.20', '192.168.1.20'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('keeps %s under %s, so the addresses of one IPv6 /64 share an allowance', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
