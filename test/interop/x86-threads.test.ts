/**
 * The x86 backend's threaded data path against the Linux kernel's TCP over real devices, in
 * network namespaces the tests create and remove: our stack built by `backend.createStack` as an
 * application gets it, with the data path on NIC core worker threads (run to completion on one
 * core; and two cores each fed by a pre-processing replica thread), the control plane and the
 * application on this thread, the device bridged by it; and, for DPDK, the device handed to the
 * one NIC core, which runs its bursts itself as a registered DPDK lcore (`x86.portThread`
 * nic-core: no frame crosses threads); and, over TAP, one core whose transmitted frames get their
 * TCP checksums from two post-processing replica threads (`x86.graph.post`), and one core whose
 * payload copies run on a DMA replica thread (`x86.graph.dma`; its port view fills the TCP
 * checksums once the copies completed). 32 MiB each way on one connection at once, every byte
 * checked (SHA-256 both ways), clean and with 1% loss (nftables, both
 * directions: this kernel has no `tc netem`).
 *
 * Needs root (namespaces, TAP, nftables) and, for the DPDK row, the addon; without them each
 * suite skips with the reason printed. CI has both.
 */
import { expect } from 'chai';
import { resolveConfig, type BackendStack, type PortConfig } from '@flextoe/core';
import { backend, liveNicWorkers, loadDpdkAddon } from '@flextoe/backend-x86';
import { DPDK_AF_PACKET, PEER_IP, TAP, type InteropDriver } from './harness/drivers.js';
import { skipOrRequire } from './harness/require.js';
import { interopUnavailable, Sandbox, sweepDeadRuns } from './harness/sandbox.js';
import { connectAndExchange, KernelPeer, patternSha256 } from './harness/transfer.js';

const MiB = 1024 * 1024;
const BYTES = 32 * MiB;
const PEER_SEED = 'linux-kernel-peer';
const OUR_SEED = 'flextoe-threads';
const LIMIT_MS = 200_000;

const PLACEMENTS: readonly [string, Record<string, unknown>][] = [
  ['run-to-completion (1 NIC core)', { placement: 'run-to-completion' }],
  ['parallel (2 NIC cores, 1 pre replica each)', { placement: 'parallel', cores: 2, graph: { pre: 1 } }],
];
/**
 * Post-processing replicas over TAP: the kernel verifies every TCP checksum our replicas
 * computed (the NIC core leaves only the pseudo-header sum), so a wrong one fails the transfer.
 */
const TAP_PLACEMENTS: readonly [string, Record<string, unknown>][] = [
  [
    'run-to-completion, 2 post replicas filling the TCP checksums',
    { placement: 'run-to-completion', graph: { post: 2 } },
  ],
  // The kernel checks what the replica copied (payload) and the checksum computed after it.
  [
    'run-to-completion, 1 DMA replica copying the payload',
    { placement: 'run-to-completion', graph: { dma: 1 } },
  ],
];
/** Only a DPDK port can be handed to a NIC core (its bursts are callable from any thread). */
const DPDK_PLACEMENTS: readonly [string, Record<string, unknown>][] = [
  [
    'run-to-completion, the port on the NIC core (a DPDK lcore)',
    { placement: 'run-to-completion', portThread: 'nic-core' },
  ],
];

