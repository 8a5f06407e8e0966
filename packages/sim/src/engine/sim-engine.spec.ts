import { expect } from 'chai';
import { realTime } from '@flextoe/core';
import { EventQueue, type SimEventTarget } from './event-queue.js';
import { SimEngine, SimPoll, type SimParticipant } from './sim-engine.js';

/** Resolves when `cond()` holds (checked every millisecond of wall time). */
function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (cond()) resolve();
      else if (Date.now() > end) reject(new Error('timed out'));
      else setTimeout(check, 1);
    };
    check();
  });
}

describe('EventQueue', () => {
  it('delivers in time order, ties in scheduling order', () => {
    const q = new EventQueue();
    const seen: number[] = [];
    const t: SimEventTarget = { onSimEvent: (_k, arg) => seen.push(arg) };
    const times = [50, 10, 30, 10, 50, 0, 30, 10];
    times.forEach((time, i) => q.push(time, t, 0, i));
    while (q.size > 0) q.popAndRun();
    expect(seen).to.deep.equal([5, 1, 3, 7, 2, 6, 0, 4]);
  });

  it('grows past its initial capacity without losing order', () => {
    const q = new EventQueue();
    const seen: number[] = [];
    const t: SimEventTarget = { onSimEvent: (_k, arg) => seen.push(arg) };
    for (let i = 0; i < 5000; i++) q.push((i * 7919) % 5000, t, 0, (i * 7919) % 5000);
    while (q.size > 0) q.popAndRun();
    expect(seen).to.deep.equal(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('SimEngine (virtual time)', () => {
  it('runs timers at their simulated instant, in order, as fast as it can', async () => {
    const e = new SimEngine({ mode: 'virtual' });
    const t0 = e.now();
    const fired: number[] = [];
    e.schedule(3_000_000_000, () => fired.push(e.now() - t0)); // 3 s of simulated time
    e.schedule(1000, () => fired.push(e.now() - t0));
    const h = e.schedule(2000, () => fired.push(-1));
    e.cancel(h);
    const wall0 = Date.now();
    await until(() => fired.length === 2);
    expect(fired).to.deep.equal([1000, 3_000_000_000]);
    expect(Date.now() - wall0).to.be.below(2500); // simulated seconds are not wall seconds
    e.close();
  });

  it('lets the application finish what a callback deferred before the clock moves on', async () => {
    const e = new SimEngine({ mode: 'virtual' });
    const log: string[] = [];
    let deliver = false;
    const p: SimParticipant = {
      simDirty: false,
      simPoll() {
        if (!deliver) return 0;
        deliver = false;
        // The "application callback": it answers later in the same instant (nextTick, then an
        // immediate), as stream-based code does.
        const at = e.now();
        process.nextTick(() =>
          setImmediate(() => {
            log.push(`answered at ${e.now() - at}`);
            e.noteKick(p);
          }),
        );
        return SimPoll.App;
      },
    };
    e.attach(p);
    e.schedule(500, () => {
      deliver = true;
      e.markDirty(p);
    });
    e.schedule(10_000, () => log.push('later timer'));
    await until(() => log.length === 2);
    expect(log).to.deep.equal(['answered at 0', 'later timer']);
    e.close();
  });

  it('parks when nothing is pending, and wakes on a kick', async () => {
    const e = new SimEngine({ mode: 'virtual' });
    let polls = 0;
    const p: SimParticipant = {
      simDirty: false,
      simPoll: () => {
        polls++;
        return 0;
      },
    };
    e.attach(p);
    await until(() => polls === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(polls).to.equal(1);
    e.noteKick(p);
    await until(() => polls === 2);
    e.close();
  });

  it("parks after idleParkNs of nothing but a participant's quiet periodic timer, at its instant", async () => {
    // A stack's control loop ticks every millisecond and kicks its stack each time: that is the
    // stack's own machinery, not activity, so virtual time parks (it used to tick forever).
    const e = new SimEngine({ mode: 'virtual', idleParkNs: 2e9 });
    let polls = 0;
    const p: SimParticipant = {
      simDirty: false,
      simPoll: () => {
        polls++;
        return 0;
      },
    };
    e.attach(p);
    const t0 = e.now();
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      e.noteKick(p);
      e.scheduleQuiet(1e6, tick);
    };
    e.scheduleQuiet(1e6, tick);
    let last = -1;
    await until(() => {
      const parked = e.now() === last && ticks > 0;
      last = e.now();
      return parked;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(e.now() - t0).to.equal(2e9); // the last tick within 2 s of the last activity
    expect(ticks).to.equal(2000);
    expect(polls).to.equal(ticks + 1); // each tick's kick polled the participant
    // The application wakes it: time goes on from there.
    e.noteKick(p);
    await until(() => e.now() > t0 + 2e9);
    e.close();
  });

  it('gives the application its turn when a quiet timer reports that it reached it', async () => {
    const e = new SimEngine({ mode: 'virtual' });
    const log: string[] = [];
    const at = e.now();
    e.scheduleQuiet(1000, () => {
      // e.g. a retransmission timeout closed a connection and onClose ran
      process.nextTick(() => setImmediate(() => log.push(`answered at ${e.now() - at}`)));
      e.noteApplicationCall();
    });
    e.scheduleQuiet(2000, () => log.push('next timer'));
    await until(() => log.length === 2);
    expect(log).to.deep.equal(['answered at 1000', 'next timer']);
    e.close();
  });

  it('without applicationDefers, runs the same instants without a turn per delivery', async () => {
    const e = new SimEngine({ mode: 'virtual' });
    e.applicationDefers = false;
    const fired: number[] = [];
    for (let i = 1; i <= 5000; i++) e.scheduleQuiet(i * 1000, () => fired.push(e.now()));
    let turns = 0;
    const count = (): void => {
      turns++;
      if (fired.length < 5000) setImmediate(count);
    };
    setImmediate(count);
    await until(() => fired.length === 5000);
    expect(fired[4999]! - fired[0]!).to.equal(4999 * 1000);
    // Node's event loop still turns (every few hundred instants), not once per instant.
    expect(turns).to.be.within(2, 100);
    e.close();
  });

  it('hands out the same random streams for the same seed and label', () => {
    const a = new SimEngine({ mode: 'virtual', seed: 42 }).random('memory');
    const b = new SimEngine({ mode: 'virtual', seed: 42 }).random('memory');
    const c = new SimEngine({ mode: 'virtual', seed: 43 }).random('memory');
    const draw = (r: typeof a) => Array.from({ length: 8 }, () => r.nextU32());
    const da = draw(a);
    expect(draw(b)).to.deep.equal(da);
    expect(draw(c)).to.not.deep.equal(da);
  });
});

describe('SimEngine (paced time)', () => {
  it('never runs an event before the wall clock reaches it, and reports how late it was', async () => {
    const e = new SimEngine({ mode: 'paced' });
    const results: { simNs: number; wallNs: number; dueNs: number }[] = [];
    for (const delayMs of [1, 3, 6]) {
      const due = e.now() + delayMs * 1e6;
      e.schedule(delayMs * 1e6, () => results.push({ simNs: e.now(), wallNs: realTime.now(), dueNs: due }));
    }
    await until(() => results.length === 3);
    for (const r of results) {
      expect(r.simNs).to.be.at.least(r.dueNs - 1); // runs at its own instant...
      expect(r.simNs).to.be.at.most(r.wallNs); // ...never ahead of the wall clock
    }
    const s = e.pacingStats();
    expect(s.maxLagNs).to.be.at.least(0);
    expect(s.meanLagNs).to.be.at.most(s.maxLagNs);
    e.close();
  });
});
