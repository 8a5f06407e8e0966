/**
 * A port that shows every frame it moves to a hook (smoltcp's Tracer): received frames after
 * the inner port's `rxBurst`, transmitted frames the inner port accepted. The hook sees the
 * caller's buffer and must not keep it; copy what you need.
 */
import type { NicPort } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { DelegatingPort } from './delegating-port.js';

export type FrameDirection = 'rx' | 'tx';
export type FrameHook = (dir: FrameDirection, frame: Uint8Array, length: number) => void;

export class TracingPort extends DelegatingPort {
  constructor(
    inner: NicPort,
    private readonly hook: FrameHook,
  ) {
    super(inner);
  }

  override rxBurst(bufs: PacketBuffer[], max: number): number {
    const n = this.inner.rxBurst(bufs, max);
    for (let i = 0; i < n; i++) this.hook('rx', bufs[i]!.data, bufs[i]!.length);
    return n;
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    const n = this.inner.txBurst(bufs, count);
    for (let i = 0; i < n; i++) this.hook('tx', bufs[i]!.data, bufs[i]!.length);
    return n;
  }
}
