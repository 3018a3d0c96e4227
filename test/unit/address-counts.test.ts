import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AddressCounts } from '../../server/realtime/address-counts.ts';

describe('AddressCounts', () => {
  it('counts the addresses of one IPv6 /64, and an IPv4 address with its mapped form, as one', () => {
    const counts = new AddressCounts();
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:DB8:1:2:ffff::3']) {
      counts.holdUntilClose(address, new EventEmitter());
    }
    counts.holdUntilClose('10.0.0.1', new EventEmitter());
    expect(counts.of('2001:db8:1:2:abcd::9')).toBe(3);
    expect(counts.of('2001:db8:1:3::1')).toBe(0);
    expect(counts.of('::ffff:10.0.0.1')).toBe(1);
    expect(counts.of('10.0.0.2')).toBe(0);
  });

  it('releases a place when its connection closes, once however often close is emitted', () => {
    const counts = new AddressCounts();
    const first = new EventEmitter();
    counts.holdUntilClose('2001:db8::1', first);
    counts.holdUntilClose('2001:db8::2', new EventEmitter());
    first.emit('close');
    first.emit('close');
    expect(counts.of('2001:db8::3')).toBe(1);
  });
});
