export * from './descriptor.js';
export * from './module.js';
export * from './backend.js';
export * from './params.js';
