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
    it('regression: the advertised right edge does not move left when RCV.NXT advances by less than 2^wscale', () => {
      const f = flow(1000);
      f.tcp.rxAvail = 1124;
      protocolRx(segment(f, 100), f.tcp, f.cfg, RING, RING, f.res);
      const first = edge(f.res); // RCV.NXT 1100 + 1024 free = 8 units of 128: edge 2124
      expect(first).to.equal(2124);
      protocolRx(segment(f, 1), f.tcp, f.cfg, RING, RING, f.res);
      // 1023 B free round down to 7 units: 1101 + 896 = 1997 would retract the edge by 127 B.
      expect(f.res.actions & A.SendAck).to.not.equal(0);
      expect(edge(f.res)).to.equal(2125); // 1101 + 8 units: 1 B beyond the buffer, never left
    });

    it('never moves the right edge left, and goes beyond the free buffer only by the rounding that needs', () => {
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
              // RFC 7323 2.3: RCV.WND >> shift, the free buffer rounded down to the granularity.
              const rounded = seq.add(f.tcp.rcvNxt, (f.tcp.rxAvail >>> SHIFT) << SHIFT);
              if (last === null || seq.ge(rounded, last)) {
                expect(e, 'the plain rounded-down window when it does not retract').to.equal(rounded);
              } else {
                // It would retract: the smallest edge at or right of the last one (RFC 9293 3.8.6).
                expect(seq.ge(e, last), 'edge moved left').to.equal(true);
                expect(seq.diff(e, last)).to.be.below(1 << SHIFT);
              }
              last = e;
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it('data segments advertise through the same rule (no shrink between an ACK and the next segment)', () => {
      const f = flow(0xfffffff0); // RCV.NXT about to wrap
      f.tcp.rxAvail = 1124;
      f.tcp.txAvail = 10;
      protocolRx(segment(f, 100), f.tcp, f.cfg, RING, RING, f.res);
      const acked = edge(f.res);
      protocolRx(segment(f, 1), f.tcp, f.cfg, RING, RING, f.res);
      protocolTx(f.tcp, f.cfg, RING, 0, f.res);
      expect(f.res.actions & A.TxSegment).to.not.equal(0);
      expect(seq.ge(edge(f.res), acked)).to.equal(true);
    });
  });
});
