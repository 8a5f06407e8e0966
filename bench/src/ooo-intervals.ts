/**
 * Out-of-order intervals (core issue: "the number of OOO intervals is a parameter; more than one
 * is our improvement; measure it"). FlexTOE keeps ONE out-of-order interval per flow: data past
 * a second hole is dropped and, after go-back-N, sent again. With `k` intervals the receiver
 * keeps up to k islands beyond holes, so a burst of losses costs only the holes.
 *
 * The measurement: one bulk transfer between two inline stacks over the core's virtual wire
 * (10 Gbit/s, 25 us one way) with loss and reordering injected on receive at both ends
 * (FaultInjectingPort), in virtual time. The same seeds give the same run, so goodput (bytes
 * delivered per second of virtual time) compares k = 1 against k = 4 exactly, without noise
 * from the machine. Goodput, the segments sent beyond what the payload needed, retransmissions
 * and the segments no interval could hold are reported per run.
 *
 * What it shows (see the report in `npm run bench`): k = 4 removes the out-of-order drops, but
 * goodput barely moves, because recovery is go-back-N (FlexTOE): after a rewind the sender
 * re-sends from SND.UNA, the duplicates it sends draw duplicate ACKs, and those can trigger the
 * next rewind; retained out-of-order data only shortens the re-send once the hole is filled.
 */
import {
  FaultInjectingPort,
  HeapMemoryTiers,
  ManualClock,
  MemcpyDma,
  runVirtual,
  TcpStack,
  VirtualNetwork,
  type Connection,
} from '@flextoe/core';

export interface OooIntervalsOptions {
  /** Out-of-order intervals per flow (the stack option `oooIntervals`). */
  readonly oooIntervals: number;
  /** Bytes to move (default 16 MiB). */
  readonly totalBytes?: number;
  /** Probability a frame is lost, each direction (default 0.01). */
  readonly loss?: number;
  /** Probability a frame is held back behind 3 later ones, each direction (default 0.01). */
  readonly reorder?: number;
  /** Wire rate and one-way delay (default 10 Gbit/s, 25 us). */
  readonly rateGbps?: number;
  readonly delayNs?: number;
  /** PRNG seed of the fault injectors (default 7). */
  readonly seed?: number;
  /** Congestion control (default FlexTOE's, 'dctcp-rate': the rate halves on every retransmit). */
  readonly cc?: 'const-rate' | 'dctcp-rate' | 'dctcp-window' | 'timely' | 'newreno';
}

export interface OooIntervalsResult {
  readonly oooIntervals: number;
  readonly loss: number;
  readonly reorder: number;
  readonly cc: string;
  readonly totalBytes: number;
  /** Virtual time from the first byte written to the last byte read. */
  readonly virtualSeconds: number;
  /** Application bytes delivered per second of virtual time. */
  readonly goodputGbps: number;
  /** Data segments the sender transmitted, and how many more than the payload needed. */
  readonly dataSegments: number;
  readonly extraSegments: number;
  readonly fastRetransmits: number;
  readonly timeoutRetransmits: number;
  /** Received segments dropped because no out-of-order interval could hold them. */
  readonly oooDropped: number;
}

/** One deterministic lossy bulk transfer with `oooIntervals` intervals per flow. */
export function runOooIntervals(o: OooIntervalsOptions): OooIntervalsResult {
  const totalBytes = o.totalBytes ?? 16 << 20;
  const loss = o.loss ?? 0.01;
  const reorder = o.reorder ?? 0.01;
  const seed = o.seed ?? 7;
  const cc = o.cc ?? 'dctcp-rate';
  const clock = new ManualClock();
  const net = new VirtualNetwork({
    clock,
    timers: clock,
    rateGbps: o.rateGbps ?? 10,
    delayNs: o.delayNs ?? 25_000,
  });
  const mk = (ip: string, portSeed: number): TcpStack =>
    new TcpStack(
      {
        port: new FaultInjectingPort(net.attach(), {
          loss,
          reorder,
          reorderDepth: 3,
          seed: seed * 16 + portSeed,
          clock,
          timers: clock,
        }),
        dma: new MemcpyDma(),
        clock,
        timers: clock,
        tiers: new HeapMemoryTiers(),
      },
      { ip, maxFlows: 4, oooIntervals: o.oooIntervals, cc, minRtoMs: 2, synRtoMs: 20, controlTickUs: 100 },
    );
  const a = mk('10.0.0.1/24', 1);
  const b = mk('10.0.0.2/24', 2);
  let received = 0;
  let server: Connection | null = null;
  a.listen(9, (s) => {
    server = s;
    s.handlers.onReadable = (x) => {
      received += x.readableLength;
      x.consume(x.readableLength);
    };
  });
  const c = b.connect('10.0.0.1', 9);
  if (!runVirtual([a, b], clock, () => server !== null && c.canWrite, 10e9))
    throw new Error('ooo-intervals: the handshake did not complete');
  const chunk = Buffer.alloc(64 * 1024, 0x6b);
  let sent = 0;
  c.handlers.onWritable = () => {
    while (sent < totalBytes) {
      const n = c.write(chunk, 0, Math.min(chunk.length, totalBytes - sent));
      if (n === 0) break;
      sent += n;
    }
  };
  const start = clock.now();
  c.handlers.onWritable(c);
  if (!runVirtual([a, b], clock, () => received >= totalBytes, 3600e9))
    throw new Error(`ooo-intervals: transfer stalled at ${received} of ${totalBytes} bytes`);
  const virtualSeconds = (clock.now() - start) / 1e9;
  const tx = b.stats().dataPath;
  const rx = a.stats().dataPath;
  const dataSegments = tx.post.dataSegments;
  // Full-sized segments: MSS 1460 less 12 bytes of timestamps.
  const needed = Math.ceil(totalBytes / (1460 - 12));
  a.close();
  b.close();
  return {
    oooIntervals: o.oooIntervals,
    loss,
    reorder,
    cc,
    totalBytes,
    virtualSeconds,
    goodputGbps: (totalBytes * 8) / virtualSeconds / 1e9,
    dataSegments,
    extraSegments: Math.max(0, dataSegments - needed),
    fastRetransmits: tx.protocol.fastRetransmits,
    timeoutRetransmits: tx.protocol.timeoutRetransmits,
    oooDropped: rx.protocol.drops.OooNoInterval ?? 0,
  };
}

export interface OooIntervalsComparison {
  readonly runs: readonly OooIntervalsResult[];
  /** Goodput with the most intervals over goodput with one (FlexTOE's). */
  readonly goodputRatio: number;
}

/** The same lossy transfer with 1 interval (FlexTOE) and with `k` (default 4). */
export function compareOooIntervals(
  base: Omit<OooIntervalsOptions, 'oooIntervals'> = {},
  k = 4,
): OooIntervalsComparison {
  const one = runOooIntervals({ ...base, oooIntervals: 1 });
  const many = runOooIntervals({ ...base, oooIntervals: k });
  return { runs: [one, many], goodputRatio: many.goodputGbps / one.goodputGbps };
}
