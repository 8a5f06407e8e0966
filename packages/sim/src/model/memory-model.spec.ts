import { expect } from 'chai';
import { isPayloadBuffer, Prng, wasmPayload, type RegionPurpose } from '@flextoe/core';
import { MemoryModel, SimMemoryTiers } from './memory-model.js';
import type { NicModelSpec } from './spec.js';

/** The parts of a model spec the memory model reads: two tiers, no caches. */
const SPEC = {
  name: 'spec-nic',
  cores: { count: 2, clusterSize: 2 },
  tiers: [
    { name: 'sram', sizeBytes: 4096, accessCycles: [10, 10], scope: 'nic' },
    { name: 'host', sizeBytes: 2 ** 30, accessCycles: [0, 0], scope: 'host' },
  ],
  placement: {
    'protocol-state': 'sram',
    'flow-identity': 'sram',
    'flow-buffers': 'sram',
    'cc-state': 'sram',
    'flow-table': 'sram',
    queue: 'sram',
    'packet-buffers': 'sram',
    'host-buffers': 'host',
  } satisfies Record<RegionPurpose, string>,
  paths: {},
} as unknown as NicModelSpec;

describe('SimMemoryTiers', () => {
  const tiersOf = (): SimMemoryTiers => new SimMemoryTiers(new MemoryModel(SPEC, new Prng(1)));

  it('places host rings and frame slots in the payload memory, every other region in its own buffer', () => {
    const tiers = tiersOf();
    const wasm = wasmPayload() !== null;
    expect(tiers.payloadMemory).to.equal(wasm);
    const state = tiers.allocate('protocol-state', 1000);
    const slots = tiers.allocate('packet-buffers', 1 << 16);
    const ring = tiers.allocate('host-buffers', 1 << 20);
    expect(isPayloadBuffer(state.buffer)).to.equal(false);
    expect(isPayloadBuffer(slots.buffer)).to.equal(wasm);
    expect(isPayloadBuffer(ring.buffer)).to.equal(wasm);
    expect(new Uint8Array(ring.buffer, ring.byteOffset, ring.byteLength).every((b) => b === 0)).to.equal(
      true,
    );
    // The model knows regions by id, in allocation order, wherever their bytes are.
    expect([state.id, slots.id, ring.id]).to.deep.equal([0, 1, 2]);
  });

  it('gives frame slots no tier capacity (the model bounds packet buffers by work items), other regions still', () => {
    const tiers = tiersOf();
    tiers.allocate('packet-buffers', 1 << 16); // 16x the 4 KiB tier
    expect(tiers.usage()).to.deep.equal({ sram: 0 });
    tiers.allocate('flow-table', 4096);
    expect(() => tiers.allocate('queue', 1)).to.throw(RangeError, /"sram" is full/);
  });
});
