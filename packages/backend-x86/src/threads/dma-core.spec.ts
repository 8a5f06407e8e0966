// DMA replicas: the x86 DmaEngine (thread-dma.ts) on this thread against real replica threads
// (dma-core.ts), then whole stacks whose NIC core hands its payload copies to them.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  allocatedBy,
  DmaDirection,
  L4Kind,
  ParsedFrame,
  parseFrame,
  Prng,
  TracingPort,
  VirtualNetwork,
  WireError,
  wireErrorName,
  type DmaLimits,
} from '@flextoe/core';
import { DmaLink, liveNicWorkers } from './core-link.js';
import type { DmaFault } from './dma-core.js';
import { ThreadDma, ringEntriesFor, type ThreadDmaCounters } from './thread-dma.js';
import { ThreadedStack } from './threaded-stack.js';
import { transfer } from './transfer-kit.js';
import { nicWorkerEntry } from './worker-entry.js';
import { X86Cores } from './x86-cores.js';

const { ToHost, FromHost } = DmaDirection;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function pattern(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(r.nextU32(), i);
  return b;
}

/** `replicas` DMA replica threads and the engine a NIC core would drive them with (on this thread). */
async function engine(replicas: number, limits: DmaLimits, fault: DmaFault | null = null) {
  const entries = ringEntriesFor(limits, replicas);
  const links = Array.from({ length: replicas }, (_, i) => new DmaLink(i, entries));
  const close = async (): Promise<void> => {
    await Promise.all(links.map((l) => l.stop()));
    for (const l of links) l.memoryChannel.port1.close();
  };
  try {
    for (const l of links) {
      const port = l.memoryChannel.port2;
      l.spawn(
        nicWorkerEntry(),
        { init: l.init(0, 64, fault), dmaPorts: [port] },
        [port],
        `dma-spec${l.index}`,
      );
      await l.ready();
    }
  } catch (e) {
    await close();
    throw e;
  }
  const dma = new ThreadDma(
    { replicas: links.map((l) => l.link), ringEntries: entries, limits },
    links.map((l) => l.memoryChannel.port1),
  );
  return { dma, links, close };
}

/** Polls until nothing is in flight; returns the tags per direction in the order `poll` gave them. */
function drain(dma: ThreadDma, timeoutMs = 10_000): number[] {
  const out = new Uint32Array(64);
  const tags: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (dma.inFlight(ToHost) + dma.inFlight(FromHost) > 0) {
    const n = dma.poll(out, out.length);
    for (let i = 0; i < n; i++) tags.push(out[i]!);
    if (Date.now() > deadline) throw new Error('DMA copies did not complete');
  }
  return tags;
}

const LIMITS: DmaLimits = { inFlightPerQueue: 128, maxCopyBytes: 1 << 20 };

