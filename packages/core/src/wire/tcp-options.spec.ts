import { expect } from 'chai';
import fc from 'fast-check';
import { WireError } from './drop-reason.js';
import { enumValues, fromHex, toHex, u16, u32 } from './spec-helpers.js';
import {
  emitEstablishedOptions,
  emitSynOptions,
  emitTcpOptions,
  ESTABLISHED_OPTION_SET,
  parseTcpOptions,
  SYN_OPTION_SET,
  TCP_MAX_OPTIONS_LENGTH,
  TcpOptionFlag,
  TcpOptions,
  tcpOptionsLength,
} from './tcp-options.js';

function parse(hex: string, out = new TcpOptions()): WireError {
  const bytes = fromHex(hex);
  out.reset();
  return parseTcpOptions(bytes, 0, bytes.length, out);
}

/** Linux SYN: MSS 1460, SACK-permitted, TS 12345/0, NOP, WS 7. */
const LINUX_SYN = '020405b4' + '0402080a0000303900000000' + '01030307';

describe('wire/tcp-options (RFC 9293 3.1, RFC 7323, RFC 2018)', () => {
  it('parses the Linux SYN option set', () => {
    const o = new TcpOptions();
    expect(parse(LINUX_SYN, o)).to.equal(WireError.None);
    expect(o.present).to.equal(SYN_OPTION_SET);
    expect(o).to.deep.include({
      mss: 1460,
      wscale: 7,
      tsVal: 12345,
      tsEcr: 0,
      sackBlockCount: 0,
      unknownCount: 0,
    });
    expect([o.hasMss, o.hasWindowScale, o.sackPermitted, o.hasTimestamps, o.hasSack]).to.deep.equal([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('parses NOP NOP TS + NOP NOP SACK with three blocks', () => {
    const o = new TcpOptions();
    const hex =
      '0101080a' + 'deadbeef00000001' + '0101051a' + '00000001000000020000000300000004fffffff000000010';
    expect(parse(hex, o)).to.equal(WireError.None);
    expect(o.present).to.equal(ESTABLISHED_OPTION_SET);
    expect([o.tsVal, o.tsEcr, o.sackBlockCount]).to.deep.equal([0xdeadbeef, 1, 3]);
    expect([...o.sackBlocks.subarray(0, 6)]).to.deep.equal([1, 2, 3, 4, 0xfffffff0, 0x10]);
  });

  it('stops at EOL: what follows is padding, even if it looks malformed', () => {
    const o = new TcpOptions();
    expect(parse('020405b4' + '00' + '0200ffff', o)).to.equal(WireError.None);
    expect(o.present).to.equal(TcpOptionFlag.Mss);
  });

  it('an empty option area, or only NOPs, means no options', () => {
    const o = new TcpOptions();
    expect(parse('', o)).to.equal(WireError.None);
    expect(parse('01010101', o)).to.equal(WireError.None);
    expect(o.present).to.equal(0);
  });

  it('skips and counts unknown kinds with a valid length (RFC 9293 3.1 MUST-6)', () => {
    const o = new TcpOptions();
    expect(parse('fe04f989' + '1e02' + '0101' + '020405b4', o)).to.equal(WireError.None);
    expect(o.unknownCount).to.equal(2);
    expect(o.mss).to.equal(1460);
  });

  it('uses 14 for a window-scale shift above 14 (RFC 7323 2.3)', () => {
    const o = new TcpOptions();
    expect(parse('0103030f', o)).to.equal(WireError.None);
    expect(o.wscale).to.equal(14);
  });

  it('reset() clears every field a parse sets', () => {
    const o = new TcpOptions();
    parse(LINUX_SYN + '0101050a0000000100000002', o);
    o.reset();
    expect(o).to.deep.include({
      present: 0,
      mss: 0,
      wscale: 0,
      tsVal: 0,
      tsEcr: 0,
      sackBlockCount: 0,
      unknownCount: 0,
    });
  });

  describe('malformed options: a named WireError, never an exception', () => {
    const cases: [string, string, WireError][] = [
      ['length 0', '0101' + '0800', WireError.TcpOptionBadLength],
      ['length 1', '0101' + '0801', WireError.TcpOptionBadLength],
      ['unknown kind, length 0', 'fe00', WireError.TcpOptionBadLength],
      ['overlong: length past the option area', '0101080a00000001', WireError.TcpOptionBadLength],
      ['overlong unknown kind', 'fe05f989', WireError.TcpOptionBadLength],
      ['truncated: kind octet with no length octet', '010101' + '02', WireError.TcpOptionTruncated],
      ['truncated timestamps kind at the end', '0101' + '08', WireError.TcpOptionTruncated],
      ['MSS length 3', '020305' + '01', WireError.TcpOptionMalformed],
      ['MSS length 6', '020605b40101', WireError.TcpOptionMalformed],
      ['window scale length 4', '03040701', WireError.TcpOptionMalformed],
      ['SACK-permitted length 3', '040300' + '01', WireError.TcpOptionMalformed],
      ['timestamps length 8', '0808000000010000', WireError.TcpOptionMalformed],
      ['SACK with no block', '0101' + '0502', WireError.TcpOptionMalformed],
      ['SACK length not 2 + 8n', '0101050600000001', WireError.TcpOptionMalformed],
      ['SACK with five blocks', '052a' + '00'.repeat(40), WireError.TcpOptionMalformed],
    ];
    for (const [name, hex, error] of cases) {
      it(`${name}: ${WireError[error]}`, () => {
        expect(parse(hex)).to.equal(error);
      });
    }

    it('random option bytes never throw and always give a WireError value', () => {
      const errors = new Set(enumValues(WireError));
      const o = new TcpOptions();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(60), fc.nat(60), (bytes, a, b) => {
          o.reset();
          const start = Math.min(a, bytes.length);
          expect(errors.has(parseTcpOptions(bytes, start, Math.max(start, b), o))).to.equal(true);
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('emit', () => {
    it('writes the SYN set in Linux order: MSS, SACK-permitted, TS, NOP, WS', () => {
      const o = new TcpOptions();
      parse(LINUX_SYN, o);
      const buf = new Uint8Array(40);
      const n = emitSynOptions(buf, 0, o);
      expect(toHex(buf.subarray(0, n))).to.equal(LINUX_SYN);
    });

    it('writes the established set: NOP NOP TS, then NOP NOP SACK; SYN-only options left out', () => {
      const o = new TcpOptions();
      parse(LINUX_SYN + '0101050a0000000500000009', o);
      const buf = new Uint8Array(40);
      const n = emitEstablishedOptions(buf, 0, o);
      expect(toHex(buf.subarray(0, n))).to.equal('0101080a0000303900000000' + '0101050a0000000500000009');
    });

    it('pads the SACK-permitted-only and TS-only SYN sets with NOPs', () => {
      const o = new TcpOptions();
      const buf = new Uint8Array(40);
      o.present = TcpOptionFlag.SackPermitted;
      expect(toHex(buf.subarray(0, emitSynOptions(buf, 0, o)))).to.equal('01010402');
      o.present = TcpOptionFlag.Timestamps;
      o.tsVal = 1;
      expect(toHex(buf.subarray(0, emitSynOptions(buf, 0, o)))).to.equal('0101080a0000000100000000');
    });

    it('keeps only the SACK blocks that fit in 40 bytes (3 beside timestamps)', () => {
      const o = new TcpOptions();
      o.present = TcpOptionFlag.Timestamps | TcpOptionFlag.Sack;
      o.sackBlockCount = 4;
      o.sackBlocks.set([1, 2, 3, 4, 5, 6, 7, 8]);
      const buf = new Uint8Array(40);
      expect(emitTcpOptions(buf, 0, o)).to.equal(40);
      const back = new TcpOptions();
      expect(parseTcpOptions(buf, 0, 40, back)).to.equal(WireError.None);
      expect(back.sackBlockCount).to.equal(3);
      expect([...back.sackBlocks.subarray(0, 6)]).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });

    it('emit then parse round-trips any option set; length is tcpOptionsLength, a multiple of 4, at most 40', () => {
      const options = fc.record({
        present: fc.nat(0x1f),
        mss: u16,
        wscale: fc.nat(14),
        tsVal: u32,
        tsEcr: u32,
        blocks: fc.array(u32, { minLength: 2, maxLength: 8 }),
        mask: fc.constantFrom(
          SYN_OPTION_SET | ESTABLISHED_OPTION_SET,
          SYN_OPTION_SET,
          ESTABLISHED_OPTION_SET,
        ),
      });
      fc.assert(
        fc.property(options, fc.nat(7), (f, at) => {
          const sent = new TcpOptions();
          Object.assign(sent, {
            present: f.present,
            mss: f.mss,
            wscale: f.wscale,
            tsVal: f.tsVal,
            tsEcr: f.tsEcr,
          });
          sent.sackBlockCount = f.blocks.length >>> 1;
          sent.sackBlocks.set(f.blocks.slice(0, sent.sackBlockCount * 2));
          const buf = new Uint8Array(at + TCP_MAX_OPTIONS_LENGTH);
          const n = emitTcpOptions(buf, at, sent, f.mask);
          expect(n).to.equal(tcpOptionsLength(sent, f.mask));
          expect(n % 4).to.equal(0);
          expect(n).to.be.at.most(TCP_MAX_OPTIONS_LENGTH);

          const got = new TcpOptions();
          expect(parseTcpOptions(buf, at, at + n, got)).to.equal(WireError.None);
          const p = f.present & f.mask;
          expect(got.present).to.equal(p);
          if (p & TcpOptionFlag.Mss) expect(got.mss).to.equal(f.mss);
          if (p & TcpOptionFlag.WindowScale) expect(got.wscale).to.equal(f.wscale);
          if (p & TcpOptionFlag.Timestamps) expect([got.tsVal, got.tsEcr]).to.deep.equal([f.tsVal, f.tsEcr]);
          if (p & TcpOptionFlag.Sack) {
            const room = Math.floor((40 - tcpOptionsLength(sent, f.mask & ~TcpOptionFlag.Sack) - 4) / 8);
            const kept = Math.min(sent.sackBlockCount, room);
            expect(got.sackBlockCount).to.equal(kept);
            expect([...got.sackBlocks.subarray(0, 2 * kept)]).to.deep.equal(f.blocks.slice(0, 2 * kept));
          }
        }),
      );
    });
  });
});
