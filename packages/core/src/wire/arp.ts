// ARP for IPv4 over Ethernet (RFC 826). Only the one hardware/protocol pair this data path uses:
// ar$hrd = 1 (Ethernet), ar$pro = 0x0800 (IPv4), ar$hln = 6, ar$pln = 4.
//
// Layout (28 bytes): hrd(2) pro(2) hln(1) pln(1) op(2) sha(6) spa(4) tha(6) tpa(4).

import { readU16, writeU16 } from './bytes.js';
import { WireError } from './drop-reason.js';
import { EtherType } from './ethernet.js';

export const ARP_LENGTH = 28;
/** ar$hrd for Ethernet (RFC 826; IANA ARP parameters). */
export const ARP_HTYPE_ETHERNET = 1;

/** ar$op values (RFC 826). */
export const ArpOp = { Request: 1, Reply: 2 } as const;

/** One ARP packet; addresses as numbers (MAC 48-bit, IPv4 u32). */
export class ArpPacket {
  op = 0;
  senderMac = 0;
  senderIp = 0;
  /** Ignored in requests ("ar$tha ... not known"); commonly 0. */
  targetMac = 0;
  targetIp = 0;
}

/** Checked parse of an ARP packet at buf[off, end); trailing Ethernet padding is ignored. */
export function parseArp(buf: Uint8Array, off: number, end: number, out: ArpPacket): WireError {
  if (end > buf.length) end = buf.length;
  if (end - off < ARP_LENGTH) return WireError.ArpTruncated;
  if (
    readU16(buf, off) !== ARP_HTYPE_ETHERNET ||
    readU16(buf, off + 2) !== EtherType.Ipv4 ||
    buf[off + 4] !== 6 ||
    buf[off + 5] !== 4
  ) {
    return WireError.ArpUnsupported;
  }
  const op = readU16(buf, off + 6);
  if (op !== ArpOp.Request && op !== ArpOp.Reply) return WireError.ArpUnsupported;
  out.op = op;
  // 48- and 32-bit values are composed here, not in a helper: see bytes.ts.
  out.senderMac =
    readU16(buf, off + 8) * 0x1_0000_0000 + readU16(buf, off + 10) * 0x1_0000 + readU16(buf, off + 12);
  out.senderIp = readU16(buf, off + 14) * 0x1_0000 + readU16(buf, off + 16);
  out.targetMac =
    readU16(buf, off + 18) * 0x1_0000_0000 + readU16(buf, off + 20) * 0x1_0000 + readU16(buf, off + 22);
  out.targetIp = readU16(buf, off + 24) * 0x1_0000 + readU16(buf, off + 26);
  return WireError.None;
}

/** Writes a 28-byte IPv4-over-Ethernet ARP packet at `off`. Unchecked. Returns bytes written. */
export function emitArp(buf: Uint8Array, off: number, p: ArpPacket): number {
  writeU16(buf, off, ARP_HTYPE_ETHERNET);
  writeU16(buf, off + 2, EtherType.Ipv4);
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  writeU16(buf, off + 6, p.op);
  const senderMac = p.senderMac;
  const targetMac = p.targetMac;
  writeU16(buf, off + 8, Math.floor(senderMac / 0x1_0000_0000));
  writeU16(buf, off + 10, (senderMac >>> 16) & 0xffff);
  writeU16(buf, off + 12, senderMac & 0xffff);
  writeU16(buf, off + 14, p.senderIp >>> 16);
  writeU16(buf, off + 16, p.senderIp & 0xffff);
  writeU16(buf, off + 18, Math.floor(targetMac / 0x1_0000_0000));
  writeU16(buf, off + 20, (targetMac >>> 16) & 0xffff);
  writeU16(buf, off + 22, targetMac & 0xffff);
  writeU16(buf, off + 24, p.targetIp >>> 16);
  writeU16(buf, off + 26, p.targetIp & 0xffff);
  return ARP_LENGTH;
}
