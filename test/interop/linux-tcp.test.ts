/**
 * FlexTOE against the Linux kernel's TCP, over real devices, in network namespaces the tests
 * create and remove: {TAP, DPDK net_tap, DPDK net_af_packet, DPDK net_af_xdp} x {clean, 1% loss,
 * reordering},
 * 32 MiB each way on one connection at once, every byte checked (SHA-256 both ways); and `nc`
 * talking to our stack in both roles.
 *
 * Loss: this kernel has no `tc netem`, so nftables drops 1% of the frames in each direction on
 * the kernel's interface (netdev ingress and egress, `numgen random`). Reordering: core's
 * FaultInjectingPort around our port holds back 1% of the frames we receive behind 3 later ones
 * (it acts on receive, so the kernel's data and ACKs arrive reordered; ours reach it in order).
 *
 * Needs root (namespaces, TAP, nftables) and, for the DPDK rows, the addon; without them each
 * suite skips with the reason printed. CI has both.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { expect } from 'chai';
import { FaultInjectingPort, type Connection, type NicPort } from '@flextoe/core';
import {
  DRIVERS,
  OUR_IP,
  PEER_IP,
  type FaultKind,
  type InteropDriver,
  type Wire,
} from './harness/drivers.js';
import { interopUnavailable, leftovers, Sandbox, sweepDeadRuns } from './harness/sandbox.js';
import { skipOrRequire } from './harness/require.js';
import { openStack, type InteropStack } from './harness/stacks.js';
import {
  connectAndExchange,
  KernelPeer,
  pattern,
  patternSha256,
  type OurResult,
} from './harness/transfer.js';

const MiB = 1024 * 1024;
const BYTES = 32 * MiB;
const PEER_SEED = 'linux-kernel-peer';
const OUR_SEED = 'flextoe-stack';
/** A transfer that takes longer than this is reported with the stack's counters, not waited for. */
const TRANSFER_LIMIT_MS = 200_000;

interface Fault {
  readonly kind: FaultKind;
  readonly name: string;
  readonly wrap?: (p: NicPort) => NicPort;
  /** Applied once the wire is up; returns a check that the fault really happened. */
  apply(sandbox: Sandbox, wire: Wire, stack: InteropStack): () => void;
}

const FAULTS: readonly Fault[] = [
  { kind: 'clean', name: 'clean', apply: () => () => {} },
  {
    kind: 'loss',
    name: '1% loss (nftables, both directions)',
    apply(sandbox, wire) {
      sandbox.loss(wire.kernelIf, 1);
      return () => expect(sandbox.lossCount(), 'frames nftables dropped').to.be.greaterThan(0);
    },
  },
  {
    kind: 'reorder',
    name: 'reordering (1% of received frames held behind 3)',
    wrap: (p) => new FaultInjectingPort(p, { reorder: 0.01, reorderDepth: 3, seed: 9293 }),
    apply(_sandbox, _wire, s) {
      return () => {
        const faults = (s.port as FaultInjectingPort).stats().faults;
        expect(faults['injected-reorder'], 'frames held back').to.be.greaterThan(0);
      };
    },
  },
];