describe('DMA replicas: the x86 DmaEngine on replica threads', function () {
  this.timeout(60_000);

  afterEach(() => {
    expect(liveNicWorkers(), 'replica threads still running').to.equal(0);
  });

  it('copies both directions byte-exact, completes in submission order, registers each memory once', async () => {
    const { dma, links, close } = await engine(1, LIMITS);
    try {
      // Views that do not start at their buffer's byte 0, as a flow's ring or a frame slot.
      const frames = new Uint8Array(new SharedArrayBuffer(256 << 10), 4096, 128 << 10);
      frames.set(pattern(frames.length, 1));
      const ring = new Uint8Array(new SharedArrayBuffer(256 << 10), 64, 128 << 10);
      const slots = new Uint8Array(new SharedArrayBuffer(128 << 10), 2);
      let expectRing = Buffer.from(ring);
      const expectSlots = Buffer.from(slots);
      let bytes = 0;
      let tag = 0;
      const want: number[] = [];
      // Rounds of up to 100 copies each way, as bursts: submit all, then wait for them.
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 100; i++) {
          const length = 1 + ((i * 977 + round * 131) % 1448);
          const from = (i * 1531) % (frames.length - length);
          const to = (i * 1499 + round * 7) % (ring.length - length);
          expect(dma.submit(ToHost, frames, from, ring, to, length, tag)).to.equal(true);
          expectRing.set(frames.subarray(from, from + length), to);
          want.push(tag++);
          const back = (i * 733) % (ring.length - length);
          const slot = (i * 1200) % (slots.length - length);
          // The directions are not ordered against each other: this one reads other memory.
          expect(dma.submit(FromHost, frames, back, slots, slot, length, 100_000 + tag)).to.equal(true);
          expectSlots.set(frames.subarray(back, back + length), slot);
          want.push(100_000 + tag);
          bytes += 2 * length;
        }
        const got = drain(dma);
        const toHost = got.filter((t) => t < 100_000);
        const fromHost = got.filter((t) => t >= 100_000);
        expect(toHost, 'ToHost tags oldest first').to.deep.equal(want.filter((t) => t < 100_000));
        expect(fromHost, 'FromHost tags oldest first').to.deep.equal(want.filter((t) => t >= 100_000));
        want.length = 0;
        expect(sha(ring), `ring after round ${round}`).to.equal(sha(expectRing));
        expect(sha(slots), `slots after round ${round}`).to.equal(sha(expectSlots));
        expectRing = Buffer.from(ring);
      }
      const c: ThreadDmaCounters = dma.counters;
      expect(c).to.include({ submitted: 1000, inline: 0, registered: 3 });
      const s = links[0]!.counters;
      expect(s).to.include({ copies: 1000, toHost: 500, fromHost: 500, bytes });
    } finally {
      await close();
    }
  });

  it('refuses a copy beyond the in-flight bound of its direction until poll returns completions', async () => {
    const { dma, close } = await engine(1, { inFlightPerQueue: 8, maxCopyBytes: 4096 });
    try {
      const a = new Uint8Array(new SharedArrayBuffer(4096));
      const b = new Uint8Array(new SharedArrayBuffer(4096));
      for (let i = 0; i < 8; i++) expect(dma.submit(ToHost, a, i, b, i, 1, i)).to.equal(true);
      // In flight until poll returns them, however fast the replica copied.
      expect(dma.submit(ToHost, a, 9, b, 9, 1, 9), 'ninth ToHost copy').to.equal(false);
      expect(dma.submit(FromHost, b, 0, a, 0, 1, 50), 'the other direction has its own bound').to.equal(true);
      expect(drain(dma)).to.have.length(9);
      expect(dma.submit(ToHost, a, 9, b, 9, 1, 9)).to.equal(true);
      drain(dma);
      expect(() => dma.submit(ToHost, a, 0, b, 0, 4097, 1)).to.throw(/exceeds 4096 B/);
      expect(() => dma.submit(ToHost, a, 4000, b, 0, 100, 1)).to.throw(/out of bounds/);
    } finally {
      await close();
    }
  });

  it('deals copies round robin over two replicas and still returns them in submission order', async () => {
    const { dma, links, close } = await engine(2, LIMITS);
    try {
      const src = new Uint8Array(new SharedArrayBuffer(64 << 10));
      src.set(pattern(src.length, 3));
      const dst = new Uint8Array(new SharedArrayBuffer(64 << 10));
      for (let i = 0; i < 64; i++)
        expect(dma.submit(ToHost, src, i * 1024, dst, i * 1024, 1024, i)).to.equal(true);
      expect(drain(dma)).to.deep.equal(Array.from({ length: 64 }, (_, i) => i));
      expect(sha(dst)).to.equal(sha(src));
      expect(links.map((l) => l.counters.copies)).to.deep.equal([32, 32]);
    } finally {
      await close();
    }
  });

  it('allocates nothing per copy on the core side (submit, poll, waiting)', async () => {
    const { dma, close } = await engine(1, LIMITS);
    try {
      const frames = new Uint8Array(new SharedArrayBuffer(64 * 2048));
      const ring = new Uint8Array(new SharedArrayBuffer(256 << 10));
      const out = new Uint32Array(256);
      const BURSTS = 300;
      const COPIES = BURSTS * 64;
      // Bursts of 32 copies each way, then a wait for all of them, as core's data path does.
      const run = (): void => {
        for (let burst = 0; burst < BURSTS; burst++) {
          for (let i = 0; i < 32; i++) {
            dma.submit(ToHost, frames, i * 2048, ring, ((burst * 32 + i) * 2048) & 0x3ffff, 1448, i);
            dma.submit(FromHost, ring, (i * 1448) & ~2047, frames, i * 2048 + 66, 1448, i);
          }
          while (dma.inFlight(ToHost) + dma.inFlight(FromHost) > 0) dma.poll(out, out.length);
        }
      };
      run(); // warm: registrations, optimisation
      const best = Math.min(allocatedBy(run), allocatedBy(run), allocatedBy(run)) / COPIES;
      console.log(`        allocated (best round): ${best.toFixed(2)} B/copy`);
      expect(best, 'bytes allocated per copy').to.be.below(1);
      expect(dma.counters.submitted).to.equal(4 * COPIES);
    } finally {
      await close();
    }
  });

  it('copies memory another thread cannot see (an ArrayBuffer) at once, counted as inline', async () => {
    const { dma, links, close } = await engine(1, LIMITS);
    try {
      const plain = new Uint8Array(4096);
      plain.set(pattern(4096, 4));
      const shared = new Uint8Array(new SharedArrayBuffer(4096));
      expect(dma.submit(ToHost, plain, 0, shared, 0, 4096, 7)).to.equal(true);
      expect(drain(dma)).to.deep.equal([7]);
      expect(sha(shared)).to.equal(sha(plain));
      expect(dma.counters).to.include({ inline: 1, submitted: 0, registered: 1 });
      expect(links[0]!.counters.copies).to.equal(0);
    } finally {
      await close();
    }
  });

  it('negative control: an engine that signals completion before it copies is caught by the byte check', async () => {
    for (const fault of [null, { completeEarly: true, delayMs: 300 }]) {
      const { dma, links, close } = await engine(1, LIMITS, fault);
      try {
        const src = new Uint8Array(new SharedArrayBuffer(1448));
        src.set(pattern(1448, 5));
        const dst = new Uint8Array(new SharedArrayBuffer(1448));
        dma.submit(ToHost, src, 0, dst, 0, 1448, 1);
        expect(drain(dma)).to.deep.equal([1]);
        // What a notification published now would let the application read.
        const atCompletion = sha(dst) === sha(src);
        expect(atCompletion, fault === null ? 'correct engine' : 'early-completing engine').to.equal(
          fault === null,
        );
        if (fault !== null) {
          await new Promise((r) => setTimeout(r, 2 * fault.delayMs));
          expect(sha(dst), 'the late copy did land').to.equal(sha(src));
          expect(Atomics.load(links[0]!.ctl, 38)).to.equal(1);
        }
      } finally {
        await close();
      }
    }
  });

  it('a replica that is gone fails the waiting core with a clear error instead of spinning', async () => {
    for (const how of ['stopped', 'terminated'] as const) {
      const { dma, links, close } = await engine(1, LIMITS);
      try {
        if (how === 'stopped') await links[0]!.stop();
        else {
          await links[0]!.worker!.terminate();
          await links[0]!.exit;
        }
        const a = new Uint8Array(new SharedArrayBuffer(64));
        const b = new Uint8Array(new SharedArrayBuffer(64));
        expect(dma.submit(ToHost, a, 0, b, 0, 64, 1)).to.equal(true);
        expect(() => drain(dma, 5000), how).to.throw(/DMA replica 0 is gone with 1 copies .* in flight/);
      } finally {
        await close();
      }
    }
  });
});

