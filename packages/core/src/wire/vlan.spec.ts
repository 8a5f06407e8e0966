import { expect } from 'chai';
import fc from 'fast-check';
import { WireError } from './drop-reason.js';
import { EtherType } from './ethernet.js';
import { fromHex, mac, u16 } from './spec-helpers.js';
import {
  emitLinkHeader,
  emitVlanTag,
  LinkHeader,
  linkHeaderLength,
  NO_VLAN,
  parseLinkHeader,
  parseVlanTag,
  VlanTag,
} from './vlan.js';

const MACS = 'ffffffffffff02000000000a';

describe('wire/vlan (IEEE 802.1Q)', () => {
  it('parses an untagged frame with vlanId -1', () => {
    const h = new LinkHeader();
    const frame = fromHex(MACS + '0800');
    expect(parseLinkHeader(frame, 0, frame.length, h)).to.equal(WireError.None);
    expect(h).to.deep.include({ etherType: EtherType.Ipv4, vlanId: NO_VLAN, headerLength: 14 });
  });

  it('steps over one tag: PCP 5, DEI 1, VID 100, inner IPv4', () => {
    const h = new LinkHeader();
    const frame = fromHex(MACS + '8100' + 'b064' + '0800');
    expect(parseLinkHeader(frame, 0, frame.length, h)).to.equal(WireError.None);
    expect(h).to.deep.include({ etherType: 0x0800, vlanId: 100, vlanPcp: 5, vlanDei: 1, headerLength: 18 });
  });

  it('refuses a truncated tag with VlanTruncated', () => {
    const h = new LinkHeader();
    const frame = fromHex(MACS + '8100' + 'b064' + '0800');
    for (let n = 14; n < 18; n++) expect(parseLinkHeader(frame, 0, n, h)).to.equal(WireError.VlanTruncated);
    expect(parseLinkHeader(frame, 0, 13, h)).to.equal(WireError.EthTruncated);
  });

  it('refuses a second tag (802.1Q in 802.1Q, 802.1ad outer) with VlanNested', () => {
    const h = new LinkHeader();
    for (const hex of [MACS + '81000064' + '8100', MACS + '88a80064' + '8100', MACS + '81000064' + '88a8']) {
      const frame = fromHex(hex + '00140800');
      expect(parseLinkHeader(frame, 0, frame.length, h)).to.equal(WireError.VlanNested);
    }
  });

  it('parseVlanTag / emitVlanTag round-trip any tag', () => {
    fc.assert(
      fc.property(fc.nat(7), fc.nat(1), fc.nat(4095), u16, (pcp, dei, vid, etherType) => {
        const buf = new Uint8Array(4);
        expect(emitVlanTag(buf, 0, { pcp, dei, vid, etherType })).to.equal(4);
        const tag = new VlanTag();
        expect(parseVlanTag(buf, 0, 4, tag)).to.equal(WireError.None);
        expect(tag).to.deep.include({ pcp, dei, vid, etherType });
        expect(parseVlanTag(buf, 0, 3, tag)).to.equal(WireError.VlanTruncated);
      }),
    );
  });

  it('emitLinkHeader then parseLinkHeader round-trip, with and without a tag', () => {
    const payloadType = fc.constantFrom(EtherType.Ipv4, EtherType.Arp, EtherType.Ipv6, 0x88cc);
    const vlan = fc.option(fc.tuple(fc.nat(4095), fc.nat(7), fc.nat(1)), { nil: null });
    fc.assert(
      fc.property(mac, mac, payloadType, vlan, fc.nat(8), (dst, src, etherType, tag, at) => {
        const sent = new LinkHeader();
        Object.assign(sent, { dst, src, etherType });
        if (tag !== null) [sent.vlanId, sent.vlanPcp, sent.vlanDei] = tag;
        const buf = new Uint8Array(at + 18);
        const n = emitLinkHeader(buf, at, sent);
        expect(n)
          .to.equal(linkHeaderLength(sent.vlanId))
          .and.equal(tag === null ? 14 : 18);
        const got = new LinkHeader();
        expect(parseLinkHeader(buf, at, at + n, got)).to.equal(WireError.None);
        expect(got).to.deep.equal(sent);
      }),
    );
  });

  it('emits the 0x8100 TPID before the TCI', () => {
    const h = new LinkHeader();
    Object.assign(h, { dst: 0xffffffffffff, src: 0x02000000000a, etherType: 0x0806, vlanId: 42, vlanPcp: 0 });
    const buf = new Uint8Array(18);
    emitLinkHeader(buf, 0, h);
    expect(Buffer.from(buf).toString('hex')).to.equal(MACS + '8100002a0806');
  });
});
