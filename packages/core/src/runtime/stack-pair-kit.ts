/**
 * Spec kit: two inline stacks on one ports' virtual wire (a at 10.0.0.1 listening on 7, b
 * connected to it), connected in virtual time, each side's reads collected. For specs that put
 * a port wrapper under one side and move data both ways.
 */
import { MemcpyDma } from '../dma/memcpy-dma.js';
import type { NicPort } from '../hw/nic-port.js';
import type { ManualClock } from '../util/manual-clock.js';
import type { Connection } from './connection.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { TcpStack, type TcpStackOptions } from './tcp-stack.js';
import { runVirtual } from './virtual-time.js';

export interface StackPair {
  readonly a: TcpStack;
  readonly b: TcpStack;
  /** a's accepted connection and b's connection to it. */
  readonly server: Connection;
  readonly client: Connection;
  /** What each side read, in order. */
  readonly got: { readonly a: Buffer[]; readonly b: Buffer[] };
}

export function connectedPair(
  clock: ManualClock,
  portA: NicPort,
  portB: NicPort,
  options: Partial<TcpStackOptions> = {},
): StackPair {
  const hw = (port: NicPort) => ({
    port,
    dma: new MemcpyDma(),
    clock,
    timers: clock,
    tiers: new HeapMemoryTiers(),
  });
  const a = new TcpStack(hw(portA), { maxFlows: 4, cc: 'const-rate', ...options, ip: '10.0.0.1/24' });
  const b = new TcpStack(hw(portB), { maxFlows: 4, cc: 'const-rate', ...options, ip: '10.0.0.2/24' });
  const got = { a: [] as Buffer[], b: [] as Buffer[] };
  let server: Connection | null = null;
  a.listen(7, (s) => {
    server = s;
    s.handlers.onReadable = (c) => got.a.push(c.read()!);
  });
  const client = b.connect('10.0.0.1', 7, { onReadable: (c) => got.b.push(c.read()!) });
  if (!runVirtual([a, b], clock, () => server !== null && client.canWrite, 10e9))
    throw new Error('stack pair: the connection did not establish within 10 s of virtual time');
  return { a, b, server: server!, client, got };
}

/** Bytes in `chunks`. */
export const bytesIn = (chunks: readonly Buffer[]): number => chunks.reduce((n, c) => n + c.length, 0);
