// The threaded x86 stack on the in-process wire in real time: the data path really runs on NIC
// core threads, idle cores sleep, close() ends every thread, placement and pinning do what the
// configuration says.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import {
  FaultInjectingPort,
  L4Kind,
  ParsedFrame,
  parseFrame,
  Prng,
  TracingPort,
  VirtualNetwork,
  WireError,
  wireErrorName,
  type Connection,
  type NicPort,
} from '@flextoe/core';
import { pinThread } from './affinity.js';
import { liveNicWorkers } from './core-link.js';
import { processThreadIds, threadCpuMs, threadCpus, threadId } from './proc.js';
import { ThreadedStack, type ThreadedStackParams } from './threaded-stack.js';
import { exchange, transfer } from './transfer-kit.js';
import { X86Cores } from './x86-cores.js';

function pattern(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(r.nextU32(), i);
  return b;
}

/** CPU ms an idle NIC core may use in one second (5% of a core; procfs counts in 10 ms ticks). */
const IDLE_CPU_MS = 50;
/**
 * Host loop rounds an idle stack may run in one second: the control plane's tick timer (about
 * every millisecond) runs one each; a loop that spins runs ~10^5.
 */
const IDLE_HOST_ROUNDS = 2500;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two started stacks on one wire: `a` 10.0.0.1, `b` 10.0.0.2. */
async function pair(
  extra: Partial<ThreadedStackParams> = {},
): Promise<{ a: ThreadedStack; b: ThreadedStack; close(): Promise<void> }> {
  const net = new VirtualNetwork({});
  const mk = (ip: string): Promise<ThreadedStack> =>
    ThreadedStack.create({ options: { ip }, port: net.attach(), units: 1, ...extra });
  const a = await mk('10.0.0.1/24');
  const b = await mk('10.0.0.2/24').catch(async (e: unknown) => {
    await a.close();
    throw e;
  });
  a.start();
  b.start();
  return { a, b, close: () => Promise.all([a.close(), b.close()]).then(() => undefined) };
}

