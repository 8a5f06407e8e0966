/**
 * `createVirtualNetwork()`: an in-process wire with seeded faults that several stacks, on any
 * backends, attach to by config. `attach('10.0.0.1/24')` returns plain data (a port config), so
 * it can also be written into a config file by name.
 */
import { registerVirtualWire, unregisterVirtualWire, type VirtualWireOptions } from '@flextoe/core';

export type VirtualNetworkOptions = VirtualWireOptions;

export interface VirtualPortConfigOut {
  readonly driver: 'virtual';
  readonly network: string;
  readonly ip: string;
  readonly mac?: string;
}

export interface VirtualNetworkHandle {
  /** The wire's name (what `port.network` says). */
  readonly name: string;
  readonly options: Readonly<VirtualNetworkOptions>;
  /** A port config for a stack with address `ipCidr` on this wire. */
  attach(ipCidr: string, options?: { mac?: string }): VirtualPortConfigOut;
  /** Forgets the wire's name (open stacks keep their ports until they close). */
  close(): void;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function createVirtualNetwork(
  options: VirtualNetworkOptions = {},
  name?: string,
): VirtualNetworkHandle {
  const wire = registerVirtualWire(options, name);
  return {
    name: wire,
    options: Object.freeze({ ...options }),
    attach(ipCidr, opts = {}) {
      const m = CIDR.exec(ipCidr);
      if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
        throw new RangeError(`attach("${ipCidr}"): the address must look like 10.0.0.1/24`);
      return { driver: 'virtual', network: wire, ip: ipCidr, ...(opts.mac ? { mac: opts.mac } : {}) };
    },
    close() {
      unregisterVirtualWire(wire);
    },
  };
}
