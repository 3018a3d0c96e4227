/**
 * @module Job code has no network: the sandbox's Content Security Policy blocks every request
 * (client/sandbox/sandbox.ts). The browser then says only "Failed to fetch", which reads like a
 * flaky server; a blocked fetch says instead that the sandbox blocked it, naming the URL.
 */

/** What Chromium, Firefox and Safari say when a fetch gets no response. */
const BROWSER_FETCH_FAILURES =
  /^(Failed to fetch|NetworkError when attempting to fetch resource\.?|Load failed)$/;

export const NETWORK_BLOCK_PREFIX = '[sandbox]: ';

/** Replaces `scope.fetch` with one whose network failures name the block; call before job code. */
export function explainNetworkBlock(scope: { fetch: typeof fetch }): void {
  const realFetch = scope.fetch;
  const apply = Reflect.apply;
  scope.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    return (apply(realFetch, scope, [input, init]) as Promise<Response>).catch((error: unknown) => {
      if (error instanceof TypeError && BROWSER_FETCH_FAILURES.test(error.message)) {
        throw new TypeError(
          `${NETWORK_BLOCK_PREFIX}job code has no network access (fetch to ${urlOf(input)} was blocked); give it what it needs in the job's inputs, or bundle it into the map`,
          { cause: error },
        );
      }
      throw error;
    });
  };
}

function urlOf(input: RequestInfo | URL): string {
  try {
    if (typeof input === 'string') return input;
    return input instanceof URL ? input.href : input.url;
  } catch {
    return 'a URL';
  }
}
