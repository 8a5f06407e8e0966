/**
 * A port in front of another (a wrapper: tracing, capture, fault injection): everything goes to
 * `inner` unless the wrapper overrides it. Wrappers override the bursts and what they change.
 */
import type { NicPort, PortCapabilities, PortConfiguration, PortStats } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';

export abstract class DelegatingPort implements NicPort {
  constructor(readonly inner: NicPort) {}

  get capabilities(): PortCapabilities {
    return this.inner.capabilities;
  }

  get mac(): number {
    return this.inner.mac;
  }

  configure(conf: PortConfiguration): void {
    this.inner.configure(conf);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  stats(): PortStats {
    return this.inner.stats();
  }

  setRxWakeup(wakeup: (() => void) | null): void {
    this.inner.setRxWakeup(wakeup);
  }

  rxBurst(bufs: PacketBuffer[], max: number): number {
    return this.inner.rxBurst(bufs, max);
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    return this.inner.txBurst(bufs, count);
  }
}
