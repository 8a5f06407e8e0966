export * from './descriptor.js';
export * from './module.js';
export * from './backend.js';
export * from './drivers/open-port.js';
export * from './threads/threaded-stack.js';
export * from './threads/placement.js';
export { liveNicWorkers } from './threads/core-link.js';
export { pinThread, type PinResult } from './threads/affinity.js';
export { threadCpuMs, threadCpus, processThreadIds } from './threads/proc.js';
