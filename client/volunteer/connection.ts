/**
 * @module The tab's socket.io connection to the coordinator: the hello on every (re)connection,
 * the welcome and the device id the coordinator issues, and the events it sends (assignments,
 * cancels, the grid admin's control). What the tab does with them is runtime.ts's.
 */
import { io, type Socket } from 'socket.io-client';
import type { WireError } from '../../shared/errors.ts';
import { MAX_RESULTS_PER_MESSAGE } from '../../shared/limits.ts';
import {
  PROTOCOL_VERSION,
  nextNode,
  type Ack,
  type AssignBatch,
  type Control,
  type ServerToVolunteerEvents,
  type VolunteerToServerEvents,
  type Welcome,
} from '../../shared/protocol.ts';

export type VolunteerSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

export interface ConnectionOptions {
  /** Coordinator base URL; the page's origin by default. */
  url?: string;
  grid?: string;
  /** Shown on the grid's roster; already checked against the protocol's `Nickname`. */
  nickname?: string;
  tabId: string;
  /** This browser's device id, as stored; the coordinator may issue another. */
  deviceId: string;
  /** Stores an issued device id in place of the one sent. */
  replaceDeviceId: (previous: string, issued: string) => Promise<void>;
  /** Workers this tab offers at the hello. */
  slots: () => number;
  onState: (state: 'connecting' | 'connected' | 'disconnected') => void;
  /** The coordinator refused the hello. */
  onError: (error: WireError) => void;
  /** The coordinator welcomed this tab on a new connection. */
  onWelcome: (welcome: Welcome) => Promise<void>;
  onAssign: (batch: AssignBatch) => void;
  onCancel: (leaseIds: string[]) => void;
  onControl: (control: Control) => void;
}

/** Failed reconnects to a node before the tab moves to the next one its welcome listed. */
const FAILS_BEFORE_MOVE = 2;
/** A node that accepts the connection and never answers (frozen) is given up on after this. */
const CONNECT_TIMEOUT_MS = 5_000;

export class Connection {
  readonly #options: ConnectionOptions;
  #socket: VolunteerSocket;
  #deviceId: string;
  #registered = false;
  /** Where the live coordinators listen, as the last welcome said, and where this tab is now. */
  #nodes: string[] = [];
  #url: string;
  #failedReconnects = 0;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#deviceId = options.deviceId;
    this.#url = options.url ?? location.origin;
    options.onState('connecting');
    this.#socket = this.#open(this.#url);
  }

  /** A socket to one coordinator, with the tab's handlers. */
  #open(url: string): VolunteerSocket {
    const options = this.#options;
    const socket: VolunteerSocket = io(url, {
      transports: ['websocket'],
      timeout: CONNECT_TIMEOUT_MS,
      // Its own manager: a node moved away from and back to must not reuse a closed one.
      forceNew: true,
    });
    socket.on('connect', () => {
      this.#failedReconnects = 0;
      void this.#hello();
    });
    // Its node is lost (several coordinators on one database): after a few failed tries the tab
    // moves to the next node its welcome listed, and sends what it holds there.
    socket.io.on('reconnect_error', () => {
      this.#failedReconnects++;
      if (this.#failedReconnects >= FAILS_BEFORE_MOVE) this.#moveToNextNode();
    });
    socket.on('disconnect', () => {
      this.#registered = false;
      // Tasks in hand keep running: their results go to the outbox and out on the next
      // connection, where they still commit if no other copy has (the coordinator accepts
      // results from leases it has since dropped).
      options.onState('disconnected');
    });
    socket.on('task:assign', (batch) => options.onAssign(batch));
    socket.on('volunteer:control', (control) => options.onControl(control));
    socket.on('task:cancel', (batch) => options.onCancel(batch.leaseIds));
    socket.on('volunteer:nodes', ({ nodes }) => {
      if (nodes.length > 0) this.#nodes = nodes;
    });
    return socket;
  }

  /** The socket while the coordinator has welcomed this tab on it; else undefined. */
  get registered(): VolunteerSocket | undefined {
    return this.#registered && this.#socket.connected ? this.#socket : undefined;
  }

  capacity(slots: number): void {
    this.registered?.emit('volunteer:capacity', { slots }, () => undefined);
  }

  /** Gives leases back, so other tabs take them at once. */
  release(leaseIds: readonly string[]): void {
    const socket = this.#socket;
    for (let i = 0; socket.connected && i < leaseIds.length; i += MAX_RESULTS_PER_MESSAGE) {
      socket.emit(
        'task:release',
        { leaseIds: leaseIds.slice(i, i + MAX_RESULTS_PER_MESSAGE) },
        () => undefined,
      );
    }
  }

  close(): void {
    this.#socket.disconnect();
  }

  #moveToNextNode(): void {
    const next = nextNode(this.#nodes, this.#url);
    if (next === undefined) return;
    this.#failedReconnects = 0;
    this.#socket.io.removeAllListeners();
    this.#socket.removeAllListeners();
    this.#socket.disconnect();
    this.#url = next;
    this.#socket = this.#open(next);
  }

  async #hello(): Promise<void> {
    const sent = this.#deviceId;
    const res = (await this.#socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: sent,
      tabId: this.#options.tabId,
      slots: this.#options.slots(),
      ...(this.#options.grid ? { grid: this.#options.grid } : {}),
      ...(this.#options.nickname ? { nickname: this.#options.nickname } : {}),
      userAgent: navigator.userAgent.slice(0, 512),
    })) as Ack<Welcome>;
    if (!res.ok) {
      this.#options.onError(res.error);
      return;
    }
    // The coordinator issues device ids: keep the one it gave, for this tab and the browser's next.
    if (res.data.deviceId !== sent) {
      this.#deviceId = res.data.deviceId;
      void this.#options.replaceDeviceId(sent, res.data.deviceId).catch(() => {
        // Not stored: this tab still counts as the issued id; the next start is issued another.
      });
    }
    if (res.data.nodes && res.data.nodes.length > 0) this.#nodes = res.data.nodes;
    this.#registered = true;
    this.#options.onState('connected');
    await this.#options.onWelcome(res.data);
  }
}
