/**
 * Node's own HTTP server on a FlexTOE stack: `http.createServer()` parses, the stack's
 * `net.Server` accepts (`flexServer.on('connection', (s) => httpServer.emit('connection', s))`).
 *
 *   npx tsx packages/sockets/examples/http.ts --demo
 *   npx tsx packages/sockets/examples/http.ts --port-config '{"driver":"tap","ifname":"ftoe0","ip":"10.0.0.1/24"}'
 *   curl http://10.0.0.1/bytes/1000000 | sha256sum        (a tap port, from the host)
 *
 * With --demo a second stack on the same virtual wire fetches / and 1 MB with Node's http.get.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { createHttpServer, listenServer, patternSha256 } from '@flextoe/sockets';
import { clientStack, closeStack, exampleSetup, startStack, untilSignal } from './common.js';

const setup = exampleSetup('http', 80);
const stack = await startStack('http', setup); // createStack(setup.config), or one line and exit 1
const app = createHttpServer(stack.net, {
  stats: () => stack.stats(),
  description: `backend ${stack.backend}`,
});
await listenServer(app.server, setup.port);
console.log(`http: listening on ${stack.address}:${setup.port} (backend ${stack.backend})`);

if (setup.demo) {
  const client = await clientStack(setup);
  /** GET over a socket of the client stack: Node's http client, unchanged. */
  const get = (path: string) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.get(
        {
          host: stack.address,
          port: setup.port,
          path,
          createConnection: () => client.net.connect(setup.port, stack.address) as unknown as Socket,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
    });
  const index = await get('/');
  console.log(`http: GET / -> ${index.status}\n${index.body.toString()}`);
  const bytes = await get('/bytes/1000000?seed=1');
  const sha = createHash('sha256').update(bytes.body).digest('hex');
  const ok = sha === patternSha256(1, 1_000_000) ? 'matches' : 'DOES NOT match';
  console.log(
    `http: GET /bytes/1000000 -> ${bytes.status}, ${bytes.body.length} bytes, sha256 ${ok} the pattern`,
  );
  await client.close();
} else {
  await untilSignal();
}
await app.close();
await closeStack(stack);
