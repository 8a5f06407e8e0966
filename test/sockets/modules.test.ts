/**
 * User modules from the configuration (`config.modules`) on every backend: the same JavaScript
 * file, loaded where each backend runs its data path (the application's thread inline and in the
 * simulators, every NIC-core worker thread on x86), drops received TCP segments for one port.
 * A connection to another port works byte-exact through the same data path; the dropped SYNs
 * are counted under the module's name; a bad module fails `createStack` with its path named.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { FlexToeConfigInput } from '@flextoe/core';
import { createStack, createVirtualNetwork, type Stack } from '@flextoe/sockets';

const DROP = fileURLToPath(new URL('../fixtures/modules/drop-tcp-port.mjs', import.meta.url));
const NOT_A_MODULE = fileURLToPath(new URL('../fixtures/modules/not-a-module.mjs', import.meta.url));
const BLOCKED = 7001;
const OPEN = 7000;

const CASES: readonly [string, FlexToeConfigInput][] = [
  ['x86 inline', { backend: 'x86', x86: { placement: 'inline' } }],
  ['x86 run-to-completion (NIC-core thread)', { backend: 'x86', x86: { placement: 'run-to-completion' } }],
  ['x86 parallel (2 NIC-core threads)', { backend: 'x86', x86: { placement: 'parallel', cores: 2 } }],
  ['agilio-sim', { backend: 'agilio-sim' }],
  ['bluefield-sim', { backend: 'bluefield-sim' }],
];

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('data-path modules from the configuration (config.modules)', function () {
  this.timeout(60_000);

  for (const [label, base] of CASES) {
    it(`${label}: the module drops what it is asked to, counted under its name; other traffic flows`, async () => {
      const wire = createVirtualNetwork();
      const stacks: Stack[] = [];
      try {
        const server = await createStack({
          ...base,
          port: wire.attach('10.31.0.1/24'),
          modules: [{ path: DROP, options: { port: BLOCKED } }],
        });
        stacks.push(server);
        const client = await createStack({ ...base, port: wire.attach('10.31.0.2/24') });
        stacks.push(client);

        const echo = server.net.createServer((s) => void s.pipe(s));
        echo.listen(OPEN);
        await once(echo, 'listening');
        let blockedAccepted = 0;
        const blocked = server.net.createServer(() => blockedAccepted++);
        blocked.listen(BLOCKED);
        await once(blocked, 'listening');

        // Through the module (it passes everything else): byte-exact echo.
        const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
        const c = client.net.connect(OPEN, '10.31.0.1');
        const got: Buffer[] = [];
        c.on('data', (d: Buffer) => got.push(d));
        await once(c, 'connect');
        c.write(payload);
        await until(() => Buffer.concat(got).length >= payload.length, 30_000, 'the echo');
        expect(Buffer.concat(got).equals(payload), 'echo byte-exact').to.equal(true);
        c.destroy();

        // The blocked port: the SYN never reaches the protocol stage.
        const b = client.net.connect(BLOCKED, '10.31.0.1');
        b.on('error', () => {});
        const name = `drop-tcp-${BLOCKED}`;
        const drops = (): number => server.stats().dataPath.hooks.ingressDrop[name] ?? 0;
        await until(() => drops() >= 1, 30_000, `${name} to drop the SYN`);
        expect(blockedAccepted, 'connections accepted on the blocked port').to.equal(0);
        expect(b.readyState).to.equal('opening');
        b.destroy();
        // The client has no module: nothing counted there.
        expect(client.stats().dataPath.hooks.ingressDrop).to.deep.equal({});
        echo.close();
        blocked.close();
      } finally {
        for (const s of stacks.reverse()) await s.close();
        wire.close();
      }
    });
  }

  for (const [label, base] of [CASES[1]!, CASES[3]!]) {
    it(`${label}: a module file that makes no module fails createStack naming the file`, async () => {
      const wire = createVirtualNetwork();
      try {
        let error: Error | null = null;
        try {
          const s = await createStack({
            ...base,
            port: wire.attach('10.31.0.1/24'),
            modules: [{ path: NOT_A_MODULE }],
          });
          await s.close();
        } catch (e) {
          error = e as Error;
        }
        expect(error?.message).to.include(NOT_A_MODULE);
        expect(error?.message).to.match(/exports no createModule/);
      } finally {
        wire.close();
      }
    });
  }
});