/** Rejects after `ms` with `describe()`'s diagnostics. */
function within<T>(p: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${ms / 1000} s: ${describe()}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function diagnostics(s: InteropStack): string {
  const st = s.stack.stats();
  return JSON.stringify({
    pre: st.dataPath.pre,
    protocol: st.dataPath.protocol,
    control: st.control,
    port: s.port.stats(),
  });
}

describe('interop with the Linux kernel TCP in network namespaces', function () {
  this.timeout(300_000);
  let sandbox: Sandbox | null = null;
  let ours: InteropStack | null = null;
  const expectedFromPeer = patternSha256(PEER_SEED, BYTES);
  const expectedFromUs = patternSha256(OUR_SEED, BYTES);

  before(function () {
    const why = interopUnavailable();
    if (why) skipOrRequire(this, why, '    ');
    sweepDeadRuns();
  });

  afterEach(async () => {
    await ours?.stack.close();
    ours = null;
    await sandbox?.close();
    sandbox = null;
  });

  /** A sandbox with `driver`'s wire, our stack on it, `fault` applied. */
  async function setUp(
    driver: InteropDriver,
    label: string,
    fault?: Fault,
  ): Promise<{ wire: Wire; check: () => void }> {
    sandbox = Sandbox.create(label);
    const wire = driver.wire(sandbox);
    ours = await openStack(wire.port, fault?.wrap ? { wrap: fault.wrap } : {});
    wire.attach();
    const check = fault ? fault.apply(sandbox, wire, ours) : () => {};
    return { wire, check };
  }

  for (const [d, driver] of DRIVERS.entries()) {
    describe(driver.title, () => {
      before(function () {
        const why = driver.unavailable();
        if (why) skipOrRequire(this, why, '      ');
      });

      for (const [f, fault] of FAULTS.entries()) {
        if (driver.faults && !driver.faults.includes(fault.kind)) continue;
        it(`${fault.name}: 32 MiB each way at once, byte-exact`, async () => {
          const { check } = await setUp(driver, `m${d}${f}`, fault);
          const s = ours!;
          const peer = await KernelPeer.listen(sandbox!, PEER_IP, 5001, BYTES, PEER_SEED);
          const t0 = performance.now();
          const mine: OurResult = await within(
            connectAndExchange(s.stack, PEER_IP, 5001, BYTES, OUR_SEED),
            TRANSFER_LIMIT_MS,
            () => diagnostics(s),
          );
          const theirs = await within(peer.result, 30_000, () => 'the kernel peer did not report');
          const seconds = (performance.now() - t0) / 1000;

          expect(mine.sent).to.equal(BYTES);
          expect(mine.sentSha256).to.equal(expectedFromUs);
          expect(theirs.received, 'bytes the kernel received').to.equal(BYTES);
          expect(theirs.receivedSha256, 'what the kernel received').to.equal(expectedFromUs);
          expect(theirs.sentSha256).to.equal(expectedFromPeer);
          expect(mine.received, 'bytes we received').to.equal(BYTES);
          expect(mine.receivedSha256, 'what we received').to.equal(expectedFromPeer);
          expect(mine.bytesAfterClose, 'bytes delivered after onClose').to.equal(0);
          check();
          const p = s.stack.stats().dataPath.protocol;
          const port = s.port.stats();
          const portDrops = Object.entries(port.drops).filter(([, n]) => n > 0);
          // Every frame our port handed over reached the device: none refused on the way as
          // malformed (net_af_xdp: descriptors the kernel found invalid, XDP_STATISTICS; they
          // were ~0.1-1% of the frames, silently, while the PMD's UMEM missed part of the pool).
          const refused = ['xdp-tx-invalid', 'xdp-rx-invalid'].filter((k) => (port.drops[k] ?? 0) > 0);
          expect(refused.map((k) => `${k} ${port.drops[k]}`)).to.deep.equal([]);
          console.log(
            `        ${((2 * BYTES) / MiB / seconds).toFixed(1)} MiB/s both ways together (${seconds.toFixed(1)} s); ` +
              `our retransmits: ${p.fastRetransmits} fast, ${p.timeoutRetransmits} timeout; ` +
              `port: ${port.txPackets} sent, ${port.rxPackets} received, drops ${portDrops.length > 0 ? JSON.stringify(Object.fromEntries(portDrops)) : 'none'}`,
          );
        });
      }
    });
  }

  describe('nc (netcat-openbsd) in the namespace', () => {
    const NC_BYTES = 1 * MiB;
    const NC_LIMIT_MS = Number(process.env.NC_LIMIT_MS ?? 60_000);

    for (const [d, driver] of DRIVERS.entries()) {
      describe(`over ${driver.title}`, () => {
        before(function () {
          const why = driver.unavailable();
          if (why) skipOrRequire(this, why, '        ');
        });

        it('nc connects to our echo server and gets every byte back', async () => {
          await setUp(driver, `e${d}`);
          const s = ours!;
          const listener = s.stack.listen(7, (c) => echo(c));
          const input = patternBytes('nc-echo', NC_BYTES);
          const nc = sandbox!.spawn('nc', ['-N', OUR_IP, '7']);
          const out = collect(nc.stdout!);
          feed(nc, input);
          const [code] = await within(exited(nc), NC_LIMIT_MS, () => diagnostics(s));
          expect(code, 'nc exit code').to.equal(0);
          const echoed = Buffer.concat(await out);
          expect(echoed.length).to.equal(NC_BYTES);
          expect(sha256(echoed)).to.equal(sha256(input));
          s.stack.unlisten(listener);
        });

        it('our client talks to nc -l both ways', async () => {
          await setUp(driver, `n${d}`);
          const s = ours!;
          const fromNc = patternBytes('nc-listen', NC_BYTES);
          const nc = sandbox!.spawn('nc', ['-N', '-l', PEER_IP, '9000']);
          const out = collect(nc.stdout!);
          feed(nc, fromNc);
          await waitListening(sandbox!, 9000);
          const mine = await within(
            connectAndExchange(s.stack, PEER_IP, 9000, NC_BYTES, 'to-nc'),
            60_000,
            () => diagnostics(s),
          );
          const [code] = await within(exited(nc), 30_000, () => 'nc did not exit');
          expect(code, 'nc exit code').to.equal(0);
          const gotByNc = Buffer.concat(await out);
          expect(gotByNc.length).to.equal(NC_BYTES);
          expect(sha256(gotByNc)).to.equal(patternSha256('to-nc', NC_BYTES));
          expect(mine.received).to.equal(NC_BYTES);
          expect(mine.receivedSha256).to.equal(sha256(fromNc));
        });
      });
    }
  });

  // Last: mocha runs a suite's own tests before its nested suites.
  describe('afterwards', () => {
    it('left no namespace, interface or process behind', () => {
      expect(leftovers()).to.deep.equal({ namespaces: [], links: [] });
    });
  });
});

// ---------------------------------------------------------------- helpers

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function patternBytes(seed: string, n: number): Buffer {
  const next = pattern(seed);
  const parts: Buffer[] = [];
  for (let done = 0; done < n;) {
    const chunk = next(Math.min(64 * 1024, n - done));
    parts.push(chunk);
    done += chunk.length;
  }
  return Buffer.concat(parts);
}

/** Writes `data` to a child's stdin and closes it; a child that dies first is the test's failure, not EPIPE's. */
function feed(child: ChildProcess, data: Buffer): void {
  child.stdin!.on('error', () => {});
  child.stdin!.end(data);
}

function collect(stream: Readable): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  stream.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(parts));
    stream.once('error', reject);
  });
}

function exited(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve([child.exitCode, child.signalCode]);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
}

async function waitListening(sandbox: Sandbox, port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (sandbox.exec('ss', ['-ltnH', `sport = :${port}`]).trim() !== '') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nothing listens on port ${port} in ${sandbox.ns}`);
}

/** An echo server connection: writes back what it reads (as TX room allows), FIN after the peer's. */
function echo(c: Connection): void {
  let pending: Buffer[] = [];
  let ended = false;
  const flush = (conn: Connection): void => {
    while (pending.length > 0 && conn.canWrite) {
      const head = pending[0]!;
      const n = conn.write(head);
      if (n === 0) return;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    if (ended && pending.length === 0 && conn.canWrite) conn.shutdown();
  };
  c.handlers = {
    onReadable: (conn) => {
      const data = conn.read();
      if (data) pending.push(data);
      flush(conn);
    },
    onWritable: flush,
    onEnd: (conn) => {
      ended = true;
      flush(conn);
    },
    onClose: () => {
      pending = [];
    },
  };
}
