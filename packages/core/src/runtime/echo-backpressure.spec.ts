/**
 * An echo server that reads only what it can write back, and a client that writes faster than
 * it reads: both receive windows close and reopen again and again, with data flowing both ways
 * and each side's ACKs riding on (or probing past) a full window. Two inline stacks on the
 * virtual wire, in virtual time, with window scaling in use (256 KiB rings), clean and lossy.
 *
 * Why: a hung HTTP POST /echo over x86 (threads) came from two rules that only bite in this
 * shape of traffic: the scaled window's right edge crept past the free buffer (the peer's bytes
 * there were refused), and the ACKs on segments from RCV.NXT to that edge were thrown away with
 * their text (RFC 9293 3.10.7.4, "special allowance ... to accept valid ACKs"). The hang needed
 * the threads' timing; in virtual time this scenario passed before the fix too, so the rules are
 * pinned segment by segment in pipeline/protocol.spec.ts and control/rfc9293-states.spec.ts, and
 * this spec keeps the traffic shape honest: liveness, byte-exact echo, and on a clean wire no
 * refused byte and no retransmission at all.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { FaultInjectingPort, type FaultOptions } from '../port/fault-injecting-port.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { Prng } from '../util/prng.js';
import { connectedPair } from './stack-pair-kit.js';
import { runVirtual } from './virtual-time.js';

const TOTAL = 2 << 20;
/** The client reads at most this much per millisecond of virtual time: 4 MB/s against a 10 Gbit/s wire. */
const READ_PER_MS = 4 << 10;

function pattern(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(r.nextU32(), i);
  return b;
}

const PROFILES: Record<string, FaultOptions> = {
  clean: {},
  'loss 1%, reordering': { loss: 0.01, reorder: 0.01, reorderDepth: 3 },
};

describe('echo with backpressure both ways: windows close and reopen, data and ACKs keep flowing', function () {
  this.timeout(300_000);
  const up = pattern(TOTAL, 21);
  const upHash = createHash('sha256').update(up).digest('hex');

  for (const [name, faults] of Object.entries(PROFILES)) {
    it(`${name}: ${TOTAL >> 20} MiB echoed byte-exact through a slow reader`, () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, timers: clock, rateGbps: 10, delayNs: 5_000 });
      const port = (seed: number) =>
        new FaultInjectingPort(net.attach(), { ...faults, seed, clock, timers: clock });
      const { a, b, server, client } = connectedPair(clock, port(1), port(2), { cc: 'newreno' });

      // Server: echo only what fits its TX ring; the rest stays in its RX ring (window closes).
      const pump = () => {
        for (;;) {
          const n = Math.min(server.readableLength, server.writableLength);
          if (n === 0) return;
          const taken = server.write(server.read(n)!);
          expect(taken).to.equal(n);
        }
      };
      server.handlers.onReadable = pump;
      server.handlers.onWritable = pump;

      // Client: writes everything as fast as its TX ring frees; reads on a slow timer.
      let sent = 0;
      const push = () => {
        while (sent < TOTAL && client.writableLength > 0) sent += client.write(up, sent, TOTAL - sent);
      };
      client.handlers.onWritable = push;
      client.handlers.onReadable = () => {};
      const echoed = createHash('sha256');
      let received = 0;
      let closedWindowReads = 0; // reads that found the ring within 16 KiB of full
      const slowRead = () => {
        if (client.rxRing.length - client.readableLength < 16 << 10) closedWindowReads++;
        const got = client.read(Math.min(READ_PER_MS, client.readableLength));
        if (got !== null) {
          echoed.update(got);
          received += got.length;
        }
        if (received < TOTAL) clock.schedule(1_000_000, slowRead);
      };
      clock.schedule(1_000_000, slowRead);
      push();

      const done = runVirtual([a, b], clock, () => received === TOTAL, 60e9);
      expect({ done, sent, received }).to.deep.equal({ done: true, sent: TOTAL, received: TOTAL });
      expect(echoed.digest('hex')).to.equal(upHash);
      // It really ran against closed windows: the client's ring was full when it came to read.
      expect(closedWindowReads).to.be.greaterThan(10);
      if (name === 'clean') {
        // On a clean wire nothing is lost, so nothing goes twice: no side refused bytes it had
        // allowed (the scaled window's edge stays inside the free buffer) or an ACK it needed.
        const counts = [a, b].map((s) => {
          const p = s.stats().dataPath.protocol;
          return {
            refused: p.drops.NotAcceptable ?? 0,
            timeouts: p.timeoutRetransmits,
            fast: p.fastRetransmits,
          };
        });
        expect(counts).to.deep.equal([
          { refused: 0, timeouts: 0, fast: 0 },
          { refused: 0, timeouts: 0, fast: 0 },
        ]);
      }
    });
  }
});
