// "Hot paths allocate nothing per packet" for the whole data path, checked on V8: two stacks on
// an infinitely fast virtual wire move data in steady state, and the heap must not grow with the
// number of segments. Every segment crosses the TX path of one data path (queue manager,
// protocol, DMA from the host ring, post-processing, egress) and the RX path of the other
// (pre-processing, sequencing and reorder, protocol, DMA into the host ring, context-queue
// notification, ACK), and its ACK crosses the RX path back. The application side of the test
// allocates nothing itself (it writes straight into the TX ring and consumes in place).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { DmaDirection, type DmaEngine } from '../hw/dma-engine.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { L4Kind, ParseFlag, ParsedFrame, parseFrame } from '../wire/frame.js';
import { writeTcpChecksum } from '../wire/tcp.js';
import { WireError } from '../wire/drop-reason.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import type { AllocationResult } from './data-path-allocation.fixture.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { TcpStack } from './tcp-stack.js';
import { runVirtual } from './virtual-time.js';

describe('runtime/data-path allocation', function () {
  this.timeout(180_000);
  // Each measurement runs in a fresh process (data-path-allocation.fixture.ts says why).
  const fixture = fileURLToPath(new URL('./data-path-allocation.fixture.ts', import.meta.url));

  const variants = [
    { payload: 64, counting: false },
    { payload: 1448, counting: false },
    { payload: 64, counting: true },
  ];
  for (const { payload, counting } of variants) {
    const label = counting ? ', a counting module on all three hook points' : '';
    it(`allocates nothing per segment in steady state, RX and TX paths (${payload} B segments${label})`, () => {
      const child = spawnSync(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', fixture, String(payload), counting ? '1' : '0'],
        { encoding: 'utf8', timeout: 150_000 },
      );
      expect(child.status, child.stderr).to.equal(0);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as AllocationResult;
      expect(r.segments).to.be.above(35_000);
      expect(r.dataSegments).to.be.above(60_000);
      expect(r.bytesPerSegment, 'bytes allocated per segment').to.be.below(0.5);
      // The modules ran on every frame: their counts are the data path's.
      for (const m of r.modules) {
        expect(m.ingress).to.equal(m.rxFrames);
        expect(m.segments).to.equal(m.protocolRx);
        expect(m.egress).to.equal(m.txFrames);
      }
      expect(r.modules.length).to.equal(counting ? 2 : 0);
    });
  }
});

/**
 * MemcpyDma that refuses the host -> NIC copies numbered in `refuse` (1-based), even with
 * nothing in flight (a broken engine: the data path waits for completions and tries once more,
 * so a segment is dropped only when two calls in a row are refused).
 */
class RefusingDma extends MemcpyDma {
  fromHost = 0;
  constructor(private readonly refuse: Set<number>) {
    super();
  }
  override submit(...args: Parameters<DmaEngine['submit']>): boolean {
    if (args[0] === DmaDirection.FromHost && this.refuse.has(++this.fromHost)) return false;
    return super.submit(...args);
  }
  // The one-pass copy and sum (transmit payloads, software checksums) refuses the same way.
  override submitSummed(...args: Parameters<DmaEngine['submit']>): number {
    if (args[0] === DmaDirection.FromHost && this.refuse.has(++this.fromHost)) return -1;
    return super.submitSummed(...args);
  }
}

describe('runtime/data-path egress re-sequencing', () => {
  it('a segment dropped before egress (DMA refused) still consumes its number: later segments leave in order, TCP recovers', () => {
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock, timers: clock });
    const refusing = new RefusingDma(new Set([5, 6, 40, 41]));
    const portB = net.attach();
    // Every data segment b sends, in wire order.
    const wire: number[] = [];
    const parsed = new ParsedFrame();
    const txBurst = portB.txBurst.bind(portB);
    portB.txBurst = (bufs: PacketBuffer[], count: number): number => {
      for (let i = 0; i < count; i++) {
        parseFrame(bufs[i]!.data, 0, bufs[i]!.length, parsed);
        if (parsed.tcp.payloadLength > 0) wire.push(parsed.tcp.seq);
      }
      return txBurst(bufs, count);
    };
    const hw = (port: typeof portB, dma: DmaEngine) => ({
      port,
      dma,
      clock,
      timers: clock,
      tiers: new HeapMemoryTiers(),
    });
    const a = new TcpStack(hw(net.attach(), new MemcpyDma()), { ip: '10.0.0.1/24', cc: 'const-rate' });
    const b = new TcpStack(hw(portB, refusing), { ip: '10.0.0.2/24', cc: 'const-rate' });
    const got: Buffer[] = [];
    a.listen(9, (s) => {
      s.handlers.onReadable = (x) => got.push(x.read()!);
    });
    const c = b.connect('10.0.0.1', 9);
    expect(runVirtual([a, b], clock, () => c.canWrite, 10e9)).to.equal(true);
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131) >>> 3;
    let off = 0;
    c.handlers.onWritable = () => {
      if (off < data.length) off += c.write(data, off);
    };
    c.handlers.onWritable(c);
    expect(runVirtual([a, b], clock, () => Buffer.concat(got).length === data.length, 60e9)).to.equal(true);
    expect(Buffer.concat(got).equals(data), 'byte-exact').to.equal(true);
    const stats = b.stats().dataPath;
    expect(stats.dma.refused).to.equal(2);
    expect(stats.egress.reorderRefused).to.equal(0);
    // The segment after each refused one still left, right behind its predecessor: the dropped
    // number was passed over, not waited for.
    const firstGap = wire.findIndex((s, i) => i > 0 && s - wire[i - 1]! > 1448);
    expect(firstGap).to.be.above(0);
    a.close();
    b.close();
  });
});

