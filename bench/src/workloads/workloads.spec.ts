import { expect } from 'chai';
import { memoryNet } from '../testing/memory-net.js';
import { kv } from './kv.js';
import { bulk } from './bulk.js';
import { rpcEcho } from './rpc-echo.js';
import { MeasureWindow, wallNow, type Budget, type Workload, type WorkloadEnv } from './workload.js';

const env = (): WorkloadEnv => ({
  timeBase: 'wall',
  now: wallNow,
  cpuUs: () => 0,
  cpuScope: 'test',
});

const budget = (over: Partial<Budget> = {}): Budget => ({
  warmupNs: 20e6,
  durationNs: 100e6,
  wallCapMs: 20_000,
  seed: 3,
  onProgress: () => {},
  ...over,
});

async function runOn(w: Workload, params: Record<string, number | string>, fragment: number) {
  const net = memoryNet(fragment);
  const server = await w.serve(net, 'mem', params);
  try {
    // A window long enough for replies that cross one byte per event-loop turn on a busy machine.
    return await w.drive(net, 'mem', server.port, params, env(), budget({ warmupNs: 0, durationNs: 500e6 }));
  } finally {
    await server.close();
  }
}

describe('workloads (in-memory net, every message split into small pieces)', () => {
  it('rpc-echo completes requests whose echoes arrive a few bytes at a time', async () => {
    const m = await runOn(rpcEcho, { messageBytes: 100, connections: 3, depth: 2 }, 7);
    expect(m.requests).to.be.greaterThan(0);
    expect(m.bytes).to.equal(m.requests * 200);
    expect(m.latencySamples).to.equal(m.requests);
    expect(m.errors).to.equal(0);
  });

  it('kv parses memcached replies split at every byte boundary, gets and sets alike', async () => {
    const params = { getRatio: 0.5, keys: 50, valueBytes: 7, connections: 2, depth: 3 };
    const m = await runOn(kv, params, 1);
    expect(m.requests).to.be.greaterThan(0);
    expect(m.errors).to.equal(0);
    expect(m.p50Us).to.be.a('number');
  });

  it('bulk counts every byte delivered in the window', async () => {
    const m = await runOn(bulk, { connections: 2, chunkBytes: 4096 }, 1024);
    expect(m.requestsPerSec).to.equal(null);
    expect(m.bytes).to.be.greaterThan(0);
    expect(m.goodputGbps).to.be.closeTo((m.bytes * 8) / m.durationS / 1e9, 1e-9);
  });

  it('a refused connection fails the run with the error, not a hang', async () => {
    const net = memoryNet(64);
    let err: Error | null = null;
    await rpcEcho
      .drive(net, 'mem', 1, { messageBytes: 8, connections: 1, depth: 1 }, env(), budget())
      .catch((e: Error) => (err = e));
    expect(err)
      .to.be.an('error')
      .with.property('message')
      .that.matches(/connect 1\/1 failed: .*ECONNREFUSED/);
  });
});

describe('MeasureWindow', () => {
  /** A modelled clock the test moves by hand. */
  const manual = () => {
    let t = 0;
    return {
      env: { timeBase: 'modelled' as const, now: () => t, cpuUs: () => null, cpuScope: null },
      advance: (ns: number) => (t += ns),
    };
  };

  it('warms up, then measures exactly the modelled duration', async () => {
    const c = manual();
    let opened = 0;
    const w = new MeasureWindow(c.env, budget({ warmupNs: 1000, durationNs: 5000 }), () => opened++);
    w.start();
    c.advance(999);
    expect(w.tick()).to.equal(true);
    expect(w.phase).to.equal('warmup');
    c.advance(1);
    w.tick();
    expect([w.phase, opened]).to.deep.equal(['measure', 1]);
    c.advance(6000);
    expect(w.tick()).to.equal(false);
    const r = await w.finished;
    expect(r.durationNs).to.equal(6000); // closed at the first tick past the end
    expect(r.truncated).to.equal(false);
    expect(r.cpuUs).to.equal(null);
  });

  it('cuts a slow model short at its wall-clock allowance and says so', async () => {
    const c = manual();
    const w = new MeasureWindow(c.env, budget({ warmupNs: 10, durationNs: 1e12, maxWallNs: 30e6 }), () => {});
    w.start();
    c.advance(10);
    w.tick();
    expect(w.phase).to.equal('measure');
    c.advance(500);
    const r = await w.finished; // the window's own 5 ms timer ticks it after ~24 ms of wall time
    expect(r.truncated).to.equal(true);
    expect(r.durationNs).to.equal(500);
  });

  it('fails a run that outlives its wall-clock cap', async () => {
    const c = manual();
    const w = new MeasureWindow(c.env, budget({ wallCapMs: 20 }), () => {});
    w.start();
    let err: Error | null = null;
    await w.finished.catch((e: Error) => (err = e));
    expect(err)
      .to.be.an('error')
      .with.property('message')
      .that.matches(/did not finish within 0\.02 s of wall-clock time \(still warming up\)/);
  });
});
