// RFC 9293 state by state, driven segment by segment: one stack under test, a raw peer port,
// segments built from templates. Each case names the section it checks.
import { expect } from 'chai';
import { TcpState, type TcpError } from './tcp-state.js';
import { windowScaleFor } from './control-plane.js';
import type { Connection } from '../runtime/connection.js';
import type { TcpStackOptions } from '../runtime/tcp-stack.js';
import { Ecn } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import {
  ACK,
  bytes,
  fields,
  FIN_ACK,
  LISTEN_PORT,
  PEER_PORT,
  RST,
  RST_ACK,
  SegmentKit,
  type SegmentTemplate,
  STACK_ISS,
  SYN,
  SYN_ACK,
} from './segment-test-kit.js';

const { SYN: S, ACK: A, RST: R, FIN: F, PSH: P, ECE, CWR } = TcpFlag;
const ISS = STACK_ISS;
/** The peer's initial sequence number in every fixture. */
const IRS = 5000;
const RX = 16384; // the kit's receive buffer: the window we advertise without scaling

/** LISTEN fixture: the stack listens on LISTEN_PORT; accepted connections are collected. */
function listening(options: Partial<TcpStackOptions> = {}, backlog?: number) {
  const k = new SegmentKit(options);
  const accepted: Connection[] = [];
  k.stack.listen(LISTEN_PORT, (c) => accepted.push(c), backlog);
  return { k, accepted };
}

/** SYN-RECEIVED fixture: the peer's SYN arrived, our SYN-ACK is taken. */
function synReceived(
  synOptions: SegmentTemplate['options'] = { mss: 1460 },
  stackOptions: Partial<TcpStackOptions> = {},
) {
  const { k, accepted } = listening(stackOptions);
  k.send({ ...SYN, seq: IRS, options: synOptions });
  const synAck = k.one();
  const c = [...k.stack.control.connections.values()][0]!;
  return { k, accepted, synAck, c };
}

/** ESTABLISHED fixture (passive open). `rcvNxt`/`sndNxt` track the stack's side. */
function established(
  synOptions: SegmentTemplate['options'] = { mss: 1460 },
  stackOptions: Partial<TcpStackOptions> = {},
) {
  const { k, accepted, c } = synReceived(synOptions, stackOptions);
  const ackOptions = synOptions?.tsVal !== undefined ? { tsVal: synOptions.tsVal + 1, tsEcr: 0 } : undefined;
  k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, options: ackOptions });
  expect(k.sent()).to.deep.equal([]);
  expect(c.state).to.equal(TcpState.Established);
  expect(accepted).to.deep.equal([c]);
  const errors: (TcpError | undefined)[] = [];
  let ended = 0;
  c.handlers.onClose = (_c, e) => errors.push(e);
  c.handlers.onEnd = () => ended++;
  return { k, c, errors, ended: () => ended };
}

/** Active-open fixture: connect() to the peer; ARP answered, the SYN taken. */
function synSent(stackOptions: Partial<TcpStackOptions> = {}) {
  const k = new SegmentKit(stackOptions);
  const errors: (TcpError | undefined)[] = [];
  let connected = 0;
  const c = k.stack.connect(
    '10.0.0.2',
    PEER_PORT,
    { onClose: (_c, e) => errors.push(e), onConnect: () => connected++ },
    LISTEN_PORT,
  );
  const syn = k.one();
  // From the peer: its port is PEER_PORT, ours LISTEN_PORT, the kit's defaults.
  return { k, c, syn, errors, connected: () => connected };
}

