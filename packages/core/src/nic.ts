// @flextoe/core/nic: the data path alone, for a thread that runs it as a NIC core (the x86
// backend's worker threads). No control plane, configuration or container: a worker starts
// faster when it loads only what it runs.
export * from './hw/index.js';
export * from './queues/spsc-ring.js';
export * from './pipeline/context-queue.js';
export * from './dma/memcpy-dma.js';
export * from './runtime/data-path.js';
export * from './runtime/module-loader.js';
export * from './runtime/counters.js';
export * from './state/flow-records.js';
export * from './util/real-time.js';
export * from './wire/frame.js';
export * from './wire/drop-reason.js';
export * from './wire/checksum.js';
