/**
 * An echo server (RFC 862) on a FlexTOE stack, written against Node's `net` API.
 *
 *   npx tsx packages/sockets/examples/echo.ts --demo
 *   npx tsx packages/sockets/examples/echo.ts --port-config '{"driver":"tap","ifname":"ftoe0","ip":"10.0.0.1/24"}'
 *
 * With --demo a second stack on the same virtual wire sends a line and prints the echo.
 */
import { createEchoServer, listenServer } from '@flextoe/sockets';
import { clientStack, closeStack, exampleSetup, startStack, untilSignal } from './common.js';

const setup = exampleSetup('echo', 7);
const stack = await startStack('echo', setup); // createStack(setup.config), or one line and exit 1
const server = createEchoServer(stack.net); // = stack.net.createServer((socket) => socket.pipe(socket))
await listenServer(server, setup.port);
console.log(`echo: listening on ${stack.address}:${setup.port} (backend ${stack.backend})`);

if (setup.demo) {
  const client = await clientStack(setup);
  const socket = client.net.connect(setup.port, stack.address);
  socket.end('hello, FlexTOE\n'); // half-close: the server echoes, then closes its side too
  let reply = '';
  for await (const chunk of socket) reply += chunk;
  console.log(`echo: the client sent "hello, FlexTOE\\n" and got back ${JSON.stringify(reply)}`);
  await client.close();
} else {
  await untilSignal();
}
server.close();
await closeStack(stack);