/** Stack a (10.0.0.1, `units`) and a plain stack b on one wire; a's transmitted frames fully checked. */
async function stacks(units: X86Cores, dmaFault?: DmaFault) {
  const net = new VirtualNetwork({});
  const parsed = new ParsedFrame();
  const wire = { tcp: 0, bad: new Map<string, number>() };
  const traced = new TracingPort(net.attach(), (dir, frame, length) => {
    if (dir !== 'tx') return;
    const e = parseFrame(frame, 0, length, parsed); // headers and both checksums
    if (e === WireError.None) {
      if (parsed.l4 === L4Kind.Tcp) wire.tcp++;
    } else wire.bad.set(wireErrorName(e), (wire.bad.get(wireErrorName(e)) ?? 0) + 1);
  });
  const a = await ThreadedStack.create({
    options: { ip: '10.0.0.1/24' },
    port: traced,
    units,
    ...(dmaFault ? { dmaFault } : {}),
  });
  const b = await ThreadedStack.create({
    options: { ip: '10.0.0.2/24' },
    port: net.attach(),
    units: 1,
  }).catch(async (e: unknown) => {
    await a.close();
    throw e;
  });
  a.start();
  b.start();
  return { a, b, wire, close: () => Promise.all([a.close(), b.close()]).then(() => undefined) };
}

interface CoreDma {
  dma: ThreadDmaCounters | null;
}

