/**
 * @module Socket handlers for volunteer tabs (default namespace): hello, capacity, results,
 * progress. They validate, translate to engine calls and answer; they decide nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import {
  Capacity,
  CheckpointReport,
  Hello,
  PROTOCOL_VERSION,
  ProgressBatch,
  ReleaseBatch,
  ResultBatchEnvelope,
  type ServerToVolunteerEvents,
  type VolunteerToServerEvents,
} from '../../shared/protocol.ts';
import { MAX_ANNOUNCED_NODES } from '../../shared/limits.ts';
import type { Engine } from '../engine/engine.ts';
import type { VolunteerLink } from '../engine/tab-registry.ts';
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import { addressKey } from './address-key.ts';
import type { DeviceIds } from './device-ids.ts';
import { guardFrames, trustConnection } from './frame-guard.ts';
import type { JoinCodeGuard } from './join-code-guard.ts';
import { triageResults } from './result-triage.ts';
import type { TabActivity } from './tab-activity.ts';
import { createSocketEdge, guard, withAck, withoutAck } from './validate.ts';

export type VolunteerServer = Server<VolunteerToServerEvents, ServerToVolunteerEvents>;
type VolunteerSocket = Socket<VolunteerToServerEvents, ServerToVolunteerEvents>;

export function registerVolunteerHandlers(
  io: VolunteerServer,
  engine: Engine,
  log: Log,
  guards: VolunteerGuards,
): void {
  guardFrames(io, log);
  io.on('connection', (socket) => attach(socket, engine, log, guards));
  // A tab learns the nodes at its welcome; one that joined or was lost since is told at once.
  engine.onNodesChanged((urls) =>
    io.emit('volunteer:nodes', { nodes: urls.slice(0, MAX_ANNOUNCED_NODES) }),
  );
}

/** Who may speak as what: issued device ids, and the allowance of wrong join codes. */
export interface VolunteerGuards {
  deviceIds: DeviceIds;
  joinCodes: JoinCodeGuard;
  /** A connection not registered by then is closed: it holds a place and is on no roster. */
  helloTimeoutMs: number;
  /** Where tabs joining and leaving are logged. */
  activity: TabActivity;
}

