import { expect } from 'chai';
import fc from 'fast-check';
import { WireError } from './drop-reason.js';
import { seq } from './seq.js';
import { patched, u16, u32, u8 } from './spec-helpers.js';
import {
  emitTcp,
  parseTcp,
  TCP_MIN_HEADER_LENGTH,
  tcpChecksumVerifies,
  TcpFlag,
  TcpHeader,
  tcpHeaderLength,
  writeTcpChecksum,
} from './tcp.js';
import { parseTcpOptions, TcpOptionFlag, TcpOptions } from './tcp-options.js';

const SRC = 0x0a000001;
const DST = 0xc0a84dfe;
const IP = { src: SRC, dst: DST };

/** A PSH|ACK segment with NOP NOP TS options and 5 payload bytes, checksum filled in. */
function sampleSegment(): Uint8Array {
  const h = new TcpHeader();
  Object.assign(h, { srcPort: 40000, dstPort: 80, flags: TcpFlag.PSH | TcpFlag.ACK, window: 512 });
  h.seq = seq.from(0xfffffffe);
  h.ack = seq.from(1000);
  const o = new TcpOptions();
  o.present = TcpOptionFlag.Timestamps;
  o.tsVal = 7;
  o.tsEcr = 9;
  const buf = new Uint8Array(32 + 5);
  buf.set([1, 2, 3, 4, 5], 32);
  emitTcp(buf, 0, h, o, 5, IP);
  return buf;
}

describe('wire/tcp (RFC 9293 3.1)', () => {
  it('parses ports, numbers, data offset, flags, window and where options and payload lie', () => {
    const buf = sampleSegment();
    const h = new TcpHeader();
    expect(parseTcp(buf, 0, buf.length, h)).to.equal(WireError.None);
    expect(h).to.deep.include({
      srcPort: 40000,
      dstPort: 80,
      seq: 0xfffffffe,
      ack: 1000,
      dataOffset: 8,
      flags: TcpFlag.PSH | TcpFlag.ACK,
      window: 512,
      urgentPointer: 0,
      headerLength: 32,
      optionsStart: 20,
      optionsEnd: 32,
      payloadStart: 32,
      payloadEnd: 37,
      payloadLength: 5,
    });
    expect(tcpChecksumVerifies(buf, 0, buf.length, IP)).to.equal(true);
  });

  it('ignores the four reserved bits (RFC 9293 3.1: "must be ignored in received segments")', () => {
    const buf = sampleSegment();
    buf[12]! |= 0x0f;
    const h = new TcpHeader();
    expect(parseTcp(buf, 0, buf.length, h)).to.equal(WireError.None);
    expect([h.dataOffset, h.flags]).to.deep.equal([8, TcpFlag.PSH | TcpFlag.ACK]);
  });

  describe('malformed headers', () => {
    it('fewer than 20 bytes: TcpTruncated', () => {
      const buf = sampleSegment();
      for (let n = 0; n < TCP_MIN_HEADER_LENGTH; n++)
        expect(parseTcp(buf, 0, n, new TcpHeader())).to.equal(WireError.TcpTruncated);
    });

    it('data offset below 5: TcpBadDataOffset', () => {
      for (let words = 0; words < 5; words++) {
        const buf = patched(sampleSegment(), 12, words << 4);
        expect(parseTcp(buf, 0, buf.length, new TcpHeader())).to.equal(WireError.TcpBadDataOffset);
      }
    });

    it('data offset beyond the segment: TcpBadDataOffset', () => {
      const buf = sampleSegment();
      expect(parseTcp(buf, 0, 31, new TcpHeader()), 'options cut short').to.equal(WireError.TcpBadDataOffset);
      const deep = patched(buf, 12, 0xf0); // 60-byte header in a 37-byte segment
      expect(parseTcp(deep, 0, deep.length, new TcpHeader())).to.equal(WireError.TcpBadDataOffset);
    });

    it('a changed byte, pseudo-header address or length fails the checksum', () => {
      const buf = sampleSegment();
      expect(tcpChecksumVerifies(patched(buf, 36, 6), 0, buf.length, IP)).to.equal(false);
      expect(tcpChecksumVerifies(buf, 0, buf.length, { src: SRC + 1, dst: DST })).to.equal(false);
      expect(tcpChecksumVerifies(buf, 0, buf.length, { src: SRC, dst: DST ^ 0x10000 })).to.equal(false);
      expect(tcpChecksumVerifies(buf, 0, buf.length - 1, IP)).to.equal(false);
    });
  });

  it('writeTcpChecksum covers an odd-length payload padded with zero', () => {
    const buf = new Uint8Array(23);
    buf.set([0x9c, 0x40, 0, 80], 0);
    buf[12] = 0x50;
    buf.set([0xaa, 0xbb, 0xcc], 20);
    writeTcpChecksum(buf, 0, 23, IP);
    expect(tcpChecksumVerifies(buf, 0, 23, IP)).to.equal(true);
  });

  it('emitTcp then parseTcp round-trips any header, options and payload; the checksum verifies', () => {
    const header = fc.record({
      srcPort: u16,
      dstPort: u16,
      seq: u32,
      ack: u32,
      flags: u8,
      window: u16,
      urgentPointer: u16,
    });
    const options = fc.option(
      fc.record({
        present: fc.nat(0x1f),
        mss: u16,
        wscale: fc.nat(14),
        tsVal: u32,
        tsEcr: u32,
        sacks: fc.nat(4),
      }),
      { nil: null },
    );
    fc.assert(
      fc.property(
        header,
        options,
        fc.uint8Array({ maxLength: 1500 }),
        u32,
        u32,
        fc.nat(9),
        (f, of, payload, src, dst, at) => {
          const sent = Object.assign(new TcpHeader(), f, { seq: seq.from(f.seq), ack: seq.from(f.ack) });
          let opts: TcpOptions | null = null;
          if (of !== null) {
            opts = Object.assign(new TcpOptions(), { present: of.present, mss: of.mss, wscale: of.wscale });
            Object.assign(opts, { tsVal: of.tsVal, tsEcr: of.tsEcr, sackBlockCount: of.sacks });
            opts.sackBlocks.set([10, 20, 30, 40, 50, 60, 70, 80]);
          }
          const headerLength = tcpHeaderLength(opts);
          const buf = new Uint8Array(at + headerLength + payload.length);
          buf.set(payload, at + headerLength);
          expect(emitTcp(buf, at, sent, opts, payload.length, { src, dst })).to.equal(headerLength);

          const got = new TcpHeader();
          expect(parseTcp(buf, at, buf.length, got)).to.equal(WireError.None);
          for (const k of [
            'srcPort',
            'dstPort',
            'seq',
            'ack',
            'flags',
            'window',
            'urgentPointer',
            'checksum',
          ] as const) {
            expect(got[k], k).to.equal(sent[k]);
          }
          expect([got.dataOffset, got.headerLength, got.payloadLength]).to.deep.equal([
            headerLength / 4,
            headerLength,
            payload.length,
          ]);
          expect(tcpChecksumVerifies(buf, at, buf.length, { src, dst })).to.equal(true);
          const gotOptions = new TcpOptions();
          expect(parseTcpOptions(buf, got.optionsStart, got.optionsEnd, gotOptions)).to.equal(WireError.None);
          if (opts !== null)
            expect(gotOptions.present & ~TcpOptionFlag.Sack).to.equal(opts.present & ~TcpOptionFlag.Sack);
        },
      ),
    );
  });
});
