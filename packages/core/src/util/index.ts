export * from './prng.js';
export * from './real-time.js';
export * from './manual-clock.js';
export * from './copy-frame.js';
export * from './allocation-meter.js';
export {
  allocateOwnedPayloadMemory,
  allocatePayloadMemory,
  regionBacking,
  isPayloadBuffer,
  releasePayloadMemory,
  wasmPayload,
  type PayloadRange,
  type WasmPayload,
} from './wasm-payload.js';
