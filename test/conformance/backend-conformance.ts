/**
 * The conformance scenarios every backend runs through the one contract it offers
 * (`Backend.createStack` -> `BackendStack`, packages/core/src/runtime/stack-api.ts), on the
 * named in-process wire with seeded faults, on the event loop as applications see it:
 * handshake, refused connect, half-close in both directions, abort (RST), and transfers both
 * ways under the core's fault profiles, checked byte-exact by SHA-256.
 *
 * A backend's test file calls `describeBackendConformance(name)`; the core's own virtual-time
 * suite (transfer-profiles.spec.ts, rfc9293-states.spec.ts) stays the protocol reference.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  Prng,
  resolveConfig,
  type BackendName,
  type BackendStack,
  type Connection,
  type FlexToeConfigInput,
  type TcpError,
} from '@flextoe/core';
import { createVirtualNetwork, loadBackend, type VirtualNetworkOptions } from '@flextoe/sockets';

/** Bytes per direction per profile (real time: kept small for CI; FLEXTOE_CONFORMANCE_MIB overrides). */
export const CONFORMANCE_MIB = Number(process.env.FLEXTOE_CONFORMANCE_MIB ?? 4);

export const FAULT_PROFILES: Record<string, VirtualNetworkOptions> = {
  clean: {},
  'loss 1%': { loss: 0.01 },
  'loss 5%': { loss: 0.05 },
  reordering: { reorder: 0.02 },
  'duplication 1%': { duplicate: 0.01 },
  'corruption 0.1%': { corrupt: 0.001 },
  mix: { loss: 0.01, reorder: 0.01, duplicate: 0.01, corrupt: 0.001 },
};

export function patternBytes(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(r.nextU32(), i);
  for (let i = n & ~3; i < n; i++) b[i] = r.nextU32() & 0xff;
  return b;
}

export interface ConformanceOptions {
  /** Extra config for both stacks (e.g. `timeMode`, backend-specific objects). */
  readonly config?: FlexToeConfigInput;
  /** The peer's backend (default: the same one). */
  readonly peer?: BackendName;
  readonly mib?: number;
}

/** Two stacks on a fresh wire: `a` at 10.0.0.1, `b` at 10.0.0.2. */
export async function stackPair(
  backend: BackendName,
  wireOptions: VirtualNetworkOptions,
  options: ConformanceOptions = {},
): Promise<{ a: BackendStack; b: BackendStack; close(): Promise<void> }> {
  const wire = createVirtualNetwork(wireOptions);
  const make = async (name: BackendName, ip: string): Promise<BackendStack> =>
    (await loadBackend(name)).createStack(
      resolveConfig({ ...options.config, backend: name, port: wire.attach(ip) }, { env: {} }).config,
    );
  const a = await make(backend, '10.0.0.1/24');
  const b = await make(options.peer ?? backend, '10.0.0.2/24');
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      wire.close();
    },
  };
}

/** Resolves when `cond()` holds, checking after every turn of the event loop; rejects after `ms`. */
export function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(check, 1);
    };
    check();
  });
}

/** Sends `data` then FIN; hashes what arrives; `done` once the peer's FIN is in. */
class Transfer {
  readonly hash = createHash('sha256');
  received = 0;
  ended = false;
  closedWith: TcpError | undefined | null = null;
  private sent = 0;

  constructor(
    readonly c: Connection,
    private readonly data: Buffer,
  ) {
    c.handlers.onWritable = () => this.push();
    c.handlers.onReadable = (x) => {
      const [p, q] = x.peek();
      this.hash.update(p);
      if (q) this.hash.update(q);
      const n = p.length + (q ? q.length : 0);
      this.received += n;
      x.consume(n);
    };
    c.handlers.onEnd = () => (this.ended = true);
    c.handlers.onClose = (_c, err) => (this.closedWith = err);
  }

  push(): void {
    const c = this.c;
    while (this.sent < this.data.length && c.canWrite) {
      const n = c.write(this.data, this.sent);
      if (n === 0) break;
      this.sent += n;
    }
    if (this.sent === this.data.length && c.canWrite) c.shutdown();
  }
}

