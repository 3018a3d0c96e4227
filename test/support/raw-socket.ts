/**
 * @module A socket.io client that writes engine.io/socket.io frames by hand over a raw WebSocket
 * (the `ws` package), so tests can send what socket.io-client cannot build: text nested 200,000
 * deep, wrong arities, garbage, binary attachments. Frames: `40` joins the default namespace,
 * `42["event",…]` is an event, `42<id>[…]` one with an ack, answered by `43<id>[…]`.
 */
import WebSocket from 'ws';

export class RawSocket {
  readonly #ws: WebSocket;
  readonly #frames: string[] = [];
  #waiters: Array<() => void> = [];
  #nextAckId = 1;
  /** Resolves when the connection ends, by either side. */
  readonly closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      // engine.io pings; an answered ping keeps the connection up however long a test takes.
      if (text === '2') ws.send('3');
      else this.#frames.push(text);
      this.#notify();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        resolve();
        this.#notify();
      });
      ws.once('error', () => undefined);
    });
  }

  /** Opens a WebSocket to `url` and waits for engine.io's open packet. */
  static async open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const socket = new RawSocket(ws);
    await socket.#next((frame) => frame.startsWith('0'), 'the engine.io open packet');
    return socket;
  }

  /** Opens and joins the default namespace. */
  static async connect(url: string): Promise<RawSocket> {
    const socket = await RawSocket.open(url);
    socket.send('40');
    await socket.#next((frame) => frame.startsWith('40'), 'the namespace connect');
    return socket;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Sends one frame exactly as given (a string is a text frame, a Buffer a binary one). */
  send(frame: string | Buffer): void {
    this.#ws.send(frame);
  }

  /** Sends one frame and resolves once it is handed to the kernel (the coordinator has it next). */
  sendFlushed(frame: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#ws.send(frame, (error) => (error ? reject(error) : resolve())),
    );
  }

  /**
   * Sends `42<id>["event",<argsText>]` and resolves with the ack's first argument, or with
   * `'closed'` if the coordinator closed the connection instead of answering.
   */
  async call(event: string, argsText: string, timeoutMs = 10_000): Promise<unknown> {
    const id = this.#nextAckId++;
    this.send(`42${id}[${JSON.stringify(event)},${argsText}]`);
    return this.ackOf(id, timeoutMs);
  }

  /** The answer to ack id `id` (its first argument), or `'closed'`. */
  async ackOf(id: number, timeoutMs = 10_000): Promise<unknown> {
    const prefix = `43${id}[`;
    const frame = await this.#next((f) => f.startsWith(prefix), `the ack of ${id}`, timeoutMs);
    if (frame === undefined) return 'closed';
    return (JSON.parse(frame.slice(prefix.length - 1)) as unknown[])[0];
  }

  /** The first unread frame `match` accepts (waiting for it); throws if the connection closes first. */
  async nextFrame(match: (frame: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const frame = await this.#next(match, 'a matching frame', timeoutMs);
    if (frame === undefined) throw new Error('raw socket: closed before a matching frame');
    return frame;
  }

  /**
   * Resolves once every frame sent before it was handled: a capacity event's answer comes after
   * them (socket.io handles a connection's frames in order), or the connection closed.
   */
  async settled(): Promise<void> {
    await this.call('volunteer:capacity', '{"slots":0}');
  }

  /** A fresh ack id for frames a test writes itself. */
  ackId(): number {
    return this.#nextAckId++;
  }

  close(): void {
    this.#ws.terminate();
  }

  /** The first unread frame matching `match`, or undefined once the connection is closed. */
  #next(
    match: (frame: string) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`raw socket: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        const index = this.#frames.findIndex(match);
        const done = index !== -1 || this.#ws.readyState === WebSocket.CLOSED;
        if (!done) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(index === -1 ? undefined : this.#frames.splice(index, 1)[0]);
      };
      this.#waiters.push(check);
      check();
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
