/**
 * @module What the frame guard reads of a socket.io packet before socket.io parses it: its type
 * and, for a namespace connect, which namespace. Only the text up to the first `,` or `{` is
 * read, so a frame of any size costs the same here.
 */

/** socket.io packet types the guard acts on (https://socket.io/docs/v4/socket-io-protocol/). */
export const PacketType = { CONNECT: '0', BINARY_EVENT: '5', BINARY_ACK: '6' } as const;

export interface PacketKind {
  /** The packet type digit, e.g. `0` for CONNECT; `''` for an empty frame. */
  type: string;
  /** The namespace a CONNECT asks for, `/` when none is named. */
  namespace: string;
}

export function packetKind(frame: string): PacketKind {
  const type = frame.charAt(0);
  if (frame.charAt(1) !== '/') return { type, namespace: '/' };
  const end = frame.slice(1, 256).search(/[,{]/);
  return { type, namespace: end === -1 ? frame.slice(1, 256) : frame.slice(1, 1 + end) };
}
