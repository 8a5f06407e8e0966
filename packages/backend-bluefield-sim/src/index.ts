export * from './descriptor.js';
export * from './module.js';
