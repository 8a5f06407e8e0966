export * from './hw/index.js';
export * from './pipeline/stage-graph.js';