describe('RFC 9293 states, segment by segment', () => {
  describe('LISTEN (RFC 9293 3.10.7.2)', () => {
    it('answers SYN with SYN-ACK <SEQ=ISS><ACK=RCV.NXT> carrying MSS, WS and TS echoing the peer TSval', () => {
      const { k } = listening();
      k.send({ ...SYN, seq: IRS, options: { mss: 1400, wscale: 7, tsVal: 777, tsEcr: 0 } });
      const s = k.one();
      expect(fields(s, true)).to.deep.equal({ flags: S | A, seq: ISS, ack: IRS + 1, window: RX, len: 0 });
      expect(s.options).to.deep.equal({
        mss: 1460,
        wscale: windowScaleFor(RX),
        tsVal: k.stack.dataPath.tsNow(),
        tsEcr: 777,
      });
      const c = [...k.stack.control.connections.values()][0]!;
      expect(c.state).to.equal(TcpState.SynReceived);
      expect(c.peerMss).to.equal(1400);
      expect(c.peerWscale).to.equal(7);
    });

    it('omits WS and TS from the SYN-ACK when the SYN did not offer them (RFC 7323 1.3, 3.2)', () => {
      const { k } = listening();
      k.send({ ...SYN, seq: IRS, options: { mss: 1460 } });
      expect(k.one().options).to.deep.equal({ mss: 1460 });
    });

    it('agrees to ECN with SYN-ACK|ECE when the SYN is ECN-setup (ECE+CWR, RFC 3168 6.1.1)', () => {
      const { k } = listening();
      k.send({ ...SYN, flags: S | ECE | CWR, seq: IRS });
      const s = k.one();
      expect(s.flags).to.equal(S | A | ECE);
      expect(s.ecn).to.equal(Ecn.NotEct); // RFC 3168 6.1.1: the SYN-ACK is not ECT
    });

    it('does not set ECE when the SYN has ECE alone (not an ECN-setup SYN)', () => {
      const { k } = listening();
      k.send({ ...SYN, flags: S | ECE, seq: IRS });
      expect(k.one().flags).to.equal(S | A);
    });

    it('answers an ACK to a listening port with <SEQ=SEG.ACK><CTL=RST>', () => {
      const { k } = listening();
      k.send({ ...ACK, seq: IRS, ack: 123456 });
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: 123456, ack: 0, len: 0 });
      expect(k.stack.control.connections.size).to.equal(0);
    });

    it('ignores a RST to a listening port', () => {
      const { k } = listening();
      k.send({ ...RST, seq: IRS });
      expect(k.sent()).to.deep.equal([]);
    });

    it('drops the SYN when the backlog of half-open connections is full, and counts it', () => {
      const { k } = listening({}, 1);
      k.send({ ...SYN, seq: IRS, srcPort: 40001 });
      k.send({ ...SYN, seq: IRS, srcPort: 40002 });
      const out = k.sent();
      expect(out.map((s) => [s.flags, s.dstPort])).to.deep.equal([[S | A, 40001]]);
      expect(k.stack.control.counters.synDroppedBacklog).to.equal(1);
      expect(k.stack.control.connections.size).to.equal(1);
    });
  });

  describe('CLOSED port (RFC 9293 3.10.7.1)', () => {
    it('answers a segment with ACK with <SEQ=SEG.ACK><CTL=RST>', () => {
      const k = new SegmentKit();
      k.send({ ...ACK, seq: IRS, ack: 4242, payload: bytes(10) });
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: 4242, ack: 0, len: 0 });
    });

    it('answers a segment without ACK with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
      const k = new SegmentKit();
      k.send({ flags: P, seq: IRS, ack: 0, window: 100, payload: bytes(10) });
      expect(fields(k.one())).to.deep.equal({ flags: R | A, seq: 0, ack: IRS + 10, len: 0 });
    });

    it('counts SYN and FIN in SEG.LEN', () => {
      const k = new SegmentKit();
      k.send({ ...SYN, seq: IRS });
      expect(fields(k.one())).to.deep.equal({ flags: R | A, seq: 0, ack: IRS + 1, len: 0 });
      k.send({ flags: F, seq: IRS, ack: 0, window: 100, payload: bytes(3) });
      expect(fields(k.one())).to.deep.equal({ flags: R | A, seq: 0, ack: IRS + 4, len: 0 });
    });

    it('never answers a RST', () => {
      const k = new SegmentKit();
      k.send({ ...RST_ACK, seq: IRS, ack: 1 });
      expect(k.sent()).to.deep.equal([]);
    });
  });

  describe('SYN-SENT (RFC 9293 3.10.7.3)', () => {
    it('resolves the peer with ARP, then sends SYN <SEQ=ISS> with MSS, WS, TS and ECE|CWR', () => {
      const { k, c, syn } = synSent();
      expect(k.arpRequests).to.equal(1);
      expect(fields(syn)).to.deep.equal({ flags: S | ECE | CWR, seq: ISS, ack: 0, len: 0 });
      expect(syn.options).to.deep.include({ mss: 1460, wscale: windowScaleFor(RX), tsEcr: 0 });
      expect(c.state).to.equal(TcpState.SynSent);
    });

    it('completes on SYN-ACK with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and enters ESTABLISHED', () => {
      const { k, c, connected } = synSent();
      k.send({ ...SYN_ACK, seq: IRS, ack: ISS + 1, options: { mss: 1460 } });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.Established);
      expect(connected()).to.equal(1);
    });

    it('answers a SYN-ACK whose ACK is not ISS+1 with <SEQ=SEG.ACK><CTL=RST> and stays in SYN-SENT', () => {
      const { k, c } = synSent();
      k.send({ ...SYN_ACK, seq: IRS, ack: ISS + 77 });
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: ISS + 77, ack: 0, len: 0 });
      expect(c.state).to.equal(TcpState.SynSent);
      k.send({ ...SYN_ACK, seq: IRS, ack: ISS }); // SEG.ACK =< ISS
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: ISS, ack: 0, len: 0 });
      expect(c.state).to.equal(TcpState.SynSent);
    });

    it('reports ECONNREFUSED on RST with an acceptable ACK', () => {
      const { k, c, errors } = synSent();
      k.send({ ...RST_ACK, seq: 0, ack: ISS + 1 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Closed);
      expect(errors.map((e) => e?.code)).to.deep.equal(['ECONNREFUSED']);
    });

    it('drops a RST without ACK and a RST with an unacceptable ACK', () => {
      const { k, c, errors } = synSent();
      k.send({ ...RST, seq: 0 });
      k.send({ ...RST_ACK, seq: 0, ack: ISS + 9 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.SynSent);
      expect(errors).to.deep.equal([]);
    });

    it('moves to SYN-RECEIVED on a SYN without ACK and sends <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (simultaneous open, 3.5 figure 8)', () => {
      const { k, c } = synSent();
      k.send({ ...SYN, seq: IRS, options: { mss: 1460 } });
      const s = k.one();
      expect(fields(s)).to.deep.equal({ flags: S | A, seq: ISS, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.SynReceived);
      // The peer's SYN-ACK crosses ours: ACK it and enter ESTABLISHED.
      k.send({ ...SYN_ACK, seq: IRS, ack: ISS + 1 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.Established);
    });

    it('retransmits the SYN with exponential back-off when unanswered (RFC 6298 5.5)', () => {
      const { k } = synSent({ synRtoMs: 1000, synRetries: 3 });
      const at: number[] = [];
      const t0 = k.clock.now();
      for (let ms = 0; ms < 7100; ms++) {
        k.advance(1);
        for (const s of k.sent()) {
          expect(fields(s)).to.deep.equal({ flags: S | ECE | CWR, seq: ISS, ack: 0, len: 0 });
          at.push(Math.round((k.clock.now() - t0) / 1e6));
        }
      }
      expect(at).to.deep.equal([1000, 3000, 7000]);
    });

    it('gives up with ETIMEDOUT after the configured SYN retries', () => {
      const { k, c, errors } = synSent({ synRtoMs: 1000, synRetries: 3 });
      k.advance(14_999);
      expect(k.sent()).to.have.length(3);
      expect(c.state).to.equal(TcpState.SynSent);
      k.advance(1);
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Closed);
      expect(errors.map((e) => e?.code)).to.deep.equal(['ETIMEDOUT']);
    });
  });

  describe('SYN-RECEIVED (RFC 9293 3.10.7.4)', () => {
    it('enters ESTABLISHED on an ACK of our SYN and hands the connection to the listener', () => {
      const { k, accepted, c } = synReceived();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Established);
      expect(accepted).to.deep.equal([c]);
    });

    it('answers an unacceptable ACK with <SEQ=SEG.ACK><CTL=RST> and stays in SYN-RECEIVED', () => {
      const { k, accepted, c } = synReceived();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: ISS + 2, ack: 0, len: 0 });
      expect(c.state).to.equal(TcpState.SynReceived);
      expect(accepted).to.deep.equal([]);
    });

    it('answers a retransmitted SYN with the same SYN-ACK', () => {
      const { k, synAck } = synReceived();
      k.send({ ...SYN, seq: IRS, options: { mss: 1460 } });
      const again = k.one();
      expect(fields(again, true)).to.deep.equal(fields(synAck, true));
    });

    it('retransmits the SYN-ACK after the SYN RTO when the ACK is lost', () => {
      const { k } = synReceived({ mss: 1460 }, { synRtoMs: 1000 });
      k.advance(999);
      expect(k.sent()).to.deep.equal([]);
      k.advance(1);
      expect(fields(k.one())).to.deep.equal({ flags: S | A, seq: ISS, ack: IRS + 1, len: 0 });
    });

    it('delivers data carried on the ACK that completes the handshake and ACKs it', () => {
      const { k, c } = synReceived();
      k.send({ ...ACK, flags: A | P, seq: IRS + 1, ack: ISS + 1, payload: Buffer.from('hello') });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 1,
        ack: IRS + 6,
        window: RX - 5,
        len: 0,
      });
      expect(c.state).to.equal(TcpState.Established);
      expect(c.read()?.toString()).to.equal('hello');
    });

    it('returns to LISTEN on an in-window RST (passive open): the half-open connection is forgotten', () => {
      const { k, c } = synReceived();
      k.send({ ...RST, seq: IRS + 1 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Closed);
      expect(k.stack.control.connections.size).to.equal(0);
      expect(k.stack.control.listeners.get(LISTEN_PORT)?.halfOpen).to.equal(0);
    });
  });

  describe('ESTABLISHED (RFC 9293 3.10.7.4)', () => {
    it('ACKs each in-order segment <SEQ=SND.NXT><ACK=RCV.NXT> with the shrinking window, and delivers the bytes', () => {
      const { k, c } = established();
      for (let i = 0; i < 3; i++) {
        k.send({ ...ACK, seq: IRS + 1 + 100 * i, ack: ISS + 1, payload: bytes(100, 100 * i) });
        expect(fields(k.one(), true)).to.deep.equal({
          flags: A,
          seq: ISS + 1,
          ack: IRS + 1 + 100 * (i + 1),
          window: RX - 100 * (i + 1),
          len: 0,
        });
      }
      expect(c.read()).to.deep.equal(bytes(300));
    });

    it('answers a segment beyond the window with an ACK and drops it', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1 + RX, ack: ISS + 1, payload: bytes(10) });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 1,
        ack: IRS + 1,
        window: RX,
        len: 0,
      });
      expect(c.readableLength).to.equal(0);
    });

    it('answers an old duplicate (entirely below RCV.NXT) with an ACK and drops it', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, payload: bytes(100) });
      k.sent();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, payload: bytes(50) });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 101, len: 0 });
      expect(c.readableLength).to.equal(100);
    });

    /** ESTABLISHED, 100 B of ours in flight, the peer's `RX` bytes filling our receive buffer. */
    function zeroWindowWithDataInFlight() {
      const { k, c } = established();
      c.write(bytes(100));
      expect(k.sent().map((s) => fields(s))).to.deep.equal([
        { flags: A | P, seq: ISS + 1, ack: IRS + 1, len: 100 },
      ]);
      for (let off = 0; off < RX; off += 1024)
        k.send({ ...ACK, seq: IRS + 1 + off, ack: ISS + 1, payload: bytes(1024, off) });
      const acks = k.sent();
      expect(fields(acks[acks.length - 1]!, true)).to.deep.equal({
        flags: A,
        seq: ISS + 101,
        ack: IRS + 1 + RX,
        window: 0,
        len: 0,
      });
      expect(c.writableLength).to.equal(c.txSize - 100);
      return { k, c };
    }

    it('takes the ACK on a zero-window probe and drops its byte ("special allowance ... to accept valid ACKs")', () => {
      // The deadlock this guards against: a peer probing our zero window while it holds our
      // data un-ACKed; if the ACK on its probes is discarded, our TX ring never frees.
      const { k, c } = zeroWindowWithDataInFlight();
      k.send({ ...ACK, seq: IRS + 1 + RX, ack: ISS + 101, payload: bytes(1, RX) });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 101,
        ack: IRS + 1 + RX,
        window: 0,
        len: 0,
      });
      expect(c.writableLength, 'our 100 B acknowledged').to.equal(c.txSize);
      expect(c.readableLength, 'the probe byte is not taken').to.equal(RX);
      expect(k.stack.stats().dataPath.protocol.drops.NotAcceptable).to.equal(1);
    });

    it('takes the ACK on a pure ACK at the right edge of the window (SEG.SEQ = RCV.NXT + RCV.WND, as Linux)', () => {
      const { k, c } = established();
      c.write(bytes(100));
      k.sent();
      k.send({ ...ACK, seq: IRS + 1 + RX, ack: ISS + 101 });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 101,
        ack: IRS + 1,
        window: RX,
        len: 0,
      });
      expect(c.writableLength).to.equal(c.txSize);
    });

    it('does not take the ACK on an old duplicate or on a segment beyond the right edge', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, payload: bytes(100) });
      c.write(bytes(100));
      k.sent();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 101, payload: bytes(50) }); // below RCV.NXT
      k.send({ ...ACK, seq: IRS + 102 + RX, ack: ISS + 101, payload: bytes(10) }); // beyond RCV.NXT + RCV.WND
      expect(k.sent().map((s) => fields(s))).to.deep.equal([
        { flags: A, seq: ISS + 101, ack: IRS + 101, len: 0 },
        { flags: A, seq: ISS + 101, ack: IRS + 101, len: 0 },
      ]);
      expect(c.writableLength, 'still in flight').to.equal(c.txSize - 100);
    });

    it('answers an ACK of something not yet sent (SEG.ACK > SND.NXT) with an ACK and drops the segment', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1000, payload: bytes(10) });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.readableLength).to.equal(0);
    });

    it('retransmits from SND.UNA (go-back-N) on the third duplicate ACK (RFC 5681 3.2)', () => {
      const { k, c } = established();
      c.write(bytes(3000));
      const first = k.sent();
      expect(first.map((s) => [s.seq, s.payload.length])).to.deep.equal([
        [ISS + 1, 1448],
        [ISS + 1 + 1448, 1448],
        [ISS + 1 + 2896, 104],
      ]);
      for (let i = 0; i < 2; i++) {
        k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1 });
        expect(k.sent(), `duplicate ACK ${i + 1}`).to.deep.equal([]);
      }
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1 });
      const again = k.sent();
      expect(again.length).to.be.greaterThan(0);
      expect(fields(again[0]!)).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 1448 });
      expect(again[0]!.payload).to.deep.equal(bytes(1448));
      expect(k.stack.stats().dataPath.protocol.fastRetransmits).to.equal(1);
    });

    it('resets on a RST with SEQ = RCV.NXT: ECONNRESET, CLOSED (RFC 5961 3.2)', () => {
      const { k, c, errors } = established();
      k.send({ ...RST, seq: IRS + 1 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Closed);
      expect(errors.map((e) => e?.code)).to.deep.equal(['ECONNRESET']);
    });

    it('answers an in-window RST that is not exactly RCV.NXT with a challenge ACK (RFC 5961 3.2)', () => {
      const { k, c, errors } = established();
      k.send({ ...RST, seq: IRS + 11 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.Established);
      expect(errors).to.deep.equal([]);
      expect(k.stack.control.counters.challengeAcks).to.equal(1);
    });

    it('silently drops a RST outside the window (RFC 5961 3.2)', () => {
      const { k, c } = established();
      k.send({ ...RST, seq: IRS + 1 + RX + 10 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Established);
    });

    it('answers a SYN with a challenge ACK and stays ESTABLISHED (RFC 5961 4.2)', () => {
      const { k, c } = established();
      k.send({ ...SYN, seq: IRS + 500 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.Established);
    });

    it('stops sending into a zero window and probes with 1 byte after the RTO (RFC 9293 3.8.6.1)', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, window: 0 });
      expect(k.sent()).to.deep.equal([]);
      c.write(bytes(100));
      expect(k.sent()).to.deep.equal([]);
      const t0 = k.clock.now();
      let probe = k.sent();
      while (probe.length === 0 && k.clock.now() - t0 < 5e9) {
        k.advance(1);
        probe = k.sent();
      }
      expect(probe.map((s) => fields(s))).to.deep.equal([{ flags: A, seq: ISS + 1, ack: IRS + 1, len: 1 }]);
      expect(probe[0]!.payload).to.deep.equal(bytes(1));
      const waited = (k.clock.now() - t0) / 1e6;
      expect(waited).to.be.within(1000, 1002); // the initial RTO (RFC 6298 2.1), one control tick of slack
    });

    it('reopens sending on a window update', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, window: 0 });
      c.write(bytes(100));
      expect(k.sent()).to.deep.equal([]);
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, window: 65535 });
      const s = k.one();
      expect(fields(s)).to.deep.equal({ flags: A | P, seq: ISS + 1, ack: IRS + 1, len: 100 });
    });

    it('sends no more than the peer window allows (SND.UNA + SND.WND)', () => {
      const { k, c } = established();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, window: 300 });
      c.write(bytes(1000));
      const out = k.sent();
      expect(out.reduce((n, s) => n + s.payload.length, 0)).to.equal(300);
      expect(out[0]!.seq).to.equal(ISS + 1);
    });

    it('drops a segment with an old timestamp and ACKs it (PAWS, RFC 7323 5.3)', () => {
      const { k, c } = established({ mss: 1460, tsVal: 100, tsEcr: 0 });
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, payload: bytes(10), options: { tsVal: 50, tsEcr: 0 } });
      const s = k.one();
      expect(fields(s)).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(s.options.tsEcr).to.equal(100);
      expect(c.readableLength).to.equal(0);
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 1, payload: bytes(10), options: { tsVal: 101, tsEcr: 0 } });
      const ok = k.one();
      expect(fields(ok)).to.deep.equal({ flags: A, seq: ISS + 1, ack: IRS + 11, len: 0 });
      expect(ok.options.tsEcr).to.equal(101);
      expect(c.readableLength).to.equal(10);
    });

    it('retransmits from SND.UNA after the RTO, doubling it each time (RFC 6298 5.4, 5.5)', () => {
      const { k, c } = established();
      c.write(bytes(100));
      expect(fields(k.one())).to.deep.equal({ flags: A | P, seq: ISS + 1, ack: IRS + 1, len: 100 });
      const t0 = k.clock.now();
      const at: number[] = [];
      while (at.length < 3 && k.clock.now() - t0 < 10e9) {
        k.advance(1);
        for (const s of k.sent()) {
          expect(fields(s)).to.deep.equal({ flags: A | P, seq: ISS + 1, ack: IRS + 1, len: 100 });
          at.push((k.clock.now() - t0) / 1e6);
        }
      }
      expect(at).to.have.length(3);
      const gaps = [at[0]!, at[1]! - at[0]!, at[2]! - at[1]!];
      // 1 s, 2 s, 4 s, each within one control tick.
      [1000, 2000, 4000].forEach((want, i) => expect(gaps[i], `gap ${i}`).to.be.within(want, want + 2));
    });

    it('keeps doubling the RTO with an RTT measured before the outage and duplicate ACKs during it (RFC 6298 5.5, 5.7; RFC 7323 4.2)', () => {
      // Regression: the congestion-control loop fed the last smoothed RTT to the estimator every
      // interval, which reset the back-off: retransmissions every minimum RTO, then ETIMEDOUT
      // after dataRetries in a few seconds (seen against Linux over net_af_xdp).
      const { k, c } = established({ mss: 1460, tsVal: 100, tsEcr: 0 });
      c.write(bytes(100));
      const first = k.one();
      k.advance(5); // a 5 ms RTT, measured from the timestamp echo
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 101, options: { tsVal: 102, tsEcr: first.options.tsVal! } });
      k.advance(50);
      k.sent();
      c.write(bytes(100));
      expect(fields(k.one())).to.deep.equal({ flags: A | P, seq: ISS + 101, ack: IRS + 1, len: 100 });
      const t0 = k.clock.now();
      const at: number[] = [];
      while (at.length < 5 && k.clock.now() - t0 < 60e9) {
        k.advance(1);
        for (const s of k.sent()) {
          expect(fields(s)).to.deep.equal({ flags: A | P, seq: ISS + 101, ack: IRS + 1, len: 100 });
          at.push((k.clock.now() - t0) / 1e6);
          // The peer answers each retransmission with a duplicate ACK (it lost the segment again):
          // no new data acknowledged, so no RTT sample (RFC 7323 4.2) and the back-off stays.
          k.send({ ...ACK, seq: IRS + 1, ack: ISS + 101, options: { tsVal: 103, tsEcr: s.options.tsVal! } });
        }
      }
      expect(at).to.have.length(5);
      const gaps = at.map((t, i) => (i === 0 ? t : t - at[i - 1]!));
      for (let i = 1; i < gaps.length; i++)
        expect(
          gaps[i]! / gaps[i - 1]!,
          `gap ${i} doubles: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`,
        ).to.be.within(1.9, 2.1);
      expect(c.state).to.equal(TcpState.Established);
    });
  });

  describe('closing: we close first (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT)', () => {
    it('sends FIN <SEQ=SND.NXT><ACK=RCV.NXT>, FIN-WAIT-1 -> FIN-WAIT-2 on its ACK', () => {
      const { k, c } = established();
      c.shutdown();
      expect(fields(k.one())).to.deep.equal({ flags: F | A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      expect(c.state).to.equal(TcpState.FinWait1);
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.FinWait2);
    });

    it('still receives and ACKs data in FIN-WAIT-2 (half-close), then ACKs the FIN and enters TIME-WAIT', () => {
      const { k, c, ended, errors } = established();
      c.shutdown();
      k.sent();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 2 });
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 2, payload: bytes(20) });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 2, ack: IRS + 21, len: 0 });
      expect(c.read()).to.deep.equal(bytes(20));
      k.send({ ...FIN_ACK, seq: IRS + 21, ack: ISS + 2 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 2, ack: IRS + 22, len: 0 });
      expect(c.state).to.equal(TcpState.TimeWait);
      expect(ended()).to.equal(1);
      expect(errors).to.deep.equal([undefined]); // onClose, gracefully, on entering TIME-WAIT
    });

    it('regression: a RST right behind the FIN in one burst meets TIME-WAIT, not FIN-WAIT-2 (RFC 1337)', () => {
      // The data path takes the FIN (flow event) and hands the RST over as an exception; the
      // control plane took exceptions first and reset a connection the peer had closed cleanly.
      const { k, c, errors } = established();
      c.shutdown();
      k.sent();
      k.send({ ...ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(c.state).to.equal(TcpState.FinWait2);
      k.sendBurst([
        { ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 },
        { ...RST, seq: IRS + 2 },
      ]);
      expect(c.state).to.equal(TcpState.TimeWait);
      expect(errors).to.deep.equal([undefined]);
    });

    it('goes FIN-WAIT-1 -> TIME-WAIT on a FIN that also ACKs our FIN', () => {
      const { k, c } = established();
      c.shutdown();
      k.sent();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 2, ack: IRS + 2, len: 0 });
      expect(c.state).to.equal(TcpState.TimeWait);
    });

    it('simultaneous close: the FINs cross -> CLOSING -> TIME-WAIT on the ACK of our FIN', () => {
      const { k, c } = established();
      c.shutdown();
      expect(fields(k.one())).to.deep.equal({ flags: F | A, seq: ISS + 1, ack: IRS + 1, len: 0 });
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 1 }); // the peer's FIN, sent before ours arrived
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 2, ack: IRS + 2, len: 0 });
      expect(c.state).to.equal(TcpState.Closing);
      k.send({ ...ACK, seq: IRS + 2, ack: ISS + 2 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.TimeWait);
    });

    it('TIME-WAIT re-ACKs a retransmitted FIN <SEQ=SND.NXT><ACK=RCV.NXT>', () => {
      const { k, c } = established();
      c.shutdown();
      k.sent();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      k.sent();
      expect(c.state).to.equal(TcpState.TimeWait);
      k.advance(50);
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 2,
        ack: IRS + 2,
        // The FIN took a sequence number, no buffer: the right edge stays (RFC 9293 3.8.6.2.2,
        // a 1-byte increase is not announced), so the window reads one less than the buffer.
        window: RX - 1,
        len: 0,
      });
      expect(c.state).to.equal(TcpState.TimeWait);
    });

    it('TIME-WAIT ends after the configured time (2 MSL) and forgets the connection', () => {
      const { k, c } = established({ mss: 1460 }, { timeWaitMs: 100 });
      c.shutdown();
      k.sent();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      k.sent();
      k.advance(99);
      expect(c.state).to.equal(TcpState.TimeWait);
      k.advance(1);
      expect(c.state).to.equal(TcpState.Closed);
      expect(k.stack.control.connections.size).to.equal(0);
      expect(k.sent()).to.deep.equal([]);
      // The 4-tuple is free again: a segment for it now meets a CLOSED port.
      k.send({ ...ACK, seq: IRS + 2, ack: ISS + 2 });
      expect(fields(k.one())).to.deep.equal({ flags: R, seq: ISS + 2, ack: 0, len: 0 });
    });

    it('TIME-WAIT restarts the 2 MSL timer on a retransmitted FIN (regression: it did not)', () => {
      const { k, c } = established({ mss: 1460 }, { timeWaitMs: 100 });
      c.shutdown();
      k.sent();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      k.sent();
      k.advance(50);
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      expect(fields(k.one())).to.deep.equal({ flags: A, seq: ISS + 2, ack: IRS + 2, len: 0 });
      k.advance(99);
      expect(c.state).to.equal(TcpState.TimeWait);
      k.advance(1);
      expect(c.state).to.equal(TcpState.Closed);
    });

    it('ignores a RST in TIME-WAIT (RFC 1337)', () => {
      const { k, c } = established();
      c.shutdown();
      k.sent();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 2 });
      k.sent();
      k.send({ ...RST, seq: IRS + 2 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.TimeWait);
    });
  });

  describe('closing: the peer closes first (CLOSE-WAIT, LAST-ACK)', () => {
    it('ACKs the peer FIN, signals end of data and enters CLOSE-WAIT', () => {
      const { k, c, ended } = established();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 1 });
      expect(fields(k.one(), true)).to.deep.equal({
        flags: A,
        seq: ISS + 1,
        ack: IRS + 2,
        window: RX,
        len: 0,
      });
      expect(c.state).to.equal(TcpState.CloseWait);
      expect(ended()).to.equal(1);
    });

    it('still sends data in CLOSE-WAIT (half-close), then FIN -> LAST-ACK -> CLOSED on its ACK', () => {
      const { k, c, errors } = established();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 1 });
      k.sent();
      expect(c.canWrite).to.equal(true);
      c.write(bytes(50));
      expect(fields(k.one())).to.deep.equal({ flags: A | P, seq: ISS + 1, ack: IRS + 2, len: 50 });
      k.send({ ...ACK, seq: IRS + 2, ack: ISS + 51 });
      expect(k.sent()).to.deep.equal([]);
      c.shutdown();
      expect(fields(k.one())).to.deep.equal({ flags: F | A, seq: ISS + 51, ack: IRS + 2, len: 0 });
      expect(c.state).to.equal(TcpState.LastAck);
      k.send({ ...ACK, seq: IRS + 2, ack: ISS + 52 });
      expect(k.sent()).to.deep.equal([]);
      expect(c.state).to.equal(TcpState.Closed);
      expect(errors).to.deep.equal([undefined]);
      expect(k.stack.control.connections.size).to.equal(0);
    });

    it('sends the FIN on the segment carrying the last queued data (RFC 9293 3.10.4)', () => {
      const { k, c } = established();
      k.send({ ...FIN_ACK, seq: IRS + 1, ack: ISS + 1 });
      k.sent();
      c.write(bytes(10));
      c.shutdown();
      const out = k.sent();
      expect(out.map((x) => fields(x))).to.deep.equal([
        { flags: F | A | P, seq: ISS + 1, ack: IRS + 2, len: 10 },
      ]);
      const fin = out[0]!;
      expect(fin.seq + fin.payload.length).to.equal(ISS + 11);
    });
  });
});
