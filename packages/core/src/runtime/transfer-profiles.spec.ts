/**
 * Two stacks over the virtual wire move data both ways byte-exact (SHA-256 compared) under
 * each fault profile, with sequence numbers starting just below 2^32 so the transfer wraps.
 * Faults are injected on receive at both ends (FaultInjectingPort), in virtual time.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { fixedIsn } from '../control/isn.js';
import { FaultInjectingPort, type FaultOptions } from '../port/fault-injecting-port.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { Prng } from '../util/prng.js';
import type { Connection } from './connection.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { buildStackUnderTest } from './stack-under-test.js';
import { runVirtual } from './virtual-time.js';

/** Transfer size per direction; the issue asks for 64 MiB (FLEXTOE_TRANSFER_MIB overrides). */
const MIB = Number(process.env.FLEXTOE_TRANSFER_MIB ?? 64);

const PROFILES: Record<string, FaultOptions> = {
  clean: {},
  'loss 1%': { loss: 0.01 },
  'loss 5%': { loss: 0.05 },
  reordering: { reorder: 0.02, reorderDepth: 3 },
  'duplication 1%': { duplicate: 0.01 },
  'corruption 0.1%': { corrupt: 0.001 },
  mix: { loss: 0.01, reorder: 0.01, duplicate: 0.01, corrupt: 0.001 },
};

function bytes(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(r.nextU32(), i);
  return b;
}

describe(`transfers of ${MIB} MiB each way under fault profiles (virtual wire, virtual time)`, function () {
  this.timeout(600_000);
  const up = bytes(MIB << 20, 11);
  const down = bytes(MIB << 20, 12);
  const upHash = createHash('sha256').update(up).digest('hex');
  const downHash = createHash('sha256').update(down).digest('hex');

  for (const [name, faults] of Object.entries(PROFILES)) {
    it(`${name}: byte-exact both ways, across the 2^32 wrap`, () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, timers: clock, rateGbps: 10, delayNs: 5_000 });
      const mk = (ip: string, seed: number) =>
        buildStackUnderTest(
          {
            port: new FaultInjectingPort(net.attach(), { ...faults, seed, clock, timers: clock }),
            dma: new MemcpyDma(),
            clock,
            timers: clock,
            tiers: new HeapMemoryTiers(),
          },
          {
            ip,
            maxFlows: 16,
            minRtoMs: 2,
            synRtoMs: 20,
            timeWaitMs: 10,
            controlTickUs: 100,
            isn: fixedIsn(0xffff_ff00 - seed),
          },
        );
      const a = mk('10.0.0.1/24', 1);
      const b = mk('10.0.0.2/24', 2);
      const hashes = { up: createHash('sha256'), down: createHash('sha256') };
      const received = { up: 0, down: 0 };
      const ended = { up: false, down: false };
      const wire = (c: Connection, data: Buffer, dir: 'up' | 'down', peerDir: 'up' | 'down'): void => {
        let off = 0;
        const push = (): void => {
          while (off < data.length && c.canWrite) {
            const n = c.write(data, off);
            if (n === 0) break;
            off += n;
          }
          if (off === data.length && !c.txShut) c.shutdown();
        };
        c.handlers.onWritable = push;
        c.handlers.onReadable = (x) => {
          const [p, q] = x.peek();
          hashes[peerDir].update(p);
          if (q) hashes[peerDir].update(q);
          received[peerDir] += p.length + (q ? q.length : 0);
          x.consume(p.length + (q ? q.length : 0));
        };
        c.handlers.onEnd = () => (ended[peerDir] = true);
        void dir;
        push();
      };
      a.listen(5001, (s) => wire(s, down, 'down', 'up'));
      const c = b.connect('10.0.0.1', 5001);
      c.handlers.onConnect = () => wire(c, up, 'up', 'down');
      const ok = runVirtual([a, b], clock, () => ended.up && ended.down, 3600e9);
      expect(ok, `transfer did not finish: up ${received.up} down ${received.down} B`).to.equal(true);
      expect(received.up).to.equal(up.length);
      expect(received.down).to.equal(down.length);
      expect(hashes.up.digest('hex')).to.equal(upHash);
      expect(hashes.down.digest('hex')).to.equal(downHash);
      const s = a.stats().dataPath;
      if (faults.corrupt)
        expect(
          Object.keys(s.pre.malformed).length + Object.keys(b.stats().dataPath.pre.malformed).length,
        ).to.be.greaterThan(0);
      a.close();
      b.close();
    });
  }
});
