/**
 * A memcached-protocol (text) key-value server on a FlexTOE stack: bounded memory with LRU
 * eviction, every storage and retrieval command, noreply, stats.
 *
 *   npx tsx packages/sockets/examples/kv.ts --demo
 *   npx tsx packages/sockets/examples/kv.ts --port-config '{"driver":"tap","ifname":"ftoe0","ip":"10.0.0.1/24"}'
 *   memcslap --servers=10.0.0.1:11211 --test=get         (a tap port, from the host)
 *
 * With --demo a second stack on the same virtual wire stores and reads back a value.
 */
import { createKvServer, listenServer } from '@flextoe/sockets';
import { clientStack, closeStack, exampleSetup, startStack, untilSignal } from './common.js';

const setup = exampleSetup('kv', 11211);
const stack = await startStack('kv', setup); // createStack(setup.config), or one line and exit 1
const kv = createKvServer(stack.net, { maxBytes: 64 * 1024 * 1024 });
await listenServer(kv.server, setup.port);
console.log(`kv: memcached text protocol on ${stack.address}:${setup.port} (backend ${stack.backend})`);

if (setup.demo) {
  const client = await clientStack(setup);
  const socket = client.net.connect(setup.port, stack.address);
  socket.write('set greeting 0 0 14\r\nhello, FlexTOE\r\nget greeting\r\nquit\r\n');
  let reply = '';
  for await (const chunk of socket) reply += chunk; // quit: the server closes after replying
  console.log(`kv: set + get + quit answered:\n${reply.trimEnd()}`);
  await client.close();
} else {
  await untilSignal();
}
kv.server.close();
await closeStack(stack);
