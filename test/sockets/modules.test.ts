/**
 * User modules from the configuration (`config.modules`) on every backend: the same JavaScript
 * file, loaded where each backend runs its data path (the application's thread inline and in the
 * simulators, every NIC-core worker thread on x86), drops received TCP segments for one port.
 * A connection to another port works byte-exact through the same data path; the dropped SYNs
 * are counted under the module's name; a bad module fails `createStack` with its path named.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { FlexToeConfigInput } from '@flextoe/core';
import { createStack, createVirtualNetwork } from '@flextoe/sockets';
import { runFirewallScenario } from './module-scenario.js';

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

describe('data-path modules from the configuration (config.modules)', function () {
  this.timeout(60_000);

  for (const [label, base] of CASES) {
    it(`${label}: the module drops what it is asked to, counted under its name; other traffic flows`, () =>
      runFirewallScenario({
        base,
        modules: [{ path: DROP, options: { port: BLOCKED } }],
        name: `drop-tcp-${BLOCKED}`,
        subnet: '10.31.0',
        open: OPEN,
        blocked: BLOCKED,
      }));
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
