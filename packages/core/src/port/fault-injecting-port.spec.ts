import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { ManualClock } from '../util/manual-clock.js';
import { FaultInjectingPort, type FaultOptions } from './fault-injecting-port.js';
import { NullPort } from './null-port.js';
import {
  buffers,
  checksumsVerify,
  drainFrames,
  drainSeqs,
  flushMicrotasks,
  seqOf,
  tcpFrame,
  testFrame,
} from './spec-support.js';
import { VirtualNetwork } from './virtual-network.js';
import { wireTimeNs } from './wire-time.js';

const TIMEOUT = 1_000_000;

/** A wire a -> b with the fault injector on b's receive side, all on one fake clock. */
function rig(opts: FaultOptions, netOpts: { rxQueueFrames?: number } = {}) {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, rxQueueFrames: 4096, ...netOpts });
  const a = net.attach();
  const b = net.attach();
  const fault = new FaultInjectingPort(b, { clock, reorderTimeoutNs: TIMEOUT, ...opts });
  return { clock, net, a, b, fault };
}

/**
 * Sends `n` frames a -> b in bursts, draining the fault port after each, then lets held frames
 * time out; returns what was delivered, as the caller's buffers saw it.
 */
function pump(
  r: ReturnType<typeof rig>,
  n: number,
  make: (seq: number) => PacketBuffer = (s) => testFrame(r.b.mac, r.a.mac, s),
  onRx: (b: PacketBuffer) => void = () => {},
): void {
  const rx = buffers(64);
  const drain = (): void => {
    for (;;) {
      const got = r.fault.rxBurst(rx, 64);
      for (let i = 0; i < got; i++) onRx(rx[i]!);
      if (got < 64) return;
    }
  };
  for (let seq = 0; seq < n; seq += 32) {
    const burst = Array.from({ length: Math.min(32, n - seq) }, (_, i) => make(seq + i));
    expect(r.a.txBurst(burst, burst.length)).to.equal(burst.length);
    drain();
  }
  r.clock.advance(TIMEOUT);
  drain();
}

function delivered(opts: FaultOptions, n: number): number[] {
  const r = rig(opts);
  const seqs: number[] = [];
  pump(r, n, undefined, (b) => seqs.push(seqOf(b)));
  return seqs;
}

/** A digest of every delivered frame's bytes, in order. */
function deliveredDigest(opts: FaultOptions, n: number): string {
  const r = rig(opts);
  const h = createHash('sha256');
  pump(
    r,
    n,
    (s) => tcpFrame(s, s % 300, r.b.mac, r.a.mac),
    (b) => h.update(b.data.subarray(0, b.length)),
  );
  return h.digest('hex');
}

