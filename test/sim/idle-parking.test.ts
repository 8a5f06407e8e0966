// An idle pair of simulated NICs in virtual time parks: once nothing but the stacks' own
// periodic control loop (a tick every millisecond, each ending in a kick of its stack) has
// happened for 120 simulated seconds, the engine stops and holds no handles. Regression: those
// kicks used to count as application activity, so an idle stack ticked through simulated time
// forever, burning a core. The connection outlives the parking: data sent afterwards arrives.
import { expect } from 'chai';
import { registerVirtualWire, resolveConfig, unregisterVirtualWire, type Connection } from '@flextoe/core';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { createSimStack, type SimBackendStack } from '@flextoe/sim';

/** Resolves once the engine's clock has not moved for a while of wall time. */
async function parked(s: SimBackendStack, wallLimitMs = 60_000): Promise<void> {
  const end = Date.now() + wallLimitMs;
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = s.engine.nowPs;
    if (now === last) return;
    last = now;
    if (Date.now() > end) throw new Error(`still running at ${now / 1e12} simulated s`);
  }
}

describe('simulated NICs in virtual time, idle', function () {
  this.timeout(120_000);

  it('park 120 simulated seconds after the last activity, and wake when the application writes', async () => {
    const wire = registerVirtualWire({}, `idle-parking-${process.pid}`);
    const config = (ip: string) =>
      resolveConfig(
        { backend: 'agilio-sim', timeMode: 'virtual', port: { driver: 'virtual', network: wire, ip } },
        { env: {} },
      ).config;
    const spec = agilioSpec(agilioParams({}));
    const server = await createSimStack('agilio-sim', config('10.78.0.1/24'), spec);
    const client = await createSimStack('agilio-sim', config('10.78.0.2/24'), spec);
    try {
      let received = 0;
      server.listen(80, (c) => {
        c.handlers.onReadable = (x) => {
          received += x.readableLength;
          x.consume(x.readableLength);
        };
      });
      const conn = await new Promise<Connection>((resolve) => {
        const c = client.connect('10.78.0.1', 80, { onConnect: () => resolve(c) });
      });
      const engine = client.engine;
      const connectedAt = engine.nowPs;
      const events0 = engine.eventsRun;
      await parked(client);
      const idleS = (engine.nowPs - connectedAt) / 1e12;
      // The last tick within 120 s of the handshake's last frame (a few ms before onConnect
      // returned here), not beyond.
      expect(idleS).to.be.within(119.9, 120.001);
      // Both control loops ticked all along (every millisecond each).
      expect(engine.eventsRun - events0).to.be.greaterThan(2 * 119_000);
      // Parked, not stuck: the application's write wakes it and the data arrives.
      conn.write(Buffer.alloc(1000, 7));
      const deadline = Date.now() + 10_000;
      while (received < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received).to.equal(1000);
    } finally {
      await client.close();
      await server.close();
      unregisterVirtualWire(wire);
    }
  });
});
