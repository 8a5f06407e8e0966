/**
 * A simulated NIC talks TCP to Linux: each model, in paced time, serves Node's HTTP server
 * (`@flextoe/sockets`' `createHttpServer` on the stack's `net`) to `curl` running in a network
 * namespace the test creates, byte-exact by SHA-256 both ways. The wire is one of the x86
 * backend's drivers, as the issue asks of paced mode: a real TAP device, and DPDK's AF_PACKET PMD
 * on a veth. Needs root, /dev/net/tun, `ip`, `curl` and DPDK (CI has them;
 * FLEXTOE_REQUIRE_INTEROP=1 makes their absence a failure); elsewhere the tests are reported
 * pending with the reason. The namespace comes from the interop harness (test/interop/harness):
 * removed after the tests, also when one fails, and on exit.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createHttpServer,
  createStack,
  listenServer,
  patternSha256,
  type HttpApp,
  type Stack,
} from '@flextoe/sockets';
import type { SimStackStats } from '@flextoe/sim';
import { DPDK_AF_PACKET, OUR_IP, TAP, type InteropDriver } from '../interop/harness/drivers.js';
import { interopUnavailable, Sandbox, sweepDeadRuns } from '../interop/harness/sandbox.js';
import { skipOrRequire } from '../interop/harness/require.js';

const MIB = 1 << 20;

// The x86 backend's drivers as the simulated NIC's wire: a TAP device moved into the namespace,
// and DPDK's AF_PACKET PMD on the root end of a veth pair (one of each kind; test/interop runs
// the full driver matrix on x86).
const CASES: [backend: 'agilio-sim' | 'bluefield-sim', driver: InteropDriver][] = [
  ['agilio-sim', TAP],
  ['bluefield-sim', TAP],
  ['agilio-sim', DPDK_AF_PACKET],
  ['bluefield-sim', DPDK_AF_PACKET],
];

for (const [backend, driver] of CASES) {
  describe(`${backend} in paced time on ${driver.title}, serving HTTP to curl in a namespace`, function () {
    this.timeout(180_000);
    let sandbox: Sandbox | null = null;
    let stack: Stack | null = null;
    let http: HttpApp | null = null;
    let dir: string;
    let wireName: string;

    /** Runs a command in the namespace without blocking the event loop (the NIC model runs on it). */
    const inNamespace = (cmd: string, args: string[]): Promise<{ code: number; out: string }> =>
      new Promise((resolve) => {
        execFile(
          'ip',
          ['netns', 'exec', sandbox!.ns, cmd, ...args],
          { timeout: 90_000, encoding: 'buffer', maxBuffer: 16 * MIB },
          (err, stdout, stderr) => {
            const code = err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0;
            resolve({ code, out: `${stdout.toString('latin1')}${stderr.toString()}` });
          },
        );
      });

    before(async function () {
      const why = interopUnavailable(['ip', 'curl', 'ethtool']) ?? driver.unavailable();
      if (why !== null) skipOrRequire(this, why, '    ');
      sweepDeadRuns();
      dir = mkdtempSync(join(tmpdir(), 'flextoe-sim-tap-'));
      sandbox = Sandbox.create('simtap');
      const wire = driver.wire(sandbox);
      const port = wire.port;
      wireName =
        port.driver === 'tap' ? `tap:${port.ifname}` : port.driver === 'dpdk' ? `dpdk:${port.vdev}` : '?';
      stack = await createStack({ backend, timeMode: 'paced', port: wire.port }, { argv: [], env: {} });
      // A TAP keeps its file descriptor with the NIC model while its kernel end moves into the
      // namespace; an AF_PACKET veth was wired by driver.wire().
      wire.attach();
      http = createHttpServer(stack.net);
      await listenServer(http.server, 8080);
    });

    after(async () => {
      await http?.close();
      if (stack) {
        const hold = setInterval(() => {}, 1000); // a closing TAP port does not hold the process
        await stack.close();
        clearInterval(hold);
      }
      await sandbox?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('curl downloads 1 MiB and uploads 1 MiB, byte-exact; the model timed the work', async () => {
      const down = await inNamespace('curl', ['-sS', '--fail', `http://${OUR_IP}:8080/bytes/${MIB}?seed=21`]);
      expect(down.code, down.out.slice(0, 200)).to.equal(0);
      const got = Buffer.from(down.out, 'latin1');
      expect(got.length).to.equal(MIB);
      expect(createHash('sha256').update(got).digest('hex')).to.equal(patternSha256(21, MIB));

      const body = randomBytes(MIB);
      writeFileSync(join(dir, 'body'), body);
      const up = await inNamespace('curl', [
        '-sS',
        '--fail',
        '--data-binary',
        `@${join(dir, 'body')}`,
        `http://${OUR_IP}:8080/sha256`,
      ]);
      expect(up.code, up.out).to.equal(0);
      expect(JSON.parse(up.out)).to.deep.equal({
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });

      // The frames went through the model: it charged their work and followed the wall clock.
      const model = (stack!.backendStack.stats() as SimStackStats).model;
      expect(model.model).to.equal(backend);
      expect(model.timeMode).to.equal('paced');
      expect(model.wire).to.equal(wireName);
      expect(model.throughput.rxPayloadBytes).to.be.at.least(MIB);
      expect(model.throughput.txPayloadBytes).to.be.at.least(MIB);
      expect(model.latency.rx.count).to.be.greaterThan(700);
      expect(model.pacing).to.not.equal(null);
    });
  });
}
