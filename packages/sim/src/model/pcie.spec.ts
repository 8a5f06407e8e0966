import { expect } from 'chai';
import { allocatePayloadMemory, DmaDirection, foldSum, sumWords } from '@flextoe/core';
import { PcieModel, SimDma } from './pcie.js';

const SPEC = {
  inFlightPerDirection: 4,
  bytesPerSecond: 1e9,
  readLatencyNs: 600,
  writeLatencyNs: 300,
  maxCopyBytes: 1 << 20,
};

describe('PCIe DMA model', () => {
  it('charges bandwidth then the direction latency (a read is a round trip)', () => {
    const m = new PcieModel(SPEC);
    // 1000 B at 1 GB/s = 1 us on the link, then 300 ns (write) / 600 ns (read).
    expect(m.issue(DmaDirection.ToHost, 0, 1000)).to.equal(1_300_000);
    expect(m.issue(DmaDirection.FromHost, 0, 1000)).to.equal(1_600_000);
    // The link is busy: the next write queues behind the first.
    expect(m.issue(DmaDirection.ToHost, 0, 1000)).to.equal(2_300_000);
  });

  it('bounds commands in flight per direction: the fifth waits for the first to complete', () => {
    const m = new PcieModel(SPEC);
    const done = [0, 1, 2, 3].map(() => m.issue(DmaDirection.ToHost, 0, 0));
    expect(done).to.deep.equal([300_000, 300_000, 300_000, 300_000]);
    expect(m.issue(DmaDirection.ToHost, 0, 0)).to.equal(600_000);
    expect(m.slotWaitPs[DmaDirection.ToHost]).to.equal(300_000);
    expect(m.maxInFlight[DmaDirection.ToHost]).to.equal(4);
  });

  it('SimDma copies at once and reports what it moved', () => {
    const dma = new SimDma(SPEC);
    const seen: [number, number][] = [];
    dma.sink = { onDma: (d, n) => seen.push([d, n]) };
    const src = Uint8Array.from([1, 2, 3, 4]);
    const dst = new Uint8Array(4);
    expect(dma.submit(DmaDirection.ToHost, src, 1, dst, 0, 3, 7)).to.equal(true);
    expect([...dst]).to.deep.equal([2, 3, 4, 0]);
    expect(seen).to.deep.equal([[DmaDirection.ToHost, 3]]);
    const out = new Uint32Array(4);
    expect(dma.poll(out, 4)).to.equal(1);
    expect(out[0]).to.equal(7);
  });

  it('SimDma sums what it copies (submitSummed), by address between payload-memory views, and reports it', () => {
    const dma = new SimDma(SPEC);
    expect(dma.copiesAtSubmit).to.equal(true);
    const seen: [number, number][] = [];
    dma.sink = { onDma: (d, n) => seen.push([d, n]) };
    const payload = Uint8Array.from({ length: 1449 }, (_, i) => (i * 37 + 11) & 0xff);
    const region = (): Uint8Array => {
      const r = allocatePayloadMemory(4096);
      return r === null ? new Uint8Array(4096) : new Uint8Array(r.buffer, r.byteOffset, 4096);
    };
    // Payload memory on both sides (or plain memory under FLEXTOE_NO_WASM=1), then plain memory.
    for (const [src, dst] of [
      [region(), region()],
      [new Uint8Array(4096), new Uint8Array(4096)],
    ] as const) {
      src.set(payload, 5);
      const sum = dma.submitSummed(DmaDirection.FromHost, src, 5, dst, 66, payload.length, 3);
      expect(Buffer.from(dst.subarray(66, 66 + payload.length)).equals(payload)).to.equal(true);
      expect(sum).to.equal(foldSum(sumWords(payload, 0, payload.length, 0)));
    }
    expect(seen).to.deep.equal([
      [DmaDirection.FromHost, 1449],
      [DmaDirection.FromHost, 1449],
    ]);
    expect(dma.poll(new Uint32Array(4), 4)).to.equal(2);
  });
});
