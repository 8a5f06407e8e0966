import { expect } from 'chai';
import fc from 'fast-check';
import { WireError } from './drop-reason.js';
import {
  emitEthernet,
  ETHERNET_HEADER_LENGTH,
  EthernetHeader,
  formatMac,
  isMulticastMac,
  MAC_BROADCAST,
  parseEthernet,
  parseMac,
  readMac,
  writeMac,
} from './ethernet.js';
import { fromHex, mac, u16 } from './spec-helpers.js';

describe('wire/ethernet', () => {
  it('parses dst, src and ethertype', () => {
    const h = new EthernetHeader();
    const frame = fromHex('ffffffffffff02000000000a0806');
    expect(parseEthernet(frame, 0, frame.length, h)).to.equal(WireError.None);
    expect(h.dst).to.equal(MAC_BROADCAST);
    expect(h.src).to.equal(0x02000000000a);
    expect(h.etherType).to.equal(0x0806);
  });

  it('refuses fewer than 14 bytes, and respects `end` and the buffer length', () => {
    const h = new EthernetHeader();
    const frame = new Uint8Array(20);
    for (let n = 0; n < ETHERNET_HEADER_LENGTH; n++) {
      expect(parseEthernet(frame, 0, n, h)).to.equal(WireError.EthTruncated);
      expect(parseEthernet(frame.subarray(0, n), 0, 100, h)).to.equal(WireError.EthTruncated);
    }
    expect(parseEthernet(frame, 7, 20, h)).to.equal(WireError.EthTruncated);
    expect(parseEthernet(frame, 6, 20, h)).to.equal(WireError.None);
  });

  it('emit then parse round-trips any header, at any offset', () => {
    fc.assert(
      fc.property(mac, mac, u16, fc.nat(16), (dst, src, etherType, at) => {
        const buf = new Uint8Array(at + ETHERNET_HEADER_LENGTH);
        expect(emitEthernet(buf, at, { dst, src, etherType })).to.equal(ETHERNET_HEADER_LENGTH);
        const h = new EthernetHeader();
        expect(parseEthernet(buf, at, buf.length, h)).to.equal(WireError.None);
        expect(h).to.deep.include({ dst, src, etherType });
      }),
    );
  });

  describe('MAC addresses as 48-bit numbers', () => {
    it('reads and writes the first octet as the most significant', () => {
      const buf = new Uint8Array(6);
      writeMac(buf, 0, 0x3cfdfe9e7c81);
      expect([...buf]).to.deep.equal([0x3c, 0xfd, 0xfe, 0x9e, 0x7c, 0x81]);
      expect(readMac(buf, 0)).to.equal(0x3cfdfe9e7c81);
    });

    it('formats and parses the colon notation', () => {
      expect(formatMac(0x3cfdfe9e7c81)).to.equal('3c:fd:fe:9e:7c:81');
      expect(formatMac(0)).to.equal('00:00:00:00:00:00');
      expect(parseMac('3C-FD-FE-9E-7C-81')).to.equal(0x3cfdfe9e7c81);
      expect(() => parseMac('3c:fd:fe:9e:7c')).to.throw(TypeError);
      expect(() => parseMac('3c:fd-fe:9e:7c:81')).to.throw(TypeError);
      fc.assert(fc.property(mac, (m) => parseMac(formatMac(m)) === m));
    });

    it('tells group addresses by the I/G bit', () => {
      expect(isMulticastMac(MAC_BROADCAST)).to.equal(true);
      expect(isMulticastMac(parseMac('01:00:5e:00:00:01'))).to.equal(true);
      expect(isMulticastMac(parseMac('02:00:00:00:00:0a'))).to.equal(false);
    });
  });
});
