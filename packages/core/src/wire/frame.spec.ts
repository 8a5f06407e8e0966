import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ArpOp, ArpPacket } from './arp.js';
import { internetChecksum } from './checksum.js';
import { WireError, wireErrorName } from './drop-reason.js';
import { EtherType } from './ethernet.js';
import {
  emitArpFrame,
  emitTcpFrame,
  L4Kind,
  ParsedFrame,
  ParseFlag,
  parseFrame,
  TcpFrameTemplate,
  tcpFrameHeaderLength,
} from './frame.js';
import { Ecn, Ipv4Flag } from './ipv4.js';
import { seq } from './seq.js';
import { enumValues, fromHex, mac, patched, u16, u32, u8 } from './spec-helpers.js';
import { TcpFlag } from './tcp.js';
import { TcpOptionFlag, TcpOptions } from './tcp-options.js';
import { LinkHeader } from './vlan.js';

const WIRE_ERRORS = new Set(enumValues(WireError));

/** A data segment template: 10.0.0.1:40000 -> 10.0.0.2:80, DF, TTL 64, ECT(0). */
function template(vlanId = -1): TcpFrameTemplate {
  const t = new TcpFrameTemplate();
  Object.assign(t.link, { dst: 0x3cfdfe9e7c81, src: 0x02000000000a, vlanId, vlanPcp: 3 });
  Object.assign(t.ipv4, {
    src: 0x0a000001,
    dst: 0x0a000002,
    ttl: 64,
    flags: Ipv4Flag.DontFragment,
    ecn: Ecn.Ect0,
  });
  Object.assign(t.tcp, { srcPort: 40000, dstPort: 80, flags: TcpFlag.ACK | TcpFlag.PSH, window: 1000 });
  t.tcp.seq = seq.from(0xfffffff0);
  t.tcp.ack = seq.from(77);
  return t;
}

function tsOptions(): TcpOptions {
  const o = new TcpOptions();
  o.present = TcpOptionFlag.Timestamps;
  o.tsVal = 1;
  o.tsEcr = 2;
  return o;
}

/** Emits a frame with `payloadLength` bytes of payload (0x61, 0x62, ...). */
function buildFrame(payloadLength = 11, vlanId = -1): Uint8Array {
  const t = template(vlanId);
  const o = tsOptions();
  const headers = tcpFrameHeaderLength(t, o);
  const buf = new Uint8Array(headers + payloadLength);
  for (let i = 0; i < payloadLength; i++) buf[headers + i] = 0x61 + (i % 26);
  expect(emitTcpFrame(buf, 0, t, o, payloadLength)).to.equal(buf.length);
  return buf;
}

function buildArpFrame(vlanId = -1): Uint8Array {
  const link = new LinkHeader();
  Object.assign(link, { dst: 0xffffffffffff, src: 0x02000000000a, vlanId });
  const arp = Object.assign(new ArpPacket(), {
    op: ArpOp.Request,
    senderMac: 0x02000000000a,
    senderIp: 1,
    targetIp: 2,
  });
  const buf = new Uint8Array(46);
  return buf.subarray(0, emitArpFrame(buf, 0, link, arp));
}

function errorOf(bytes: Uint8Array, end = bytes.length, flags = 0): string {
  return wireErrorName(parseFrame(bytes, 0, end, new ParsedFrame(), flags));
}

/** Recomputes the IPv4 header checksum in place (frames without a tag, IHL from the header). */
function fixIpChecksum(frame: Uint8Array, l3 = 14): Uint8Array {
  frame[l3 + 10] = frame[l3 + 11] = 0;
  const c = internetChecksum(frame, l3, l3 + Math.max(20, (frame[l3]! & 0xf) * 4));
  frame[l3 + 10] = c >>> 8;
  frame[l3 + 11] = c & 0xff;
  return frame;
}

