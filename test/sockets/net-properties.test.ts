// Property: whatever the write sizes, write styles (respecting write() === false or not,
// cork/uncork batches), reader pauses and read sizes, every byte written before end() comes
// back exactly once and in order, and the events keep Node's invariants. Small rings (4 KiB)
// so ring wraps, full windows and backpressure happen all the time.
import { expect } from 'chai';
import fc from 'fast-check';
import { backendAvailability, pattern, stackPair, within, type StackPair } from './net-kit.js';

const backends = (await backendAvailability()).filter((b) => b.usable);

interface Plan {
  chunks: number[];
  /** Wait for 'drain' when write() returns false (else keep writing: the Writable buffers). */
  respectBackpressure: boolean;
  /** Write in cork()/uncork() batches of this many chunks (0: no corking), so _writev runs. */
  corkEvery: number;
  /** The echo server pauses for this many turns after every n-th chunk it reads (0: never). */
  serverPauseEvery: number;
  /** The client reads with read(n) in 'readable' mode instead of 'data'. */
  clientReadSize: number | null;
  seed: number;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  chunks: fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 24 }),
  respectBackpressure: fc.boolean(),
  corkEvery: fc.constantFrom(0, 2, 5),
  serverPauseEvery: fc.constantFrom(0, 1, 3),
  clientReadSize: fc.option(fc.integer({ min: 1, max: 9000 }), { nil: null }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

async function runPlan(pair: StackPair, port: number, plan: Plan): Promise<void> {
  const total = plan.chunks.reduce((a, b) => a + b, 0);
  const data = pattern(total, plan.seed);
  const serverErrors: string[] = [];
  const srv = pair.a.net.createServer((s) => {
    s.on('error', (e: Error) => serverErrors.push(e.message));
    let n = 0;
    s.on('data', (d: Buffer) => {
      if (!s.write(d)) s.pause(); // a well-behaved echo: stop reading while the echo is blocked
      if (plan.serverPauseEvery > 0 && ++n % plan.serverPauseEvery === 0) {
        s.pause();
        setImmediate(() => setImmediate(() => s.resume()));
      }
    });
    s.on('drain', () => s.resume());
    s.on('end', () => s.end());
  });
  srv.listen(port);
  const c = pair.b.net.connect(port, '10.0.0.1');
  const events: string[] = [];
  const received: Buffer[] = [];
  for (const e of ['end', 'finish', 'close', 'error']) c.on(e, () => events.push(e));
  if (plan.clientReadSize === null) {
    c.on('data', (d: Buffer) => {
      if (events.includes('end')) events.push('data-after-end');
      received.push(d);
    });
  } else {
    const size = plan.clientReadSize;
    c.on('readable', () => {
      let d: Buffer | null;
      // read(n) holds back fewer than n bytes until the stream has ended, then returns them.
      while ((d = c.read(size) as Buffer | null) !== null) received.push(d);
    });
  }
  const closed = new Promise((r) => c.once('close', r));
  await new Promise((r) => c.once('connect', r));
  let off = 0;
  for (let i = 0; i < plan.chunks.length; i++) {
    const corking = plan.corkEvery > 0 && i % plan.corkEvery === 0;
    if (corking) c.cork();
    const ok = c.write(data.subarray(off, off + plan.chunks[i]!));
    off += plan.chunks[i]!;
    if (plan.corkEvery > 0 && (i % plan.corkEvery === plan.corkEvery - 1 || i === plan.chunks.length - 1))
      c.uncork();
    if (!ok && plan.respectBackpressure) {
      if (c.writableCorked) c.uncork();
      await new Promise((r) => c.once('drain', r));
    }
  }
  while (c.writableCorked) c.uncork();
  c.end();
  await within(closed, 30_000, `plan ${JSON.stringify({ ...plan, chunks: plan.chunks.length })}`);
  srv.close();
  const got = Buffer.concat(received);
  expect(serverErrors).to.deep.equal([]);
  expect(got.length).to.equal(total);
  expect(got.equals(data)).to.equal(true);
  // Node's invariants: 'end' and 'finish' (in either order) before one 'close', no error.
  expect(events.slice().sort()).to.deep.equal(['close', 'end', 'finish']);
  expect(events[2]).to.equal('close');
}

for (const b of backends) {
  describe(`net properties on ${b.name}`, function () {
    this.timeout(120_000);
    let pair: StackPair;
    before(async function () {
      this.timeout(60_000);
      pair = await stackPair(b.name, { config: { stack: { rxBufferBytes: 4096, txBufferBytes: 4096 } } });
    });
    after(async () => {
      await pair?.close();
    });

    it('every byte back exactly once, in order, whatever the writes, corking, pauses and read sizes', async () => {
      let port = 20_000;
      await fc.assert(
        fc.asyncProperty(planArb, (plan) => runPlan(pair, port++, plan)),
        { numRuns: 25, seed: 20_261_125 },
      );
    });
  });
}
