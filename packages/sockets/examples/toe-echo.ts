/**
 * The low-level API (FlexTOE's libTOE layer): an echo server that never copies a byte out of
 * the stack. Received bytes are read in place from the connection's RX ring, copied once into
 * its TX ring, and both are handed back with bumps ("appended N", "consumed N"); one poller (an
 * application context with its own event queue) watches every connection, level-triggered.
 *
 *   npx tsx packages/sockets/examples/toe-echo.ts --demo
 */
import { createToe, ToeEvent, type ToeConnection, type ToeListener } from '@flextoe/sockets';
import { clientStack, closeStack, exampleSetup, startStack, untilSignal } from './common.js';

const setup = exampleSetup('toe-echo', 7);
const stack = await startStack('toe-echo', setup); // createStack(setup.config), or one line and exit 1
const toe = createToe(stack);
const listener = toe.listen(setup.port);
const poller = toe.poller<ToeConnection | ToeListener>();
poller.add(listener, ToeEvent.Readable);
console.log(`toe-echo: listening on ${stack.address}:${setup.port} (backend ${stack.backend})`);

/** Copies `n` bytes between two pairs of ring views (each pair is split where its ring wraps). */
function copy(src: [Uint8Array, Uint8Array | null], dst: [Uint8Array, Uint8Array | null], n: number) {
  let [s, so, d, dOff] = [0, 0, 0, 0];
  while (n > 0) {
    const from = src[s]!;
    const to = dst[d]!;
    const k = Math.min(n, from.length - so, to.length - dOff);
    to.set(from.subarray(so, so + k), dOff);
    n -= k;
    so += k;
    dOff += k;
    if (so === from.length) [s, so] = [s + 1, 0];
    if (dOff === to.length) [d, dOff] = [d + 1, 0];
  }
}

let running = true;
const serving = (async () => {
  while (running) {
    for (const { target, events } of await poller.wait(100)) {
      if (target === listener) {
        for (let c = listener.accept(); c !== null; c = listener.accept()) poller.add(c, ToeEvent.Readable);
        continue;
      }
      const c = target as ToeConnection;
      if (events & ToeEvent.Hangup) continue; // closed: the poller already forgot it
      const n = Math.min(c.rxAvailable, c.txSpace);
      copy(c.rxBuffers(), c.txBuffers(), n);
      c.appended(n); // "I appended N bytes": the NIC sends them
      c.consumed(n); // "I consumed N bytes": the NIC reopens the window
      if (c.rxAvailable > 0)
        poller.modify(c, ToeEvent.Writable); // TX ring full: wait for space
      else if (c.eof) {
        c.shutdown(); // the peer is done and everything is echoed: FIN
        poller.modify(c, 0);
      } else poller.modify(c, ToeEvent.Readable);
    }
  }
})();

if (setup.demo) {
  const client = await clientStack(setup);
  const socket = client.net.connect(setup.port, stack.address); // the client may use net: same wire
  socket.end('zero-copy hello\n');
  let reply = '';
  for await (const chunk of socket) reply += chunk;
  console.log(`toe-echo: the client got back ${JSON.stringify(reply)}`);
  await client.close();
} else {
  await untilSignal();
}
running = false;
await serving;
listener.close();
poller.close();
await closeStack(stack);
