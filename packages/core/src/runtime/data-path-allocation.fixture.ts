/**
 * The zero-allocation measurement of data-path.spec.ts, run in a process of its own: two stacks
 * on an infinitely fast virtual wire move data in steady state and the heap must not grow with
 * the number of segments. A fresh process measures the data path's own type feedback: inside the
 * full suite, hundreds of other specs make some of the same call sites megamorphic and V8 then
 * boxes numbers there (0.9-1.2 B per segment seen in full-suite runs, never alone).
 *
 * Run: node --conditions=source --import tsx data-path-allocation.fixture.ts <payload> <counting 0|1>
 * Prints one JSON line: { bytesPerSegment, segments, dataSegments, modules: [...] }.
 */
import { fileURLToPath } from 'node:url';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { HookVerdict, type DataPathModule, type SegmentObservation } from '../pipeline/hooks.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { allocatedBy } from '../util/allocation-meter.js';
import { ManualClock } from '../util/manual-clock.js';
import type { Connection } from './connection.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { TcpStack } from './tcp-stack.js';
import { runVirtual } from './virtual-time.js';

export interface Pair {
  a: TcpStack;
  b: TcpStack;
  sender: Connection;
  /** Moves `bytes` from b to a; returns the segments both data paths received meanwhile. */
  transfer(bytes: number): number;
}

/** A module on all three hook points that counts (allocation-free, as a module should be). */
export class CountingModule implements DataPathModule {
  readonly name = 'counter';
  ingressFrames = 0;
  segments = 0;
  acceptedBytes = 0;
  egressFrames = 0;
  ingress(frame: PacketBuffer): HookVerdict {
    this.ingressFrames++;
    return frame.length > 0 ? HookVerdict.Pass : HookVerdict.Drop;
  }
  afterProtocol(s: Readonly<SegmentObservation>): void {
    this.segments++;
    this.acceptedBytes += s.acceptedBytes;
  }
  egress(): HookVerdict.Pass {
    this.egressFrames++;
    return HookVerdict.Pass;
  }
}

export function pair(payloadBytes: number, modules: (() => DataPathModule[]) | null = null): Pair {
  // Start the clock at 50 minutes: nanoseconds, and microsecond timestamps, beyond 2^31, the
  // values V8 would box if the data path passed them across calls.
  const clock = new ManualClock(3e12);
  const net = new VirtualNetwork({ clock, timers: clock });
  const options = { maxFlows: 4, mss: payloadBytes + 12, cc: 'const-rate' as const };
  const mk = (ip: string): TcpStack =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { ip, ...options, ...(modules ? { modules: modules() } : {}) },
    );
  const a = mk('10.0.0.1/24');
  const b = mk('10.0.0.2/24');
  let server: Connection | null = null;
  let received = 0;
  a.listen(9, (s) => {
    server = s;
    s.handlers.onReadable = (x) => {
      received += x.readableLength;
      x.consume(x.readableLength);
    };
  });
  const sender = b.connect('10.0.0.1', 9);
  if (!runVirtual([a, b], clock, () => server !== null && sender.canWrite, 10e9))
    throw new Error('the handshake did not complete');
  let goal = 0;
  let queued = 0;
  // The application appends in place (no copy, no view): only the data path runs per segment.
  const refill = (): void => {
    const room = Math.min(sender.writableLength, goal - queued);
    if (room < 16384 && queued + room < goal) return;
    if (room > 0) {
      sender.commit(room);
      queued += room;
    }
  };
  sender.handlers.onWritable = refill;
  const transfer = (bytes: number): number => {
    const before = a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames;
    goal += bytes;
    refill();
    while (received < goal) {
      const work = a.poll() + b.poll();
      if (work === 0) throw new Error(`transfer stalled at ${received} of ${goal} bytes`);
    }
    return a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames - before;
  };
  return { a, b, sender, transfer };
}

export interface AllocationResult {
  readonly bytesPerSegment: number;
  readonly segments: number;
  readonly dataSegments: number;
  /** Per stack (a, b): what the counting modules saw and the data path's own counters. */
  readonly modules: {
    ingress: number;
    rxFrames: number;
    segments: number;
    protocolRx: number;
    egress: number;
    txFrames: number;
  }[];
}

export function measureSteadyState(payload: number, counting: boolean): AllocationResult {
  const installed: CountingModule[] = [];
  const p = pair(
    payload,
    counting
      ? () => {
          const m = new CountingModule();
          installed.push(m);
          return [m];
        }
      : null,
  );
  const bytes = payload * 20_000;
  // Warm-up (JIT, rings, pools): eight transfers. Optimised code and its metadata are heap
  // (code and old space), and the application's own functions (commit, appended, the refill
  // callback: once per 16 KB, or per burst's TX-freed notification) reach V8's optimisation
  // thresholds only after several transfers; with two, their compilation inside a measured run
  // showed as 0.2-4 B/segment in single runs while the steady state allocated nothing (a
  // sampling heap profile of six later transfers: no sample in the data path).
  for (let w = 0; w < 8; w++) p.transfer(bytes);
  let segments = 0;
  // Best of three runs of 40 000 segments (data and ACKs): compiled code counts as heap, and
  // V8 may still be optimising during the first. A heap number per segment would be 16 B.
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const allocated = allocatedBy(() => {
      n = p.transfer(bytes);
    });
    segments = n;
    best = Math.min(best, allocated / n);
  }
  const modules = installed.map((m, i) => {
    const s = i === 0 ? p.a : p.b;
    return {
      ingress: m.ingressFrames,
      rxFrames: s.dataPath.counters.rxFrames,
      segments: m.segments,
      protocolRx: s.dataPath.counters.protocolRx,
      egress: m.egressFrames,
      txFrames: s.dataPath.counters.txFrames,
    };
  });
  const dataSegments = p.a.dataPath.counters.dataSegments + p.b.dataPath.counters.dataSegments;
  p.a.close();
  p.b.close();
  return { bytesPerSegment: best, segments, dataSegments, modules };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = measureSteadyState(Number(process.argv[2]), process.argv[3] === '1');
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
