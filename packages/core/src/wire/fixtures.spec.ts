// The wire formats against frames built by an independent implementation: scapy, via
// test/fixtures/wire/generate.py (regenerate with /usr/bin/python3 and Debian's python3-scapy).
// Each frame is parsed, its fields and checksums checked against scapy's, and re-emitted from the
// parsed fields to the identical bytes.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { internetChecksum, pseudoHeaderSum, finishChecksum, sumWords } from './checksum.js';
import { WireError, wireErrorName } from './drop-reason.js';
import { parseMac } from './ethernet.js';
import { emitArpFrame, emitTcpFrame, L4Kind, ParsedFrame, parseFrame } from './frame.js';
import { emitIpv4, IpProtocol, ipv4FromString } from './ipv4.js';
import { fromHex, toHex } from './spec-helpers.js';
import { emitTcp, emitTcpHeader, writeTcpChecksum } from './tcp.js';
import { TcpOptionFlag } from './tcp-options.js';
import { emitLinkHeader } from './vlan.js';

interface FixtureFrame {
  name: string;
  hex: string;
  note?: string;
  frameLength: number;
  link: { dst: string; src: string; etherType: number; vlanId: number; vlanPcp: number; vlanDei: number };
  arp?: { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string };
  ipv4?: {
    ihl: number;
    dscp: number;
    ecn: number;
    totalLength: number;
    id: number;
    flags: number;
    fragmentOffset: number;
    ttl: number;
    protocol: number;
    checksum: number;
    src: string;
    dst: string;
    optionsHex: string;
  };
  tcp?: {
    srcPort: number;
    dstPort: number;
    seq: number;
    ack: number;
    dataOffset: number;
    flags: number;
    window: number;
    checksum: number;
    urgentPointer: number;
    payloadLength: number;
  };
  options?: {
    mss: number | null;
    wscale: number | null;
    sackPermitted: boolean;
    tsVal: number | null;
    tsEcr: number | null;
    sack: [number, number][];
    unknownCount: number;
  };
  canonicalOptions?: boolean;
}

interface Fixtures {
  generator: string;
  frames: FixtureFrame[];
  malformed: { name: string; hex: string; error: string }[];
}

const fixtures = JSON.parse(
  readFileSync(new URL('../../../../test/fixtures/wire/frames.json', import.meta.url), 'utf8'),
) as Fixtures;

/** Re-emits a parsed TCP frame with the one-call frame emitter (IHL 5, canonical options). */
function reemitWithFrameEmitter(f: ParsedFrame, original: Uint8Array): Uint8Array {
  const out = new Uint8Array(original.length);
  const payload = original.subarray(f.tcp.payloadStart, f.tcp.payloadEnd);
  const options = f.tcp.headerLength > 20 ? f.tcpOptions : null;
  out.set(payload, f.tcp.payloadStart); // the payload sits after the headers before the emit
  const n = emitTcpFrame(out, 0, f, options, payload.length);
  return out.subarray(0, n);
}

/** Re-emits layer by layer, copying IPv4 option bytes (and raw TCP option bytes when not canonical). */
function reemitPerFormat(f: ParsedFrame, original: Uint8Array, canonicalOptions: boolean): Uint8Array {
  const out = new Uint8Array(original.length);
  const l3 = emitLinkHeader(out, 0, f.link);
  out.set(original.subarray(l3 + 20, l3 + f.ipv4.headerLength), l3 + 20);
  const l4 = l3 + emitIpv4(out, l3, f.ipv4);
  const { payloadStart, payloadEnd, payloadLength } = f.tcp;
  out.set(original.subarray(payloadStart, payloadEnd), payloadStart);
  if (canonicalOptions) {
    emitTcp(out, l4, f.tcp, f.tcp.headerLength > 20 ? f.tcpOptions : null, payloadLength, f.ipv4);
  } else {
    out.set(original.subarray(f.tcp.optionsStart, f.tcp.optionsEnd), f.tcp.optionsStart);
    emitTcpHeader(out, l4, f.tcp);
    writeTcpChecksum(out, l4, payloadEnd, f.ipv4);
  }
  return out.subarray(0, f.frameEnd);
}

