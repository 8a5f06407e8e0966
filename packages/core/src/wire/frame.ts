// One-call parse of an Ethernet / [802.1Q] / (ARP | IPv4 / TCP) frame and one-call emit of the
// Ethernet / IPv4 / TCP header stack. A thin composition of the per-format functions: every
// check lives in the format's own file.

import { ARP_LENGTH, ArpPacket, emitArp, parseArp } from './arp.js';
import { WireError } from './drop-reason.js';
import { EtherType } from './ethernet.js';
import { emitIpv4, IPV4_MIN_HEADER_LENGTH, IpProtocol, Ipv4Header, parseIpv4 } from './ipv4.js';
import { emitTcp, parseTcp, tcpChecksumVerifies, TcpHeader, tcpHeaderLength } from './tcp.js';
import { parseTcpOptions, TcpOptions } from './tcp-options.js';
import { emitLinkHeader, LinkHeader, linkHeaderLength, parseLinkHeader } from './vlan.js';

/** What the frame carried above the link layer. */
export enum L4Kind {
  /** Nothing parsed successfully (set on every error). */
  None = 0,
  Arp = 1,
  Tcp = 2,
}

/** Bits for `parseFrame`'s `flags`: skip checks the port's hardware already did. */
export const ParseFlag = {
  SkipIpv4Checksum: 0x1,
  SkipTcpChecksum: 0x2,
} as const;

/** The headers of an Ethernet / IPv4 / TCP frame; what `emitTcpFrame` reads. */
export interface TcpFrameHeaders {
  readonly link: LinkHeader;
  readonly ipv4: Ipv4Header;
  readonly tcp: TcpHeader;
}

/** A reusable set of headers to emit from (e.g. one per flow for ACKs and data segments). */
export class TcpFrameTemplate implements TcpFrameHeaders {
  readonly link = new LinkHeader();
  readonly ipv4 = new Ipv4Header();
  readonly tcp = new TcpHeader();
}

/**
 * Every header of one received frame plus where each layer starts. Allocate once per parser;
 * `parseFrame` overwrites it. Fields of layers the frame did not reach keep stale values: read
 * `l4` (and the returned WireError) first. Absolute offsets index the parsed buffer.
 */
export class ParsedFrame implements TcpFrameHeaders {
  readonly link = new LinkHeader();
  readonly arp = new ArpPacket();
  readonly ipv4 = new Ipv4Header();
  readonly tcp = new TcpHeader();
  readonly tcpOptions = new TcpOptions();
  l4 = L4Kind.None;
  /** Offset of the Ethernet header. */
  linkOffset = 0;
  /** Offset of the ARP packet or IPv4 header. */
  l3Offset = 0;
  /** Offset of the TCP header (TCP frames). */
  l4Offset = 0;
  /** End of the meaningful bytes (end of the IPv4 total length or of the ARP packet); Ethernet padding follows. */
  frameEnd = 0;
}

/**
 * Checked parse of the frame buf[off, end) into `out`. Returns WireError.None with `out.l4` set,
 * or the reason for the drop. Never throws, for any bytes. Checks run outside-in: link, IPv4
 * header and checksum, TCP header, TCP checksum, TCP options.
 */
export function parseFrame(
  buf: Uint8Array,
  off: number,
  end: number,
  out: ParsedFrame,
  flags = 0,
): WireError {
  out.l4 = L4Kind.None;
  if (end > buf.length) end = buf.length;
  out.linkOffset = off;
  const linkError = parseLinkHeader(buf, off, end, out.link);
  if (linkError !== WireError.None) return linkError;
  const l3 = off + out.link.headerLength;
  out.l3Offset = l3;
  switch (out.link.etherType) {
    case EtherType.Ipv4:
      return parseIpv4Tcp(buf, l3, end, out, flags);
    case EtherType.Arp: {
      const arpError = parseArp(buf, l3, end, out.arp);
      if (arpError !== WireError.None) return arpError;
      out.frameEnd = l3 + ARP_LENGTH;
      out.l4 = L4Kind.Arp;
      return WireError.None;
    }
    default:
      return WireError.EthertypeUnsupported;
  }
}

function parseIpv4Tcp(buf: Uint8Array, l3: number, end: number, out: ParsedFrame, flags: number): WireError {
  const ip = out.ipv4;
  const ipError = parseIpv4(buf, l3, end, ip, (flags & ParseFlag.SkipIpv4Checksum) === 0);
  if (ipError !== WireError.None) return ipError;
  if (ip.protocol !== IpProtocol.Tcp) return WireError.Ipv4ProtocolUnsupported;
  const l4 = l3 + ip.headerLength;
  const segmentEnd = l3 + ip.totalLength;
  out.l4Offset = l4;
  out.frameEnd = segmentEnd;
  const tcp = out.tcp;
  const tcpError = parseTcp(buf, l4, segmentEnd, tcp);
  if (tcpError !== WireError.None) return tcpError;
  if ((flags & ParseFlag.SkipTcpChecksum) === 0 && !tcpChecksumVerifies(buf, l4, segmentEnd, ip)) {
    return WireError.TcpBadChecksum;
  }
  const options = out.tcpOptions;
  options.reset();
  const optionsError = parseTcpOptions(buf, tcp.optionsStart, tcp.optionsEnd, options);
  if (optionsError !== WireError.None) return optionsError;
  out.l4 = L4Kind.Tcp;
  return WireError.None;
}

/** Bytes of headers `emitTcpFrame` writes before the payload. */
export function tcpFrameHeaderLength(h: TcpFrameHeaders, options: TcpOptions | null): number {
  return linkHeaderLength(h.link.vlanId) + IPV4_MIN_HEADER_LENGTH + tcpHeaderLength(options);
}

/**
 * Writes Ethernet [+ 802.1Q when link.vlanId >= 0] + IPv4 (no IP options) + TCP (+ options) at
 * `off` and both checksums, the TCP one covering the `payloadLength` bytes that must already sit
 * at off + tcpFrameHeaderLength(h, options). Unchecked: the buffer must hold the frame.
 * Fills in the derived fields of `h` (ethertype, IHL, protocol, total length, data offset,
 * checksums) so it describes what was sent. Returns the frame length (no Ethernet min-size
 * padding: the port pads).
 */
export function emitTcpFrame(
  buf: Uint8Array,
  off: number,
  h: TcpFrameHeaders,
  options: TcpOptions | null,
  payloadLength: number,
): number {
  const ip = h.ipv4;
  h.link.etherType = EtherType.Ipv4;
  const l3 = off + emitLinkHeader(buf, off, h.link);
  ip.ihl = 5;
  ip.protocol = IpProtocol.Tcp;
  ip.totalLength = IPV4_MIN_HEADER_LENGTH + tcpHeaderLength(options) + payloadLength;
  const l4 = l3 + emitIpv4(buf, l3, ip);
  emitTcp(buf, l4, h.tcp, options, payloadLength, ip);
  return l3 - off + ip.totalLength;
}

/** Writes Ethernet [+ 802.1Q] + ARP at `off`. Unchecked. Sets link.etherType. Returns the frame length (unpadded). */
export function emitArpFrame(buf: Uint8Array, off: number, link: LinkHeader, arp: ArpPacket): number {
  link.etherType = EtherType.Arp;
  const l3 = off + emitLinkHeader(buf, off, link);
  return l3 - off + emitArp(buf, l3, arp);
}
