export * from './congestion-control.js';
export * from './const-rate.js';
export * from './dctcp-rate.js';
export * from './dctcp-window.js';
export * from './newreno.js';
export * from './timely.js';
