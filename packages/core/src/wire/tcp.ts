// TCP header (RFC 9293 section 3.1).
//
//   |          Source Port          |       Destination Port        |
//   |                        Sequence Number                        |
//   |                    Acknowledgment Number                      |
//   |  DOffset |  Rsrvd |C|E|U|A|P|R|S|F|            Window         |
//   |           Checksum            |         Urgent Pointer        |
//   |                 Options (DOffset > 5)                         |
//   |                             Data                              |

import { readU16, writeU16 } from './bytes.js';
import {
  checksumVerifies,
  finishChecksum,
  type Ipv4Addresses,
  pseudoHeaderSum,
  sumWords,
} from './checksum.js';
import { WireError } from './drop-reason.js';
import { IpProtocol } from './ipv4.js';
import type { SeqNumber } from './seq.js';
import { emitTcpOptions, tcpOptionsLength, type TcpOptions } from './tcp-options.js';

export const TCP_MIN_HEADER_LENGTH = 20;
export const TCP_MAX_HEADER_LENGTH = 60;

/** Control bits (RFC 9293 3.1; ECE and CWR from RFC 3168 6.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** A parsed or to-be-emitted TCP header. Offsets are absolute indices into the parsed buffer. */
export class TcpHeader {
  srcPort = 0;
  dstPort = 0;
  seq = 0 as SeqNumber;
  ack = 0 as SeqNumber;
  /** Header length in 32-bit words, 5..15 (RFC 9293 3.1 "DOffset"). */
  dataOffset = 5;
  /** TcpFlag bits. The 4 reserved bits are ignored on parse and sent as zero (RFC 9293 3.1). */
  flags = 0;
  window = 0;
  checksum = 0;
  urgentPointer = 0;
  /** dataOffset * 4. */
  headerLength = TCP_MIN_HEADER_LENGTH;
  /** Where the options start (header + 20) and end (= payloadStart). Set by parse. */
  optionsStart = 0;
  optionsEnd = 0;
  /** Where the payload starts and ends (exclusive). Set by parse. */
  payloadStart = 0;
  payloadEnd = 0;
  /** payloadEnd - payloadStart. Set by parse; emit takes it as an argument. */
  payloadLength = 0;
}

/**
 * Checked parse of the TCP segment buf[off, end) (`end` from the IPv4 total length, so Ethernet
 * padding is excluded). Structural only: options are parsed by `parseTcpOptions` over
 * [optionsStart, optionsEnd) and the checksum by `tcpChecksumVerifies`.
 */
export function parseTcp(buf: Uint8Array, off: number, end: number, out: TcpHeader): WireError {
  if (end > buf.length) end = buf.length;
  const segmentLength = end - off;
  if (segmentLength < TCP_MIN_HEADER_LENGTH) return WireError.TcpTruncated;
  const offsetAndFlags = readU16(buf, off + 12);
  const dataOffset = offsetAndFlags >>> 12;
  const headerLength = dataOffset * 4;
  // RFC 9293 3.1: the header is at least 5 words and cannot extend past the segment.
  if (dataOffset < 5 || headerLength > segmentLength) return WireError.TcpBadDataOffset;
  out.srcPort = readU16(buf, off);
  out.dstPort = readU16(buf, off + 2);
  out.seq = (readU16(buf, off + 4) * 0x1_0000 + readU16(buf, off + 6)) as SeqNumber; // see bytes.ts
  out.ack = (readU16(buf, off + 8) * 0x1_0000 + readU16(buf, off + 10)) as SeqNumber;
  out.dataOffset = dataOffset;
  out.flags = offsetAndFlags & 0xff;
  out.window = readU16(buf, off + 14);
  out.checksum = readU16(buf, off + 16);
  out.urgentPointer = readU16(buf, off + 18);
  out.headerLength = headerLength;
  out.optionsStart = off + TCP_MIN_HEADER_LENGTH;
  out.optionsEnd = off + headerLength;
  out.payloadStart = off + headerLength;
  out.payloadEnd = end;
  out.payloadLength = segmentLength - headerLength;
  return WireError.None;
}

/** Unfolded sum of pseudo-header, header and data of the IPv4 TCP segment buf[off, end). */
function tcpSum(buf: Uint8Array, off: number, end: number, ip: Ipv4Addresses): number {
  return sumWords(buf, off, end, pseudoHeaderSum(ip, IpProtocol.Tcp, end - off));
}

/**
 * True when the checksum of segment buf[off, end) verifies with the IPv4 pseudo-header of `ip`
 * (RFC 9293 3.1); `ip` is usually the segment's parsed `Ipv4Header`.
 */
export function tcpChecksumVerifies(buf: Uint8Array, off: number, end: number, ip: Ipv4Addresses): boolean {
  return checksumVerifies(tcpSum(buf, off, end, ip));
}

/**
 * Computes and stores the checksum of segment buf[off, end) (header, options and payload in
 * place) with the IPv4 pseudo-header of `ip`. Returns the checksum.
 */
export function writeTcpChecksum(buf: Uint8Array, off: number, end: number, ip: Ipv4Addresses): number {
  writeU16(buf, off + 16, 0); // RFC 9293 3.1: "the checksum field itself is replaced with zeros"
  const checksum = finishChecksum(tcpSum(buf, off, end, ip));
  writeU16(buf, off + 16, checksum);
  return checksum;
}

/**
 * Writes the fixed 20-byte header at `off` with `h.dataOffset` and `h.checksum` as they are.
 * Unchecked. Returns 20. Most callers want `emitTcp`.
 */
export function emitTcpHeader(buf: Uint8Array, off: number, h: TcpHeader): number {
  writeU16(buf, off, h.srcPort);
  writeU16(buf, off + 2, h.dstPort);
  writeU16(buf, off + 4, h.seq >>> 16);
  writeU16(buf, off + 6, h.seq & 0xffff);
  writeU16(buf, off + 8, h.ack >>> 16);
  writeU16(buf, off + 10, h.ack & 0xffff);
  writeU16(buf, off + 12, ((h.dataOffset & 0xf) << 12) | (h.flags & 0xff));
  writeU16(buf, off + 14, h.window);
  writeU16(buf, off + 16, h.checksum);
  writeU16(buf, off + 18, h.urgentPointer);
  return TCP_MIN_HEADER_LENGTH;
}

/** Header length `emitTcp` writes for these options (null: none). */
export function tcpHeaderLength(options: TcpOptions | null): number {
  return TCP_MIN_HEADER_LENGTH + (options === null ? 0 : tcpOptionsLength(options));
}

/**
 * Writes header and options at `off`, then the checksum over header, options and the
 * `payloadLength` payload bytes already in place after them, with the pseudo-header of `ip`
 * (usually the segment's `Ipv4Header`). Unchecked. Sets h.dataOffset,
 * h.headerLength, h.checksum and h.payloadLength. Returns the header length (payload excluded).
 */
export function emitTcp(
  buf: Uint8Array,
  off: number,
  h: TcpHeader,
  options: TcpOptions | null,
  payloadLength: number,
  ip: Ipv4Addresses,
): number {
  const headerLength = tcpHeaderLength(options);
  h.dataOffset = headerLength >>> 2;
  h.headerLength = headerLength;
  h.payloadLength = payloadLength;
  h.checksum = 0;
  emitTcpHeader(buf, off, h);
  if (options !== null) emitTcpOptions(buf, off + TCP_MIN_HEADER_LENGTH, options);
  h.checksum = writeTcpChecksum(buf, off, off + headerLength + payloadLength, ip);
  return headerLength;
}
