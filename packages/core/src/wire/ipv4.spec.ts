import { expect } from 'chai';
import fc from 'fast-check';
import { internetChecksum } from './checksum.js';
import { WireError } from './drop-reason.js';
import {
  Ecn,
  emitIpv4,
  IpProtocol,
  Ipv4Flag,
  Ipv4Header,
  ipv4FromString,
  ipv4ToString,
  parseIpv4,
} from './ipv4.js';
import { fromHex, patched, u16, u32, u8 } from './spec-helpers.js';

// 10.0.0.1 -> 192.168.77.254, TCP, total length 40, DF, TTL 64, checksum correct.
const HEADER = (() => {
  const h = fromHex('45000028000140004006' + '0000' + '0a000001c0a84dfe' + '00'.repeat(20));
  const c = internetChecksum(h, 0, 20);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
})();

/** Recomputes the header checksum in place over IHL * 4 bytes. */
function withChecksum(h: Uint8Array): Uint8Array {
  const ihl = Math.max(5, h[0]! & 0xf);
  h[10] = h[11] = 0;
  const c = internetChecksum(h, 0, Math.min(ihl * 4, h.length));
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
}

/** HEADER with bytes patched and the checksum recomputed, so only the patched rule can fail. */
function withFields(at: number, ...bytes: number[]): Uint8Array {
  return withChecksum(patched(HEADER, at, ...bytes));
}

function parse(bytes: Uint8Array, end = bytes.length): WireError {
  return parseIpv4(bytes, 0, end, new Ipv4Header());
}

