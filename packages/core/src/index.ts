export * from './hw/index.js';
export * from './pipeline/stage-graph.js';
export * from './config/index.js';
export * from './backend-descriptor.js';