describe('wire/frame: Ethernet / [802.1Q] / (ARP | IPv4 / TCP)', () => {
  describe('parse', () => {
    it('fills every layer and the offsets of a TCP frame', () => {
      const bytes = buildFrame(11);
      const f = new ParsedFrame();
      expect(parseFrame(bytes, 0, bytes.length, f)).to.equal(WireError.None);
      expect(f.l4).to.equal(L4Kind.Tcp);
      expect([f.linkOffset, f.l3Offset, f.l4Offset, f.frameEnd]).to.deep.equal([0, 14, 34, bytes.length]);
      expect([f.tcp.payloadStart, f.tcp.payloadLength]).to.deep.equal([66, 11]);
      expect(f.ipv4.ecn).to.equal(Ecn.Ect0);
      expect(f.tcpOptions.present).to.equal(TcpOptionFlag.Timestamps);
    });

    it('parses at an offset inside a larger buffer, and ignores Ethernet padding', () => {
      const frame = buildFrame(0);
      const buf = new Uint8Array(7 + frame.length + 10).fill(0xee);
      buf.set(frame, 7);
      const f = new ParsedFrame();
      expect(parseFrame(buf, 7, 7 + frame.length + 6, f)).to.equal(WireError.None);
      expect([f.l3Offset, f.frameEnd, f.tcp.payloadLength]).to.deep.equal([21, 7 + frame.length, 0]);
    });

    it('parses ARP, tagged or not', () => {
      for (const vlanId of [-1, 7]) {
        const f = new ParsedFrame();
        const bytes = buildArpFrame(vlanId);
        expect(parseFrame(bytes, 0, bytes.length, f)).to.equal(WireError.None);
        expect(f.l4).to.equal(L4Kind.Arp);
        expect(f.link.vlanId).to.equal(vlanId);
        expect(f.arp).to.deep.include({ op: ArpOp.Request, senderIp: 1, targetIp: 2 });
      }
    });

    it('resets l4 to None on an error after an earlier success', () => {
      const f = new ParsedFrame();
      const good = buildFrame();
      parseFrame(good, 0, good.length, f);
      expect(parseFrame(good, 0, 13, f)).to.equal(WireError.EthTruncated);
      expect(f.l4).to.equal(L4Kind.None);
    });
  });

  describe('malformed frames: the right WireError, never an exception', () => {
    const frame = buildFrame(11);
    const tagged = buildFrame(11, 100);

    it('truncated Ethernet header: EthTruncated', () => {
      for (let n = 0; n < 14; n++) expect(errorOf(frame, n)).to.equal('EthTruncated');
    });

    it('truncated 802.1Q tag: VlanTruncated', () => {
      for (let n = 14; n < 18; n++) expect(errorOf(tagged, n)).to.equal('VlanTruncated');
    });

    it('truncated ARP packet: ArpTruncated', () => {
      const arp = buildArpFrame();
      for (let n = 14; n < 42; n++) expect(errorOf(arp, n)).to.equal('ArpTruncated');
      const arpTagged = buildArpFrame(5);
      for (let n = 18; n < 46; n++) expect(errorOf(arpTagged, n)).to.equal('ArpTruncated');
    });

    it('truncated IPv4 header: Ipv4Truncated; truncated payload: Ipv4TotalLengthMismatch', () => {
      for (let n = 14; n < 34; n++) expect(errorOf(frame, n)).to.equal('Ipv4Truncated');
      for (let n = 34; n < frame.length; n++) expect(errorOf(frame, n)).to.equal('Ipv4TotalLengthMismatch');
    });

    it('IPv4 total length larger than the frame or smaller than the header: Ipv4TotalLengthMismatch', () => {
      expect(errorOf(fixIpChecksum(patched(frame, 16, 0x05, 0xdc)))).to.equal('Ipv4TotalLengthMismatch');
      expect(errorOf(fixIpChecksum(patched(frame, 16, 0, 19)))).to.equal('Ipv4TotalLengthMismatch');
    });

    it('IHL < 5: Ipv4BadIhl; version 6: Ipv4BadVersion', () => {
      expect(errorOf(patched(frame, 14, 0x44))).to.equal('Ipv4BadIhl');
      expect(errorOf(patched(frame, 14, 0x40))).to.equal('Ipv4BadIhl');
      expect(errorOf(patched(frame, 14, 0x65))).to.equal('Ipv4BadVersion');
    });

    it('truncated TCP header (total length cuts it): TcpTruncated', () => {
      for (let total = 20; total < 40; total++) {
        expect(errorOf(fixIpChecksum(patched(frame, 16, 0, total)))).to.equal('TcpTruncated');
      }
    });

    it('TCP data offset < 5 or beyond the segment: TcpBadDataOffset', () => {
      expect(errorOf(patched(frame, 46, 0x40))).to.equal('TcpBadDataOffset');
      expect(errorOf(patched(frame, 46, 0x00))).to.equal('TcpBadDataOffset');
      const shortSegment = fixIpChecksum(patched(frame, 16, 0, 20 + 28)); // 28 < 32-byte header
      expect(errorOf(shortSegment)).to.equal('TcpBadDataOffset');
      const ackOnly = buildFrame(0);
      expect(errorOf(patched(ackOnly, 46, 0xf0))).to.equal('TcpBadDataOffset'); // 60 > 32
    });

    it('bad IPv4 checksum: Ipv4BadChecksum; bad TCP checksum: TcpBadChecksum; both skippable', () => {
      const badIp = patched(frame, 22, 63); // TTL
      expect(errorOf(badIp)).to.equal('Ipv4BadChecksum');
      expect(errorOf(badIp, badIp.length, ParseFlag.SkipIpv4Checksum)).to.equal('None');
      const badTcp = patched(frame, frame.length - 1, 0); // last payload byte
      expect(errorOf(badTcp)).to.equal('TcpBadChecksum');
      expect(errorOf(badTcp, badTcp.length, ParseFlag.SkipTcpChecksum)).to.equal('None');
    });

    it('fragments: Ipv4Fragment', () => {
      expect(errorOf(fixIpChecksum(patched(frame, 20, 0x20, 0)))).to.equal('Ipv4Fragment'); // MF
      expect(errorOf(fixIpChecksum(patched(frame, 20, 0x40, 1)))).to.equal('Ipv4Fragment'); // DF, offset 8
    });

    it('other protocols and ethertypes: Ipv4ProtocolUnsupported, EthertypeUnsupported', () => {
      expect(errorOf(fixIpChecksum(patched(frame, 23, 17)))).to.equal('Ipv4ProtocolUnsupported');
      expect(errorOf(patched(frame, 12, 0x86, 0xdd))).to.equal('EthertypeUnsupported');
      expect(errorOf(patched(frame, 12, 0x00, 0x40))).to.equal('EthertypeUnsupported'); // 802.3 length
    });

    /** The frame with its option area replaced (same length, 12 bytes) and the TCP checksum skipped. */
    function withOptions(hex: string): string {
      return errorOf(patched(frame, 54, ...fromHex(hex)), frame.length, ParseFlag.SkipTcpChecksum);
    }

    it('TCP option length 0, 1 and overlong: TcpOptionBadLength', () => {
      expect(withOptions('080001010101010101010101')).to.equal('TcpOptionBadLength');
      expect(withOptions('010108010101010101010101')).to.equal('TcpOptionBadLength');
      expect(withOptions('0101080c0000000100000002')).to.equal('TcpOptionBadLength');
    });

    it('truncated TCP option: TcpOptionTruncated', () => {
      expect(withOptions('010101010101010101010102')).to.equal('TcpOptionTruncated');
    });

    it('MSS option with the wrong length: TcpOptionMalformed', () => {
      expect(withOptions('0203050101010101010101' + '01')).to.equal('TcpOptionMalformed');
      expect(withOptions('020505b40001010101010101')).to.equal('TcpOptionMalformed');
    });
  });

  describe('emit', () => {
    it('emitTcpFrame then parseFrame round-trips arbitrary headers, options and payload', () => {
      const headers = fc.record({
        dst: mac,
        src: mac,
        vlan: fc.option(fc.tuple(fc.nat(4095), fc.nat(7), fc.nat(1)), { nil: null }),
        dscp: fc.nat(63),
        ecn: fc.nat(3),
        id: u16,
        df: fc.boolean(),
        ttl: u8,
        ipSrc: u32,
        ipDst: u32,
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
      const f = new ParsedFrame();
      fc.assert(
        fc.property(headers, options, fc.uint8Array({ maxLength: 1460 }), fc.nat(5), (h, of, payload, at) => {
          const t = new TcpFrameTemplate();
          Object.assign(t.link, { dst: h.dst, src: h.src });
          if (h.vlan !== null) [t.link.vlanId, t.link.vlanPcp, t.link.vlanDei] = h.vlan;
          Object.assign(t.ipv4, {
            dscp: h.dscp,
            ecn: h.ecn,
            id: h.id,
            ttl: h.ttl,
            src: h.ipSrc,
            dst: h.ipDst,
          });
          t.ipv4.flags = h.df ? Ipv4Flag.DontFragment : 0;
          Object.assign(t.tcp, { srcPort: h.srcPort, dstPort: h.dstPort, flags: h.flags, window: h.window });
          Object.assign(t.tcp, {
            seq: seq.from(h.seq),
            ack: seq.from(h.ack),
            urgentPointer: h.urgentPointer,
          });
          let o: TcpOptions | null = null;
          if (of !== null) {
            o = Object.assign(new TcpOptions(), { present: of.present, mss: of.mss, wscale: of.wscale });
            Object.assign(o, { tsVal: of.tsVal, tsEcr: of.tsEcr, sackBlockCount: of.sacks });
            o.sackBlocks.set([1, 2, 3, 4, 5, 6, 7, 8]);
          }
          const headerLength = tcpFrameHeaderLength(t, o);
          const buf = new Uint8Array(at + headerLength + payload.length);
          buf.set(payload, at + headerLength);
          const n = emitTcpFrame(buf, at, t, o, payload.length);
          expect(n).to.equal(headerLength + payload.length);

          expect(parseFrame(buf, at, at + n, f)).to.equal(WireError.None);
          expect(f.l4).to.equal(L4Kind.Tcp);
          expect(f.link).to.deep.equal(t.link);
          expect(f.ipv4).to.deep.equal(t.ipv4);
          for (const k of [
            'srcPort',
            'dstPort',
            'seq',
            'ack',
            'flags',
            'window',
            'urgentPointer',
            'checksum',
            'dataOffset',
          ] as const) {
            expect(f.tcp[k], k).to.equal(t.tcp[k]);
          }
          expect([...buf.subarray(f.tcp.payloadStart, f.tcp.payloadEnd)]).to.deep.equal([...payload]);
          if (o !== null) {
            const shown = o.present & ~(o.sackBlockCount === 0 ? TcpOptionFlag.Sack : 0);
            expect(f.tcpOptions.present).to.equal(shown);
          }
        }),
      );
    });

    it('emitArpFrame then parseFrame round-trips', () => {
      const f = new ParsedFrame();
      fc.assert(
        fc.property(
          mac,
          mac,
          fc.constantFrom(ArpOp.Request, ArpOp.Reply),
          u32,
          mac,
          u32,
          fc.boolean(),
          (dst, src, op, sip, tmac, tip, tagged) => {
            const link = Object.assign(new LinkHeader(), { dst, src, vlanId: tagged ? 1 : -1 });
            const arp = Object.assign(new ArpPacket(), {
              op,
              senderMac: src,
              senderIp: sip,
              targetMac: tmac,
              targetIp: tip,
            });
            const buf = new Uint8Array(46);
            const n = emitArpFrame(buf, 0, link, arp);
            expect(parseFrame(buf, 0, n, f)).to.equal(WireError.None);
            expect(f.l4).to.equal(L4Kind.Arp);
            expect(f.link).to.deep.equal(link);
            expect(f.arp).to.deep.equal(arp);
            expect(f.link.etherType).to.equal(EtherType.Arp);
          },
        ),
      );
    });
  });

  describe('fuzz: any bytes end in a WireError value, never an exception', () => {
    const fixtureFrames = (
      JSON.parse(
        readFileSync(new URL('../../../../test/fixtures/wire/frames.json', import.meta.url), 'utf8'),
      ) as {
        frames: { hex: string }[];
      }
    ).frames.map((x) => fromHex(x.hex));
    const valid = [...fixtureFrames, buildFrame(0), buildFrame(300, 9), buildArpFrame(), buildArpFrame(3)];
    const f = new ParsedFrame();
    const flagsArb = fc.constantFrom(0, ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum);

    function returnsWireError(bytes: Uint8Array, off: number, end: number, flags: number): void {
      const e = parseFrame(bytes, off, end, f, flags);
      expect(WIRE_ERRORS.has(e), `returned ${String(e)}`).to.equal(true);
      if (e === WireError.None) expect(f.l4).to.not.equal(L4Kind.None);
      else expect(f.l4).to.equal(L4Kind.None);
    }

    it('random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), flagsArb, (bytes, flags) =>
          returnsWireError(bytes, 0, bytes.length, flags),
        ),
        { numRuns: 5000 },
      );
    });

    it('random bytes behind a valid Ethernet/IPv4/TCP prefix (checksums skipped to reach deeper)', () => {
      const prefix = buildFrame(0);
      fc.assert(
        fc.property(
          fc.nat(prefix.length),
          fc.uint8Array({ maxLength: 80 }),
          flagsArb,
          (keep, tail, flags) => {
            const bytes = Uint8Array.of(...prefix.subarray(0, keep), ...tail);
            returnsWireError(bytes, 0, bytes.length, flags);
          },
        ),
        { numRuns: 5000 },
      );
    });

    it('random truncations of valid frames', () => {
      fc.assert(
        fc.property(fc.constantFrom(...valid), fc.nat(), flagsArb, (frame, cut, flags) => {
          returnsWireError(frame, 0, cut % (frame.length + 1), flags);
          returnsWireError(frame.subarray(0, cut % (frame.length + 1)), 0, frame.length, flags);
        }),
        { numRuns: 5000 },
      );
    });

    it('random byte corruptions of valid frames', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...valid),
          fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }),
          flagsArb,
          (frame, edits, flags) => {
            const bytes = frame.slice();
            for (const [at, value] of edits) bytes[at % bytes.length] = value;
            returnsWireError(bytes, 0, bytes.length, flags);
          },
        ),
        { numRuns: 5000 },
      );
    });

    it('offsets and ends outside the buffer', () => {
      const frame = buildFrame(4);
      for (const [off, end] of [
        [0, frame.length + 100],
        [frame.length, frame.length],
        [frame.length + 3, frame.length + 90],
        [10, 5],
      ]) {
        returnsWireError(frame, off!, end!, 0);
      }
    });
  });
});
