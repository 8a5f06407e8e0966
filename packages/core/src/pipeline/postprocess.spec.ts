import { expect } from 'chai';
import fc from 'fast-check';
import { HeapMemoryTiers } from '../runtime/heap-memory.js';
import { FlowStateTables } from '../state/flow-records.js';
import { wordsOf } from '../wire/bytes.js';
import { foldSum, pseudoHeaderSum } from '../wire/checksum.js';
import { emitTcpFrame, ParsedFrame, parseFrame, TcpFrameTemplate } from '../wire/frame.js';
import { Ecn } from '../wire/ipv4.js';
import { seq } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions } from '../wire/tcp-options.js';
import { WireError } from '../wire/drop-reason.js';
import { buildSegment, payloadOffset, PostprocessContext } from './postprocess.js';
import { ProtocolResult } from './work-items.js';

const u32 = fc.nat(0xffffffff);
const u16 = fc.nat(0xffff);
const mac = fc.nat(2 ** 48 - 1).map((m) => m - (Math.floor(m / 2 ** 40) & 1) * 2 ** 40); // unicast

describe('pipeline/postprocess buildSegment', () => {
  it('writes the same bytes as emitTcpFrame for the same fields, and the frame parses with valid checksums', () => {
    const tables = new FlowStateTables(4, new HeapMemoryTiers());
    fc.assert(
      fc.property(
        fc.record({
          localIp: u32,
          remoteIp: u32,
          localPort: u16,
          remotePort: u16,
          localMac: mac,
          remoteMac: mac,
          seq: u32,
          ack: u32,
          window: u16,
          tsVal: u32,
          tsEcr: u32,
          flags: fc.constantFrom(0, TcpFlag.PSH, TcpFlag.FIN, TcpFlag.ECE, TcpFlag.CWR | TcpFlag.PSH),
          timestamps: fc.boolean(),
          ecn: fc.boolean(),
          payload: fc.uint8Array({ maxLength: 1448 }),
          words: fc.boolean(),
          // Where the frame starts in its ArrayBuffer (the data path's transmit slots: 2 or 6
          // bytes past a word): the payload's word sum at every alignment.
          at: fc.constantFrom(0, 1, 2, 3, 2, 6),
          offload: fc.boolean(),
        }),
        (x) => {
          const id = tables.identity.at(2);
          id.write(x.localIp, x.remoteIp, x.localPort, x.remotePort, x.localMac, x.remoteMac, 1);
          const res = new ProtocolResult();
          res.seq = seq.from(x.seq);
          res.ack = seq.from(x.ack);
          res.window = x.window;
          res.tsEcr = x.tsEcr;
          const ctx = new PostprocessContext();
          ctx.tsNow = x.tsVal;
          ctx.txChecksumOffload = x.offload;
          const region = Buffer.alloc(1536 + 8, 0xee);
          const frame = region.subarray(x.at, x.at + 1536);
          ctx.frameWords = x.words ? wordsOf(frame) : null;
          ctx.frameBase = frame.byteOffset;
          const off = payloadOffset(ctx, x.timestamps);
          frame.set(x.payload, off);
          const len = buildSegment(ctx, frame, id, res, x.flags, x.timestamps, x.ecn, x.payload.length);

          // The reference: the wire module's checked emitter over the same fields.
          const h = new TcpFrameTemplate();
          Object.assign(h.link, { dst: x.remoteMac, src: x.localMac });
          Object.assign(h.ipv4, {
            src: x.localIp,
            dst: x.remoteIp,
            id: 1,
            flags: 2,
            ttl: 64,
            ecn: x.ecn && x.payload.length > 0 ? Ecn.Ect0 : Ecn.NotEct,
          });
          Object.assign(h.tcp, {
            srcPort: x.localPort,
            dstPort: x.remotePort,
            seq: x.seq,
            ack: x.ack,
            window: x.window,
            flags: TcpFlag.ACK | x.flags,
          });
          let o: TcpOptions | null = null;
          if (x.timestamps) {
            o = new TcpOptions();
            o.present = TcpOptionFlag.Timestamps;
            o.tsVal = x.tsVal;
            o.tsEcr = x.tsEcr;
          }
          const ref = Buffer.alloc(1536, 0xee);
          ref.set(x.payload, off);
          const refLen = emitTcpFrame(ref, 0, h, o, x.payload.length);
          expect(len).to.equal(refLen);
          if (x.offload) {
            // The port fills the TCP checksum: the field holds the pseudo-header sum (DPDK's
            // PKT_TX_TCP_CKSUM convention); every other byte is the reference's.
            const tcpLength = len - 34;
            const pseudo = foldSum(pseudoHeaderSum({ src: x.localIp, dst: x.remoteIp }, 6, tcpLength));
            expect(frame.readUInt16BE(50)).to.equal(pseudo);
            frame.writeUInt16BE(ref.readUInt16BE(50), 50);
          }
          expect(frame.subarray(0, len).toString('hex')).to.equal(ref.subarray(0, refLen).toString('hex'));
          expect(parseFrame(frame, 0, len, new ParsedFrame())).to.equal(WireError.None);
          expect(
            region.subarray(0, x.at).every((b) => b === 0xee),
            'bytes before the frame',
          ).to.equal(true);
          expect(
            frame.subarray(len).every((b) => b === 0xee),
            'bytes after the frame',
          ).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
