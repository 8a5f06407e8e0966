// User modules at the data path's hook points (pipeline/hooks.ts): ingress before
// pre-processing, after the protocol stage, egress before the port. Two stacks on the virtual
// wire in virtual time; the modules parse real frames the stacks exchange.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { HookVerdict, type DataPathModule, type SegmentObservation } from '../pipeline/hooks.js';
import { SlowPathReason } from '../pipeline/slow-path.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { Prng } from '../util/prng.js';
import { TcpFlag } from '../wire/tcp.js';
import type { Connection } from './connection.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { TcpStack, type TcpStackOptions } from './tcp-stack.js';
import { runVirtual } from './virtual-time.js';

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;

/** Where the TCP header starts in an Ethernet/IPv4/TCP frame, or -1 for anything else. */
function tcpAt(f: PacketBuffer): number {
  const d = f.data;
  if (f.length < 34 || d.readUInt16BE(12) !== ETHERTYPE_IPV4 || d[23] !== IPPROTO_TCP) return -1;
  const at = 14 + (d[14]! & 0x0f) * 4;
  return f.length >= at + 20 ? at : -1;
}
const dstPort = (f: PacketBuffer, at: number): number => f.data.readUInt16BE(at + 2);
const tcpFlags = (f: PacketBuffer, at: number): number => f.data[at + 13]!;
const payloadBytes = (f: PacketBuffer, at: number): number => {
  const ipEnd = 14 + f.data.readUInt16BE(16);
  return ipEnd - at - (f.data[at + 12]! >> 4) * 4;
};

/** A firewall: drops TCP frames to the blocked local ports (a rule set, checked per frame). */
class PortFirewall implements DataPathModule {
  readonly name = 'firewall';
  constructor(private readonly blocked: ReadonlySet<number>) {}
  ingress(frame: PacketBuffer): HookVerdict {
    const at = tcpAt(frame);
    return at >= 0 && this.blocked.has(dstPort(frame, at)) ? HookVerdict.Drop : HookVerdict.Pass;
  }
}

/** Counts what every hook point sees (allocation-free: numbers on the module). */
class CountingModule implements DataPathModule {
  readonly name = 'counter';
  ingressFrames = 0;
  segments = 0;
  acceptedBytes = 0;
  egressFrames = 0;
  ingress(): HookVerdict {
    this.ingressFrames++;
    return HookVerdict.Pass;
  }
  afterProtocol(s: Readonly<SegmentObservation>): void {
    this.segments++;
    this.acceptedBytes += s.acceptedBytes;
  }
  egress(): HookVerdict.Pass {
    this.egressFrames++;
    return HookVerdict.Pass;
  }
}

function pair(a: Partial<TcpStackOptions> = {}, b: Partial<TcpStackOptions> = {}) {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock });
  const mk = (ip: string, extra: Partial<TcpStackOptions>) =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { ip, maxFlows: 16, minRtoMs: 5, synRtoMs: 50, timeWaitMs: 100, controlTickUs: 100, ...extra },
    );
  const sa = mk('10.0.0.1/24', a);
  const sb = mk('10.0.0.2/24', b);
  return {
    a: sa,
    b: sb,
    run: (done: () => boolean, limitMs = 60_000) => runVirtual([sa, sb], clock, done, limitMs * 1e6),
  };
}

function randomBytes(n: number, seed: number): Buffer {
  const r = new Prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = r.nextU32() & 0xff;
  return out;
}
const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

/** Sends `data` from `c` (then FIN); the server side collects into `got`. */
function send(c: Connection, data: Buffer): void {
  let off = 0;
  const push = (): void => {
    while (off < data.length && c.canWrite) {
      const n = c.write(data, off);
      if (n === 0) break;
      off += n;
    }
    if (off === data.length && !c.txShut) c.shutdown();
  };
  c.handlers.onWritable = push;
  push();
}

function collect(s: Connection, got: Buffer[]): void {
  s.handlers.onReadable = (x) => {
    const chunk = x.read();
    if (chunk) got.push(chunk);
  };
}

/** Moves `bytes` from b to a's listener on `port`; returns what a received and the client. */
function transfer(p: ReturnType<typeof pair>, port: number, bytes: number, seed = 1) {
  const data = randomBytes(bytes, seed);
  const got: Buffer[] = [];
  p.a.listen(port, (s) => collect(s, got));
  const c = p.b.connect('10.0.0.1', port);
  c.handlers.onConnect = () => send(c, data);
  expect(
    p.run(() => Buffer.concat(got).length === bytes),
    'transfer completes',
  ).to.equal(true);
  expect(sha(Buffer.concat(got))).to.equal(sha(data));
  return c;
}

