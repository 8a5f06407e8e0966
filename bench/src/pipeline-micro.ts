/**
 * The pipeline micro-benchmark (core issue): segments per second per core through the whole
 * FlexTOE pipeline on the inline runner, for 64 B and MSS-sized payloads, and bytes allocated
 * per segment. Two stacks share one thread and one virtual wire with no delay and no rate
 * limit, in virtual time, so the only cost measured is the data path's CPU work: sender TX
 * (queue manager, protocol, post-processing, DMA from the host ring) and receiver RX
 * (pre-processing, reorder, protocol, DMA into the host ring, ACK), and the ACKs back.
 */
import {
  allocatedBy,
  HeapMemoryTiers,
  ManualClock,
  MemcpyDma,
  runVirtual,
  TcpStack,
  VirtualNetwork,
  type Connection,
} from '@flextoe/core';

export interface PipelineMicroResult {
  readonly payloadBytes: number;
  /** Frames through the receive pipelines of both stacks (data segments and ACKs). */
  readonly segments: number;
  readonly dataSegments: number;
  readonly cpuMs: number;
  /** Segments per second of CPU time: the whole pipeline on one core. */
  readonly segmentsPerSecPerCore: number;
  readonly bytesAllocatedPerSegment: number;
}

/** Moves `totalBytes` one way with segments of `payloadBytes` and measures. */
export function runPipelineMicro(payloadBytes: number, totalBytes: number): PipelineMicroResult {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock });
  // The announced MSS (RFC 9293 3.7.1) counts payload only; 12 B of it go to timestamps.
  const options = { maxFlows: 4, mss: payloadBytes + 12, cc: 'const-rate' as const, controlTickUs: 1000 };
  const mk = (ip: string): TcpStack =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { ip, ...options },
    );
  const a = mk('10.0.0.1/24');
  const b = mk('10.0.0.2/24');
  let received = 0;
  let server: Connection | null = null;
  a.listen(9, (s) => {
    server = s;
    s.handlers.onReadable = (x) => {
      const n = x.readableLength;
      received += n;
      x.consume(n);
    };
  });
  const c = b.connect('10.0.0.1', 9);
  runVirtual([a, b], clock, () => server !== null && c.canWrite, 10e9);
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let sent = 0;
  let goal = 0;
  // The application refills its TX ring a chunk at a time (a low-water mark, as a streaming
  // writer would), so its own per-write cost is not charged to every segment.
  c.handlers.onWritable = () => {
    while (sent < goal && c.writableLength >= Math.min(chunk.length, goal - sent))
      sent += c.write(chunk, 0, Math.min(chunk.length, goal - sent));
  };
  const pump = (bytes: number): void => {
    goal = sent + bytes;
    c.handlers.onWritable!(c);
    // Both stacks' poll loops, run to completion; on this wire nothing waits for time in steady
    // state, and should a transfer idle (a timer pending) virtual time takes over until done.
    while (received < goal) {
      if (a.poll() + b.poll() > 0) continue;
      if (!runVirtual([a, b], clock, () => received >= goal, 3600e9))
        throw new Error(`pipeline micro-benchmark stalled at ${received} of ${goal} bytes`);
    }
  };
  pump(Math.min(totalBytes, 4 << 20)); // warm-up: JIT, rings, pools
  const rxBefore = a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames;
  const dataBefore = b.dataPath.counters.dataSegments;
  let cpu = { user: 0, system: 0 };
  const allocated = allocatedBy(() => {
    const cpu0 = process.cpuUsage();
    pump(totalBytes);
    cpu = process.cpuUsage(cpu0);
  });
  const segments = a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames - rxBefore;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  a.close();
  b.close();
  return {
    payloadBytes,
    segments,
    dataSegments: b.dataPath.counters.dataSegments - dataBefore,
    cpuMs,
    segmentsPerSecPerCore: segments / (cpuMs / 1000),
    bytesAllocatedPerSegment: allocated / segments,
  };
}
