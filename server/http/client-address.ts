/**
 * @module The address a request comes from, seen through trusted reverse proxies. A connection
 * from an address in BROWSERGRID_TRUSTED_PROXIES is taken to be from the rightmost
 * `X-Forwarded-For` hop that is not itself a trusted proxy; every other connection is from its
 * own TCP peer, whatever headers it sends, so no client can pick its address by writing one.
 * A header that is missing, too long or holds anything but IP addresses leaves the proxy's
 * own address: the sender is then counted with every other such sender, never apart.
 */
import { isIP } from 'node:net';

/** (TCP peer address, the raw X-Forwarded-For header) → the client's address. */
export type ClientAddress = (remoteAddress: string | undefined, forwardedFor: unknown) => string;

/** Longer headers are not read: nginx writes one hop per proxy, a handful at most. */
const MAX_FORWARDED_FOR_CHARS = 1_024;

/** IPv4 as itself, whether or not the socket reports it IPv6-mapped, so lists match either way. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped ? mapped[1] : address)!.toLowerCase();
}

export function createClientAddress(trustedProxies: readonly string[]): ClientAddress {
  const trusted = new Set(trustedProxies.map(plain));
  return (remoteAddress, forwardedFor) => {
    const peer = remoteAddress ?? 'unknown';
    if (trusted.size === 0 || !trusted.has(plain(peer))) return peer;
    // Node joins repeated X-Forwarded-For headers into one string.
    if (typeof forwardedFor !== 'string' || forwardedFor.length > MAX_FORWARDED_FOR_CHARS) {
      return peer;
    }
    const hops = forwardedFor.split(',').map((hop) => hop.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) return peer;
      if (!trusted.has(plain(hop))) return hop;
    }
    return peer;
  };
}
