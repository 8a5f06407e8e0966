/**
 * Opens the packet I/O a port config names: the core's in-process wire (`virtual`), a Linux TAP
 * device (`tap`) or a DPDK port (`dpdk`). The simulated NICs use the same drivers as their wire
 * in `paced` mode, so this is exported for them.
 *
 * Configs stay plain data; device middleware (fault injection, capture, tracing: the core's
 * wrapping ports) is added by the caller through `wrap`, so a test can reorder frames on a
 * real TAP without a `faults` field leaking into the configuration format.
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

export interface OpenPortOptions {
  /** Wraps the opened device, e.g. `(p) => new FaultInjectingPort(p, { reorder: 0.01 })`. */
  readonly wrap?: (port: NicPort) => NicPort;
}

export async function openPort(
  config: PortConfig,
  time: PortTime = { clock: realTime, timers: realTime },
  options: OpenPortOptions = {},
): Promise<OpenedPort> {
  const opened = await openDevice(config, time);
  if (options.wrap === undefined) return opened;
  try {
    return { port: options.wrap(opened.port), close: () => opened.close() };
  } catch (e) {
    await opened.close();
    throw e;
  }
}

async function openDevice(config: PortConfig, time: PortTime): Promise<OpenedPort> {
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
    // Loaded on first use: the TAP driver loads ffi-rs and the DPDK driver the native addon, which
    // a process on the virtual wire should not need.
    case 'tap': {
      const { TapPort } = await import('./tap/tap-port.js');
      const port = new TapPort({
        ifname: config.ifname,
        clock: time.clock,
        ...(config.mac === undefined ? {} : { mac: parseMac(config.mac) }),
      });
      return started(port);
    }
    case 'dpdk': {
      const { DpdkPort } = await import('./dpdk/dpdk-port.js');
      const port = await DpdkPort.open({
        vdev: config.vdev,
        clock: time.clock,
        ...(config.eal === undefined ? {} : { eal: config.eal }),
        ...(config.mac === undefined ? {} : { mac: parseMac(config.mac) }),
      });
      return started(port);
    }
    default:
      throw new Error(
        `flextoe: unknown port driver ${JSON.stringify((config as { driver?: unknown }).driver)}`,
      );
  }
}

/** Device ports come up started, like a virtual port attached to its wire. */
async function started(port: NicPort & { close(): Promise<void> }): Promise<OpenedPort> {
  try {
    await port.start();
  } catch (e) {
    await port.close();
    throw e;
  }
  return { port, close: () => port.close() };
}

/** '02:00:00:00:00:01' -> 48-bit number. */
export function parseMac(text: string): number {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text))
    throw new RangeError(`mac is "${text}" but must look like 02:00:00:00:00:01`);
  return parseInt(text.replace(/:/g, ''), 16);
}
