// Public API of the wire formats: checked parsing of untrusted bytes, unchecked emitting into
// preallocated buffers, checksums and sequence arithmetic. Parse and emit functions allocate
// nothing per packet; results go into caller-owned objects allocated once.

export * from './arp.js';
export * from './bytes.js';
export * from './checksum.js';
export * from './drop-reason.js';
export * from './ethernet.js';
export * from './frame.js';
export * from './ipv4.js';
export * from './seq.js';
export * from './tcp.js';
export * from './tcp-options.js';
export * from './vlan.js';
