/**
 * The stack the core's protocol suites build (the segment kit of rfc9293-states.spec.ts, the
 * transfer profiles): the inline `TcpStack` unless a backend installs its own factory, so the
 * same suites run, unchanged, on a backend's stack (the x86 backend: the data path on NIC core
 * worker threads, driven in lockstep on the suites' ManualClock). Test support, not an API.
 */
import type { ControlPlane } from '../control/control-plane.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import type { Listener } from '../control/control-plane.js';
import { TcpStack, type StackHardware, type StackStats, type TcpStackOptions } from './tcp-stack.js';
import type { Pollable } from './virtual-time.js';

/** What the suites use of a stack. */
export interface StackUnderTest extends Pollable {
  readonly localIp: number;
  readonly control: ControlPlane;
  readonly dataPath: { tsNow(): number };
  listen(port: number, onConnection: (c: Connection) => void, backlog?: number): Listener;
  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers?: ConnectionHandlers,
    localPort?: number,
  ): Connection;
  stats(): StackStats;
  close(): void | Promise<void>;
}

export type StackFactory = (hw: StackHardware, options: TcpStackOptions) => StackUnderTest;

const inline: StackFactory = (hw, options) => new TcpStack(hw, options);
let current: StackFactory = inline;

/** Builds the stack under test on `hw`. */
export function buildStackUnderTest(hw: StackHardware, options: TcpStackOptions): StackUnderTest {
  return current(hw, options);
}

/** Installs a backend's factory for the suites that run next; null restores the inline stack. */
export function setStackUnderTest(factory: StackFactory | null): void {
  current = factory ?? inline;
}
