// @flextoe/sockets: the application side of FlexTOE-TS.
export * from './backends.js';
export * from './virtual-network.js';
export * from './stack.js';
export * from './net/index.js';
export * from './toe/index.js';
export * from './apps/index.js';
