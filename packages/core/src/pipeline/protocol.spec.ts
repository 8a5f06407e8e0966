import { expect } from 'chai';
import fc from 'fast-check';
import { HeapMemoryTiers } from '../runtime/heap-memory.js';
import { FlowFlag, FlowStateTables, type ProtocolRecord } from '../state/flow-records.js';
import { seq, type SeqNumber } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import { OooIntervals } from './ooo-intervals.js';
import { protocolRx, protocolRxConsumed, protocolTx, type ProtocolConfig } from './protocol.js';
import { ProtocolAction as A, ProtocolResult, RxSummary } from './work-items.js';

const RING = 1 << 16;
const SHIFT = 7; // 128-byte window granularity

interface Flow {
  tcp: ProtocolRecord;
  cfg: ProtocolConfig;
  res: ProtocolResult;
  /** Bytes received and not yet consumed by the application. */
  unread: number;
}

function flow(rcvNxt: number): Flow {
  const tables = new FlowStateTables(2, new HeapMemoryTiers());
  const tcp = tables.protocol.at(1);
  tcp.clear();
  tcp.flags = FlowFlag.Valid;
  tcp.setWscale(SHIFT, SHIFT);
  tcp.sndNxt = seq.from(5000);
  tcp.sndMax = tcp.sndNxt;
  tcp.sndWnd = RING;
  tcp.rcvNxt = seq.from(rcvNxt);
  tcp.rxAvail = RING;
  const cfg = { mss: 1448, delayedAck: false, ooo: new OooIntervals(2, 1), nowTs: 0 };
  return { tcp, cfg, res: new ProtocolResult(), unread: 0 };
}

/** An in-order data segment of `len` bytes, as pre-processing would summarise it. */
function segment(f: Flow, len: number): RxSummary {
  const s = new RxSummary();
  s.flowId = 1;
  s.seq = f.tcp.rcvNxt;
  s.ack = f.tcp.sndNxt;
  s.window = RING >>> SHIFT;
  s.tcpFlags = TcpFlag.ACK | TcpFlag.PSH;
  s.payloadLength = len;
  return s;
}

/** The right edge an ACK in `res` advertises: SEG.ACK + (SEG.WND << shift). */
function edge(res: ProtocolResult): SeqNumber {
  return seq.add(res.ack, res.window << SHIFT);
}

