/**
 * Frame builders and helpers for the port specs (not exported from the package). Frames carry
 * a 32-bit sequence number right after the Ethernet header so specs can follow each one.
 */
import type { NicPort } from '../hw/nic-port.js';
import { PacketBuffer } from '../hw/packet-buffer.js';

export const BROADCAST = 0xffffffffffff;
/** IEEE 802 "local experimental" EtherType: test frames that no stack interprets. */
export const ETHERTYPE_EXPERIMENTAL = 0x88b5;

export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  buf[off] = hi >> 8;
  buf[off + 1] = hi & 0xff;
  new DataView(buf.buffer, buf.byteOffset).setUint32(off + 2, mac >>> 0);
}

/** An Ethernet frame of `length` bytes from `src` to `dst` carrying sequence number `seq`. */
export function testFrame(dst: number, src: number, seq: number, length = 64): PacketBuffer {
  const b = new PacketBuffer(Math.max(length, 1536));
  fillTestFrame(b, dst, src, seq, length);
  return b;
}

export function fillTestFrame(b: PacketBuffer, dst: number, src: number, seq: number, length = 64): void {
  writeMac(b.data, 0, dst);
  writeMac(b.data, 6, src);
  b.data.writeUInt16BE(ETHERTYPE_EXPERIMENTAL, 12);
  b.data.writeUInt32BE(seq >>> 0, 14);
  for (let i = 18; i < length; i++) b.data[i] = (seq + i) & 0xff;
  b.length = length;
}

export function seqOf(b: PacketBuffer): number {
  return b.data.readUInt32BE(14);
}

export function buffers(n: number, capacity = 1536): PacketBuffer[] {
  return Array.from({ length: n }, () => new PacketBuffer(capacity));
}

/** Everything receivable now, as sequence numbers. */
export function drainSeqs(port: NicPort, burst = 32): number[] {
  const bufs = buffers(burst);
  const out: number[] = [];
  for (;;) {
    const n = port.rxBurst(bufs, burst);
    for (let i = 0; i < n; i++) out.push(seqOf(bufs[i]!));
    if (n < burst) return out;
  }
}

/** Everything receivable now, as byte copies. */
export function drainFrames(port: NicPort, burst = 32): Buffer[] {
  const bufs = buffers(burst);
  const out: Buffer[] = [];
  for (;;) {
    const n = port.rxBurst(bufs, burst);
    for (let i = 0; i < n; i++) out.push(Buffer.from(bufs[i]!.data.subarray(0, bufs[i]!.length)));
    if (n < burst) return out;
  }
}

/** Lets queued microtasks (port wakeups) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if ((end - start) & 1) sum += buf[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

const IP = 14;
const TCP = IP + 20;

/**
 * An Ethernet/IPv4/TCP frame with correct checksums (RFC 791 header checksum, RFC 9293 segment
 * checksum over the pseudo-header), `payload` bytes of data, sequence number `seq`.
 */
export function tcpFrame(
  seq: number,
  payload = 100,
  dst = 0x020000000002,
  src = 0x020000000001,
): PacketBuffer {
  const length = TCP + 20 + payload;
  const b = new PacketBuffer(Math.max(length, 1536));
  const d = b.data;
  writeMac(d, 0, dst);
  writeMac(d, 6, src);
  d.writeUInt16BE(0x0800, 12);
  d[IP] = 0x45;
  d.writeUInt16BE(length - IP, IP + 2);
  d[IP + 8] = 64;
  d[IP + 9] = 6;
  d.writeUInt32BE(0x0a000001, IP + 12);
  d.writeUInt32BE(0x0a000002, IP + 16);
  d.writeUInt16BE(~onesComplementSum(d, IP, TCP) & 0xffff, IP + 10);
  d.writeUInt16BE(40000, TCP);
  d.writeUInt16BE(80, TCP + 2);
  d.writeUInt32BE(seq >>> 0, TCP + 4);
  d[TCP + 12] = 5 << 4;
  d[TCP + 13] = 0x18; // PSH|ACK
  d.writeUInt16BE(65535, TCP + 14);
  for (let i = TCP + 20; i < length; i++) d[i] = (seq * 7 + i) & 0xff;
  d.writeUInt16BE(~onesComplementSum(d, TCP, length, pseudoHeaderSum(d, length - TCP)) & 0xffff, TCP + 16);
  b.length = length;
  return b;
}

function pseudoHeaderSum(d: Uint8Array, tcpLength: number): number {
  return onesComplementSum(d, IP + 12, IP + 20) + 6 + tcpLength;
}

/** True when both the IPv4 header checksum and the TCP checksum of a `tcpFrame` verify. */
export function checksumsVerify(d: Uint8Array, length: number): boolean {
  const total = (d[IP + 2]! << 8) | d[IP + 3]!;
  const ihl = (d[IP]! & 0x0f) * 4;
  if (onesComplementSum(d, IP, IP + ihl) !== 0xffff) return false;
  const end = Math.min(IP + total, length);
  const tcp = IP + ihl;
  return onesComplementSum(d, tcp, end, pseudoHeaderSum(d, end - tcp)) === 0xffff;
}
