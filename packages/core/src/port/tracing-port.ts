/**
 * A port that shows every frame it moves to a hook (smoltcp's Tracer): received frames after
 * the inner port's `rxBurst`, transmitted frames the inner port accepted. The hook sees the
 * caller's buffer and must not keep it; copy what you need.
 */
import type { NicPort, PortCapabilities, PortConfiguration, PortStats } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';

export type FrameDirection = 'rx' | 'tx';
export type FrameHook = (dir: FrameDirection, frame: Uint8Array, length: number) => void;

export class TracingPort implements NicPort {
  constructor(
    readonly inner: NicPort,
    private readonly hook: FrameHook,
  ) {}

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
    const n = this.inner.rxBurst(bufs, max);
    for (let i = 0; i < n; i++) this.hook('rx', bufs[i]!.data, bufs[i]!.length);
    return n;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    const n = this.inner.txBurst(bufs, count);
    for (let i = 0; i < n; i++) this.hook('tx', bufs[i]!.data, bufs[i]!.length);
    return n;
  }
}
