import { expect } from 'chai';
import { ConfigError } from '@flextoe/core';
import { DEFAULT_HOST_SPIN_US, DEFAULT_PLACEMENT, x86Options } from './placement.js';
import { X86Cores } from './x86-cores.js';

const problems = (raw: Record<string, unknown>): string[] => {
  try {
    x86Options(raw, 4);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.field);
  }
  return [];
};

describe('config.x86 (placement of the data path on host threads)', () => {
  it('defaults to one NIC core, run to completion, not pinned', () => {
    expect(x86Options({}, 4)).to.deep.equal({
      placement: DEFAULT_PLACEMENT,
      cores: 1,
      preReplicas: 0,
      postReplicas: 0,
      dmaReplicas: 0,
      pin: null,
      spinRounds: 64,
      hostSpinUs: DEFAULT_HOST_SPIN_US,
      portThread: 'host',
    });
    expect(DEFAULT_PLACEMENT).to.equal('run-to-completion');
  });

  it('parallel: N cores and k pre-processing replicas each; pin true spreads every NIC thread over CPUs 1..', () => {
    const o = x86Options({ placement: 'parallel', cores: 2, graph: { pre: 2 }, pin: true }, 4);
    expect(o).to.include({ placement: 'parallel', cores: 2, preReplicas: 2 });
    expect(o.pin).to.deep.equal([1, 2, 3, 1, 2, 3]);
    const units = new X86Cores(o.cores, o.preReplicas);
    const placed = units.place(units.graphFor(4));
    expect(placed.filter((p) => p.stage === 'pre').map((p) => p.core)).to.deep.equal([2, 3, 4, 5]);
    expect(X86Cores.groupCores(placed, 4)).to.deep.equal([0, 1, 0, 1]);
  });

  it('post-processing replicas: k per core, placed after the pre replicas; pinned after them too', () => {
    const o = x86Options({ placement: 'parallel', cores: 2, graph: { pre: 1, post: 2 }, pin: true }, 8);
    expect(o).to.include({ cores: 2, preReplicas: 1, postReplicas: 2 });
    expect(o.pin).to.have.length(2 * (1 + 1 + 2));
    const units = new X86Cores(o.cores, o.preReplicas, o.postReplicas);
    expect(units.cores).to.have.length(8);
    const placed = units.place(units.graphFor(4));
    expect(placed.filter((p) => p.stage === 'pre').map((p) => p.core)).to.deep.equal([2, 3]);
    expect(placed.filter((p) => p.stage === 'post').map((p) => p.core)).to.deep.equal([4, 5, 6, 7]);
    // A graph asking for another post split than the threads that run is refused.
    expect(() => units.place({ ...units.graphFor(4), post: 2 })).to.throw(/post is 2 .* 2 post-processing/);
  });

  it('DMA replicas: k per core, placed after the post replicas; the issue example pre 2 / post 2 / dma 1', () => {
    const o = x86Options(
      { placement: 'parallel', cores: 2, graph: { pre: 2, post: 2, dma: 1 }, pin: true },
      16,
    );
    expect(o).to.include({ cores: 2, preReplicas: 2, postReplicas: 2, dmaReplicas: 1 });
    expect(o.pin).to.have.length(2 * (1 + 2 + 2 + 1));
    const units = new X86Cores(o.cores, o.preReplicas, o.postReplicas, o.dmaReplicas);
    expect(units.cores).to.have.length(12);
    const graph = units.graphFor(4);
    expect(graph).to.include({ pre: 4, post: 4, dma: 2, ctxq: 2, qm: 2 });
    const placed = units.place(graph);
    expect(placed.filter((p) => p.stage === 'pre').map((p) => p.core)).to.deep.equal([2, 3, 4, 5]);
    expect(placed.filter((p) => p.stage === 'post').map((p) => p.core)).to.deep.equal([6, 7, 8, 9]);
    expect(placed.filter((p) => p.stage === 'dma').map((p) => p.core)).to.deep.equal([10, 11]);
    // Protocol stays per flow group on the NIC cores; context queue and queue manager on them too.
    expect(X86Cores.groupCores(placed, 4)).to.deep.equal([0, 1, 0, 1]);
    expect(placed.filter((p) => p.stage === 'qm').map((p) => p.core)).to.deep.equal([0, 1]);
    // Two DMA replicas per core; a graph asking for another DMA split than the threads that run is refused.
    const two = new X86Cores(1, 0, 0, 2);
    expect(
      two
        .place(two.graphFor(2))
        .filter((p) => p.stage === 'dma')
        .map((p) => p.core),
    ).to.deep.equal([1, 2]);
    expect(() => units.place({ ...graph, dma: 4 })).to.throw(/dma is 4 .* 1 DMA replica threads run 2/);
    expect(() => new X86Cores(1).place({ ...new X86Cores(1).graphFor(1), dma: 2 })).to.throw(
      /dma is 2 but each of the 1 NIC core\(s\) runs one dma instance/,
    );
  });

  it('inline has no NIC cores', () => {
    expect(x86Options({ placement: 'inline' }, 4)).to.include({ cores: 0, preReplicas: 0 });
  });

  it('names every bad field', () => {
    expect(problems({ placement: 'fast' })).to.deep.equal(['/x86/placement']);
    expect(problems({ placement: 'run-to-completion', cores: 2 })).to.deep.equal(['/x86/cores']);
    expect(problems({ placement: 'parallel', cores: 0 })).to.deep.equal(['/x86/cores']);
    expect(problems({ graph: { qm: 2 } })).to.deep.equal(['/x86/graph/qm']);
    expect(problems({ graph: { dma: 17 } })).to.deep.equal(['/x86/graph/dma']);
    expect(problems({ graph: { dma: 0.5 } })).to.deep.equal(['/x86/graph/dma']);
    expect(problems({ graph: { dma: '1' } })).to.deep.equal(['/x86/graph/dma']);
    expect(problems({ placement: 'inline', graph: { dma: 1 } })).to.deep.equal(['/x86/graph/dma']);
    expect(problems({ portThread: 'nic-core', graph: { dma: 1 } })).to.deep.equal(['/x86/portThread']);
    expect(x86Options({ graph: { dma: 0 } }, 4).dmaReplicas).to.equal(0);
    expect(problems({ graph: { post: 17 } })).to.deep.equal(['/x86/graph/post']);
    expect(problems({ placement: 'inline', graph: { post: 1 } })).to.deep.equal(['/x86/graph/post']);
    expect(problems({ portThread: 'nic-core', graph: { post: 1 } })).to.deep.equal(['/x86/portThread']);
    expect(problems({ graph: { pre: -1 } })).to.deep.equal(['/x86/graph/pre']);
    expect(problems({ placement: 'inline', graph: { pre: 1 } })).to.deep.equal(['/x86/graph/pre']);
    expect(problems({ pin: [9] })).to.deep.equal(['/x86/pin']);
    expect(problems({ pin: 'yes' })).to.deep.equal(['/x86/pin']);
    expect(problems({ cpus: 2 })).to.deep.equal(['/x86/cpus']);
    expect(x86Options({ portThread: 'nic-core' }, 4).portThread).to.equal('nic-core');
    expect(problems({ portThread: 'worker' })).to.deep.equal(['/x86/portThread']);
    // One NIC core, no replicas: a handed-off port has one receive queue and no RSS.
    expect(problems({ portThread: 'nic-core', placement: 'parallel', cores: 2 })).to.deep.equal([
      '/x86/portThread',
    ]);
    expect(problems({ portThread: 'nic-core', graph: { pre: 1 } })).to.deep.equal(['/x86/portThread']);
    expect(problems({ portThread: 'nic-core', placement: 'inline' })).to.deep.equal(['/x86/portThread']);
    expect(problems({ hostSpinUs: -1 })).to.deep.equal(['/x86/hostSpinUs']);
    expect(problems({ hostSpinUs: '250' })).to.deep.equal(['/x86/hostSpinUs']);
    expect(x86Options({ hostSpinUs: 0 }, 4).hostSpinUs).to.equal(0);
    expect(problems({ spinRounds: 1.5, placement: 'nope' })).to.have.members([
      '/x86/spinRounds',
      '/x86/placement',
    ]);
  });
});
