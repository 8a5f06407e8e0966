// IPv4 header (RFC 791 section 3.1), with the TOS octet read as DSCP (RFC 2474) + ECN (RFC 3168).
//
//   0                   1                   2                   3
//   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options (IHL > 5)                          |

import { readU16, writeU16 } from './bytes.js';
import { checksumVerifies, internetChecksum, sumWords } from './checksum.js';
import { WireError } from './drop-reason.js';

export const IPV4_MIN_HEADER_LENGTH = 20;
/** IHL is 4 bits of 32-bit words: at most 60 bytes of header. */
export const IPV4_MAX_HEADER_LENGTH = 60;

/** IPv4 protocol numbers (IANA). */
export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;

/** ECN field codepoints, RFC 3168 section 5. */
export const Ecn = {
  /** 00: Not ECN-Capable Transport. */
  NotEct: 0,
  /** 01: ECN-Capable Transport, ECT(1). */
  Ect1: 1,
  /** 10: ECN-Capable Transport, ECT(0). */
  Ect0: 2,
  /** 11: Congestion Experienced. */
  Ce: 3,
} as const;

/** The 3-bit Flags field (RFC 791 3.1): bit 0 reserved, DF, MF. */
export const Ipv4Flag = { MoreFragments: 0x1, DontFragment: 0x2, Reserved: 0x4 } as const;

/** A parsed or to-be-emitted IPv4 header. Addresses are u32 numbers. Allocate once, reuse. */
export class Ipv4Header {
  /** Always 4 after a successful parse; emit writes 4 regardless. */
  version = 4;
  /** Header length in 32-bit words, 5..15. */
  ihl = 5;
  dscp = 0;
  /** RFC 3168 codepoint, see `Ecn`. */
  ecn = 0;
  /** Header plus payload, in octets. */
  totalLength = 0;
  id = 0;
  /** See `Ipv4Flag`. */
  flags = 0;
  /** In units of 8 octets. */
  fragmentOffset = 0;
  ttl = 64;
  protocol = 0;
  checksum = 0;
  src = 0;
  dst = 0;
  /** ihl * 4. Set by parse. */
  headerLength = IPV4_MIN_HEADER_LENGTH;
  /** totalLength - headerLength. Set by parse. */
  payloadLength = 0;
}

/**
 * Checked parse of the IPv4 header at buf[off, end). Bytes beyond `totalLength` (Ethernet
 * padding) are ignored; options are stepped over by IHL. Fragments are refused (Ipv4Fragment):
 * there is no reassembly. The checksum is verified unless `verifyChecksum` is false (for ports
 * whose hardware already checked it).
 */
export function parseIpv4(
  buf: Uint8Array,
  off: number,
  end: number,
  out: Ipv4Header,
  verifyChecksum = true,
): WireError {
  if (end > buf.length) end = buf.length;
  const available = end - off;
  if (available < IPV4_MIN_HEADER_LENGTH) return WireError.Ipv4Truncated;
  const versionIhl = buf[off]!;
  if (versionIhl >>> 4 !== 4) return WireError.Ipv4BadVersion;
  const ihl = versionIhl & 0xf;
  if (ihl < 5) return WireError.Ipv4BadIhl; // RFC 791 3.1: minimum correct IHL is 5
  const headerLength = ihl * 4;
  if (headerLength > available) return WireError.Ipv4Truncated;
  const totalLength = readU16(buf, off + 2);
  if (totalLength < headerLength || totalLength > available) return WireError.Ipv4TotalLengthMismatch;
  if (verifyChecksum && !checksumVerifies(sumWords(buf, off, off + headerLength, 0))) {
    return WireError.Ipv4BadChecksum;
  }
  const flagsFragment = readU16(buf, off + 6);
  if ((flagsFragment & 0x3fff) !== 0) return WireError.Ipv4Fragment; // MF or offset: RFC 791 2.3
  out.version = 4;
  out.ihl = ihl;
  out.dscp = buf[off + 1]! >>> 2;
  out.ecn = buf[off + 1]! & 3;
  out.totalLength = totalLength;
  out.id = readU16(buf, off + 4);
  out.flags = flagsFragment >>> 13;
  out.fragmentOffset = flagsFragment & 0x1fff;
  out.ttl = buf[off + 8]!;
  out.protocol = buf[off + 9]!;
  out.checksum = readU16(buf, off + 10);
  out.src = readU16(buf, off + 12) * 0x1_0000 + readU16(buf, off + 14); // composed here: see bytes.ts
  out.dst = readU16(buf, off + 16) * 0x1_0000 + readU16(buf, off + 18);
  out.headerLength = headerLength;
  out.payloadLength = totalLength - headerLength;
  return WireError.None;
}

/**
 * Writes the IPv4 header at `off` and its checksum (RFC 791 3.1: computed with the checksum
 * field zero). Unchecked. When `h.ihl > 5` the option bytes at off+20 .. off+ihl*4 must already
 * be in place; they are covered by the checksum but not written. `h.totalLength` is written as
 * given. Sets `h.checksum`, `h.headerLength` and `h.payloadLength`; returns bytes written (ihl * 4).
 */
export function emitIpv4(buf: Uint8Array, off: number, h: Ipv4Header): number {
  const ihl = h.ihl & 0xf;
  const headerLength = ihl * 4;
  buf[off] = 0x40 | ihl;
  buf[off + 1] = ((h.dscp & 0x3f) << 2) | (h.ecn & 3);
  writeU16(buf, off + 2, h.totalLength);
  writeU16(buf, off + 4, h.id);
  writeU16(buf, off + 6, ((h.flags & 7) << 13) | (h.fragmentOffset & 0x1fff));
  buf[off + 8] = h.ttl;
  buf[off + 9] = h.protocol;
  writeU16(buf, off + 10, 0);
  writeU16(buf, off + 12, h.src >>> 16);
  writeU16(buf, off + 14, h.src & 0xffff);
  writeU16(buf, off + 16, h.dst >>> 16);
  writeU16(buf, off + 18, h.dst & 0xffff);
  const checksum = internetChecksum(buf, off, off + headerLength);
  writeU16(buf, off + 10, checksum);
  h.checksum = checksum;
  h.headerLength = headerLength;
  h.payloadLength = h.totalLength - headerLength;
  return headerLength;
}

/** "10.0.0.1" for a u32 address. Not for the hot path. */
export function ipv4ToString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parses dotted-quad "10.0.0.1" into a u32; throws a TypeError otherwise. Not for the hot path. */
export function ipv4FromString(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  let addr = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
    addr = addr * 256 + octet;
  }
  return addr;
}
