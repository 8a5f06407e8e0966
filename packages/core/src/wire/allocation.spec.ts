// "The hot path allocates nothing per packet", checked on V8: after warm-up (so the code is
// optimized), a burst of parses and emits must leave the heap where it was. Field values are
// chosen at or above 2^31 (sequence numbers, addresses, timestamps, MACs) because those are the
// numbers V8 boxes when they cross a call it did not inline (see bytes.ts).

import { expect } from 'chai';
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ArpOp, ArpPacket } from './arp.js';
import { WireError } from './drop-reason.js';
import {
  emitArpFrame,
  emitTcpFrame,
  ParsedFrame,
  parseFrame,
  TcpFrameTemplate,
  tcpFrameHeaderLength,
} from './frame.js';
import { seq } from './seq.js';
import { TcpFlag } from './tcp.js';
import { TcpOptionFlag, TcpOptions } from './tcp-options.js';
import { LinkHeader } from './vlan.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const OPS = 20_000;

/** Bytes the heap grew by over OPS calls of `op`, or Infinity if a young-generation GC ran. */
async function heapGrowth(op: (i: number) => void): Promise<number> {
  let minorGcs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (
        (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MINOR
      )
        minorGcs++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  for (let i = 0; i < OPS; i++) op(i);
  const after = v8.getHeapStatistics().used_heap_size;
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return minorGcs > 0 ? Infinity : after - before;
}

/** Warms `op` up, then measures; retries a few times in case optimization is still in flight. */
async function bytesPerOp(op: (i: number) => void): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 6 && best >= 1; round++) {
    for (let i = 0; i < 50_000; i++) op(i);
    best = Math.min(best, (await heapGrowth(op)) / OPS);
  }
  return best;
}

function dataTemplate(): TcpFrameTemplate {
  const t = new TcpFrameTemplate();
  Object.assign(t.link, { dst: 0xfcfdfe9e7c81, src: 0x82000000000a, vlanId: 100 });
  Object.assign(t.ipv4, { src: 0xc0a80001, dst: 0xc0a800fe, ttl: 64 });
  Object.assign(t.tcp, { srcPort: 40000, dstPort: 80, flags: TcpFlag.ACK | TcpFlag.PSH, window: 65535 });
  t.tcp.seq = seq.from(0xfffff000);
  t.tcp.ack = seq.from(0x80000001);
  return t;
}

function establishedOptions(): TcpOptions {
  const o = new TcpOptions();
  o.present = TcpOptionFlag.Timestamps | TcpOptionFlag.Sack;
  o.tsVal = 0xdeadbeef;
  o.tsEcr = 0xcafebabe;
  o.sackBlockCount = 2;
  o.sackBlocks.set([0xfffffff0, 0x80000000, 0x90000000, 0xa0000000]);
  return o;
}

describe('wire: no allocation per packet (V8, after warm-up)', function () {
  this.timeout(60_000);

  it('parseFrame of a tagged TCP data segment with timestamps and SACK', async () => {
    const t = dataTemplate();
    const o = establishedOptions();
    const buf = new Uint8Array(1518);
    const n = emitTcpFrame(buf, 0, t, o, buf.length - tcpFrameHeaderLength(t, o));
    const f = new ParsedFrame();
    expect(parseFrame(buf, 0, n, f)).to.equal(WireError.None);
    expect(
      await bytesPerOp(() => {
        if (parseFrame(buf, 0, n, f) !== WireError.None) throw new Error('parse failed');
      }),
    ).to.be.below(1);
  });

  it('parseFrame of a malformed frame (error path)', async () => {
    const buf = new Uint8Array(128);
    const n = emitTcpFrame(buf, 0, dataTemplate(), establishedOptions(), 0);
    buf[n - 1]! ^= 0xff; // breaks the TCP checksum
    const f = new ParsedFrame();
    expect(parseFrame(buf, 0, n, f)).to.equal(WireError.TcpBadChecksum);
    expect(await bytesPerOp(() => parseFrame(buf, 0, n, f))).to.be.below(1);
  });

  it('emitTcpFrame of ACKs with changing sequence numbers and timestamps', async () => {
    const t = dataTemplate();
    const o = establishedOptions();
    const buf = new Uint8Array(128);
    expect(
      await bytesPerOp((i) => {
        t.tcp.ack = seq.add(t.tcp.ack, 1448);
        o.tsVal = (0x80000000 + i) >>> 0;
        emitTcpFrame(buf, 0, t, o, 0);
      }),
    ).to.be.below(1);
  });

  it('emitArpFrame and parseFrame of ARP', async () => {
    const link = Object.assign(new LinkHeader(), { dst: 0xffffffffffff, src: 0x82000000000a });
    const arp = Object.assign(new ArpPacket(), {
      op: ArpOp.Reply,
      senderMac: 0x82000000000a,
      senderIp: 0xc0a80001,
    });
    Object.assign(arp, { targetMac: 0xfcfdfe9e7c81, targetIp: 0xc0a800fe });
    const buf = new Uint8Array(64);
    const f = new ParsedFrame();
    expect(
      await bytesPerOp(() => {
        const n = emitArpFrame(buf, 0, link, arp);
        if (parseFrame(buf, 0, n, f) !== WireError.None) throw new Error('parse failed');
      }),
    ).to.be.below(1);
  });
});
