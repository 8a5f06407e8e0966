// IEEE 802.1Q VLAN tag, and the link header as the data path sees it: Ethernet II with at most
// one 802.1Q tag, parsed transparently.
//
// Tagged frame layout: dst(6) src(6) TPID=0x8100(2) TCI(2) inner-ethertype(2) payload.
// TCI = PCP(3 bits, priority) | DEI(1 bit, drop eligible) | VID(12 bits).

import { readU16, writeU16 } from './bytes.js';
import { WireError } from './drop-reason.js';
import {
  emitEthernet,
  ETHERNET_HEADER_LENGTH,
  EthernetHeader,
  EtherType,
  parseEthernet,
} from './ethernet.js';

/** Bytes a tag adds after the MAC addresses: TCI and the inner ethertype (the TPID takes the outer ethertype's place). */
export const VLAN_TAG_LENGTH = 4;
/** Ethernet header with one tag. */
export const VLAN_ETHERNET_HEADER_LENGTH = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
/** `vlanId` of an untagged frame. */
export const NO_VLAN = -1;

/** The fields of one 802.1Q tag. */
export class VlanTag {
  /** Priority code point, 0..7. */
  pcp = 0;
  /** Drop eligible indicator, 0 or 1. */
  dei = 0;
  /** VLAN identifier, 0..4095 (0: priority tag only; 4095 reserved). */
  vid = 0;
  /** Ethertype of the payload behind the tag. */
  etherType = 0;
}

/** Checked parse of TCI + inner ethertype at buf[off, end) (the bytes after a 0x8100 TPID). */
export function parseVlanTag(buf: Uint8Array, off: number, end: number, out: VlanTag): WireError {
  if (end > buf.length) end = buf.length;
  if (end - off < VLAN_TAG_LENGTH) return WireError.VlanTruncated;
  const tci = readU16(buf, off);
  out.pcp = tci >>> 13;
  out.dei = (tci >>> 12) & 1;
  out.vid = tci & 0xfff;
  out.etherType = readU16(buf, off + 2);
  return WireError.None;
}

/** Writes TCI + inner ethertype at `off`. Unchecked. Returns bytes written (4). */
export function emitVlanTag(buf: Uint8Array, off: number, tag: VlanTag): number {
  writeU16(buf, off, ((tag.pcp & 7) << 13) | ((tag.dei & 1) << 12) | (tag.vid & 0xfff));
  writeU16(buf, off + 2, tag.etherType);
  return VLAN_TAG_LENGTH;
}

/** Ethernet II header with an optional 802.1Q tag, as parsed from or emitted onto the wire. */
export class LinkHeader extends EthernetHeader {
  /** Ethertype of the payload: the inner ethertype when tagged. */
  override etherType = 0;
  /** VLAN identifier, or NO_VLAN (-1) for an untagged frame. */
  vlanId = NO_VLAN;
  vlanPcp = 0;
  vlanDei = 0;
  /** 14 untagged, 18 tagged. Set by parse; emit derives it from `vlanId`. */
  headerLength = ETHERNET_HEADER_LENGTH;
}

/**
 * Checked parse of an Ethernet II header at buf[off, end), stepping over one 802.1Q tag.
 * A second tag (QinQ) is refused with VlanNested; other ethertypes are left to the caller.
 */
export function parseLinkHeader(buf: Uint8Array, off: number, end: number, out: LinkHeader): WireError {
  if (end > buf.length) end = buf.length;
  const error = parseEthernet(buf, off, end, out);
  if (error !== WireError.None) return error;
  const outerType = out.etherType;
  if (outerType === EtherType.QinQ) return WireError.VlanNested;
  if (outerType !== EtherType.Vlan) {
    out.vlanId = NO_VLAN;
    out.vlanPcp = 0;
    out.vlanDei = 0;
    out.headerLength = ETHERNET_HEADER_LENGTH;
    return WireError.None;
  }
  if (end - off < VLAN_ETHERNET_HEADER_LENGTH) return WireError.VlanTruncated;
  const tci = readU16(buf, off + 14);
  const innerType = readU16(buf, off + 16);
  if (innerType === EtherType.Vlan || innerType === EtherType.QinQ) return WireError.VlanNested;
  out.vlanPcp = tci >>> 13;
  out.vlanDei = (tci >>> 12) & 1;
  out.vlanId = tci & 0xfff;
  out.etherType = innerType;
  out.headerLength = VLAN_ETHERNET_HEADER_LENGTH;
  return WireError.None;
}

/** Header length `emitLinkHeader` will write for `vlanId` (NO_VLAN: untagged). */
export function linkHeaderLength(vlanId: number): number {
  return vlanId < 0 ? ETHERNET_HEADER_LENGTH : VLAN_ETHERNET_HEADER_LENGTH;
}

/**
 * Writes the Ethernet header at `off`, with a tag when `h.vlanId >= 0`. Unchecked.
 * Sets `h.headerLength`; returns bytes written (14 or 18).
 */
export function emitLinkHeader(buf: Uint8Array, off: number, h: LinkHeader): number {
  emitEthernet(buf, off, h);
  if (h.vlanId < 0) {
    h.headerLength = ETHERNET_HEADER_LENGTH;
  } else {
    writeU16(buf, off + 12, EtherType.Vlan);
    writeU16(buf, off + 14, ((h.vlanPcp & 7) << 13) | ((h.vlanDei & 1) << 12) | (h.vlanId & 0xfff));
    writeU16(buf, off + 16, h.etherType);
    h.headerLength = VLAN_ETHERNET_HEADER_LENGTH;
  }
  return h.headerLength;
}
