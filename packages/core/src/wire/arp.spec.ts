import { expect } from 'chai';
import fc from 'fast-check';
import { ARP_LENGTH, ArpOp, ArpPacket, emitArp, parseArp } from './arp.js';
import { WireError } from './drop-reason.js';
import { fromHex, mac, patched, u32 } from './spec-helpers.js';

// RFC 826 request: who has 192.168.77.254? tell 10.0.0.1 (02:00:00:00:00:0a).
const REQUEST = fromHex('0001080006040001' + '02000000000a' + '0a000001' + '000000000000' + 'c0a84dfe');

describe('wire/arp (RFC 826)', () => {
  it('parses a request', () => {
    const p = new ArpPacket();
    expect(parseArp(REQUEST, 0, REQUEST.length, p)).to.equal(WireError.None);
    expect(p).to.deep.include({
      op: ArpOp.Request,
      senderMac: 0x02000000000a,
      senderIp: 0x0a000001,
      targetMac: 0,
      targetIp: 0xc0a84dfe,
    });
  });

  it('refuses fewer than 28 bytes with ArpTruncated', () => {
    const p = new ArpPacket();
    for (let n = 0; n < ARP_LENGTH; n++) expect(parseArp(REQUEST, 0, n, p)).to.equal(WireError.ArpTruncated);
  });

  it('refuses other hardware, protocol, address lengths and ops with ArpUnsupported', () => {
    const p = new ArpPacket();
    for (const [at, ...bytes] of [
      [0, 0, 6],
      [2, 0x86, 0xdd],
      [4, 8],
      [5, 16],
      [6, 0, 3],
      [6, 0, 0],
    ]) {
      const bad = patched(REQUEST, at!, ...bytes);
      expect(parseArp(bad, 0, bad.length, p)).to.equal(WireError.ArpUnsupported);
    }
  });

  it('emit then parse round-trips requests and replies', () => {
    const op = fc.constantFrom(ArpOp.Request, ArpOp.Reply);
    fc.assert(
      fc.property(op, mac, u32, mac, u32, fc.nat(8), (op, senderMac, senderIp, targetMac, targetIp, at) => {
        const sent = { op, senderMac, senderIp, targetMac, targetIp };
        const buf = new Uint8Array(at + ARP_LENGTH + 18); // trailing Ethernet padding is ignored
        expect(emitArp(buf, at, sent)).to.equal(ARP_LENGTH);
        const got = new ArpPacket();
        expect(parseArp(buf, at, buf.length, got)).to.equal(WireError.None);
        expect(got).to.deep.equal(sent);
      }),
    );
  });

  it('emits byte-identical RFC 826 layout', () => {
    const buf = new Uint8Array(ARP_LENGTH);
    const p = new ArpPacket();
    parseArp(REQUEST, 0, REQUEST.length, p);
    emitArp(buf, 0, p);
    expect([...buf]).to.deep.equal([...REQUEST]);
  });
});