describe('DMA replicas in a threaded stack', function () {
  this.timeout(120_000);

  afterEach(() => {
    expect(liveNicWorkers(), 'NIC threads still running').to.equal(0);
  });

  for (const [name, units] of [
    ['1 DMA replica, checksums filled by the port view', new X86Cores(1, 0, 0, 1)],
    ['pre 2 / post 2 / dma 1 (the issue example graph)', new X86Cores(1, 2, 2, 1)],
    ['2 DMA replicas (copies dealt round robin)', new X86Cores(1, 0, 0, 2)],
    ['2 NIC cores with 1 DMA replica each', new X86Cores(2, 0, 0, 1)],
  ] as const) {
    it(`${name}: byte-exact both ways, every payload copied by a replica`, async () => {
      const { a, b, wire, close } = await stacks(units);
      try {
        const n = units.nicCores;
        const k = units.dmaReplicas;
        expect(a.threadIds).to.have.length(n * (1 + units.preReplicas + units.postReplicas + k));
        const up = pattern(1 << 20, 11);
        const down = pattern(2 << 20, 12);
        const { atServer, atClient } = await transfer(a, b, 90, up, down);
        expect(sha(atServer)).to.equal(sha(up));
        expect(sha(atClient)).to.equal(sha(down));
        await close();
        const s = a.stats();
        expect(s.x86.dma).to.have.length(n * k);
        expect(s.x86.dma.map((r) => r.core)).to.deep.equal(
          Array.from({ length: n * k }, (_, i) => Math.floor(i / k)),
        );
        const sum = (f: (r: (typeof s.x86.dma)[number]) => number): number =>
          s.x86.dma.reduce((x, r) => x + f(r), 0);
        for (const r of s.x86.dma) expect(r.tid).to.be.greaterThan(0).and.not.equal(s.x86.cores[r.core]!.tid);
        // Every payload byte a's data path moved went through a replica (none inline: the
        // cores' frame slots are shared memory), and the core waited for completions.
        expect(sum((r) => r.bytes)).to.equal(s.dataPath.dma.toHostBytes + s.dataPath.dma.fromHostBytes);
        expect(s.dataPath.dma.toHostBytes).to.be.at.least(up.length);
        expect(s.dataPath.dma.fromHostBytes).to.be.at.least(down.length);
        expect(sum((r) => r.toHost)).to.be.greaterThan(up.length / 1500);
        expect(sum((r) => r.fromHost)).to.be.greaterThan(down.length / 1500);
        // Two replicas of one core share its copies (round robin); one connection's flow group
        // lives on one of two cores, whose replica does all of them.
        if (k === 2) for (const r of s.x86.dma) expect(r.copies).to.be.greaterThan(up.length / 1500);
        if (n === 2) expect(s.x86.dma.filter((r) => r.copies > 0)).to.have.length(1);
        const engines = s.x86.cores.map((c) => (c as unknown as CoreDma).dma!);
        expect(engines.reduce((x, e) => x + e.inline, 0)).to.equal(0);
        expect(engines.reduce((x, e) => x + e.submitted, 0)).to.equal(sum((r) => r.copies));
        expect(s.dataPath.dma.waits).to.be.greaterThan(0);
        expect(s.dataPath.dma.refused).to.equal(0);
        // Checksums filled after the copies (port view or post replicas): all valid on the wire.
        expect(Object.fromEntries(wire.bad), 'frames with bad headers or checksums').to.deep.equal({});
        expect(wire.tcp).to.be.greaterThan(down.length / 1500);
        if (units.postReplicas > 0) expect(s.x86.post.reduce((n, p) => n + p.finished, 0)).to.equal(wire.tcp);
      } finally {
        await close();
      }
    });
  }

  it('a DMA replica that dies mid-transfer ends the connections with an error naming it', async () => {
    const { a, b, close } = await stacks(new X86Cores(1, 0, 0, 1));
    try {
      let received = 0;
      const closed = new Promise<unknown>((resolve) =>
        a.listen(92, (s) => {
          s.handlers.onReadable = (x) => (received += x.read()?.length ?? 0);
          s.handlers.onClose = (_c, err) => resolve(err);
        }),
      );
      const c = b.connect('10.0.0.1', 92);
      const data = pattern(64 << 20, 15);
      let off = 0;
      const push = (): void => {
        while (off < data.length && c.canWrite) {
          const n = c.write(data, off);
          if (n === 0) break;
          off += n;
        }
      };
      c.handlers.onConnect = push;
      c.handlers.onWritable = push;
      while (received < 1 << 20) await new Promise((r) => setTimeout(r, 5));
      await a.cores[0]!.dma[0]!.worker!.terminate(); // gone mid-transfer, as after a crash
      const err = (await closed) as { code?: string; message?: string };
      expect(err.code).to.equal('ECONNRESET');
      expect(err.message).to.match(/DMA replica 0/);
      expect(received).to.be.below(data.length);
    } finally {
      await close();
    }
  });

  it('negative control: replicas that signal completion before copying deliver wrong bytes', async () => {
    const { a, b, close } = await stacks(new X86Cores(1, 0, 0, 1), { completeEarly: true, delayMs: 5 });
    try {
      const up = pattern(128 << 10, 13);
      const down = pattern(128 << 10, 14);
      const { atServer, atClient } = await transfer(a, b, 91, up, down);
      // Notifications and frames were released on completions that came before the bytes.
      expect(sha(atServer) === sha(up) && sha(atClient) === sha(down), 'both byte-exact').to.equal(false);
      await close();
      expect(a.stats().x86.dma[0]!.copies).to.be.greaterThan(0);
    } finally {
      await close();
    }
  });
});
