/**
 * @module Who a device id stands for when copies are spread, votes counted and trust earned. An
 * id issued past an address's allowance (see realtime/device-ids.ts) is per connection and
 * stands, with every other such id of its address, for one voter: `o-<address tag>.<nonce>`
 * counts as `o-<address tag>`. Without this, an address past its allowance could still open as
 * many voters as it has connections.
 */

const OVERFLOW_PREFIX = 'o-';

/** Whether the id was issued past its address's allowance: per connection, earning no trust. */
export function isOverflowId(deviceId: string): boolean {
  return deviceId.startsWith(OVERFLOW_PREFIX);
}

/** Builds an overflow id from its address's tag and a per-connection nonce. */
export function overflowId(addressTag: string, nonce: string): string {
  return `${OVERFLOW_PREFIX}${addressTag}.${nonce}`;
}

/** The voter a device id counts as: itself, or for an overflow id its address's one voter. */
export function voterOf(deviceId: string): string {
  if (!isOverflowId(deviceId)) return deviceId;
  const dot = deviceId.indexOf('.');
  return dot < 0 ? deviceId : deviceId.slice(0, dot);
}
