// Why a frame was not accepted by the wire parsers. Every malformed or unsupported input ends in
// exactly one of these named values (DESIGN.md 5: "every malformed input ends in a counted drop");
// the parsers never throw. Values are small dense integers so they can index a counter array.

/** Result of a wire parser: `None` on success, otherwise the named reason for the drop. */
export enum WireError {
  None = 0,

  /** Fewer than 14 bytes for the Ethernet II header. */
  EthTruncated,
  /** Ethertype other than IPv4, ARP or one 802.1Q tag (e.g. IPv6, LLDP, 802.3 length field). */
  EthertypeUnsupported,
  /** 802.1Q TPID present but fewer than 4 bytes follow for the TCI and inner ethertype. */
  VlanTruncated,
  /** A second 802.1Q/802.1ad tag inside the first: only one tag is handled. */
  VlanNested,

  /** Fewer than 28 bytes for an IPv4-over-Ethernet ARP packet (RFC 826). */
  ArpTruncated,
  /** ARP for another hardware/protocol pair, other address lengths, or an op not request/reply. */
  ArpUnsupported,

  /** Fewer than 20 bytes, or fewer than IHL * 4 bytes, for the IPv4 header (RFC 791 3.1). */
  Ipv4Truncated,
  /** Version field is not 4. */
  Ipv4BadVersion,
  /** IHL below 5: "the minimum value for a correct header is 5" (RFC 791 3.1). */
  Ipv4BadIhl,
  /** Total length above the bytes available or below the header length (RFC 791 3.1). */
  Ipv4TotalLengthMismatch,
  /** Header checksum does not verify (RFC 791 3.1, RFC 1071). */
  Ipv4BadChecksum,
  /** MF set or fragment offset non-zero: fragments are not reassembled (RFC 791 2.3). */
  Ipv4Fragment,
  /** IPv4 protocol other than TCP on the data path (e.g. ICMP, UDP). */
  Ipv4ProtocolUnsupported,

  /** Fewer than 20 bytes for the TCP header (RFC 9293 3.1). */
  TcpTruncated,
  /** Data offset below 5 words or beyond the end of the segment (RFC 9293 3.1). */
  TcpBadDataOffset,
  /** Checksum over pseudo-header, header and data does not verify (RFC 9293 3.1). */
  TcpBadChecksum,
  /** Option length 0 or 1 (it counts kind and length octets) or running past the options. */
  TcpOptionBadLength,
  /** An option kind octet is the last octet of the option area: no room for its length. */
  TcpOptionTruncated,
  /** A known option with the wrong length (MSS != 4, WS != 3, SACK-permitted != 2, TS != 10, SACK not 2+8n). */
  TcpOptionMalformed,
}

/** Number of WireError values; size for a per-reason counter array. */
export const WIRE_ERROR_COUNT = WireError.TcpOptionMalformed + 1;

/** The enum member name of `e` ("TcpBadChecksum"), or "WireError(<n>)" for an unknown value. */
export function wireErrorName(e: WireError): string {
  return WireError[e] ?? `WireError(${e})`;
}