describe('FaultInjectingPort', () => {
  describe('without faults', () => {
    it('delivers every frame once, in order, byte for byte', () => {
      const r = rig({});
      const sent = [tcpFrame(1, 0, r.b.mac, r.a.mac), tcpFrame(2, 1400, r.b.mac, r.a.mac)];
      r.a.txBurst(sent, 2);
      const got = drainFrames(r.fault);
      expect(got.map((g, i) => g.equals(sent[i]!.data.subarray(0, sent[i]!.length)))).to.deep.equal([
        true,
        true,
      ]);
      expect(delivered({}, 1000)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    });

    it('passes transmit, MAC, configuration and capabilities through', () => {
      const inner = new NullPort({ mac: 0x020000000042 });
      const f = new FaultInjectingPort(inner, {});
      expect(f.txBurst([testFrame(1, 2, 3)], 1)).to.equal(1);
      expect(f.stats()).to.include({ txPackets: 1 });
      expect(f.mac).to.equal(0x020000000042);
      f.configure({ mac: 0x020000000043, mtu: 1500 });
      expect(inner.mac).to.equal(0x020000000043);
      expect(f.capabilities.driver).to.equal('fault(null)');
    });

    it('refuses probabilities outside [0, 1] and bad sizes', () => {
      const inner = new NullPort();
      expect(() => new FaultInjectingPort(inner, { loss: 1.5 })).to.throw(RangeError);
      expect(() => new FaultInjectingPort(inner, { corrupt: -0.1 })).to.throw(RangeError);
      expect(() => new FaultInjectingPort(inner, { duplicate: NaN })).to.throw(RangeError);
      expect(() => new FaultInjectingPort(inner, { queueFrames: 0 })).to.throw(RangeError);
      expect(() => new FaultInjectingPort(inner, { delayNs: 1, clock: { now: () => 0 } })).to.throw(
        TypeError,
      );
    });
  });

  describe('loss', () => {
    it('drops at the configured rate over 100k frames (seed 1) and counts every drop', () => {
      const r = rig({ loss: 0.1, seed: 1 });
      const seqs: number[] = [];
      pump(r, 100_000, undefined, (b) => seqs.push(seqOf(b)));
      const lost = 100_000 - seqs.length;
      // Binomial(100k, 0.1): sd ~ 95 frames; 5 sd.
      expect(lost).to.be.within(10_000 - 475, 10_000 + 475);
      const s = r.fault.stats();
      expect(s.faults['injected-loss']).to.equal(lost);
      expect(s.drops['injected-loss']).to.equal(lost);
      expect(s.rxPackets).to.equal(seqs.length);
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y)); // loss alone keeps order
    });

    it('loss 0 drops nothing and loss 1 drops everything', () => {
      expect(delivered({ loss: 0 }, 500)).to.have.length(500);
      expect(delivered({ loss: 1 }, 500)).to.have.length(0);
    });
  });

  describe('determinism', () => {
    const MIXED: FaultOptions = { loss: 0.05, duplicate: 0.05, reorder: 0.05, corrupt: 0.05 };

    it('the same seed gives the identical delivered sequence (bytes and order)', () => {
      expect(deliveredDigest({ ...MIXED, seed: 42 }, 5000)).to.equal(
        deliveredDigest({ ...MIXED, seed: 42 }, 5000),
      );
    });

    it('a different seed gives a different sequence', () => {
      expect(deliveredDigest({ ...MIXED, seed: 42 }, 5000)).to.not.equal(
        deliveredDigest({ ...MIXED, seed: 43 }, 5000),
      );
    });

    it('each fault has its own stream: turning duplication on leaves the loss pattern unchanged', () => {
      const lossOnly = delivered({ loss: 0.1, seed: 5 }, 5000);
      const withDup = delivered({ loss: 0.1, duplicate: 0.1, seed: 5 }, 5000);
      expect([...new Set(withDup)]).to.deep.equal(lossOnly);
    });
  });

  describe('duplication', () => {
    it('delivers a copy right behind the original, byte-identical, and counts it', () => {
      const r = rig({ duplicate: 0.2, seed: 3 });
      const got: Buffer[] = [];
      pump(
        r,
        5000,
        (s) => testFrame(r.b.mac, r.a.mac, s, 60 + (s % 100)),
        (b) => got.push(Buffer.from(b.data.subarray(0, b.length))),
      );
      const dups = r.fault.stats().faults['injected-duplicate'];
      expect(dups).to.be.within(850, 1150);
      expect(got).to.have.length(5000 + dups);
      let pairs = 0;
      for (let i = 1; i < got.length; i++) if (got[i]!.equals(got[i - 1]!)) pairs++;
      expect(pairs).to.equal(dups);
      expect([...new Set(got.map((g) => g.readUInt32BE(14)))]).to.have.length(5000);
    });
  });

  describe('reordering', () => {
    it('changes the order but delivers every frame exactly once', () => {
      const r = rig({ reorder: 0.1, reorderDepth: 3, seed: 9 });
      const seqs: number[] = [];
      pump(r, 20_000, undefined, (b) => seqs.push(seqOf(b)));
      expect(seqs).to.not.deep.equal([...seqs].sort((x, y) => x - y));
      expect([...seqs].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 20_000 }, (_, i) => i));
      expect(r.fault.stats().faults['injected-reorder']).to.be.within(1800, 2200);
    });

    it('a held frame is overtaken by exactly reorderDepth later frames', () => {
      const r = rig({ reorder: 0.1, reorderDepth: 3, seed: 9 });
      const seqs: number[] = [];
      pump(r, 20_000, undefined, (b) => seqs.push(seqOf(b)));
      let held = 0;
      for (let i = 0; i < seqs.length; i++) {
        let overtakers = 0;
        for (let j = Math.max(0, i - 64); j < i; j++) if (seqs[j]! > seqs[i]!) overtakers++;
        if (overtakers === 0) continue;
        held++;
        // Frames at the very end are released by the timeout instead, with fewer overtakers.
        if (seqs[i]! < 20_000 - 64) expect(overtakers, `frame ${seqs[i]}`).to.equal(3);
      }
      expect(held).to.equal(r.fault.stats().faults['injected-reorder']);
    });

    it('releases a held frame after the timeout when too few frames follow', async () => {
      const r = rig({ reorder: 1, reorderDepth: 3 });
      const wakes: number[] = [];
      r.fault.setRxWakeup(() => wakes.push(r.clock.now()));
      r.a.txBurst([testFrame(r.b.mac, r.a.mac, 1), testFrame(r.b.mac, r.a.mac, 2)], 2);
      await flushMicrotasks(); // the inner wakeup hands the frames to the injector
      expect(drainSeqs(r.fault)).to.deep.equal([]);
      expect(r.fault.held).to.equal(2);
      r.clock.advance(TIMEOUT - 1);
      expect(drainSeqs(r.fault)).to.deep.equal([]);
      r.clock.advance(1);
      expect(wakes).to.deep.equal([TIMEOUT]);
      expect(drainSeqs(r.fault)).to.deep.equal([1, 2]);
    });
  });

  describe('corruption', () => {
    it('flips 1 to 3 bits that the IPv4 and TCP checksums catch, and counts them', () => {
      const r = rig({ corrupt: 1, seed: 4 });
      const sent: Buffer[] = [];
      const flips: number[] = [];
      let next = 0; // no loss or reordering: delivery order is sending order
      pump(
        r,
        2000,
        (s) => {
          const f = tcpFrame(s, s % 1400, r.b.mac, r.a.mac);
          sent.push(Buffer.from(f.data.subarray(0, f.length)));
          return f;
        },
        (b) => {
          const orig = sent[next++]!;
          expect(b.length).to.equal(orig.length);
          expect(checksumsVerify(b.data, b.length)).to.equal(false);
          let bits = 0;
          for (let i = 0; i < b.length; i++) bits += popcount(b.data[i]! ^ orig[i]!);
          flips.push(bits);
        },
      );
      expect(next).to.equal(2000);
      expect(r.fault.stats().faults['injected-corrupt']).to.equal(2000);
      expect(Math.min(...flips)).to.equal(1);
      expect(Math.max(...flips)).to.equal(3);
    });

    it('never produces a frame whose checksums still verify (any seed, any length)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.integer({ min: 0, max: 1400 }),
          (seed, payload) => {
            const r = rig({ corrupt: 1, seed, queueFrames: 16 }, { rxQueueFrames: 16 });
            const frames = Array.from({ length: 8 }, (_, i) => tcpFrame(seed + i, payload, r.b.mac, r.a.mac));
            for (const f of frames) expect(checksumsVerify(f.data, f.length)).to.equal(true);
            r.a.txBurst(frames, frames.length);
            const rx = buffers(8);
            expect(r.fault.rxBurst(rx, 8)).to.equal(8);
            for (const b of rx) expect(checksumsVerify(b.data, b.length)).to.equal(false);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('leaves frames with no checksummed region alone (they would go unnoticed)', () => {
      const r = rig({ corrupt: 1 });
      const f = testFrame(r.b.mac, r.a.mac, 1, 200);
      r.a.txBurst([f], 1);
      expect(drainFrames(r.fault)[0]!.equals(f.data.subarray(0, 200))).to.equal(true);
      expect(r.fault.stats().faults['injected-corrupt']).to.equal(0);
    });

    it('never touches the Ethernet header', () => {
      const r = rig({ corrupt: 1, seed: 8 });
      pump(
        r,
        500,
        (s) => tcpFrame(s, 10, r.b.mac, r.a.mac),
        (b) =>
          expect(
            b.data.subarray(0, 14).equals(tcpFrame(0, 10, r.b.mac, r.a.mac).data.subarray(0, 14)),
          ).to.equal(true),
      );
    });

    it('reports no receive checksum offload while it corrupts', () => {
      const inner = new NullPort();
      Object.defineProperty(inner, 'capabilities', {
        value: { ...inner.capabilities, rxChecksumOffload: true },
      });
      expect(new FaultInjectingPort(inner, { corrupt: 0.1 }).capabilities.rxChecksumOffload).to.equal(false);
      expect(new FaultInjectingPort(inner, { loss: 0.1 }).capabilities.rxChecksumOffload).to.equal(true);
    });
  });

  describe('delay and rate (fake clock)', () => {
    it('holds each frame for the delay from its arrival, then wakes the consumer', async () => {
      const r = rig({ delayNs: 10_000 });
      const wakes: number[] = [];
      r.fault.setRxWakeup(() => wakes.push(r.clock.now()));
      r.a.txBurst([testFrame(r.b.mac, r.a.mac, 1)], 1);
      await flushMicrotasks();
      r.clock.advance(500);
      r.a.txBurst([testFrame(r.b.mac, r.a.mac, 2)], 1);
      await flushMicrotasks();
      expect(wakes).to.deep.equal([]);
      r.clock.advanceTo(9_999);
      expect(drainSeqs(r.fault)).to.deep.equal([]);
      r.clock.advanceTo(10_000);
      expect(wakes).to.deep.equal([10_000]);
      const rx = buffers(2);
      expect(r.fault.rxBurst(rx, 2)).to.equal(1);
      expect(rx[0]!.timestampNs).to.equal(10_000);
      r.clock.advanceTo(20_000);
      expect(wakes).to.deep.equal([10_000, 10_500]);
      expect(drainSeqs(r.fault)).to.deep.equal([2]);
    });

    it('spaces frames at the bottleneck rate', () => {
      const r = rig({ rateGbps: 1 });
      const ser = wireTimeNs(1000, 1);
      r.a.txBurst(
        [1, 2, 3].map((s) => testFrame(r.b.mac, r.a.mac, s, 1000)),
        3,
      );
      const rx = buffers(4);
      const stamps: number[] = [];
      for (let t = 0; t <= 4 * ser; t += 1000) {
        r.clock.advanceTo(t);
        const n = r.fault.rxBurst(rx, 4);
        for (let i = 0; i < n; i++) stamps.push(rx[i]!.timestampNs);
      }
      expect(stamps).to.deep.equal([ser, 2 * ser, 3 * ser]);
    });
  });

  describe('bounded holding queue', () => {
    it('pulls only while it has slots; a duplicate without a slot is a counted drop', () => {
      const r = rig({ duplicate: 1, queueFrames: 4 });
      r.a.txBurst(
        [1, 2, 3, 4, 5].map((s) => testFrame(r.b.mac, r.a.mac, s)),
        5,
      );
      const rx = buffers(8);
      expect(r.fault.rxBurst(rx, 8)).to.equal(4);
      expect(rx.slice(0, 4).map(seqOf)).to.deep.equal([1, 1, 2, 2]);
      expect(r.fault.stats().faults['fault-queue-full']).to.equal(2); // frames 3 and 4 of that pull
      expect(drainSeqs(r.fault)).to.deep.equal([5, 5]);
    });
  });

  describe('counters', () => {
    it('add up: delivered = pulled - lost + duplicated - queue-full', () => {
      const r = rig({ loss: 0.05, duplicate: 0.05, reorder: 0.05, corrupt: 0.05, seed: 77 });
      let got = 0;
      pump(
        r,
        20_000,
        (s) => tcpFrame(s, 64, r.b.mac, r.a.mac),
        () => got++,
      );
      const s = r.fault.stats();
      const f = s.faults;
      expect(got).to.equal(20_000 - f['injected-loss'] + f['injected-duplicate'] - f['fault-queue-full']);
      expect(s.rxPackets).to.equal(got);
      for (const k of [
        'injected-loss',
        'injected-duplicate',
        'injected-reorder',
        'injected-corrupt',
      ] as const) {
        expect(f[k], k).to.be.within(700, 1300);
      }
      expect(r.b.stats().rxPackets).to.equal(20_000);
    });
  });
});

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
