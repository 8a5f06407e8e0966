// A flow's first segments at install time, on NIC core threads (README, "The boundary"): the
// segments a core receives before their flow is installed go to the control plane
// (SlowPathReason.NoFlow), which installs the flow (command InstallFlow) and re-runs them
// (Reinject). A segment the core receives after it applied the install but before those
// re-runs must not overtake them: three such overtakers made three duplicate ACKs and a
// needless fast retransmit at the peer (http-echo-stress: about once per 400-600 iterations).
//
// Deterministic: a lockstep stack on a ManualClock and a raw peer; the host's commands after the
// install are held back, as when the host thread is descheduled right after pushing it, while
// the peer's next segments reach the core.
import { expect } from 'chai';
import {
  emitTcpFrame,
  ipv4FromString,
  L4Kind,
  ManualClock,
  PacketBuffer,
  ParsedFrame,
  parseFrame,
  TcpFlag,
  TcpFrameTemplate,
  tcpFrameHeaderLength,
  VirtualNetwork,
  WireError,
  type SeqNumber,
  type VirtualPort,
} from '@flextoe/core';
import { liveNicWorkers, type CoreLink } from './core-link.js';
import { NicCommand } from './nic-protocol.js';
import { ThreadedStack } from './threaded-stack.js';

const SERVER_IP = '10.0.0.1';
const PEER_IP = '10.0.0.2';
const SERVER_PORT = 80;
const PEER_PORT = 40000;
const PEER_ISS = 5000;
const SEGMENT = 100;

interface Sent {
  flags: number;
  seq: number;
  ack: number;
  length: number;
}

/** A raw TCP peer on the wire: emits segments built by hand, collects what the server sends. */
class RawPeer {
  readonly sent: Sent[] = [];
  private readonly template = new TcpFrameTemplate();
  private readonly tx: PacketBuffer;
  private readonly rx: PacketBuffer[] = [];
  private readonly parsed = new ParsedFrame();

  constructor(
    private readonly port: VirtualPort,
    private readonly serverMac: number,
  ) {
    this.tx = new PacketBuffer(port.capabilities.maxFrameBytes);
    for (let i = 0; i < 32; i++) this.rx.push(new PacketBuffer(port.capabilities.maxFrameBytes));
  }

  emit(flags: number, seq: number, ack: number, payload: Uint8Array = Buffer.alloc(0)): void {
    const h = this.template;
    h.link.dst = this.serverMac;
    h.link.src = this.port.mac;
    h.ipv4.src = ipv4FromString(PEER_IP);
    h.ipv4.dst = ipv4FromString(SERVER_IP);
    h.ipv4.ttl = 64;
    h.tcp.srcPort = PEER_PORT;
    h.tcp.dstPort = SERVER_PORT;
    h.tcp.seq = (seq >>> 0) as SeqNumber;
    h.tcp.ack = (ack >>> 0) as SeqNumber;
    h.tcp.flags = flags;
    h.tcp.window = 65535;
    this.tx.data.set(payload, tcpFrameHeaderLength(h, null));
    this.tx.length = Math.max(60, emitTcpFrame(this.tx.data, 0, h, null, payload.length));
    expect(this.port.txBurst([this.tx], 1)).to.equal(1);
  }

  /** Takes what the server sent; returns how many frames. */
  drain(): number {
    const n = this.port.rxBurst(this.rx, this.rx.length);
    const p = this.parsed;
    for (let i = 0; i < n; i++) {
      const f = this.rx[i]!;
      if (parseFrame(f.data, 0, f.length, p) !== WireError.None || p.l4 !== L4Kind.Tcp) continue;
      this.sent.push({ flags: p.tcp.flags, seq: p.tcp.seq, ack: p.tcp.ack, length: p.tcp.payloadLength });
    }
    return n;
  }
}

/**
 * From the first InstallFlow on, the host's commands to every core wait in a list (in issue
 * order) until `release`: the host thread paused right after it told the core to install.
 */
function pauseHostAfterInstall(cores: readonly CoreLink[]): { release(): void; held(): number } {
  const held: { core: CoreLink; args: Parameters<CoreLink['push']> }[] = [];
  let paused = false;
  for (const core of cores) {
    const push = core.push.bind(core);
    const reserveFrame = core.reserveFrame.bind(core);
    core.push = (kind, flowId, a, b, frame = null, length = 0) => {
      if (!paused) {
        push(kind, flowId, a, b, frame, length);
        paused = kind === NicCommand.InstallFlow;
        return;
      }
      // The control plane reuses its frame buffers once the call returns: keep a copy.
      const copy = frame === null ? null : Buffer.from(frame.subarray(0, length));
      held.push({ core, args: [kind, flowId, a, b, copy, length] });
    };
    // A control frame is built in the core's frame ring when there is room: not while paused.
    core.reserveFrame = () => (paused ? null : reserveFrame());
  }
  return {
    held: () => held.length,
    release(): void {
      paused = false;
      for (const core of cores) {
        delete (core as { push?: unknown }).push;
        delete (core as { reserveFrame?: unknown }).reserveFrame;
      }
      for (const h of held.splice(0)) h.core.push(...h.args);
    },
  };
}