describe('wire/ipv4 (RFC 791)', () => {
  it('parses the fixed header', () => {
    const h = new Ipv4Header();
    expect(parseIpv4(HEADER, 0, HEADER.length, h)).to.equal(WireError.None);
    expect(h).to.deep.include({
      version: 4,
      ihl: 5,
      dscp: 0,
      ecn: Ecn.NotEct,
      totalLength: 40,
      id: 1,
      flags: Ipv4Flag.DontFragment,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.Tcp,
      src: 0x0a000001,
      dst: 0xc0a84dfe,
      headerLength: 20,
      payloadLength: 20,
    });
  });

  it('reads DSCP and the RFC 3168 ECN codepoints from the TOS octet', () => {
    const h = new Ipv4Header();
    for (const [tos, dscp, ecn] of [
      [0xbb, 46, Ecn.Ce],
      [0x02, 0, Ecn.Ect0],
      [0x01, 0, Ecn.Ect1],
      [0x03, 0, Ecn.Ce],
    ]) {
      expect(parseIpv4(withFields(1, tos!), 0, 40, h)).to.equal(WireError.None);
      expect([h.dscp, h.ecn]).to.deep.equal([dscp, ecn]);
    }
  });

  it('ignores bytes beyond the total length (Ethernet padding)', () => {
    const padded = Uint8Array.of(...HEADER, 0, 0, 0, 0, 0, 0);
    const h = new Ipv4Header();
    expect(parseIpv4(padded, 0, padded.length, h)).to.equal(WireError.None);
    expect(h.payloadLength).to.equal(20);
  });

  it('steps over options by IHL and covers them by the checksum', () => {
    const withRouterAlert = new Uint8Array(44);
    withRouterAlert.set(HEADER.subarray(0, 20));
    withRouterAlert.set([0x46, 0, 0, 44]); // IHL 6, total length 44
    withRouterAlert.set([0x94, 0x04, 0, 0], 20); // RFC 2113 Router Alert
    withChecksum(withRouterAlert);
    const h = new Ipv4Header();
    expect(parseIpv4(withRouterAlert, 0, 44, h)).to.equal(WireError.None);
    expect([h.ihl, h.headerLength, h.payloadLength]).to.deep.equal([6, 24, 20]);
  });

  describe('malformed headers', () => {
    it('fewer than 20 bytes: Ipv4Truncated', () => {
      for (let n = 0; n < 20; n++) expect(parse(HEADER, n)).to.equal(WireError.Ipv4Truncated);
    });

    it('version other than 4: Ipv4BadVersion', () => {
      for (const v of [0, 6, 15])
        expect(parse(withFields(0, (v << 4) | 5))).to.equal(WireError.Ipv4BadVersion);
    });

    it('IHL below 5: Ipv4BadIhl', () => {
      for (let ihl = 0; ihl < 5; ihl++)
        expect(parse(patched(HEADER, 0, 0x40 | ihl))).to.equal(WireError.Ipv4BadIhl);
    });

    it('IHL beyond the bytes available: Ipv4Truncated', () => {
      expect(parse(withFields(0, 0x4f), 40)).to.equal(WireError.Ipv4Truncated);
    });

    it('total length above the bytes available: Ipv4TotalLengthMismatch', () => {
      expect(parse(withFields(2, 0, 41))).to.equal(WireError.Ipv4TotalLengthMismatch);
      expect(parse(HEADER, 39)).to.equal(WireError.Ipv4TotalLengthMismatch);
      expect(parse(withFields(2, 0xff, 0xff))).to.equal(WireError.Ipv4TotalLengthMismatch);
    });

    it('total length below the header length: Ipv4TotalLengthMismatch', () => {
      for (const total of [0, 1, 19])
        expect(parse(withFields(2, 0, total))).to.equal(WireError.Ipv4TotalLengthMismatch);
      expect(parse(withFields(0, 0x46, 0, 0, 22))).to.equal(WireError.Ipv4TotalLengthMismatch);
    });

    it('bad header checksum: Ipv4BadChecksum (unless verification is skipped)', () => {
      const bad = patched(HEADER, 8, 63); // TTL changed, checksum not updated
      expect(parse(bad)).to.equal(WireError.Ipv4BadChecksum);
      expect(parseIpv4(bad, 0, bad.length, new Ipv4Header(), false)).to.equal(WireError.None);
    });

    it('MF set or fragment offset non-zero: Ipv4Fragment', () => {
      expect(parse(withFields(6, 0x20, 0x00))).to.equal(WireError.Ipv4Fragment); // MF, offset 0
      expect(parse(withFields(6, 0x00, 0xb9))).to.equal(WireError.Ipv4Fragment); // offset 185
      expect(parse(withFields(6, 0x1f, 0xff))).to.equal(WireError.Ipv4Fragment); // largest offset
      expect(parse(withFields(6, 0x80, 0x00)), 'reserved bit alone').to.equal(WireError.None);
    });
  });

  it('emit then parse round-trips any header (options in place, covered by the checksum)', () => {
    const header = fc.record({
      ihl: fc.integer({ min: 5, max: 15 }),
      dscp: fc.nat(63),
      ecn: fc.nat(3),
      id: u16,
      flags: fc.constantFrom(
        0,
        Ipv4Flag.DontFragment,
        Ipv4Flag.Reserved,
        Ipv4Flag.DontFragment | Ipv4Flag.Reserved,
      ),
      ttl: u8,
      protocol: u8,
      src: u32,
      dst: u32,
    });
    fc.assert(
      fc.property(
        header,
        fc.nat(1000),
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        (f, payload, options) => {
          const sent = Object.assign(new Ipv4Header(), f, {
            totalLength: f.ihl * 4 + payload,
            fragmentOffset: 0,
          });
          const buf = new Uint8Array(sent.totalLength);
          buf.set(options.subarray(0, f.ihl * 4 - 20), 20);
          expect(emitIpv4(buf, 0, sent)).to.equal(f.ihl * 4);
          expect(internetChecksum(buf, 0, f.ihl * 4), 'checksum field makes the sum verify').to.equal(0);
          const got = new Ipv4Header();
          expect(parseIpv4(buf, 0, buf.length, got)).to.equal(WireError.None);
          expect(got).to.deep.equal(sent);
        },
      ),
    );
  });

  it('converts dotted quads', () => {
    expect(ipv4FromString('10.0.0.1')).to.equal(0x0a000001);
    expect(ipv4FromString('255.255.255.255')).to.equal(0xffffffff);
    expect(ipv4ToString(0xc0a84dfe)).to.equal('192.168.77.254');
    for (const bad of ['10.0.0', '10.0.0.256', '1.2.3.4 ', 'a.b.c.d', '1..2.3']) {
      expect(() => ipv4FromString(bad), bad).to.throw(TypeError);
    }
    fc.assert(fc.property(u32, (a) => ipv4FromString(ipv4ToString(a)) === a));
  });
});
