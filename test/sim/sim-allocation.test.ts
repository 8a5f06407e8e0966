import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { SimAllocationResult } from './sim-allocation.fixture.js';

/**
 * The simulator's per-segment garbage, a regression guard. It is not zero: the virtual wire reads
 * the engine's clock through calls V8 does not always inline (a picosecond time is no small
 * integer, so it is boxed; the data path and `RxWakeup` read it into a register instead), and so
 * do a few of the simulator's own calls: about 25-110 B per segment on this machine (V8's
 * sampling heap profiler's figure varies that much between runs). Before the engine's clock
 * fields started as doubles and times crossed calls through typed registers it was 650-660 B (a
 * heap number per instant, per reservation argument, per DMA; a view per payload copy), which
 * this bound fails.
 */
describe('simulated NICs: steady-state allocation (fresh process)', function () {
  this.timeout(300_000);
  const fixture = fileURLToPath(new URL('./sim-allocation.fixture.ts', import.meta.url));

  for (const model of ['agilio', 'bluefield']) {
    it(`${model}: a bulk transfer allocates under 250 B per segment`, () => {
      const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, model], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(child.status, child.stderr).to.equal(0);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as SimAllocationResult;
      // 24 MiB more in the large run: about 35 000 segments.
      expect(r.segments).to.be.above(30_000);
      expect(r.bytesPerSegment, 'bytes allocated per segment').to.be.below(250);
    });
  }
});
