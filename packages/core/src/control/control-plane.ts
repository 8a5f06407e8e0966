/**
 * The host control plane (FlexTOE keeps all complex control logic on the host): connection
 * setup and teardown, RST rules, ARP, installing and removing NIC flow state, the exception
 * queue, and the congestion-control / retransmission-timeout loop. It runs in the host's poll
 * loop; the data path hands it frames (exceptions) and events (FIN in, FIN acked).
 */
import type { Clock, Timers } from '../hw/clock.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { ArpOp, ArpPacket } from '../wire/arp.js';
import { WireError } from '../wire/drop-reason.js';
import { MAC_BROADCAST } from '../wire/ethernet.js';
import {
  emitArpFrame,
  emitTcpFrame,
  L4Kind,
  ParsedFrame,
  parseFrame,
  TcpFrameTemplate,
} from '../wire/frame.js';
import { Ecn } from '../wire/ipv4.js';
import { seq, type SeqNumber } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions, TCP_MAX_WINDOW_SCALE } from '../wire/tcp-options.js';
import { LinkHeader } from '../wire/vlan.js';
import { Request } from '../pipeline/context-queue.js';
import { advertisedWindow, receiveWindow } from '../pipeline/protocol.js';
import { FlowFlag } from '../state/flow-records.js';
import type { DataPathApi } from '../runtime/data-path-api.js';
import { FlowEvent } from '../runtime/data-path.js';
import { hash4 } from '../state/flow-table.js';
import { Connection, type ConnectionHandlers } from '../runtime/connection.js';
import { ArpCache } from './arp-cache.js';
import {
  createCcFlowState,
  createCcSample,
  controlIntervalUs,
  createCongestionControl,
  type CcName,
} from './cc/congestion-control.js';
import type { IsnGenerator } from './isn.js';
import { RtoEstimator } from './rto.js';
import { TcpError, TcpState } from './tcp-state.js';

export interface ControlPlaneOptions {
  readonly localIp: number;
  readonly prefixLength: number;
  readonly gateway: number;
  readonly mss: number;
  readonly rxBufferBytes: number;
  readonly txBufferBytes: number;
  readonly windowScale: boolean;
  readonly timestamps: boolean;
  readonly ecn: boolean;
  readonly cc: CcName;
  readonly isn: IsnGenerator;
  readonly synRetries: number;
  readonly dataRetries: number;
  readonly synRtoNs: number;
  readonly minRtoNs: number;
  readonly timeWaitNs: number;
  readonly controlTickNs: number;
  readonly arpTimeoutNs: number;
  readonly maxHalfOpen: number;
}

export interface Listener {
  readonly port: number;
  readonly backlog: number;
  /** Connections in SYN-RECEIVED for this listener. */
  halfOpen: number;
  onConnection(c: Connection): void;
  closed: boolean;
}

/** Counters of the control plane, by event. */
export interface ControlPlaneCounters {
  synReceived: number;
  synDroppedBacklog: number;
  rstSent: number;
  rstReceived: number;
  challengeAcks: number;
  connectionsEstablished: number;
  connectionsClosed: number;
  timeouts: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  malformedExceptions: number;
  flowTableFull: number;
}

const MAX_WINDOW = 0xffff;

export class ControlPlane {
  readonly counters: ControlPlaneCounters = {
    synReceived: 0,
    synDroppedBacklog: 0,
    rstSent: 0,
    rstReceived: 0,
    challengeAcks: 0,
    connectionsEstablished: 0,
    connectionsClosed: 0,
    timeouts: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
    malformedExceptions: 0,
    flowTableFull: 0,
  };
  readonly connections = new Map<string, Connection>();
  readonly listeners = new Map<number, Listener>();
  readonly arp: ArpCache;
  private readonly parsed = new ParsedFrame();
  private readonly template = new TcpFrameTemplate();
  private readonly options = new TcpOptions();
  private readonly freeFlows: number[] = [];
  private readonly ccSample = createCcSample();
  private readonly awaitingArp = new Map<number, Connection[]>();
  private nextConnId = 1;
  private nextEphemeral = 49152;
  private tickTimer = -1;
  private closed = false;

  constructor(
    readonly opts: ControlPlaneOptions,
    readonly dp: DataPathApi,
    readonly clock: Clock,
    readonly timers: Timers,
    readonly host: import('../runtime/connection.js').ConnectionHost,
  ) {
    for (let f = dp.opts.maxFlows - 1; f >= 0; f--) this.freeFlows.push(f);
    this.arp = new ArpCache({ maxEntries: 4096 });
  }

  // ------------------------------------------------------------------ public operations

  listen(port: number, backlog: number, onConnection: (c: Connection) => void): Listener {
    if (this.listeners.has(port)) throw new TcpError('EADDRINUSE', `port ${port} is already listening`);
    const l: Listener = { port, backlog, halfOpen: 0, onConnection, closed: false };
    this.listeners.set(port, l);
    return l;
  }

