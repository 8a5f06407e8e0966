/**
 * A passive open of the low-level API: established connections wait in a bounded accept queue
 * until the application takes them (listen(2)/accept(2)). The handshake itself is the host
 * control plane's (FlexTOE keeps connection setup off the NIC data path).
 */
import type { Connection, Listener, StackApi } from '@flextoe/core';
import { ToeConnection, type Pollable, type ReadinessSink } from './connection.js';
import { ToeEvent, type ToeEventFlags } from './events.js';

export interface ToeListenOptions {
  /** Established connections waiting for `accept` (and half-open ones the stack keeps); default 511. */
  backlog?: number;
}

export class ToeListener implements Pollable {
  registration: ReadinessSink | null = null;
  /** Connections reset because the accept queue was full (Linux counts these as ListenOverflows). */
  overflows = 0;
  private readonly queue: ToeConnection[] = [];
  private head = 0;
  private readonly handle: Listener;
  private closedFlag = false;
  readonly backlog: number;

  constructor(
    private readonly stack: StackApi,
    readonly port: number,
    options: ToeListenOptions = {},
  ) {
    const backlog = options.backlog ?? 511;
    if (!Number.isInteger(backlog) || backlog < 1)
      throw new RangeError(`backlog is ${backlog} but must be an integer >= 1`);
    this.backlog = backlog;
    this.handle = stack.listen(port, (c) => this.established(c), backlog);
  }

  /** Connections waiting to be accepted. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The oldest established connection, or null when none waits. */
  accept(): ToeConnection | null {
    if (this.head === this.queue.length) return null;
    const c = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as ToeConnection;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    return c;
  }

  /** Stops listening; connections not yet accepted are reset. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.stack.unlisten(this.handle);
    for (let c = this.accept(); c !== null; c = this.accept()) c.abort();
    this.registration?.signal();
  }

  readiness(): ToeEventFlags {
    if (this.closedFlag) return ToeEvent.Hangup;
    return this.pending > 0 ? ToeEvent.Readable : 0;
  }

  private established(raw: Connection): void {
    if (this.closedFlag || this.pending >= this.backlog) {
      // A full accept queue refuses the connection with RST rather than queueing without bound.
      this.overflows++;
      raw.abort();
      return;
    }
    this.queue.push(new ToeConnection(raw));
    this.registration?.signal();
  }
}
