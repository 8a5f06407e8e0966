/**
 * Opens the packet I/O a port config names: the core's in-process wire (`virtual`), a Linux TAP
 * device (`tap`) or a DPDK port (`dpdk`). The simulated NICs use the same drivers as their wire
 * in `paced` mode, so this is exported for them.
 */
import {
  openVirtualPort,
  realTime,
  type Clock,
  type NicPort,
  type PortConfig,
  type Timers,
} from '@flextoe/core';

export interface OpenedPort {
  readonly port: NicPort;
  /** Stops the port and releases the device; idempotent. */
  close(): Promise<void>;
}

export interface PortTime {
  readonly clock: Clock;
  readonly timers: Timers;
}

export async function openPort(
  config: PortConfig,
  time: PortTime = { clock: realTime, timers: realTime },
): Promise<OpenedPort> {
  switch (config.driver) {
    case 'virtual': {
      const mac = config.mac === undefined ? undefined : parseMac(config.mac);
      const opened = openVirtualPort(config.network, time, mac);
      let closed = false;
      return {
        port: opened.port,
        async close() {
          if (closed) return;
          closed = true;
          opened.close();
        },
      };
    }
    case 'tap':
    case 'dpdk':
      throw new Error(
        `flextoe: the ${config.driver} port driver is not built yet (issue: backend-x86 packet I/O)`,
      );
    default:
      throw new Error(
        `flextoe: unknown port driver ${JSON.stringify((config as { driver?: unknown }).driver)}`,
      );
  }
}

/** '02:00:00:00:00:01' -> 48-bit number. */
export function parseMac(text: string): number {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text))
    throw new RangeError(`mac is "${text}" but must look like 02:00:00:00:00:01`);
  return parseInt(text.replace(/:/g, ''), 16);
}
