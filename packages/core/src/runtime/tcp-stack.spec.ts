import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { fixedIsn } from '../control/isn.js';
import { TcpState } from '../control/tcp-state.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { Prng } from '../util/prng.js';
import type { Connection } from './connection.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { TcpStack, type TcpStackOptions } from './tcp-stack.js';
import { runVirtual } from './virtual-time.js';

function pair(extra: Partial<TcpStackOptions> = {}) {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock });
  const mk = (ip: string) =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { ip, maxFlows: 64, minRtoMs: 5, synRtoMs: 50, timeWaitMs: 100, controlTickUs: 100, ...extra },
    );
  const a = mk('10.0.0.1/24');
  const b = mk('10.0.0.2/24');
  return {
    clock,
    net,
    a,
    b,
    run: (done: () => boolean, limitMs = 60_000) => runVirtual([a, b], clock, done, limitMs * 1e6),
  };
}

function randomBytes(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r.nextU32() & 0xff;
  return b;
}

/** Pumps `data` into `c` as ring space frees; collects what the peer reads. */
function sink(c: Connection, into: Buffer[]): void {
  c.handlers.onReadable = (x) => {
    const chunk = x.read();
    if (chunk) into.push(chunk);
  };
}

function pump(c: Connection, data: Buffer, closeAfter = true): () => boolean {
  let off = 0;
  const push = (): void => {
    while (off < data.length && c.canWrite) {
      const n = c.write(data, off);
      if (n === 0) break;
      off += n;
    }
    if (off === data.length && closeAfter && !c.txShut) c.shutdown();
  };
  c.handlers.onWritable = push;
  push();
  return () => off === data.length;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('TcpStack over the virtual wire (inline runner, virtual time)', () => {
  it('completes the three-way handshake both sides', () => {
    const { a, b, run } = pair();
    let accepted: Connection | null = null;
    a.listen(7, (c) => (accepted = c));
    const c = b.connect('10.0.0.1', 7);
    expect(run(() => c.state === TcpState.Established && accepted !== null)).to.equal(true);
    expect(accepted!.state).to.equal(TcpState.Established);
    expect(accepted!.remotePort).to.equal(c.localPort);
  });

  it('rejects an MSS the port cannot carry, naming the limit', () => {
    const clock = new ManualClock();
    const port = new VirtualNetwork({ clock, timers: clock }).attach();
    const hw = { port, dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() };
    expect(() => new TcpStack(hw, { ip: '10.0.0.9/24', mss: 9000 })).to.throw(
      RangeError,
      /mss is 9000 but must be 64\.\.\d+/,
    );
  });

  it('refuses a connection to a closed port with ECONNREFUSED', () => {
    const { b, a, run } = pair();
    void a;
    let err: string | undefined;
    b.connect('10.0.0.1', 9, { onClose: (_c, e) => (err = e?.code) });
    expect(run(() => err !== undefined)).to.equal(true);
    expect(err).to.equal('ECONNREFUSED');
  });

  it('moves 1 MiB each way byte-exact and closes both sides', () => {
    const { a, b, run } = pair({ isn: fixedIsn(0xffff_f000) });
    const up = randomBytes(1 << 20, 1);
    const down = randomBytes(1 << 20, 2);
    const gotUp: Buffer[] = [];
    const gotDown: Buffer[] = [];
    let serverEnded = false;
    let clientEnded = false;
    a.listen(80, (s) => {
      sink(s, gotUp);
      s.handlers.onEnd = () => (serverEnded = true);
      pump(s, down);
    });
    const c = b.connect('10.0.0.1', 80);
    sink(c, gotDown);
    c.handlers.onEnd = () => (clientEnded = true);
    c.handlers.onConnect = () => pump(c, up);
    expect(run(() => serverEnded && clientEnded)).to.equal(true);
    expect(sha(Buffer.concat(gotUp))).to.equal(sha(up));
    expect(sha(Buffer.concat(gotDown))).to.equal(sha(down));
    // Both sides end up closed (one via TIME-WAIT).
    expect(run(() => a.control.connections.size === 0 && b.control.connections.size === 0)).to.equal(true);
  });

  it('regression: a reader freeing 100 B at a time from a 4 KiB buffer still gets full-sized segments (receiver SWS avoidance, RFC 9293 3.8.6.2.2)', () => {
    // Found by the BlueField model's bulk ablation: every ACK offered the few bytes the reader
    // had just freed and the sender filled each with a segment of that size.
    const { a, b, clock, run } = pair({ rxBufferBytes: 4096 });
    const data = randomBytes(256 * 1024, 3);
    const got: Buffer[] = [];
    let received = 0;
    a.listen(81, (s) => {
      const readSome = (): void => {
        const chunk = s.read(100);
        if (chunk) {
          got.push(chunk);
          received += chunk.length;
        }
        if (received < data.length) clock.schedule(2_000, readSome);
      };
      clock.schedule(2_000, readSome);
    });
    const c = b.connect('10.0.0.1', 81);
    c.handlers.onConnect = () => pump(c, data, false);
    expect(run(() => received === data.length)).to.equal(true);
    expect(sha(Buffer.concat(got))).to.equal(sha(data));
    const segments = b.dataPath.counters.dataSegments;
    // min(4096 / 2, MSS 1448): the window opens a segment's worth at a time. A few short ones
    // remain legitimate (the persist probe, the end of the data).
    expect(data.length / segments, `${segments} data segments`).to.be.above(1200);
  });
});
