// Ethernet II header (IEEE 802.3 clause 3.2, "DIX" framing): destination MAC, source MAC,
// ethertype. No preamble, no FCS: NICs strip and add those.
//
// MAC addresses are 48-bit unsigned numbers (exact in a double, below 2^53): cheap to store in a
// typed array, compare and hash. First octet on the wire is the most significant byte.

import { readU16, writeU16 } from './bytes.js';
import { WireError } from './drop-reason.js';

/** Ethertypes this data path understands (IEEE registry). */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** IEEE 802.1Q customer VLAN tag (TPID). */
  Vlan: 0x8100,
  /** IEEE 802.1ad service VLAN tag (QinQ outer TPID); recognised only to be refused. */
  QinQ: 0x88a8,
  Ipv6: 0x86dd,
} as const;

export const ETHERNET_HEADER_LENGTH = 14;
/** Minimum Ethernet frame without FCS; shorter frames are padded by the sender (IEEE 802.3 4.2.3.3). */
export const ETHERNET_MIN_FRAME_LENGTH = 60;
export const MAC_BROADCAST = 0xffff_ffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_16 = 0x1_0000;

/** A parsed or to-be-emitted Ethernet II header. Allocate once, reuse per frame. */
export class EthernetHeader {
  dst = 0;
  src = 0;
  etherType = 0;
}

/**
 * Reads the 6-octet MAC address at `off` as a 48-bit number. Unchecked. For cold code: the
 * result is boxed when this call is not inlined, so the parsers write the same expression inline.
 */
export function readMac(buf: Uint8Array, off: number): number {
  return readU16(buf, off) * TWO_POW_32 + readU16(buf, off + 2) * TWO_POW_16 + readU16(buf, off + 4);
}

/** Writes a 48-bit MAC address as 6 octets at `off`. Unchecked. For cold code, as `readMac`. */
export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  writeU16(buf, off, Math.floor(mac / TWO_POW_32));
  writeU16(buf, off + 2, (mac >>> 16) & 0xffff); // >>> takes the low 32 bits of the 48
  writeU16(buf, off + 4, mac & 0xffff);
}

/** Checked parse of the 14-byte header at buf[off, end). */
export function parseEthernet(buf: Uint8Array, off: number, end: number, out: EthernetHeader): WireError {
  if (end > buf.length) end = buf.length;
  if (end - off < ETHERNET_HEADER_LENGTH) return WireError.EthTruncated;
  out.dst = readU16(buf, off) * TWO_POW_32 + readU16(buf, off + 2) * TWO_POW_16 + readU16(buf, off + 4);
  out.src = readU16(buf, off + 6) * TWO_POW_32 + readU16(buf, off + 8) * TWO_POW_16 + readU16(buf, off + 10);
  out.etherType = readU16(buf, off + 12);
  return WireError.None;
}

/** Writes the 14-byte header at `off` (unchecked: 14 bytes must fit). Returns bytes written. */
export function emitEthernet(buf: Uint8Array, off: number, h: EthernetHeader): number {
  const dst = h.dst;
  const src = h.src;
  writeU16(buf, off, Math.floor(dst / TWO_POW_32));
  writeU16(buf, off + 2, (dst >>> 16) & 0xffff);
  writeU16(buf, off + 4, dst & 0xffff);
  writeU16(buf, off + 6, Math.floor(src / TWO_POW_32));
  writeU16(buf, off + 8, (src >>> 16) & 0xffff);
  writeU16(buf, off + 10, src & 0xffff);
  writeU16(buf, off + 12, h.etherType);
  return ETHERNET_HEADER_LENGTH;
}

/** True for group (multicast and broadcast) addresses: I/G bit, the LSB of the first octet. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

/** "aa:bb:cc:dd:ee:ff" (lower case). Not for the hot path. */
export function formatMac(mac: number): string {
  const parts: string[] = [];
  for (let shift = 40; shift >= 0; shift -= 8) {
    parts.push((Math.floor(mac / 2 ** shift) % 256).toString(16).padStart(2, '0'));
  }
  return parts.join(':');
}

/** Parses "aa:bb:cc:dd:ee:ff" (or '-' separated); throws a TypeError on anything else. Not for the hot path. */
export function parseMac(text: string): number {
  const m =
    /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(
      text,
    );
  if (m === null) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  let mac = 0;
  for (const i of [1, 3, 4, 5, 6, 7]) mac = mac * 256 + parseInt(m[i]!, 16);
  return mac;
}
