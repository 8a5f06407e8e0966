/**
 * The pipeline micro-benchmark (core issue): segments per second per core through the whole
 * FlexTOE pipeline on the inline runner, for 64 B and MSS-sized payloads, and bytes allocated
 * per segment.
 *
 * Two inline stacks share one thread and one virtual wire with no delay and no rate limit, so
 * nothing waits for time: one bulk connection moves `totalBytes` one way and the benchmark
 * reports the thread's CPU time.
 *
 * One "segment" is one frame through a receive pipeline: the data segments the receiver takes
 * in and the ACKs the sender takes in (delayed ACKs are off, so about two per data segment;
 * `dataSegments` counts the data alone). The CPU time per segment therefore covers, for every
 * data segment and its ACK:
 *  - sender TX: queue manager, protocol, egress number, DMA of the payload from the host ring,
 *    post-processing (headers, checksums), egress re-sequencer, port transmit;
 *  - receiver RX: port receive, pre-processing (parse, checksums, flow lookup), ingress
 *    sequencing and reorder, protocol, DMA into the host ring, context-queue notification, the
 *    ACK through post-processing and egress;
 *  - sender RX of the ACK: pre-processing, reorder, protocol, TX-freed notification;
 *  - around them, and counted too: the virtual wire (a switch and two frame copies per frame),
 *    both stacks' poll loops (context-queue dispatch to the connections, the control plane's
 *    poll) and the application callbacks (the receiver consumes every notification, the sender
 *    refills its TX ring a 64 KiB chunk at a time, copying it in).
 * On the development machine the data path's own functions take about 85% of that time (CPU
 * profile); the rest is the wire, the dispatch and the application.
 *
 * Honesty: one thread, one core, does all of the above for both ends; the CPU time is the
 * process's (`process.cpuUsage`, V8's helper threads included), and a "segment" is one frame
 * with BOTH its transmit pass (at its sender) and its receive pass (at its receiver), so
 * segments/s per core counts each frame once though the core did two pipeline passes for it.
 *
 * What bounds it (the target is 2M segments/s/core, i.e. 500 ns per frame for both
 * passes, the wire and the application; `node --cpu-prof` of this benchmark, Node 20, a shared
 * 2-core EPYC VM, medians of alternating runs; see packages/core/README.md):
 *  - 64 B: about 0.6-0.7M segments/s/core (1.5 us per frame). The profile is flat: about 40
 *    functions, none above ~10% self time: the RX loop with protocol and DMA glue (pollRx ~10%),
 *    the wire's two frame copies (~10%), record cursors (~6%), header build and parse (~5% each),
 *    DMA submit (~5%), payload checksums (~4%), the rest 1-3% each (reorder buffers, queue
 *    manager, context queues, dispatch, application). There is no single hot spot left to remove:
 *    reaching 500 ns means a third of the work per frame, not a faster stage.
 *  - 1448 B: about 0.3-0.4M segments/s/core. Payload loops dominate: DMA copies (~20% self,
 *    JavaScript word loops: Node 20 has no allocation-free native copy between two ArrayBuffers;
 *    `Buffer#copy` and `set(subarray)` allocate a ~96 B view each, `copyWithin` stays inside one
 *    buffer) and Internet checksums (~16%): four passes over the payload per data segment (copy
 *    out of the TX ring, TX checksum, RX checksum, copy into the RX ring).
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
  /** CPU nanoseconds per segment (the inverse of the above). */
  readonly nsPerSegment: number;
  /** Data segments per second of CPU time, each with its ACK. */
  readonly dataSegmentsPerSecPerCore: number;
  /** Heap bytes allocated during the measured transfer, per segment (application included). */
  readonly bytesAllocatedPerSegment: number;
}

/** CPU time spent warming up before the measured transfer. */
const WARM_UP_CPU_US = 400_000;

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
  // Warm-up (JIT, rings, pools): V8 keeps optimising for a while, so run for a fixed share of
  // CPU time rather than a fixed size (4 MiB of MSS segments is only ~3000 of them).
  const warm0 = process.cpuUsage();
  pump(Math.min(totalBytes, 4 << 20));
  for (;;) {
    const w = process.cpuUsage(warm0);
    if (w.user + w.system >= WARM_UP_CPU_US) break;
    pump(1 << 20);
  }
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
  const dataSegments = b.dataPath.counters.dataSegments - dataBefore;
  return {
    payloadBytes,
    segments,
    dataSegments,
    cpuMs,
    segmentsPerSecPerCore: segments / (cpuMs / 1000),
    nsPerSegment: (cpuMs * 1e6) / segments,
    dataSegmentsPerSecPerCore: dataSegments / (cpuMs / 1000),
    bytesAllocatedPerSegment: allocated / segments,
  };
}
