import { expect } from 'chai';
import fc from 'fast-check';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { FlowTable } from '../state/flow-table.js';
import { wordsOf } from '../wire/bytes.js';
import { emitTcpFrame, ParseFlag, TcpFrameTemplate, tcpFrameHeaderLength } from '../wire/frame.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions } from '../wire/tcp-options.js';
import {
  preprocess,
  preprocessChecked,
  PreprocessContext,
  preprocessFast,
  PreVerdict,
} from './preprocess.js';
import { RxSummary } from './work-items.js';

const LOCAL_MAC = 0x02a0_0000_0001;
const LOCAL_IP = 0xc0a8_0101; // 192.168.1.1: at or above 2^31, the values V8 would box
const REMOTE_IP = 0x8a00_0002;

function context(parseFlags = 0): PreprocessContext {
  const table = new FlowTable(new ArrayBuffer(FlowTable.bytesFor(16)), 0, 16);
  table.insert(LOCAL_IP, REMOTE_IP, 80, 40000, 3);
  return new PreprocessContext(LOCAL_IP, LOCAL_MAC, table, 4, parseFlags);
}

interface SegmentShape {
  flags: number;
  options: 'none' | 'ts' | 'ts+sack' | 'mss';
  payload: Uint8Array;
  seq: number;
  ack: number;
  window: number;
  tsVal: number;
  tsEcr: number;
  ecn: number;
  vlan: boolean;
  dstMac: number;
  dstIp: number;
  srcPort: number;
}

function build(x: SegmentShape): PacketBuffer {
  const h = new TcpFrameTemplate();
  Object.assign(h.link, { dst: x.dstMac, src: 0x0200_0000_0002, vlanId: x.vlan ? 7 : -1 });
  Object.assign(h.ipv4, { src: REMOTE_IP, dst: x.dstIp, ttl: 64, ecn: x.ecn, flags: 2 });
  Object.assign(h.tcp, {
    srcPort: x.srcPort,
    dstPort: 80,
    seq: x.seq,
    ack: x.ack,
    flags: x.flags,
    window: x.window,
  });
  let o: TcpOptions | null = null;
  if (x.options !== 'none') {
    o = new TcpOptions();
    o.tsVal = x.tsVal;
    o.tsEcr = x.tsEcr;
    o.mss = 1460;
    o.present =
      x.options === 'ts'
        ? TcpOptionFlag.Timestamps
        : x.options === 'mss'
          ? TcpOptionFlag.Mss
          : TcpOptionFlag.Timestamps | TcpOptionFlag.Sack;
    o.sackBlockCount = 1;
    o.sackBlocks.set([x.seq + 100, x.seq + 200]);
  }
  const frame = new PacketBuffer(1536);
  const at = tcpFrameHeaderLength(h, o);
  frame.data.set(x.payload, at);
  frame.length = emitTcpFrame(frame.data, 0, h, o, x.payload.length);
  return frame;
}

const shape: fc.Arbitrary<SegmentShape> = fc.record({
  flags: fc.oneof(
    fc.constantFrom(
      TcpFlag.ACK,
      TcpFlag.ACK | TcpFlag.PSH,
      TcpFlag.ACK | TcpFlag.FIN,
      TcpFlag.ACK | TcpFlag.ECE | TcpFlag.CWR,
    ),
    fc.integer({ min: 0, max: 0xff }),
  ),
  options: fc.constantFrom('none' as const, 'ts' as const, 'ts' as const, 'ts+sack' as const, 'mss' as const),
  payload: fc.uint8Array({ maxLength: 1400 }),
  seq: fc.nat(0xffffffff),
  ack: fc.nat(0xffffffff),
  window: fc.nat(0xffff),
  tsVal: fc.nat(0xffffffff),
  tsEcr: fc.nat(0xffffffff),
  ecn: fc.nat(3),
  vlan: fc.nat(9).map((n) => n === 0),
  // Mostly the installed flow at our addresses; sometimes broadcast, another host, another flow.
  dstMac: fc.nat(19).map((n) => (n === 0 ? 0xffff_ffff_ffff : n === 1 ? 0x0200_0000_0009 : LOCAL_MAC)),
  dstIp: fc.nat(19).map((n) => (n === 0 ? 0x0a00_0001 : LOCAL_IP)),
  srcPort: fc.nat(19).map((n) => (n === 0 ? 40001 : 40000)),
});

/** Damage: none, a flipped bit somewhere in the frame, or a shorter frame. */
const damage = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const, at: 0 }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
);

function outcome(
  run: typeof preprocess,
  frame: PacketBuffer,
  ctx: PreprocessContext,
  words: boolean,
): Record<string, unknown> {
  const s = new RxSummary();
  ctx.frameWords = words ? wordsOf(frame.data) : null;
  ctx.frameBase = frame.data.byteOffset;
  const verdict = run(frame, ctx, s);
  const o: Record<string, unknown> = {
    verdict,
    wireError: ctx.wireError,
    slowPathReason: ctx.slowPathReason,
    notForUs: ctx.notForUs,
  };
  if (verdict === PreVerdict.DataPath) {
    Object.assign(o, { ...s, frame: s.frame === frame });
    if (!s.hasTimestamp) {
      delete o.tsVal; // meaningless without the option
      delete o.tsEcr;
    }
  }
  return o;
}

describe('pipeline/preprocess', () => {
  for (const [name, flags] of [
    ['checksums verified in software', 0],
    ['checksums offloaded to the port', ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum],
  ] as const) {
    it(`the fast path decides every frame exactly as the checked parser (${name})`, () => {
      let fastTaken = 0;
      fc.assert(
        fc.property(shape, damage, fc.boolean(), (x, d, words) => {
          const frame = build(x);
          if (d.kind === 'flip') {
            const bit = d.at % (frame.length * 8);
            frame.data[bit >>> 3]! ^= 1 << (bit & 7);
          } else if (d.kind === 'truncate') {
            frame.length = d.at % (frame.length + 1);
          }
          if (preprocessFast(frame, context(flags), new RxSummary())) fastTaken++;
          const fast = outcome(preprocess, frame, context(flags), words);
          const checked = outcome(preprocessChecked, frame, context(flags), words);
          expect(fast).to.deep.equal(checked);
        }),
        { numRuns: 3000 },
      );
      // The generator reaches both paths often.
      expect(fastTaken).to.be.within(300, 2700);
    });
  }

  it('takes the established shape on the data path and fills the summary', () => {
    const frame = build({
      flags: TcpFlag.ACK | TcpFlag.PSH,
      options: 'ts',
      payload: Uint8Array.of(1, 2, 3),
      seq: 0xfffffff0,
      ack: 0x80000001,
      window: 512,
      tsVal: 0xdeadbeef,
      tsEcr: 0xcafebabe,
      ecn: 3,
      vlan: false,
      dstMac: LOCAL_MAC,
      dstIp: LOCAL_IP,
      srcPort: 40000,
    });
    const s = new RxSummary();
    expect(preprocessFast(frame, context(), s)).to.equal(true);
    expect(preprocess(frame, context(), s)).to.equal(PreVerdict.DataPath);
    expect(s).to.include({
      flowId: 3,
      // The 32-bit fields as int32 bits (RxSummary).
      seq: 0xfffffff0 | 0,
      ack: 0x80000001 | 0,
      window: 512,
      tsVal: 0xdeadbeef | 0,
      tsEcr: 0xcafebabe | 0,
      hasTimestamp: true,
      ce: true,
      payloadOffset: 66,
      payloadLength: 3,
    });
  });
});
