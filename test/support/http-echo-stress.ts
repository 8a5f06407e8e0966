/**
 * A liveness stress, run by hand (not part of `npm test`): Node's http server on one x86 stack,
 * and a loop of POST /sha256 (http.request) and POST /echo (undici) of 1 MiB each from a second
 * stack on the virtual wire. Both ends' buffers fill at once, which is what found the window-edge
 * and zero-window-ACK deadlock (core protocol.ts). Prints every iteration whose protocol drops or
 * retransmissions changed, or that took over 400 ms; on a 15 s stall it dumps both stacks'
 * connections (TCP state from the NIC's flow records, socket state) and exits 3.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json node --conditions=source --import tsx \
 *     test/support/http-echo-stress.ts [iterations]
 *   WIRE='{"loss":0.01,"reorder":0.02,"seed":5}'            faults on the virtual wire
 *   X86='{"placement":"parallel","cores":2,"graph":{"pre":1}}' the x86 config for both stacks
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Client } from 'undici';
import {
  createHttpServer,
  createStack,
  createVirtualNetwork,
  listenServer,
  type Stack,
} from '@flextoe/sockets';

const MiB = 1 << 20;
const iterations = Number(process.argv[2] ?? 100);
const network = createVirtualNetwork(JSON.parse(process.env.WIRE ?? '{}'));
const x86: unknown = JSON.parse(process.env.X86 ?? 'null');
const opts = { argv: [], env: {}, cwd: process.cwd() };
const config = (ip: string) => ({ backend: 'x86', port: network.attach(ip), ...(x86 ? { x86 } : {}) });
const server = await createStack(config('10.0.0.1/24') as Parameters<typeof createStack>[0], opts);
const client = await createStack(config('10.0.0.2/24') as Parameters<typeof createStack>[0], opts);
const app = createHttpServer(server.net as never, { stats: () => server.stats() });
await listenServer(app.server, 0);
const port = (app.server.address() as { port: number }).port;
const connect = () => client.net.connect(port, server.address) as unknown as Socket;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function digest(
  body: AsyncIterable<Uint8Array>,
): Promise<{ bytes: number; sha: string; head: Buffer }> {
  const h = createHash('sha256');
  let bytes = 0;
  const keep: Buffer[] = [];
  for await (const c of body) {
    h.update(c);
    bytes += c.length;
    if (bytes <= 65536) keep.push(Buffer.from(c));
  }
  return { bytes, sha: h.digest('hex'), head: Buffer.concat(keep) };
}

function postSha256(body: Buffer): Promise<{ bytes: number; sha: string; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method: 'POST',
        path: '/sha256',
        createConnection: connect,
        headers: { 'content-length': body.length },
      },
      (res) => digest(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What each stack's protocol stage dropped and retransmitted. */
const losses = () =>
  JSON.stringify(
    [server, client].map((s) => {
      const p = s.stats().dataPath.protocol;
      return [p.drops, p.fastRetransmits, p.timeoutRetransmits];
    }),
  );

/** Every connection of `s`: host state and the NIC's flow record. */
function dump(name: string, s: Stack): void {
  // The x86 stack's control plane and its view of the flow tables (diagnostics only).
  const cp = (s.backendStack as unknown as { control: DumpControl }).control;
  for (const c of cp.connections.values()) {
    const o: Record<string, unknown> = {
      state: c.state,
      flow: c.flowId,
      readable: c.readableLength,
      txQueued: c.txQueued,
    };
    if (c.flowId >= 0) {
      const r = cp.dp.tables.protocol.at(c.flowId) as unknown as Record<string, number>;
      for (const k of [
        'flags',
        'sndNxt',
        'sndMax',
        'txSent',
        'txAvail',
        'sndWnd',
        'rcvNxt',
        'rxAvail',
        'rcvAdv',
      ])
        o[k] = r[k];
    }
    console.log(name, JSON.stringify(o));
  }
}
interface DumpControl {
  connections: Map<string, { state: string; flowId: number; readableLength: number; txQueued: number }>;
  dp: { tables: { protocol: { at(flow: number): unknown } } };
}

let phase = '';
let progress = Date.now();
const watchdog = setInterval(() => {
  if (Date.now() - progress < 15_000) return;
  console.log('STALL in', phase);
  dump('server', server);
  dump('client', client);
  process.exit(3);
}, 1000);

const t0 = Date.now();
for (let i = 0; i < iterations; i++) {
  const started = Date.now();
  const before = losses();
  const up = randomBytes(MiB);
  phase = `iteration ${i}: POST /sha256`;
  const hashed = await postSha256(up);
  if (JSON.parse(hashed.head.toString()).sha256 !== sha(up)) throw new Error(`${phase}: wrong digest`);
  phase = `iteration ${i}: POST /echo`;
  const undici = new Client(`http://${server.address}:${port}`, {
    connect: (_o, cb) => {
      const s = connect();
      s.once('connect', () => cb(null, s));
      s.once('error', (e: Error) => cb(e, null));
    },
  });
  const res = await undici.request({ method: 'POST', path: '/echo', body: up });
  const echoed = await digest(res.body);
  if (echoed.bytes !== MiB || echoed.sha !== sha(up)) throw new Error(`${phase}: echo differs`);
  await undici.close();
  progress = Date.now();
  const after = losses();
  if (after !== before || progress - started > 400)
    console.log(`iteration ${i}: ${progress - started} ms ${after}`);
}
clearInterval(watchdog);
console.log(`${iterations} iterations in ${Date.now() - t0} ms; drops and retransmits ${losses()}`);
await app.close();
await Promise.all([client.close(), server.close()]);
network.close();
