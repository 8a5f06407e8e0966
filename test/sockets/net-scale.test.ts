// 1 000 concurrent connections on one listener, each echoing its own message, on every backend
// that builds a stack: the listener's backlog, the flow table, the context queue and the net
// layer's bookkeeping at a thousand flows at once.
import { expect } from 'chai';
import { backendAvailability, stackPair, within, type StackPair } from './net-kit.js';

const CONNECTIONS = 1000;
const backends = (await backendAvailability()).filter((b) => b.usable);

for (const b of backends) {
  describe(`net at scale on ${b.name}`, function () {
    this.timeout(120_000);
    let pair: StackPair;
    beforeEach(async () => {
      // Small rings: 2 000 flows x 2 rings x 4 KiB, and short handshakes keep it quick.
      pair = await stackPair(b.name, { config: { stack: { rxBufferBytes: 4096, txBufferBytes: 4096 } } });
    });
    afterEach(async () => {
      await pair.close();
    });

    it(`${CONNECTIONS} concurrent connections each get their own message back, then all close cleanly`, async () => {
      const server = pair.a.net.createServer((s) => s.pipe(s));
      server.listen({ port: 7, backlog: CONNECTIONS });
      await new Promise((r) => server.once('listening', r));
      let peak = 0;
      server.on('connection', () => {
        server.getConnections((_e, n) => (peak = Math.max(peak, n)));
      });
      const results = await within(
        Promise.all(
          Array.from(
            { length: CONNECTIONS },
            (_, i) =>
              new Promise<{ sent: string; got: string; error: string | null }>((resolve) => {
                const sent = `message ${i} from client ${i * 7919}`;
                let got = '';
                let error: string | null = null;
                const c = pair.b.net.connect(7, '10.0.0.1', () => c.end(sent));
                c.on('data', (d: Buffer) => (got += d.toString()));
                c.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
                c.on('close', () => resolve({ sent, got, error }));
              }),
          ),
        ),
        90_000,
        `${CONNECTIONS} echo connections`,
      );
      const failed = results.filter((r) => r.error !== null || r.got !== r.sent);
      expect(failed.slice(0, 3), `${failed.length} of ${CONNECTIONS} failed`).to.deep.equal([]);
      expect(peak).to.be.greaterThan(1); // they really were concurrent
      const closed = new Promise((r) => server.close(r));
      await within(closed, 20_000, 'server close after every connection closed');
      expect(pair.a.stats().sockets.accepted).to.equal(CONNECTIONS);
      expect(pair.b.stats().sockets.open).to.equal(0);
      // The server's 'close' follows the sockets' destruction (Node); each socket's own 'close'
      // waits for the ACK of its FIN, so the last few are still closing: all of them must.
      await within(
        (async () => {
          while (pair.a.stats().sockets.open > 0) await new Promise((r) => setTimeout(r, 10));
        })(),
        20_000,
        'every server socket closed',
      );
    });
  });
}
