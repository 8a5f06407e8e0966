// @flextoe/sim: the discrete-event engine and the simulated-NIC machinery both models share.
export * from './engine/event-queue.js';
export * from './engine/sim-engine.js';
export * from './engine/engine-registry.js';
export * from './model/spec.js';
export * from './model/caches.js';
export * from './model/histogram.js';
export * from './model/memory-model.js';
export * from './model/cores.js';
export * from './model/pcie.js';
export * from './model/nic-timing.js';
export * from './nic/sim-port.js';
export * from './nic/sim-nic.js';
export * from './nic/sim-stats.js';
export * from './nic/hardware-module.js';
export * from './nic/sim-backend-stack.js';
export * from './nic/sim-drivers.js';
export * from './model/params-util.js';