const payload = (i: number): Buffer => Buffer.alloc(SEGMENT, 0x41 + i);

for (const cores of [1, 2]) {
  describe(`x86 NIC cores: a flow's first segments stay in order at install (${cores} core${cores > 1 ? 's' : ''})`, function () {
    this.timeout(60_000);

    it('segments that reach the core between the install and the re-runs wait for them', async () => {
      const clock = new ManualClock(1_000_000_000);
      const net = new VirtualNetwork({ clock, timers: clock });
      const serverPort = net.attach();
      const server = ThreadedStack.createSync({
        // Immediate ACKs: every in-order segment is acknowledged, so any ACK that does not move
        // forward is a duplicate (RFC 5681 2: an out-of-order segment reached the receiver).
        options: { ip: `${SERVER_IP}/24`, delayedAck: false },
        port: serverPort,
        units: cores,
        time: { clock, timers: clock },
        spinRounds: 0,
      });
      const peer = new RawPeer(net.attach(), serverPort.mac);
      const settle = (): void => {
        for (let round = 0; round < 1000; round++) if (server.poll() + peer.drain() === 0) return;
        throw new Error('the server did not go idle');
      };
      try {
        const received: Buffer[] = [];
        server.listen(SERVER_PORT, (c) => {
          c.handlers.onReadable = (x) => {
            const got = x.read();
            if (got !== null) received.push(got);
          };
        });
        peer.emit(TcpFlag.SYN, PEER_ISS, 0);
        settle();
        const synAck = peer.sent.find((s) => s.flags === (TcpFlag.SYN | TcpFlag.ACK));
        expect(synAck, 'SYN-ACK').to.not.equal(undefined);
        const ack = (synAck!.seq + 1) >>> 0;
        const seqOf = (i: number): number => PEER_ISS + 1 + i * SEGMENT;

        const pause = pauseHostAfterInstall(server.cores);
        // The handshake's last ACK and the first two segments: no flow yet, so all three go to
        // the control plane, which installs the flow and re-runs the two (held back here).
        peer.emit(TcpFlag.ACK, seqOf(0), ack);
        peer.emit(TcpFlag.ACK | TcpFlag.PSH, seqOf(0), ack, payload(0));
        peer.emit(TcpFlag.ACK | TcpFlag.PSH, seqOf(1), ack, payload(1));
        settle();
        expect(pause.held(), 'the re-runs wait behind the install').to.be.greaterThan(0);
        const installs = server
          .stats()
          .x86.cores.reduce((n, c) => n + (c.counters as { installs: number }).installs, 0);
        expect(installs, 'the core applied the install').to.equal(1);
        // Three segments behind them reach the core now: the flow is installed.
        for (let i = 2; i < 5; i++) peer.emit(TcpFlag.ACK | TcpFlag.PSH, seqOf(i), ack, payload(i));
        settle();
        pause.release();
        settle();

        expect(Buffer.concat(received).equals(Buffer.concat([0, 1, 2, 3, 4].map(payload)))).to.equal(true);
        // Every ACK after the SYN-ACK acknowledges new data: none is a duplicate.
        const acks = peer.sent.filter((s) => s.flags === TcpFlag.ACK && s.length === 0).map((s) => s.ack);
        const relative = (a: number): number => (a - PEER_ISS) | 0;
        let last = seqOf(0); // what the SYN-ACK acknowledged
        for (const a of acks) {
          const what = `duplicate ACK ${relative(a)} after ${relative(last)} (ACKs ${acks.map(relative).join(', ')})`;
          expect(((a - last) | 0) > 0, what).to.equal(true);
          last = a;
        }
        expect(last, 'everything acknowledged').to.equal(seqOf(5));
        const s = server.stats();
        expect(s.dataPath.protocol.drops).to.deep.equal({});
        // The three waited on the flow's core and ran once the host had re-run the first two.
        const hold = s.x86.cores.map(
          (c) => (c.counters as { hold: { held: number; released: number } }).hold,
        );
        expect(hold.reduce((n, h) => n + h.held, 0)).to.equal(3);
        expect(hold.reduce((n, h) => n + h.released, 0)).to.equal(3);
      } finally {
        await server.close();
      }
      expect(liveNicWorkers(), 'NIC core threads still running').to.equal(0);
    });
  });
}
