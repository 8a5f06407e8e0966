/**
 * Test helpers for the threaded stack's specs: a whole-connection exchange between two stacks
 * (each side writes its bytes, then FIN, and collects what arrives until the peer's FIN).
 */
import type { Connection } from '@flextoe/core';
import type { ThreadedStack } from './threaded-stack.js';

/** Sends `data` on `c` (then FIN) and collects what arrives; resolves at the peer's FIN. */
export function exchange(c: Connection, data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let off = 0;
  const push = (): void => {
    while (off < data.length && c.canWrite) {
      const n = c.write(data, off);
      if (n === 0) break;
      off += n;
    }
    if (off === data.length && c.canWrite) c.shutdown();
  };
  return new Promise((resolve) => {
    c.handlers.onWritable = push;
    c.handlers.onReadable = (x) => {
      const got = x.read();
      if (got) chunks.push(got);
    };
    c.handlers.onEnd = () => resolve(Buffer.concat(chunks));
    if (c.canWrite) push();
    else c.handlers.onConnect = push;
  });
}

/** `b` connects to `a` (10.0.0.1) on `port`; `up` goes b -> a and `down` a -> b at once. */
export async function transfer(a: ThreadedStack, b: ThreadedStack, port: number, up: Buffer, down: Buffer) {
  let server!: Promise<Buffer>;
  const accepted = new Promise<void>((resolve) =>
    a.listen(port, (s) => {
      server = exchange(s, down);
      resolve();
    }),
  );
  const client = exchange(b.connect('10.0.0.1', port), up);
  await accepted;
  const [atServer, atClient] = await Promise.all([server, client]);
  return { atServer, atClient };
}