describe(`wire: frames built by scapy (${fixtures.generator})`, () => {
  it('covers the formats the data path must read', () => {
    const names = fixtures.frames.map((x) => x.name);
    for (const wanted of [
      'syn-linux-options',
      'data-ts-1447',
      'fin-ack',
      'rst',
      'ecn-ce-ack',
      'vlan-100-data',
    ]) {
      expect(names).to.include(wanted);
    }
    expect(fixtures.frames.filter((x) => x.arp !== undefined)).to.have.length.at.least(3);
  });

  for (const fx of fixtures.frames) {
    describe(fx.name + (fx.note ? ` (${fx.note})` : ''), () => {
      const bytes = fromHex(fx.hex);
      const f = new ParsedFrame();
      const error = parseFrame(bytes, 0, bytes.length, f);

      it('parses without error', () => {
        expect(wireErrorName(error)).to.equal(wireErrorName(WireError.None));
        expect(f.frameEnd).to.equal(fx.frameLength);
      });

      it('reads the link header as scapy wrote it', () => {
        expect(f.link).to.deep.include({
          dst: parseMac(fx.link.dst),
          src: parseMac(fx.link.src),
          etherType: fx.link.etherType,
          vlanId: fx.link.vlanId,
          vlanPcp: fx.link.vlanPcp,
          vlanDei: fx.link.vlanDei,
        });
      });

      if (fx.arp !== undefined) {
        const arp = fx.arp;
        it('reads the ARP packet', () => {
          expect(f.l4).to.equal(L4Kind.Arp);
          expect(f.arp).to.deep.equal({
            op: arp.op,
            senderMac: parseMac(arp.senderMac),
            senderIp: ipv4FromString(arp.senderIp),
            targetMac: parseMac(arp.targetMac),
            targetIp: ipv4FromString(arp.targetIp),
          });
        });

        it('re-emits the identical bytes', () => {
          const out = new Uint8Array(bytes.length);
          const n = emitArpFrame(out, 0, f.link, f.arp);
          expect(toHex(out.subarray(0, n))).to.equal(toHex(bytes.subarray(0, fx.frameLength)));
        });
        return;
      }

      const ip = fx.ipv4!;
      const tcp = fx.tcp!;
      const opts = fx.options!;

      it('reads the IPv4 header, DSCP/ECN included', () => {
        expect(f.ipv4).to.deep.include({
          version: 4,
          ihl: ip.ihl,
          dscp: ip.dscp,
          ecn: ip.ecn,
          totalLength: ip.totalLength,
          id: ip.id,
          flags: ip.flags,
          fragmentOffset: ip.fragmentOffset,
          ttl: ip.ttl,
          protocol: ip.protocol,
          checksum: ip.checksum,
          src: ipv4FromString(ip.src),
          dst: ipv4FromString(ip.dst),
        });
      });

      it('reads the TCP header and options', () => {
        expect(f.l4).to.equal(L4Kind.Tcp);
        expect(f.tcp).to.deep.include(tcp);
        const o = f.tcpOptions;
        expect(o.hasMss ? o.mss : null, 'mss').to.equal(opts.mss);
        expect(o.hasWindowScale ? o.wscale : null, 'wscale').to.equal(opts.wscale);
        expect(o.sackPermitted, 'sackPermitted').to.equal(opts.sackPermitted);
        expect(o.hasTimestamps ? [o.tsVal, o.tsEcr] : [null, null], 'timestamps').to.deep.equal([
          opts.tsVal,
          opts.tsEcr,
        ]);
        const blocks: number[][] = [];
        for (let i = 0; i < o.sackBlockCount; i++)
          blocks.push([o.sackBlocks[2 * i]!, o.sackBlocks[2 * i + 1]!]);
        expect(blocks, 'sack').to.deep.equal(opts.sack);
        expect(o.hasSack).to.equal(opts.sack.length > 0);
        expect(o.unknownCount, 'unknownCount').to.equal(opts.unknownCount);
      });

      it("computes scapy's IPv4 and TCP checksums from scratch", () => {
        const copy = bytes.slice();
        const l3 = f.l3Offset;
        copy[l3 + 10] = copy[l3 + 11] = 0;
        expect(internetChecksum(copy, l3, l3 + f.ipv4.headerLength), 'IPv4').to.equal(ip.checksum);
        const l4 = f.l4Offset;
        copy[l4 + 16] = copy[l4 + 17] = 0;
        const length = f.frameEnd - l4;
        const sum = sumWords(copy, l4, f.frameEnd, pseudoHeaderSum(f.ipv4, IpProtocol.Tcp, length));
        expect(finishChecksum(sum), 'TCP').to.equal(tcp.checksum);
      });

      it('re-emits the identical bytes from the parsed fields', () => {
        const canonical = fx.canonicalOptions !== false;
        const expected = toHex(bytes.subarray(0, fx.frameLength));
        if (ip.ihl === 5 && canonical)
          expect(toHex(reemitWithFrameEmitter(f, bytes)), 'emitTcpFrame').to.equal(expected);
        expect(toHex(reemitPerFormat(f, bytes, canonical)), 'per-format emitters').to.equal(expected);
      });
    });
  }

  describe('malformed frames', () => {
    for (const fx of fixtures.malformed) {
      it(`${fx.name}: ${fx.error}`, () => {
        const bytes = fromHex(fx.hex);
        expect(wireErrorName(parseFrame(bytes, 0, bytes.length, new ParsedFrame()))).to.equal(fx.error);
      });
    }
  });

  it('option flags cover what the fixtures use', () => {
    const seen = new Set<number>();
    for (const fx of fixtures.frames) {
      if (fx.options === undefined) continue;
      const bytes = fromHex(fx.hex);
      const f = new ParsedFrame();
      parseFrame(bytes, 0, bytes.length, f);
      seen.add(f.tcpOptions.present);
    }
    const all = [...seen].reduce((a, b) => a | b, 0);
    expect(all).to.equal(0x1f, `every TcpOptionFlag (${Object.keys(TcpOptionFlag).join(', ')}) appears`);
  });
});