/**
 * An asynchronous engine, as a DMA thread is: `submit` only queues a copy (bounded in flight per
 * direction), the bytes move when `poll` collects it. A data path that published a notification
 * or sent a frame before its copies completed would hand out bytes that are not there yet.
 */
class DeferredDma implements DmaEngine {
  readonly limits = { inFlightPerQueue: 3, maxCopyBytes: 1 << 20 };
  private readonly queued: [DmaDirection, Uint8Array, number, Uint8Array, number, number, number][] = [];
  private readonly pending = [0, 0];
  submit(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): boolean {
    if (this.pending[direction]! >= this.limits.inFlightPerQueue) return false;
    this.pending[direction]!++;
    this.queued.push([direction, src, srcOffset, dst, dstOffset, length, tag]);
    return true;
  }
  poll(out: Uint32Array, max: number): number {
    let n = 0;
    // One completion per poll: the data path must keep polling until its copies are done.
    while (n < Math.min(max, 1) && this.queued.length > 0) {
      const [direction, src, srcOffset, dst, dstOffset, length, tag] = this.queued.shift()!;
      dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
      this.pending[direction]!--;
      out[n++] = tag;
    }
    return n;
  }
  inFlight(direction: DmaDirection): number {
    return this.pending[direction]!;
  }
}

describe('runtime/data-path DMA completion semantics', () => {
  for (const offload of [false, true]) {
    it(`releases notifications and frames only after an asynchronous engine completed their copies (tx checksum offload ${offload})`, () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, timers: clock });
      const hw = (dma: DmaEngine) => {
        const port = net.attach();
        if (offload) {
          // A port that fills TCP checksums itself, as a NIC does: post-processing then never
          // reads the payload, and only the burst's end waits for the copies.
          (port as { capabilities: object }).capabilities = { ...port.capabilities, txChecksumOffload: true };
          const txBurst = port.txBurst.bind(port);
          const parsed = new ParsedFrame();
          port.txBurst = (bufs: PacketBuffer[], count: number): number => {
            for (let i = 0; i < count; i++) {
              const f = bufs[i]!;
              if (
                parseFrame(f.data, 0, f.length, parsed, ParseFlag.SkipTcpChecksum) === WireError.None &&
                parsed.l4 === L4Kind.Tcp
              )
                writeTcpChecksum(f.data, parsed.l4Offset, parsed.frameEnd, parsed.ipv4);
            }
            return txBurst(bufs, count);
          };
        }
        return { port, dma, clock, timers: clock, tiers: new HeapMemoryTiers() };
      };
      const a = new TcpStack(hw(new DeferredDma()), { ip: '10.0.0.1/24', cc: 'const-rate' });
      const b = new TcpStack(hw(new DeferredDma()), { ip: '10.0.0.2/24', cc: 'const-rate' });
      const got: Buffer[] = [];
      a.listen(9, (s) => {
        s.handlers.onReadable = (x) => got.push(x.read()!);
      });
      const c = b.connect('10.0.0.1', 9);
      expect(runVirtual([a, b], clock, () => c.canWrite, 10e9)).to.equal(true);
      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 131) >>> 3;
      let off = 0;
      c.handlers.onWritable = () => {
        if (off < data.length) off += c.write(data, off);
      };
      c.handlers.onWritable(c);
      expect(runVirtual([a, b], clock, () => Buffer.concat(got).length >= data.length, 60e9)).to.equal(true);
      expect(Buffer.concat(got).equals(data), 'byte-exact').to.equal(true);
      for (const s of [a, b]) {
        const dma = s.stats().dataPath.dma;
        expect(dma.refused, 'no copy dropped: a full engine is waited for').to.equal(0);
        expect(dma.waits, 'bursts waited for completions').to.be.above(0);
      }
      // Every segment left with its payload in place: none arrived with a bad checksum.
      for (const s of [a, b]) expect(s.stats().dataPath.pre.malformed).to.deep.equal({});
      a.close();
      b.close();
    });
  }
});
