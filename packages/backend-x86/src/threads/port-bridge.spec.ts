// The port bridge's doorbell discipline: it wakes a NIC core only when the core has something to
// act on. A wakeup is a futex system call on this thread and a thread switch on the core's, and
// on a machine shared by more threads than CPUs each one can cost a scheduler slice.
import { expect } from 'chai';
import { NullPort } from '@flextoe/core';
import { Doorbell } from './doorbell.js';
import { FrameRing } from './frame-ring.js';
import { PortBridge, type BridgedCore } from './port-bridge.js';

const SHAPE = { capacity: 256, maxFrameBytes: 1518 };
/** Free transmit slots the core needs before it takes new work (two bursts of 32). */
const CORE_TX_ROOM = 64;

function fixture(): { bridge: PortBridge; core: BridgedCore; port: NullPort } {
  const core: BridgedCore = {
    rx: FrameRing.create(SHAPE),
    pre: [],
    tx: FrameRing.create(SHAPE),
    post: [],
    bell: new Doorbell(new Int32Array(new SharedArrayBuffer(64)), 0),
    dirty: false,
  };
  const port = new NullPort();
  return { bridge: new PortBridge(port, [core], () => 0, CORE_TX_ROOM), core, port };
}

/** The core's side: queues `n` frames to transmit. */
function coreTransmits(core: BridgedCore, n: number): void {
  const frame = new Uint8Array(60);
  for (let i = 0; i < n; i++) expect(core.tx.push(frame, frame.length, 0)).to.equal(true);
}

describe('PortBridge: which transmits wake the NIC core', () => {
  it("regression: sending a sleeping core's frames does not wake it when it had room (one wasted wakeup per transmit)", () => {
    const { bridge, core, port } = fixture();
    coreTransmits(core, 3); // a core that transmitted a little, then went to sleep
    core.bell.announce();
    expect(bridge.pump()).to.equal(3);
    expect(port.stats().txPackets).to.equal(3);
    expect(core.bell.isSleeping, 'the core stays asleep: it was never short of room').to.equal(true);
    expect(core.dirty).to.equal(false);
  });

  it('wakes a core that was short of transmit room once the bridge frees slots', () => {
    const { bridge, core, port } = fixture();
    coreTransmits(core, SHAPE.capacity - CORE_TX_ROOM + 1); // one slot short of the core's room
    core.bell.announce();
    bridge.pump();
    expect(port.stats().txPackets).to.be.greaterThan(0);
    expect(core.bell.isSleeping, 'the core waiting for room was rung').to.equal(false);
    expect(core.dirty, 'a lockstep host syncs it').to.equal(true);
  });

  it('wakes the core when a received frame arrives for it', () => {
    const { bridge, core } = fixture();
    let given = 0;
    (bridge.port as NullPort).rxBurst = (bufs, max) => {
      if (given > 0 || max < 1) return 0;
      bufs[0]!.length = 60;
      given = 1;
      return 1;
    };
    core.bell.announce();
    expect(bridge.pump()).to.equal(1);
    expect(core.rx!.size).to.equal(1);
    expect(core.bell.isSleeping).to.equal(false);
  });
});