describe('x86 threaded stack (NIC cores on worker threads)', function () {
  this.timeout(120_000);

  afterEach(() => {
    // Every test closes its stacks: no NIC core thread may outlive them.
    expect(liveNicWorkers(), 'NIC core threads still running').to.equal(0);
  });

  it('moves 8 MiB each way byte-exact with the data path on NIC core threads', async () => {
    const { a, b, close } = await pair();
    try {
      const up = pattern(8 << 20, 1);
      const down = pattern(8 << 20, 2);
      const { atServer, atClient } = await transfer(a, b, 80, up, down);
      expect(sha(atServer)).to.equal(sha(up));
      expect(sha(atClient)).to.equal(sha(down));
      // The segments were processed on the cores' threads, not this one.
      const s = a.stats();
      expect(s.x86.cores).to.have.length(1);
      expect(s.x86.cores[0]!.tid).to.be.greaterThan(0).and.not.equal(threadId());
      expect(s.dataPath.protocol.segments).to.be.greaterThan(up.length / 1500);
      expect(s.dataPath.dma.toHostBytes).to.be.at.least(up.length);
      expect((s.x86.cores[0]!.counters as { commands: number }).commands).to.be.greaterThan(0);
    } finally {
      await close();
    }
  });

  it('an application that stops reading holds the NIC core back: no notification is dropped', async () => {
    // Once data flows, the receiver's context queue (128 entries) is not drained for 300 ms while
    // the peer keeps sending: the core must stop taking frames rather than drop "N bytes
    // readable" notifications (frames it cannot take wait in the rings, the wire drops the rest
    // and TCP recovers). Without the hold-back the window (256 KiB, ~180 segments) overflows it.
    const { a, b, close } = await pair({ contextEntries: 128 });
    try {
      const up = pattern(4 << 20, 6);
      const hash = createHash('sha256');
      let heldStats: ReturnType<ThreadedStack['stats']> | null = null;
      const ended = new Promise<void>((resolve) =>
        a.listen(82, (srv) => {
          srv.handlers.onReadable = (x) => {
            const got = x.read();
            if (got === null) return;
            hash.update(got);
            if (heldStats !== null || a.holdNotifications) return;
            a.holdNotifications = true; // the application stops reading...
            setTimeout(() => {
              heldStats = a.stats();
              a.holdNotifications = false; // ...and comes back 300 ms later
              a.kick();
            }, 300);
          };
          srv.handlers.onEnd = () => resolve();
        }),
      );
      void exchange(b.connect('10.0.0.1', 82), up);
      await ended;
      expect(hash.digest('hex')).to.equal(sha(up));
      expect(heldStats, 'the application paused').to.not.equal(null);
      const blocked = (heldStats!.x86.cores[0]!.counters as { txBlocked: number }).txBlocked;
      expect(blocked, 'rounds the core held back').to.be.greaterThan(0);
      expect(a.stats().dataPath.ctxq.notificationsDropped).to.equal(0);
    } finally {
      await close();
    }
  });

  it('a NIC core that dies ends its connections with an error instead of hanging or crashing', async () => {
    const { a, b, close } = await pair();
    try {
      let server: Connection | null = null;
      a.listen(84, (c) => (server = c));
      let connected = false;
      b.connect('10.0.0.1', 84, { onConnect: () => (connected = true) });
      while (!(connected && server)) await sleep(5);
      const closed = new Promise<unknown>(
        (resolve) => (server!.handlers.onClose = (_c, err) => resolve(err)),
      );
      await a.cores[0]!.worker!.terminate(); // the thread is gone, as after a crash
      const err = (await closed) as { code?: string; message?: string };
      expect(err.code).to.equal('ECONNRESET');
      expect(err.message).to.match(/NIC core 0/);
      expect(() => a.listen(85, () => {})).to.throw(/NIC core 0/);
    } finally {
      await close();
    }
  });

  it('regression: every byte reaches the application before its onClose (FIN into TIME-WAIT)', async () => {
    // The client half-closes first; the server's data and FIN then move it to TIME-WAIT, which
    // calls onClose. The FinReceived flow event and the last "N bytes readable" notifications
    // travel in different rings: applied in the wrong order, onClose came before the last bytes
    // (found against Linux over TAP, test/interop/x86-threads.test.ts).
    const { a, b, close } = await pair();
    try {
      const reply = pattern(512 << 10, 9);
      for (let round = 0; round < 4; round++) {
        a.listen(90 + round, (srv) => {
          srv.handlers.onEnd = (x) => {
            let off = 0;
            const push = (): void => {
              while (off < reply.length && x.canWrite) {
                const n = x.write(reply, off);
                if (n === 0) break;
                off += n;
              }
              if (off === reply.length && x.canWrite) x.shutdown();
            };
            x.handlers.onWritable = push;
            push();
          };
        });
        const got = await new Promise<number>((resolve, reject) => {
          let received = 0;
          b.connect('10.0.0.1', 90 + round, {
            onConnect: (c) => c.shutdown(),
            onReadable: (c) => {
              const [p, q] = c.peek();
              const n = p.length + (q?.length ?? 0);
              received += n;
              c.consume(n);
            },
            onClose: (_c, err) => (err ? reject(err) : resolve(received)),
          });
        });
        expect(got, `bytes before onClose, round ${round}`).to.equal(reply.length);
      }
    } finally {
      await close();
    }
  });

  it('close() ends every NIC core thread', async () => {
    const { a, b, close } = await pair();
    const tids = [...a.coreThreadIds, ...b.coreThreadIds];
    expect(tids.every((t) => processThreadIds().includes(t))).to.equal(true);
    expect(liveNicWorkers()).to.equal(2);
    await close();
    expect(liveNicWorkers()).to.equal(0);
    // The OS threads are gone too, not just our bookkeeping.
    expect(tids.filter((t) => processThreadIds().includes(t))).to.deep.equal([]);
  });

  it('an idle stack: its NIC core sleeps and uses (almost) no CPU', async () => {
    const { a, b, close } = await pair();
    try {
      // One connection, then nothing: the cores must go to sleep on their doorbells.
      await transfer(a, b, 81, pattern(64 << 10, 3), pattern(64 << 10, 4));
      await sleep(200);
      const tid = a.coreThreadIds[0]!;
      const before = threadCpuMs(tid);
      const hostBefore = a.stats().x86.host;
      await sleep(1000);
      const used = threadCpuMs(tid) - before;
      const host = a.stats().x86.host;
      expect(before).to.be.at.least(0);
      // A resource bound, not a speed: a spinning core would use ~1000 ms of CPU in this second.
      expect(used, `CPU ms used by the idle NIC core in 1 s`).to.be.at.most(IDLE_CPU_MS);
      // The host loop sleeps too: it polls for a core's answer only while a core is awake, so an
      // idle second costs it only the control plane's timer rounds.
      expect(host.spins - hostBefore.spins, 'host rounds spent polling an idle stack').to.equal(0);
      expect(host.rounds - hostBefore.rounds, 'host rounds in an idle second').to.be.at.most(
        IDLE_HOST_ROUNDS,
      );
    } finally {
      await close();
    }
  });

  it("the host loop polls for an awake core's answer instead of sleeping, and never with hostSpinUs 0", async () => {
    // Small echoes: each request hands the core work whose answer comes back microseconds later.
    const echoes = async (s: { a: ThreadedStack; b: ThreadedStack }, port: number): Promise<void> => {
      s.a.listen(port, (srv) => {
        srv.handlers.onReadable = (x) => {
          const got = x.read();
          if (got !== null) x.write(got);
        };
      });
      const request = pattern(64, 7);
      await new Promise<void>((resolve, reject) => {
        let left = 200;
        let got = 0;
        s.b.connect('10.0.0.1', port, {
          onConnect: (c) => void c.write(request),
          onReadable: (c) => {
            const b = c.read();
            if (b === null) return;
            if (!b.equals(request.subarray(got % 64, (got % 64) + b.length)))
              reject(new Error('echo differs'));
            got += b.length;
            if (got % 64 !== 0) return;
            if (--left === 0) resolve();
            else c.write(request);
          },
          onClose: (_c, err) => reject(err ?? new Error('closed early')),
        });
      });
    };
    const spinning = await pair();
    try {
      await echoes(spinning, 84);
      const host = spinning.b.stats().x86.host;
      expect(host.spins, 'rounds the client host polled for its core').to.be.greaterThan(0);
    } finally {
      await spinning.close();
    }
    const sleeping = await pair({ hostSpinUs: 0 });
    try {
      await echoes(sleeping, 85);
      const host = sleeping.b.stats().x86.host;
      expect(host.spins).to.equal(0);
      expect(host.sleeps, 'with no spin the host sleeps between requests').to.be.at.least(200);
    } finally {
      await sleeping.close();
    }
  });

  it('the idle check can fail: a core told to spin for long burns its CPU', async () => {
    const { a, close } = await pair({ spinRounds: 50_000_000 });
    try {
      await sleep(100);
      const tid = a.coreThreadIds[0]!;
      const before = threadCpuMs(tid);
      await sleep(1000);
      // Over the idle bound even when the machine is shared (a spinning thread here gets the
      // CPU share the scheduler gives it; ~1000 ms on an idle machine).
      expect(threadCpuMs(tid) - before).to.be.greaterThan(IDLE_CPU_MS);
    } finally {
      await close();
    }
  });

  it('parallel placement: flow groups spread over two NIC cores, both process segments', async () => {
    const { a, b, close } = await pair({ units: 2 });
    try {
      const data = pattern(256 << 10, 5);
      // Enough connections that both cores own some (a flow's group is its 4-tuple's hash).
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => transfer(a, b, 1000 + i, data, data)),
      );
      for (const r of results) {
        expect(sha(r.atServer)).to.equal(sha(data));
        expect(sha(r.atClient)).to.equal(sha(data));
      }
      const perCore = a.stats().x86.cores.map((c) => (c.counters as { commands: number }).commands);
      expect(perCore).to.have.length(2);
      expect(
        perCore.every((n) => n > 0),
        `commands per core ${perCore}`,
      ).to.equal(true);
      expect(new Set(a.coreThreadIds).size).to.equal(2);
    } finally {
      await close();
    }
  });

  it("parallel placement: a flow's control frames leave through its own core (in order with its data)", async () => {
    // Regression: every control frame went through core 0, so the handshake's last ACK of a flow
    // on core 1 could reach the wire after the data core 1 sent next, and the peer's PAWS check
    // dropped it (http-echo-stress.ts: drops.Paws about once per 15 iterations). The connecting
    // side sends two per connection (SYN, the ACK of the SYN-ACK); core 0 may add ARP.
    const { a, b, close } = await pair({ units: 2 });
    try {
      const data = pattern(16 << 10, 6);
      await Promise.all(Array.from({ length: 8 }, (_, i) => transfer(a, b, 1100 + i, data, data)));
      const perCore = b
        .stats()
        .x86.cores.map((c) => c.counters as { installs: number; controlFrames: number });
      expect(perCore.reduce((n, c) => n + c.installs, 0)).to.equal(8);
      expect(
        perCore.every((c) => c.installs > 0),
        `flows per core ${perCore.map((c) => c.installs)}`,
      ).to.equal(true);
      for (const [k, c] of perCore.entries())
        expect(c.controlFrames, `core ${k}: control frames for ${c.installs} flows`).to.be.at.least(
          2 * c.installs,
        );
      expect(perCore[1]!.controlFrames, "core 1 sends only its flows' control frames").to.equal(
        2 * perCore[1]!.installs,
      );
    } finally {
      await close();
    }
  });

  it('pre-processing replicas validate in parallel: corrupt frames dropped there, data byte-exact', async () => {
    // One NIC core fed by two replica threads, on a wire that corrupts 1% of frames.
    const clean = new VirtualNetwork({});
    const faulty = (): NicPort => new FaultInjectingPort(clean.attach(), { corrupt: 0.01, seed: 3 });
    const mk = (ip: string): Promise<ThreadedStack> =>
      ThreadedStack.create({ options: { ip }, port: faulty(), units: new X86Cores(1, 2) });
    const a = await mk('10.0.0.1/24');
    const b = await mk('10.0.0.2/24');
    a.start();
    b.start();
    try {
      expect(a.threadIds).to.have.length(3);
      const up = pattern(4 << 20, 7);
      const down = pattern(1 << 20, 8);
      const { atServer, atClient } = await transfer(a, b, 83, up, down);
      expect(sha(atServer)).to.equal(sha(up));
      expect(sha(atClient)).to.equal(sha(down));
      const s = a.stats();
      expect(s.x86.pre).to.have.length(2);
      // Both replicas did the work (frames are dealt round robin) and refused corrupt frames...
      for (const p of s.x86.pre) expect(p.validated).to.be.greaterThan(1000);
      expect(s.x86.pre.reduce((n, p) => n + p.dropped, 0)).to.be.greaterThan(0);
      // ...which the core counts where inline pre-processing would: malformed, by reason.
      const malformed = Object.values(s.dataPath.pre.malformed).reduce((x, y) => x + y, 0);
      expect(malformed).to.equal(s.x86.pre.reduce((n, p) => n + p.dropped, 0));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('post-processing replicas fill the TCP checksums the core left to them: data byte-exact', async () => {
    // Stack a: one NIC core and two post replicas; its core's port view offers transmit checksum
    // offload, so every checksum on the wire was computed by a replica. Stack b is plain and
    // verifies every checksum it receives (a bad one would be dropped and the transfer stall).
    const net = new VirtualNetwork({});
    const parsed = new ParsedFrame();
    const wire = { tcp: 0, bad: new Map<string, number>() };
    const traced = new TracingPort(net.attach(), (dir, frame, length) => {
      if (dir !== 'tx') return;
      const e = parseFrame(frame, 0, length, parsed); // full checks: headers and both checksums
      if (e === WireError.None) {
        if (parsed.l4 === L4Kind.Tcp) wire.tcp++;
      } else wire.bad.set(wireErrorName(e), (wire.bad.get(wireErrorName(e)) ?? 0) + 1);
    });
    const a = await ThreadedStack.create({
      options: { ip: '10.0.0.1/24' },
      port: traced,
      units: new X86Cores(1, 0, 2),
    });
    const b = await ThreadedStack.create({ options: { ip: '10.0.0.2/24' }, port: net.attach(), units: 1 });
    a.start();
    b.start();
    try {
      expect(a.threadIds).to.have.length(3);
      const up = pattern(1 << 20, 9);
      const down = pattern(4 << 20, 10);
      const { atServer, atClient } = await transfer(a, b, 84, up, down);
      expect(sha(atServer)).to.equal(sha(up));
      expect(sha(atClient)).to.equal(sha(down));
      // Closed first: every frame a replica finished has been through the port.
      await Promise.all([a.close(), b.close()]);
      const s = a.stats();
      expect(s.x86.post).to.have.length(2);
      // Both replicas worked (frames dealt round robin)...
      for (const p of s.x86.post) expect(p.finished).to.be.greaterThan(1000);
      expect(new Set(s.x86.post.map((p) => p.tid)).size).to.equal(2);
      // ...every frame a's port sent was a TCP frame a replica finished (or ARP, passed on), and
      // the wire saw valid checksums on all of them.
      expect(Object.fromEntries(wire.bad), 'frames with bad headers or checksums').to.deep.equal({});
      const finished = s.x86.post.reduce((n, p) => n + p.finished, 0);
      expect(wire.tcp).to.equal(finished);
      expect(wire.tcp).to.be.greaterThan(down.length / 1500);
      expect(s.x86.bridge.txFrames).to.equal(finished + s.x86.post.reduce((n, p) => n + p.passed, 0));
      // b received them all as valid (its pre-processing verifies checksums).
      expect(Object.values(b.stats().dataPath.pre.malformed).reduce((x, y) => x + y, 0)).to.equal(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('pins a NIC core thread to a CPU (sched_setaffinity from the host thread)', async function () {
    const allowed = threadCpus(threadId());
    if (allowed === null) this.skip(); // no procfs: nothing to pin or check
    const cpu = allowed![allowed!.length - 1]!;
    const { a, close } = await pair();
    try {
      const tid = a.coreThreadIds[0]!;
      expect(pinThread(tid, [cpu])).to.deep.equal({ ok: true });
      expect(threadCpus(tid)).to.deep.equal([cpu]);
      // A CPU the machine does not have is refused with the reason, not a crash.
      const refused = pinThread(tid, [availableParallelism() + 64]);
      expect(refused.ok).to.equal(false);
      expect(threadCpus(tid)).to.deep.equal([cpu]);
    } finally {
      await close();
    }
  });
});
