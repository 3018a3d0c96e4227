/**
 * @module Waiting on events with a timeout, for tests: the next event of an emitter (a socket, a
 * child process, a stream) that passes a check, a socket's disconnect, a promise within a time.
 * A wait that can listen never polls.
 */

/**
 * Anything with `on`/`off`: Node's EventEmitter, a socket.io socket, a child process, readline.
 * Loosely typed on purpose: each of them types its event names and listeners its own way.
 */
export interface Emitter {
  on(event: any, listener: (...args: any[]) => void): unknown;
  off(event: any, listener: (...args: any[]) => void): unknown;
}

type Listener = (...args: unknown[]) => void;

/**
 * Resolves with the arguments of the first `event` for which `accept` holds (any, without it);
 * rejects after `timeoutMs`, naming `what`.
 *
 * @example const [code] = await nextEvent<[number | null]>(child, 'exit', 10_000, 'the exit');
 */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: Emitter,
  event: string,
  timeoutMs: number,
  what: string,
  accept: (...args: A) => boolean = () => true,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const listener: Listener = (...args) => {
      if (!accept(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Resolves once `socket` is disconnected (at once if it already is). */
export async function disconnected(
  socket: Emitter & { readonly connected: boolean },
  timeoutMs: number,
  what: string,
): Promise<void> {
  if (!socket.connected) return;
  await nextEvent(socket, 'disconnect', timeoutMs, what);
}

/** Resolves as `promise` does, or rejects after `timeoutMs`, naming `what`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
