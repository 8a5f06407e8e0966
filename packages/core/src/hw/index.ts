export * from './clock.js';
export * from './dma-engine.js';
export * from './execution-units.js';
export * from './memory-tiers.js';
export * from './nic-port.js';
export * from './packet-buffer.js';
