/**
 * Single-connection RPC echo on the in-process wire, both stacks in this process: the shape of
 * the bench's rpc-echo (64 B, depth 1) without the bench, to see one placement's round trip.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json node --conditions=source --import tsx \
 *     packages/backend-x86/scripts/rpc-latency.ts [placement=run-to-completion] [seconds=2] [bytes=64]
 *
 * HOSTSPIN=<us> sets x86.hostSpinUs (0: the host sleeps as soon as it is idle). Prefix the
 * command with `chrt -f 1` (root) to keep other processes from delaying the threads' wakeups:
 * on a shared machine that separates what the code costs from what the scheduler adds
 * (threads/README.md, "Idle back-off").
 *
 * Prints requests per second and the p50/p99 round trip. Indicative only: `npm run bench` is
 * where speed is measured; this is for finding where a round trip's time goes.
 */
import { registerVirtualWire, resolveConfig, unregisterVirtualWire, type Connection } from '@flextoe/core';
import { backend } from '../src/index.js';

const placement = process.argv[2] ?? 'run-to-completion';
const seconds = Number(process.argv[3] ?? 2);
const size = Number(process.argv[4] ?? 64);

async function main(): Promise<void> {
  // The stacks do not hold the process open by themselves (Node semantics: only an application's
  // servers and sockets do); this run does.
  const hold = setInterval(() => {}, 1000);
  const wire = registerVirtualWire({});
  const config = (ip: string) =>
    resolveConfig(
      {
        backend: 'x86',
        port: { driver: 'virtual', network: wire, ip },
        x86: { placement, ...(process.env.HOSTSPIN ? { hostSpinUs: Number(process.env.HOSTSPIN) } : {}) },
      },
      { argv: [], env: {}, cwd: '/' },
    ).config;
  const server = await backend.createStack(config('10.7.0.1/24'));
  const client = await backend.createStack(config('10.7.0.2/24'));
  server.listen(7, (c) => {
    c.handlers.onReadable = (conn) => {
      const b = conn.read();
      if (b !== null) conn.write(b);
    };
  });
  const request = Buffer.alloc(size, 0x61);
  const rtts: number[] = [];
  let rx = 0;
  let sentAt = 0;
  let warm = true;
  let end = 0;
  await new Promise<void>((resolve, reject) => {
    const send = (c: Connection): void => {
      sentAt = performance.now();
      c.write(request);
    };
    client.connect('10.7.0.1', 7, {
      onConnect: (c) => {
        setTimeout(() => {
          warm = false;
          rtts.length = 0;
          end = performance.now() + seconds * 1000;
        }, 300);
        end = Infinity;
        send(c);
      },
      onReadable: (c) => {
        const b = c.read();
        rx += b?.length ?? 0;
        while (rx >= size) {
          rx -= size;
          const now = performance.now();
          if (!warm) rtts.push(now - sentAt);
          if (now >= end) {
            resolve();
            return;
          }
          send(c);
        }
      },
      onClose: (_c, err) => reject(err ?? new Error('closed')),
    });
  });
  rtts.sort((a, b) => a - b);
  const q = (p: number): string =>
    (rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]! * 1000).toFixed(0);
  console.log(
    `${placement}: ${(rtts.length / seconds).toFixed(0)} RPC/s, p50 ${q(0.5)} us, p99 ${q(0.99)} us, ` +
      `min ${q(0)} us (${rtts.length} requests, ${size} B)`,
  );
  await client.close();
  await server.close();
  unregisterVirtualWire(wire);
  clearInterval(hold);
}

await main();
