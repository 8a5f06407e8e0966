// The Linux side of the byte-exact interop transfers: Node's own `net` (the kernel's TCP) run
// inside the test's network namespace with `ip netns exec <ns> node tcp-peer.mjs ...`.
//
//   node tcp-peer.mjs listen <ip> <port> <sendBytes> <seed>
//   node tcp-peer.mjs connect <ip> <port> <sendBytes> <seed>
//
// On one connection it sends `sendBytes` of the seeded pattern (see pattern() below; the test
// has the same generator) then half-closes, while it reads everything the other side sends,
// hashing it. When both directions are done it prints one JSON line:
//   {"received":N,"receivedSha256":"..","sent":N,"sentSha256":".."}
// and exits 0. In listen mode it first prints {"listening":true}. Errors print {"error":".."}
// and exit 1.
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash } from 'node:crypto';
import net from 'node:net';

const [mode, host, portText, sendText, seed] = process.argv.slice(2);
const port = Number(portText);
const sendBytes = Number(sendText);

/** The seeded byte stream: AES-128-CTR keystream, key = SHA-256(seed)[0..16), IV 0. */
function pattern(seedText) {
  const key = createHash('sha256').update(String(seedText)).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  return (n) => cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
}

/** Prints one JSON line, then exits once it is written (stdout to a pipe is asynchronous). */
let reported = false;
function report(obj, code) {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify(obj)}\n`, () => process.exit(code));
}

function fail(err) {
  report({ error: String(err?.message ?? err) }, 1);
}

function exchange(socket) {
  const rx = createHash('sha256');
  const tx = createHash('sha256');
  let received = 0;
  let sent = 0;
  let readDone = false;
  let writeDone = false;
  const next = pattern(seed);
  const finish = () => {
    if (!readDone || !writeDone) return;
    const result = { received, receivedSha256: rx.digest('hex'), sent, sentSha256: tx.digest('hex') };
    socket.destroy();
    report(result, 0);
  };
  socket.on('data', (d) => {
    received += d.length;
    rx.update(d);
  });
  socket.on('end', () => {
    readDone = true;
    finish();
  });
  socket.on('error', fail);
  socket.on('close', () =>
    fail(`connection closed early: received ${received} B, sent ${sent} of ${sendBytes} B`),
  );
  const pump = () => {
    while (sent < sendBytes) {
      const chunk = next(Math.min(64 * 1024, sendBytes - sent));
      tx.update(chunk);
      sent += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end(() => {
      writeDone = true;
      finish();
    });
  };
  pump();
}

if (mode === 'listen') {
  // Half-open allowed: the other side may finish sending (FIN) long before we do.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    server.close();
    exchange(socket);
  });
  server.on('error', fail);
  server.listen(port, host, () => process.stdout.write(`${JSON.stringify({ listening: true })}\n`));
} else if (mode === 'connect') {
  const socket = net.connect({ port, host, allowHalfOpen: true }, () => exchange(socket));
  socket.on('error', fail);
} else {
  fail(`unknown mode ${mode}`);
}
