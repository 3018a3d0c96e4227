/**
 * @module The page's side of the job-code sandbox: a hidden sandboxed iframe that starts the
 * task-runner workers (see client/sandbox/sandbox.ts for why that isolates them). Each worker is
 * reached through a MessageChannel made here, so starting one is synchronous: requests wait in
 * the channel until the frame and the worker are up.
 */
import runnerUrl from './task-runner.worker.ts?worker&url';

export type SandboxRequest =
  | { type: 'spawn'; workerId: number; source: string; port: MessagePort }
  | { type: 'terminate'; workerId: number };

export interface SandboxedWorker {
  /** The page's end of the worker's channel (shared/runner-protocol.ts). */
  port: MessagePort;
  terminate(): void;
}

export class SandboxHost {
  readonly #frame: HTMLIFrameElement;
  readonly #ready: Promise<string>;
  #nextId = 0;

  constructor(frameUrl = '/sandbox/') {
    this.#frame = document.createElement('iframe');
    this.#frame.sandbox.add('allow-scripts');
    this.#frame.hidden = true;
    this.#frame.title = 'browsergrid job sandbox';
    const loaded = new Promise<void>((resolve) => {
      const onMessage = (event: MessageEvent<{ type?: string }>): void => {
        if (event.source !== this.#frame.contentWindow || event.data?.type !== 'ready') return;
        window.removeEventListener('message', onMessage);
        resolve();
      };
      window.addEventListener('message', onMessage);
    });
    // The frame's opaque origin cannot fetch the runner script itself (connect-src 'none'), so
    // the page fetches it and hands the source over.
    const source = fetch(runnerUrl).then((res) => {
      if (!res.ok) throw new Error(`[sandbox]: could not load the task runner (${res.status})`);
      return res.text();
    });
    this.#ready = Promise.all([source, loaded]).then(([text]) => text);
    this.#frame.src = frameUrl;
    document.body.append(this.#frame);
  }

  spawn(): SandboxedWorker {
    const workerId = ++this.#nextId;
    const channel = new MessageChannel();
    const post = (request: SandboxRequest, transfer: Transferable[] = []): void => {
      // The frame's origin is opaque ('null'), so '*' is the only target that reaches it; the
      // frame checks that messages come from this window.
      this.#frame.contentWindow?.postMessage(request, '*', transfer);
    };
    let terminated = false;
    void this.#ready.then((source) => {
      if (!terminated)
        post({ type: 'spawn', workerId, source, port: channel.port2 }, [channel.port2]);
    });
    return {
      port: channel.port1,
      terminate: () => {
        terminated = true;
        channel.port1.close();
        void this.#ready.then(() => post({ type: 'terminate', workerId }));
      },
    };
  }
}
