/**
 * Which bytes of a frame an end host's checksums protect, for the fault injector: corrupting
 * elsewhere (MAC addresses, padding) would go unnoticed by design, since software frames carry
 * no Ethernet FCS. A deliberately tiny parse (one optional 802.1Q tag, IPv4): the injector runs
 * below the stack and must not depend on it.
 */

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;
const IP_PROTOCOL_TCP = 6;

/**
 * [start, end) packed as start * 65536 + end, or -1 when nothing is checksummed. The IPv4
 * header checksum covers the header (RFC 791); for TCP the segment checksum covers the rest of
 * the datagram (RFC 9293 3.1). Both regions start at even offsets, so 16-bit words align.
 */
export function checksummedRegion(frame: Uint8Array, length: number): number {
  if (length < 14) return -1;
  let ip = 14;
  let type = (frame[12]! << 8) | frame[13]!;
  if (type === ETHERTYPE_VLAN) {
    if (length < 18) return -1;
    type = (frame[16]! << 8) | frame[17]!;
    ip = 18;
  }
  if (type !== ETHERTYPE_IPV4 || length < ip + 20) return -1;
  const versionIhl = frame[ip]!;
  const ihl = (versionIhl & 0x0f) * 4;
  if (versionIhl >> 4 !== 4 || ihl < 20) return -1;
  const total = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  if (total < ihl || ip + total > length) return -1;
  const end = frame[ip + 9] === IP_PROTOCOL_TCP ? ip + total : ip + ihl;
  return ip * 0x10000 + end;
}
