export * from './pipeline-micro.js';
