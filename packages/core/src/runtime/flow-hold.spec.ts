// Holding a newly installed flow's segments until the host has re-run what it took before the
// install (flow-hold.ts): the store's bookkeeping, then the data path's use of it on an inline
// stack driven segment by segment (the x86 NIC cores are the runner that holds: its spec,
// install-order.spec.ts, reproduces the overtaking this prevents).
import { expect } from 'chai';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { TcpFlag } from '../wire/tcp.js';
import { ACK, bytes, fields, LISTEN_PORT, SegmentKit, STACK_ISS, SYN } from '../control/segment-test-kit.js';
import type { Connection } from './connection.js';
import type { DataPath } from './data-path.js';
import { FlowHold } from './flow-hold.js';
import type { TcpStack } from './tcp-stack.js';

function frame(tag: number): PacketBuffer {
  const b = new PacketBuffer(64);
  b.data[0] = tag;
  b.length = 1;
  return b;
}

describe('runtime/flow-hold', () => {
  const store = (capacity = 8): FlowHold => {
    let made = 0;
    const h = new FlowHold(4, capacity, () => {
      made++;
      return Array.from({ length: capacity }, () => new PacketBuffer(64));
    });
    expect(made, 'no slots before the first hold').to.equal(0);
    return h;
  };
  const tags = (out: PacketBuffer[], n: number): number[] => out.slice(0, n).map((b) => b.data[0]!);

  it('releases each flow at its own count, its frames in arrival order; the others keep theirs', () => {
    const h = store();
    h.hold(1, 10);
    h.hold(2, 12);
    expect(h.flows).to.equal(2);
    h.add(1, frame(11));
    h.add(2, frame(21));
    h.add(1, frame(12));
    h.add(2, frame(22));
    const out: PacketBuffer[] = [];
    expect(h.release(9, out)).to.equal(0);
    expect(h.release(10, out)).to.equal(2);
    expect(tags(out, 2)).to.deep.equal([11, 12]);
    expect([h.holds(1), h.holds(2), h.flows]).to.deep.equal([false, true, 1]);
    h.add(2, frame(23));
    expect(h.release(12, out)).to.equal(3);
    expect(tags(out, 3)).to.deep.equal([21, 22, 23]);
    expect(h.flows).to.equal(0);
    expect(h.room).to.equal(8);
    expect(h.counters).to.deep.equal({ held: 5, released: 5, discarded: 0 });
  });

  it('compares counts mod 2^32', () => {
    const h = store();
    h.hold(0, 0x7fffffff + 2); // wraps to a negative int32
    expect(h.release(0x7fffffff, [])).to.equal(0);
    expect(h.holds(0)).to.equal(true);
    h.release((0x7fffffff + 2) | 0, []);
    expect(h.holds(0)).to.equal(false);
  });

  it('a removed flow is no longer held and its frames are discarded; a full store refuses (counted)', () => {
    const h = store(2);
    h.hold(3, 1);
    h.add(3, frame(31));
    h.add(3, frame(32));
    expect(h.room).to.equal(0);
    expect(h.add(3, frame(33))).to.equal(false);
    h.remove(3);
    expect([h.holds(3), h.flows, h.room]).to.deep.equal([false, 0, 2]);
    expect(h.release(1, [])).to.equal(0);
    expect(h.counters).to.deep.equal({ held: 2, released: 0, discarded: 3 });
  });
});

describe('runtime/data-path: a held flow', () => {
  const IRS = 5000;
  /** An established passive-open connection on the inline stack, immediate ACKs. */
  function established(): { k: SegmentKit; c: Connection; dp: DataPath; got: Buffer[] } {
    const k = new SegmentKit({ delayedAck: false });
    const got: Buffer[] = [];
    k.stack.listen(LISTEN_PORT, (c) => {
      c.handlers.onReadable = (x) => got.push(x.read()!);
    });
    k.send({ ...SYN, seq: IRS, options: { mss: 1460 } });
    k.one();
    k.send({ ...ACK, seq: IRS + 1, ack: STACK_ISS + 1 });
    const c = [...k.stack.control.connections.values()][0]!;
    return { k, c, dp: (k.stack as TcpStack).dataPath, got };
  }
  const data = (i: number) => ({
    ...ACK,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    seq: IRS + 1 + i * 100,
    ack: STACK_ISS + 1,
    payload: bytes(100, i * 100),
  });

  it('takes its segments only once released, in arrival order, then directly', () => {
    const { k, c, dp, got } = established();
    dp.holdFlow(c.flowId, 7);
    k.sendBurst([data(0), data(1)]);
    expect(k.sent(), 'nothing acknowledged while held').to.deep.equal([]);
    expect(got).to.deep.equal([]);
    dp.releaseHeldFlows(6);
    expect(k.sent()).to.deep.equal([]);
    dp.releaseHeldFlows(7);
    expect(k.sent().map((s) => fields(s))).to.deep.equal([
      { flags: TcpFlag.ACK, seq: STACK_ISS + 1, ack: IRS + 101, len: 0 },
      { flags: TcpFlag.ACK, seq: STACK_ISS + 1, ack: IRS + 201, len: 0 },
    ]);
    k.send(data(2));
    expect(k.one().ack).to.equal(IRS + 301);
    k.settle();
    expect(Buffer.concat(got).equals(bytes(300))).to.equal(true);
    expect(dp.hold.counters).to.deep.equal({ held: 2, released: 2, discarded: 0 });
  });

  it('a flow removed while held drops what it held', () => {
    const { k, c, dp, got } = established();
    dp.holdFlow(c.flowId, 1);
    k.send(data(0));
    k.stack.control.abort(c);
    k.settle();
    dp.releaseHeldFlows(1);
    expect(got).to.deep.equal([]);
    expect(dp.hold.flows).to.equal(0);
    expect(dp.hold.counters).to.deep.equal({ held: 1, released: 0, discarded: 1 });
  });
});
