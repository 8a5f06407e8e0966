/**
 * The scenario both module suites run (plain-JS and eBPF/XDP modules from config.modules): a
 * server stack with a module that drops received TCP segments for `blocked`, a client without
 * one. An echo on `open` goes through the module byte-exact; the client's SYNs to `blocked`
 * never reach the protocol stage and are counted under the module's name; the client counts
 * nothing.
 */
import { once } from 'node:events';
import { expect } from 'chai';
import type { FlexToeConfigInput, ModuleConfig } from '@flextoe/core';
import { createStack, createVirtualNetwork, type Stack } from '@flextoe/sockets';

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface FirewallScenario {
  /** The backend and its options (port and modules are the scenario's). */
  readonly base: FlexToeConfigInput;
  readonly modules: ModuleConfig[];
  /** The module's name, as its counters are keyed. */
  readonly name: string;
  /** The first three octets of the wire's subnet, e.g. '10.31.0'. */
  readonly subnet: string;
  readonly open: number;
  readonly blocked: number;
}

export async function runFirewallScenario(s: FirewallScenario): Promise<void> {
  const wire = createVirtualNetwork();
  const stacks: Stack[] = [];
  const serverIp = `${s.subnet}.1`;
  try {
    const server = await createStack({ ...s.base, port: wire.attach(`${serverIp}/24`), modules: s.modules });
    stacks.push(server);
    const client = await createStack({ ...s.base, port: wire.attach(`${s.subnet}.2/24`) });
    stacks.push(client);

    const echo = server.net.createServer((c) => void c.pipe(c));
    echo.listen(s.open);
    await once(echo, 'listening');
    let blockedAccepted = 0;
    const blocked = server.net.createServer(() => blockedAccepted++);
    blocked.listen(s.blocked);
    await once(blocked, 'listening');

    // Through the module (it passes everything else): byte-exact echo.
    const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 13) & 0xff));
    const c = client.net.connect(s.open, serverIp);
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    await once(c, 'connect');
    c.write(payload);
    await until(() => Buffer.concat(got).length >= payload.length, 60_000, 'the echo');
    expect(Buffer.concat(got).equals(payload), 'echo byte-exact').to.equal(true);
    c.destroy();

    // The blocked port: the SYN never reaches the protocol stage.
    const b = client.net.connect(s.blocked, serverIp);
    b.on('error', () => {});
    const drops = (): number => server.stats().dataPath.hooks.ingressDrop[s.name] ?? 0;
    await until(() => drops() >= 1, 60_000, `${s.name} to drop the SYN`);
    expect(blockedAccepted, 'connections accepted on the blocked port').to.equal(0);
    expect(b.readyState).to.equal('opening');
    b.destroy();
    // The client has no module: nothing counted there.
    expect(client.stats().dataPath.hooks.ingressDrop).to.deep.equal({});
    echo.close();
    blocked.close();
  } finally {
    for (const st of stacks.reverse()) await st.close();
    wire.close();
  }
}
