/**
 * Core's `DataPath` keeps its packet buffers (the burst's receive and transmit frame slots) in
 * memory of its own, allocated with `new ArrayBuffer` in its constructor: right for one thread,
 * but a DMA replica (dma-core.ts) on another thread must read the received payload out of those
 * slots and write the transmitted payload into them. `withSharedArrayBuffers` builds something
 * (the NIC core's data path) while `new ArrayBuffer(n)` answers a SharedArrayBuffer of `n` bytes,
 * so the slots (and any other scratch the constructor makes) are shared memory the replica can
 * map. Only this thread, only for the synchronous `build`; every other use of ArrayBuffer
 * (statics, instanceof) is untouched.
 *
 * The straight way is for core to take its frame regions from `MemoryTiers.allocate` with the
 * purpose 'packet-buffers' (x86's tiers hand out SharedArrayBuffers); until it does, this keeps
 * that change out of core. If core stops allocating them here, `ThreadDma` copies such memory
 * inline and counts it (`inline`), which the specs assert is zero.
 */
export function withSharedArrayBuffers<T>(build: () => T): T {
  const g = globalThis as { ArrayBuffer: ArrayBufferConstructor };
  const plain = g.ArrayBuffer;
  g.ArrayBuffer = new Proxy(plain, {
    construct: (_target, args: unknown[]) => new SharedArrayBuffer(Number(args[0] ?? 0)),
  });
  try {
    return build();
  } finally {
    g.ArrayBuffer = plain;
  }
}
