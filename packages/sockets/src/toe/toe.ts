/**
 * `createToe(stack)`: the low-level API, FlexTOE's libTOE layer, for applications that want
 * its zero-copy model rather than a `net.Socket` stream: per-connection RX/TX rings in host
 * memory read and written in place, explicit "consumed N" / "appended N" bumps, and pollers
 * (application contexts with their own event queue) with epoll-style readiness for many
 * connections.
 *
 *   const toe = createToe(stack);
 *   const poller = toe.poller();
 *   poller.add(toe.listen(7), ToeEvent.Readable);
 *   for (;;) for (const { target, events } of await poller.wait()) { ... }
 */
import type { StackApi } from '@flextoe/core';
import { ToeConnection } from './connection.js';
import { ToeListener, type ToeListenOptions } from './listener.js';
import { Poller } from './poller.js';
import type { Pollable } from './connection.js';

export interface ToeConnectOptions {
  /** Local port; default: an ephemeral one. */
  localPort?: number;
}

export class Toe {
  constructor(readonly stack: StackApi) {}

  /** Passive open on `port`; throws TcpError EADDRINUSE when the port is taken. */
  listen(port: number, options: ToeListenOptions = {}): ToeListener {
    checkPort(port, 'listen');
    return new ToeListener(this.stack, port, options);
  }

  /**
   * Active open to an IPv4 address. Completion shows as `Writable` on a poller (as a
   * non-blocking connect(2) does); failure as `Error|Hangup` with `connection.error`.
   */
  connect(address: string | number, port: number, options: ToeConnectOptions = {}): ToeConnection {
    checkPort(port, 'connect');
    return new ToeConnection(this.stack.connect(address, port, {}, options.localPort ?? 0));
  }

  /** A new application context: its own event queue and readiness interface. */
  poller<T extends Pollable = ToeConnection | ToeListener>(): Poller<T> {
    return new Poller<T>();
  }
}

/** On a `createStack()` stack (its `backendStack`) or directly on a backend's `StackApi`. */
export function createToe(stack: StackApi | { readonly backendStack: StackApi }): Toe {
  return new Toe('backendStack' in stack ? stack.backendStack : stack);
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError(`${what}: port is ${port} but must be an integer 1..65535`);
}