function attach(
  socket: VolunteerSocket,
  engine: Engine,
  log: Log,
  { deviceIds, joinCodes, helloTimeoutMs, activity }: VolunteerGuards,
): void {
  let volunteerId: string | undefined;
  // A refused hello was answered at once, so its tab has read why before this closes it.
  const helloTimer = setTimeout(() => {
    if (volunteerId === undefined) socket.disconnect(true);
  }, helloTimeoutMs);
  const checkJoinCode = joinCodes.forConnection(socket.handshake.address, () =>
    socket.disconnect(true),
  );
  const link: VolunteerLink = {
    assign: (batch) => socket.emit('task:assign', batch),
    cancel: (batch) => socket.emit('task:cancel', batch),
    control: (control) => socket.emit('volunteer:control', control),
    close: (reason) => {
      // Say why first: a client the server disconnects does not reconnect by itself.
      socket.emit('volunteer:control', { paused: true, reason, pausedBy: 'coordinator' });
      socket.disconnect(true);
    },
  };
  const edge = createSocketEdge(socket, log, () => ({
    volunteerId,
    address: socket.handshake.address,
  }));
  const registered = (): string => {
    if (volunteerId === undefined) {
      throw new CoordinatorError('not_registered', '[realtime]: send volunteer:hello first');
    }
    return volunteerId;
  };

  socket.on(
    'volunteer:hello',
    withAck(edge, Hello, 'volunteer:hello', async (hello) => {
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        throw new CoordinatorError(
          'protocol_mismatch',
          `[realtime]: protocol ${hello.protocolVersion} is not spoken here (expected ${PROTOCOL_VERSION}); reload the page`,
        );
      }
      let gridName: string | undefined;
      if (hello.grid !== undefined) {
        await checkJoinCode(hello.grid, async (code) => {
          gridName = (await engine.grids.find(code))?.name;
          return gridName !== undefined;
        });
      }
      // Checked after the await, so two racing hellos cannot both register.
      if (volunteerId !== undefined) {
        throw new CoordinatorError('conflict', '[realtime]: this connection already said hello');
      }
      // Only an id the coordinator issued counts (device-ids.ts); any other gets a fresh one.
      // Every per-address rule counts IPv6 by its /64, inside which one host picks freely.
      const address = addressKey(socket.handshake.address);
      const deviceId = deviceIds.verify(hello.deviceId)
        ? hello.deviceId
        : deviceIds.issue(address, engine.now());
      if (engine.devices.isBanned(deviceId)) {
        throw new CoordinatorError(
          'unauthorized',
          "[realtime]: this device is banned by the coordinator's admin",
        );
      }
      // A duplicated browser tab copies sessionStorage, so two live tabs can claim one tab id.
      volunteerId = engine.tabs.isConnected(hello.tabId)
        ? `${hello.tabId}~${randomBytes(4).toString('hex')}`
        : hello.tabId;
      const pausedBy = engine.tabs.connect(
        {
          volunteerId,
          deviceId,
          address,
          slots: hello.slots,
          ...(hello.grid !== undefined ? { grid: hello.grid } : {}),
          ...(hello.userAgent !== undefined ? { userAgent: hello.userAgent } : {}),
          ...(hello.nickname !== undefined ? { nickname: hello.nickname } : {}),
        },
        link,
      );
      trustConnection(socket.conn);
      activity.joined({ volunteerId, deviceId, slots: hello.slots, grid: hello.grid, address });
      const nodes = engine.nodeUrls().slice(0, MAX_ANNOUNCED_NODES);
      return {
        volunteerId,
        deviceId,
        serverTime: engine.now(),
        ...(nodes.length > 0 ? { nodes: [...nodes] } : {}),
        ...(gridName !== undefined ? { gridName } : {}),
        ...(pausedBy !== undefined ? { pausedBy } : {}),
      };
    }),
  );

  socket.on(
    'volunteer:capacity',
    withAck(
      edge,
      Capacity,
      'volunteer:capacity',
      ({ slots }) => {
        engine.tabs.setSlots(registered(), slots);
        return null;
      },
      { requires: registered },
    ),
  );

  socket.on(
    'task:release',
    withAck(
      edge,
      ReleaseBatch,
      'task:release',
      ({ leaseIds }) => {
        engine.tabs.release(registered(), leaseIds);
        return null;
      },
      { requires: registered },
    ),
  );

  socket.on(
    'task:results',
    withAck(
      edge,
      ResultBatchEnvelope,
      'task:results',
      async (batch) => {
        const { valid, refused, issue } = triageResults(batch.results);
        if (issue === undefined) return engine.tabs.report(registered(), valid);
        edge.refused('task:results', issue.message);
        // Nothing to take: refused whole, naming the field, and the page drops the message.
        if (valid.length === 0) {
          throw new CoordinatorError('invalid_input', `[task:results]: ${issue.message}`, {
            ...(issue.field ? { field: issue.field } : {}),
          });
        }
        const ack = await engine.tabs.report(registered(), valid);
        return { leaseIds: ack.leaseIds, refused: [...ack.refused, ...refused] };
      },
      { requires: registered },
    ),
  );

  // Fire-and-forget events: no ack to answer with, so bad ones are logged and dropped. The
  // sender is checked before the payload is read: an anonymous socket's payload is never parsed.
  socket.on(
    'task:progress',
    withoutAck(
      edge,
      ProgressBatch,
      'task:progress',
      ({ updates }) => engine.tabs.progress(registered(), updates),
      { requires: registered },
    ),
  );

  socket.on(
    'task:checkpoint',
    withoutAck(
      edge,
      CheckpointReport,
      'task:checkpoint',
      (report) => {
        if (!engine.tabs.checkpoint(registered(), report)) {
          log.debug(
            { volunteerId, leaseId: report.leaseId },
            '[realtime]: checkpoint for a lease this tab does not hold dropped',
          );
        }
      },
      { requires: registered },
    ),
  );

  socket.on(
    'disconnect',
    guard(edge, 'disconnect', (reason: string) => {
      clearTimeout(helloTimer);
      if (volunteerId === undefined) return;
      engine.tabs.disconnect(volunteerId, link);
      activity.left({ volunteerId, reason });
    }),
  );
}
