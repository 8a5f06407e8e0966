/**
 * Single-connection RPC echo against the Linux kernel over DPDK net_af_packet (a veth into a
 * network namespace this script creates and removes; root, the DPDK addon): our stack on
 * run-to-completion with the port's bursts on the host thread (bridged) or on the NIC core.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json node --conditions=source --import tsx \
 *     packages/backend-x86/scripts/dpdk-rpc-latency.ts [host|nic-core]
 *
 * Indicative only (threads/README.md, Figures); `npm run bench` measures speed.
 */
import { resolveConfig, type Connection } from '@flextoe/core';
import { backend } from '../src/index.js';
import { DPDK_AF_PACKET, PEER_IP } from '../../../test/interop/harness/drivers.js';
import { Sandbox } from '../../../test/interop/harness/sandbox.js';

const portThread = process.argv[2] ?? 'host';
const seconds = 2;
const hold = setInterval(() => {}, 1000);
const sandbox = Sandbox.create('lat');
try {
  const wire = DPDK_AF_PACKET.wire(sandbox);
  const echo = sandbox.spawn('node', [
    '-e',
    `require('net').createServer((s) => { s.setNoDelay(true); s.pipe(s); }).listen(7007, '${PEER_IP}', () => console.log('up'))`,
  ]);
  await new Promise((r) => echo.stdout!.once('data', r));
  const stack = await backend.createStack(
    resolveConfig(
      { backend: 'x86', port: wire.port, x86: { placement: 'run-to-completion', portThread } },
      { argv: [], env: {}, cwd: '/' },
    ).config,
  );
  const req = Buffer.alloc(64, 0x61);
  const rtts: number[] = [];
  let rx = 0,
    sentAt = 0,
    end = Infinity,
    warm = true;
  await new Promise<void>((resolve, reject) => {
    const send = (c: Connection) => {
      sentAt = performance.now();
      c.write(req);
    };
    stack.connect(PEER_IP, 7007, {
      onConnect: (c) => {
        setTimeout(() => {
          warm = false;
          rtts.length = 0;
          end = performance.now() + seconds * 1000;
        }, 300);
        send(c);
      },
      onReadable: (c) => {
        rx += c.read()?.length ?? 0;
        while (rx >= 64) {
          rx -= 64;
          const now = performance.now();
          if (!warm) rtts.push(now - sentAt);
          if (now >= end) return resolve();
          send(c);
        }
      },
      onClose: (_c, e) => reject(e ?? new Error('closed')),
    });
  });
  rtts.sort((a, b) => a - b);
  const q = (p: number) => (rtts[Math.floor(p * (rtts.length - 1))]! * 1000).toFixed(0);
  console.log(
    `dpdk af_packet, portThread ${portThread}: ${(rtts.length / seconds).toFixed(0)} RPC/s, p50 ${q(0.5)} us, p99 ${q(0.99)} us, min ${q(0)} us`,
  );
  await stack.close();
} finally {
  await sandbox.close();
  clearInterval(hold);
}
