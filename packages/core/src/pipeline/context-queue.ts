/**
 * Context queues (FlexTOE stage 5): per-application-context rings in shared memory. The NIC
 * writes notifications ("N bytes received", "N bytes acknowledged", "FIN"); the application
 * writes requests ("I appended N bytes", "I consumed N bytes", "close"). Entries are 4 words:
 * [kind, id, n, 0] where id is the application's opaque connection id (notifications) or the
 * flow id (requests).
 */
import { SpscRing } from '../queues/spsc-ring.js';

export const CONTEXT_ENTRY_WORDS = 4;

/** NIC -> application. */
export enum Notification {
  RxData = 1,
  TxFreed = 2,
  Fin = 3,
}

/** Application or host control plane -> NIC protocol stage. */
export enum Request {
  TxAppended = 1,
  RxConsumed = 2,
  Close = 3,
  /** Control plane: go-back-N after a timeout. */
  Retransmit = 4,
  /** Control plane: probe a zero window. */
  PersistProbe = 5,
  /** Control plane: the delayed-ACK timer fired. */
  AckTimeout = 6,
}

export class ContextQueue {
  readonly notifications: SpscRing;
  readonly requests: SpscRing;

  constructor(
    readonly id: number,
    entries: number,
  ) {
    const bytes = SpscRing.bytesFor(CONTEXT_ENTRY_WORDS, entries);
    this.notifications = new SpscRing(new SharedArrayBuffer(bytes), 0, CONTEXT_ENTRY_WORDS, entries);
    this.requests = new SpscRing(new SharedArrayBuffer(bytes), 0, CONTEXT_ENTRY_WORDS, entries);
  }
}
