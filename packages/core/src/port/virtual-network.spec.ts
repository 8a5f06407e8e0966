import { expect } from 'chai';
import type { Clock } from '../hw/clock.js';
import { ManualClock } from '../util/manual-clock.js';
import {
  BROADCAST,
  buffers,
  drainFrames,
  drainSeqs,
  fillTestFrame,
  flushMicrotasks,
  seqOf,
  testFrame,
} from './spec-support.js';
import { VirtualNetwork, type VirtualPort } from './virtual-network.js';
import { wireTimeNs } from './wire-time.js';

const send = (from: VirtualPort, to: number, ...seqs: number[]): number =>
  from.txBurst(
    seqs.map((s) => testFrame(to, from.mac, s)),
    seqs.length,
  );

describe('VirtualNetwork', () => {
  describe('attaching', () => {
    it('assigns locally administered MACs 02:00:00:00:00:NN in attach order', () => {
      const net = new VirtualNetwork();
      expect([net.attach().mac, net.attach().mac, net.attach().mac]).to.deep.equal([
        0x020000000001, 0x020000000002, 0x020000000003,
      ]);
      expect(new VirtualNetwork().attach().mac).to.equal(0x020000000001);
    });

    it('takes a given MAC and skips it when assigning', () => {
      const net = new VirtualNetwork();
      expect(net.attach({ mac: 0x020000000001 }).mac).to.equal(0x020000000001);
      expect(net.attach().mac).to.equal(0x020000000002);
    });

    it('refuses a MAC already attached, a group MAC and a MAC wider than 48 bits', () => {
      const net = new VirtualNetwork();
      net.attach({ mac: 0x0a0000000001 });
      expect(() => net.attach({ mac: 0x0a0000000001 })).to.throw(/already attached/);
      expect(() => net.attach({ mac: 0x010000000001 })).to.throw(RangeError);
      expect(() => net.attach({ mac: 2 ** 48 })).to.throw(RangeError);
    });

    it('describes itself as a virtual device', () => {
      const port = new VirtualNetwork({ rateGbps: 25 }).attach();
      expect(port.capabilities).to.include({ driver: 'virtual', linkGbps: 25, rxChecksumOffload: false });
      expect(new VirtualNetwork().attach().capabilities.linkGbps).to.equal(Infinity);
    });
  });

  describe('switching', () => {
    it('two ports exchange frames, byte for byte, in order', () => {
      const net = new VirtualNetwork();
      const a = net.attach();
      const b = net.attach();
      const frames = [testFrame(b.mac, a.mac, 1, 60), testFrame(b.mac, a.mac, 2, 1514)];
      expect(a.txBurst(frames, 2)).to.equal(2);
      expect(send(b, a.mac, 9)).to.equal(1);
      const got = drainFrames(b);
      expect(got).to.have.length(2);
      expect(got[0]!.equals(frames[0]!.data.subarray(0, 60))).to.equal(true);
      expect(got[1]!.equals(frames[1]!.data.subarray(0, 1514))).to.equal(true);
      expect(drainSeqs(a)).to.deep.equal([9]);
    });

    it('copies at transmit: the sender may reuse its buffer at once', () => {
      const net = new VirtualNetwork();
      const a = net.attach();
      const b = net.attach();
      const buf = testFrame(b.mac, a.mac, 1);
      a.txBurst([buf], 1);
      fillTestFrame(buf, b.mac, a.mac, 2);
      a.txBurst([buf], 1);
      expect(drainSeqs(b)).to.deep.equal([1, 2]);
    });

    it('three ports: unicast reaches only its destination', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      send(a, c.mac, 1);
      send(c, b.mac, 2);
      send(b, a.mac, 3);
      expect(drainSeqs(a)).to.deep.equal([3]);
      expect(drainSeqs(b)).to.deep.equal([2]);
      expect(drainSeqs(c)).to.deep.equal([1]);
    });

    it('broadcast floods to every other port, not back to the sender', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      send(b, BROADCAST, 7);
      expect(drainSeqs(a)).to.deep.equal([7]);
      expect(drainSeqs(b)).to.deep.equal([]);
      expect(drainSeqs(c)).to.deep.equal([7]);
    });

    it('multicast floods like broadcast', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      send(a, 0x01005e000001, 4); // IPv4 multicast 224.0.0.1
      expect([drainSeqs(b), drainSeqs(c)]).to.deep.equal([[4], [4]]);
    });

    it('floods unknown unicast, then switches a learnt source MAC to its port only', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      const behindC = 0x0a0000000099; // a station bridged behind port c
      send(a, behindC, 1);
      expect([drainSeqs(b), drainSeqs(c)]).to.deep.equal([[1], [1]]);
      c.txBurst([testFrame(a.mac, behindC, 2)], 1);
      expect(drainSeqs(a)).to.deep.equal([2]);
      send(a, behindC, 3);
      expect([drainSeqs(b), drainSeqs(c)]).to.deep.equal([[], [3]]);
      expect(net.stats().macTableEntries).to.equal(4);
    });

    it("never lets a learnt source MAC take over another port's own MAC", () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      c.txBurst([testFrame(a.mac, b.mac, 1)], 1); // c spoofs b's MAC
      send(a, b.mac, 2);
      expect([drainSeqs(b), drainSeqs(c)]).to.deep.equal([[2], []]);
    });

    it('bounds the learnt MAC table and counts refusals (those destinations flood)', () => {
      const net = new VirtualNetwork({ macTableEntries: 4 });
      const [a, b] = [net.attach(), net.attach()];
      for (let i = 0; i < 10; i++) b.txBurst([testFrame(a.mac, 0x0a0000000000 + i, i)], 1);
      expect(net.stats()).to.deep.equal({ macTableEntries: 4, macTableFull: 8 });
    });

    it('drops (and counts) a frame addressed to its own sender', () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      send(a, a.mac, 1);
      expect(drainSeqs(a).concat(drainSeqs(b))).to.deep.equal([]);
      expect(a.stats().drops['self-addressed']).to.equal(1);
    });

    it('counts runt and oversize frames as drops at the sender, but accepts them', () => {
      const net = new VirtualNetwork({ maxFrameBytes: 1000 });
      const [a, b] = [net.attach(), net.attach()];
      const runt = testFrame(b.mac, a.mac, 1);
      runt.length = 13;
      const big = testFrame(b.mac, a.mac, 2, 1001);
      expect(a.txBurst([runt, big], 2)).to.equal(2);
      expect(drainSeqs(b)).to.deep.equal([]);
      expect(a.stats().drops).to.include({ 'tx-runt': 1, 'tx-oversize': 1 });
      expect(a.stats().txPackets).to.equal(0);
    });

    it('honours the configured MTU (plus header and one VLAN tag) on transmit', () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      a.configure({ mac: a.mac, mtu: 1000 });
      a.txBurst([testFrame(b.mac, a.mac, 1, 1018), testFrame(b.mac, a.mac, 2, 1019)], 2);
      expect(drainSeqs(b)).to.deep.equal([1]);
      expect(() => a.configure({ mac: a.mac, mtu: 1600 })).to.throw(RangeError);
    });

    it('configure moves a port to a new MAC', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      b.configure({ mac: 0x020000000abc, mtu: 1500 });
      expect(b.mac).to.equal(0x020000000abc);
      send(a, 0x020000000abc, 1);
      expect([drainSeqs(b), drainSeqs(c)]).to.deep.equal([[1], []]);
      expect(() => c.configure({ mac: 0x020000000abc, mtu: 1500 })).to.throw(/already attached/);
    });

    it('counts stats on both ends', () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      a.txBurst([testFrame(b.mac, a.mac, 1, 100), testFrame(b.mac, a.mac, 2, 200)], 2);
      drainSeqs(b);
      expect(a.stats()).to.include({ txPackets: 2, txBytes: 300, rxPackets: 0 });
      expect(b.stats()).to.include({ rxPackets: 2, rxBytes: 300, txPackets: 0 });
    });

    it('rxBurst stops at max and at bufs.length', () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      send(a, b.mac, 1, 2, 3, 4, 5);
      const bufs = buffers(2);
      expect(b.rxBurst(bufs, 1)).to.equal(1);
      expect(seqOf(bufs[0]!)).to.equal(1);
      expect(b.rxBurst(bufs, 10)).to.equal(2);
      expect(drainSeqs(b)).to.deep.equal([4, 5]);
    });

    it('drops (counted) a frame larger than the receive buffer', () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      a.txBurst([testFrame(b.mac, a.mac, 1, 500), testFrame(b.mac, a.mac, 2, 100)], 2);
      const small = buffers(4, 200);
      expect(b.rxBurst(small, 4)).to.equal(1);
      expect(seqOf(small[0]!)).to.equal(2);
      expect(b.stats().drops['rx-buffer-too-small']).to.equal(1);
    });
  });

  describe('receive queue', () => {
    it('counts rx-queue-full when the queue overflows, keeping the first frames', () => {
      const net = new VirtualNetwork({ rxQueueFrames: 4 });
      const [a, b] = [net.attach(), net.attach()];
      expect(send(a, b.mac, 1, 2, 3, 4, 5, 6)).to.equal(6);
      expect(b.rxQueued).to.equal(4);
      expect(drainSeqs(b)).to.deep.equal([1, 2, 3, 4]);
      expect(b.stats().drops['rx-queue-full']).to.equal(2);
      send(a, b.mac, 7);
      expect(drainSeqs(b)).to.deep.equal([7]);
    });

    it('wraps around its ring many times without losing order', () => {
      const net = new VirtualNetwork({ rxQueueFrames: 3 });
      const [a, b] = [net.attach(), net.attach()];
      const got: number[] = [];
      for (let i = 0; i < 50; i += 2) {
        send(a, b.mac, i, i + 1);
        got.push(...drainSeqs(b, 1));
      }
      expect(got).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    });

    it('a per-port depth overrides the network default', () => {
      const net = new VirtualNetwork({ rxQueueFrames: 4 });
      const a = net.attach();
      const b = net.attach({ rxQueueFrames: 2 });
      send(a, b.mac, 1, 2, 3);
      expect(b.stats().drops['rx-queue-full']).to.equal(1);
    });
  });

  describe('rate and delay (fake clock)', () => {
    // 1226 B + 24 B of preamble, FCS and gap = 10,000 bits = 1000 ns at 10 Gbit/s.
    const LEN = 1226;
    const SER = 1000;

    function rated(opts: { rateGbps?: number; delayNs?: number; txQueueFrames?: number } = {}) {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, ...opts });
      return { clock, net, a: net.attach(), b: net.attach(), c: net.attach() };
    }

    const frames = (from: VirtualPort, to: VirtualPort, seqs: number[]) =>
      seqs.map((s) => testFrame(to.mac, from.mac, s, LEN));

    it('counts preamble, FCS, padding and the inter-frame gap in serialisation time', () => {
      expect(wireTimeNs(LEN, 10)).to.equal(SER);
      expect(wireTimeNs(14, 1)).to.equal(wireTimeNs(60, 1)); // padded to the minimum frame
      expect(wireTimeNs(60, 1)).to.equal(672); // 84 B: the classic 64 B frame + 20 B
    });

    it('spaces frames by their serialisation time', () => {
      const { clock, a, b } = rated({ rateGbps: 10 });
      a.txBurst(frames(a, b, [1, 2, 3]), 3);
      const arrivals: number[] = [];
      const bufs = buffers(4);
      for (let t = 0; t <= 4000; t += 100) {
        clock.advanceTo(t);
        const n = b.rxBurst(bufs, 4);
        for (let i = 0; i < n; i++) arrivals.push(bufs[i]!.timestampNs);
        if (t === SER - 100) expect(arrivals).to.deep.equal([]);
      }
      expect(arrivals).to.deep.equal([SER, 2 * SER, 3 * SER]);
    });

    it('a later frame queues behind the previous one, not behind the clock', () => {
      const { clock, a, b } = rated({ rateGbps: 10 });
      a.txBurst(frames(a, b, [1]), 1);
      clock.advanceTo(500);
      a.txBurst(frames(a, b, [2]), 1); // the link is busy until 1000
      clock.advanceTo(5000);
      const bufs = buffers(2);
      expect(b.rxBurst(bufs, 2)).to.equal(2);
      expect(bufs.map((x) => x.timestampNs)).to.deep.equal([SER, 2 * SER]);
      a.txBurst(frames(a, b, [3]), 1); // idle link: starts now
      clock.advanceTo(5000 + SER);
      expect(b.rxBurst(bufs, 2)).to.equal(1);
      expect(bufs[0]!.timestampNs).to.equal(5000 + SER);
    });

    it("incast: two senders to one receiver share the receiver's link", () => {
      const { clock, a, b, c } = rated({ rateGbps: 10 });
      a.txBurst(frames(a, b, [1]), 1);
      c.txBurst(frames(c, b, [2]), 1);
      clock.advanceTo(10 * SER);
      const bufs = buffers(2);
      expect(b.rxBurst(bufs, 2)).to.equal(2);
      expect(bufs.map((x) => [seqOf(x), x.timestampNs])).to.deep.equal([
        [1, SER],
        [2, 2 * SER],
      ]);
    });

    it('one sender to two receivers shares its own link', () => {
      const { clock, a, b, c } = rated({ rateGbps: 10 });
      a.txBurst([...frames(a, b, [1]), ...frames(a, c, [2])], 2);
      clock.advanceTo(10 * SER);
      const bufs = buffers(1);
      b.rxBurst(bufs, 1);
      const atB = bufs[0]!.timestampNs;
      c.rxBurst(bufs, 1);
      expect([atB, bufs[0]!.timestampNs]).to.deep.equal([SER, 2 * SER]);
    });

    it('a full transmit queue shortens txBurst until serialisation frees it', () => {
      const { clock, a, b } = rated({ rateGbps: 10, txQueueFrames: 2 });
      expect(a.txBurst(frames(a, b, [1, 2, 3]), 3)).to.equal(2);
      clock.advanceTo(SER);
      expect(a.txBurst(frames(a, b, [3]), 1)).to.equal(1);
    });

    it('holds frames for the delay', () => {
      const { clock, a, b } = rated({ delayNs: 5000 });
      send(a, b.mac, 1);
      clock.advanceTo(4999);
      expect(drainSeqs(b)).to.deep.equal([]);
      expect(b.rxQueued).to.equal(1);
      clock.advanceTo(5000);
      const bufs = buffers(1);
      expect(b.rxBurst(bufs, 1)).to.equal(1);
      expect(bufs[0]!.timestampNs).to.equal(5000);
    });

    it('adds the delay after serialisation', () => {
      const { clock, a, b } = rated({ rateGbps: 10, delayNs: 5000 });
      a.txBurst(frames(a, b, [1, 2]), 2);
      clock.advanceTo(5000 + SER - 1);
      expect(drainSeqs(b)).to.deep.equal([]);
      clock.advanceTo(5000 + SER);
      expect(drainSeqs(b)).to.deep.equal([1]);
      clock.advanceTo(5000 + 2 * SER);
      expect(drainSeqs(b)).to.deep.equal([2]);
    });

    it('a custom clock without timers is refused once rate or delay needs timers', () => {
      const clock: Clock = { now: () => 0 };
      expect(() => new VirtualNetwork({ clock, delayNs: 1 })).to.throw(TypeError);
      expect(() => new VirtualNetwork({ clock })).to.not.throw();
    });
  });

  describe('rx wakeup', () => {
    it('fires once on empty -> non-empty, never inside the sender txBurst', async () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      let wakes = 0;
      b.setRxWakeup(() => wakes++);
      send(a, b.mac, 1, 2);
      send(a, b.mac, 3);
      expect(wakes).to.equal(0);
      await flushMicrotasks();
      expect(wakes).to.equal(1);
      send(a, b.mac, 4); // not idle yet: the consumer has not drained
      await flushMicrotasks();
      expect(wakes).to.equal(1);
      expect(drainSeqs(b)).to.deep.equal([1, 2, 3, 4]);
      send(a, b.mac, 5);
      expect(wakes).to.equal(1);
      await flushMicrotasks();
      expect(wakes).to.equal(2);
    });

    it('does not fire while a consumer keeps up by polling', async () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      let wakes = 0;
      b.setRxWakeup(() => wakes++);
      send(a, b.mac, 1);
      expect(drainSeqs(b)).to.deep.equal([1]); // drained before the microtask ran
      await flushMicrotasks();
      expect(wakes).to.equal(0);
    });

    it('fires at once on registration when frames are waiting', async () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      send(a, b.mac, 1);
      let wakes = 0;
      b.setRxWakeup(() => wakes++);
      await flushMicrotasks();
      expect(wakes).to.equal(1);
    });

    it('fires by timer when a frame becomes due later', async () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, delayNs: 5000 });
      const [a, b] = [net.attach(), net.attach()];
      const wakes: number[] = [];
      b.setRxWakeup(() => wakes.push(clock.now()));
      send(a, b.mac, 1);
      await flushMicrotasks();
      clock.advanceTo(4999);
      expect(wakes).to.deep.equal([]);
      clock.advanceTo(6000);
      expect(wakes).to.deep.equal([5000]);
      expect(drainSeqs(b)).to.deep.equal([1]);
    });

    it('after a partial drain, fires again when the next frame becomes due', async () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, rateGbps: 10 });
      const [a, b] = [net.attach(), net.attach()];
      const wakes: number[] = [];
      b.setRxWakeup(() => wakes.push(clock.now()));
      a.txBurst([testFrame(b.mac, a.mac, 1, 1226), testFrame(b.mac, a.mac, 2, 1226)], 2);
      clock.advanceTo(1000);
      expect(wakes).to.deep.equal([1000]);
      expect(drainSeqs(b)).to.deep.equal([1]); // frame 2 is not due: the consumer goes idle
      clock.advanceTo(3000);
      expect(wakes).to.deep.equal([1000, 2000]);
      await flushMicrotasks();
      expect(wakes).to.have.length(2);
    });

    it('stops firing once unregistered', async () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      let wakes = 0;
      b.setRxWakeup(() => wakes++);
      b.setRxWakeup(null);
      send(a, b.mac, 1);
      await flushMicrotasks();
      expect(wakes).to.equal(0);
    });
  });

  describe('link state', () => {
    it('a stopped port drops arriving frames as link-down and transmits nothing', async () => {
      const net = new VirtualNetwork();
      const [a, b] = [net.attach(), net.attach()];
      await b.stop();
      expect(send(a, b.mac, 1)).to.equal(1);
      expect(send(b, a.mac, 2)).to.equal(0);
      expect(b.rxBurst(buffers(1), 1)).to.equal(0);
      await b.start();
      send(a, b.mac, 3);
      expect(drainSeqs(b)).to.deep.equal([3]);
      expect(b.stats().drops['link-down']).to.equal(1);
    });

    it('a detached port receives nothing and its MAC becomes unknown (floods)', () => {
      const net = new VirtualNetwork();
      const [a, b, c] = [net.attach(), net.attach(), net.attach()];
      b.detach();
      expect(net.ports).to.deep.equal([a, c]);
      expect(b.network).to.equal(null);
      send(a, b.mac, 1);
      expect(drainSeqs(c)).to.deep.equal([1]);
      expect(send(b, a.mac, 2)).to.equal(0);
      expect(() => b.configure({ mac: b.mac, mtu: 1500 })).to.throw(/detached/);
      const d = net.attach();
      send(a, d.mac, 3);
      expect(drainSeqs(d)).to.deep.equal([3]);
    });
  });
});
