// TCP options (RFC 9293 section 3.1 and 3.2): EOL (0), NOP (1), MSS (2, RFC 9293 3.7.1),
// window scale (3, RFC 7323 2), SACK-permitted (4, RFC 2018 2), SACK (5, RFC 2018 3),
// timestamps (8, RFC 7323 3).
//
// RFC 9293 3.1: an option is either a single kind octet (EOL, NOP) or "an octet of option-kind,
// an octet of option-length, and the actual option-data octets"; the length counts the kind and
// length octets. RFC 9293 3.1: unknown options are skipped by their length ("MUST ignore
// without error any TCP Option it does not implement", MUST-6) and an illegal option length
// (e.g. zero) must be handled (MUST-7): here it is a named WireError, never an exception.

import { readU16, writeU16 } from './bytes.js';
import { WireError } from './drop-reason.js';

export const TcpOptionKind = {
  Eol: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

/** Bits of `TcpOptions.present`. */
export const TcpOptionFlag = {
  Mss: 0x01,
  WindowScale: 0x02,
  SackPermitted: 0x04,
  Sack: 0x08,
  Timestamps: 0x10,
} as const;

/** Options a SYN or SYN-ACK carries. */
export const SYN_OPTION_SET =
  TcpOptionFlag.Mss | TcpOptionFlag.WindowScale | TcpOptionFlag.SackPermitted | TcpOptionFlag.Timestamps;
/** Options an established-state segment carries. */
export const ESTABLISHED_OPTION_SET = TcpOptionFlag.Timestamps | TcpOptionFlag.Sack;

/** Data offset is 4 bits of words: at most 60 - 20 = 40 bytes of options. */
export const TCP_MAX_OPTIONS_LENGTH = 40;
/** RFC 2018 3: at most 4 blocks fit in 40 bytes (3 alongside timestamps). */
export const TCP_MAX_SACK_BLOCKS = 4;
/** RFC 7323 2.3: "the shift count ... MUST use 14 instead" of anything larger. */
export const TCP_MAX_WINDOW_SCALE = 14;

const MSS_LENGTH = 4;
const WINDOW_SCALE_LENGTH = 3;
const SACK_PERMITTED_LENGTH = 2;
const TIMESTAMPS_LENGTH = 10;
const SACK_BLOCK_LENGTH = 8;

/** Options of one segment, parsed or to emit. Allocate once; `reset()` before each parse. */
export class TcpOptions {
  /** TcpOptionFlag bits of the options present. */
  present = 0;
  mss = 0;
  /** Shift count, clamped to 14 on parse (RFC 7323 2.3). */
  wscale = 0;
  tsVal = 0;
  tsEcr = 0;
  sackBlockCount = 0;
  /** Left edge, right edge pairs: [left0, right0, left1, right1, ...]. */
  readonly sackBlocks = new Uint32Array(TCP_MAX_SACK_BLOCKS * 2);
  /** Options of unknown kind that were skipped by their length. */
  unknownCount = 0;

  reset(): void {
    this.present = 0;
    this.mss = 0;
    this.wscale = 0;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackBlockCount = 0;
    this.unknownCount = 0;
  }

  get hasMss(): boolean {
    return (this.present & TcpOptionFlag.Mss) !== 0;
  }
  get hasWindowScale(): boolean {
    return (this.present & TcpOptionFlag.WindowScale) !== 0;
  }
  get sackPermitted(): boolean {
    return (this.present & TcpOptionFlag.SackPermitted) !== 0;
  }
  get hasSack(): boolean {
    return (this.present & TcpOptionFlag.Sack) !== 0;
  }
  get hasTimestamps(): boolean {
    return (this.present & TcpOptionFlag.Timestamps) !== 0;
  }
}

/**
 * Checked parse of the option area buf[off, end) (the bytes between the fixed 20-byte TCP header
 * and the data offset) into `out`, which the caller has `reset()`. Returns the first problem
 * found; on error `out` may be partly filled. Parsing stops at EOL (RFC 9293 3.1: "the end of
 * the option list"). A repeated option overwrites the earlier one.
 */
export function parseTcpOptions(buf: Uint8Array, off: number, end: number, out: TcpOptions): WireError {
  if (end > buf.length) end = buf.length;
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TcpOptionKind.Eol) break;
    if (kind === TcpOptionKind.Nop) {
      i++;
      continue;
    }
    if (i + 1 >= end) return WireError.TcpOptionTruncated;
    const length = buf[i + 1]!;
    if (length < 2 || i + length > end) return WireError.TcpOptionBadLength;
    const error = parseOneOption(buf, i, kind, length, out);
    if (error !== WireError.None) return error;
    i += length;
  }
  return WireError.None;
}

