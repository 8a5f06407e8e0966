import { expect } from 'chai';
import { StagedRing } from './staged-ring.js';

const SHAPE = { capacity: 4, maxFrameBytes: 64 };

function frame(tag: number): Uint8Array {
  return Uint8Array.from({ length: 60 }, (_, i) => (tag + i) & 0xff);
}

describe('StagedRing (producer -> stage -> consumer, frames stay in place)', () => {
  it('hands frames on in order: the consumer sees only what the stage finished, with its verdict', () => {
    const r = StagedRing.create(SHAPE);
    expect(r.push(frame(1), 60)).to.equal(true);
    expect(r.push(frame(2), 60)).to.equal(true);
    expect(r.peek(), 'nothing finished yet').to.equal(-1);
    const s1 = r.stagePeek();
    expect([...r.slot(s1, true).data.subarray(0, 60)]).to.deep.equal([...frame(1)]);
    r.stageDone(0);
    expect(r.peek(), 'not committed yet').to.equal(-1);
    r.stageCommit();
    const c1 = r.peek();
    expect(c1).to.equal(s1);
    expect(r.verdict(c1)).to.equal(0);
    expect(r.frameLength(c1)).to.equal(60);
    r.consume();
    expect(r.peek()).to.equal(-1);
    r.stagePeek();
    r.stageDone(17); // e.g. WireError.TcpBadChecksum
    r.stageCommit();
    expect(r.verdict(r.peek())).to.equal(17);
    r.consume();
    expect(r.stagePeek()).to.equal(-1);
  });

  it('is full at capacity until the consumer (not the stage) frees slots, and wraps', () => {
    const r = StagedRing.create(SHAPE);
    for (let i = 0; i < 4; i++) expect(r.push(frame(i), 60)).to.equal(true);
    expect(r.push(frame(9), 60)).to.equal(false);
    for (let i = 0; i < 4; i++) {
      r.stagePeek();
      r.stageDone(0);
    }
    r.stageCommit();
    expect(r.push(frame(9), 60), 'staged but not consumed: still full').to.equal(false);
    for (let round = 0; round < 10; round++) {
      r.peek();
      r.consume();
      expect(r.push(frame(round + 10), 60)).to.equal(true);
      const s = r.stagePeek();
      expect(r.slot(s, true).data[0]).to.equal((round + 10) & 0xff);
      r.stageDone(0);
      r.stageCommit();
    }
    expect(r.free).to.equal(0);
  });

  it('attaches to the same ring from another view and refuses a different geometry', () => {
    const r = StagedRing.create(SHAPE);
    const other = StagedRing.attach(r.buffer, SHAPE);
    expect(r.push(frame(5), 60)).to.equal(true);
    expect(other.stagePeek()).to.be.at.least(0);
    expect(() => StagedRing.attach(r.buffer, { ...SHAPE, capacity: 8 })).to.throw(RangeError);
  });

  it('peekAt looks past the head at finished frames only; size counts published, not taken', () => {
    const r = StagedRing.create(SHAPE);
    for (let i = 0; i < 3; i++) r.push(frame(i), 60);
    expect(r.size).to.equal(3);
    r.stagePeek();
    r.stageDone(0);
    r.stagePeek();
    r.stageDone(0);
    r.stageCommit();
    expect(r.slot(r.peekAt(1), true).data[0]).to.equal(1);
    expect(r.peekAt(2), 'published but not finished').to.equal(-1);
    r.consume();
    expect(r.size).to.equal(2);
    expect(r.slot(r.peekAt(0), true).data[0]).to.equal(1);
  });
});
