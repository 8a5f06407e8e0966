/**
 * The three ways the interop tests put a FlexTOE stack on a wire to a Linux kernel in a network
 * namespace. Our stack's address and the kernel's are in a /24 the root namespace does not use
 * (freeSubnet: 198.18.101.0/24 unless taken); the kernel's exists only inside the namespace,
 * ours only inside our stack.
 *
 *  - tap: our TAP driver (ffi-rs + fs) opens a TAP in the root namespace; the TAP is moved into
 *    the peer's namespace (the fd stays ours) and addressed there.
 *  - dpdk net_tap: DPDK's TAP PMD makes the interface; moved into the namespace the same way.
 *  - dpdk net_af_packet: a veth pair, one end addressed in the namespace, the other bound by
 *    DPDK's AF_PACKET PMD in the root namespace, unaddressed; checksum offload, TSO, GSO and
 *    GRO off on both ends (a packet socket sees partial checksums and 64 KiB super-frames
 *    otherwise).
 */
import { randomBytes } from 'node:crypto';
import type { PortConfig } from '@flextoe/core';
import { backend } from '@flextoe/backend-x86';
import { freeSubnet, interfaceName, run, type Sandbox } from './sandbox.js';

const SUBNET = freeSubnet();
export const PEER_IP = `${SUBNET}.1`;
export const OUR_IP = `${SUBNET}.2`;
export const PEER_CIDR = `${PEER_IP}/24`;
export const OUR_CIDR = `${OUR_IP}/24`;

export interface Wire {
  /** The port config our stack opens. */
  readonly port: PortConfig;
  /** The kernel's interface inside the namespace (for loss rules). */
  readonly kernelIf: string;
  /** Finishes the wiring once our port is open (moves a TAP into the namespace). */
  attach(): void;
}

export interface InteropDriver {
  readonly title: string;
  /** Why it cannot run on this host, or null. */
  unavailable(): string | null;
  /** Prepares the wire for a new sandbox (before our port opens). */
  wire(sandbox: Sandbox): Wire;
  /** The fault rows of the transfer matrix it runs (linux-tcp.test.ts); all when omitted. */
  readonly faults?: readonly FaultKind[];
}

export type FaultKind = 'clean' | 'loss' | 'reorder';

/** A random locally administered unicast MAC, as a config string. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function dpdkUnavailable(): string | null {
  const dpdk = backend.descriptor.drivers.find((d) => d.name === 'dpdk');
  return dpdk?.available ? null : `the dpdk driver is unavailable: ${dpdk?.detail ?? 'not offered'}`;
}

export const TAP: InteropDriver = {
  title: 'TAP (ffi-rs)',
  unavailable: () => null,
  wire(sandbox) {
    const ifname = interfaceName('t');
    return {
      port: { driver: 'tap', ifname, ip: OUR_CIDR, mac: randomMac() },
      kernelIf: ifname,
      attach: () => sandbox.adopt(ifname, PEER_CIDR),
    };
  },
};

export const DPDK_NET_TAP: InteropDriver = {
  title: 'DPDK net_tap',
  unavailable: dpdkUnavailable,
  wire(sandbox) {
    const ifname = interfaceName('d');
    return {
      // The PMD's MAC is the kernel interface's: our stack takes its own.
      port: { driver: 'dpdk', vdev: `net_tap_${ifname},iface=${ifname}`, ip: OUR_CIDR, mac: randomMac() },
      kernelIf: ifname,
      attach: () => sandbox.adopt(ifname, PEER_CIDR),
    };
  },
};

/**
 * A veth pair: the kernel's end addressed in the namespace, ours (unaddressed, in the root
 * namespace) bound by a DPDK PMD that takes `iface=`.
 */
function vethWire(sandbox: Sandbox, pmd: 'net_af_packet' | 'net_af_xdp'): Wire {
  const outside = interfaceName('o');
  const inside = interfaceName('i');
  sandbox.veth(outside, inside, PEER_CIDR);
  return {
    // Not the veth's MAC: frames for our stack must be "other host" to the root namespace's
    // kernel, which then ignores them instead of routing them.
    port: { driver: 'dpdk', vdev: `${pmd}_${outside},iface=${outside}`, ip: OUR_CIDR, mac: randomMac() },
    kernelIf: inside,
    attach: () => {},
  };
}

export const DPDK_AF_PACKET: InteropDriver = {
  title: 'DPDK net_af_packet',
  unavailable: dpdkUnavailable,
  wire: (sandbox) => vethWire(sandbox, 'net_af_packet'),
};

/** Linux's address family number for XDP sockets (include/linux/socket.h). */
const AF_XDP = 44;
const SOCK_RAW = 3;

/**
 * Why this kernel cannot give us an XDP socket, or null. Asked of the kernel itself by creating
 * one (perl is Essential in Debian, so it is there wherever the rest of the suite runs): a
 * kernel without CONFIG_XDP_SOCKETS says EAFNOSUPPORT.
 */
export function afXdpUnavailable(): string | null {
  const r = run('perl', ['-e', `socket(my $s, ${AF_XDP}, ${SOCK_RAW}, 0) or die "$!\\n"`]);
  return r.ok ? null : `this kernel refuses an AF_XDP socket (socket(AF_XDP, SOCK_RAW, 0): ${r.out})`;
}

export const DPDK_AF_XDP: InteropDriver = {
  title: 'DPDK net_af_xdp',
  unavailable: () => dpdkUnavailable() ?? afXdpUnavailable(),
  // The same veth as net_af_packet's: one queue (the PMD binds queue 0 only), offloads off. The
  // PMD attaches libxdp's redirect program to the outside end in the kernel's native veth XDP
  // mode, sending every frame to its socket; it copies (veth has no zero-copy), which is what a
  // veth can do.
  wire: (sandbox) => vethWire(sandbox, 'net_af_xdp'),
};

export const DRIVERS: readonly InteropDriver[] = [TAP, DPDK_NET_TAP, DPDK_AF_PACKET, DPDK_AF_XDP];