/** Reads one kind-length-data option whose length is already bounds-checked. */
function parseOneOption(
  buf: Uint8Array,
  i: number,
  kind: number,
  length: number,
  out: TcpOptions,
): WireError {
  switch (kind) {
    case TcpOptionKind.Mss:
      if (length !== MSS_LENGTH) return WireError.TcpOptionMalformed;
      out.mss = readU16(buf, i + 2);
      out.present |= TcpOptionFlag.Mss;
      return WireError.None;
    case TcpOptionKind.WindowScale: {
      if (length !== WINDOW_SCALE_LENGTH) return WireError.TcpOptionMalformed;
      const shift = buf[i + 2]!;
      out.wscale = shift > TCP_MAX_WINDOW_SCALE ? TCP_MAX_WINDOW_SCALE : shift; // RFC 7323 2.3
      out.present |= TcpOptionFlag.WindowScale;
      return WireError.None;
    }
    case TcpOptionKind.SackPermitted:
      if (length !== SACK_PERMITTED_LENGTH) return WireError.TcpOptionMalformed;
      out.present |= TcpOptionFlag.SackPermitted;
      return WireError.None;
    case TcpOptionKind.Sack:
      return parseSackBlocks(buf, i, length, out);
    case TcpOptionKind.Timestamps:
      if (length !== TIMESTAMPS_LENGTH) return WireError.TcpOptionMalformed;
      out.tsVal = readU16(buf, i + 2) * 0x1_0000 + readU16(buf, i + 4); // composed here: see bytes.ts
      out.tsEcr = readU16(buf, i + 6) * 0x1_0000 + readU16(buf, i + 8);
      out.present |= TcpOptionFlag.Timestamps;
      return WireError.None;
    default:
      out.unknownCount++; // RFC 9293 3.1 MUST-6: skip unknown options by their length
      return WireError.None;
  }
}

/** RFC 2018 3: "Length: Variable" = 2 + 8 * n for n blocks; n is 1..4 in a 40-byte option area. */
function parseSackBlocks(buf: Uint8Array, i: number, length: number, out: TcpOptions): WireError {
  const dataLength = length - 2;
  const count = dataLength >>> 3;
  if ((dataLength & 7) !== 0 || count === 0 || count > TCP_MAX_SACK_BLOCKS)
    return WireError.TcpOptionMalformed;
  const blocks = out.sackBlocks;
  for (let b = 0, at = i + 2; b < 2 * count; b++, at += 4) {
    blocks[b] = readU16(buf, at) * 0x1_0000 + readU16(buf, at + 2);
  }
  out.sackBlockCount = count;
  out.present |= TcpOptionFlag.Sack;
  return WireError.None;
}

/**
 * Byte length `emitTcpOptions(buf, off, o, mask)` writes, a multiple of 4 and at most 40.
 * Layout, in the order Linux uses so that peers and captures look familiar:
 *   MSS(4) | SACK-permitted + TS (2 + 10) or NOP NOP TS or NOP NOP SACK-permitted | NOP WS(3)
 *   | NOP NOP SACK(2 + 8n), n limited by the room left in 40 bytes.
 */
export function tcpOptionsLength(
  o: TcpOptions,
  mask: number = SYN_OPTION_SET | ESTABLISHED_OPTION_SET,
): number {
  const p = o.present & mask;
  let length = 0;
  if ((p & TcpOptionFlag.Mss) !== 0) length += 4;
  if ((p & (TcpOptionFlag.SackPermitted | TcpOptionFlag.Timestamps)) !== 0) {
    length += (p & TcpOptionFlag.Timestamps) !== 0 ? 12 : 4;
  }
  if ((p & TcpOptionFlag.WindowScale) !== 0) length += 4;
  if ((p & TcpOptionFlag.Sack) !== 0) {
    const blocks = sackBlocksThatFit(o.sackBlockCount, length);
    if (blocks > 0) length += 4 + blocks * SACK_BLOCK_LENGTH;
  }
  return length;
}