describe('runtime/data-path hook points (user modules)', () => {
  describe('ingress', () => {
    it('a firewall module drops every frame to a blocked port: the connection attempt times out, drops counted by module, other ports unaffected', () => {
      // b's egress counts the SYNs it sends to port 9, to compare with a's ingress drops.
      let synsTo9 = 0;
      const synCounter: DataPathModule = {
        name: 'syn-counter',
        egress: (f) => {
          const at = tcpAt(f);
          if (at >= 0 && dstPort(f, at) === 9 && (tcpFlags(f, at) & TcpFlag.SYN) !== 0) synsTo9++;
          return HookVerdict.Pass;
        },
      };
      const p = pair({ modules: [new PortFirewall(new Set([9]))] }, { synRetries: 2, modules: [synCounter] });
      p.a.listen(9, () => expect.fail('the firewall let a connection through'));
      let err: string | undefined;
      p.b.connect('10.0.0.1', 9, { onClose: (_c, e) => (err = e?.code ?? 'none') });
      expect(p.run(() => err !== undefined)).to.equal(true);
      expect(err).to.equal('ETIMEDOUT');
      const stats = p.a.stats().dataPath;
      expect(synsTo9).to.equal(3); // the SYN and synRetries retransmissions
      expect(stats.hooks.ingressDrop).to.deep.equal({ firewall: synsTo9 });
      // Dropped before pre-processing: the control plane never saw a SYN for port 9.
      expect(stats.pre.slowPath['control-flags'] ?? 0).to.equal(0);
      expect(p.a.stats().control.synReceived).to.equal(0);
      // Port 7 is not in the rule set.
      transfer(p, 7, 64 * 1024);
      expect(p.a.stats().dataPath.hooks.ingressDrop).to.deep.equal({ firewall: synsTo9 });
    });

    it("a module that sends a port's frames to the control plane: counted under the module's slow-path reason; the host reinjects them and the transfer is byte-exact", () => {
      let diverted = 0;
      const classifier: DataPathModule = {
        name: 'classifier',
        ingress: (f) => {
          const at = tcpAt(f);
          if (at < 0 || dstPort(f, at) !== 9) return HookVerdict.Pass;
          diverted++;
          return HookVerdict.ToControlPlane;
        },
      };
      const p = pair({ modules: [classifier] });
      transfer(p, 9, 200_000);
      const stats = p.a.stats().dataPath;
      expect(diverted).to.be.above(100); // every segment of the connection, data and ACKs
      expect(stats.hooks.toControlPlane).to.deep.equal({ classifier: diverted });
      expect(stats.pre.slowPath.module).to.equal(diverted);
      expect(stats.pre.exceptionsDropped).to.equal(0);
      // The data segments still reached the protocol stage (through `reinject`).
      expect(stats.dma.toHostBytes).to.equal(200_000);
    });

    it('chains modules in order: the first verdict other than pass decides', () => {
      const seen: string[] = [];
      const first: DataPathModule = {
        name: 'first',
        ingress: (f) => {
          const at = tcpAt(f);
          if (at >= 0) seen.push('first'); // TCP frames only (ARP passes both)
          return at >= 0 && dstPort(f, at) === 9 ? HookVerdict.Drop : HookVerdict.Pass;
        },
      };
      const second: DataPathModule = {
        name: 'second',
        ingress: (f) => {
          if (tcpAt(f) >= 0) seen.push('second');
          return HookVerdict.Pass;
        },
      };
      const p = pair({ modules: [first, second] }, { synRetries: 0 });
      let err: string | undefined;
      p.b.connect('10.0.0.1', 9, { onClose: (_c, e) => (err = e?.code ?? 'none') });
      expect(p.run(() => err !== undefined)).to.equal(true);
      expect(seen).to.deep.equal(['first']); // the SYN: dropped by the first, never seen by the second
      expect(p.a.stats().dataPath.hooks.ingressDrop).to.deep.equal({ first: 1 });
      expect(p.a.dataPath.modules).to.deep.equal([first, second]);
      expect(p.a.dataPath.removeModule(first)).to.equal(true);
      expect(p.a.dataPath.modules).to.deep.equal([second]);
      expect(() => p.a.dataPath.installModule(second)).to.throw(/already installed/);
      expect(() => p.a.dataPath.installModule({ name: 'empty' })).to.throw(/no hook/);
    });
  });

  describe('all three points', () => {
    it('a counting module on both stacks sees exactly what the data paths count', () => {
      const ca = new CountingModule();
      const cb = new CountingModule();
      const p = pair({ modules: [ca] }, { modules: [cb] });
      transfer(p, 80, 300_000);
      for (const [stack, m] of [
        [p.a, ca],
        [p.b, cb],
      ] as const) {
        const c = stack.dataPath.counters;
        expect(m.ingressFrames).to.equal(c.rxFrames).and.to.be.above(50);
        expect(m.segments).to.equal(c.protocolRx).and.to.be.above(50);
        expect(m.acceptedBytes).to.equal(c.dmaToHostBytes);
        // Egress sees data, ACKs and the control plane's frames, before the port takes them.
        expect(m.egressFrames)
          .to.equal(c.txFrames + c.txDropped)
          .and.to.be.above(50);
      }
      expect(ca.acceptedBytes).to.equal(300_000);
    });
  });

  describe('egress', () => {
    it('an observing module sees SYN first, then the data in sequence order, then FIN', () => {
      const events: string[] = [];
      let bytes = 0;
      let lastSeq = -1;
      let inOrder = true;
      const observer: DataPathModule = {
        name: 'observer',
        egress: (f) => {
          const at = tcpAt(f);
          if (at < 0 || dstPort(f, at) !== 80) return HookVerdict.Pass;
          const flags = tcpFlags(f, at);
          const len = payloadBytes(f, at);
          if ((flags & TcpFlag.SYN) !== 0) events.push('SYN');
          if (len > 0) {
            const s = f.data.readUInt32BE(at + 4);
            if (lastSeq >= 0 && s !== lastSeq) inOrder = false;
            lastSeq = (s + len) >>> 0;
            bytes += len;
            if (events.at(-1) !== 'data') events.push('data');
          }
          if ((flags & TcpFlag.FIN) !== 0) events.push('FIN');
          return HookVerdict.Pass;
        },
      };
      const p = pair({}, { modules: [observer] });
      const c = transfer(p, 80, 100_000);
      expect(p.run(() => c.txShut && events.includes('FIN'))).to.equal(true);
      expect(events.slice(0, 3)).to.deep.equal(['SYN', 'data', 'FIN']);
      expect(bytes).to.equal(100_000); // a clean wire: no retransmission
      expect(inOrder).to.equal(true);
    });

    it('a module dropping every 50th data segment at egress: drops counted, TCP recovers byte-exact', () => {
      let dataSegments = 0;
      let dropped = 0;
      const lossy: DataPathModule = {
        name: 'lossy',
        egress: (f) => {
          const at = tcpAt(f);
          if (at < 0 || payloadBytes(f, at) === 0) return HookVerdict.Pass;
          if (++dataSegments % 50 !== 0) return HookVerdict.Pass;
          dropped++;
          return HookVerdict.Drop;
        },
      };
      const p = pair({}, { modules: [lossy] });
      transfer(p, 80, 400_000);
      const stats = p.b.stats().dataPath;
      expect(dropped).to.be.above(3);
      expect(stats.hooks.egressDrop).to.deep.equal({ lossy: dropped });
      expect(stats.protocol.fastRetransmits + stats.protocol.timeoutRetransmits).to.be.above(0);
    });
  });

  it('a module can name the slow-path reason its hand-offs count under', () => {
    const arpLike: DataPathModule = {
      name: 'relabel',
      controlPlaneReason: SlowPathReason.NoFlow,
      ingress: (f) => {
        const at = tcpAt(f);
        return at >= 0 && (tcpFlags(f, at) & TcpFlag.SYN) !== 0
          ? HookVerdict.ToControlPlane
          : HookVerdict.Pass;
      },
    };
    const p = pair({ modules: [arpLike] });
    transfer(p, 5, 10_000);
    const stats = p.a.stats().dataPath;
    expect(stats.hooks.toControlPlane).to.deep.equal({ relabel: 1 });
    expect(stats.pre.slowPath['no-flow']).to.be.at.least(1);
    expect(stats.pre.slowPath['control-flags'] ?? 0).to.equal(0); // the SYN never reached pre-processing
  });
});
