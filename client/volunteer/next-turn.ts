/**
 * @module The next event-loop turn, reached by a message rather than a timer: hidden tabs clamp
 * main-thread timers, never messages.
 */

let turns: MessageChannel | undefined;
const turnWaiters: Array<() => void> = [];

/** Resolves on the next task (event-loop turn). */
export function nextTurn(): Promise<void> {
  if (!turns) {
    turns = new MessageChannel();
    turns.port1.onmessage = () => turnWaiters.shift()?.();
  }
  const port = turns.port2;
  return new Promise((resolve) => {
    turnWaiters.push(resolve);
    port.postMessage(null);
  });
}