export function describeBackendConformance(backend: BackendName, options: ConformanceOptions = {}): void {
  const mib = options.mib ?? CONFORMANCE_MIB;
  const label = options.peer && options.peer !== backend ? `${backend} <-> ${options.peer}` : backend;

  describe(`conformance: ${label}`, function () {
    this.timeout(300_000);

    it('handshake, then both sides see the other address and port', async () => {
      const { a, b, close } = await stackPair(backend, {}, options);
      try {
        let server: Connection | null = null;
        a.listen(80, (c) => (server = c));
        let connected = false;
        const c = b.connect('10.0.0.1', 80, { onConnect: () => (connected = true) });
        await until(() => connected && server !== null, 10_000, 'the handshake');
        expect(c.remotePort).to.equal(80);
        expect(server!.remoteIp).to.equal(b.localIp);
        expect(server!.remotePort).to.equal(c.localPort);
      } finally {
        await close();
      }
    });

    it('a connect to a closed port is refused (RST): ECONNREFUSED', async () => {
      const { b, close } = await stackPair(backend, {}, options);
      try {
        let err: TcpError | undefined | null = null;
        b.connect('10.0.0.1', 81, { onClose: (_c, e) => (err = e) });
        await until(() => err !== null, 10_000, 'the refusal');
        expect(err).to.have.property('code', 'ECONNREFUSED');
      } finally {
        await close();
      }
    });

    // Regression: a request + FIN sent right after connect raced the handshake's last ACK in one
    // burst; the control plane dropped them (no-flow exception), and the FIN overtook the data.
    it('half-close: data keeps flowing towards the side that sent FIN', async () => {
      const { a, b, close } = await stackPair(backend, {}, options);
      try {
        const reply = patternBytes(100_000, 5);
        let server: Transfer | null = null;
        a.listen(82, (c) => (server = new Transfer(c, reply)));
        const client = new Transfer(
          b.connect('10.0.0.1', 82, { onConnect: () => client.push() }),
          Buffer.from('request'),
        );
        // The client's FIN arrives first; the server still sends its whole reply, then FIN.
        await until(() => server !== null && server.ended, 10_000, "the client's FIN at the server");
        server!.push();
        await until(() => client.ended, 20_000, "the server's FIN at the client");
        expect(client.received).to.equal(reply.length);
        expect(client.hash.digest('hex')).to.equal(createHash('sha256').update(reply).digest('hex'));
        await until(() => client.closedWith !== null && server!.closedWith !== null, 10_000, 'both closed');
        expect(client.closedWith).to.equal(undefined);
      } finally {
        await close();
      }
    });

    it('abort sends RST: the peer closes with ECONNRESET', async () => {
      const { a, b, close } = await stackPair(backend, {}, options);
      try {
        let server: Connection | null = null;
        let serverErr: TcpError | undefined | null = null;
        a.listen(83, (c) => {
          server = c;
          c.handlers.onClose = (_c, e) => (serverErr = e);
        });
        let connected = false;
        const c = b.connect('10.0.0.1', 83, { onConnect: () => (connected = true) });
        await until(() => connected && server !== null, 10_000, 'the handshake');
        c.abort();
        await until(() => serverErr !== null, 10_000, 'the RST at the server');
        expect(serverErr).to.have.property('code', 'ECONNRESET');
      } finally {
        await close();
      }
    });

    const up = patternBytes(mib << 20, 11);
    const down = patternBytes(mib << 20, 12);
    const upHash = createHash('sha256').update(up).digest('hex');
    const downHash = createHash('sha256').update(down).digest('hex');
    for (const [profile, faults] of Object.entries(FAULT_PROFILES)) {
      it(`${profile}: ${mib} MiB each way, byte-exact`, async () => {
        const { a, b, close } = await stackPair(backend, { ...faults, seed: 7 }, options);
        try {
          let server = null as Transfer | null;
          a.listen(5001, (c) => {
            server = new Transfer(c, down);
            server.push();
          });
          const client: Transfer = new Transfer(
            b.connect('10.0.0.1', 5001, { onConnect: () => client.push() }),
            up,
          );
          await until(
            () => client.ended && server !== null && server.ended,
            240_000,
            `both FINs (up ${server?.received ?? 0} / down ${client.received} B)`,
          );
          expect(server!.received).to.equal(up.length);
          expect(client.received).to.equal(down.length);
          expect(server!.hash.digest('hex')).to.equal(upHash);
          expect(client.hash.digest('hex')).to.equal(downHash);
          // The wire really impaired the transfer: the stacks recovered from what it did.
          const [sa, sb] = [a.stats().dataPath, b.stats().dataPath];
          const recovered = (s: typeof sa) => s.protocol.fastRetransmits + s.protocol.timeoutRetransmits;
          if (faults.loss) expect(recovered(sa) + recovered(sb), 'retransmissions').to.be.greaterThan(0);
          if (faults.corrupt) {
            const malformed = (s: typeof sa) => Object.values(s.pre.malformed).reduce((x, y) => x + y, 0);
            expect(malformed(sa) + malformed(sb), 'corrupt frames dropped').to.be.greaterThan(0);
          }
        } finally {
          await close();
        }
      });
    }
  });
}
