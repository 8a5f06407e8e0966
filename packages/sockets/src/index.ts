// @flextoe/sockets: the application side of FlexTOE-TS.
export * from './backends.js';
export * from './virtual-network.js';