function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${ms / 1000} s: ${what()}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('interop: the x86 threaded data path with the Linux kernel TCP in network namespaces', function () {
  this.timeout(300_000);
  let sandbox: Sandbox | null = null;
  let ours: BackendStack | null = null;

  before(function () {
    const why = interopUnavailable();
    if (why) skipOrRequire(this, why, '    ');
    sweepDeadRuns();
  });

  afterEach(async () => {
    await ours?.close();
    ours = null;
    await sandbox?.close();
    sandbox = null;
    expect(liveNicWorkers(), 'NIC core threads left running').to.equal(0);
  });

  async function open(port: PortConfig, x86: Record<string, unknown>): Promise<BackendStack> {
    return backend.createStack(resolveConfig({ backend: 'x86', port, x86 }, { env: {} }).config);
  }

  for (const [d, driver] of ([TAP, DPDK_AF_PACKET] as InteropDriver[]).entries()) {
    describe(driver.title, () => {
      before(function () {
        const why = driver.unavailable();
        if (why) skipOrRequire(this, why, '      ');
      });

      const placements =
        driver === DPDK_AF_PACKET ? [...PLACEMENTS, ...DPDK_PLACEMENTS] : [...PLACEMENTS, ...TAP_PLACEMENTS];
      for (const [p, [name, x86]] of placements.entries())
        for (const loss of [0, 1]) {
          it(`${name}${loss ? ', 1% loss' : ''}: 32 MiB each way at once, byte-exact`, async () => {
            sandbox = Sandbox.create(`x${d}${p}${loss}`);
            const wire = driver.wire(sandbox);
            ours = await open(wire.port, x86);
            wire.attach();
            if (loss) sandbox.loss(wire.kernelIf, loss);
            const stack = ours;
            const peer = await KernelPeer.listen(sandbox, PEER_IP, 5001, BYTES, PEER_SEED);
            const t0 = performance.now();
            const mine = await within(
              connectAndExchange(stack, PEER_IP, 5001, BYTES, OUR_SEED),
              LIMIT_MS,
              () => JSON.stringify(stack.stats().dataPath.protocol),
            );
            const theirs = await within(peer.result, 30_000, () => 'the kernel peer did not report');
            const seconds = (performance.now() - t0) / 1000;
            expect(mine.sentSha256).to.equal(patternSha256(OUR_SEED, BYTES));
            expect(theirs.received, 'bytes the kernel received').to.equal(BYTES);
            expect(theirs.receivedSha256, 'what the kernel received').to.equal(
              patternSha256(OUR_SEED, BYTES),
            );
            expect(mine.received, 'bytes we received').to.equal(BYTES);
            expect(mine.receivedSha256, 'what we received').to.equal(patternSha256(PEER_SEED, BYTES));
            const s = stack.stats() as ReturnType<BackendStack['stats']> & {
              x86?: {
                cores: { lcore: number; port: { rxPackets: number; txPackets: number } }[];
                pre: { validated: number }[];
                post: { finished: number }[];
                dma: { toHost: number; fromHost: number; bytes: number }[];
                bridge: { rxFrames: number; txFrames: number };
              };
            };
            // The data path really ran on the NIC threads the placement asks for.
            expect(s.x86?.cores).to.have.length(x86.placement === 'parallel' ? 2 : 1);
            // One connection: its flow group's core and that core's replica carried it.
            if (x86.placement === 'parallel')
              expect(s.x86!.pre.some((r) => r.validated > 20_000)).to.equal(true);
            if (x86.graph !== undefined && 'post' in (x86.graph as object)) {
              // Every data segment we sent got its checksum from a replica, and both replicas
              // worked (frames are dealt round robin); the kernel accepted all of them.
              expect(s.x86!.post).to.have.length(2);
              for (const r of s.x86!.post) expect(r.finished).to.be.greaterThan(BYTES / 1448 / 4);
              expect(s.x86!.post.reduce((n, r) => n + r.finished, 0)).to.be.greaterThan(BYTES / 1448);
            }
            if (x86.graph !== undefined && 'dma' in (x86.graph as object)) {
              // Every payload byte both ways went through the DMA replica (none copied on the
              // core), and the core waited for its completions before notifying or sending.
              const [r] = s.x86!.dma;
              expect(r!.toHost, 'copies into our RX ring').to.be.greaterThan(BYTES / 1448);
              expect(r!.fromHost, 'copies out of our TX ring').to.be.greaterThan(BYTES / 1448);
              expect(r!.bytes).to.equal(s.dataPath.dma.toHostBytes + s.dataPath.dma.fromHostBytes);
              expect((s.x86!.cores[0] as unknown as { dma: { inline: number } }).dma.inline).to.equal(0);
              expect(s.dataPath.dma.waits).to.be.greaterThan(0);
            }
            if (x86.portThread === 'nic-core') {
              // The NIC core ran the device's bursts itself, as a DPDK lcore other than the main
              // one (this thread, which initialised EAL); this thread moved no frame.
              const core = s.x86!.cores[0]!;
              const lcores = loadDpdkAddon().lcoreInfo();
              expect(core.lcore, 'the NIC core is a registered DPDK lcore').to.be.at.least(0);
              expect(core.lcore).to.not.equal(lcores.main);
              expect(lcores.id, 'this thread is the main lcore').to.equal(lcores.main);
              expect(core.port.rxPackets, 'frames the core received from the device').to.be.greaterThan(
                BYTES / 1448,
              );
              expect(core.port.txPackets).to.be.greaterThan(BYTES / 1448);
              expect(s.x86!.bridge).to.deep.include({ rxFrames: 0, txFrames: 0 });
            }
            if (driver === DPDK_AF_PACKET) {
              // Every NIC core of a DPDK application is a DPDK lcore, bridged or not, each its
              // own id (none the main lcore, which is this thread).
              const ids = s.x86!.cores.map((c) => c.lcore);
              const main = loadDpdkAddon().lcoreInfo().main;
              for (const id of ids) expect(id, 'a NIC core registered as a DPDK lcore').to.be.at.least(0);
              expect(ids).to.not.include(main);
              expect(new Set(ids).size).to.equal(ids.length);
            } else {
              for (const c of s.x86!.cores) expect(c.lcore, 'no DPDK behind a TAP port').to.equal(-1);
            }
            if (loss) expect(sandbox.lossCount(), 'frames nftables dropped').to.be.greaterThan(0);
            const pr = s.dataPath.protocol;
            console.log(
              `        ${((2 * BYTES) / MiB / seconds).toFixed(1)} MiB/s both ways together (${seconds.toFixed(1)} s); ` +
                `our retransmits: ${pr.fastRetransmits} fast, ${pr.timeoutRetransmits} timeout`,
            );
          });
        }
    });
  }
});