describe('pipeline/protocol', () => {
  describe('window scaling (RFC 7323 2.4, RFC 9293 3.8.6)', () => {
    it('regression: the advertised right edge never lies beyond the free buffer; where the scale cannot keep it, it retracts by less than one unit', () => {
      const f = flow(1000);
      f.tcp.rxAvail = 1124;
      protocolRx(segment(f, 100), f.tcp, f.cfg, RING, RING, f.res);
      const first = edge(f.res); // RCV.NXT 1100 + 1024 free = 8 units of 128: edge 2124
      expect(first).to.equal(2124);
      protocolRx(segment(f, 1), f.tcp, f.cfg, RING, RING, f.res);
      expect(f.res.actions & A.SendAck).to.not.equal(0);
      // 1023 B free: 8 units from RCV.NXT 1101 (2125) would promise 1 B the ring does not have,
      // and rounding up on every segment let that overcommit grow by up to 127 B per segment
      // (the peer's bytes past the buffer were refused and went again after a timeout). 7 units
      // (1997) retract the edge by 127 B < 2^shift (RFC 7323 Appendix F): every byte sent up to
      // the old edge still fits the buffer, so none is refused.
      expect(edge(f.res)).to.equal(1997);
      expect(seq.diff(seq.add(f.tcp.rcvNxt, f.tcp.rxAvail), edge(f.res))).to.be.at.least(0);
    });

    it('never promises beyond the free buffer, and moves the right edge left only by less than one unit', () => {
      fc.assert(
        fc.property(
          fc.nat(0xffffffff),
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 3000 })), {
            minLength: 1,
            maxLength: 60,
          }),
          (start, ops) => {
            const f = flow(start);
            let last: SeqNumber | null = null;
            for (const [receive, n] of ops) {
              if (receive) {
                const len = Math.min(n, f.tcp.rxAvail);
                if (len === 0) continue;
                protocolRx(segment(f, len), f.tcp, f.cfg, RING, RING, f.res);
                f.unread += len;
              } else {
                const m = Math.min(n, f.unread);
                if (m === 0) continue;
                f.unread -= m;
                protocolRxConsumed(f.tcp, f.cfg, RING, m, f.res);
              }
              if ((f.res.actions & A.SendAck) === 0) continue;
              const e = edge(f.res);
              if (last === null) {
                // RFC 7323 2.3: RCV.WND >> shift, the free buffer rounded down to the granularity.
                const rounded = seq.add(f.tcp.rcvNxt, (f.tcp.rxAvail >>> SHIFT) << SHIFT);
                expect(e, 'the first offer is the free buffer').to.equal(rounded);
              } else {
                expect(
                  seq.diff(seq.add(f.tcp.rcvNxt, f.tcp.rxAvail), e),
                  'beyond the free buffer',
                ).to.be.at.least(0);
                expect(seq.diff(last, e), 'retracted by a unit or more').to.be.below(1 << SHIFT);
                // RFC 9293 3.8.6.2.2: the edge moves only once the free buffer is
                // min(RCV.BUFF / 2, MSS) beyond it, and then by whole steps; otherwise it stays
                // (to the granularity: rounded up where the buffer holds that, else down).
                const promised = seq.diff(last, f.tcp.rcvNxt); // RCV.WND as the peer knows it
                const step = Math.min(RING / 2, 1448);
                const grow = f.tcp.rxAvail - promised;
                if (grow >= step) {
                  // Whole steps beyond the old edge, rounded down to the granularity.
                  const w = ((promised + grow - (grow % step)) >>> SHIFT) << SHIFT;
                  if (w >= promised) expect(e, 'whole steps').to.equal(seq.add(f.tcp.rcvNxt, w));
                  else expect(Math.abs(seq.diff(e, last)), 'kept edge').to.be.below(1 << SHIFT);
                } else expect(Math.abs(seq.diff(e, last)), 'kept edge').to.be.below(1 << SHIFT);
              }
              last = e;
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('data segments advertise through the same rule (the edge the last ACK offered)', () => {
      const f = flow(0xfffffff0); // RCV.NXT about to wrap
      f.tcp.rxAvail = 1124;
      f.tcp.txAvail = 10;
      protocolRx(segment(f, 100), f.tcp, f.cfg, RING, RING, f.res);
      protocolRx(segment(f, 1), f.tcp, f.cfg, RING, RING, f.res);
      const acked = edge(f.res);
      protocolTx(f.tcp, f.cfg, RING, RING, 0, f.res);
      expect(f.res.actions & A.TxSegment).to.not.equal(0);
      expect(edge(f.res)).to.equal(acked);
    });
  });

  describe('silly window syndrome avoidance (RFC 9293 3.8.6.2)', () => {
    const BUF = 4096;
    const MSS = 1448;

    /** A flow with a small host RX buffer and no window scaling, after the handshake's offer. */
    function small(): Flow {
      const f = flow(1000);
      f.tcp.setWscale(0, 0);
      f.tcp.rxAvail = BUF;
      f.tcp.sndWnd = BUF;
      return f;
    }
    const rx = (f: Flow, len: number): void => {
      const s = segment(f, len);
      s.window = BUF;
      protocolRx(s, f.tcp, f.cfg, BUF, RING, f.res);
      f.unread += len;
    };
    const consume = (f: Flow, n: number): void => {
      f.unread -= n;
      protocolRxConsumed(f.tcp, f.cfg, BUF, n, f.res);
    };
    const rightEdge = (res: ProtocolResult): SeqNumber => seq.add(res.ack, res.window);

    it('receiver: keeps RCV.NXT + RCV.WND fixed while the window would grow by less than min(RCV.BUFF/2, MSS)', () => {
      const f = small();
      rx(f, MSS);
      const offered = rightEdge(f.res);
      expect(offered).to.equal(seq.add(seq.from(1000), BUF));
      consume(f, 100); // frees 100 B: not worth announcing
      expect(f.res.actions & A.SendAck).to.equal(0);
      rx(f, 100);
      expect(rightEdge(f.res), 'small increase not offered').to.equal(offered);
      consume(f, f.unread); // everything read: 1548 B more than promised
      rx(f, 10); // 1538 B more than promised: the edge moves by one whole MSS
      expect(rightEdge(f.res), 'one MSS step').to.equal(seq.add(offered, MSS));
    });

    it('receiver: a closed window reopens only once min(RCV.BUFF/2, MSS) is free', () => {
      const f = small();
      rx(f, MSS);
      rx(f, MSS);
      rx(f, BUF - 2 * MSS);
      expect(f.res.window, 'zero window').to.equal(0);
      consume(f, 1000);
      expect(f.res.actions & A.SendAck, 'no update for 1000 B < one MSS').to.equal(0);
      consume(f, 400);
      expect(f.res.actions & A.SendAck, 'no update for 1400 B < one MSS').to.equal(0);
      consume(f, 48);
      expect(f.res.actions & A.SendAck, 'update once one MSS is free').to.not.equal(0);
      expect(f.res.window).to.equal(MSS);
      const edge1 = rightEdge(f.res);
      consume(f, f.unread); // 4096 B free, 1448 promised: 2648 B more is one whole step
      rx(f, 1);
      expect(rightEdge(f.res)).to.equal(seq.add(edge1, MSS));
    });

    it('receiver: with a buffer below two MSS the step is half the buffer', () => {
      const f = small();
      const buf = 2000;
      f.tcp.rxAvail = buf;
      const s = segment(f, buf);
      protocolRx(s, f.tcp, f.cfg, buf, RING, f.res);
      expect(f.res.window).to.equal(0);
      protocolRxConsumed(f.tcp, f.cfg, buf, 999, f.res);
      expect(f.res.actions & A.SendAck).to.equal(0);
      protocolRxConsumed(f.tcp, f.cfg, buf, 1, f.res);
      expect(f.res.window).to.equal(1000);
    });

    it('sender: with data in flight, holds a segment the window cuts below the MSS and half the window', () => {
      const f = small();
      f.tcp.txAvail = 10_000;
      const sent: number[] = [];
      for (let i = 0; i < 4; i++) {
        protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res);
        if ((f.res.actions & A.TxSegment) === 0) break;
        sent.push(f.res.txLength);
      }
      // 4096 B window: two full segments, then 1200 B (< MSS, < 2048 B) wait for an ACK.
      expect(sent).to.deep.equal([MSS, MSS]);
      expect(f.tcp.txSent).to.equal(2 * MSS);
    });

    it('sender: the bar is half of Max(SND.WND), the largest window offered, not of a window that shrank', () => {
      const f = small();
      f.tcp.txAvail = 10_000;
      f.tcp.txSent = 400;
      f.tcp.sndWnd = 1000; // the receiver fell behind: 600 B usable, above half of this window
      protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res, BUF);
      expect(f.res.actions & A.TxSegment, '600 B < 2048 B = Max(SND.WND) / 2: held').to.equal(0);
      protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res, 0);
      expect(f.res.txLength, 'only the current window known: 600 B >= 500 B, sent').to.equal(600);
      f.tcp.txSent = 0;
      protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res, BUF);
      expect(f.res.txLength, 'nothing in flight: sent whatever the bar').to.equal(1000);
    });

    it('sender: sends the small remainder of the data at once (pushed), and a small window with nothing in flight', () => {
      const f = small();
      f.tcp.txAvail = 300;
      f.tcp.txSent = 0;
      f.tcp.sndWnd = 200;
      protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res);
      expect(f.res.txLength, 'nothing in flight: no ACK will come to open the window').to.equal(200);
      f.tcp.sndWnd = 400; // 200 B usable, 100 B queued
      protocolTx(f.tcp, f.cfg, BUF, RING, 0, f.res);
      expect(f.res.txLength, 'all queued data fits: sent (no Nagle)').to.equal(100);
    });
  });

  describe('duplicate ACKs (RFC 5681 2, 3.2)', () => {
    /** A pure ACK of SND.UNA from the peer, advertising `window` bytes. */
    function pureAck(f: Flow, window: number): RxSummary {
      const s = segment(f, 0);
      s.ack = seq.sub32(f.tcp.sndNxt, f.tcp.txSent);
      s.window = window >>> SHIFT;
      s.tcpFlags = TcpFlag.ACK;
      return s;
    }

    function threeAcks(f: Flow, window: number): number {
      let actions = 0;
      for (let i = 0; i < 3; i++) {
        protocolRx(pureAck(f, window), f.tcp, f.cfg, RING, RING, f.res);
        actions |= f.res.actions;
      }
      return actions;
    }

    it('the third duplicate ACK with data outstanding retransmits from SND.UNA', () => {
      const f = flow(1000);
      f.tcp.txAvail = 4 * 1448;
      f.tcp.txSent = 2 * 1448; // two segments in flight, the window unchanged
      expect(threeAcks(f, RING) & A.Retransmitted).to.not.equal(0);
      expect(f.tcp.txSent, 'go-back-N: SND.NXT back at SND.UNA').to.equal(0);
    });

    it('replies to a zero-window probe are not duplicate ACKs: no retransmission of the probe byte', () => {
      const f = flow(1000);
      f.tcp.sndWnd = 0;
      f.tcp.txAvail = 100;
      f.tcp.txSent = 1; // the probe's one byte of new data (RFC 9293 3.8.6.1)
      expect(threeAcks(f, 0) & A.Retransmitted).to.equal(0);
      expect(f.tcp.txSent, 'the probe byte stays outstanding').to.equal(1);
    });
  });
});
