import { expect } from 'chai';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('starts where told and moves only when advanced', () => {
    const c = new ManualClock(100);
    expect(c.now()).to.equal(100);
    c.advance(50);
    expect(c.now()).to.equal(150);
    c.advanceTo(150);
    expect(c.now()).to.equal(150);
    expect(() => c.advanceTo(149)).to.throw(RangeError);
    expect(() => c.advance(-1)).to.throw(RangeError);
  });

  it('runs timers in due order, ties in scheduling order, each at its due time', () => {
    const c = new ManualClock();
    const log: string[] = [];
    c.schedule(30, () => log.push(`c@${c.now()}`));
    c.schedule(10, () => log.push(`a@${c.now()}`));
    c.schedule(30, () => log.push(`d@${c.now()}`));
    c.schedule(20, () => log.push(`b@${c.now()}`));
    c.advance(25);
    expect(log).to.deep.equal(['a@10', 'b@20']);
    expect(c.now()).to.equal(25);
    c.advance(100);
    expect(log).to.deep.equal(['a@10', 'b@20', 'c@30', 'd@30']);
    expect(c.now()).to.equal(125);
  });

  it('runs timers scheduled by timers when they fall inside the advance', () => {
    const c = new ManualClock();
    const log: number[] = [];
    c.schedule(10, () => {
      log.push(c.now());
      c.schedule(0, () => log.push(c.now()));
      c.schedule(5, () => log.push(c.now()));
      c.schedule(50, () => log.push(c.now()));
    });
    c.advance(20);
    expect(log).to.deep.equal([10, 10, 15]);
    expect(c.pendingTimers).to.equal(1);
  });

  it('cancel removes a timer; cancelling twice or a stale handle is harmless', () => {
    const c = new ManualClock();
    let fired = 0;
    const h = c.schedule(10, () => fired++);
    const other = c.schedule(10, () => fired++);
    c.cancel(h);
    c.cancel(h);
    c.advance(10);
    expect(fired).to.equal(1);
    c.cancel(other);
    expect(c.pendingTimers).to.equal(0);
  });

  it('runNext jumps to the next timer; runAll empties the queue; nextTimerAt peeks', () => {
    const c = new ManualClock();
    const log: number[] = [];
    c.schedule(7, () => log.push(c.now()));
    c.schedule(3, () => log.push(c.now()));
    expect(c.nextTimerAt()).to.equal(3);
    expect(c.runNext()).to.equal(true);
    expect(c.now()).to.equal(3);
    expect(c.runAll()).to.equal(1);
    expect(log).to.deep.equal([3, 7]);
    expect(c.runNext()).to.equal(false);
    expect(c.nextTimerAt()).to.equal(undefined);
  });

  it('runAll stops at its limit for a timer that reschedules itself forever', () => {
    const c = new ManualClock();
    const tick = (): void => void c.schedule(1, tick);
    c.schedule(1, tick);
    expect(c.runAll(100)).to.equal(100);
    expect(c.now()).to.equal(100);
  });

  it('treats negative delays as zero and refuses NaN', () => {
    const c = new ManualClock(5);
    let at = -1;
    c.schedule(-10, () => (at = c.now()));
    c.advance(0);
    expect(at).to.equal(5);
    expect(() => c.schedule(NaN, () => {})).to.throw(RangeError);
  });

  it('keeps heap order under many random schedules and cancels', () => {
    const c = new ManualClock();
    const fired: number[] = [];
    const handles: number[] = [];
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const due = x % 10_000;
      handles.push(c.schedule(due, () => fired.push(due)));
    }
    for (let i = 0; i < handles.length; i += 3) c.cancel(handles[i]!);
    c.advance(10_000);
    expect(fired).to.have.length(2000 - Math.ceil(2000 / 3));
    for (let i = 1; i < fired.length; i++) expect(fired[i]).to.be.at.least(fired[i - 1]!);
  });
});
