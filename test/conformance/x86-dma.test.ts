// The conformance scenarios on the x86 backend with the example stage graph on threads:
// one NIC core (protocol for every flow group) fed by 2 pre-processing replicas (validation,
// checksums), finished by 2 post-processing replicas (TCP checksums) and with 1 DMA replica
// running its payload copies between the frame slots and the host rings, with completions the
// core waits for before it notifies the application or transmits. Both stacks use it, so every
// byte of every profile crossed two DMA replicas; the last test checks the replicas really
// carried the payload (none copied on the core). Then core's own transfer profiles (seeded loss,
// reordering, duplication, corruption) in lockstep on the suites' ManualClock, with one NIC core
// and one DMA replica per stack (FLEXTOE_X86_DMA_LOCKSTEP_MIB, default 1 MiB each way).
import { expect } from 'chai';
import { liveNicWorkers, ThreadedStack, X86Cores, type ThreadedStackStats } from '@flextoe/backend-x86';
import { setStackUnderTest, type Connection, type StackHardware, type TcpStackOptions } from '@flextoe/core';
import { describeBackendConformance, patternBytes, stackPair, until } from './backend-conformance.js';
import { captureSuites } from './capture-suites.js';

const config = { x86: { placement: 'run-to-completion', graph: { pre: 2, post: 2, dma: 1 } } } as const;

describe('x86 DMA replicas (1 NIC core; pre 2, post 2, dma 1)', () => {
  describeBackendConformance('x86', { config });

  it('the DMA replicas carried every payload byte (none copied on the core)', async function () {
    this.timeout(120_000);
    const { a, b, close } = await stackPair('x86', {}, { config });
    try {
      const data = patternBytes(1 << 20, 21);
      let got = 0;
      a.listen(7000, (s: Connection) => {
        s.handlers.onReadable = (x) => {
          const r = x.read();
          if (r) got += r.length;
        };
      });
      const c = b.connect('10.0.0.1', 7000);
      let off = 0;
      const push = (): void => {
        while (off < data.length && c.canWrite) {
          const n = c.write(data, off);
          if (n === 0) break;
          off += n;
        }
      };
      c.handlers.onConnect = push;
      c.handlers.onWritable = push;
      await until(() => got === data.length, 60_000, '1 MiB through DMA replicas');
      for (const [stack, dir] of [
        [b, 'fromHost'],
        [a, 'toHost'],
      ] as const) {
        const s = stack.stats() as ThreadedStackStats;
        expect(s.x86.dma).to.have.length(1);
        expect(s.x86.dma[0]![dir], `${dir} copies`).to.be.greaterThan(data.length / 1500);
        const engine = s.x86.cores[0]!.dma as { inline: number; submitted: number };
        expect(engine.inline, 'copies done on the core').to.equal(0);
        expect(s.dataPath.dma.waits).to.be.greaterThan(0);
      }
    } finally {
      await close();
    }
  });

  after(() => expect(liveNicWorkers(), 'NIC threads left running').to.equal(0));
});

const profiles = await captureSuites(
  new URL('../../packages/core/src/runtime/transfer-profiles.spec.ts', import.meta.url),
  {
    FLEXTOE_TRANSFER_MIB: process.env.FLEXTOE_X86_DMA_LOCKSTEP_MIB ?? '1',
  },
  'x86-dma',
);

describe('core transfer profiles on x86 with a DMA replica (lockstep)', function () {
  this.timeout(600_000);
  const stacks: ThreadedStack[] = [];

  before(() =>
    setStackUnderTest((hw: StackHardware, options: TcpStackOptions) => {
      const s = ThreadedStack.createSync({
        options,
        port: hw.port,
        units: new X86Cores(1, 0, 0, 1),
        time: { clock: hw.clock, timers: hw.timers },
        spinRounds: 0,
      });
      stacks.push(s);
      return s;
    }),
  );

  afterEach(async () => {
    // Each stack's payload went through its replica (the profiles move data both ways).
    const copied = stacks.map((s) => s.stats().x86.dma.reduce((n, r) => n + r.copies, 0));
    await Promise.all(stacks.splice(0).map((s) => s.close()));
    expect(
      copied.some((n) => n > 0),
      'copies by DMA replicas',
    ).to.equal(true);
    expect(liveNicWorkers(), 'NIC threads still running').to.equal(0);
  });

  after(() => setStackUnderTest(null));

  for (const [name, fn] of profiles) describe(name, fn);
});
