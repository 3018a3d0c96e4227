/**
 * @module A pass over a socket.io frame's text before anything parses it: how deep its brackets
 * nest and how many arrays and objects it would make. JSON.parse of 15 MB of `{}` takes seconds
 * and hundreds of MB; this loop reads the same text in tens of milliseconds, allocating nothing.
 * It skips string contents (escapes included) and does not check the text is JSON: the parser
 * still does that, on text known to be cheap to parse.
 */

export interface FrameBounds {
  maxDepth: number;
  maxContainers: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Why `text` is over `bounds`, or undefined. Linear in its length. */
export function frameShapeIssue(text: string, bounds: FrameBounds): string | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = payloadStart(text); i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > bounds.maxDepth) {
        return `nests deeper than ${bounds.maxDepth} levels (MAX_JSON_DEPTH + MAX_ENVELOPE_DEPTH)`;
      }
      if (++containers > bounds.maxContainers) {
        return `holds more than ${bounds.maxContainers} arrays and objects (MAX_JSON_NODES)`;
      }
    } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && depth > 0) {
      // Never below 0: closers written first must not buy extra depth for what follows.
      depth--;
    }
  }
  return undefined;
}

/**
 * Where the JSON begins in a socket.io packet (`<type>[<attachments>-][/<nsp>,][<ack id>]<json>`),
 * read as socket.io-parser reads it: a quote in the namespace must not make the scan take the
 * JSON's brackets for string contents.
 * https://github.com/socketio/socket.io/blob/socket.io-parser%404.2.7/packages/socket.io-parser/lib/index.ts (decodeString)
 */
function payloadStart(text: string): number {
  let i = 0;
  const type = text.charAt(0);
  if (type === '5' || type === '6') {
    i = text.indexOf('-');
    if (i === -1) return text.length;
  }
  if (text.charAt(i + 1) === '/') {
    i = text.indexOf(',', i + 1);
    if (i === -1) return text.length;
  }
  // The ack id's digits hold no brackets or quotes: scanning them changes nothing.
  return i + 1;
}
