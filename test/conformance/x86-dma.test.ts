// The conformance scenarios on the x86 backend with the example stage graph on threads:
// one NIC core (protocol for every flow group) fed by 2 pre-processing replicas (validation,
// checksums), finished by 2 post-processing replicas (TCP checksums) and with 1 DMA replica
// running its payload copies between the frame slots and the host rings, with completions the
// core waits for before it notifies the application or transmits. Both stacks use it, so every
// byte of every profile crossed two DMA replicas; the last test checks the replicas really
// carried the payload (none copied on the core).
import { expect } from 'chai';
import { liveNicWorkers, type ThreadedStackStats } from '@flextoe/backend-x86';
import type { Connection } from '@flextoe/core';
import { describeBackendConformance, patternBytes, stackPair, until } from './backend-conformance.js';

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
