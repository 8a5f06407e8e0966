import { expect } from 'chai';
import { RealTimeClock, realTime } from './real-time.js';

describe('RealTimeClock', () => {
  it('reads nanoseconds that follow the wall clock', async () => {
    const c = new RealTimeClock();
    const t0 = c.now();
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const dt = c.now() - t0;
    expect(Number.isInteger(t0)).to.equal(true);
    expect(dt).to.be.at.least(15e6);
    expect(dt).to.be.below((Date.now() - w0 + 5) * 1e6);
  });

  it('is monotonic and shared between instances (one origin per process)', () => {
    const a = new RealTimeClock();
    let last = a.now();
    for (let i = 0; i < 1000; i++) {
      const t = a.now();
      expect(t).to.be.at.least(last);
      last = t;
    }
    expect(Math.abs(new RealTimeClock().now() - realTime.now())).to.be.below(50e6);
  });

  it('fires a timer no earlier than its delay', async () => {
    const c = new RealTimeClock();
    const start = c.now();
    const firedAt = await new Promise<number>((resolve) => c.schedule(2_500_000, () => resolve(c.now())));
    expect(firedAt - start).to.be.at.least(2_500_000);
    expect(c.pendingTimers).to.equal(0);
  });

  it('runs a zero delay on the next turn, not synchronously', async () => {
    const c = new RealTimeClock();
    let fired = false;
    const done = new Promise<void>((resolve) =>
      c.schedule(0, () => {
        fired = true;
        resolve();
      }),
    );
    expect(fired).to.equal(false);
    await done;
    expect(fired).to.equal(true);
  });

  it('cancel stops a timer; cancelAll stops all', async () => {
    const c = new RealTimeClock();
    let fired = 0;
    const h = c.schedule(1_000_000, () => fired++);
    c.schedule(1_000_000, () => fired++);
    c.schedule(0, () => fired++);
    c.cancel(h);
    expect(c.pendingTimers).to.equal(2);
    c.cancelAll();
    await new Promise((r) => setTimeout(r, 10));
    expect(fired).to.equal(0);
  });

  it('unrefTimers: a pending timer does not keep the process alive', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `
      import { RealTimeClock } from ${JSON.stringify(new URL('./real-time.ts', import.meta.url).href)};
      new RealTimeClock({ unrefTimers: true }).schedule(60e9, () => console.log('fired'));
    `;
    const start = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(Date.now() - start).to.be.below(30_000);
  });

  it('refuses a NaN delay', () => {
    expect(() => new RealTimeClock().schedule(NaN, () => {})).to.throw(RangeError);
  });
});