/** How many of `wanted` SACK blocks fit behind `used` option bytes (NOP NOP kind len + 8n <= 40). */
function sackBlocksThatFit(wanted: number, used: number): number {
  const room = Math.max(0, (TCP_MAX_OPTIONS_LENGTH - used - 4) >> 3);
  return Math.min(wanted, room, TCP_MAX_SACK_BLOCKS);
}

/**
 * Writes the options present in `o.present & mask` at `off` in the layout of `tcpOptionsLength`
 * (NOP-padded to a multiple of 4; no EOL needed). Unchecked: 40 bytes must fit. SACK blocks that
 * do not fit are left out (the first ones are kept). Returns bytes written.
 */
export function emitTcpOptions(
  buf: Uint8Array,
  off: number,
  o: TcpOptions,
  mask: number = SYN_OPTION_SET | ESTABLISHED_OPTION_SET,
): number {
  const p = o.present & mask;
  let i = off;
  if ((p & TcpOptionFlag.Mss) !== 0) {
    buf[i] = TcpOptionKind.Mss;
    buf[i + 1] = MSS_LENGTH;
    writeU16(buf, i + 2, o.mss);
    i += 4;
  }
  const sackOk = (p & TcpOptionFlag.SackPermitted) !== 0;
  if ((p & TcpOptionFlag.Timestamps) !== 0) {
    if (sackOk) {
      buf[i] = TcpOptionKind.SackPermitted;
      buf[i + 1] = SACK_PERMITTED_LENGTH;
    } else {
      buf[i] = TcpOptionKind.Nop;
      buf[i + 1] = TcpOptionKind.Nop;
    }
    buf[i + 2] = TcpOptionKind.Timestamps;
    buf[i + 3] = TIMESTAMPS_LENGTH;
    writeU16(buf, i + 4, o.tsVal >>> 16);
    writeU16(buf, i + 6, o.tsVal & 0xffff);
    writeU16(buf, i + 8, o.tsEcr >>> 16);
    writeU16(buf, i + 10, o.tsEcr & 0xffff);
    i += 12;
  } else if (sackOk) {
    buf[i] = TcpOptionKind.Nop;
    buf[i + 1] = TcpOptionKind.Nop;
    buf[i + 2] = TcpOptionKind.SackPermitted;
    buf[i + 3] = SACK_PERMITTED_LENGTH;
    i += 4;
  }
  if ((p & TcpOptionFlag.WindowScale) !== 0) {
    buf[i] = TcpOptionKind.Nop;
    buf[i + 1] = TcpOptionKind.WindowScale;
    buf[i + 2] = WINDOW_SCALE_LENGTH;
    buf[i + 3] = o.wscale;
    i += 4;
  }
  if ((p & TcpOptionFlag.Sack) !== 0)
    i += emitSackBlocks(buf, i, o, sackBlocksThatFit(o.sackBlockCount, i - off));
  return i - off;
}

/** NOP NOP SACK(2 + 8n) for the first `count` blocks; nothing when count is 0. */
function emitSackBlocks(buf: Uint8Array, off: number, o: TcpOptions, count: number): number {
  if (count <= 0) return 0;
  buf[off] = TcpOptionKind.Nop;
  buf[off + 1] = TcpOptionKind.Nop;
  buf[off + 2] = TcpOptionKind.Sack;
  buf[off + 3] = 2 + count * SACK_BLOCK_LENGTH;
  const blocks = o.sackBlocks;
  for (let b = 0, at = off + 4; b < 2 * count; b++, at += 4) {
    const edge = blocks[b]!;
    writeU16(buf, at, edge >>> 16);
    writeU16(buf, at + 2, edge & 0xffff);
  }
  return 4 + count * SACK_BLOCK_LENGTH;
}

/** The SYN / SYN-ACK set: MSS, SACK-permitted, timestamps, NOP, window scale (those present). */
export function emitSynOptions(buf: Uint8Array, off: number, o: TcpOptions): number {
  return emitTcpOptions(buf, off, o, SYN_OPTION_SET);
}

/** The established set: NOP NOP timestamps, then NOP NOP SACK blocks (those present). */
export function emitEstablishedOptions(buf: Uint8Array, off: number, o: TcpOptions): number {
  return emitTcpOptions(buf, off, o, ESTABLISHED_OPTION_SET);
}
