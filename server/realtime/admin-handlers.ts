/**
 * @module The `/admin` namespace: admin pages authenticate with the admin token in the
 * handshake, receive `job:progress` for every job whose counters moved, and are closed when
 * their token is revoked.
 */
import type { Namespace } from 'socket.io';
import type { JobSummary } from '../../shared/job.ts';
import type { Ack, AdminToServerEvents, ServerToAdminEvents } from '../../shared/protocol.ts';
import type { AdminTokens } from '../admin-tokens.ts';
import type { Engine } from '../engine/engine.ts';
import { toWireError } from '../errors.ts';
import type { Log } from '../log.ts';
import { trustConnection } from './frame-guard.ts';
import { createSocketEdge, guard } from './validate.ts';

export function registerAdminHandlers(
  admin: Namespace<AdminToServerEvents, ServerToAdminEvents>,
  engine: Engine,
  tokens: AdminTokens,
  log: Log,
): () => void {
  const accepted = (auth: Record<string, unknown>): boolean => {
    const token = auth['token'];
    return typeof token === 'string' && tokens.accepts(token);
  };
  admin.use((socket, next) => {
    if (accepted(socket.handshake.auth)) next();
    else next(new Error('[admin]: a valid admin token is required'));
  });
  // The token is checked at the handshake only, so a revocation must reach the sockets it
  // opened; their reconnect is refused by the check above.
  const stopRevocations = tokens.onRevoked(() => {
    for (const socket of admin.sockets.values()) {
      if (accepted(socket.handshake.auth)) continue;
      log.info({ socketId: socket.id }, '[admin]: socket closed, its token was revoked');
      socket.disconnect(true);
    }
  });
  admin.on('connection', (socket) => {
    // Authenticated: its frames may be as large as any tab's.
    trustConnection(socket.conn);
    const edge = createSocketEdge(socket, log);
    socket.on(
      'jobs:subscribe',
      guard(edge, 'jobs:subscribe', (ack: unknown) => {
        if (typeof ack !== 'function') {
          edge.refused('jobs:subscribe', 'event without an ack callback dropped');
          return;
        }
        const reply = ack as (res: Ack<JobSummary[]>) => void;
        return engine.list().then(
          (jobs) => reply({ ok: true, data: jobs }),
          (error: unknown) => {
            log.error({ err: error }, '[admin]: listing jobs failed');
            reply({ ok: false, error: toWireError(error) });
          },
        );
      }),
    );
  });
  const stopProgress = engine.onProgress((summary) => admin.emit('job:progress', summary));
  return () => {
    stopRevocations();
    stopProgress();
  };
}