  unlisten(l: Listener): void {
    l.closed = true;
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  /** Active open (RFC 9293 3.10.1 OPEN): ARP, then SYN. */
  connect(remoteIp: number, remotePort: number, handlers: ConnectionHandlers, localPort = 0): Connection {
    const lport = localPort || this.ephemeralPort(remoteIp, remotePort);
    const key = connKey(remoteIp, remotePort, lport);
    if (this.connections.has(key))
      throw new TcpError('EADDRINUSE', `local port ${lport} is in use for this peer`);
    const c = this.newConnection(lport, remoteIp, remotePort);
    c.handlers = handlers;
    c.state = TcpState.SynSent;
    c.iss = this.opts.isn(this.opts.localIp, lport, remoteIp, remotePort, this.clock.now()) as SeqNumber;
    this.connections.set(key, c);
    this.resolveThen(c, () => this.sendSyn(c));
    return c;
  }

  /** The application closed its sending side. */
  shutdown(c: Connection): void {
    if (c.txShut) return;
    c.txShut = true;
    switch (c.state) {
      case TcpState.SynSent:
      case TcpState.SynReceived:
        this.finish(c, undefined, true);
        return;
      case TcpState.Established:
        c.state = TcpState.FinWait1;
        break;
      case TcpState.CloseWait:
        c.state = TcpState.LastAck;
        break;
      default:
        return;
    }
    this.dp.applyRequest(Request.Close, c.flowId, 0);
  }

  /** RFC 9293 3.10.5 ABORT: send RST (in synchronized states) and forget the connection. */
  abort(c: Connection, err?: TcpError): void {
    if (c.state === TcpState.Closed) return;
    if (c.flowId >= 0 && c.state !== TcpState.TimeWait) {
      const tcp = this.dp.tables.protocol.at(c.flowId);
      // SND.MAX: the peer may hold data beyond a go-back-N rewind, and RFC 5961 3.2 accepts
      // only an exact RCV.NXT.
      this.sendReset(c.localPort, c.remoteIp, c.remotePort, c.remoteMac, tcp.sndMax);
    } else if (c.state === TcpState.SynReceived) {
      this.sendReset(c.localPort, c.remoteIp, c.remotePort, c.remoteMac, seq.add(c.iss, 1));
    }
    this.finish(c, err, false);
  }

  close(): void {
    this.closed = true;
    if (this.tickTimer >= 0) this.timers.cancel(this.tickTimer);
    for (const c of [...this.connections.values()]) {
      if (c.state !== TcpState.TimeWait) this.abort(c);
      else this.finish(c, undefined, false);
    }
  }

  // ------------------------------------------------------------------ poll

  /** Drains the exception queue and the data path's flow events. Returns items handled. */
  poll(): number {
    let n = 0;
    const dp = this.dp;
    while (dp.exceptions.length > 0) {
      const e = dp.exceptions.shift()!;
      this.handleFrame(e.frame);
      dp.releaseException(e.frame);
      n++;
    }
    // After the re-runs the exceptions called for (DataPathApi: a flow held since its install).
    if (n > 0) dp.exceptionsHandled?.();
    const ev = dp.flowEvents;
    for (let i = 0; i < ev.length; i += 2) this.handleFlowEvent(ev[i]! as FlowEvent, ev[i + 1]!);
    n += ev.length >> 1;
    ev.length = 0;
    return n;
  }

  private handleFrame(frame: PacketBuffer): void {
    const p = this.parsed;
    if (parseFrame(frame.data, 0, frame.length, p, this.dp.exceptionParseFlags ?? 0) !== WireError.None) {
      this.counters.malformedExceptions++;
      return;
    }
    if (p.l4 === L4Kind.Arp) this.handleArp(p.arp);
    else if (p.l4 === L4Kind.Tcp) this.handleTcp(p, frame);
  }

  // ------------------------------------------------------------------ ARP (RFC 826)

  private handleArp(a: ArpPacket): void {
    const now = this.clock.now();
    // RFC 826 "merge": refresh the sender's entry if we know it, add it if we are the target.
    if (a.targetIp === this.opts.localIp || this.arp.lookup(a.senderIp, now) >= 0)
      this.arp.update(a.senderIp, a.senderMac, now);
    if (a.op === ArpOp.Request && a.targetIp === this.opts.localIp) {
      const reply = new ArpPacket();
      reply.op = ArpOp.Reply;
      reply.senderMac = this.dp.port.mac;
      reply.senderIp = this.opts.localIp;
      reply.targetMac = a.senderMac;
      reply.targetIp = a.senderIp;
      this.sendArp(reply, a.senderMac);
      this.counters.arpRepliesSent++;
    }
    const waiting = this.awaitingArp.get(a.senderIp);
    if (waiting && a.targetIp === this.opts.localIp) {
      this.awaitingArp.delete(a.senderIp);
      for (const c of waiting)
        if (c.state === TcpState.SynSent && c.remoteMac < 0) {
          c.remoteMac = a.senderMac;
          if (c.timer >= 0) this.timers.cancel(c.timer);
          c.timer = -1;
          this.sendSyn(c);
        }
    }
  }

  private nextHop(ip: number): number {
    const mask = this.opts.prefixLength === 0 ? 0 : (0xffffffff << (32 - this.opts.prefixLength)) >>> 0;
    if (((ip ^ this.opts.localIp) & mask) === 0 || this.opts.gateway === 0) return ip;
    return this.opts.gateway;
  }

  private resolveThen(c: Connection, then: () => void): void {
    const hop = this.nextHop(c.remoteIp);
    const mac = this.arp.lookup(hop, this.clock.now());
    if (mac >= 0) {
      c.remoteMac = mac;
      then();
      return;
    }
    const list = this.awaitingArp.get(hop) ?? [];
    list.push(c);
    this.awaitingArp.set(hop, list);
    const ask = (tries: number): void => {
      if (c.state !== TcpState.SynSent || c.remoteMac >= 0) return;
      if (tries > this.opts.synRetries) {
        this.awaitingArp.delete(hop);
        this.finish(c, new TcpError('EHOSTUNREACH', `no ARP reply from ${ipStr(hop)}`), false);
        return;
      }
      const req = new ArpPacket();
      req.op = ArpOp.Request;
      req.senderMac = this.dp.port.mac;
      req.senderIp = this.opts.localIp;
      req.targetMac = 0;
      req.targetIp = hop;
      this.sendArp(req, MAC_BROADCAST);
      this.counters.arpRequestsSent++;
      c.timer = this.timers.schedule(this.opts.arpTimeoutNs, () => ask(tries + 1));
    };
    ask(0);
  }

  private sendArp(a: ArpPacket, dstMac: number): void {
    const link = new LinkHeader();
    link.dst = dstMac;
    link.src = this.dp.port.mac;
    this.dp.sendControlFrame((buf) => Math.max(60, emitArpFrame(buf, 0, link, a)));
  }

  // ------------------------------------------------------------------ TCP segments

  private handleTcp(p: ParsedFrame, frame: PacketBuffer): void {
    const t = p.tcp;
    const key = connKey(p.ipv4.src, t.srcPort, t.dstPort);
    const c = this.connections.get(key);
    if (p.ipv4.dst !== this.opts.localIp) return;
    if (!c) {
      const l = this.listeners.get(t.dstPort);
      if (l && (t.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) this.passiveOpen(l, p);
      else this.resetForClosed(p);
      return;
    }
    switch (c.state) {
      case TcpState.SynSent:
        this.synSent(c, p);
        return;
      case TcpState.SynReceived:
        this.synReceived(c, p, frame);
        return;
      default:
        this.synchronized(c, p, frame);
    }
  }

  /** RFC 9293 3.10.7.1 CLOSED: answer everything but a RST with a RST. */
  private resetForClosed(p: ParsedFrame): void {
    const t = p.tcp;
    if ((t.flags & TcpFlag.RST) !== 0) return;
    const mac = p.link.src;
    if ((t.flags & TcpFlag.ACK) !== 0) {
      this.sendReset(t.dstPort, p.ipv4.src, t.srcPort, mac, t.ack);
      return;
    }
    const segLen =
      t.payloadLength + ((t.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((t.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    this.sendReset(t.dstPort, p.ipv4.src, t.srcPort, mac, 0 as SeqNumber, seq.add(t.seq, segLen));
  }

  /** RFC 9293 3.10.7.2 LISTEN, SYN: record the peer's options, answer SYN-ACK. */
  private passiveOpen(l: Listener, p: ParsedFrame): void {
    this.counters.synReceived++;
    if (l.closed || l.halfOpen >= l.backlog || this.halfOpenTotal() >= this.opts.maxHalfOpen) {
      // A full backlog drops the SYN; the peer retries (as Linux without syncookies).
      this.counters.synDroppedBacklog++;
      return;
    }
    const t = p.tcp;
    const c = this.newConnection(t.dstPort, p.ipv4.src, t.srcPort);
    c.listener = l;
    l.halfOpen++;
    c.state = TcpState.SynReceived;
    c.remoteMac = p.link.src;
    this.arp.update(p.ipv4.src, p.link.src, this.clock.now());
    c.irs = t.seq;
    this.takeSynOptions(c, p);
    // RFC 3168 6.1.1: an ECN-setup SYN has ECE and CWR; we agree with ECE on the SYN-ACK.
    c.ecn = this.opts.ecn && (t.flags & (TcpFlag.ECE | TcpFlag.CWR)) === (TcpFlag.ECE | TcpFlag.CWR);
    c.iss = this.opts.isn(
      this.opts.localIp,
      c.localPort,
      c.remoteIp,
      c.remotePort,
      this.clock.now(),
    ) as SeqNumber;
    this.connections.set(connKey(c.remoteIp, c.remotePort, c.localPort), c);
    this.sendSynAck(c);
  }

  private halfOpenTotal(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.halfOpen;
    return n;
  }

  /** RFC 9293 3.10.7.3 SYN-SENT. */
  private synSent(c: Connection, p: ParsedFrame): void {
    const t = p.tcp;
    const hasAck = (t.flags & TcpFlag.ACK) !== 0;
    if (hasAck && !seq.eq(t.ack, seq.add(c.iss, 1))) {
      // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set)".
      if ((t.flags & TcpFlag.RST) === 0) {
        this.sendReset(c.localPort, c.remoteIp, c.remotePort, c.remoteMac, t.ack);
      }
      return;
    }
    if ((t.flags & TcpFlag.RST) !== 0) {
      // "If the ACK was acceptable, then signal to the user 'error: connection reset'" (refused).
      this.counters.rstReceived++;
      if (hasAck)
        this.finish(
          c,
          new TcpError('ECONNREFUSED', `connection refused by ${ipStr(c.remoteIp)}:${c.remotePort}`),
          false,
        );
      return;
    }
    if ((t.flags & TcpFlag.SYN) === 0) return;
    c.irs = t.seq;
    c.remoteMac = p.link.src;
    this.takeSynOptions(c, p);
    if (hasAck) {
      c.ecn = this.opts.ecn && (t.flags & TcpFlag.ECE) !== 0 && (t.flags & TcpFlag.CWR) === 0;
      c.peerWindow = t.window; // RFC 7323 2.2: the window in a SYN is never scaled
      if (!this.install(c, t.seq, t.ack)) return;
      this.sendAckFromFlow(c);
      this.established(c);
    } else {
      // Simultaneous open (RFC 9293 3.5 figure 8): SYN-RECEIVED, answer SYN-ACK with our ISS.
      c.state = TcpState.SynReceived;
      c.ecn = false;
      this.sendSynAck(c);
    }
  }

  /** RFC 9293 3.10.7.4 in SYN-RECEIVED. */
  private synReceived(c: Connection, p: ParsedFrame, frame: PacketBuffer): void {
    const t = p.tcp;
    if ((t.flags & TcpFlag.RST) !== 0) {
      // "If this connection was initiated with a passive OPEN, return to LISTEN": forget it.
      if (seq.inWindow(t.seq, seq.add(c.irs, 1), Math.max(1, this.opts.rxBufferBytes))) {
        this.counters.rstReceived++;
        const active = c.listener === null;
        this.finish(c, active ? new TcpError('ECONNREFUSED', 'connection refused') : undefined, false);
      }
      return;
    }
    if ((t.flags & TcpFlag.SYN) !== 0 && (t.flags & TcpFlag.ACK) === 0) {
      if (seq.eq(t.seq, c.irs)) this.sendSynAck(c); // our SYN-ACK was lost: say it again
      return;
    }
    if ((t.flags & TcpFlag.ACK) === 0) return;
    if (!seq.eq(t.ack, seq.add(c.iss, 1))) {
      // "If the segment acknowledgment is not acceptable, form a reset segment".
      this.sendReset(c.localPort, c.remoteIp, c.remotePort, c.remoteMac, t.ack);
      return;
    }
    // The window of a non-SYN segment is scaled (RFC 7323 2.2); of a SYN-ACK (simultaneous open) not.
    c.peerWindow = (t.flags & TcpFlag.SYN) !== 0 ? t.window : t.window << Math.max(0, c.peerWscale);
    const rcvNxtSeq = (t.flags & TcpFlag.SYN) !== 0 ? t.seq : seq.sub(t.seq, 1);
    if (!this.install(c, rcvNxtSeq, t.ack, (t.flags & TcpFlag.SYN) === 0)) return;
    if ((t.flags & TcpFlag.SYN) !== 0) this.sendAckFromFlow(c);
    this.established(c);
    // The ACK that completes the handshake may carry data or FIN: the data path takes it now.
    if (t.payloadLength > 0 || (t.flags & TcpFlag.FIN) !== 0) this.dp.reinject(frame);
  }

  /** Segments with SYN/RST for a connection whose flow is on the NIC. */
  private synchronized(c: Connection, p: ParsedFrame, frame: PacketBuffer): void {
    const t = p.tcp;
    if (c.flowId < 0) return;
    // The data path may have taken the peer's FIN (or the ACK of ours) before this segment while
    // its flow event is still on the way (in the same burst, or from a data path on another
    // thread): apply it first, so that e.g. a RST after the FIN meets TIME-WAIT, as in order.
    const flags = this.dp.tables.protocol.at(c.flowId).flags;
    if ((flags & FlowFlag.RxFin) !== 0 && !c.rxEnded) this.handleFlowEvent(FlowEvent.FinReceived, c.flowId);
    if ((flags & FlowFlag.TxFinAcked) !== 0 && c.flowId >= 0)
      this.handleFlowEvent(FlowEvent.FinAcked, c.flowId);
    if (c.flowId < 0) return; // that closed it
    const tcp = this.dp.tables.protocol.at(c.flowId);
    if ((t.flags & TcpFlag.RST) !== 0) {
      if (c.state === TcpState.TimeWait) return; // RFC 1337: ignore RST in TIME-WAIT
      // RFC 5961 3.2: reset only on an exact match of RCV.NXT; in-window -> challenge ACK.
      if (seq.eq(t.seq, tcp.rcvNxt)) {
        this.counters.rstReceived++;
        this.finish(
          c,
          new TcpError('ECONNRESET', `connection reset by ${ipStr(c.remoteIp)}:${c.remotePort}`),
          false,
        );
      } else if (seq.inWindow(t.seq, tcp.rcvNxt, Math.max(1, receiveWindow(tcp)))) {
        this.challengeAck(c);
      }
      return;
    }
    if ((t.flags & TcpFlag.SYN) !== 0) {
      // RFC 5961 4.2: any SYN on a synchronized connection gets a challenge ACK.
      this.challengeAck(c);
      return;
    }
    // A segment handed over before its flow was installed (it followed the handshake's last
    // ACK in the same receive burst): the flow exists now, so the data path takes it.
    this.dp.reinject(frame);
  }

  private challengeAck(c: Connection): void {
    this.counters.challengeAcks++;
    this.sendAckFromFlow(c);
  }

  private takeSynOptions(c: Connection, p: ParsedFrame): void {
    const o = p.tcpOptions;
    // RFC 9293 3.7.1: without an MSS option assume 536.
    c.peerMss = o.hasMss ? o.mss : 536;
    c.peerWscale = this.opts.windowScale && o.hasWindowScale ? Math.min(o.wscale, TCP_MAX_WINDOW_SCALE) : -1;
    c.timestamps = this.opts.timestamps && o.hasTimestamps;
    c.peerTsVal = o.tsVal;
    if (c.peerWscale >= 0) c.ourWscale = windowScaleFor(this.opts.rxBufferBytes);
    else c.ourWscale = 0;
  }

  // ------------------------------------------------------------------ install / establish / finish

  /**
   * Installs the flow on the NIC (FlexTOE: the host writes the flow's state). The records are
   * written first and the flow made visible last (`installFlow`), so a data path on another
   * thread never sees a half-written flow.
   */
  private install(c: Connection, peerSeq: SeqNumber, ack: SeqNumber, windowScaled = false): boolean {
    const flowId = this.freeFlows.pop();
    if (flowId === undefined) {
      this.counters.flowTableFull++;
      this.abort(c, new TcpError('ENOBUFS', 'no free flow slot on the NIC'));
      return false;
    }
    const dp = this.dp;
    const o = this.opts;
    const rxRing = this.allocRing(o.rxBufferBytes);
    const txRing = this.allocRing(o.txBufferBytes);
    // FlexTOE: flow group = flow hash mod G (the hash the NIC's flow table uses).
    const group = hash4(o.localIp, c.remoteIp, c.localPort, c.remotePort) % dp.opts.flowGroups;
    dp.tables.identity
      .at(flowId)
      .write(o.localIp, c.remoteIp, c.localPort, c.remotePort, dp.port.mac, c.remoteMac, group);
    dp.tables.buffers.at(flowId).write(o.rxBufferBytes, o.txBufferBytes, 0, c.id);
    const tcp = dp.tables.protocol.at(flowId);
    tcp.clear();
    let flags = FlowFlag.Valid;
    if (c.timestamps) flags |= FlowFlag.Timestamps;
    if (c.ecn) flags |= FlowFlag.Ecn;
    tcp.flags = flags;
    const scaled = c.peerWscale >= 0;
    tcp.setWscale(scaled ? c.peerWscale : 0, scaled ? c.ourWscale : 0);
    tcp.sndNxt = seq.add(c.iss, 1);
    tcp.sndMax = tcp.sndNxt;
    tcp.sndWnd = windowScaled ? c.peerWindow : c.peerWindow;
    tcp.sndWl1 = peerSeq;
    tcp.sndWl2 = ack;
    tcp.rcvNxt = seq.add(c.irs, 1);
    tcp.rxAvail = o.rxBufferBytes;
    tcp.tsRecent = c.peerTsVal;
    const cc = dp.tables.cc.at(flowId);
    cc.clear();
    c.ccAlg = createCongestionControl(o.cc, { maxCwndBytes: o.txBufferBytes });
    c.cc = createCcFlowState();
    const mss = this.effectiveMss(c);
    c.ccAlg.init(c.cc, mss);
    if (!dp.installFlow(flowId, o.localIp, c.remoteIp, c.localPort, c.remotePort, rxRing, txRing)) {
      dp.tables.protocol.at(flowId).clear();
      this.freeFlows.push(flowId);
      this.releaseRing(rxRing);
      this.releaseRing(txRing);
      this.counters.flowTableFull++;
      this.abort(c, new TcpError('ENOBUFS', 'NIC flow table full'));
      return false;
    }
    c.flowId = flowId;
    this.scheduleTick(); // the control loop runs while some flow is installed
    c.rxRing = rxRing;
    c.txRing = txRing;
    this.applyCc(c);
    c.rto = new RtoEstimator({ minRtoUs: o.minRtoNs / 1000 });
    c.lastCcNs = this.clock.now();
    c.lastUna = seq.add(c.iss, 1);
    c.lastProgressNs = this.clock.now();
    return true;
  }

  /** Payload bytes per segment: the smaller MSS, less 12 bytes of timestamps (FlexTOE: 1448). */
  effectiveMss(c: Connection): number {
    return Math.min(c.peerMss, this.opts.mss) - (c.timestamps ? 12 : 0);
  }

  private established(c: Connection): void {
    if (c.timer >= 0) this.timers.cancel(c.timer);
    c.timer = -1;
    c.state = TcpState.Established;
    this.counters.connectionsEstablished++;
    const l = c.listener as Listener | null;
    if (l) {
      l.halfOpen--;
      if (l.closed) {
        this.abort(c);
        return;
      }
      l.onConnection(c);
    }
    c.handlers.onConnect?.(c);
  }

  private handleFlowEvent(ev: FlowEvent, flowId: number): void {
    if (ev === FlowEvent.FlowRemoved) {
      // The data path no longer touches the slot or the rings: reuse them.
      const rings = this.removing.get(flowId);
      this.removing.delete(flowId);
      if (rings) {
        this.releaseRing(rings[0]);
        this.releaseRing(rings[1]);
      }
      this.freeFlows.push(flowId);
      return;
    }
    const c = this.byFlow(flowId);
    if (!c) return;
    if (ev === FlowEvent.FinRepeated) {
      // RFC 9293 3.10.7.4 TIME-WAIT: "Acknowledge it, and restart the 2 MSL timeout."
      if (c.state === TcpState.TimeWait) this.armTimeWait(c);
      return;
    }
    if (ev === FlowEvent.FinReceived) {
      c.rxEnded = true;
      // RFC 9293 3.10.7.4 eighth check: FIN moves the state.
      if (c.state === TcpState.Established) c.state = TcpState.CloseWait;
      else if (c.state === TcpState.FinWait1) c.state = TcpState.Closing;
      else if (c.state === TcpState.FinWait2) this.enterTimeWait(c);
    } else {
      if (c.state === TcpState.FinWait1) c.state = TcpState.FinWait2;
      else if (c.state === TcpState.Closing) this.enterTimeWait(c);
      else if (c.state === TcpState.LastAck) this.finish(c, undefined, false);
    }
  }

  private enterTimeWait(c: Connection): void {
    c.state = TcpState.TimeWait;
    this.armTimeWait(c);
    c.handlers.onClose?.(c);
  }

  /** RFC 9293 3.10.7.4: stay 2 MSL, re-acknowledging a retransmitted FIN (the NIC does that). */
  private armTimeWait(c: Connection): void {
    if (c.timer >= 0) this.timers.cancel(c.timer);
    c.timer = this.timers.schedule(this.opts.timeWaitNs, () => {
      c.timer = -1;
      this.finish(c, undefined, false);
    });
  }

  /** Forgets the connection: removes NIC state, frees the slot, tells the application. */
  private finish(c: Connection, err: TcpError | undefined, _graceful: boolean): void {
    if (c.state === TcpState.Closed) return;
    const wasTimeWait = c.state === TcpState.TimeWait;
    const wasHalfOpen = c.state === TcpState.SynReceived && c.listener !== null;
    c.state = TcpState.Closed;
    if (c.timer >= 0) this.timers.cancel(c.timer);
    c.timer = -1;
    if (wasHalfOpen) (c.listener as Listener).halfOpen--;
    this.connections.delete(connKey(c.remoteIp, c.remotePort, c.localPort));
    this.byId.delete(c.id);
    if (c.flowId >= 0) {
      // Slot and rings are reused once the data path confirms (FlowEvent.FlowRemoved).
      this.removing.set(c.flowId, [c.rxRing, c.txRing]);
      this.dp.removeFlow(c.flowId);
      c.flowId = -1;
    }
    this.counters.connectionsClosed++;
    c.closeError = err;
    if (!wasTimeWait) c.handlers.onClose?.(c, err);
  }

  private byFlow(flowId: number): Connection | undefined {
    const opaque = this.dp.tables.buffers.at(flowId).opaque;
    return this.byId.get(opaque);
  }

  readonly byId = new Map<number, Connection>();
  /** Host rings of flows removed from the data path and not yet confirmed, by flow id. */
  private readonly removing = new Map<number, [Uint8Array, Uint8Array]>();

  private newConnection(localPort: number, remoteIp: number, remotePort: number): Connection {
    const c = new Connection(
      this.nextConnId++,
      this.host,
      this.opts.localIp,
      localPort,
      remoteIp,
      remotePort,
    );
    this.byId.set(c.id, c);
    return c;
  }

  private ephemeralPort(remoteIp: number, remotePort: number): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p >= 65535 ? 49152 : p + 1;
      if (!this.connections.has(connKey(remoteIp, remotePort, p)) && !this.listeners.has(p)) return p;
    }
    throw new TcpError('EADDRNOTAVAIL', 'no free ephemeral port');
  }

  private readonly ringPool = new Map<number, Uint8Array[]>();

  private releaseRing(r: Uint8Array): void {
    if (r.length === 0) return;
    const pool = this.ringPool.get(r.length) ?? [];
    pool.push(r);
    this.ringPool.set(r.length, pool);
  }

  private allocRing(size: number): Uint8Array {
    const pool = this.ringPool.get(size);
    const r = pool?.pop();
    if (r) {
      r.fill(0);
      return r;
    }
    const region = this.dp.tiers.allocate('host-buffers', size);
    return new Uint8Array(region.buffer, region.byteOffset, size);
  }

  // ------------------------------------------------------------------ handshake segments

  private sendSyn(c: Connection): void {
    // RFC 3168 6.1.1: an ECN-setup SYN carries ECE and CWR.
    this.sendHandshake(
      c,
      true,
      0 as SeqNumber,
      TcpFlag.SYN | (this.opts.ecn ? TcpFlag.ECE | TcpFlag.CWR : 0),
    );
  }

  private sendSynAck(c: Connection): void {
    this.sendHandshake(c, false, seq.add(c.irs, 1), TcpFlag.SYN | TcpFlag.ACK | (c.ecn ? TcpFlag.ECE : 0));
  }

  /** A SYN or SYN-ACK with our options (RFC 7323 2.2: its window is never scaled), retransmitted until answered. */
  private sendHandshake(c: Connection, active: boolean, ack: SeqNumber, flags: number): void {
    const o = this.synOptions(c, active);
    const window = Math.min(MAX_WINDOW, this.opts.rxBufferBytes);
    this.sendRaw(c.localPort, c.remoteIp, c.remotePort, c.remoteMac, c.iss, ack, flags, window, o);
    this.armSynTimer(c, () => this.sendHandshake(c, active, ack, flags));
  }

  /** RFC 6298 2.1 / 5.5: SYN retransmission with exponential back-off, then ETIMEDOUT. */
  private armSynTimer(c: Connection, resend: () => void): void {
    if (c.timer >= 0) this.timers.cancel(c.timer);
    const delay = this.opts.synRtoNs * 2 ** c.synRetries;
    c.timer = this.timers.schedule(delay, () => {
      c.timer = -1;
      if (c.state !== TcpState.SynSent && c.state !== TcpState.SynReceived) return;
      if (++c.synRetries > this.opts.synRetries) {
        this.counters.timeouts++;
        this.finish(
          c,
          new TcpError('ETIMEDOUT', `connection to ${ipStr(c.remoteIp)}:${c.remotePort} timed out`),
          false,
        );
        return;
      }
      resend();
    });
  }

  private synOptions(c: Connection, active: boolean): TcpOptions {
    const o = this.options;
    o.reset();
    o.present = TcpOptionFlag.Mss;
    o.mss = this.opts.mss;
    if (this.opts.windowScale && (active || c.peerWscale >= 0)) {
      o.present |= TcpOptionFlag.WindowScale;
      o.wscale = windowScaleFor(this.opts.rxBufferBytes);
    }
    if (this.opts.timestamps && (active || c.timestamps)) {
      o.present |= TcpOptionFlag.Timestamps;
      o.tsVal = this.dp.tsNow();
      o.tsEcr = active ? 0 : c.peerTsVal;
    }
    return o;
  }

  /** An ACK with the NIC's current state (handshake completion, challenge ACK). */
  private sendAckFromFlow(c: Connection): void {
    const tcp = this.dp.tables.protocol.at(c.flowId);
    let o: TcpOptions | null = null;
    if (tcp.has(FlowFlag.Timestamps)) {
      o = this.options;
      o.reset();
      o.present = TcpOptionFlag.Timestamps;
      o.tsVal = this.dp.tsNow();
      o.tsEcr = tcp.tsRecent;
    }
    // The data path's rule: never left of an edge it promised, no silly increments (RFC 9293 3.8.6).
    const wnd = advertisedWindow(tcp, this.opts.rxBufferBytes, this.effectiveMss(c));
    this.sendRaw(
      c.localPort,
      c.remoteIp,
      c.remotePort,
      c.remoteMac,
      tcp.sndMax, // as the data path's ACKs: SND.NXT may be rewound by go-back-N
      tcp.rcvNxt,
      TcpFlag.ACK,
      wnd,
      o,
    );
  }

  /** <SEQ=seqNo><CTL=RST>, or <SEQ=seqNo><ACK=ackNo><CTL=RST,ACK> when `ackNo` is given; counted. */
  private sendReset(
    localPort: number,
    remoteIp: number,
    remotePort: number,
    remoteMac: number,
    seqNo: SeqNumber,
    ackNo?: SeqNumber,
  ): void {
    const flags = ackNo === undefined ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK;
    this.sendRaw(
      localPort,
      remoteIp,
      remotePort,
      remoteMac,
      seqNo,
      ackNo ?? (0 as SeqNumber),
      flags,
      0,
      null,
    );
    this.counters.rstSent++;
  }

  private sendRaw(
    localPort: number,
    remoteIp: number,
    remotePort: number,
    remoteMac: number,
    seqNo: SeqNumber,
    ackNo: SeqNumber,
    flags: number,
    window: number,
    options: TcpOptions | null,
  ): void {
    const h = this.template;
    h.link.dst = remoteMac;
    h.link.src = this.dp.port.mac;
    h.ipv4.src = this.opts.localIp;
    h.ipv4.dst = remoteIp;
    h.ipv4.ttl = 64;
    h.ipv4.flags = 0x2;
    h.ipv4.ecn = Ecn.NotEct;
    h.tcp.srcPort = localPort;
    h.tcp.dstPort = remotePort;
    h.tcp.seq = seqNo;
    h.tcp.ack = ackNo;
    h.tcp.flags = flags;
    h.tcp.window = window;
    h.tcp.urgentPointer = 0;
    this.dp.sendControlFrame((buf) => Math.max(60, emitTcpFrame(buf, 0, h, options, 0)));
  }

  // ------------------------------------------------------------------ control loop

  /**
   * Arms the control loop unless it is armed. It runs only while a flow is installed: an idle
   * stack (listeners only, or nothing) takes no timer wakeups, so a host thread or a simulated
   * NIC with no connections sleeps (and in virtual time parks) instead of ticking every
   * `controlTickNs`.
   */
  private scheduleTick(): void {
    if (this.closed || this.tickTimer >= 0) return;
    this.tickTimer = this.timers.schedule(this.opts.controlTickNs, () => {
      this.tickTimer = -1;
      this.tick();
      if (this.hasInstalledFlow()) this.scheduleTick();
    });
  }

  private hasInstalledFlow(): boolean {
    for (const c of this.connections.values()) if (c.flowId >= 0) return true;
    return false;
  }

  /**
   * The congestion-control and timeout loop (FlexTOE): per installed flow, every control
   * interval, read the NIC's counters, run the algorithm, write rate and window; retransmit
   * after an RTO without progress (RFC 6298 5); probe zero windows; send owed delayed ACKs.
   */
  tick(): void {
    const now = this.clock.now();
    const dp = this.dp;
    for (const c of this.connections.values()) {
      if (c.flowId < 0 || c.state === TcpState.TimeWait) continue;
      const tcp = dp.tables.protocol.at(c.flowId);
      const cc = dp.tables.cc.at(c.flowId);
      // Retransmission timeout.
      const una = seq.sub(tcp.sndNxt, tcp.txSent);
      if (tcp.txSent === 0 || !seq.eq(una, c.lastUna)) {
        if (!seq.eq(una, c.lastUna)) c.dataRetries = 0;
        c.lastUna = una;
        c.lastProgressNs = now;
      } else if (now - c.lastProgressNs >= c.rto!.rtoUs * 1000) {
        if (++c.dataRetries > this.opts.dataRetries) {
          this.counters.timeouts++;
          this.abort(
            c,
            new TcpError('ETIMEDOUT', `no acknowledgment from ${ipStr(c.remoteIp)}:${c.remotePort}`),
          );
          continue;
        }
        c.rto!.backoff();
        c.ccAlg!.onRetransmit(c.cc!, 'timeout');
        this.applyCc(c);
        dp.applyRequest(Request.Retransmit, c.flowId, 0);
        c.lastProgressNs = now;
      }
      // Zero-window probe (RFC 9293 3.8.6.1).
      if (tcp.txSent === 0 && tcp.txAvail > 0 && tcp.sndWnd === 0) {
        if (c.persistSinceNs < 0) c.persistSinceNs = now;
        else if (now - c.persistSinceNs >= c.rto!.rtoUs * 1000) {
          dp.applyRequest(Request.PersistProbe, c.flowId, 0);
          c.persistSinceNs = now;
        }
      } else c.persistSinceNs = -1;
      if (tcp.has(FlowFlag.AckPending)) dp.applyRequest(Request.AckTimeout, c.flowId, 0);
      // Congestion control every 2 RTTs, at least 50 us (FlexTOE).
      const alg = c.ccAlg!;
      const st = c.cc!;
      const intervalNs = controlIntervalUs(st, alg.params) * 1000;
      if (now - c.lastCcNs < intervalNs) continue;
      const s = this.ccSample;
      s.ackedBytes = (cc.ackedBytes - c.prevAcked) >>> 0;
      s.ecnBytes = (cc.ecnBytes - c.prevEcn) >>> 0;
      const fast = (cc.fastRetransmits - c.prevFastRetx) >>> 0;
      c.prevAcked = cc.ackedBytes;
      c.prevEcn = cc.ecnBytes;
      c.prevFastRetx = cc.fastRetransmits;
      for (let i = 0; i < fast; i++) alg.onRetransmit(st, 'fast');
      s.retransmits = fast;
      s.timeouts = 0;
      s.rttUs = cc.rttUs;
      s.intervalUs = (now - c.lastCcNs) / 1000;
      s.inFlightBytes = tcp.txSent;
      s.sendBlockedByCc = tcp.txAvail > 0;
      // The data path measures RTT only on ACKs that move SND.UNA (RFC 7323 4.2); feed the
      // estimator only in an interval that had one. An interval without new ACKs (an outage)
      // must keep the back-off until new data is acknowledged (RFC 6298 5.7): re-sampling the
      // old average here reset it every interval, so timeouts came every minimum RTO.
      if (cc.rttUs > 0 && s.ackedBytes > 0) c.rto!.sample(cc.rttUs, true, false);
      alg.onInterval(st, s);
      c.lastCcNs = now;
      this.applyCc(c);
    }
  }

  /** Writes the algorithm's outputs where the data path enforces them. */
  private applyCc(c: Connection): void {
    if (c.flowId < 0) return;
    const st = c.cc!;
    const cc = this.dp.tables.cc.at(c.flowId);
    cc.cwnd = st.cwndBytes > 0 ? Math.max(st.cwndBytes, this.effectiveMss(c)) >>> 0 : 0;
    const nsPerByte = st.rateBps > 0 ? 1e9 / st.rateBps : 0;
    cc.nsPerByte = nsPerByte;
    this.dp.setRate(c.flowId, nsPerByte);
  }
}

/** Smallest shift that lets the window field cover `bytes` (RFC 7323 2.3, at most 14). */
export function windowScaleFor(bytes: number): number {
  let s = 0;
  while (s < TCP_MAX_WINDOW_SCALE && bytes >>> s > MAX_WINDOW) s++;
  return s;
}

function connKey(remoteIp: number, remotePort: number, localPort: number): string {
  return `${remoteIp >>> 0}:${remotePort}:${localPort}`;
}

function ipStr(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}
