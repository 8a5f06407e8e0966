/**
 * The per-frame path of the software ports allocates nothing. Heap growth alone would miss
 * garbage that a scavenge collected mid-run, so the spec measures allocation as growth plus
 * what every GC in the window freed (V8's GCProfiler). A bound of 2 MB over 200k frames is
 * 10 B a frame: below the smallest object V8 could allocate per frame, far above noise.
 * Not a timing assertion.
 */
import { expect } from 'chai';
import type { NicPort } from '../hw/nic-port.js';
import { allocatedBy } from '../util/allocation-meter.js';
import { ManualClock } from '../util/manual-clock.js';
import { CapturingPort } from './capturing-port.js';
import { FaultInjectingPort } from './fault-injecting-port.js';
import { PcapWriter } from './pcap-writer.js';
import { buffers, tcpFrame } from './spec-support.js';
import { VirtualNetwork, type VirtualPort } from './virtual-network.js';

const FRAMES = 200_000;
const BURST = 32;
const BOUND = 2 * 1024 * 1024;
/** Beyond 2^30 ns, so times are never V8 small integers: every double on the path is exercised. */
const START_NS = 5_000_000_000;

interface Rig {
  clock: ManualClock;
  sender: VirtualPort;
  receiver: NicPort;
  stepNs: number;
}

/** Sends `frames` frames in bursts and drains the receiver after each burst; returns how many arrived. */
function run(r: Rig, frames: number): number {
  const tx = Array.from({ length: BURST }, (_, i) => tcpFrame(i, 200 + i, 0x020000000002, r.sender.mac));
  const rx = buffers(64);
  let received = 0;
  for (let sent = 0; sent < frames; sent += BURST) {
    let off = 0;
    while (off < BURST) {
      // txBurst takes bufs from index 0; a short count means "retry the rest later".
      const n = r.sender.txBurst(off === 0 ? tx : tx.slice(off), BURST - off);
      off += n;
      if (off < BURST) r.clock.advance(r.stepNs);
    }
    r.clock.advance(r.stepNs);
    for (let n = 64; n === 64;) {
      n = r.receiver.rxBurst(rx, 64);
      received += n;
    }
  }
  return received;
}

function measure(r: Rig): { allocated: number; received: number } {
  run(r, 20_000); // warm-up: JIT, every ring slot touched once
  let received = 0;
  const allocated = allocatedBy(() => {
    received = run(r, FRAMES);
  });
  return { allocated, received };
}

describe('software ports: no allocation per frame', () => {
  it('virtual network + fault injector (loss, duplicate, reorder, corrupt) + capture', () => {
    const clock = new ManualClock(START_NS);
    const net = new VirtualNetwork({ clock });
    const sender = net.attach();
    const inner = net.attach();
    const fault = new FaultInjectingPort(inner, {
      clock,
      loss: 0.01,
      duplicate: 0.01,
      reorder: 0.01,
      corrupt: 0.01,
      seed: 1,
      reorderTimeoutNs: 5_000,
    });
    const receiver = new CapturingPort(fault, new PcapWriter({ write: () => {} }), { clock });
    const { allocated, received } = measure({ clock, sender, receiver, stepNs: 1_000 });
    expect(received).to.be.above(FRAMES * 0.97);
    expect(allocated, `${allocated} B for ${FRAMES} frames`).to.be.below(BOUND);
  });

  it('rate-limited, delayed virtual network + delaying, rate-limiting fault injector', () => {
    const clock = new ManualClock(START_NS);
    const net = new VirtualNetwork({ clock, rateGbps: 100, delayNs: 1_000 });
    const sender = net.attach();
    const inner = net.attach();
    const receiver = new FaultInjectingPort(inner, { clock, delayNs: 2_000, rateGbps: 40, seed: 2 });
    const { allocated, received } = measure({ clock, sender, receiver, stepNs: 20_000 });
    expect(received).to.be.above(FRAMES * 0.99);
    expect(allocated, `${allocated} B for ${FRAMES} frames`).to.be.below(BOUND);
  });
});
